//! Stage 1: decode any container/codec symphonia supports, Opus (`opus.rs`), GSM 06.10
//! (`gsm.rs`), and AU and headerless G.711 files (`raw.rs`), into planar `f32` blocks, one
//! packet at a time, so memory stays flat however long the recording is.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use symphonia::core::codecs::audio::well_known as codec;
use symphonia::core::codecs::audio::{AudioCodecId, AudioDecoder, AudioDecoderOptions};
use symphonia::core::codecs::registry::CodecRegistry;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::packet::Packet;

use crate::error::{Error, Result};

mod gsm;
pub use gsm::roundtrip as gsm_roundtrip;
mod opus;
mod raw;
pub use raw::is_headerless;

/// symphonia's codecs plus the Opus decoder it lacks.
fn codecs() -> &'static CodecRegistry {
    static REGISTRY: LazyLock<CodecRegistry> = LazyLock::new(|| {
        let mut registry = CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut registry);
        registry.register_audio_decoder::<opus::OpusDecoder>();
        registry
    });
    &REGISTRY
}

/// Highest sample rate accepted from a header, in Hz; anything above is treated as hostile.
pub const MAX_SAMPLE_RATE: u32 = 768_000;
/// Lowest sample rate accepted, in Hz (below this there is no speech band to analyse).
pub const MIN_SAMPLE_RATE: u32 = 4_000;
/// Largest sample magnitude accepted (1.0 is full scale); float formats can hold anything.
pub const MAX_SAMPLE: f32 = 1.0e4;
/// Most channels accepted from a header.
pub const MAX_CHANNELS: usize = 64;

/// What the container and codec say about a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioInfo {
    /// Native sample rate in Hz.
    pub sample_rate: u32,
    /// Number of channels.
    pub channels: usize,
    /// Codec short name as symphonia reports it (e.g. `pcm_s16le`, `flac`, `mp3`, `pcm_mulaw`).
    pub codec: String,
    /// Container short name (e.g. `wave`, `flac`, `isomp4`).
    pub container: String,
    /// Length in frames, when the container declares it.
    pub declared_frames: Option<u64>,
    /// Size of the input in bytes, when the source knows it (with the duration, the average
    /// bit rate).
    pub file_bytes: Option<u64>,
}

/// Where a stream's samples come from.
enum Source {
    /// A container symphonia reads and a codec from [`codecs`].
    Symphonia {
        reader: Box<dyn FormatReader>,
        decoder: Box<dyn AudioDecoder>,
        track_id: u32,
    },
    /// GSM 06.10, which symphonia cannot read.
    Gsm(Box<gsm::GsmStream>),
    /// AU or headerless G.711 bytes cut into packets here, decoded by symphonia's PCM decoder.
    Raw {
        stream: Box<raw::RawStream>,
        decoder: Box<dyn AudioDecoder>,
    },
}

/// A streaming decoder over one file: yields planar `f32` blocks in `[-1, 1]`.
pub struct AudioDecoderStream {
    path: PathBuf,
    source: Source,
    info: AudioInfo,
    block: Vec<Vec<f32>>,
    frames_decoded: u64,
    max_frames: u64,
}

