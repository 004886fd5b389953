//! Stage 3: frame-level spectral features at the analysis rate.
//!
//! Each 10 ms frame yields its energy (for speech activity), its log power spectrum (for the
//! long-term average spectrum) and a vector of
//! `[LFCC c0..c(n_ceps-1), log sub-band energy relative to the frame total (dB) x n_bands,
//! spectral flatness (dB), voicing (0..1), log2 F0, harmonic phase coherence]`, plus, in voiced
//! frames, the phase shape of the pulse across harmonics (compared from frame to frame when
//! pooled).
//! Level and DC are removed before analysis, so loudness and offsets carry no signal: everything
//! but c0 and the energy is gain-invariant.

pub mod cepstrum;
pub mod delta;
pub mod export;
mod fastmath;
pub mod filterbank;
pub mod harmonic_phase;
pub mod matrix;
pub mod pitch;
pub mod spectral;
pub mod stft;
pub mod yin;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use cepstrum::{Dct, log_floor, power_floor};
use filterbank::Filterbank;
use harmonic_phase::{HarmonicPhase, PulseShape};
use pitch::Pitch;
use stft::{FrameTransform, StftConfig, hann};

/// Everything that defines the frame features; stored in each model so scoring uses exactly the
/// features the model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// Analysis sample rate in Hz.
    pub sample_rate: u32,
    /// STFT geometry in samples.
    pub stft: StftConfig,
    /// Number of linear triangular filters for LFCC.
    pub n_filters: usize,
    /// Number of cepstral coefficients kept (c0 included).
    pub n_ceps: usize,
    /// Lowest frequency analysed, in Hz.
    pub fmin: f32,
    /// Highest frequency analysed, in Hz.
    pub fmax: f32,
    /// Number of equal-width sub-bands between `fmin` and `fmax` for relative band energies.
    pub n_bands: usize,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            sample_rate: crate::resample::ANALYSIS_RATE,
            stft: StftConfig {
                n_fft: 512,
                win_len: 400,
                hop: 160,
            },
            n_filters: 30,
            n_ceps: 20,
            fmin: 0.0,
            fmax: 7_000.0,
            n_bands: 8,
        }
    }
}

impl FeatureConfig {
    /// Checks that the settings are consistent.
    pub fn validate(&self) -> Result<()> {
        self.stft.validate()?;
        let nyquist = self.sample_rate as f32 / 2.0;
        if !(0.0 <= self.fmin && self.fmin < self.fmax && self.fmax <= nyquist) {
            return Err(Error::Config(format!(
                "need 0 <= fmin < fmax <= {nyquist} Hz (got {} .. {})",
                self.fmin, self.fmax
            )));
        }
        if self.n_ceps == 0 || self.n_ceps > self.n_filters || self.n_bands == 0 {
            return Err(Error::Config(format!(
                "need 0 < n_ceps <= n_filters and n_bands > 0 (got {} ceps, {} filters, {} bands)",
                self.n_ceps, self.n_filters, self.n_bands
            )));
        }
        Ok(())
    }

    /// Length of each frame's feature vector.
    pub fn frame_dim(&self) -> usize {
        self.n_ceps + self.n_bands + 4
    }

    /// Index of flatness in the frame vector; voicing, log2 F0 and harmonic phase coherence
    /// follow.
    pub fn flatness_index(&self) -> usize {
        self.n_ceps + self.n_bands
    }

    /// The STFT bins between `fmin` and `fmax`.
    pub fn analysed_bins(&self) -> std::ops::Range<usize> {
        let bin_hz = self.sample_rate as f32 / self.stft.n_fft as f32;
        let lo = (self.fmin / bin_hz).round() as usize;
        let hi = ((self.fmax / bin_hz).round() as usize + 1).min(self.stft.n_bins());
        lo..hi
    }

    /// Frame step in seconds.
    pub fn hop_s(&self) -> f64 {
        self.stft.hop as f64 / self.sample_rate as f64
    }
}

/// One frame's analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameFeatures {
    /// Frame energy in dBFS (mean square of the DC-free samples; -120 for digital silence).
    pub energy_db: f32,
    /// The feature vector, laid out as described in the module docs.
    pub values: Vec<f32>,
    /// Power spectrum in dB over [`FeatureConfig::analysed_bins`].
    pub log_power: Vec<f32>,
    /// Phase shape of the pulse across harmonics in a voiced frame ([`PulseShape::NONE`] in
    /// others).
    pub pulse: PulseShape,
}

