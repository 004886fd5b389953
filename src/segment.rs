//! Stage 4: cut the frame stream into overlapping segments, keep their speech frames, and pool
//! them into one fixed-length statistics vector per segment for the classifier.
//!
//! Only one segment's worth of frames is held at a time, so memory does not grow with the file.

use std::collections::VecDeque;
use std::sync::Arc;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::features::cepstrum::deltas;
use crate::features::delta::{DELTA_WIDTH, delta};
use crate::features::{FeatureConfig, FrameFeatures, VOICED};
use crate::model::frame_gmm::FrameTerm;
use crate::vad::{NoiseFloor, VadConfig, speech_mask};

/// How the recording is cut into scored segments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentConfig {
    /// Segment length in seconds.
    pub length_s: f64,
    /// Step between segment starts in seconds.
    pub hop_s: f64,
    /// A segment with less speech than this (seconds) is not scored.
    pub min_speech_s: f64,
    /// Speech-activity thresholds.
    pub vad: VadConfig,
}

impl Default for SegmentConfig {
    fn default() -> Self {
        Self {
            length_s: 4.0,
            hop_s: 1.0,
            min_speech_s: 1.0,
            vad: VadConfig::default(),
        }
    }
}

impl SegmentConfig {
    /// Checks the segment geometry against the frame step.
    pub fn validate(&self, frame_hop_s: f64) -> Result<()> {
        if !(self.length_s.is_finite() && self.hop_s.is_finite())
            || self.length_s < 10.0 * frame_hop_s
            || self.hop_s < frame_hop_s
            || self.hop_s > self.length_s
        {
            return Err(Error::Config(format!(
                "segment length {} s and hop {} s: need hop <= length, length >= {:.2} s, hop >= {:.3} s",
                self.length_s,
                self.hop_s,
                10.0 * frame_hop_s,
                frame_hop_s
            )));
        }
        if !(0.0..=self.length_s).contains(&self.min_speech_s) {
            return Err(Error::Config(format!(
                "minimum speech per segment {} s must be within 0..={} s",
                self.min_speech_s, self.length_s
            )));
        }
        Ok(())
    }
}

/// One segment's analysis, before scoring.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentFeatures {
    /// Start time in seconds.
    pub start_s: f64,
    /// End time in seconds (clipped to the end of the audio).
    pub end_s: f64,
    /// Seconds of detected speech in the segment.
    pub speech_s: f64,
    /// Fraction of the segment's frames that are speech.
    pub speech_ratio: f64,
    /// Pooled statistics, or `None` when there is too little speech to score.
    pub stats: Option<Vec<f32>>,
    /// Interquartile range of the speech frames' energies in dB, present with `stats`: a tone
    /// keeps one level even when it starts and stops, speech does not.
    pub level_iqr_db: Option<f32>,
    /// Relative energy (dB) of the sub-bands above [`BAND_LIMITED_EDGE_HZ`] in the louder half of
    /// the speech frames, present with `stats` if the features have such bands.
    pub top_band_db: Option<f32>,
    /// The same for the sub-bands above [`NARROWBAND_EDGE_HZ`] (4 kHz), where a call carried at
    /// 8 kHz keeps nothing: whether the segment reads as a call
    /// ([`crate::pipeline::reads_as_call`]).
    pub call_band_db: Option<f32>,
    /// The level of those sub-bands in dB re full scale (frame energy plus relative energy, the
    /// louder band over the louder half of the speech frames), present with `call_band_db`: a
    /// call stored as a 16-bit file keeps only quantisation noise there, near
    /// [`QUANTISATION_FLOOR_DBFS`] however quiet the call.
    pub call_band_dbfs: Option<f32>,
    /// The level in dB re full scale of the sub-bands above [`BAND_LIMITED_EDGE_HZ`] in the
    /// segment's brighter speech frames (the louder band at the [`PEAK_QUANTILE`] of the speech
    /// frames), present with `stats` if the features have such bands. Quiet full-band speech
    /// lifts it well above [`QUANTISATION_FLOOR_DBFS`] with its fricatives even when its louder
    /// half keeps little up there; a call stored as a 16-bit file keeps it at the noise.
    pub top_band_peak_dbfs: Option<f32>,
    /// The loud frames' cepstral dynamics ([`frame_dynamics`]) as [`DynamicsMode`] asked, present
    /// with `stats` unless it asked for none.
    pub dynamics: Option<Dynamics>,
}

/// What the segmenter does with each scored segment's frame dynamics ([`frame_dynamics`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum DynamicsMode {
    /// Computes none: the model has no frame model.
    #[default]
    Skip,
    /// Keeps the frames: training fits frame models on them and scores them with several.
    Keep,
    /// Keeps only this frame model's term, so a long recording holds one number per segment
    /// instead of its frames until it is scored.
    Score(Arc<FrameTerm>),
}

/// A segment's frame dynamics as [`DynamicsMode`] left them.
#[derive(Debug, Clone, PartialEq)]
pub enum Dynamics {
    /// One row per kept frame ([`DynamicsMode::Keep`]).
    Frames(Array2<f32>),
    /// The frame model's term ([`DynamicsMode::Score`]).
    Term(f64),
}

