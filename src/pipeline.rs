//! One file through the analysis stages: decode → channel selection → resample → frame features
//! → segments. Streams packet by packet; what is kept is one segment of frames per channel.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::decode::{AudioDecoderStream, AudioInfo};
use crate::error::Result;
use crate::features::{FeatureConfig, FrameAnalyzer, FrameFeatures};
use crate::resample::StreamResampler;
use crate::segment::{SegmentConfig, SegmentFeatures, Segmenter};

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
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        Self {
            features: FeatureConfig::default(),
            segments: SegmentConfig::default(),
            channels: ChannelMode::Mix,
            max_duration_s: 4.0 * 3600.0,
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

/// Resampler, frame analyser and segmenter for one stream of mono samples.
struct ChannelChain {
    resampler: StreamResampler,
    analyzer: FrameAnalyzer,
    segmenter: Segmenter,
    resampled: Vec<f32>,
    frames: Vec<FrameFeatures>,
}

impl ChannelChain {
    fn new(input_rate: u32, cfg: &AnalysisConfig) -> Result<Self> {
        Ok(Self {
            resampler: StreamResampler::new(input_rate, cfg.features.sample_rate)?,
            analyzer: FrameAnalyzer::new(&cfg.features)?,
            segmenter: Segmenter::new(&cfg.segments, &cfg.features)?,
            resampled: Vec::new(),
            frames: Vec::new(),
        })
    }

    fn push(&mut self, samples: &[f32]) {
        self.resampled.clear();
        self.resampler.push(samples, &mut self.resampled);
        self.analyse_resampled();
    }

    fn analyse_resampled(&mut self) {
        self.analyzer.push(&self.resampled, &mut self.frames);
        self.segment_frames();
    }

    /// Hands the analysed frames to the segmenter.
    fn segment_frames(&mut self) {
        for f in self.frames.drain(..) {
            self.segmenter.push(f);
        }
    }

    fn finish(mut self, channel: Option<usize>, duration_s: f64) -> ChannelAnalysis {
        self.resampled.clear();
        self.resampler.finish(&mut self.resampled);
        self.analyse_resampled();
        self.analyzer.finish(&mut self.frames);
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
pub fn analyze_stream(
    mut stream: AudioDecoderStream,
    cfg: &AnalysisConfig,
) -> Result<FileAnalysis> {
    let info = stream.info().clone();
    let n_chains = match cfg.channels {
        ChannelMode::Mix => 1,
        ChannelMode::Each => info.channels,
    };
    let mut chains = (0..n_chains)
        .map(|_| ChannelChain::new(info.sample_rate, cfg))
        .collect::<Result<Vec<_>>>()?;
    // Decoding runs on its own thread, a few blocks ahead of the analysis.
    let frames = std::thread::scope(|scope| -> Result<u64> {
        let (tx, rx) = std::sync::mpsc::sync_channel(4);
        let mode = cfg.channels;
        scope.spawn(move || {
            loop {
                let block = match stream.next_block() {
                    Ok(Some(block)) => Ok(match mode {
                        ChannelMode::Mix => {
                            let mut mix = Vec::new();
                            downmix(block, &mut mix);
                            vec![mix]
                        }
                        ChannelMode::Each => block.to_vec(),
                    }),
                    Ok(None) => return,
                    Err(e) => Err(e),
                };
                let failed = block.is_err();
                if tx.send(block).is_err() || failed {
                    return;
                }
            }
        });
        let mut frames = 0u64;
        for block in rx {
            let block = block?;
            frames += block[0].len() as u64;
            for (chain, samples) in chains.iter_mut().zip(&block) {
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
    let mut chain = ChannelChain::new(cfg.features.sample_rate, cfg)?;
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

/// Decodes `path` block by block, averages its channels, resamples to `rate` Hz (or keeps the
/// file's rate if `None`) and hands each block and its rate to `on_block`, stopping at its first
/// error; returns the file's description and the rate of the blocks.
pub fn stream_mono(
    path: &Path,
    rate: Option<u32>,
    max_duration_s: f64,
    mut on_block: impl FnMut(&[f32], u32) -> Result<()>,
) -> Result<(AudioInfo, u32)> {
    let mut stream = AudioDecoderStream::open(path, max_duration_s)?;
    let info = stream.info().clone();
    let rate = rate.unwrap_or(info.sample_rate);
    let mut resampler = StreamResampler::new(info.sample_rate, rate)?;
    let (mut out, mut mix) = (Vec::new(), Vec::new());
    while let Some(block) = stream.next_block()? {
        downmix(block, &mut mix);
        out.clear();
        resampler.push(&mix, &mut out);
        on_block(&out, rate)?;
    }
    out.clear();
    resampler.finish(&mut out);
    on_block(&out, rate)?;
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