/// Frames whose voicing is above this count as voiced (pitch and harmonic phase are pooled over
/// them).
pub const VOICED: f32 = 0.5;

/// Frames analysed per parallel task: enough to make the task's overhead negligible. Tasks start
/// at multiples of this frame index, whatever the blocks the samples arrive in.
const TASK_FRAMES: usize = 256;

/// Samples the DC blocker runs before a task's first frame. A task starts the filter from rest;
/// the difference from a filter run from the stream's start decays as `R^n` (about 2e-18 after
/// this many samples), far below single-precision rounding.
const DC_WARM_UP: usize = 8192;

/// Streaming frame analyser: DC blocker, STFT, LFCC, band energies, flatness, pitch, harmonic
/// phase.
///
/// The stream is cut into tasks of 256 frames at fixed positions, analysed in
/// parallel (rayon); each task runs its own DC blocker from 8,192 samples before its
/// first frame, so no stage runs sample by sample on one thread, and every frame's features
/// depend on its position and samples alone, not on block sizes or the number of threads.
pub struct FrameAnalyzer {
    kernel: FrameKernel,
    /// Input samples from stream position `pending_start` on.
    pending: Vec<f32>,
    pending_start: usize,
    /// Index of the next frame to analyse; frame `j` starts at sample `j * hop`.
    next_frame: usize,
}

impl FrameAnalyzer {
    /// Builds the analyser for `cfg`.
    pub fn new(cfg: &FeatureConfig) -> Result<Self> {
        Self::up_to(cfg, None)
    }

    /// Builds the analyser for `cfg`, with every frequency from `max_hz` up (if any) left out
    /// of the spectrum, as if the recording held nothing there.
    pub fn up_to(cfg: &FeatureConfig, max_hz: Option<f32>) -> Result<Self> {
        Ok(Self {
            kernel: FrameKernel::new(cfg, max_hz)?,
            pending: Vec::new(),
            pending_start: 0,
            next_frame: 0,
        })
    }

    /// Analyses `samples` (at the analysis rate), appending the frames completed so far; frames
    /// are handed out in blocks of a few seconds, the rest by [`FrameAnalyzer::analyse_buffered`].
    pub fn push(&mut self, samples: &[f32], out: &mut Vec<FrameFeatures>) {
        self.feed(samples);
        if self.block_ready() {
            self.analyse_buffered(out);
        }
    }

    /// Buffers `samples` (at the analysis rate) without analysing them.
    pub fn feed(&mut self, samples: &[f32]) {
        self.pending.extend_from_slice(samples);
    }

    /// Whether the buffered samples complete a block of frames worth analysing in parallel: a
    /// few seconds, two tasks per thread.
    pub fn block_ready(&self) -> bool {
        let block = TASK_FRAMES * 2 * rayon::current_num_threads();
        self.complete_frames() >= self.next_frame + block
    }

    /// Number of frames that fit in the samples seen so far.
    fn complete_frames(&self) -> usize {
        let stft = &self.kernel.cfg.stft;
        stft::frame_count(
            self.pending_start + self.pending.len(),
            stft.win_len,
            stft.hop,
        )
    }

    /// Analyses every complete frame buffered so far, appending them to `out` (at the end of the
    /// stream, this flushes the last frames).
    pub fn analyse_buffered(&mut self, out: &mut Vec<FrameFeatures>) {
        use rayon::prelude::*;
        let end = self.complete_frames();
        let mut tasks = Vec::new();
        let mut first = self.next_frame;
        while first < end {
            let next = ((first / TASK_FRAMES + 1) * TASK_FRAMES).min(end);
            tasks.push(first..next);
            first = next;
        }
        let (kernel, pending, start) = (&self.kernel, &self.pending, self.pending_start);
        let blocks: Vec<Vec<FrameFeatures>> = tasks
            .into_par_iter()
            .map(|frames| kernel.analyse_task(pending, start, frames))
            .collect();
        out.extend(blocks.into_iter().flatten());
        self.next_frame = end;
        // Keep what the next frame's task needs, warm-up and the sample before it included.
        let keep_from = self.kernel.warm_up_start(end).saturating_sub(1);
        let drop = keep_from
            .saturating_sub(self.pending_start)
            .min(self.pending.len());
        self.pending.drain(..drop);
        self.pending_start += drop;
    }
}

