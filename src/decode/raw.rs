//! Telephony audio in files symphonia has no reader for: Sun/NeXT AU files (G.711 or linear
//! PCM behind a big-endian header, as sox, Java and old Unix voice tools write them) and
//! headerless audio named by its extension, as telephony servers such as Asterisk store calls:
//! G.711 (`.ul`, `.ulaw`, `.mulaw`, `.al`, `.alaw`; 8 kHz mono) and Asterisk's signed linear
//! 16-bit mono (`.sln` at 8 kHz, `.sln16` at 16 kHz, up to `.sln192`). This module only reads
//! the header and cuts the bytes into packets; symphonia's PCM decoder makes the samples.

use std::io::SeekFrom;

use symphonia::core::audio::Channels;
use symphonia::core::codecs::audio::well_known as codec;
use symphonia::core::codecs::audio::{AudioCodecId, AudioCodecParameters};
use symphonia::core::errors::Error as SymError;
use symphonia::core::io::MediaSource;
use symphonia::core::packet::Packet;
use symphonia::core::units::{Duration, Timestamp};

use super::read_full;

/// Bytes of the fixed part of an AU header: magic, data offset, data size, encoding, rate,
/// channels (six big-endian 32-bit words).
const AU_HEADER_BYTES: usize = 24;
/// The data size an AU writer leaves when it cannot seek back: read to the end.
const AU_SIZE_UNKNOWN: u32 = u32::MAX;
/// Largest AU data offset accepted (the header plus its annotation).
const AU_MAX_OFFSET: u32 = 1 << 20;
/// The rate of headerless G.711 files and of Asterisk's `.sln`: the telephone network's.
const G711_RATE: u32 = 8_000;
/// Frames cut into one packet (0.5 s at 8 kHz).
const FRAMES_PER_PACKET: usize = 4_000;

/// Where a stream's bytes are and how to decode them.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Codec, sample rate and channels, ready for symphonia's PCM decoder.
    pub params: AudioCodecParameters,
    /// Bytes of one frame (a sample of every channel).
    pub frame_bytes: usize,
    /// Bytes of audio, when a header declares them (otherwise the file runs to its end).
    pub data_bytes: Option<u64>,
    /// Container name for the reports: `au`, or `g711` or `sln` for headerless files.
    pub container: &'static str,
}

/// Why a file that looks like one of these formats cannot be read.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// An AU encoding the PCM decoder does not handle, named.
    Unsupported(String),
    /// A header that cannot be right, or an I/O failure reading it.
    Corrupt(String),
}

/// Recognises an AU file (by its `.snd` magic, whatever its name) or a headerless file (by its
/// extension, unless its bytes start like a container). On `Ok(Some(_))` the source is left at
/// the first sample; on `Ok(None)` it is rewound for the other readers.
pub fn probe(
    source: &mut dyn MediaSource,
    extension: Option<&str>,
) -> Result<Option<Layout>, Refusal> {
    let io = |e: std::io::Error| Refusal::Corrupt(e.to_string());
    let mut head = [0u8; AU_HEADER_BYTES];
    let got = read_full(source, &mut head).map_err(io)?;
    if got >= 4 && &head[..4] == b".snd" {
        if got < AU_HEADER_BYTES {
            return Err(Refusal::Corrupt("AU header is truncated".into()));
        }
        let (layout, offset) = au_layout(&head)?;
        source.seek(SeekFrom::Start(offset.into())).map_err(io)?;
        return Ok(Some(layout));
    }
    source.seek(SeekFrom::Start(0)).map_err(io)?;
    if is_container(&head[..got]) {
        // A WAV or other container misnamed `.ul`: its own reader knows better.
        return Ok(None);
    }
    Ok(extension
        .and_then(headerless)
        .map(|(id, rate, frame_bytes, container)| Layout {
            params: params(id, rate, 1),
            frame_bytes,
            data_bytes: None,
            container,
        }))
}

/// What a headerless file holds, by its extension: codec, sample rate, bytes per sample and the
/// container name for the reports.
fn headerless(extension: &str) -> Option<(AudioCodecId, u32, usize, &'static str)> {
    let extension = extension.to_ascii_lowercase();
    let (id, rate, bytes, name) = match extension.as_str() {
        "ul" | "ulaw" | "mulaw" => (codec::CODEC_ID_PCM_MULAW, G711_RATE, 1, "g711"),
        "al" | "alaw" => (codec::CODEC_ID_PCM_ALAW, G711_RATE, 1, "g711"),
        "sln" => (codec::CODEC_ID_PCM_S16LE, G711_RATE, 2, "sln"),
        _ => {
            let rate = match extension.strip_prefix("sln")? {
                "12" => 12_000,
                "16" => 16_000,
                "24" => 24_000,
                "32" => 32_000,
                "44" => 44_100,
                "48" => 48_000,
                "96" => 96_000,
                "192" => 192_000,
                _ => return None,
            };
            (codec::CODEC_ID_PCM_S16LE, rate, 2, "sln")
        }
    };
    Some((id, rate, bytes, name))
}

