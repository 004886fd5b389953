//! One file through the analysis stages: decode → channel selection → resample → frame features
//! → segments. Streams packet by packet; what is kept is one segment of frames per channel.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::decode::{AudioDecoderStream, AudioInfo};
use crate::error::Result;
use crate::features::{FeatureConfig, FrameAnalyzer, FrameFeatures};
use crate::resample::StreamResampler;
use crate::segment::{DynamicsMode, SegmentConfig, SegmentFeatures, Segmenter};

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
}

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
    analyzer: FrameAnalyzer,
    segmenter: Segmenter,
    frames: Vec<FrameFeatures>,
}

impl ChannelChain {
    fn new(cfg: &AnalysisConfig) -> Result<Self> {
        Ok(Self {
            analyzer: FrameAnalyzer::new(&cfg.features)?,
            segmenter: Segmenter::new(&cfg.segments, &cfg.features, &cfg.dynamics)?,
            frames: Vec::new(),
        })
    }

    /// Buffers `samples`; once they complete a block of frames, analyses it while the previous
    /// block's frames are cut into segments and pooled (the segmenter runs in stream order, so
    /// it would otherwise leave the other threads idle).
    fn push(&mut self, samples: &[f32]) {
        self.analyzer.feed(samples);
        if self.analyzer.block_ready() {
            let previous = std::mem::take(&mut self.frames);
            let Self {
                analyzer,
                segmenter,
                frames,
            } = self;
            rayon::join(
                || analyzer.analyse_buffered(frames),
                || previous.into_iter().for_each(|f| segmenter.push(f)),
            );
        }
    }

    /// Hands the analysed frames to the segmenter.
    fn segment_frames(&mut self) {
        for f in self.frames.drain(..) {
            self.segmenter.push(f);
        }
    }

    fn finish(mut self, channel: Option<usize>, duration_s: f64) -> ChannelAnalysis {
        self.segment_frames();
        self.analyzer.analyse_buffered(&mut self.frames);
        self.segment_frames();
        let (segments, speech_s) = self.segmenter.finish(duration_s);
        ChannelAnalysis {
            channel,
            segments,
            speech_s,
        }
    }
}

/// Decodes and analyses `path` as `cfg` says.
pub fn analyze_file(path: &Path, cfg: &AnalysisConfig) -> Result<FileAnalysis> {
    analyze_stream(AudioDecoderStream::open(path, cfg.max_duration_s)?, cfg)
}

/// Analyses an opened decoder stream as `cfg` says.
///
/// Decoding and resampling run on their own thread, up to 16 one-second chunks ahead of the
/// frame analysis, which runs on rayon's threads.
pub fn analyze_stream(stream: AudioDecoderStream, cfg: &AnalysisConfig) -> Result<FileAnalysis> {
    let info = stream.info().clone();
    let producer = Producer::new(stream, cfg.channels, cfg.features.sample_rate)?;
    let mut chains = (0..producer.resamplers.len())
        .map(|_| ChannelChain::new(cfg))
        .collect::<Result<Vec<_>>>()?;
    let frames = std::thread::scope(|scope| -> Result<u64> {
        let (tx, rx) = std::sync::mpsc::sync_channel(CHUNKS_AHEAD);
        scope.spawn(move || producer.run(tx));
        let mut frames = 0u64;
        for chunk in rx {
            let chunk = chunk?;
            frames += chunk.input_frames;
            for (chain, samples) in chains.iter_mut().zip(&chunk.streams) {
                chain.push(samples);
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
            c.finish(index, duration_s)
        })
        .collect();
    Ok(FileAnalysis {
        info,
        duration_s,
        channels,
    })
}

/// Analyses mono samples already at the analysis rate (used for training and augmentation).
pub fn analyze_samples(samples: &[f32], cfg: &AnalysisConfig) -> Result<ChannelAnalysis> {
    let mut chain = ChannelChain::new(cfg)?;
    chain.push(samples);
    let duration_s = samples.len() as f64 / cfg.features.sample_rate as f64;
    Ok(chain.finish(None, duration_s))
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

    #[test]
    fn downmix_averages() {
        let mut out = Vec::new();
        downmix(&[vec![1.0, 0.0], vec![0.0, 1.0]], &mut out);
        assert_eq!(out, vec![0.5, 0.5]);
    }
}
