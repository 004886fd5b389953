//! One file through the analysis stages: decode → channel selection → resample → frame features
//! → segments. Streams packet by packet; what is kept is one segment of frames per channel.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::decode::{AudioDecoderStream, AudioInfo};
use crate::error::Result;
use crate::features::{FeatureConfig, FrameAnalyzer, FrameFeatures};
use crate::resample::StreamResampler;
use crate::segment::{
    BAND_LIMITED_FLOOR_DB, DynamicsMode, NARROWBAND_EDGE_HZ, QUANTISATION_FLOOR_DBFS,
    SegmentConfig, SegmentFeatures, Segmenter,
};

/// How multi-channel recordings are analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ChannelMode {
    /// Average all channels into one (the default).
    #[default]
    Mix,
    /// Analyse every channel on its own (caller and callee on separate channels).
    Each,
}

/// Settings for analysing a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisConfig {
    /// Frame features (normally taken from the model).
    pub features: FeatureConfig,
    /// Segment geometry and speech activity.
    pub segments: SegmentConfig,
    /// Downmix or per-channel.
    pub channels: ChannelMode,
    /// Longest recording accepted, in seconds.
    pub max_duration_s: f64,
    /// What the segmenter does with frame dynamics (set from the model, not recorded).
    #[serde(skip)]
    pub dynamics: DynamicsMode,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        Self {
            features: FeatureConfig::default(),
            segments: SegmentConfig::default(),
            channels: ChannelMode::Mix,
            max_duration_s: 4.0 * 3600.0,
            dynamics: DynamicsMode::Skip,
        }
    }
}

/// The analysis of one channel (or of the downmix).
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelAnalysis {
    /// Channel index, or `None` for the downmix.
    pub channel: Option<usize>,
    /// Segments in time order.
    pub segments: Vec<SegmentFeatures>,
    /// Seconds of speech detected in the channel.
    pub speech_s: f64,
    /// Whether the channel was analysed as a call, up to [`CALL_BAND_HZ`] only.
    pub as_call: bool,
}

/// Highest frequency a call is analysed to, Hz. A call carried at 8 kHz keeps nothing above 4
/// kHz; what a recorder adds there when it stores the call at a higher rate (16-bit
/// quantisation noise, 20 dB higher against the speech when the call is stored 20 dB quieter)
/// is left out, so the call reads as it does stored at 8 kHz or in floating point. The edge of
/// the narrowband test's sub-bands.
pub const CALL_BAND_HZ: f32 = NARROWBAND_EDGE_HZ;

/// Whether `segments` read as a call: in the median segment nothing stands above 4 kHz, neither
/// against the speech ([`SegmentFeatures::call_band_db`] under [`BAND_LIMITED_FLOOR_DB`]) nor
/// above the quantisation noise of a 16-bit file, which a call stored quietly keeps there: the
/// band's louder half under [`CALL_BAND_FLOOR_DBFS`] ([`SegmentFeatures::call_band_dbfs`]) and
/// its top bands' brighter frames under [`PEAK_FLOOR_DBFS`]
/// ([`SegmentFeatures::top_band_peak_dbfs`]), which quiet full-band speech passes with its
/// fricatives. A recording low-passed at 5 kHz (a lossy coder) keeps its 4-5 kHz band and is
/// not taken for a call.
pub fn reads_as_call(segments: &[SegmentFeatures]) -> bool {
    // How far the band stands above the floors: a call keeps it under one of them.
    let mut above: Vec<f32> = segments
        .iter()
        .filter_map(|s| {
            let relative = s.call_band_db? - BAND_LIMITED_FLOOR_DB;
            let louder = s.call_band_dbfs? - CALL_BAND_FLOOR_DBFS;
            let peak = s.top_band_peak_dbfs? - PEAK_FLOOR_DBFS;
            Some(relative.min(louder.max(peak)))
        })
        .collect();
    if above.is_empty() {
        return false;
    }
    let mid = above.len() / 2;
    let (_, median, _) = above.select_nth_unstable_by(mid, f32::total_cmp);
    *median < 0.0
}