/// Whether files with this extension are read as headerless audio (see the module's doc).
pub fn is_headerless(extension: &str) -> bool {
    headerless(extension).is_some()
}

/// Whether `head` starts like a container symphonia reads (RIFF/RF64 WAVE, AIFF, FLAC, Ogg,
/// CAF, MP3 with ID3 tags, Matroska/WebM, MP4).
fn is_container(head: &[u8]) -> bool {
    const MAGIC: [&[u8]; 8] = [
        b"RIFF",
        b"RF64",
        b"FORM",
        b"fLaC",
        b"OggS",
        b"caff",
        b"ID3",
        b"\x1a\x45\xdf\xa3",
    ];
    MAGIC.iter().any(|m| head.starts_with(m)) || head.get(4..8) == Some(b"ftyp")
}

/// Reads the AU header's words: data offset and size, encoding, rate and channels; returns the
/// layout and where the data starts.
fn au_layout(head: &[u8; AU_HEADER_BYTES]) -> Result<(Layout, u32), Refusal> {
    let word = |i: usize| u32::from_be_bytes(head[4 * i..4 * i + 4].try_into().expect("4 bytes"));
    let (offset, size, encoding, rate, channels) = (word(1), word(2), word(3), word(4), word(5));
    if !(AU_HEADER_BYTES as u32..=AU_MAX_OFFSET).contains(&offset) {
        return Err(Refusal::Corrupt(format!(
            "AU data offset {offset} outside {AU_HEADER_BYTES}..={AU_MAX_OFFSET}"
        )));
    }
    let (id, sample_bytes) = match encoding {
        1 => (codec::CODEC_ID_PCM_MULAW, 1),
        2 => (codec::CODEC_ID_PCM_S8, 1),
        3 => (codec::CODEC_ID_PCM_S16BE, 2),
        4 => (codec::CODEC_ID_PCM_S24BE, 3),
        5 => (codec::CODEC_ID_PCM_S32BE, 4),
        6 => (codec::CODEC_ID_PCM_F32BE, 4),
        7 => (codec::CODEC_ID_PCM_F64BE, 8),
        27 => (codec::CODEC_ID_PCM_ALAW, 1),
        other => return Err(Refusal::Unsupported(au_encoding_name(other))),
    };
    let Ok(channels) = u16::try_from(channels) else {
        return Err(Refusal::Corrupt(format!(
            "AU header declares {channels} channels"
        )));
    };
    let layout = Layout {
        params: params(id, rate, channels),
        frame_bytes: sample_bytes * usize::from(channels.max(1)),
        data_bytes: (size != AU_SIZE_UNKNOWN).then_some(u64::from(size)),
        container: "au",
    };
    Ok((layout, offset))
}

/// Names an AU encoding that is not plain PCM or G.711.
fn au_encoding_name(encoding: u32) -> String {
    let name = match encoding {
        23 => "G.721 ADPCM",
        24 => "G.722 ADPCM",
        25 | 26 => "G.723 ADPCM",
        _ => return format!("AU encoding {encoding}"),
    };
    format!("{name} in an AU file")
}

/// Codec parameters for symphonia's PCM decoder. The bit widths are left to the codec: the
/// decoder refuses G.711 whose coded width is given as 8 bits.
fn params(id: AudioCodecId, rate: u32, channels: u16) -> AudioCodecParameters {
    let mut params = AudioCodecParameters::new();
    params
        .for_codec(id)
        .with_sample_rate(rate)
        .with_channels(Channels::Discrete(channels))
        .with_max_frames_per_packet(FRAMES_PER_PACKET as u64);
    params
}

/// Cuts a stream's bytes into packets of whole frames for the PCM decoder.
pub struct RawStream {
    source: Box<dyn MediaSource>,
    frame_bytes: usize,
    /// Bytes of audio left, when the header declared them.
    remaining: Option<u64>,
    packet: Vec<u8>,
    frames_read: u64,
}

impl RawStream {
    /// Sets up reading from a source positioned at the first sample (as [`probe`] leaves it).
    pub fn new(source: Box<dyn MediaSource>, layout: &Layout) -> Self {
        Self {
            source,
            frame_bytes: layout.frame_bytes,
            remaining: layout.data_bytes,
            packet: Vec::new(),
            frames_read: 0,
        }
    }