impl AudioDecoderStream {
    /// Opens `path` read-only, probes the container and sets up the decoder.
    ///
    /// `max_duration_s` caps how much audio will be decoded (a header may declare anything).
    pub fn open(path: &Path, max_duration_s: f64) -> Result<Self> {
        let io = |error| Error::Io {
            path: path.to_owned(),
            error,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len == 0 {
            return Err(Error::UnknownFormat {
                path: path.to_owned(),
                reason: "file is empty".into(),
            });
        }
        Self::from_source(Box::new(file), path, max_duration_s)
    }

    /// Sets up decoding from any byte source (a file, or bytes in memory for fuzzing);
    /// `path` names the input in errors and gives the extension hint.
    pub fn from_source(
        mut source: Box<dyn MediaSource>,
        path: &Path,
        max_duration_s: f64,
    ) -> Result<Self> {
        let file_bytes = source.byte_len();
        let extension = path.extension().and_then(|e| e.to_str());
        match gsm::probe(source.as_mut(), extension) {
            Ok(Some(layout)) => {
                return Self::from_gsm(source, &layout, path, max_duration_s, file_bytes);
            }
            Ok(None) => {}
            Err(reason) => {
                return Err(Error::Corrupt {
                    path: path.to_owned(),
                    reason,
                });
            }
        }
        match raw::probe(source.as_mut(), extension) {
            Ok(Some(layout)) => {
                return Self::from_raw(source, &layout, path, max_duration_s, file_bytes);
            }
            Ok(None) => {}
            Err(raw::Refusal::Unsupported(codec)) => {
                return Err(Error::UnsupportedCodec {
                    path: path.to_owned(),
                    codec,
                });
            }
            Err(raw::Refusal::Corrupt(reason)) => {
                return Err(Error::Corrupt {
                    path: path.to_owned(),
                    reason,
                });
            }
        }
        let mss = MediaSourceStream::new(source, Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = extension {
            hint.with_extension(ext);
        }
        let reader = symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| probe_error(path, e))?;
        let container = reader.format_info().short_name.to_string();
        let track = reader
            .default_track(TrackType::Audio)
            .ok_or_else(|| Error::UnknownFormat {
                path: path.to_owned(),
                reason: "no audio track".into(),
            })?;
        let mut params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| Error::UnknownFormat {
                path: path.to_owned(),
                reason: "audio track has no codec parameters".into(),
            })?
            .clone();
        if [codec::CODEC_ID_PCM_MULAW, codec::CODEC_ID_PCM_ALAW].contains(&params.codec) {
            // G.711's widths are the codec's own: symphonia 0.6's CAF reader declares the 8 coded
            // bits as the sample width, which its PCM decoder then refuses.
            params.bits_per_sample = None;
            params.bits_per_coded_sample = None;
        }
        let track_id = track.id;
        let declared_frames = track.num_frames;
        let decoder = codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| match e {
                SymError::Unsupported(what) => Error::UnsupportedCodec {
                    path: path.to_owned(),
                    codec: codec_name(params.codec, what),
                },
                other => corrupt(path, other),
            })?;
        // The rate of the samples is the decoder's: Opus decodes at 48 kHz whatever rate a
        // Matroska or WebM track declares (ffmpeg writes the encoder's input rate there).
        let sample_rate = decoder
            .codec_params()
            .sample_rate
            .or(params.sample_rate)
            .unwrap_or(0);
        // A length the container counted at another rate is not one of these samples.
        let declared_frames = declared_frames.filter(|_| params.sample_rate == Some(sample_rate));
        let info = AudioInfo {
            sample_rate,
            channels: params.channels.as_ref().map(|c| c.count()).unwrap_or(0),
            codec: decoder.codec_info().short_name.to_string(),
            container,
            declared_frames,
            file_bytes,
        };
        let source = Source::Symphonia {
            reader,
            decoder,
            track_id,
        };
        Self::checked(source, info, path, max_duration_s)
    }

    /// Sets up decoding of a GSM 06.10 stream that [`gsm::probe`] recognised.
    fn from_gsm(
        source: Box<dyn MediaSource>,
        layout: &gsm::Layout,
        path: &Path,
        max_duration_s: f64,
        file_bytes: Option<u64>,
    ) -> Result<Self> {
        let stream = gsm::GsmStream::new(source, layout);
        let (codec, container) = layout.packing.names();
        let info = AudioInfo {
            sample_rate: layout.sample_rate,
            channels: 1,
            codec: codec.into(),
            container: container.into(),
            declared_frames: layout.data_bytes.map(|bytes| {
                bytes / layout.packing.block_bytes() as u64 * layout.packing.block_samples() as u64
            }),
            file_bytes,
        };
        Self::checked(Source::Gsm(Box::new(stream)), info, path, max_duration_s)
    }

    /// Sets up decoding of an AU or headerless G.711 stream that [`raw::probe`] recognised.
    fn from_raw(
        source: Box<dyn MediaSource>,
        layout: &raw::Layout,
        path: &Path,
        max_duration_s: f64,
        file_bytes: Option<u64>,
    ) -> Result<Self> {
        let params = &layout.params;
        let mut info = AudioInfo {
            sample_rate: params.sample_rate.unwrap_or(0),
            channels: params.channels.as_ref().map_or(0, |c| c.count()),
            codec: String::new(),
            container: layout.container.into(),
            declared_frames: layout
                .data_bytes
                .map(|bytes| bytes / layout.frame_bytes as u64),
            file_bytes,
        };
        // Rate and channels are checked before a decoder is made for them.
        check_ranges(&info, path)?;
        let decoder = codecs()
            .make_audio_decoder(params, &AudioDecoderOptions::default())
            .map_err(|e| corrupt(path, e))?;
        info.codec = decoder.codec_info().short_name.to_string();
        let stream = Box::new(raw::RawStream::new(source, layout));
        Self::checked(Source::Raw { stream, decoder }, info, path, max_duration_s)
    }

    /// Sets up the stream once the format is known to lie within the accepted ranges.
    fn checked(source: Source, info: AudioInfo, path: &Path, max_duration_s: f64) -> Result<Self> {
        check_ranges(&info, path)?;
        let sample_rate = info.sample_rate;
        Ok(Self {
            path: path.to_owned(),
            source,
            info,
            block: Vec::new(),
            frames_decoded: 0,
            max_frames: (max_duration_s * sample_rate as f64) as u64,
        })
    }

    /// The stream's format as declared by its container and codec.
    pub fn info(&self) -> &AudioInfo {
        &self.info
    }

    /// Decodes the next packet; returns one `Vec<f32>` per channel, or `None` at the end.
    pub fn next_block(&mut self) -> Result<Option<&[Vec<f32>]>> {
        let at_s = self.frames_decoded as f64 / self.info.sample_rate as f64;
        let decoded = match &mut self.source {
            Source::Symphonia {
                reader,
                decoder,
                track_id,
            } => next_packet(reader, decoder, *track_id, &mut self.block),
            Source::Raw { stream, decoder } => next_raw_packet(stream, decoder, &mut self.block),
            Source::Gsm(stream) => {
                self.block.resize_with(1, Vec::new);
                let more =
                    stream
                        .next_block(&mut self.block[0])
                        .map_err(|reason| Error::Corrupt {
                            path: self.path.clone(),
                            reason: format!("{reason} after {at_s:.2} s"),
                        })?;
                Ok(more.then(|| (self.block[0].len(), 1)))
            }
        };
        let frames = decoded.map_err(|e| match e {
            SymError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => Error::Corrupt {
                path: self.path.clone(),
                reason: format!("stream ends early (truncated) after {at_s:.2} s"),
            },
            other => corrupt(&self.path, other),
        })?;
        let Some((frames, channels)) = frames else {
            return Ok(None);
        };
        if channels != self.info.channels {
            return Err(Error::Corrupt {
                path: self.path.clone(),
                reason: format!(
                    "channel count changed mid-stream ({} -> {channels})",
                    self.info.channels
                ),
            });
        }
        if self
            .block
            .iter()
            .flatten()
            .any(|s| !s.is_finite() || s.abs() > MAX_SAMPLE)
        {
            // Float PCM can carry NaN, infinity or absurd values: damage, not sound.
            return Err(Error::Corrupt {
                path: self.path.clone(),
                reason: format!(
                    "sample values that are not finite or beyond ±{MAX_SAMPLE} full scale \
                     after {at_s:.2} s"
                ),
            });
        }
        self.frames_decoded += frames as u64;
        if self.frames_decoded > self.max_frames {
            return Err(Error::Limit {
                path: self.path.clone(),
                reason: format!(
                    "longer than the maximum duration of {:.0} s",
                    self.max_frames as f64 / self.info.sample_rate as f64
                ),
            });
        }
        Ok(Some(&self.block))
    }
}

