//! GSM 06.10 full-rate speech (13 kbit/s at 8 kHz), which call recorders, voice mail and
//! telephony servers write and symphonia does not decode: in WAVE files (format tag 0x0031,
//! Microsoft's packing of two frames into 65 bytes, known as WAV49) and as raw `.gsm` files of
//! 33-byte frames. The frames are decoded by libgsm, the TU Berlin reference coder that sox and
//! ffmpeg's `libgsm` also use, compiled from source by the `gsm-sys` crate. This module only
//! finds the frames and repacks the WAVE ones into libgsm's standard layout (`gsm-sys` builds
//! libgsm without its own WAV49 support).

use std::io::SeekFrom;

use symphonia::core::io::MediaSource;

use super::read_full;

/// Samples per frame: 20 ms at 8 kHz.
const FRAME_SAMPLES: usize = 160;
/// Bytes of a standard frame: the signature nibble 0xD, then 260 bits of parameters.
const FRAME_BYTES: usize = 33;
/// Bytes of a WAV49 block: two frames of 260 bits each, least significant bit first.
const WAV49_BLOCK_BYTES: usize = 65;
/// The WAVE format tag of GSM 6.10.
const WAVE_FORMAT_GSM610: u16 = 0x0031;
/// Blocks decoded per call (0.5 s), so the pipeline sees blocks of a useful size.
const BLOCKS_PER_READ: usize = 25;

/// Bit widths of a frame's 76 parameters in transmission order: the 8 log-area ratios
/// (LARc), then for each of the 4 sub-frames the lag Nc, gain bc, grid Mc, block maximum xmaxc
/// and 13 pulses xMc of 3 bits.
const PARAM_WIDTHS: [u32; 76] = {
    let mut widths = [3; 76];
    let lar = [6, 6, 5, 5, 4, 4, 3, 3];
    let mut i = 0;
    while i < 8 {
        widths[i] = lar[i];
        i += 1;
    }
    let mut sub = 0;
    while sub < 4 {
        let at = 8 + sub * 17;
        widths[at] = 7;
        widths[at + 1] = 2;
        widths[at + 2] = 2;
        widths[at + 3] = 6;
        sub += 1;
    }
    widths
};

/// How a file packs its frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packing {
    /// WAVE format 0x0031: two frames per 65-byte block.
    Wav49,
    /// Raw `.gsm`: 33-byte frames, each starting with the signature nibble.
    Standard,
}

impl Packing {
    /// Bytes read at a time.
    pub fn block_bytes(self) -> usize {
        match self {
            Packing::Wav49 => WAV49_BLOCK_BYTES,
            Packing::Standard => FRAME_BYTES,
        }
    }

    /// Samples each block decodes to.
    pub fn block_samples(self) -> usize {
        match self {
            Packing::Wav49 => 2 * FRAME_SAMPLES,
            Packing::Standard => FRAME_SAMPLES,
        }
    }

    /// Codec and container names, as the reports give them (ffmpeg's names).
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Packing::Wav49 => ("gsm_ms", "wave"),
            Packing::Standard => ("gsm", "gsm"),
        }
    }
}

/// What the header says: the packing, the sample rate and how many bytes of frames follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// How the frames are packed.
    pub packing: Packing,
    /// Sample rate in Hz (8,000 for everything but odd WAVE headers).
    pub sample_rate: u32,
    /// Bytes of frames, when a WAVE header declares them (raw files run to their end).
    pub data_bytes: Option<u64>,
}

/// Recognises a GSM 6.10 stream: a WAVE file with format tag 0x0031, or a file named `.gsm`
/// that is not RIFF. On `Ok(Some(_))` the source is left at the first frame; on `Ok(None)` it is
/// rewound for the other readers. `Err` is a reason the file cannot be a valid GSM stream.
pub fn probe(
    source: &mut dyn MediaSource,
    extension: Option<&str>,
) -> Result<Option<Layout>, String> {
    let mut riff = [0u8; 12];
    let is_wave = read_full(source, &mut riff).map_err(|e| e.to_string())? == riff.len()
        && &riff[0..4] == b"RIFF"
        && &riff[8..12] == b"WAVE";
    let layout = if is_wave {
        probe_wave(source)?
    } else if extension.is_some_and(|e| e.eq_ignore_ascii_case("gsm")) {
        source.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
        Some(Layout {
            packing: Packing::Standard,
            sample_rate: 8_000,
            data_bytes: None,
        })
    } else {
        None
    };
    if layout.is_none() {
        source.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    }
    Ok(layout)
}