/// Level above 4 kHz (dB re full scale, [`SegmentFeatures::call_band_dbfs`]) under which a
/// channel keeps nothing there but a 16-bit file's quantisation noise (about
/// [`QUANTISATION_FLOOR_DBFS`], −110.6 dB measured; +4.8 dB with triangular dither): 6 dB above
/// it. Full-band speech reaches it only about 65 dB below full scale.
pub const CALL_BAND_FLOOR_DBFS: f32 = QUANTISATION_FLOOR_DBFS + 6.0;

/// Level above 5 kHz in a segment's brighter frames ([`SegmentFeatures::top_band_peak_dbfs`])
/// under which they hold nothing but quantisation noise: 8 dB above [`QUANTISATION_FLOOR_DBFS`]
/// (ffmpeg's μ-law calls stored as 16-bit files read at most 4.5 dB above it, 300 corpus clips
/// stored 30 dB down in floating point at least 14 dB above it; 40 dB down a few fall under
/// this, and 10 of the 300 read as calls).
pub const PEAK_FLOOR_DBFS: f32 = QUANTISATION_FLOOR_DBFS + 8.0;

/// Seconds of a channel at more than 8 kHz analysed at full band before it is decided whether
/// it [reads as a call](reads_as_call): a call is then analysed again from its start as one,
/// which costs a minute's analysis instead of a second decoding and analysis of the whole file.
/// A channel no longer than this is decided on all its segments.
const CALL_PROBE_S: f64 = 60.0;

/// Longest a channel whose first [`CALL_PROBE_S`] seconds hold no scored segment (silence) is
/// kept undecided, seconds; past it the channel is analysed at full band. Bounds the samples
/// kept for a second analysis: 7.7 MB per channel at 16 kHz, 490 MB for the 64 channels a file
/// may have, each analysed on its own.
const CALL_PROBE_MAX_S: f64 = 120.0;

/// The analysis of one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileAnalysis {
    /// Format as declared by the file.
    pub info: AudioInfo,
    /// Decoded length in seconds.
    pub duration_s: f64,
    /// One entry for the downmix, or one per channel.
    pub channels: Vec<ChannelAnalysis>,
}

/// Input audio the decoding thread gathers before handing it on, in seconds: long enough that
/// handing over costs nothing measurable.
const CHUNK_S: f64 = 1.0;

/// Chunks the decoding thread may run ahead of the analysis: more than one parallel block of
/// frames (about 10 s on two threads), so decoding goes on while a block is analysed instead of
/// waiting for it.
const CHUNKS_AHEAD: usize = 16;

/// Audio handed from the decoding thread to the analysis: the samples of each analysed stream
/// (downmix or channel), already at the analysis rate.
struct Chunk {
    /// Input frames (at the file's rate) the chunk covers.
    input_frames: u64,
    /// One sample vector per analysed stream.
    streams: Vec<Vec<f32>>,
}

/// The decoding side: decodes, downmixes or splits channels, and resamples, a chunk at a time.
struct Producer {
    stream: AudioDecoderStream,
    mode: ChannelMode,
    resamplers: Vec<StreamResampler>,
    mix: Vec<f32>,
    /// Input frames per chunk ([`CHUNK_S`] at the file's rate).
    chunk_frames: u64,
    /// The stream has ended and the resamplers' tails have been handed out.
    done: bool,
}

impl Producer {
    /// A producer of `mode` streams from `stream`, resampled to `rate` Hz.
    fn new(stream: AudioDecoderStream, mode: ChannelMode, rate: u32) -> Result<Self> {
        let info = stream.info();
        let n_streams = match mode {
            ChannelMode::Mix => 1,
            ChannelMode::Each => info.channels,
        };
        Ok(Self {
            resamplers: (0..n_streams)
                .map(|_| StreamResampler::new(info.sample_rate, rate))
                .collect::<Result<_>>()?,
            chunk_frames: (CHUNK_S * info.sample_rate as f64) as u64,
            stream,
            mode,
            mix: Vec::new(),
            done: false,
        })
    }

