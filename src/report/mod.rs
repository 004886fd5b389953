//! Stage 7: what a scan reports, and the output formats (one file per format behind one trait).
//! The JSON field names are the documented, stable schema (see the README).

mod csv;
mod json;
mod table;

use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::pipeline::ChannelMode;
use crate::scan::Verdict;

/// The identity of the model that produced a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelId {
    /// Model name.
    pub name: String,
    /// Model version.
    pub version: String,
    /// SHA-256 of the model file.
    pub sha256: String,
}

/// The settings a result was produced with, so it can be reproduced and defended later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Segment length, seconds.
    pub segment_s: f64,
    /// Step between segments, seconds.
    pub hop_s: f64,
    /// Speech a segment needs to be scored, seconds.
    pub min_segment_speech_s: f64,
    /// Speech a file (channel) needs for a verdict, seconds.
    pub min_speech_s: f64,
    /// Speech a file (channel) needs for a `synthetic` verdict, seconds (0 in results written
    /// before the rule existed).
    #[serde(default)]
    pub synthetic_min_speech_s: f64,
    /// `mix` or `each`.
    pub channels: ChannelMode,
    /// Scores at or above this are `synthetic`.
    pub synthetic_above: f64,
    /// Scores at or below this are `human`.
    pub human_below: f64,
    /// Longest recording accepted, seconds.
    pub max_duration_s: f64,
}

/// One scored (or unscored) segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentReport {
    /// Channel index with `--channels each`; `null` for the downmix.
    pub channel: Option<usize>,
    /// Start in seconds.
    pub start_s: f64,
    /// End in seconds.
    pub end_s: f64,
    /// Calibrated probability that the segment is synthetic; `null` when not scored.
    pub score: Option<f64>,
    /// Fraction of the segment detected as speech.
    pub speech_ratio: f64,
    /// Why the segment has no score.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
}

/// Per-channel result (present with `--channels each` on multi-channel files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelReport {
    /// Channel index; `null` for the downmix.
    pub channel: Option<usize>,
    /// Aggregated calibrated score.
    pub score: Option<f64>,
    /// Highest segment score.
    pub max_segment_score: Option<f64>,
    /// Verdict for the channel.
    pub verdict: Verdict,
    /// Seconds of speech.
    pub speech_s: f64,
    /// Whether the channel was analysed as a call, up to 4 kHz only (`false` in results
    /// written before it was reported).
    #[serde(default)]
    pub analysed_as_call: bool,
    /// Segments (only in memory; the file record lists all segments once).
    #[serde(skip)]
    pub segments: Vec<SegmentReport>,
}

/// The result for one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileReport {
    /// Path as given on the command line (or found under a given directory).
    pub file: String,
    /// SHA-256 of the input bytes.
    pub sha256: String,
    /// Decoded duration in seconds.
    pub duration_s: f64,
    /// Native sample rate in Hz.
    pub sample_rate: u32,
    /// Number of channels in the file.
    pub channels: usize,
    /// Codec (symphonia's short name).
    pub codec: String,
    /// Container (symphonia's short name).
    pub container: String,
    /// Calibrated probability that the voice is synthetic; `null` when not applicable.
    pub score: Option<f64>,
    /// Highest segment score in the file.
    pub max_segment_score: Option<f64>,
    /// `synthetic`, `human`, `inconclusive` or `not_applicable`.
    pub verdict: Verdict,
    /// Why the verdict is `not_applicable`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
    /// Seconds of speech detected (the largest over channels).
    pub speech_s: f64,
    /// Whether a channel was analysed as a call, up to 4 kHz only: audio at 8 kHz or less, or
    /// whose first minute keeps nothing above 4 kHz but a 16-bit file's quantisation noise
    /// (`false` in results written before it was reported).
    #[serde(default)]
    pub analysed_as_call: bool,
    /// Per-channel results, with `--channels each` on multi-channel files.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub channel_results: Option<Vec<ChannelReport>>,
    /// All segments, in channel then time order.
    pub segments: Vec<SegmentReport>,
    /// The model used.
    pub model: ModelId,
    /// The settings used.
    pub settings: Settings,
    /// The voxguard version that produced this record.
    pub voxguard_version: String,
}

/// A file that could not be scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileError {
    /// The input path.
    pub file: String,
    /// What went wrong, naming the file and the reason.
    pub error: String,
}

/// One line of output: a result or an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Record {
    /// The file was scored.
    Scored(Box<FileReport>),
    /// The file could not be read.
    Failed(FileError),
}

/// Output formats of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable table, one block per file.
    Table,
    /// One JSON array of records.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// One row per segment (errors as rows with the `error` column set).
    Csv,
}

/// Writes records in one format as they arrive.
pub trait Reporter {
    /// Writes one record.
    fn record(&mut self, out: &mut dyn Write, record: &Record) -> std::io::Result<()>;
    /// Closes the document (e.g. the JSON array).
    fn finish(&mut self, out: &mut dyn Write) -> std::io::Result<()>;
}

/// The reporter for `format`.
pub fn reporter(format: Format) -> Box<dyn Reporter> {
    match format {
        Format::Table => Box::new(table::Table),
        Format::Json => Box::new(json::JsonArray::default()),
        Format::Jsonl => Box::new(json::JsonLines),
        Format::Csv => Box::new(csv::Csv::default()),
    }
}

#[cfg(test)]
mod tests;