/// Walks the RIFF chunks after the 12-byte header; `None` when the `fmt ` chunk is not GSM.
fn probe_wave(source: &mut dyn MediaSource) -> Result<Option<Layout>, String> {
    let mut gsm: Option<u32> = None;
    loop {
        let mut head = [0u8; 8];
        if read_full(source, &mut head).map_err(|e| e.to_string())? < head.len() {
            return match gsm {
                Some(_) => Err("GSM 6.10 WAVE file without a data chunk".into()),
                None => Ok(None),
            };
        }
        let size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        match &head[0..4] {
            b"fmt " => {
                if !(16..=1024).contains(&size) {
                    return Ok(None);
                }
                let mut fmt = vec![0u8; size as usize];
                if read_full(source, &mut fmt).map_err(|e| e.to_string())? < fmt.len() {
                    return Err("header is truncated".into());
                }
                if u16::from_le_bytes([fmt[0], fmt[1]]) != WAVE_FORMAT_GSM610 {
                    return Ok(None);
                }
                let channels = u16::from_le_bytes([fmt[2], fmt[3]]);
                let block_align = u16::from_le_bytes([fmt[12], fmt[13]]);
                if channels != 1 {
                    return Err(format!("GSM 6.10 with {channels} channels (it is mono)"));
                }
                if usize::from(block_align) != WAV49_BLOCK_BYTES {
                    return Err(format!(
                        "GSM 6.10 blocks of {block_align} bytes (expected {WAV49_BLOCK_BYTES})"
                    ));
                }
                gsm = Some(u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]));
                if size % 2 == 1 {
                    source
                        .seek(SeekFrom::Current(1))
                        .map_err(|e| e.to_string())?;
                }
            }
            b"data" => {
                let Some(sample_rate) = gsm else {
                    return Ok(None);
                };
                // Streaming writers leave the size at 0 or 0xFFFFFFFF: read to the end then.
                let data_bytes = (size != 0 && size != u32::MAX).then_some(u64::from(size));
                return Ok(Some(Layout {
                    packing: Packing::Wav49,
                    sample_rate,
                    data_bytes,
                }));
            }
            _ => {
                let skip = i64::from(size) + i64::from(size % 2);
                source
                    .seek(SeekFrom::Current(skip))
                    .map_err(|e| e.to_string())?;
            }
        }
    }
}

/// Decodes the frames of one stream, block by block.
pub struct GsmStream {
    source: Box<dyn MediaSource>,
    decoder: Coder,
    packing: Packing,
    /// Bytes of frames left, when the header declared them.
    remaining: Option<u64>,
    block: Vec<u8>,
}

impl GsmStream {
    /// Sets up decoding from a source positioned at the first frame (as [`probe`] leaves it).
    pub fn new(source: Box<dyn MediaSource>, layout: &Layout) -> Self {
        Self {
            source,
            decoder: Coder::new(),
            packing: layout.packing,
            remaining: layout.data_bytes,
            block: vec![0; layout.packing.block_bytes()],
        }
    }