/// Streaming segmenter: push frames, collect pooled segments.
pub struct Segmenter {
    seg: SegmentConfig,
    feat: FeatureConfig,
    dynamics: DynamicsMode,
    seg_frames: usize,
    hop_frames: usize,
    frames: VecDeque<FrameFeatures>,
    first_index: usize,
    n_frames: usize,
    next_start: usize,
    counted_until: usize,
    speech_frames: usize,
    noise: NoiseFloor,
    /// The sub-bands above [`BAND_LIMITED_EDGE_HZ`] ([`bands_above`]).
    top_bands: Vec<usize>,
    /// The sub-bands above [`NARROWBAND_EDGE_HZ`].
    call_bands: Vec<usize>,
    out: Vec<SegmentFeatures>,
}

impl Segmenter {
    /// A segmenter for frames made with `feat`, cut as `seg` says, its segments' frame dynamics
    /// handled as `dynamics` says.
    pub fn new(seg: &SegmentConfig, feat: &FeatureConfig, dynamics: &DynamicsMode) -> Result<Self> {
        let hop = feat.hop_s();
        seg.validate(hop)?;
        Ok(Self {
            seg_frames: (seg.length_s / hop).round() as usize,
            hop_frames: (seg.hop_s / hop).round() as usize,
            seg: seg.clone(),
            feat: feat.clone(),
            dynamics: dynamics.clone(),
            frames: VecDeque::new(),
            first_index: 0,
            n_frames: 0,
            next_start: 0,
            counted_until: 0,
            speech_frames: 0,
            noise: NoiseFloor::default(),
            top_bands: bands_above(feat, BAND_LIMITED_EDGE_HZ),
            call_bands: bands_above(feat, NARROWBAND_EDGE_HZ),
            out: Vec::new(),
        })
    }

    /// Adds one frame; emits every segment that is now complete.
    pub fn push(&mut self, frame: FrameFeatures) {
        self.noise.add(frame.energy_db);
        self.frames.push_back(frame);
        self.n_frames += 1;
        while self.n_frames >= self.next_start + self.seg_frames {
            self.emit(self.next_start, self.next_start + self.seg_frames);
            self.advance();
        }
    }

    /// The segments emitted so far, in time order.
    pub fn segments(&self) -> &[SegmentFeatures] {
        &self.out
    }

    /// Emits the trailing partial segment (if it adds frames no earlier segment covered) and
    /// returns all segments with the total speech time in seconds.
    pub fn finish(mut self, duration_s: f64) -> (Vec<SegmentFeatures>, f64) {
        let covered = self.next_start == 0 || self.counted_until < self.n_frames;
        if self.next_start < self.n_frames && covered {
            self.emit(self.next_start, self.n_frames);
        }
        for s in &mut self.out {
            s.end_s = s.end_s.min(duration_s.max(s.start_s));
        }
        let speech_s = self.speech_frames as f64 * self.feat.hop_s();
        (self.out, speech_s)
    }

    fn advance(&mut self) {
        self.next_start += self.hop_frames;
        let drop = (self.next_start - self.first_index).min(self.frames.len());
        self.frames.drain(..drop);
        self.first_index += drop;
    }

    fn emit(&mut self, start: usize, end: usize) {
        let local =
            &self.frames.make_contiguous()[start - self.first_index..end - self.first_index];
        let energies: Vec<f32> = local.iter().map(|f| f.energy_db).collect();
        let mask = speech_mask(&energies, &self.noise, &self.seg.vad);
        let new_from = self.counted_until.max(start) - start;
        self.speech_frames += mask[new_from..].iter().filter(|&&m| m).count();
        self.counted_until = self.counted_until.max(end);
        let n_speech = mask.iter().filter(|&&m| m).count();
        let hop = self.feat.hop_s();
        let speech_s = n_speech as f64 * hop;
        let scored = speech_s >= self.seg.min_speech_s && n_speech >= 2;
        let stats = scored.then(|| pool(local, &mask, &self.feat));
        let level_iqr_db = scored.then(|| interquartile_range(&energies, &mask));
        let nc = self.feat.n_ceps;
        // The band levels are read over the speech frames, collected once: the peak over all of
        // them, the others over their louder half, sorted once.
        let speech = if scored {
            speech_frames(local, &mask)
        } else {
            Vec::new()
        };
        let relative = |f: &FrameFeatures, b: usize| f.values[nc + b];
        let absolute = |f: &FrameFeatures, b: usize| f.energy_db + f.values[nc + b];
        let top_band_peak_dbfs = band_quantile(&speech, &self.top_bands, PEAK_QUANTILE, &absolute);
        let louder = louder_half(speech);
        let top_db = |bands, level: &dyn Fn(&FrameFeatures, usize) -> f32| {
            louder_band_mean(&louder, bands, level)
        };
        let top_band_db = top_db(&self.top_bands, &relative);
        let call_band_db = top_db(&self.call_bands, &relative);
        let call_band_dbfs = top_db(&self.call_bands, &absolute);
        let dynamics = match &self.dynamics {
            _ if !scored => None,
            DynamicsMode::Skip => None,
            DynamicsMode::Keep => Some(Dynamics::Frames(frame_dynamics(local, &self.feat))),
            DynamicsMode::Score(term) => Some(Dynamics::Term(
                term.score(frame_dynamics(local, &self.feat).view()),
            )),
        };
        self.out.push(SegmentFeatures {
            start_s: start as f64 * hop,
            end_s: (start + self.seg_frames) as f64 * hop,
            speech_s,
            speech_ratio: n_speech as f64 / local.len() as f64,
            stats,
            level_iqr_db,
            top_band_db,
            call_band_db,
            call_band_dbfs,
            top_band_peak_dbfs,
            dynamics,
        });
    }
}

