//! A simulated low-bit-rate perceptual coder for training copies: what MP3, AAC or Vorbis at low
//! rates do to speech (band limit, spectral holes, coarse magnitudes), without a codec library.

use rand::RngExt;
use rand_pcg::Pcg64;
use realfft::RealFftPlanner;
use realfft::num_complex::Complex;

/// Range of the simulated coder's low-pass cut-off, Hz: low-bit-rate MP3, AAC and Vorbis keep
/// 5 to 7.5 kHz of 16 kHz speech (narrower cuts are the telephone channel's job).
const CODEC_CUTOFF_HZ: (f32, f32) = (5_000.0, 7_500.0);
/// Range of the depth below a frame's strongest component beyond which components are dropped,
/// dB (3.5-7.5 kHz and 20-45 dB, tried first, cost 2.7 points on held-out generators).
const CODEC_DEPTH_DB: (f32, f32) = (30.0, 50.0);
/// Range of the quantiser step of the kept magnitudes, dB.
const CODEC_STEP_DB: (f32, f32) = (1.0, 6.0);
/// Frame length of the simulated coder (32 ms at 16 kHz); frames overlap by half.
const CODEC_FRAME: usize = 512;

/// A crude perceptual coder, to train on what low-bit-rate codecs do to speech without a codec
/// library: short-time spectra (square-root Hann, half overlap, perfect reconstruction) are
/// low-passed, components too far below the frame's strongest are dropped (the spectral holes
/// of a coder that spends no bits on them) and the kept magnitudes are quantised; phases stay.
pub struct LossyCoder {
    /// Everything above this is removed, Hz.
    pub cutoff_hz: f32,
    /// Components more than this below the frame's strongest are removed, dB.
    pub depth_db: f32,
    /// Quantiser step of the kept magnitudes, dB.
    pub step_db: f32,
}

impl LossyCoder {
    /// A coder with cut-off, depth and step drawn uniformly from their ranges.
    pub fn draw(rng: &mut Pcg64) -> Self {
        Self {
            cutoff_hz: rng.random_range(CODEC_CUTOFF_HZ.0..CODEC_CUTOFF_HZ.1),
            depth_db: rng.random_range(CODEC_DEPTH_DB.0..CODEC_DEPTH_DB.1),
            step_db: rng.random_range(CODEC_STEP_DB.0..CODEC_STEP_DB.1),
        }
    }

    /// `samples` (at `rate` Hz) coded and decoded; same length.
    pub fn apply(&self, samples: &[f32], rate: u32) -> Vec<f32> {
        let (frame, hop) = (CODEC_FRAME, CODEC_FRAME / 2);
        let window: Vec<f32> = (0..frame)
            .map(|i| (std::f32::consts::PI * i as f32 / frame as f32).sin())
            .collect();
        // A half frame of zeros on both sides, so every sample lies under two frames.
        let mut padded = vec![0.0; hop];
        padded.extend_from_slice(samples);
        padded.resize(hop + samples.len() + frame, 0.0);
        let mut out = vec![0.0; padded.len()];
        let mut planner = RealFftPlanner::<f32>::new();
        let (fft, ifft) = (
            planner.plan_fft_forward(frame),
            planner.plan_fft_inverse(frame),
        );
        let (mut buf, mut spectrum) = (vec![0.0; frame], fft.make_output_vec());
        let last_bin = (self.cutoff_hz * frame as f32 / rate as f32) as usize;
        for start in (0..=padded.len() - frame).step_by(hop) {
            for ((b, x), w) in buf.iter_mut().zip(&padded[start..]).zip(&window) {
                *b = x * w;
            }
            fft.process(&mut buf, &mut spectrum)
                .expect("buffers sized for the plan");
            let strongest = spectrum.iter().map(|c| c.norm_sqr()).fold(0.0, f32::max);
            let floor = strongest * 10f32.powf(-self.depth_db / 10.0);
            for (k, c) in spectrum.iter_mut().enumerate() {
                let power = c.norm_sqr();
                if k > last_bin || power <= floor {
                    *c = Complex::new(0.0, 0.0);
                } else {
                    let db = 10.0 * power.log10();
                    let quantised = (db / self.step_db).round() * self.step_db;
                    *c *= 10f32.powf((quantised - db) / 20.0);
                }
            }
            spectrum[0].im = 0.0;
            spectrum[frame / 2].im = 0.0;
            ifft.process(&mut spectrum, &mut buf)
                .expect("buffers sized for the plan");
            for ((o, b), w) in out[start..].iter_mut().zip(&buf).zip(&window) {
                *o += b * w / frame as f32;
            }
        }
        out.drain(..hop);
        out.truncate(samples.len());
        out.iter_mut().for_each(|v| *v = v.clamp(-1.0, 1.0));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_coder_reconstructs_when_lossless_and_removes_what_it_should() {
        let rate = 16_000;
        let tone = |hz: f32, amp: f32| -> Vec<f32> {
            (0..16_000)
                .map(|i| amp * (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin())
                .collect()
        };
        let mix =
            |a: &[f32], b: &[f32]| -> Vec<f32> { a.iter().zip(b).map(|(x, y)| x + y).collect() };
        let (low, high, faint) = (tone(1_000.0, 0.5), tone(6_000.0, 0.5), tone(2_000.0, 0.005));
        // Amplitude of the `hz` sine in the middle of `y` (projection).
        let amplitude = |y: &[f32], hz: f32| {
            let s = tone(hz, 1.0);
            2.0 * (1000..15000).map(|i| y[i] * s[i]).sum::<f32>() / 14_000.0
        };
        // With nothing dropped and a fine quantiser the coder gives its input back.
        let lossless = LossyCoder {
            cutoff_hz: 8_000.0,
            depth_db: 300.0,
            step_db: 1e-3,
        };
        let x = mix(&mix(&low, &high), &faint);
        let y = lossless.apply(&x, rate);
        assert_eq!(y.len(), x.len());
        let err = x
            .iter()
            .zip(&y)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-3, "max error {err}");
        // A 4 kHz cut-off removes the 6 kHz tone and keeps the 1 kHz one (within the quantiser's
        // step); a component 40 dB below the strongest falls under a 30 dB depth, not a 50 dB one.
        let coded = |depth_db: f32| {
            let coder = LossyCoder {
                cutoff_hz: 4_000.0,
                depth_db,
                step_db: 3.0,
            };
            coder.apply(&x, rate)
        };
        let (shallow, deep) = (coded(30.0), coded(50.0));
        assert!((amplitude(&shallow, 1_000.0) - 0.5).abs() < 0.1);
        assert!(amplitude(&shallow, 6_000.0).abs() < 0.005);
        assert!(amplitude(&shallow, 2_000.0).abs() < 0.001);
        assert!((amplitude(&deep, 2_000.0) - 0.005).abs() < 0.002);
    }
}