    /// Decodes up to half a second into `out` (samples in `[-1, 1)`); `Ok(false)` at the end.
    /// A trailing partial block (padding) is ignored; a file shorter than its header declares is
    /// an error.
    pub fn next_block(&mut self, out: &mut Vec<f32>) -> Result<bool, String> {
        out.clear();
        let bytes = self.packing.block_bytes();
        for _ in 0..BLOCKS_PER_READ {
            if self.remaining.is_some_and(|left| left < bytes as u64) {
                break;
            }
            let got =
                read_full(self.source.as_mut(), &mut self.block).map_err(|e| e.to_string())?;
            if got < bytes {
                if self.remaining.is_some() {
                    return Err("stream ends early (truncated)".into());
                }
                break;
            }
            if let Some(left) = &mut self.remaining {
                *left -= bytes as u64;
            }
            let repacked;
            let frames: &[[u8; FRAME_BYTES]] = match self.packing {
                Packing::Standard => {
                    std::slice::from_ref(self.block[..].try_into().expect("33 bytes"))
                }
                Packing::Wav49 => {
                    repacked = wav49_to_standard(self.block[..].try_into().expect("65 bytes"));
                    &repacked
                }
            };
            for frame in frames {
                self.decoder.decode(frame, out)?;
            }
        }
        Ok(!out.is_empty())
    }
}

/// Repacks a WAV49 block (two frames' parameters, least significant bit first) into two
/// standard frames (signature 0xD, then the same parameters, most significant bit first).
fn wav49_to_standard(block: &[u8; WAV49_BLOCK_BYTES]) -> [[u8; FRAME_BYTES]; 2] {
    let mut at = 0;
    let mut take = |width: u32| {
        let mut value = 0u32;
        for bit in 0..width {
            let byte = block[at / 8];
            value |= u32::from((byte >> (at % 8)) & 1) << bit;
            at += 1;
        }
        value
    };
    let mut frames = [[0u8; FRAME_BYTES]; 2];
    for frame in &mut frames {
        frame[0] = 0xD0;
        let mut pos = 4;
        for width in PARAM_WIDTHS {
            let value = take(width);
            for bit in (0..width).rev() {
                frame[pos / 8] |= (((value >> bit) & 1) as u8) << (7 - pos % 8);
                pos += 1;
            }
        }
    }
    frames
}

