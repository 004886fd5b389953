//! Fundamental frequency by YIN and voicing probability by pYIN's observation model, following
//! librosa's `yin` and `pyin` (centred frames, zero padding) so results can be compared with it.
//!
//! The F0 is YIN's (absolute threshold 0.1, parabolic refinement). The voicing probability is
//! pYIN's per-frame probability that some pitch candidate is voiced (threshold prior Beta(2, 18),
//! Boltzmann trough prior); pYIN's Viterbi smoothing of the pitch track is not applied.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::error::{Error, Result};
use crate::features::stft::centred_frame;

/// YIN's absolute threshold on the normalised difference.
const TROUGH_THRESHOLD: f64 = 0.1;
/// pYIN threshold grid size and its Beta prior (librosa's defaults).
const N_THRESHOLDS: usize = 100;
const BETA_A: u32 = 2;
const BETA_B: u32 = 18;
/// pYIN prior favouring earlier troughs.
const BOLTZMANN: f64 = 2.0;
/// Probability moved to the global minimum when no trough is under a threshold.
const NO_TROUGH_PROB: f64 = 0.01;
/// Pitch bins per semitone (librosa's `resolution=0.1`).
const BINS_PER_SEMITONE: f64 = 10.0;

/// F0 and voicing of one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PitchFrame {
    /// YIN fundamental frequency in Hz (defined for every frame, voiced or not).
    pub f0_hz: f64,
    /// pYIN probability that the frame is voiced, 0..1.
    pub voiced_prob: f64,
}

/// Frame-by-frame F0 tracker.
pub struct Yin {
    sample_rate: f64,
    frame_len: usize,
    fmin: f64,
    min_period: usize,
    max_period: usize,
    n_pitch_bins: usize,
    beta_probs: Vec<f64>,
    fft: Arc<dyn RealToComplex<f64>>,
    ifft: Arc<dyn ComplexToReal<f64>>,
}

impl Yin {
    /// Checks the search range fits in frames of `frame_len` samples at `sample_rate`.
    pub fn new(sample_rate: u32, frame_len: usize, fmin: f64, fmax: f64) -> Result<Self> {
        let sr = sample_rate as f64;
        let bad = |why: String| Err(Error::Config(format!("F0 search: {why}")));
        if !(fmin > 0.0 && fmin < fmax && fmax <= sr / 2.0) {
            return bad(format!(
                "need 0 < fmin < fmax <= {} Hz (got {fmin}..{fmax})",
                sr / 2.0
            ));
        }
        let min_period = (sr / fmax).floor() as usize;
        let max_period = ((sr / fmin).ceil() as usize).min(frame_len.saturating_sub(1));
        if sr / fmin >= frame_len as f64 - 1.0 || max_period < min_period + 2 {
            return bad(format!(
                "a {frame_len}-sample frame at {sr} Hz cannot hold periods down to {fmin} Hz; \
                 use a longer F0 frame"
            ));
        }
        let thresholds: Vec<f64> = (0..=N_THRESHOLDS)
            .map(|i| i as f64 / N_THRESHOLDS as f64)
            .collect();
        let beta_probs = thresholds
            .windows(2)
            .map(|w| beta_cdf(w[1], BETA_A, BETA_B) - beta_cdf(w[0], BETA_A, BETA_B))
            .collect();
        let n_pitch_bins = (12.0 * BINS_PER_SEMITONE * (fmax / fmin).log2()).floor() as usize + 1;
        let mut planner = RealFftPlanner::<f64>::new();
        Ok(Self {
            sample_rate: sr,
            frame_len,
            fmin,
            min_period,
            max_period,
            n_pitch_bins,
            beta_probs,
            fft: planner.plan_fft_forward(2 * frame_len),
            ifft: planner.plan_fft_inverse(2 * frame_len),
        })
    }

    /// F0 and voicing for each centred frame of `samples` (zero padding), `hop` apart:
    /// `1 + len / hop` frames, the same grid as a centred STFT.
    pub fn track(&self, samples: &[f32], hop: usize) -> Vec<PitchFrame> {
        let n_frames = 1 + samples.len() / hop;
        let mut frame = vec![0.0; self.frame_len];
        (0..n_frames)
            .map(|t| {
                centred_frame(samples, t * hop, &mut frame, false);
                let cmnd = self.normalised_difference(&frame);
                let shifts = parabolic_shifts(&cmnd);
                let troughs = troughs(&cmnd);
                PitchFrame {
                    f0_hz: self.yin_f0(&cmnd, &shifts, &troughs),
                    voiced_prob: self.voiced_prob(&cmnd, &shifts, &troughs),
                }
            })
            .collect()
    }