/// The per-frame analysis, shared read-only by the parallel tasks.
struct FrameKernel {
    cfg: FeatureConfig,
    filterbank: Filterbank,
    dct: Dct,
    bands: Vec<(usize, usize)>,
    /// Planned and initialised once, cloned by each task.
    transform: FrameTransform,
    pitch: Pitch,
    harmonic_phase: HarmonicPhase,
}

impl FrameKernel {
    fn new(cfg: &FeatureConfig, max_hz: Option<f32>) -> Result<Self> {
        cfg.validate()?;
        let sr = cfg.sample_rate as f32;
        let n_fft = cfg.stft.n_fft;
        let bin_hz = sr / n_fft as f32;
        let band_hz = (cfg.fmax - cfg.fmin) / cfg.n_bands as f32;
        let bands = (0..cfg.n_bands)
            .map(|b| {
                let lo = ((cfg.fmin + band_hz * b as f32) / bin_hz).round() as usize;
                let hi = ((cfg.fmin + band_hz * (b + 1) as f32) / bin_hz).round() as usize;
                (lo, hi.max(lo + 1).min(cfg.stft.n_bins()))
            })
            .collect();
        Ok(Self {
            filterbank: Filterbank::linear(cfg.n_filters, n_fft, sr, cfg.fmin, cfg.fmax),
            dct: Dct::new(cfg.n_filters, cfg.n_ceps),
            bands,
            transform: FrameTransform::new(cfg.stft)?
                .band_limited(max_hz.map_or(usize::MAX, |hz| (hz / bin_hz).ceil() as usize)),
            pitch: Pitch::new(&hann(cfg.stft.win_len), sr, 60.0, 400.0),
            harmonic_phase: HarmonicPhase::new(n_fft, cfg.stft.win_len, sr, 300.0, 3_400.0),
            cfg: cfg.clone(),
        })
    }

    /// First sample of the DC blocker's run for the task holding `frame`.
    fn warm_up_start(&self, frame: usize) -> usize {
        let task_start = frame / TASK_FRAMES * TASK_FRAMES;
        (task_start * self.cfg.stft.hop).saturating_sub(DC_WARM_UP)
    }

    /// Removes DC from the samples `frames` need (starting the blocker at
    /// [`Self::warm_up_start`]) and analyses them; `raw[0]` is stream sample `offset`.
    fn analyse_task(
        &self,
        raw: &[f32],
        offset: usize,
        frames: std::ops::Range<usize>,
    ) -> Vec<FrameFeatures> {
        let stft = &self.cfg.stft;
        let from = self.warm_up_start(frames.start);
        let to = (frames.end - 1) * stft.hop + stft.win_len;
        let mut dc = DcBlocker {
            prev_x: if from > 0 {
                raw[from - 1 - offset]
            } else {
                0.0
            },
            prev_y: 0.0,
        };
        let clean: Vec<f32> = raw[from - offset..to - offset]
            .iter()
            .map(|&x| dc.process(x))
            .collect();
        self.analyse(&clean, from, frames)
    }

    /// Analyses `frames` of the signal whose sample `offset` is `signal[0]`.
    fn analyse(
        &self,
        signal: &[f32],
        offset: usize,
        frames: std::ops::Range<usize>,
    ) -> Vec<FrameFeatures> {
        let cfg = &self.cfg;
        let (hop, win) = (cfg.stft.hop, cfg.stft.win_len);
        let (mut transform, mut pitch) = (self.transform.clone(), self.pitch.clone());
        let mut fb_out = vec![0.0; cfg.n_filters];
        let frame_samples = |j: usize| &signal[j * hop - offset..][..win];
        let mut out = Vec::with_capacity(frames.len());
        for j in frames {
            let frame = transform.frame(frame_samples(j));
            let mut features = self.spectral(frame.power, &mut fb_out);
            let flat = cfg.flatness_index();
            let p = pitch.estimate(frame.samples);
            features.values[flat + 1] = p.voicing;
            features.values[flat + 2] = p.f0_hz.max(1.0).log2();
            if p.voicing > VOICED {
                let (coherence, pulse) =
                    self.harmonic_phase
                        .measure(frame.spectrum, frame.power, p.f0_hz);
                features.values[flat + 3] = coherence;
                features.pulse = pulse;
            }
            let ms = frame.samples.iter().map(|x| x * x).sum::<f32>() / win as f32;
            features.energy_db = (10.0 * (ms + 1e-12).log10()).max(-120.0);
            out.push(features);
        }
        out
    }

