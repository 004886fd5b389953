//! Phase coherence over time: how erratically each bin's instantaneous frequency moves between
//! frames. Sustained partials of natural voiced speech keep a steady instantaneous frequency;
//! waveforms rebuilt from magnitudes (Griffin-Lim, some vocoders) carry less coherent phase.

use std::f32::consts::PI;

use realfft::num_complex::Complex;

use super::fastmath::atan2;

/// Scores a frame's instantaneous-frequency instability from its spectrum and the two before it.
///
/// The deviation of bin `k` from its expected phase advance is `arg(X_t[k] conj(X_{t-1}[k])
/// e^{-i ω_k hop})`; the instability is how much that deviation changes from one frame to the
/// next. Being a function of three consecutive spectra only, it gives the same value whichever
/// block of frames it is computed in.
#[derive(Clone)]
pub struct PhaseTracker {
    rotation: Vec<Complex<f32>>,
    prev_spectrum: Vec<Complex<f32>>,
    prev_dev: Vec<f32>,
    dev: Vec<f32>,
    frames_seen: usize,
}

impl PhaseTracker {
    /// A tracker for bins `0..n_bins` of an `n_fft`-point STFT with `hop` samples between frames.
    pub fn new(n_bins: usize, n_fft: usize, hop: usize) -> Self {
        Self {
            rotation: (0..n_bins)
                .map(|k| {
                    let advance = 2.0 * std::f64::consts::PI * (k * hop) as f64 / n_fft as f64;
                    Complex::new(advance.cos() as f32, -advance.sin() as f32)
                })
                .collect(),
            prev_spectrum: vec![Complex::new(0.0, 0.0); n_bins],
            prev_dev: vec![0.0; n_bins],
            dev: vec![0.0; n_bins],
            frames_seen: 0,
        }
    }

    /// Power-weighted mean of `|Δ instantaneous-frequency deviation| / π` over the bins within
    /// 30 dB of the frame's strongest bin: 0 for steady partials, about 0.5 for random phase.
    /// The first two frames a tracker sees score 0.
    pub fn update(&mut self, spectrum: &[Complex<f32>], power: &[f32]) -> f32 {
        let n = self.rotation.len().min(spectrum.len());
        let floor = power[..n].iter().copied().fold(0.0f32, f32::max) * 1e-3;
        let scoring = self.frames_seen >= 2 && floor > 0.0;
        // Bin 0 (DC) has no phase to follow.
        let bins = 1..n;
        for (((dev, x), prev), rot) in self.dev[bins.clone()]
            .iter_mut()
            .zip(&spectrum[bins.clone()])
            .zip(&self.prev_spectrum[bins.clone()])
            .zip(&self.rotation[bins.clone()])
        {
            let z = x * prev.conj() * rot;
            *dev = atan2(z.im, z.re);
        }
        let (mut num, mut den) = (0.0f32, 0.0f32);
        if scoring {
            for ((dev, prev_dev), &p) in self.dev[bins.clone()]
                .iter()
                .zip(&self.prev_dev[bins.clone()])
                .zip(&power[bins])
            {
                let change = (dev - prev_dev).abs();
                let w = if p > floor { p } else { 0.0 };
                num += w * change.min(2.0 * PI - change);
                den += w;
            }
            num /= PI;
        }
        self.prev_spectrum[..n].copy_from_slice(&spectrum[..n]);
        std::mem::swap(&mut self.dev, &mut self.prev_dev);
        self.frames_seen += 1;
        if den > 0.0 { num / den } else { 0.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::stft::{Stft, StftConfig};

    fn instability(x: &[f32]) -> f32 {
        let cfg = StftConfig {
            n_fft: 512,
            win_len: 400,
            hop: 160,
        };
        let mut stft = Stft::new(cfg).unwrap();
        let mut tracker = PhaseTracker::new(257, 512, 160);
        let mut values = Vec::new();
        stft.push(x, |f| values.push(tracker.update(f.spectrum, f.power)));
        values[2..].iter().sum::<f32>() / (values.len() - 2) as f32
    }

    #[test]
    fn steady_tone_is_stable_and_noise_is_not() {
        let tone: Vec<f32> = (0..16_000)
            .map(|i| (2.0 * PI * 440.0 * i as f32 / 16_000.0).sin())
            .collect();
        let noise = crate::test_signal::noise(16_000, 9);
        let (t, n) = (instability(&tone), instability(&noise));
        assert!(t < 0.05, "tone {t}");
        assert!(n > 0.3, "noise {n}");
    }

    #[test]
    fn the_value_depends_only_on_the_last_three_frames() {
        let x = crate::test_signal::noise(16_000, 4);
        let cfg = StftConfig {
            n_fft: 512,
            win_len: 400,
            hop: 160,
        };
        let mut spectra = Vec::new();
        let mut powers = Vec::new();
        Stft::new(cfg).unwrap().push(&x, |f| {
            spectra.push(f.spectrum.to_vec());
            powers.push(f.power.to_vec());
        });
        let mut whole = PhaseTracker::new(257, 512, 160);
        let all: Vec<f32> = (0..spectra.len())
            .map(|t| whole.update(&spectra[t], &powers[t]))
            .collect();
        let mut part = PhaseTracker::new(257, 512, 160);
        for t in 40..43 {
            let v = part.update(&spectra[t], &powers[t]);
            if t == 42 {
                assert_eq!(v.to_bits(), all[42].to_bits());
            }
        }
    }
}