/// The spread between the first and third quartiles of `values` where `mask` is set (0 when
/// none is).
fn interquartile_range(values: &[f32], mask: &[bool]) -> f32 {
    let mut kept: Vec<f32> = values
        .iter()
        .zip(mask)
        .filter_map(|(&v, &m)| m.then_some(v))
        .collect();
    if kept.is_empty() {
        return 0.0;
    }
    kept.sort_by(f32::total_cmp);
    let at = |p: f64| kept[((kept.len() - 1) as f64 * p).round() as usize];
    at(0.75) - at(0.25)
}

/// Names of the pooled statistics, in order (documents the model's weights).
pub fn stat_names(feat: &FeatureConfig) -> Vec<String> {
    let mut names = Vec::new();
    names.extend((1..feat.n_ceps).map(|i| format!("lfcc{i}_mean")));
    names.extend((0..feat.n_ceps).map(|i| format!("lfcc{i}_std")));
    names.extend((0..feat.n_ceps).map(|i| format!("dlfcc{i}_std")));
    names.extend((0..feat.n_bands).map(|i| format!("band{i}_rel_db_mean")));
    names.extend((0..feat.n_bands).map(|i| format!("band{i}_rel_db_std")));
    names.push("flatness_db_mean".into());
    names.push("flatness_db_std".into());
    names.extend(
        [
            "voicing_mean",
            "voicing_std",
            "voiced_fraction",
            "log2_f0_std",
            "log2_f0_step_mean",
            "harmonic_phase_coherence_mean",
            "harmonic_phase_coherence_std",
        ]
        .map(String::from),
    );
    names.extend((0..LTAS_BANDS).map(|i| format!("ltas_fine_std_band{i}")));
    names.push("pulse_shape_stability_mean".into());
    names.push("pulse_shape_stability_std".into());
    names
}

/// Which pooled statistics the one-class model of real speech reads: how the speech moves
/// (cepstral deltas, band-energy spread, flatness, voicing, F0, harmonic phase and the pulse
/// shape's stability, LTAS fine structure), not the spectral envelope. The envelope's means
/// (LFCC and relative band energies) describe the voice, the room and the channel more than how
/// the speech was made, so a Gaussian of them flags unfamiliar speakers as much as synthetic
/// speech; the spread of the static LFCCs is what low-rate codecs inflate most
/// (models/HISTORY.md, "Changes in 1.10.0").
pub fn one_class_inputs(feat: &FeatureConfig) -> Vec<bool> {
    stat_names(feat)
        .iter()
        .map(|n| {
            let env = (n.starts_with("lfcc") || n.starts_with("band")) && n.ends_with("_mean");
            !(env || is_lfcc_deviation(n))
        })
        .collect()
}

/// Whether the pooled statistic `name` is the spread of a static LFCC (`lfcc{k}_std`), which
/// neither the Gaussian nor, since 1.21.0, the logistic regression reads.
fn is_lfcc_deviation(name: &str) -> bool {
    name.starts_with("lfcc") && name.ends_with("_std")
}

/// Which pooled statistics the logistic regression of the shipped model type reads (since
/// 1.21.0): every one but the spread of the static LFCCs, which the Gaussian has left out since
/// 1.10.0 because low-rate codecs inflate it, and which differs more between the corpus's real
/// recording sources (LibriSpeech against the others, up to 1.6 standard deviations) than
/// between real and synthetic speech. Left out of the logistic regression too, every held-out
/// figure but the MP3 copies' gains (models/HISTORY.md, "Changes in 1.21.0"). Since 1.22.0
/// training also leaves out what tells its own real sources apart ([`crate::source_shift`]).
pub fn logistic_inputs(feat: &FeatureConfig) -> Vec<bool> {
    stat_names(feat)
        .iter()
        .map(|n| !is_lfcc_deviation(n))
        .collect()
}

/// Sub-bands starting at or above this frequency are the ones a narrowband channel removes:
/// telephone band (3.4 kHz), GSM, or anything sampled at 8 kHz keeps nothing above 4 kHz.
pub const NARROWBAND_EDGE_HZ: f32 = 4_000.0;
/// Mean relative energy (dB below the frame's total) under which a sub-band counts as empty. The
/// corpus's full-band clips keep at least -56 dB above 4.4 kHz in every segment, their telephone
/// copies at most -100 dB.
pub const NARROWBAND_FLOOR_DB: f32 = -75.0;

/// Indices, in the pooled statistics of `feat`, of the mean relative energies of the sub-bands
/// a narrowband channel empties (a segment is narrowband when all lie below
/// [`NARROWBAND_FLOOR_DB`]).
pub fn high_band_means(feat: &FeatureConfig) -> Vec<usize> {
    band_means_above(feat, NARROWBAND_EDGE_HZ)
}