    /// The features that come from the power spectrum alone: LFCC, band energies, flatness and
    /// the log spectrum (pitch, harmonic phase and energy are left at 0 for the caller).
    fn spectral(&self, power: &[f32], fb_out: &mut [f32]) -> FrameFeatures {
        let (cfg, bands) = (&self.cfg, &self.bands);
        let mut values = vec![0.0; cfg.frame_dim()];
        self.filterbank.apply(power, fb_out);
        let analysed = &power[bands[0].0..bands[bands.len() - 1].1];
        let sum: f32 = analysed.iter().sum();
        let floor = power_floor(sum / analysed.len() as f32);
        log_floor(fb_out, floor);
        self.dct.apply(fb_out, &mut values[..cfg.n_ceps]);
        let total = sum + floor;
        for (v, &(lo, hi)) in values[cfg.n_ceps..].iter_mut().zip(bands.iter()) {
            let e: f32 = power[lo..hi].iter().sum();
            *v = 10.0 * ((e + floor) / total).log10();
        }
        let log_power: Vec<f32> = power[cfg.analysed_bins()]
            .iter()
            .map(|p| fastmath::db(p + floor))
            .collect();
        let mean = sum / analysed.len() as f32 + floor;
        values[cfg.flatness_index()] = flatness_from_db(&log_power[..analysed.len()], mean);
        FrameFeatures {
            energy_db: 0.0,
            values,
            log_power,
            pulse: PulseShape::NONE,
        }
    }
}

/// Spectral flatness in dB, geometric over arithmetic mean of the power (0 dB for white noise),
/// from the floored powers already in dB and their arithmetic mean.
fn flatness_from_db(power_db: &[f32], mean_power: f32) -> f32 {
    let mean_db = power_db.iter().sum::<f32>() / power_db.len().max(1) as f32;
    mean_db - 10.0 * mean_power.log10()
}

/// One-pole DC blocker, `y[n] = x[n] - x[n-1] + R y[n-1]`, cut-off about 13 Hz at 16 kHz.
#[derive(Debug)]
struct DcBlocker {
    prev_x: f32,
    prev_y: f32,
}

impl DcBlocker {
    const R: f32 = 0.995;

