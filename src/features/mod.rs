//! Stage 3: frame-level spectral features at the analysis rate.
//!
//! Each 10 ms frame yields its energy (for speech activity), its log power spectrum (for the
//! long-term average spectrum) and a vector of
//! `[LFCC c0..c(n_ceps-1), log sub-band energy relative to the frame total (dB) x n_bands,
//! spectral flatness (dB), voicing (0..1), log2 F0, phase instability (0..1)]`.
//! Level and DC are removed before analysis, so loudness and offsets carry no signal: everything
//! but c0 and the energy is gain-invariant.

pub mod cepstrum;
pub mod delta;
pub mod export;
pub mod filterbank;
pub mod matrix;
pub mod phase;
pub mod pitch;
pub mod spectral;
pub mod stft;
pub mod yin;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use cepstrum::{Dct, log_floor, power_floor};
use filterbank::Filterbank;
use phase::PhaseTracker;
use pitch::Pitch;
use stft::{Stft, StftConfig, hann};

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

    /// Index of flatness in the frame vector; voicing, log2 F0 and phase instability follow.
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
}

/// Streaming frame analyser: DC blocker, STFT, LFCC, band energies, flatness.
pub struct FrameAnalyzer {
    cfg: FeatureConfig,
    stft: Stft,
    filterbank: Filterbank,
    dct: Dct,
    bands: Vec<(usize, usize)>,
    dc: DcBlocker,
    pitch: Pitch,
    phase: PhaseTracker,
    clean: Vec<f32>,
    fb_out: Vec<f32>,
}

impl FrameAnalyzer {
    /// Builds the analyser for `cfg`.
    pub fn new(cfg: &FeatureConfig) -> Result<Self> {
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
            stft: Stft::new(cfg.stft)?,
            filterbank: Filterbank::linear(cfg.n_filters, n_fft, sr, cfg.fmin, cfg.fmax),
            dct: Dct::new(cfg.n_filters, cfg.n_ceps),
            bands,
            dc: DcBlocker::default(),
            pitch: Pitch::new(&hann(cfg.stft.win_len), sr, 60.0, 400.0),
            phase: PhaseTracker::new(cfg.analysed_bins().end, n_fft, cfg.stft.hop),
            clean: Vec::new(),
            fb_out: vec![0.0; cfg.n_filters],
            cfg: cfg.clone(),
        })
    }

    /// Analyses `samples` (at the analysis rate), appending one entry per completed frame.
    pub fn push(&mut self, samples: &[f32], out: &mut Vec<FrameFeatures>) {
        self.clean.clear();
        self.clean
            .extend(samples.iter().map(|&x| self.dc.process(x)));
        let Self {
            cfg,
            stft,
            filterbank,
            dct,
            bands,
            clean,
            fb_out,
            pitch,
            phase,
            ..
        } = self;
        let bins = cfg.analysed_bins();
        let flat = cfg.flatness_index();
        stft.push(clean, |frame| {
            let mut values = vec![0.0; cfg.frame_dim()];
            filterbank.apply(frame.power, fb_out);
            let analysed = &frame.power[bands[0].0..bands[bands.len() - 1].1];
            let sum: f32 = analysed.iter().sum();
            let floor = power_floor(sum / analysed.len() as f32);
            log_floor(fb_out, floor);
            dct.apply(fb_out, &mut values[..cfg.n_ceps]);
            let total = sum + floor;
            for (v, &(lo, hi)) in values[cfg.n_ceps..].iter_mut().zip(bands.iter()) {
                let e: f32 = frame.power[lo..hi].iter().sum();
                *v = 10.0 * ((e + floor) / total).log10();
            }
            values[flat] = flatness_db(analysed);
            let p = pitch.estimate(frame.samples);
            values[flat + 1] = p.voicing;
            values[flat + 2] = p.f0_hz.max(1.0).log2();
            values[flat + 3] = phase.update(frame.spectrum, frame.power);
            let ms = frame.samples.iter().map(|x| x * x).sum::<f32>() / frame.samples.len() as f32;
            out.push(FrameFeatures {
                energy_db: (10.0 * (ms + 1e-12).log10()).max(-120.0),
                values,
                log_power: frame.power[bins.clone()]
                    .iter()
                    .map(|p| 10.0 * (p + floor).log10())
                    .collect(),
            });
        });
    }
}

/// Spectral flatness in dB: geometric over arithmetic mean of the power (0 dB for white noise).
pub fn flatness_db(power: &[f32]) -> f32 {
    let n = power.len().max(1) as f32;
    let floor = power_floor(power.iter().sum::<f32>() / n);
    let log_mean = power.iter().map(|p| (p + floor).ln()).sum::<f32>() / n;
    let mean = power.iter().sum::<f32>() / n + floor;
    10.0 * (log_mean.exp() / mean).log10()
}

/// One-pole DC blocker, `y[n] = x[n] - x[n-1] + R y[n-1]`, cut-off about 13 Hz at 16 kHz.
#[derive(Debug, Default)]
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
        out
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
        let flat = FeatureConfig::default().flatness_index();
        for (fa, fb) in a.iter().zip(&b).skip(2) {
            for (i, (va, vb)) in fa.values.iter().zip(&fb.values).enumerate().skip(1) {
                // Phase instability is weighted by power and may differ in rounding only.
                let tol = if i == flat + 3 {
                    1e-2
                } else {
                    1e-2 * va.abs().max(1.0)
                };
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