/// Passes 8 kHz `samples` through GSM 06.10 and back (libgsm's encoder, then its decoder): the
/// codec of mobile calls and many call recorders, used as a training degradation. The last
/// partial frame is padded with silence, and the output cut to the input's length.
pub fn roundtrip(samples: &[f32]) -> Vec<f32> {
    let (mut encoder, mut decoder) = (Coder::new(), Coder::new());
    let mut out = Vec::with_capacity(samples.len() + FRAME_SAMPLES);
    let mut input = [0i16; FRAME_SAMPLES];
    for chunk in samples.chunks(FRAME_SAMPLES) {
        input.fill(0);
        for (i, &x) in input.iter_mut().zip(chunk) {
            *i = (x * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16;
        }
        let frame = encoder.encode(&input);
        decoder
            .decode(&frame, &mut out)
            .expect("the encoder writes the signature");
    }
    out.truncate(samples.len());
    out
}

/// One libgsm coder state (it carries filter memories from frame to frame). The crate denies
/// `unsafe` code; these few calls into the C library are the one exception, kept to this type.
struct Coder(gsm_sys::Gsm);

#[allow(unsafe_code)]
// SAFETY: the state is owned by this value alone, only touched through `&mut self`, and libgsm
// keeps no global state, so moving it to another thread is sound.
unsafe impl Send for Coder {}
#[allow(unsafe_code)]
// SAFETY: no method takes `&self`, so a shared reference gives no access to the state.
unsafe impl Sync for Coder {}

#[allow(unsafe_code)]
impl Coder {
    /// A fresh state (libgsm's encoder and decoder share the type; each use needs its own).
    fn new() -> Self {
        // SAFETY: gsm_create only allocates and initialises a state.
        let state = unsafe { gsm_sys::gsm_create() };
        // Null means the allocation failed, where Rust's own allocations abort too.
        assert!(!state.is_null(), "libgsm could not allocate its state");
        Self(state)
    }

    /// Encodes 160 samples into one standard frame.
    fn encode(&mut self, samples: &[i16; FRAME_SAMPLES]) -> [u8; FRAME_BYTES] {
        let mut samples = *samples;
        let mut frame = [0u8; FRAME_BYTES];
        // SAFETY: libgsm reads exactly 160 samples and writes exactly 33 bytes, the sizes of
        // both buffers; the state is valid until drop.
        unsafe { gsm_sys::gsm_encode(self.0, samples.as_mut_ptr(), frame.as_mut_ptr()) };
        frame
    }

    /// Decodes one standard frame and appends its 160 samples to `out`, scaled to `[-1, 1)`.
    fn decode(&mut self, frame: &[u8; FRAME_BYTES], out: &mut Vec<f32>) -> Result<(), String> {
        let mut frame = *frame;
        let mut pcm = [0i16; FRAME_SAMPLES];
        // SAFETY: libgsm reads exactly 33 bytes from the frame and writes exactly 160 samples,
        // the sizes of both buffers; the state is valid until drop.
        let status = unsafe { gsm_sys::gsm_decode(self.0, frame.as_mut_ptr(), pcm.as_mut_ptr()) };
        if status == 0 {
            out.extend(pcm.iter().map(|&s| f32::from(s) / 32_768.0));
            Ok(())
        } else {
            Err("a frame lacks the GSM 6.10 signature (not a GSM stream, or damaged)".into())
        }
    }
}

#[allow(unsafe_code)]
impl Drop for Coder {
    fn drop(&mut self) {
        // SAFETY: the state came from gsm_create and is destroyed once.
        unsafe { gsm_sys::gsm_destroy(self.0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn a_frame_holds_260_bits_of_parameters() {
        assert_eq!(PARAM_WIDTHS.iter().sum::<u32>(), 260);
        assert_eq!(4 + 260, FRAME_BYTES * 8);
        assert_eq!(2 * 260, WAV49_BLOCK_BYTES * 8);
    }

    /// A WAV49 block whose parameters are 0, 1, 2, ... (masked to their widths), twice.
    fn counting_block() -> ([u8; WAV49_BLOCK_BYTES], Vec<u32>) {
        let mut block = [0u8; WAV49_BLOCK_BYTES];
        let mut values = Vec::new();
        let mut at = 0;
        for n in 0..152u32 {
            let width = PARAM_WIDTHS[n as usize % 76];
            let value = n & ((1 << width) - 1);
            values.push(value);
            for bit in 0..width {
                block[at / 8] |= (((value >> bit) & 1) as u8) << (at % 8);
                at += 1;
            }
        }
        (block, values)
    }

    #[test]
    fn wav49_parameters_land_msb_first_after_the_signature() {
        let (block, values) = counting_block();
        let frames = wav49_to_standard(&block);
        for (f, frame) in frames.iter().enumerate() {
            assert_eq!(frame[0] >> 4, 0xD);
            let mut pos = 4;
            for (i, width) in PARAM_WIDTHS.iter().enumerate() {
                let mut value = 0;
                for _ in 0..*width {
                    value = (value << 1) | u32::from((frame[pos / 8] >> (7 - pos % 8)) & 1);
                    pos += 1;
                }
                assert_eq!(value, values[f * 76 + i], "frame {f} parameter {i}");
            }
        }
    }

    fn wave(fmt_tag: u16, channels: u16, block_align: u16, data: &[u8]) -> Vec<u8> {
        let mut w = b"RIFF\0\0\0\0WAVE".to_vec();
        w.extend_from_slice(b"LIST\x03\0\0\0abc\0");
        w.extend_from_slice(b"fmt \x14\0\0\0");
        w.extend_from_slice(&fmt_tag.to_le_bytes());
        w.extend_from_slice(&channels.to_le_bytes());
        w.extend_from_slice(&8000u32.to_le_bytes());
        w.extend_from_slice(&1625u32.to_le_bytes());
        w.extend_from_slice(&block_align.to_le_bytes());
        w.extend_from_slice(&[0, 0, 2, 0, 0x40, 0x01]);
        w.extend_from_slice(b"data");
        w.extend_from_slice(&(data.len() as u32).to_le_bytes());
        w.extend_from_slice(data);
        w
    }

    #[test]
    fn probe_finds_gsm_wave_and_leaves_other_files_rewound() {
        let mut gsm = Cursor::new(wave(0x31, 1, 65, &[0; 130]));
        let layout = probe(&mut gsm, Some("wav")).unwrap().unwrap();
        assert_eq!(layout.packing, Packing::Wav49);
        assert_eq!(layout.sample_rate, 8000);
        assert_eq!(layout.data_bytes, Some(130));
        let header = wave(0x31, 1, 65, &[]).len() as u64;
        assert_eq!(gsm.position(), header);

        let mut pcm = Cursor::new(wave(0x01, 1, 2, &[0; 10]));
        assert_eq!(probe(&mut pcm, Some("gsm")).unwrap(), None);
        assert_eq!(pcm.position(), 0);
        let mut text = Cursor::new(b"not audio".to_vec());
        assert_eq!(probe(&mut text, Some("wav")).unwrap(), None);
        assert_eq!(text.position(), 0);
        let raw = probe(&mut Cursor::new(vec![0xD0; 66]), Some("GSM")).unwrap();
        assert_eq!(raw.unwrap().packing, Packing::Standard);
    }

    #[test]
    fn probe_refuses_gsm_it_cannot_decode() {
        let stereo = probe(&mut Cursor::new(wave(0x31, 2, 65, &[0; 130])), None);
        assert!(stereo.unwrap_err().contains("2 channels"));
        let odd = probe(&mut Cursor::new(wave(0x31, 1, 33, &[0; 66])), None);
        assert!(odd.unwrap_err().contains("blocks of 33 bytes"));
        let mut no_data = wave(0x31, 1, 65, &[]);
        no_data.truncate(no_data.len() - 8);
        let missing = probe(&mut Cursor::new(no_data), None);
        assert!(missing.unwrap_err().contains("without a data chunk"));
    }

    #[test]
    fn decoding_stops_at_the_declared_end_and_reports_truncation() {
        // Two WAV49 blocks and a padding byte: 640 samples, the padding ignored.
        let mut bytes = wave(0x31, 1, 65, &[0; 131]);
        let mut source = Cursor::new(bytes.clone());
        let layout = probe(&mut source, None).unwrap().unwrap();
        let mut stream = GsmStream::new(Box::new(source), &layout);
        let mut out = Vec::new();
        assert!(stream.next_block(&mut out).unwrap());
        assert_eq!(out.len(), 640);
        assert!(!stream.next_block(&mut out).unwrap());

        bytes.truncate(bytes.len() - 70);
        let mut source = Cursor::new(bytes);
        let layout = probe(&mut source, None).unwrap().unwrap();
        let mut stream = GsmStream::new(Box::new(source), &layout);
        assert!(
            stream
                .next_block(&mut out)
                .unwrap_err()
                .contains("truncated")
        );
    }

    #[test]
    fn roundtrip_keeps_a_tone_and_is_deterministic() {
        // 1 s of a 440 Hz tone at -12 dBFS and 8 kHz, plus a partial frame.
        let tone: Vec<f32> = (0..8_050)
            .map(|n| 0.25 * (2.0 * std::f32::consts::PI * 440.0 * n as f32 / 8_000.0).sin())
            .collect();
        let coded = roundtrip(&tone);
        assert_eq!(coded.len(), tone.len());
        assert_eq!(coded, roundtrip(&tone));
        // The codec delays nothing but changes the waveform: past the first frames it keeps the
        // tone's level within 3 dB and its shape (correlation) above 0.9.
        let (a, b) = (&tone[800..], &coded[800..]);
        let dot = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>();
        let level_db = 10.0 * (dot(b, b) / dot(a, a)).log10();
        assert!(level_db.abs() < 3.0, "level changed by {level_db} dB");
        let correlation = dot(a, b) / (dot(a, a) * dot(b, b)).sqrt();
        assert!(correlation > 0.9, "correlation {correlation}");
        assert_ne!(coded, tone);
    }

    #[test]
    fn a_raw_frame_without_the_signature_is_an_error() {
        let mut source = Cursor::new(vec![0x00; 33]);
        let layout = probe(&mut source, Some("gsm")).unwrap().unwrap();
        let mut stream = GsmStream::new(Box::new(source), &layout);
        let err = stream.next_block(&mut Vec::new()).unwrap_err();
        assert!(err.contains("signature"), "{err}");
    }
}