    fn process(&mut self, x: f32) -> f32 {
        let y = x - self.prev_x + Self::R * self.prev_y;
        self.prev_x = x;
        self.prev_y = y;
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_signal::noise;

    fn analyse(x: &[f32]) -> Vec<FrameFeatures> {
        let mut a = FrameAnalyzer::new(&FeatureConfig::default()).unwrap();
        let mut out = Vec::new();
        a.push(x, &mut out);
        a.analyse_buffered(&mut out);
        out
    }

    #[test]
    fn blocks_and_chunking_do_not_change_any_frame() {
        // 30 s is several parallel blocks; pushing it in odd-sized chunks must give the same
        // frames, bit for bit, as pushing it whole.
        let x = noise(16_000 * 30, 11);
        let whole = analyse(&x);
        let cfg = FeatureConfig::default();
        assert_eq!(
            whole.len(),
            stft::frame_count(x.len(), cfg.stft.win_len, cfg.stft.hop)
        );
        let mut a = FrameAnalyzer::new(&cfg).unwrap();
        let mut chunked = Vec::new();
        for c in x.chunks(997) {
            a.push(c, &mut chunked);
        }
        a.analyse_buffered(&mut chunked);
        assert_eq!(chunked, whole);
    }

    #[test]
    fn parallel_tasks_match_one_dc_blocker_over_the_whole_stream() {
        // Each task restarts the DC blocker shortly before its frames; the frames must equal
        // those of one blocker run from the first sample (offset and hum included, which the
        // blocker has to track across task boundaries).
        let x: Vec<f32> = noise(16_000 * 20, 5)
            .iter()
            .enumerate()
            .map(|(i, v)| 0.2 * v + 0.3 + 0.1 * (i as f32 * 0.0236).sin())
            .collect();
        let cfg = FeatureConfig::default();
        let kernel = FrameKernel::new(&cfg, None).unwrap();
        let mut dc = DcBlocker {
            prev_x: 0.0,
            prev_y: 0.0,
        };
        let clean: Vec<f32> = x.iter().map(|&s| dc.process(s)).collect();
        let n = stft::frame_count(x.len(), cfg.stft.win_len, cfg.stft.hop);
        assert!(n > 3 * TASK_FRAMES);
        assert_eq!(analyse(&x), kernel.analyse(&clean, 0, 0..n));
    }

    #[test]
    fn silence_dc_and_clipping_stay_finite() {
        for x in [vec![0.0; 8000], vec![0.7; 8000], vec![1.0; 8000], {
            let mut v = noise(8000, 1);
            v.iter_mut().for_each(|s| *s = (*s * 40.0).clamp(-1.0, 1.0));
            v
        }] {
            for f in analyse(&x) {
                assert!(f.energy_db.is_finite());
                assert!(f.values.iter().all(|v| v.is_finite()), "{:?}", f.values);
            }
        }
    }

    #[test]
    fn dc_offset_is_removed() {
        let x = noise(16_000, 7);
        let shifted: Vec<f32> = x.iter().map(|v| v + 0.3).collect();
        let (a, b) = (analyse(&x), analyse(&shifted));
        // After the blocker settles (~0.2 s) the features agree.
        for (fa, fb) in a.iter().zip(&b).skip(30) {
            for (va, vb) in fa.values.iter().zip(&fb.values).skip(1) {
                assert!((va - vb).abs() < 0.05, "{va} vs {vb}");
            }
        }
    }

    #[test]
    fn gain_changes_only_c0_and_energy() {
        let x = noise(8000, 3);
        let louder: Vec<f32> = x.iter().map(|v| v * 4.0).collect();
        let (a, b) = (analyse(&x), analyse(&louder));
        for (fa, fb) in a.iter().zip(&b) {
            assert!((fb.energy_db - fa.energy_db - 20.0 * 4f32.log10()).abs() < 0.01);
            for (va, vb) in fa.values.iter().zip(&fb.values).skip(1) {
                assert!((va - vb).abs() < 1e-3);
            }
        }
    }

    #[test]
    fn gain_invariance_holds_for_band_limited_sound() {
        // A pure tone leaves most bins empty, where an absolute log floor would bind.
        let tone: Vec<f32> = (0..8000)
            .map(|i| 0.05 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 16_000.0).sin())
            .collect();
        let louder: Vec<f32> = tone.iter().map(|v| v * 4.0).collect();
        let (a, b) = (analyse(&tone), analyse(&louder));
        for (fa, fb) in a.iter().zip(&b).skip(2) {
            for (i, (va, vb)) in fa.values.iter().zip(&fb.values).enumerate().skip(1) {
                let tol = 1e-2 * va.abs().max(1.0);
                assert!((va - vb).abs() < tol, "feature {i}: {va} vs {vb}");
            }
            let shift = 20.0 * 4f32.log10();
            for (la, lb) in fa.log_power.iter().zip(&fb.log_power) {
                assert!((lb - la - shift).abs() < 0.01, "{la} vs {lb}");
            }
        }
    }

    #[test]
    fn white_noise_is_flat_and_a_tone_is_not() {
        let flat = analyse(&noise(8000, 5));
        let last = FeatureConfig::default().flatness_index();
        let mean_flat = flat.iter().map(|f| f.values[last]).sum::<f32>() / flat.len() as f32;
        assert!(mean_flat > -3.0, "white noise flatness {mean_flat} dB");
        let tone: Vec<f32> = (0..8000)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 16_000.0).sin())
            .collect();
        let t = analyse(&tone);
        assert!(t.iter().all(|f| f.values[last] < -20.0));
    }
}