/// The sub-bands of `feat` starting at or above `edge_hz`, by number.
fn bands_above(feat: &FeatureConfig, edge_hz: f32) -> Vec<usize> {
    let width = (feat.fmax - feat.fmin) / feat.n_bands as f32;
    (0..feat.n_bands)
        .filter(|&i| feat.fmin + i as f32 * width >= edge_hz)
        .collect()
}

/// Indices, in the pooled statistics of `feat`, of the mean relative energies of the sub-bands
/// starting at or above `edge_hz`.
pub fn band_means_above(feat: &FeatureConfig, edge_hz: f32) -> Vec<usize> {
    let names = stat_names(feat);
    bands_above(feat, edge_hz)
        .into_iter()
        .map(|i| {
            let name = format!("band{i}_rel_db_mean");
            names
                .iter()
                .position(|n| *n == name)
                .expect("every sub-band has a mean")
        })
        .collect()
}

/// Sub-bands starting at or above this frequency are where `scan` looks for a call stored at a
/// higher rate than it was carried at: the two top bands of the default features (5.25-7 kHz),
/// clear of the edge where resamplers leak the band below 4 kHz.
pub const BAND_LIMITED_EDGE_HZ: f32 = 5_000.0;
/// Relative energy (dB below the frame's total, [`SegmentFeatures::top_band_db`]) under which
/// those bands count as empty in a stored call. Measured on the louder half of the speech
/// frames, where a call's 16-bit quantisation noise lies furthest below the speech: the quieter
/// frames, which the speech detector keeps since its floor follows the recording's level, would
/// lift it (models/HISTORY.md, "Changes in 1.14.0"). Measured (models/HISTORY.md, "Notes under
/// the card's tables", "Calls stored at 16 kHz as 16-bit files"): of ffmpeg's telephone, GSM
/// and MP3 copies of the corpus stored as 16-bit files every one reads below it somewhere, of
/// the telephone copies stored 20 dB down 861 of 868; of the full-band clips, whose loud vowels
/// carry little above 5 kHz, 25 of 870 do too.
pub const BAND_LIMITED_FLOOR_DB: f32 = -60.0;

/// Level of 16-bit quantisation noise in a sub-band above 4 kHz, dB re full scale, as
/// [`SegmentFeatures::call_band_dbfs`] measures it.
pub const QUANTISATION_FLOOR_DBFS: f32 = -110.0;

/// The frames where `mask` is set, in order.
fn speech_frames<'a>(frames: &'a [FrameFeatures], mask: &[bool]) -> Vec<&'a FrameFeatures> {
    frames
        .iter()
        .zip(mask)
        .filter_map(|(f, &m)| m.then_some(f))
        .collect()
}

/// Those of `speech` at or above their median energy.
fn louder_half(mut speech: Vec<&FrameFeatures>) -> Vec<&FrameFeatures> {
    speech.sort_by(|a, b| b.energy_db.total_cmp(&a.energy_db));
    speech.truncate(speech.len().div_ceil(2));
    speech
}

/// The largest over `bands` of the mean of `level(frame, band)` over `louder`, with any
/// per-band level; `None` with no band or no frame.
fn louder_band_mean(
    louder: &[&FrameFeatures],
    bands: &[usize],
    level: &dyn Fn(&FrameFeatures, usize) -> f32,
) -> Option<f32> {
    if louder.is_empty() {
        return None;
    }
    bands
        .iter()
        .map(|&b| louder.iter().map(|f| level(f, b)).sum::<f32>() / louder.len() as f32)
        .reduce(f32::max)
}

/// Quantile of a segment's speech frames at which [`SegmentFeatures::top_band_peak_dbfs`] reads
/// each band: the brightest tenth, where speech keeps its fricatives.
pub const PEAK_QUANTILE: f32 = 0.9;

/// The largest over `bands` of the `q` quantile of `level(frame, band)` over `speech`; `None`
/// with no band or no frame.
fn band_quantile(
    speech: &[&FrameFeatures],
    bands: &[usize],
    q: f32,
    level: &dyn Fn(&FrameFeatures, usize) -> f32,
) -> Option<f32> {
    let k = ((speech.len().checked_sub(1)?) as f32 * q).round() as usize;
    bands
        .iter()
        .map(|&b| {
            let mut levels: Vec<f32> = speech.iter().map(|f| level(f, b)).collect();
            *levels.select_nth_unstable_by(k, f32::total_cmp).1
        })
        .reduce(f32::max)
}

/// Bands over which the fine structure of the long-term average spectrum is summarised.
const LTAS_BANDS: usize = 4;
/// Half-width, in bins, of the moving average that separates the LTAS envelope from its fine
/// structure.
const LTAS_SMOOTH: usize = 4;