    /// Cumulative-mean-normalised difference for lags `min_period..=max_period` (librosa's
    /// formulation: difference from the frame's autocorrelation and its energy prefix).
    fn normalised_difference(&self, frame: &[f64]) -> Vec<f64> {
        let n = 2 * self.frame_len;
        let mut input = vec![0.0; n];
        input[..self.frame_len].copy_from_slice(frame);
        let mut spectrum = vec![Complex::new(0.0, 0.0); n / 2 + 1];
        self.fft
            .process(&mut input, &mut spectrum)
            .expect("buffers sized for the plan");
        spectrum
            .iter_mut()
            .for_each(|c| *c = Complex::new(c.norm_sqr(), 0.0));
        let mut acf = vec![0.0; n];
        self.ifft
            .process(&mut spectrum, &mut acf)
            .expect("buffers sized for the plan");
        let acf: Vec<f64> = acf.iter().map(|v| v / n as f64).collect();
        let max_p = self.max_period;
        let mut energy_prefix = 0.0;
        let mut diff = vec![0.0; max_p + 1];
        for k in 1..=max_p {
            energy_prefix += frame[k - 1] * frame[k - 1];
            diff[k] = 2.0 * (acf[0] - acf[k]) - energy_prefix;
        }
        let mut running = 0.0;
        let mut cumulative_mean = vec![0.0; max_p + 1];
        for k in 1..=max_p {
            running += diff[k];
            cumulative_mean[k] = running / k as f64;
        }
        (self.min_period..=max_p)
            .map(|k| diff[k] / (cumulative_mean[k] + f64::MIN_POSITIVE))
            .collect()
    }

    fn yin_f0(&self, cmnd: &[f64], shifts: &[f64], troughs: &[usize]) -> f64 {
        let index = troughs
            .iter()
            .copied()
            .find(|&i| cmnd[i] < TROUGH_THRESHOLD)
            .unwrap_or_else(|| argmin(cmnd));
        self.sample_rate / (self.min_period as f64 + index as f64 + shifts[index])
    }

    /// pYIN: spread each threshold's prior mass over the troughs below it (earlier troughs
    /// favoured), map candidates to pitch bins, and sum the voiced bins.
    fn voiced_prob(&self, cmnd: &[f64], shifts: &[f64], troughs: &[usize]) -> f64 {
        if troughs.is_empty() {
            return 0.0;
        }
        let heights: Vec<f64> = troughs.iter().map(|&i| cmnd[i]).collect();
        let mut probs = vec![0.0; troughs.len()];
        for (j, beta) in self.beta_probs.iter().enumerate() {
            let threshold = (j + 1) as f64 / N_THRESHOLDS as f64;
            let below = heights.iter().filter(|&&h| h < threshold).count();
            let mut position = 0;
            for (p, &h) in probs.iter_mut().zip(&heights) {
                if h < threshold {
                    *p += boltzmann_pmf(position, below) * beta;
                    position += 1;
                }
            }
        }
        let global = argmin(&heights);
        let thresholds_not_below = (1..=N_THRESHOLDS)
            .filter(|&j| heights[global] >= j as f64 / N_THRESHOLDS as f64)
            .count();
        probs[global] +=
            NO_TROUGH_PROB * self.beta_probs[..thresholds_not_below].iter().sum::<f64>();
        // Candidates landing in the same pitch bin overwrite each other, as in librosa.
        let mut bins: Vec<(usize, f64)> = Vec::new();
        for (&i, &p) in troughs.iter().zip(&probs) {
            if p == 0.0 {
                continue;
            }
            let period = self.min_period as f64 + i as f64 + shifts[i];
            let f0 = self.sample_rate / period;
            let bin = (12.0 * BINS_PER_SEMITONE * (f0 / self.fmin).log2())
                .round_ties_even()
                .clamp(0.0, self.n_pitch_bins as f64) as usize;
            match bins.iter_mut().find(|(b, _)| *b == bin) {
                Some(entry) => entry.1 = p,
                None => bins.push((bin, p)),
            }
        }
        bins.iter()
            .filter(|(b, _)| *b < self.n_pitch_bins)
            .map(|(_, p)| p)
            .sum::<f64>()
            .clamp(0.0, 1.0)
    }
}

