//! Phase structure across the harmonics of a voiced frame, a group-delay feature.
//!
//! A glottal pulse train gives harmonics whose phases change smoothly with harmonic number, so
//! the second difference `φ[h+1] - 2φ[h] + φ[h-1]` stays near a constant from one harmonic to
//! the next. Waveforms rebuilt from magnitudes or with a synthetic excitation scatter it. The
//! second difference cancels the frame's time offset (linear phase) and any constant phase, so
//! the feature does not depend on where the frame falls on the pulse train.

use realfft::num_complex::Complex;

/// Measures how coherent the second phase difference across harmonics is within a band.
#[derive(Clone)]
pub struct HarmonicPhase {
    /// Per-bin rotation that refers each bin's phase to the centre of the window.
    centre: Vec<Complex<f32>>,
    bin_hz: f32,
    lo_hz: f32,
    hi_hz: f32,
}

impl HarmonicPhase {
    /// For an `n_fft`-point spectrum of `win_len`-sample frames at `sample_rate`, using the
    /// harmonics between `lo_hz` and `hi_hz` (the telephone band keeps them all measurable).
    pub fn new(n_fft: usize, win_len: usize, sample_rate: f32, lo_hz: f32, hi_hz: f32) -> Self {
        let c = win_len as f64 / 2.0;
        let centre = (0..n_fft / 2 + 1)
            .map(|k| {
                let a = 2.0 * std::f64::consts::PI * k as f64 * c / n_fft as f64;
                Complex::new(a.cos() as f32, a.sin() as f32)
            })
            .collect();
        Self {
            centre,
            bin_hz: sample_rate / n_fft as f32,
            lo_hz,
            hi_hz,
        }
    }

    /// Squared resultant length of `e^{i(φ[h+1] - 2φ[h] + φ[h-1])}` over the harmonics of
    /// `f0_hz` in the band, debiased so random phases give 0 on average and identical second
    /// differences give 1. Harmonics more than 30 dB below the frame's strongest bin are skipped;
    /// fewer than two usable triplets give 0.
    pub fn coherence(&self, spectrum: &[Complex<f32>], power: &[f32], f0_hz: f32) -> f32 {
        let n = spectrum.len().min(self.centre.len());
        if f0_hz.is_nan() || f0_hz < 2.0 * self.bin_hz || n < 3 {
            return 0.0;
        }
        let floor = power[..n].iter().copied().fold(0.0f32, f32::max) * 1e-3;
        let first = (self.lo_hz / f0_hz).ceil().max(1.0) as usize;
        let last = (self.hi_hz / f0_hz).floor() as usize;
        let peak = |h: usize| -> Option<Complex<f32>> {
            let k = (h as f32 * f0_hz / self.bin_hz).round() as usize;
            let k = (k.saturating_sub(1)..=(k + 1).min(n - 1))
                .max_by(|&a, &b| power[a].total_cmp(&power[b]))?;
            (power[k] > floor).then(|| {
                let z = spectrum[k] * self.centre[k];
                z / z.norm()
            })
        };
        let harmonics: Vec<Option<Complex<f32>>> = (first..=last).map(peak).collect();
        let (mut sum, mut count) = (Complex::new(0.0f32, 0.0), 0usize);
        for w in harmonics.windows(3) {
            if let [Some(a), Some(b), Some(c)] = w {
                sum += a * c * (b.conj() * b.conj());
                count += 1;
            }
        }
        if count < 2 {
            return 0.0;
        }
        let n = count as f32;
        (sum.norm_sqr() - n) / (n * (n - 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::stft::{FrameTransform, StftConfig};
    use rand::{RngExt, SeedableRng};
    use rand_pcg::Pcg64;

    const SR: f32 = 16_000.0;

    fn coherence_of(x: &[f32], f0: f32) -> f32 {
        let cfg = StftConfig {
            n_fft: 512,
            win_len: 400,
            hop: 160,
        };
        let mut t = FrameTransform::new(cfg).unwrap();
        let hp = HarmonicPhase::new(512, 400, SR, 300.0, 3400.0);
        let f = t.frame(&x[..400]);
        hp.coherence(f.spectrum, f.power, f0)
    }

    /// A harmonic signal at `f0` whose harmonic `h` has phase `phase(h)`.
    fn harmonic(f0: f32, offset: usize, phase: impl Fn(usize) -> f32) -> Vec<f32> {
        let n_h = (7_000.0 / f0) as usize;
        (0..400)
            .map(|i| {
                let t = (i + offset) as f32 / SR;
                (1..=n_h)
                    .map(|h| (2.0 * std::f32::consts::PI * h as f32 * f0 * t + phase(h)).cos())
                    .sum()
            })
            .collect()
    }

    #[test]
    fn pulse_train_is_coherent_wherever_the_frame_falls() {
        for offset in [0, 13, 57] {
            let c = coherence_of(&harmonic(200.0, offset, |_| 0.0), 200.0);
            assert!(c > 0.9, "offset {offset}: {c}");
        }
    }

    #[test]
    fn random_phases_are_not() {
        let mut rng = Pcg64::seed_from_u64(12345);
        let phases: Vec<f32> = (0..40)
            .map(|_| rng.random_range(0.0..std::f32::consts::TAU))
            .collect();
        let c = coherence_of(&harmonic(200.0, 0, |h| phases[h]), 200.0);
        assert!(c < 0.3, "{c}");
    }

    #[test]
    fn silence_and_unusable_pitch_give_zero() {
        assert_eq!(coherence_of(&[0.0; 400], 200.0), 0.0);
        assert_eq!(coherence_of(&harmonic(200.0, 0, |_| 0.0), 0.0), 0.0);
    }
}