/// Pools the speech frames of one segment: means and standard deviations of the cepstra (c0's
/// mean is left out: it is the level), of their deltas, of the band energies and of flatness.
pub fn pool(frames: &[FrameFeatures], mask: &[bool], feat: &FeatureConfig) -> Vec<f32> {
    let nc = feat.n_ceps;
    let speech = |i: &usize| mask[*i];
    let idx: Vec<usize> = (0..frames.len()).filter(speech).collect();
    // Deltas run over the speech frames alone, joined, so what fills the pauses (digital silence,
    // dither, a noise floor) cannot reach them through the frames next to a pause.
    let speech_ceps: Vec<Vec<f32>> = idx
        .iter()
        .map(|&i| frames[i].values[..nc].to_vec())
        .collect();
    let d = deltas(&speech_ceps, 2);
    let column = |c: usize| mean_std(idx.iter().map(|&i| frames[i].values[c]));
    let mut out = Vec::with_capacity(3 * nc + 2 * feat.n_bands + 1);
    let ceps_ms: Vec<(f32, f32)> = (0..nc).map(column).collect();
    out.extend(ceps_ms[1..].iter().map(|m| m.0));
    out.extend(ceps_ms.iter().map(|m| m.1));
    out.extend((0..nc).map(|c| mean_std(d.iter().map(|v| v[c])).1));
    let band_ms: Vec<(f32, f32)> = (nc..nc + feat.n_bands + 1).map(column).collect();
    out.extend(band_ms[..feat.n_bands].iter().map(|m| m.0));
    out.extend(band_ms[..feat.n_bands].iter().map(|m| m.1));
    out.push(band_ms[feat.n_bands].0);
    out.push(band_ms[feat.n_bands].1);
    let flat = feat.flatness_index();
    let (v_mean, v_std) = column(flat + 1);
    let voiced: Vec<usize> = idx
        .iter()
        .copied()
        .filter(|&i| frames[i].values[flat + 1] > VOICED)
        .collect();
    out.extend([v_mean, v_std, voiced.len() as f32 / idx.len() as f32]);
    out.extend(f0_dynamics(frames, &voiced, flat + 2));
    out.extend(voiced_mean_std(frames, &voiced, flat + 3));
    out.extend(ltas_fine_structure(frames, &idx));
    out.extend(pulse_shape_stability(frames, &voiced));
    out
}

/// Every how many loud frames [`frame_dynamics`] keeps one: neighbouring frames' dynamics
/// overlap through the delta window, and a segment's mean log-likelihood needs no more, while
/// training holds every kept frame of every copy of every clip in memory.
pub const DYNAMICS_STRIDE: usize = 2;

/// Frames more than this below a segment's loudest frame (or below [`DYNAMICS_FLOOR_DBFS`]) are
/// left out of its frame dynamics.
pub const DYNAMICS_RANGE_DB: f32 = 30.0;

/// Frames at or below this level are left out of a segment's frame dynamics, however quiet the
/// segment: in a quiet 16-bit file lower frames carry quantisation noise (−80 dBFS was tried
/// and moved such files' scores more; models/HISTORY.md, "Tried after 1.14.0").
pub const DYNAMICS_FLOOR_DBFS: f32 = -60.0;

/// The cepstral dynamics of a segment's loud frames, one row per [`DYNAMICS_STRIDE`]-th frame:
/// the first and second derivatives of c0..c(n-1) by [`delta`] over [`DELTA_WIDTH`] frames of
/// the frames within [`DYNAMICS_RANGE_DB`] of the segment's loudest, joined, so no derivative
/// spans a dropped frame. The frames are chosen by level relative to the loudest, not by the
/// speech mask: the mask's threshold follows the noise floor, which differs between real
/// recordings and synthetic audio, and with it the frame model ranked held-out families worse
/// (model card). Only how the cepstra move (c0's movement is the level's), not the cepstra
/// themselves, which describe the voice and the channel; the frame model of real speech reads
/// these ([`crate::model::frame_gmm`]).
pub fn frame_dynamics(frames: &[FrameFeatures], feat: &FeatureConfig) -> Array2<f32> {
    let dim = feat.n_ceps;
    let loudest = frames
        .iter()
        .map(|f| f.energy_db)
        .fold(f32::NEG_INFINITY, f32::max);
    let floor = (loudest - DYNAMICS_RANGE_DB).max(DYNAMICS_FLOOR_DBFS);
    let loud: Vec<usize> = (0..frames.len())
        .filter(|&i| frames[i].energy_db > floor)
        .collect();
    let ceps = Array2::from_shape_fn((loud.len(), dim), |(t, j)| frames[loud[t]].values[j]);
    let (Ok(d), Ok(dd)) = (delta(&ceps, 1, DELTA_WIDTH), delta(&ceps, 2, DELTA_WIDTH)) else {
        // Fewer loud frames than the window: no dynamics.
        return Array2::zeros((0, 2 * dim));
    };
    let rows: Vec<usize> = (0..loud.len()).step_by(DYNAMICS_STRIDE).collect();
    Array2::from_shape_fn((rows.len(), 2 * dim), |(r, j)| {
        if j < dim {
            d[[rows[r], j]]
        } else {
            dd[[rows[r], j - dim]]
        }
    })
}

/// Mean and (population) standard deviation of `values`, accumulated in double precision (the
/// values are gathered once, so the frames are walked once).
fn mean_std(values: impl Iterator<Item = f32>) -> (f32, f32) {
    let v: Vec<f64> = values.map(f64::from).collect();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean as f32, var.sqrt() as f32)
}

