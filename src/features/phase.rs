//! Phase coherence over time: how erratically each bin's instantaneous frequency moves between
//! frames. Sustained partials of natural voiced speech keep a steady instantaneous frequency;
//! waveforms rebuilt from magnitudes (Griffin-Lim, some vocoders) carry less coherent phase.

use std::f32::consts::PI;

use realfft::num_complex::Complex;

/// Tracks phase across frames and scores each frame's instantaneous-frequency instability.
pub struct PhaseTracker {
    expected_advance: Vec<f32>,
    prev_phase: Vec<f32>,
    prev_dev: Vec<f32>,
    frames_seen: usize,
}

/// Wraps an angle into `(-π, π]`.
fn princarg(x: f32) -> f32 {
    x - 2.0 * PI * ((x + PI) / (2.0 * PI)).floor()
}

impl PhaseTracker {
    /// A tracker for bins `0..n_bins` of an `n_fft`-point STFT with `hop` samples between frames.
    pub fn new(n_bins: usize, n_fft: usize, hop: usize) -> Self {
        Self {
            expected_advance: (0..n_bins)
                .map(|k| princarg(2.0 * PI * k as f32 * hop as f32 / n_fft as f32))
                .collect(),
            prev_phase: vec![0.0; n_bins],
            prev_dev: vec![0.0; n_bins],
            frames_seen: 0,
        }
    }

    /// Power-weighted mean of `|Δ instantaneous-frequency deviation| / π` over the bins within
    /// 30 dB of the frame's strongest bin: 0 for steady partials, about 0.5 for random phase.
    /// The first two frames of a stream score 0.
    pub fn update(&mut self, spectrum: &[Complex<f32>], power: &[f32]) -> f32 {
        let n = self.expected_advance.len().min(spectrum.len());
        let floor = power[..n].iter().copied().fold(0.0f32, f32::max) * 1e-3;
        let (mut num, mut den) = (0.0f32, 0.0f32);
        for k in 1..n {
            let phase = spectrum[k].arg();
            let dev = princarg(phase - self.prev_phase[k] - self.expected_advance[k]);
            if self.frames_seen >= 2 && power[k] > floor && floor > 0.0 {
                num += power[k] * princarg(dev - self.prev_dev[k]).abs() / PI;
                den += power[k];
            }
            self.prev_phase[k] = phase;
            self.prev_dev[k] = dev;
        }
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
    fn princarg_wraps() {
        assert!((princarg(3.0 * PI) - PI).abs() < 1e-5 || (princarg(3.0 * PI) + PI).abs() < 1e-5);
        assert!((princarg(0.5) - 0.5).abs() < 1e-6);
    }
}