/// Offset of the parabola through each point and its neighbours (0 at the ends, or when the
/// vertex would be more than one lag away).
fn parabolic_shifts(x: &[f64]) -> Vec<f64> {
    let mut shifts = vec![0.0; x.len()];
    for i in 1..x.len().saturating_sub(1) {
        let a = x[i + 1] + x[i - 1] - 2.0 * x[i];
        let b = (x[i + 1] - x[i - 1]) / 2.0;
        if b.abs() < a.abs() {
            shifts[i] = -b / a;
        }
    }
    shifts
}

/// Local minima: strictly below the left neighbour and not above the right one; the first
/// point if below the second, the last if below the one before.
fn troughs(x: &[f64]) -> Vec<usize> {
    let n = x.len();
    (0..n)
        .filter(|&i| match i {
            0 => n > 1 && x[0] < x[1],
            _ if i == n - 1 => x[i] < x[i - 1],
            _ => x[i] < x[i - 1] && x[i] <= x[i + 1],
        })
        .collect()
}

fn argmin(x: &[f64]) -> usize {
    x.iter()
        .enumerate()
        .fold(
            (0, f64::INFINITY),
            |(bi, bv), (i, &v)| {
                if v < bv { (i, v) } else { (bi, bv) }
            },
        )
        .0
}

/// Truncated geometric (Boltzmann) probability of position `k` among `n`.
fn boltzmann_pmf(k: usize, n: usize) -> f64 {
    let l = BOLTZMANN;
    (1.0 - (-l).exp()) * (-l * k as f64).exp() / (1.0 - (-l * n as f64).exp())
}

/// CDF of Beta(a, b) for integer parameters: the binomial tail `P(Bin(a+b-1, x) >= a)`.
fn beta_cdf(x: f64, a: u32, b: u32) -> f64 {
    let n = a + b - 1;
    (a..=n)
        .map(|j| binomial(n, j) * x.powi(j as i32) * (1.0 - x).powi((n - j) as i32))
        .sum()
}

fn binomial(n: u32, k: u32) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn harmonic(f0: f64, rate: u32, seconds: f64) -> Vec<f32> {
        let n = (rate as f64 * seconds) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / rate as f64;
                (1..=5)
                    .map(|h| (2.0 * std::f64::consts::PI * f0 * h as f64 * t).sin() / h as f64)
                    .sum::<f64>() as f32
                    * 0.2
            })
            .collect()
    }

    #[test]
    fn finds_the_fundamental_of_harmonic_tones() {
        // Voicing probabilities as librosa.pyin gives for the same tones (0.616, 0.891, 0.946).
        for (f0, rate, prob) in [
            (110.0, 16_000, 0.615_949_9),
            (220.0, 16_000, 0.891_144_5),
            (150.0, 8_000, 0.945_930_2),
        ] {
            let yin = Yin::new(rate, 1024, 60.0, 500.0).unwrap();
            let frames = yin.track(&harmonic(f0, rate, 0.5), rate as usize / 100);
            let mid = &frames[10..frames.len() - 10];
            for p in mid {
                assert!((p.f0_hz - f0).abs() < 0.01 * f0, "{f0} Hz: {p:?}");
                assert!((p.voiced_prob - prob).abs() < 1e-6, "{f0} Hz: {p:?}");
            }
        }
    }

    #[test]
    fn noise_is_not_voiced() {
        let noise = crate::test_signal::noise(8000, 3);
        let yin = Yin::new(16_000, 1024, 60.0, 500.0).unwrap();
        let frames = yin.track(&noise, 160);
        let mean: f64 = frames.iter().map(|p| p.voiced_prob).sum::<f64>() / frames.len() as f64;
        assert!(mean < 0.05, "mean voiced probability of noise {mean}");
    }

    #[test]
    fn beta_prior_is_a_distribution() {
        assert!(beta_cdf(0.0, 2, 18).abs() < 1e-15);
        assert!((beta_cdf(1.0, 2, 18) - 1.0).abs() < 1e-12);
        // scipy.stats.beta.cdf(0.1, 2, 18) = 0.5796...
        assert!((beta_cdf(0.1, 2, 18) - 0.579_735_0).abs() < 1e-6);
    }

    #[test]
    fn rejects_a_frame_too_short_for_fmin() {
        assert!(Yin::new(16_000, 256, 60.0, 500.0).is_err());
        assert!(Yin::new(16_000, 1024, 60.0, 9000.0).is_err());
    }
}