/// Refuses sample rates and channel counts outside the accepted ranges.
fn check_ranges(info: &AudioInfo, path: &Path) -> Result<()> {
    let AudioInfo {
        sample_rate,
        channels,
        ..
    } = *info;
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
        return Err(Error::Limit {
            path: path.to_owned(),
            reason: format!(
                "sample rate {sample_rate} Hz outside {MIN_SAMPLE_RATE}..={MAX_SAMPLE_RATE} Hz"
            ),
        });
    }
    if channels == 0 || channels > MAX_CHANNELS {
        return Err(Error::Limit {
            path: path.to_owned(),
            reason: format!("{channels} channels (accepted: 1..={MAX_CHANNELS})"),
        });
    }
    Ok(())
}

/// Decodes symphonia packets until one of `track_id` yields samples, copied planar into
/// `block`; returns how many frames and channels, or `None` at the end of the stream.
fn next_packet(
    reader: &mut Box<dyn FormatReader>,
    decoder: &mut Box<dyn AudioDecoder>,
    track_id: u32,
    block: &mut Vec<Vec<f32>>,
) -> std::result::Result<Option<(usize, usize)>, SymError> {
    loop {
        let Some(packet) = reader.next_packet()? else {
            return Ok(None);
        };
        if packet.track_id != track_id {
            continue;
        }
        if let Some(decoded) = decode_packet(decoder, &packet, block)? {
            return Ok(Some(decoded));
        }
    }
}