    /// The next chunk of about [`CHUNK_S`] seconds (the last one shorter, with the resamplers'
    /// tails), or `None` after the last.
    fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        if self.done {
            return Ok(None);
        }
        let mut chunk = Chunk {
            input_frames: 0,
            streams: vec![Vec::new(); self.resamplers.len()],
        };
        while chunk.input_frames < self.chunk_frames {
            let Some(block) = self.stream.next_block()? else {
                for (r, out) in self.resamplers.iter_mut().zip(&mut chunk.streams) {
                    r.finish(out);
                }
                self.done = true;
                break;
            };
            chunk.input_frames += block[0].len() as u64;
            match self.mode {
                ChannelMode::Mix => {
                    downmix(block, &mut self.mix);
                    self.resamplers[0].push(&self.mix, &mut chunk.streams[0]);
                }
                ChannelMode::Each => {
                    let streams = self.resamplers.iter_mut().zip(&mut chunk.streams);
                    for ((r, out), samples) in streams.zip(block) {
                        r.push(samples, out);
                    }
                }
            }
        }
        Ok(Some(chunk))
    }

    /// Sends chunks until the stream ends, fails, or the receiver hangs up.
    fn run(mut self, tx: std::sync::mpsc::SyncSender<Result<Chunk>>) {
        while let Some(chunk) = self.next_chunk().transpose() {
            let failed = chunk.is_err();
            if tx.send(chunk).is_err() || failed {
                return;
            }
        }
    }
}

/// Frame analyser and segmenter for one stream of mono samples at the analysis rate.
struct ChannelChain {
    as_call: bool,
    /// While it is not yet decided whether the stream is a call, the samples pushed so far, to
    /// analyse them again as one; `None` once decided.
    probe: Option<Vec<f32>>,
    analyzer: FrameAnalyzer,
    segmenter: Segmenter,
    frames: Vec<FrameFeatures>,
}

impl ChannelChain {
    /// The chain for `cfg`, analysing up to [`CALL_BAND_HZ`] only if `as_call`.
    fn new(cfg: &AnalysisConfig, as_call: bool) -> Result<Self> {
        Ok(Self {
            as_call,
            probe: None,
            analyzer: FrameAnalyzer::up_to(&cfg.features, as_call.then_some(CALL_BAND_HZ))?,
            segmenter: Segmenter::new(&cfg.segments, &cfg.features, &cfg.dynamics)?,
            frames: Vec::new(),
        })
    }

    /// A chain that analyses at full band and switches to a call's analysis if the stream's
    /// first [`CALL_PROBE_S`] seconds (longer, up to [`CALL_PROBE_MAX_S`], until they hold a
    /// scored segment), or the whole stream if shorter, read as a call.
    fn deciding(cfg: &AnalysisConfig) -> Result<Self> {
        Ok(Self {
            probe: Some(Vec::new()),
            ..Self::new(cfg, false)?
        })
    }

    /// Analyses `samples` after those pushed before, deciding whether the stream is a call once
    /// enough of it is in.
    fn push(&mut self, samples: &[f32], cfg: &AnalysisConfig) -> Result<()> {
        self.feed(samples);
        let Some(probe) = &mut self.probe else {
            return Ok(());
        };
        probe.extend_from_slice(samples);
        let probed_s = probe.len() as f64 / cfg.features.sample_rate as f64;
        if probed_s < CALL_PROBE_S {
            return Ok(());
        }
        self.segment_buffered();
        let segments = self.segmenter.segments();
        if probed_s < CALL_PROBE_MAX_S && segments.iter().all(|s| s.call_band_db.is_none()) {
            return Ok(());
        }
        let as_call = reads_as_call(segments);
        if let Some(probe) = self.probe.take()
            && as_call
        {
            *self = Self::new(cfg, true)?;
            self.feed(&probe);
        }
        Ok(())
    }

    /// Buffers `samples`; once they complete a block of frames, analyses it while the previous
    /// block's frames are cut into segments and pooled (the segmenter runs in stream order, so
    /// it would otherwise leave the other threads idle).
    fn feed(&mut self, samples: &[f32]) {
        self.analyzer.feed(samples);
        if self.analyzer.block_ready() {
            let previous = std::mem::take(&mut self.frames);
            let Self {
                analyzer,
                segmenter,
                frames,
                ..
            } = self;
            rayon::join(
                || analyzer.analyse_buffered(frames),
                || previous.into_iter().for_each(|f| segmenter.push(f)),
            );
        }
    }