/// Spread of log2 F0 over the voiced frames, and the mean step between consecutive voiced frames
/// (0 when fewer than three frames are voiced).
fn f0_dynamics(frames: &[FrameFeatures], voiced: &[usize], col: usize) -> [f32; 2] {
    if voiced.len() < 3 {
        return [0.0, 0.0];
    }
    let f0: Vec<f32> = voiced.iter().map(|&i| frames[i].values[col]).collect();
    let mean = f0.iter().sum::<f32>() / f0.len() as f32;
    let std = (f0.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / f0.len() as f32).sqrt();
    let steps: Vec<f32> = voiced
        .windows(2)
        .filter(|w| w[1] == w[0] + 1)
        .map(|w| (frames[w[1]].values[col] - frames[w[0]].values[col]).abs())
        .collect();
    let step = if steps.is_empty() {
        0.0
    } else {
        steps.iter().sum::<f32>() / steps.len() as f32
    };
    [std, step]
}

/// Mean and standard deviation of column `col` over the voiced frames (0 when fewer than three).
fn voiced_mean_std(frames: &[FrameFeatures], voiced: &[usize], col: usize) -> [f32; 2] {
    if voiced.len() < 3 {
        return [0.0, 0.0];
    }
    let (m, s) = mean_std(voiced.iter().map(|&i| frames[i].values[col]));
    [m, s]
}

/// Mean and standard deviation, over pairs of adjacent voiced frames, of how similar their
/// pulse shapes are ([`crate::features::harmonic_phase::PulseShape::similarity`]); 0 and 0 when
/// fewer than three pairs compare. Speech moves its pulse shape slowly; phase drawn or rebuilt
/// frame by frame does not.
fn pulse_shape_stability(frames: &[FrameFeatures], voiced: &[usize]) -> [f32; 2] {
    let similarities: Vec<f32> = voiced
        .windows(2)
        .filter(|w| w[1] == w[0] + 1)
        .filter_map(|w| frames[w[0]].pulse.similarity(&frames[w[1]].pulse))
        .collect();
    if similarities.len() < 3 {
        return [0.0, 0.0];
    }
    let (m, s) = mean_std(similarities.into_iter());
    [m, s]
}