/// Decodes the packets [`raw::RawStream`] cuts, as [`next_packet`] does a container's.
fn next_raw_packet(
    stream: &mut raw::RawStream,
    decoder: &mut Box<dyn AudioDecoder>,
    block: &mut Vec<Vec<f32>>,
) -> std::result::Result<Option<(usize, usize)>, SymError> {
    while let Some(packet) = stream.next_packet()? {
        if let Some(decoded) = decode_packet(decoder, &packet, block)? {
            return Ok(Some(decoded));
        }
    }
    Ok(None)
}

/// Decodes one packet into `block` (planar); how many frames and channels, or `None` if the
/// packet held no samples.
fn decode_packet(
    decoder: &mut Box<dyn AudioDecoder>,
    packet: &Packet,
    block: &mut Vec<Vec<f32>>,
) -> std::result::Result<Option<(usize, usize)>, SymError> {
    let buf = decoder.decode(packet)?;
    if buf.frames() == 0 {
        return Ok(None);
    }
    buf.copy_to_vecs_planar::<f32>(block);
    Ok(Some((buf.frames(), buf.spec().channels().count())))
}

/// Reads until `buf` is full or the source ends; returns the bytes read.
fn read_full(source: &mut dyn MediaSource, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn corrupt(path: &Path, e: SymError) -> Error {
    match e {
        SymError::LimitError(what) => Error::Limit {
            path: path.to_owned(),
            reason: what.to_string(),
        },
        // Past set-up, "unsupported" means a feature of this particular stream (or damage
        // that looks like one), not the codec itself.
        SymError::Unsupported(what) => Error::Corrupt {
            path: path.to_owned(),
            reason: format!("unsupported stream feature: {what}"),
        },
        other => Error::Corrupt {
            path: path.to_owned(),
            reason: other.to_string(),
        },
    }
}

/// Turns a failed probe into an error that names what the file is, when we can tell.
fn probe_error(path: &Path, e: SymError) -> Error {
    if let Some(codec) = sniff_unsupported(path) {
        return Error::UnsupportedCodec {
            path: path.to_owned(),
            codec,
        };
    }
    match e {
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => Error::Corrupt {
            path: path.to_owned(),
            reason: "header is truncated".into(),
        },
        SymError::IoError(error) => Error::Io {
            path: path.to_owned(),
            error,
        },
        SymError::LimitError(what) => Error::Limit {
            path: path.to_owned(),
            reason: what.to_string(),
        },
        other => Error::UnknownFormat {
            path: path.to_owned(),
            reason: other.to_string(),
        },
    }
}

/// Recognises common speech formats symphonia cannot decode, from their first bytes, so the
/// error can name the codec instead of saying "unknown format".
fn sniff_unsupported(path: &Path) -> Option<String> {
    let mut head = [0u8; 4096];
    let n = File::open(path).ok()?.read(&mut head).ok()?;
    let head = &head[..n];
    if head.starts_with(b"#!AMR-WB") {
        return Some("AMR-WB".into());
    }
    if head.starts_with(b"#!AMR") {
        return Some("AMR-NB".into());
    }
    if head.starts_with(&[0x30, 0x26, 0xB2, 0x75]) {
        return Some("WMA (ASF container)".into());
    }
    if ogg_first_packet(head).is_some_and(|p| p.starts_with(b"Speex   ")) {
        return Some("Speex".into());
    }
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WAVE" {
        let tag = riff_format_tag(head)?;
        return wave_format_name(tag).map(str::to_string);
    }
    None
}

/// The start of the first packet of an Ogg stream (after the first page's header and segment
/// table), where the codec's identification header begins.
fn ogg_first_packet(head: &[u8]) -> Option<&[u8]> {
    if !head.starts_with(b"OggS") {
        return None;
    }
    let segments = usize::from(*head.get(26)?);
    head.get(27 + segments..)
}

/// Finds the `fmt ` chunk of a RIFF/WAVE header and returns its format tag.
fn riff_format_tag(head: &[u8]) -> Option<u16> {
    let mut pos = 12;
    while pos + 8 <= head.len() {
        let id = &head[pos..pos + 4];
        let size = u32::from_le_bytes(head[pos + 4..pos + 8].try_into().ok()?) as usize;
        if id == b"fmt " {
            let tag = head.get(pos + 8..pos + 10)?;
            return Some(u16::from_le_bytes([tag[0], tag[1]]));
        }
        pos = pos.checked_add(8)?.checked_add(size + (size & 1))?;
    }
    None
}

