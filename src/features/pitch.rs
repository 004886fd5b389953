//! Voicing strength and fundamental frequency of a frame from its autocorrelation (the inverse
//! FFT of the power spectrum), corrected for the window as Boersma (1993) does.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// Autocorrelation pitch estimator for one window; runs its own FFT, just long enough that the
/// autocorrelation does not wrap around within the lags searched.
#[derive(Clone)]
pub struct Pitch {
    fft: Arc<dyn RealToComplex<f32>>,
    ifft: Arc<dyn ComplexToReal<f32>>,
    window: Vec<f32>,
    frame: Vec<f32>,
    power: Vec<f32>,
    spec: Vec<Complex<f32>>,
    acf: Vec<f32>,
    scratch: Vec<Complex<f32>>,
    fwd_scratch: Vec<Complex<f32>>,
    window_acf: Vec<f32>,
    min_lag: usize,
    max_lag: usize,
    sample_rate: f32,
}

/// A frame's voicing (normalised autocorrelation peak, 0..1) and F0 in Hz at that peak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PitchEstimate {
    /// Height of the highest normalised autocorrelation peak in the F0 range (1 = periodic).
    pub voicing: f32,
    /// Fundamental frequency at that peak, in Hz.
    pub f0_hz: f32,
}

impl Pitch {
    /// An estimator for frames weighted by `window`, searching F0 between `f0_min` and
    /// `f0_max` Hz.
    pub fn new(window: &[f32], sample_rate: f32, f0_min: f32, f0_max: f32) -> Self {
        let min_lag = (sample_rate / f0_max).floor() as usize;
        let max_lag = ((sample_rate / f0_min).ceil() as usize).min(window.len() / 2);
        // Lags up to max_lag + 1 are read; a 5-smooth length keeps the FFT fast (640 points for
        // a 400-sample window instead of 1024).
        let n_fft = smooth_even_length(window.len() + max_lag + 2);
        let mut planner = RealFftPlanner::<f32>::new();
        let ifft = planner.plan_fft_inverse(n_fft);
        let fwd = planner.plan_fft_forward(n_fft);
        let mut padded = fwd.make_input_vec();
        padded[..window.len()].copy_from_slice(window);
        let mut spec = fwd.make_output_vec();
        fwd.process(&mut padded, &mut spec)
            .expect("planner-made buffers");
        let mut me = Self {
            frame: fwd.make_input_vec(),
            power: vec![0.0; n_fft / 2 + 1],
            window: window.to_vec(),
            spec: ifft.make_input_vec(),
            acf: ifft.make_output_vec(),
            scratch: ifft.make_scratch_vec(),
            fwd_scratch: fwd.make_scratch_vec(),
            window_acf: Vec::new(),
            min_lag,
            max_lag,
            sample_rate,
            ifft,
            fft: fwd,
        };
        let power: Vec<f32> = spec.iter().map(|c| c.norm_sqr()).collect();
        me.window_acf = me.autocorrelation(&power).to_vec();
        me
    }

    fn autocorrelation(&mut self, power: &[f32]) -> &[f32] {
        for (s, &p) in self.spec.iter_mut().zip(power) {
            *s = Complex::new(p, 0.0);
        }
        self.ifft
            .process_with_scratch(&mut self.spec, &mut self.acf, &mut self.scratch)
            .expect("planner-made buffers");
        // Only lags up to max_lag + 1 are ever read.
        let used = &mut self.acf[..self.max_lag + 2];
        let r0 = used[0].max(1e-20);
        used.iter_mut().for_each(|v| *v /= r0);
        used
    }

    /// Estimates voicing and F0 of a frame (raw samples, as long as the window).
    pub fn estimate(&mut self, samples: &[f32]) -> PitchEstimate {
        let (min_lag, max_lag, sr) = (self.min_lag, self.max_lag, self.sample_rate);
        for ((f, &x), &w) in self.frame.iter_mut().zip(samples).zip(&self.window) {
            *f = x * w;
        }
        // The FFT uses its input as scratch space: clear the zero padding every time.
        self.frame[self.window.len()..].fill(0.0);
        self.fft
            .process_with_scratch(&mut self.frame, &mut self.spec, &mut self.fwd_scratch)
            .expect("planner-made buffers");
        for (p, c) in self.power.iter_mut().zip(&self.spec) {
            *p = c.norm_sqr();
        }
        let power = std::mem::take(&mut self.power);
        let wacf = std::mem::take(&mut self.window_acf);
        let acf = self.autocorrelation(&power);
        let mut best = PitchEstimate {
            voicing: 0.0,
            f0_hz: 0.0,
        };
        for lag in min_lag.max(1)..=max_lag {
            let r = acf[lag] / wacf[lag].max(1e-6);
            if r > best.voicing && acf[lag] >= acf[lag - 1] && acf[lag] >= acf[lag + 1] {
                best = PitchEstimate {
                    voicing: r.min(1.0),
                    f0_hz: sr / lag as f32,
                };
            }
        }
        self.window_acf = wacf;
        self.power = power;
        best
    }
}

/// The smallest even length of at least `n` whose only prime factors are 2, 3 and 5.
fn smooth_even_length(n: usize) -> usize {
    let smooth = |mut m: usize| {
        for p in [2, 3, 5] {
            while m % p == 0 {
                m /= p;
            }
        }
        m == 1
    };
    (n.max(2)..)
        .find(|&m| m % 2 == 0 && smooth(m))
        .expect("5-smooth numbers are unbounded")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::stft::hann;

    #[test]
    fn finds_f0_of_a_harmonic_tone() {
        let mut p = Pitch::new(&hann(400), 16_000.0, 60.0, 400.0);
        for f0 in [100.0f32, 160.0, 250.0] {
            let x: Vec<f32> = (0..400)
                .map(|i| {
                    (1..6)
                        .map(|h| {
                            (2.0 * std::f32::consts::PI * f0 * h as f32 * i as f32 / 16_000.0).sin()
                                / h as f32
                        })
                        .sum()
                })
                .collect();
            let est = p.estimate(&x);
            assert!((est.f0_hz - f0).abs() / f0 < 0.03, "{f0}: {est:?}");
            assert!(est.voicing > 0.8, "{f0}: {est:?}");
        }
    }

    #[test]
    fn an_estimate_does_not_depend_on_the_frames_before_it() {
        let x = crate::test_signal::noise(400, 2);
        let tone: Vec<f32> = (0..400).map(|i| (i as f32 * 0.07).sin()).collect();
        let mut fresh = Pitch::new(&hann(400), 16_000.0, 60.0, 400.0);
        let want = fresh.estimate(&tone);
        let mut used = Pitch::new(&hann(400), 16_000.0, 60.0, 400.0);
        used.estimate(&x);
        used.estimate(&x);
        assert_eq!(used.estimate(&tone), want);
    }

    #[test]
    fn fft_length_is_smooth_and_long_enough() {
        assert_eq!(smooth_even_length(602), 640);
        assert_eq!(smooth_even_length(1), 2);
        assert_eq!(smooth_even_length(1000), 1000);
        assert_eq!(smooth_even_length(1001), 1024);
    }

    #[test]
    fn noise_is_weakly_voiced_and_silence_is_finite() {
        let mut p = Pitch::new(&hann(400), 16_000.0, 60.0, 400.0);
        let x = crate::test_signal::noise(400, 1);
        assert!(p.estimate(&x).voicing < 0.5);
        let silent = p.estimate(&[0.0; 400]);
        assert!(silent.voicing.is_finite() && silent.f0_hz.is_finite());
    }
}