    /// The next packet of up to half a second of whole frames, or `None` at the end. A trailing
    /// partial frame is ignored; a file shorter than its header declares is an error.
    pub fn next_packet(&mut self) -> Result<Option<Packet>, SymError> {
        let mut want = FRAMES_PER_PACKET * self.frame_bytes;
        if let Some(left) = self.remaining {
            want = want.min(usize::try_from(left).unwrap_or(usize::MAX));
        }
        self.packet.resize(want, 0);
        let got = read_full(self.source.as_mut(), &mut self.packet)?;
        if got < want && self.remaining.is_some() {
            return Err(SymError::IoError(std::io::ErrorKind::UnexpectedEof.into()));
        }
        let frames = got / self.frame_bytes;
        if frames == 0 {
            return Ok(None);
        }
        if let Some(left) = &mut self.remaining {
            *left -= got as u64;
        }
        let data = &self.packet[..frames * self.frame_bytes];
        let pts = Timestamp::new(self.frames_read as i64);
        self.frames_read += frames as u64;
        Ok(Some(Packet::new(
            0,
            pts,
            Duration::new(frames as u64),
            data,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn au(offset: u32, size: u32, encoding: u32, rate: u32, channels: u32) -> Vec<u8> {
        let mut h = b".snd".to_vec();
        for w in [offset, size, encoding, rate, channels] {
            h.extend_from_slice(&w.to_be_bytes());
        }
        h
    }

    fn probed(bytes: Vec<u8>, extension: Option<&str>) -> Result<Option<Layout>, Refusal> {
        probe(&mut Cursor::new(bytes), extension)
    }

    #[test]
    fn au_headers_give_codec_rate_channels_and_size() {
        let layout = probed(au(28, 8, 3, 16_000, 2), None).unwrap().unwrap();
        assert_eq!(layout.params.codec, codec::CODEC_ID_PCM_S16BE);
        assert_eq!(layout.params.sample_rate, Some(16_000));
        assert_eq!((layout.frame_bytes, layout.data_bytes), (4, Some(8)));
        let layout = probed(au(24, u32::MAX, 27, 8_000, 1), Some("wav"))
            .unwrap()
            .unwrap();
        assert_eq!(layout.params.codec, codec::CODEC_ID_PCM_ALAW);
        assert_eq!(layout.data_bytes, None);
    }

    #[test]
    fn au_headers_that_cannot_be_read_are_refused_by_name() {
        assert_eq!(
            probed(au(24, 0, 23, 8_000, 1), None).unwrap_err(),
            Refusal::Unsupported("G.721 ADPCM in an AU file".into())
        );
        assert!(matches!(
            probed(au(8, 0, 1, 8_000, 1), None),
            Err(Refusal::Corrupt(r)) if r.contains("offset 8")
        ));
        assert!(matches!(
            probed(au(24, 0, 1, 8_000, u32::MAX), None),
            Err(Refusal::Corrupt(r)) if r.contains("4294967295 channels")
        ));
        assert!(matches!(
            probed(b".snd\0\0\0\x18".to_vec(), None),
            Err(Refusal::Corrupt(r)) if r.contains("truncated")
        ));
    }

    #[test]
    fn headerless_g711_is_taken_by_extension_only() {
        let bytes = vec![0xFFu8; 100];
        let layout = probed(bytes.clone(), Some("UL")).unwrap().unwrap();
        assert_eq!(layout.params.codec, codec::CODEC_ID_PCM_MULAW);
        assert_eq!(layout.params.sample_rate, Some(G711_RATE));
        let layout = probed(bytes.clone(), Some("alaw")).unwrap().unwrap();
        assert_eq!(layout.params.codec, codec::CODEC_ID_PCM_ALAW);
        let layout = probed(bytes.clone(), Some("sln16")).unwrap().unwrap();
        assert_eq!(layout.params.codec, codec::CODEC_ID_PCM_S16LE);
        assert_eq!(
            (layout.params.sample_rate, layout.frame_bytes),
            (Some(16_000), 2)
        );
        let layout = probed(bytes.clone(), Some("sln")).unwrap().unwrap();
        assert_eq!(layout.params.sample_rate, Some(G711_RATE));
        assert!(probed(bytes.clone(), Some("sln17")).unwrap().is_none());
        assert!(probed(bytes.clone(), Some("raw")).unwrap().is_none());
        assert!(probed(bytes, None).unwrap().is_none());
        // A container misnamed `.ul` is left to its own reader.
        let wave = b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0".to_vec();
        assert!(probed(wave, Some("ul")).unwrap().is_none());
        let mp4 = b"\0\0\0\x20ftypM4A \0\0\0\0".to_vec();
        assert!(probed(mp4, Some("alaw")).unwrap().is_none());
    }

    #[test]
    fn packets_hold_whole_frames_and_a_short_file_is_truncated() {
        // Two channels of 16-bit samples: 4-byte frames; 10 bytes hold two and a half.
        let layout = probed(au(24, u32::MAX, 3, 8_000, 2), None)
            .unwrap()
            .unwrap();
        let mut bytes = au(24, u32::MAX, 3, 8_000, 2);
        bytes.extend_from_slice(&[1; 10]);
        let mut source = Cursor::new(bytes);
        source.set_position(24);
        let mut stream = RawStream::new(Box::new(source), &layout);
        let packet = stream.next_packet().unwrap().unwrap();
        assert_eq!((packet.data.len(), packet.dur), (8, Duration::new(2)));
        assert!(stream.next_packet().unwrap().is_none());

        let declared = Layout {
            data_bytes: Some(12),
            ..layout
        };
        let mut stream = RawStream::new(Box::new(Cursor::new(vec![1u8; 10])), &declared);
        assert!(matches!(
            stream.next_packet(),
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof
        ));
    }
}