/// Names WAVE format tags that symphonia does not decode.
fn wave_format_name(tag: u16) -> Option<&'static str> {
    Some(match tag {
        0x0014 => "G.723 ADPCM",
        0x0031 => "GSM 6.10",
        0x0040 => "G.721 ADPCM",
        0x0042 => "G.723.1",
        0x0045 | 0x0064 | 0x0140 => "G.726 ADPCM",
        0x0065 | 0x028F => "G.722 ADPCM",
        0x0050 => "MPEG audio in WAVE",
        0x0055 => "MP3 in WAVE",
        0x0057 | 0x0058 => "AMR",
        0x0160..=0x0163 => "WMA",
        0x0022 => "TrueSpeech",
        0x0130 => "ACELP.net",
        0x1600..=0x1610 => "AAC in WAVE",
        0x6750 => "Vorbis in WAVE",
        0x704F | 0x7051 => "Opus in WAVE",
        _ => return None,
    })
}

/// A readable name for a codec symphonia recognised in a container but cannot decode; `what` is
/// the decoder's reason, given when a decoder exists but refuses this stream's form of the codec.
fn codec_name(id: AudioCodecId, what: &str) -> String {
    let name = match id {
        // symphonia's reason for these is "aac too complex"; others (no rate, no channel
        // layout) fall through to the decoder's own words.
        codec::CODEC_ID_AAC if what.contains("too complex") => {
            return "AAC other than mono or stereo AAC-LC (HE-AAC, LTP, Main, multichannel)".into();
        }
        codec::CODEC_ID_OPUS => "Opus",
        codec::CODEC_ID_SPEEX => "Speex",
        codec::CODEC_ID_AC3 => "AC-3",
        codec::CODEC_ID_EAC3 => "E-AC-3",
        codec::CODEC_ID_WMA => "WMA",
        codec::CODEC_ID_ADPCM_G722 => "G.722 ADPCM",
        codec::CODEC_ID_ADPCM_G726 | codec::CODEC_ID_ADPCM_G726LE => "G.726 ADPCM",
        codec::CODEC_ID_DCA => "DTS",
        codec::CODEC_ID_MUSEPACK => "Musepack",
        _ => {
            return match codecs().get_audio_decoder(id) {
                Some(known) => format!(
                    "{} in a form it does not read ({what})",
                    known.codec.info.long_name
                ),
                None => format!("with id {id}"),
            };
        }
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn riff_tag_found_after_other_chunks() {
        let mut h = b"RIFF\0\0\0\0WAVE".to_vec();
        h.extend_from_slice(b"LIST\x03\0\0\0abc\0"); // odd size, padded
        h.extend_from_slice(b"fmt \x10\0\0\0\x31\0");
        assert_eq!(riff_format_tag(&h), Some(0x31));
        assert_eq!(wave_format_name(0x31), Some("GSM 6.10"));
    }

    fn fixture_path(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    /// Every sample of a fixture, channel 0.
    fn decode_all(name: &str) -> (AudioInfo, Vec<f32>) {
        decode_file(&fixture_path(name))
    }

    /// Every sample of a file, channel 0.
    fn decode_file(path: &Path) -> (AudioInfo, Vec<f32>) {
        let mut stream = AudioDecoderStream::open(path, 60.0).unwrap();
        let mut samples = Vec::new();
        while let Some(block) = stream.next_block().unwrap() {
            samples.extend_from_slice(&block[0]);
        }
        (stream.info().clone(), samples)
    }

    #[test]
    fn gsm_decodes_sample_for_sample_as_ffmpeg() {
        // gsm_ms_decoded.wav is ffmpeg's decoding of gsm_ms.wav (its native decoder and libgsm
        // agree bit for bit); gsm.gsm holds the same frames in the raw layout.
        let (info, reference) = decode_all("gsm_ms_decoded.wav");
        assert_eq!(info.codec, "pcm_s16le");
        let (info, wav49) = decode_all("gsm_ms.wav");
        assert_eq!(
            (info.codec.as_str(), info.container.as_str()),
            ("gsm_ms", "wave")
        );
        assert_eq!((info.sample_rate, info.channels), (8000, 1));
        assert_eq!(info.declared_frames, Some(reference.len() as u64));
        assert_eq!(wav49, reference);
        let (info, raw) = decode_all("gsm.gsm");
        assert_eq!(
            (info.codec.as_str(), info.container.as_str()),
            ("gsm", "gsm")
        );
        // The raw file was encoded separately from the same audio: the same frames, without
        // the WAVE file's padding to a whole block.
        assert_eq!(raw.len(), 125 * 160);
        assert_eq!(raw[..], reference[..raw.len()]);
    }

    #[test]
    fn au_caf_and_headerless_files_decode_sample_for_sample_as_wave() {
        // The same ffmpeg coding of ref.flac in each container: the same G.711 codes, the same
        // 16-bit samples.
        for (name, wave, codec, container) in [
            ("pcm_mulaw.au", "pcm_mulaw.wav", "pcm_mulaw", "au"),
            ("pcm_s16be.au", "pcm_s16le.wav", "pcm_s16be", "au"),
            ("raw.ul", "pcm_mulaw.wav", "pcm_mulaw", "g711"),
            ("raw.al", "pcm_alaw.wav", "pcm_alaw", "g711"),
            ("raw.sln", "pcm_s16le.wav", "pcm_s16le", "sln"),
            ("pcm_mulaw.caf", "pcm_mulaw.wav", "pcm_mulaw", "caf"),
        ] {
            let (reference_info, reference) = decode_all(wave);
            let (info, samples) = decode_all(name);
            assert_eq!(
                (info.codec.as_str(), info.container.as_str()),
                (codec, container),
                "{name}"
            );
            assert_eq!((info.sample_rate, info.channels), (8000, 1), "{name}");
            let headerless = ["g711", "sln"].contains(&container);
            let declared = (!headerless).then_some(reference.len() as u64);
            assert_eq!(info.declared_frames, declared, "{name}");
            assert_eq!(reference_info.declared_frames, Some(reference.len() as u64));
            assert_eq!(samples, reference, "{name}");
        }
        // A WAVE file named like headerless G.711 is still read as WAVE, header and all.
        let dir = tempfile::tempdir().unwrap();
        let misnamed = dir.path().join("call.ul");
        std::fs::copy(fixture_path("pcm_mulaw.wav"), &misnamed).unwrap();
        let (info, samples) = decode_file(&misnamed);
        assert_eq!(info.container, "wave");
        assert_eq!(samples, decode_all("pcm_mulaw.wav").1);
    }

    #[test]
    fn aac_is_named_as_a_profile_only_when_symphonia_says_too_complex() {
        let profile = codec_name(codec::CODEC_ID_AAC, "aac: aac too complex");
        assert!(profile.starts_with("AAC other than"), "{profile}");
        let other = codec_name(codec::CODEC_ID_AAC, "aac: sample rate is required");
        assert!(
            other.contains("in a form it does not read (aac: sample rate is required)"),
            "{other}"
        );
    }

    #[test]
    fn speex_in_ogg_and_g722_in_wave_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let sniff = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            sniff_unsupported(&path)
        };
        // An Ogg page header (27 bytes, one segment of 80 bytes) and Speex's identification
        // header, as ffmpeg's libspeex writes them.
        let mut page = b"OggS\0\x02".to_vec();
        page.resize(26, 0);
        page.extend_from_slice(&[1, 80]);
        let speex = [page.clone(), b"Speex   1.2.1\0".to_vec()].concat();
        assert_eq!(sniff("a.ogg", &speex).as_deref(), Some("Speex"));
        let vorbis = [page, b"\x01vorbis".to_vec()].concat();
        assert_eq!(sniff("b.ogg", &vorbis), None);
        assert_eq!(sniff("c.ogg", b"OggS\0"), None);
        let g722 = b"RIFF\0\0\0\0WAVEfmt \x12\0\0\0\x8f\x02";
        assert_eq!(sniff("d.wav", g722).as_deref(), Some("G.722 ADPCM"));
    }

    #[test]
    fn opus_in_webm_is_read_at_the_decoders_rate() {
        // ffmpeg writes the encoder's 8 kHz input rate into the track; the samples are 48 kHz.
        let (info, samples) = decode_all("opus_8k.webm");
        assert_eq!((info.sample_rate, info.declared_frames), (48_000, None));
        let seconds = samples.len() as f64 / 48_000.0;
        assert!((2.5..2.6).contains(&seconds), "{seconds} s");
    }

    #[test]
    fn riff_tag_absent_or_hostile_size() {
        let mut h = b"RIFF\0\0\0\0WAVE".to_vec();
        h.extend_from_slice(b"junk\xff\xff\xff\xff");
        assert_eq!(riff_format_tag(&h), None);
    }
}