    /// Analyses every complete frame buffered and hands all analysed frames to the segmenter.
    fn segment_buffered(&mut self) {
        self.segment_frames();
        self.analyzer.analyse_buffered(&mut self.frames);
        self.segment_frames();
    }

    /// Hands the analysed frames to the segmenter.
    fn segment_frames(&mut self) {
        for f in self.frames.drain(..) {
            self.segmenter.push(f);
        }
    }

    /// The analysis of the stream; one still undecided is analysed again as a call if all of it
    /// reads as one.
    fn finish(
        mut self,
        cfg: &AnalysisConfig,
        channel: Option<usize>,
        duration_s: f64,
    ) -> Result<ChannelAnalysis> {
        self.segment_buffered();
        // Decided on every segment, the trailing partial one too: a stream shorter than a
        // segment has no other.
        let (segments, speech_s) = self.segmenter.finish(duration_s);
        if let Some(probe) = self.probe.take()
            && reads_as_call(&segments)
        {
            let mut call = Self::new(cfg, true)?;
            call.feed(&probe);
            return call.finish(cfg, channel, duration_s);
        }
        Ok(ChannelAnalysis {
            channel,
            segments,
            speech_s,
            as_call: self.as_call,
        })
    }
}

/// Decodes and analyses `path` as `cfg` says ([`analyze_stream`]).
pub fn analyze_file(path: &Path, cfg: &AnalysisConfig) -> Result<FileAnalysis> {
    analyze_stream(AudioDecoderStream::open(path, cfg.max_duration_s)?, cfg)
}