/// Standard deviation, per band, of the long-term average spectrum (dB, speech frames) minus its
/// moving-average envelope: periodic peaks left by upsampling layers raise it.
fn ltas_fine_structure(frames: &[FrameFeatures], idx: &[usize]) -> [f32; LTAS_BANDS] {
    let n = frames[idx[0]].log_power.len();
    let mut ltas = vec![0.0f32; n];
    for &i in idx {
        ltas.iter_mut()
            .zip(&frames[i].log_power)
            .for_each(|(a, b)| *a += b);
    }
    ltas.iter_mut().for_each(|v| *v /= idx.len() as f32);
    let resid: Vec<f32> = (0..n)
        .map(|k| {
            let lo = k.saturating_sub(LTAS_SMOOTH);
            let hi = (k + LTAS_SMOOTH + 1).min(n);
            ltas[k] - ltas[lo..hi].iter().sum::<f32>() / (hi - lo) as f32
        })
        .collect();
    let mut out = [0.0; LTAS_BANDS];
    for (b, o) in out.iter_mut().enumerate() {
        let band = &resid[b * n / LTAS_BANDS..(b + 1) * n / LTAS_BANDS];
        let m = band.iter().sum::<f32>() / band.len() as f32;
        *o = (band.iter().map(|v| (v - m).powi(2)).sum::<f32>() / band.len() as f32).sqrt();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::harmonic_phase::PulseShape;

    /// The relative energy (dB) of the louder of `bands` (by number), averaged over the louder half
    /// of the frames `mask` keeps (those at or above their median energy): whether a recording kept
    /// anything there. `None` with no band or no frame.
    fn top_band_db(
        frames: &[FrameFeatures],
        mask: &[bool],
        bands: &[usize],
        n_ceps: usize,
    ) -> Option<f32> {
        louder_band_mean(&louder_half(speech_frames(frames, mask)), bands, &|f, b| {
            f.values[n_ceps + b]
        })
    }

    fn frame(energy_db: f32, dim: usize) -> FrameFeatures {
        FrameFeatures {
            energy_db,
            values: (0..dim).map(|i| i as f32 + energy_db / 100.0).collect(),
            log_power: (0..257).map(|k| (k % 7) as f32).collect(),
            pulse: PulseShape::NONE,
        }
    }

    fn run(energies: &[f32], seg: &SegmentConfig) -> (Vec<SegmentFeatures>, f64) {
        run_with(energies, seg, &DynamicsMode::Skip)
    }

    fn run_with(
        energies: &[f32],
        seg: &SegmentConfig,
        dynamics: &DynamicsMode,
    ) -> (Vec<SegmentFeatures>, f64) {
        let feat = FeatureConfig::default();
        let mut s = Segmenter::new(seg, &feat, dynamics).unwrap();
        for &e in energies {
            s.push(frame(e, feat.frame_dim()));
        }
        s.finish(energies.len() as f64 * feat.hop_s())
    }

    #[test]
    fn pulse_stability_pairs_adjacent_voiced_frames_only() {
        use realfft::num_complex::Complex;
        use std::f32::consts::{FRAC_PI_2, PI};
        let shape = |angle: f32| PulseShape {
            first: 4,
            second_differences: [Complex::from_polar(1.0, angle); 4],
        };
        let with = |pulse: PulseShape| FrameFeatures {
            pulse,
            ..frame(-20.0, 4)
        };
        // Frames 0-3 keep one shape, frame 5 turns it by a right angle (cos 0), frame 7 by pi.
        let frames: Vec<FrameFeatures> = [0.0, 0.0, 0.0, 0.0, 0.0, FRAC_PI_2, 0.0, PI]
            .iter()
            .map(|&a| with(shape(a)))
            .collect();
        let [m, s] = pulse_shape_stability(&frames, &[0, 1, 2, 3]);
        assert!((m - 1.0).abs() < 1e-6 && s.abs() < 1e-6, "{m} {s}");
        // 3->5 and 5->7 are not adjacent: only 0-1, 1-2, 2-3 and 4-5 pair.
        let [m, s] = pulse_shape_stability(&frames, &[0, 1, 2, 3, 5, 7]);
        assert!((m - 1.0).abs() < 1e-6, "{m} {s}");
        let [m, _] = pulse_shape_stability(&frames, &[3, 4, 5, 6, 7]);
        // Pairs 3-4 (1), 4-5 (0), 5-6 (0), 6-7 (-1).
        assert!(m.abs() < 1e-3, "{m}");
        assert_eq!(pulse_shape_stability(&frames, &[0, 1, 2]), [0.0, 0.0]);
        let none: Vec<FrameFeatures> = (0..8).map(|_| frame(-20.0, 4)).collect();
        assert_eq!(pulse_shape_stability(&none, &[0, 1, 2, 3, 4]), [0.0, 0.0]);
    }

    #[test]
    fn interquartile_range_looks_at_masked_values_only() {
        let values = [0.0, 10.0, 1.0, 2.0, 3.0, 4.0, -50.0];
        let mask = [true, false, true, true, true, true, false];
        // Kept 0..=4: quartiles at positions 1 and 3 of five.
        assert_eq!(interquartile_range(&values, &mask), 2.0);
        assert_eq!(interquartile_range(&values, &[false; 7]), 0.0);
    }

    #[test]
    fn segment_grid_and_tail() {
        // 10 s of speech at 100 frames/s, 4 s windows every 2 s: 0-4, 2-6, 4-8, 6-10.
        let cfg = SegmentConfig {
            hop_s: 2.0,
            ..SegmentConfig::default()
        };
        let (segs, speech_s) = run(&vec![-20.0; 1000], &cfg);
        let starts: Vec<f64> = segs.iter().map(|s| s.start_s).collect();
        assert_eq!(starts, vec![0.0, 2.0, 4.0, 6.0]);
        assert!((segs[3].end_s - 10.0).abs() < 1e-9);
        assert!((speech_s - 10.0).abs() < 1e-9, "{speech_s}");
        assert!(segs.iter().all(
            |s| s.stats.as_ref().unwrap().len() == stat_names(&FeatureConfig::default()).len()
        ));
    }

    #[test]
    fn narrowband_test_reads_the_band_means_above_4_khz() {
        // Eight bands of 875 Hz from 0 to 7 kHz: bands 5-7 start at 4.375, 5.25 and 6.125 kHz.
        let feat = FeatureConfig::default();
        let names = stat_names(&feat);
        let picked: Vec<&str> = high_band_means(&feat)
            .into_iter()
            .map(|i| names[i].as_str())
            .collect();
        assert_eq!(
            picked,
            [
                "band5_rel_db_mean",
                "band6_rel_db_mean",
                "band7_rel_db_mean"
            ]
        );
        // Indices as the shipped model's `classifier.narrowband.bands` records them.
        assert_eq!(high_band_means(&feat), [64, 65, 66]);
    }

    #[test]
    fn top_band_energy_is_the_louder_bands_in_the_louder_frames() {
        let feat = FeatureConfig::default();
        let bands = bands_above(&feat, BAND_LIMITED_EDGE_HZ);
        assert_eq!(bands, [6, 7], "5.25-7 kHz");
        let nc = feat.n_ceps;
        // Two loud frames, two quiet ones whose top bands read higher (as quantisation noise does
        // under quiet speech) and one loud frame the mask drops.
        let frame = |energy_db: f32, band6: f32, band7: f32| {
            let mut values = vec![0.0; nc + feat.n_bands];
            values[nc + 6] = band6;
            values[nc + 7] = band7;
            FrameFeatures {
                energy_db,
                values,
                log_power: Vec::new(),
                pulse: PulseShape::NONE,
            }
        };
        let frames = [
            frame(-20.0, -70.0, -64.0),
            frame(-22.0, -72.0, -66.0),
            frame(-50.0, -40.0, -40.0),
            frame(-52.0, -40.0, -40.0),
            frame(-10.0, 0.0, 0.0),
        ];
        let mask = [true, true, true, true, false];
        // Band 7, the louder, over the two loud kept frames.
        assert_eq!(top_band_db(&frames, &mask, &bands, nc), Some(-65.0));
        assert_eq!(top_band_db(&frames, &mask, &[], nc), None);
        assert_eq!(top_band_db(&frames, &[false; 5], &bands, nc), None);
    }

    #[test]
    fn band_quantile_reads_the_louder_band_at_the_quantile_of_the_speech_frames() {
        let frame = |band6: f32, band7: f32| FrameFeatures {
            values: vec![band6, band7],
            ..frame(-20.0, 0)
        };
        // Band 7 counts down from 10 over ten kept frames; an eleventh, louder, is masked out.
        let frames: Vec<FrameFeatures> = (0..11)
            .map(|i| frame(-50.0, if i == 10 { 0.0 } else { -(i as f32) - 1.0 }))
            .collect();
        let mut mask = [true; 11];
        mask[10] = false;
        let speech = speech_frames(&frames, &mask);
        assert_eq!(speech.len(), 10);
        let level = |f: &FrameFeatures, b: usize| f.values[b - 6];
        // Sorted, band 7 reads -10..-1: its 0.9 quantile (position 8.1 of 0..=9, rounded) is -2,
        // the median (4.5, rounded to 5) -5, the top -1; band 6 (-50 throughout) never wins.
        assert_eq!(band_quantile(&speech, &[6, 7], 0.9, &level), Some(-2.0));
        assert_eq!(band_quantile(&speech, &[6, 7], 1.0, &level), Some(-1.0));
        assert_eq!(band_quantile(&speech, &[6, 7], 0.5, &level), Some(-5.0));
        assert_eq!(band_quantile(&speech, &[6], 0.9, &level), Some(-50.0));
        assert_eq!(
            band_quantile(&speech_frames(&frames, &[false; 11]), &[6, 7], 0.9, &level),
            None
        );
        assert_eq!(band_quantile(&speech, &[], 0.9, &level), None);
    }

    #[test]
    fn short_file_gets_one_partial_segment() {
        let (segs, _) = run(&vec![-20.0; 250], &SegmentConfig::default());
        assert_eq!(segs.len(), 1);
        assert!((segs[0].end_s - 2.5).abs() < 1e-9);
    }

    #[test]
    fn too_little_speech_is_not_scored() {
        let mut e = vec![-90.0; 400];
        e[..50].iter_mut().for_each(|v| *v = -20.0);
        let (segs, speech_s) = run(&e, &SegmentConfig::default());
        assert!(segs[0].stats.is_none());
        assert!((speech_s - 0.5).abs() < 1e-9);
    }

    #[test]
    fn frame_dynamics_are_the_slopes_of_the_loud_frames_cepstra() {
        // c_j rises by j per frame; five quiet frames in the middle (40 dB down) are skipped,
        // so the loud frames join into one steady ramp. First derivatives read the slope j,
        // second derivatives 0.
        let feat = FeatureConfig::default();
        let frames: Vec<FrameFeatures> = (0..40)
            .map(|t| FrameFeatures {
                energy_db: if (20..25).contains(&t) { -60.0 } else { -20.0 },
                values: (0..feat.frame_dim())
                    .map(|j| {
                        if t < 20 {
                            (t * j) as f32
                        } else {
                            ((t - 5) * j) as f32
                        }
                    })
                    .collect(),
                log_power: Vec::new(),
                pulse: PulseShape::NONE,
            })
            .collect();
        let d = frame_dynamics(&frames, &feat);
        let dim = feat.n_ceps;
        assert_eq!(d.dim(), (35usize.div_ceil(DYNAMICS_STRIDE), 2 * dim));
        for row in d.rows() {
            for j in 0..dim {
                assert!((row[j] - j as f32).abs() < 1e-3, "{row}");
                assert!(row[dim + j].abs() < 1e-3, "{row}");
            }
        }
    }

    #[test]
    fn invalid_geometry_is_rejected() {
        let feat = FeatureConfig::default();
        let bad = SegmentConfig {
            hop_s: 5.0,
            ..SegmentConfig::default()
        };
        assert!(Segmenter::new(&bad, &feat, &DynamicsMode::Skip).is_err());
    }

    #[test]
    fn dynamics_are_skipped_kept_or_reduced_to_the_frame_models_term() {
        use crate::model::frame_gmm::{DiagonalGmm, GmmConfig};
        use ndarray::{ArrayView2, Axis, concatenate};
        // A level that moves every frame, so the cepstra (which follow it) have dynamics.
        let energies: Vec<f32> = (0..700).map(|t| -20.0 - (t * 7 % 13) as f32).collect();
        let seg = SegmentConfig::default();
        let with = |mode: &DynamicsMode| run_with(&energies, &seg, mode).0;
        assert!(
            with(&DynamicsMode::Skip)
                .iter()
                .all(|s| s.dynamics.is_none())
        );
        let kept = with(&DynamicsMode::Keep);
        let frames: Vec<ArrayView2<'_, f32>> = kept
            .iter()
            .map(|s| match &s.dynamics {
                Some(Dynamics::Frames(d)) => d.view(),
                other => panic!("kept frames expected, got {other:?}"),
            })
            .collect();
        assert!(frames.len() >= 3 && frames.iter().all(|d| d.nrows() > 100));
        let all = concatenate(Axis(0), &frames).unwrap();
        let cfg = GmmConfig {
            components: 2,
            ..GmmConfig::default()
        };
        let term = Arc::new(FrameTerm::new(
            DiagonalGmm::fit(all.view(), &cfg).unwrap(),
            1.0,
            2.0,
        ));
        let scored = with(&DynamicsMode::Score(Arc::clone(&term)));
        assert_eq!(scored.len(), frames.len());
        for (s, d) in scored.iter().zip(&frames) {
            assert_eq!(s.dynamics, Some(Dynamics::Term(term.score(d.view()))));
        }
    }
}