/// Analyses an opened decoder stream as `cfg` says.
///
/// Decoding and resampling run on their own thread, up to 16 one-second chunks ahead of the
/// frame analysis, which runs on rayon's threads.
///
/// A stream at 8 kHz or below is analysed as a call ([`CALL_BAND_HZ`]). A channel of a stream
/// at a higher rate is analysed at full band unless its first minute (all of it, if shorter)
/// [reads as a call](reads_as_call): it is then analysed from its start as a call, from
/// samples kept while deciding, so the file is decoded once.
pub fn analyze_stream(stream: AudioDecoderStream, cfg: &AnalysisConfig) -> Result<FileAnalysis> {
    let info = stream.info().clone();
    let narrow = info.sample_rate as f32 <= 2.0 * CALL_BAND_HZ;
    let producer = Producer::new(stream, cfg.channels, cfg.features.sample_rate)?;
    let mut chains = (0..producer.resamplers.len())
        .map(|_| {
            if narrow {
                ChannelChain::new(cfg, true)
            } else {
                ChannelChain::deciding(cfg)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let frames = std::thread::scope(|scope| -> Result<u64> {
        let (tx, rx) = std::sync::mpsc::sync_channel(CHUNKS_AHEAD);
        scope.spawn(move || producer.run(tx));
        let mut frames = 0u64;
        for chunk in rx {
            let chunk = chunk?;
            frames += chunk.input_frames;
            for (chain, samples) in chains.iter_mut().zip(&chunk.streams) {
                chain.push(samples, cfg)?;
            }
        }
        Ok(frames)
    })?;
    let duration_s = frames as f64 / info.sample_rate as f64;
    let channels = chains
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let index = (cfg.channels == ChannelMode::Each).then_some(i);
            c.finish(cfg, index, duration_s)
        })
        .collect::<Result<_>>()?;
    Ok(FileAnalysis {
        info,
        duration_s,
        channels,
    })
}

/// Analyses mono samples already at the analysis rate (used for training and augmentation),
/// deciding whether they are a call as [`analyze_stream`] does for a channel above 8 kHz.
pub fn analyze_samples(samples: &[f32], cfg: &AnalysisConfig) -> Result<ChannelAnalysis> {
    analyse_with(ChannelChain::deciding(cfg)?, samples, cfg)
}

/// Pushes `samples` through `chain` and finishes it.
fn analyse_with(
    mut chain: ChannelChain,
    samples: &[f32],
    cfg: &AnalysisConfig,
) -> Result<ChannelAnalysis> {
    chain.push(samples, cfg)?;
    let duration_s = samples.len() as f64 / cfg.features.sample_rate as f64;
    chain.finish(cfg, None, duration_s)
}

/// Decodes `path` whole into mono samples at `rate` Hz (for short training clips).
pub fn load_mono(path: &Path, rate: u32, max_duration_s: f64) -> Result<Vec<f32>> {
    Ok(load_mono_at(path, Some(rate), max_duration_s)?.0)
}

/// Decodes `path` whole into mono samples at `rate` Hz, or at the file's own rate if `None`;
/// returns the samples and their rate.
pub fn load_mono_at(
    path: &Path,
    rate: Option<u32>,
    max_duration_s: f64,
) -> Result<(Vec<f32>, u32)> {
    let mut out = Vec::new();
    let (_, rate) = stream_mono(path, rate, max_duration_s, |block, _| {
        out.extend_from_slice(block);
        Ok(())
    })?;
    Ok((out, rate))
}

/// Decodes `path` a chunk of about a second at a time, averages its channels, resamples to `rate`
/// Hz (or keeps the file's rate if `None`) and hands each chunk and its rate to `on_block`,
/// stopping at its first error; returns the file's description and the rate of the chunks.
pub fn stream_mono(
    path: &Path,
    rate: Option<u32>,
    max_duration_s: f64,
    mut on_block: impl FnMut(&[f32], u32) -> Result<()>,
) -> Result<(AudioInfo, u32)> {
    let stream = AudioDecoderStream::open(path, max_duration_s)?;
    let info = stream.info().clone();
    let rate = rate.unwrap_or(info.sample_rate);
    let mut producer = Producer::new(stream, ChannelMode::Mix, rate)?;
    while let Some(chunk) = producer.next_chunk()? {
        on_block(&chunk.streams[0], rate)?;
    }
    Ok((info, rate))
}

/// Averages planar channels into `out`.
fn downmix(block: &[Vec<f32>], out: &mut Vec<f32>) {
    out.clear();
    out.extend_from_slice(&block[0]);
    if block.len() > 1 {
        for ch in &block[1..] {
            for (o, s) in out.iter_mut().zip(ch) {
                *o += s;
            }
        }
        let scale = 1.0 / block.len() as f32;
        out.iter_mut().for_each(|o| *o *= scale);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::augment::{band_pass, stored_16bit, telephone};
    use crate::segment::stat_names;

    fn speech() -> Vec<f32> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("audio-samples/real_librispeech_4137-11701-0000.flac");
        load_mono(&path, 16_000, 60.0).unwrap()
    }

    /// The largest energy above 4 kHz over the scored segments, dB.
    fn loudest_call_band(ch: &ChannelAnalysis) -> f32 {
        ch.segments
            .iter()
            .filter_map(|s| s.call_band_db)
            .fold(f32::NEG_INFINITY, f32::max)
    }

    #[test]
    fn a_call_stored_in_16_bits_is_analysed_as_a_call_and_reads_as_in_floating_point() {
        let cfg = AnalysisConfig::default();
        let call = telephone(&speech(), 16_000, 3).unwrap();
        let stored = stored_16bit(&call, -20.0);
        // At full band the quantisation noise stands well above an empty band...
        let full = analyse_with(ChannelChain::new(&cfg, false).unwrap(), &stored, &cfg).unwrap();
        assert!(!full.as_call);
        assert!(reads_as_call(&full.segments));
        assert!(
            loudest_call_band(&full) > -75.0,
            "{}",
            loudest_call_band(&full)
        );
        // ...and analysed as a call it is gone, as in the floating-point call.
        let (stored, float) = (
            analyze_samples(&stored, &cfg).unwrap(),
            analyze_samples(&call, &cfg).unwrap(),
        );
        assert!(stored.as_call && float.as_call);
        assert!(
            loudest_call_band(&stored) < -85.0,
            "{}",
            loudest_call_band(&stored)
        );
        let names = stat_names(&cfg.features);
        let band = |ch: &ChannelAnalysis, name: &str| {
            let i = names.iter().position(|n| n == name).unwrap();
            let v: Vec<f32> = ch
                .segments
                .iter()
                .filter_map(|s| Some(s.stats.as_ref()?[i]))
                .collect();
            v.iter().sum::<f32>() / v.len() as f32
        };
        for name in ["band6_rel_db_mean", "band7_rel_db_mean", "lfcc1_mean"] {
            let (s, f) = (band(&stored, name), band(&float, name));
            assert!((s - f).abs() < 1.0, "{name}: stored {s}, float {f}");
        }
    }

    #[test]
    fn only_what_keeps_nothing_above_4_khz_reads_as_a_call() {
        let cfg = AnalysisConfig::default();
        let x = speech();
        let analysed = |high: f32| {
            let mut y = x.clone();
            band_pass(&mut y, 16_000, 50.0, high);
            analyze_samples(&y, &cfg).unwrap()
        };
        assert!(!analyze_samples(&x, &cfg).unwrap().as_call);
        // A coder's 5 kHz low-pass keeps the 4-5 kHz band: not a call.
        assert!(!analysed(5_000.0).as_call);
        assert!(analysed(3_600.0).as_call);
    }

    #[test]
    fn a_call_stored_as_quietly_as_its_quantisation_noise_still_reads_as_a_call() {
        let cfg = AnalysisConfig::default();
        let x = speech();
        let call = telephone(&x, 16_000, 3).unwrap();
        // 40 dB down, the quantisation noise above 4 kHz stands only about 50 dB under the
        // speech, not 60: its level, near a 16-bit file's floor, tells the call.
        let quiet = stored_16bit(&call, -40.0);
        let full = analyse_with(ChannelChain::new(&cfg, false).unwrap(), &quiet, &cfg).unwrap();
        let mut relative: Vec<f32> = full
            .segments
            .iter()
            .filter_map(|s| s.call_band_db)
            .collect();
        relative.sort_by(f32::total_cmp);
        assert!(
            relative[relative.len() / 2] > BAND_LIMITED_FLOOR_DB,
            "{relative:?}"
        );
        assert!(reads_as_call(&full.segments));
        assert!(analyze_samples(&quiet, &cfg).unwrap().as_call);
        // Full-band speech 30 dB down, stored the same way, is not taken for a call.
        assert!(
            !analyze_samples(&stored_16bit(&x, -30.0), &cfg)
                .unwrap()
                .as_call
        );
    }

    #[test]
    fn a_call_shorter_than_a_segment_reads_as_a_call() {
        let cfg = AnalysisConfig::default();
        // 3 s: the channel's one segment is the trailing partial one.
        let short = &speech()[..48_000];
        assert!(3.0 < cfg.segments.length_s);
        let call = telephone(short, 16_000, 3).unwrap();
        let float = analyze_samples(&call, &cfg).unwrap();
        assert_eq!(float.segments.len(), 1);
        assert!(float.segments[0].stats.is_some());
        assert!(float.as_call);
        assert!(
            analyze_samples(&stored_16bit(&call, 0.0), &cfg)
                .unwrap()
                .as_call
        );
        assert!(!analyze_samples(short, &cfg).unwrap().as_call);
    }

    #[test]
    fn quiet_full_band_speech_is_not_taken_for_a_call_by_its_level() {
        let cfg = AnalysisConfig::default();
        // 45 dB down in floating point, the louder half of this clip keeps less above 4 kHz than
        // a 16-bit file's quantisation noise...
        let gain = 10f32.powf(-45.0 / 20.0);
        let quiet: Vec<f32> = speech().iter().map(|x| x * gain).collect();
        let full = analyse_with(ChannelChain::new(&cfg, false).unwrap(), &quiet, &cfg).unwrap();
        let median = |level: fn(&SegmentFeatures) -> Option<f32>| {
            let mut v: Vec<f32> = full.segments.iter().filter_map(level).collect();
            v.sort_by(f32::total_cmp);
            v[v.len() / 2]
        };
        let louder = median(|s| s.call_band_dbfs);
        assert!(louder < CALL_BAND_FLOOR_DBFS, "{louder} dB");
        // ...but its fricatives stand well above the noise above 5 kHz, so it is no call.
        let peak = median(|s| s.top_band_peak_dbfs);
        assert!(peak > PEAK_FLOOR_DBFS + 5.0, "{peak} dB");
        assert!(!reads_as_call(&full.segments));
        assert!(!analyze_samples(&quiet, &cfg).unwrap().as_call);
        // A call stored as quietly as a 16-bit file allows keeps its brighter frames at the noise.
        let call = stored_16bit(&telephone(&speech(), 16_000, 3).unwrap(), -40.0);
        let stored = analyse_with(ChannelChain::new(&cfg, false).unwrap(), &call, &cfg).unwrap();
        for s in &stored.segments {
            let peak = s.top_band_peak_dbfs.unwrap();
            assert!(peak < PEAK_FLOOR_DBFS - 2.0, "{peak} dB");
        }
    }

    /// `parts` one after the other as a 16-bit WAV file at 16 kHz in `dir`, analysed by
    /// [`analyze_file`]; also the same samples analysed as a call from the start.
    fn analysed_as_file(
        dir: &tempfile::TempDir,
        parts: &[Vec<f32>],
    ) -> (ChannelAnalysis, ChannelAnalysis) {
        let cfg = AnalysisConfig::default();
        let samples = stored_16bit(&parts.concat(), 0.0);
        let path = dir.path().join("call.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for &x in &samples {
            w.write_sample((x * 32_768.0) as i16).unwrap();
        }
        w.finalize().unwrap();
        let mut file = analyze_file(&path, &cfg).unwrap();
        let call = ChannelChain::new(&cfg, true).unwrap();
        let as_call = analyse_with(call, &load_mono(&path, 16_000, 600.0).unwrap(), &cfg).unwrap();
        (file.channels.remove(0), as_call)
    }

    /// `x` repeated until it lasts at least `seconds` at 16 kHz.
    fn lasting(x: &[f32], seconds: usize) -> Vec<f32> {
        x.iter().copied().cycle().take(seconds * 16_000).collect()
    }

    #[test]
    fn a_long_call_stored_above_8_khz_is_decided_on_its_first_minute_and_analysed_once_as_a_call() {
        let dir = tempfile::tempdir().unwrap();
        let x = speech();
        let call = telephone(&x, 16_000, 3).unwrap();
        // 100 s of a call stored at 16 kHz: decided after a minute, analysed from its start as
        // a call, the same as analysing it as a call from the beginning.
        let (file, expected) = analysed_as_file(&dir, &[lasting(&call, 100)]);
        assert!(file.as_call);
        assert_eq!(file.segments, expected.segments);
        assert!(file.segments.len() > 40, "{}", file.segments.len());
        // A silent first minute and more does not decide it: the first speech does...
        let (file, expected) =
            analysed_as_file(&dir, &[vec![0.0; 70 * 16_000], lasting(&call, 40)]);
        assert!(file.as_call);
        assert_eq!(file.segments, expected.segments);
        // Past two minutes without one the samples are no longer kept: full band.
        let (file, _) = analysed_as_file(&dir, &[vec![0.0; 125 * 16_000], lasting(&call, 20)]);
        assert!(!file.as_call);
        // The first minute decides, not the most of the file: a full-band minute followed by
        // twice as long a call is not analysed as one, a call's minute followed by twice as long
        // at full band is.
        let (file, _) = analysed_as_file(&dir, &[lasting(&x, 70), lasting(&call, 140)]);
        assert!(!file.as_call);
        let (file, _) = analysed_as_file(&dir, &[lasting(&call, 70), lasting(&x, 140)]);
        assert!(file.as_call);
    }

    #[test]
    fn downmix_averages() {
        let mut out = Vec::new();
        downmix(&[vec![1.0, 0.0], vec![0.0, 1.0]], &mut out);
        assert_eq!(out, vec![0.5, 0.5]);
    }
}
