//! Training-time degradations applied to both classes, so the classifier cannot use channel
//! properties (bandwidth, codec) as a shortcut: a telephone copy of each clip is resampled to
//! 8 kHz, band-limited to the telephone band, companded with G.711 μ-law and brought back to the
//! analysis rate.

use realfft::RealFftPlanner;
use realfft::num_complex::Complex;

use crate::error::Result;
use crate::resample::StreamResampler;

/// μ-law constant of G.711.
const MU: f32 = 255.0;
/// Lower edge of the telephone band, Hz.
const PHONE_LOW_HZ: f32 = 300.0;
/// Range of the upper edge, Hz: channels and low-rate codecs cut anywhere from about 3 kHz to
/// the 3.4 kHz of the G.711 mask and a little above.
const PHONE_HIGH_HZ: (f32, f32) = (3_000.0, 3_800.0);

/// Passes `samples` (at `rate` Hz) through an 8 kHz μ-law telephone channel and back. The band's
/// upper edge is drawn from `PHONE_HIGH_HZ` by `seed`, so copies differ in bandwidth but the
/// same seed always gives the same copy.
pub fn telephone(samples: &[f32], rate: u32, seed: u64) -> Result<Vec<f32>> {
    let mut narrow = resample(samples, rate, 8_000)?;
    let (lo, hi) = PHONE_HIGH_HZ;
    let high = lo + (hi - lo) * (seed % 1001) as f32 / 1000.0;
    band_pass(&mut narrow, 8_000, PHONE_LOW_HZ, high);
    let companded: Vec<f32> = narrow.iter().map(|&x| mulaw_roundtrip(x)).collect();
    resample(&companded, 8_000, rate)
}

/// Removes everything outside `low..high` Hz from the whole signal at once (training clips are
/// short), with 100 Hz raised-cosine edges.
pub fn band_pass(samples: &mut [f32], rate: u32, low: f32, high: f32) {
    let n = samples.len();
    if n < 2 {
        return;
    }
    let mut planner = RealFftPlanner::<f32>::new();
    let (fft, ifft) = (planner.plan_fft_forward(n), planner.plan_fft_inverse(n));
    let mut spectrum = fft.make_output_vec();
    fft.process(samples, &mut spectrum)
        .expect("buffers sized for the plan");
    const EDGE_HZ: f32 = 100.0;
    let gain = |f: f32| {
        let ramp = |x: f32| 0.5 - 0.5 * (std::f32::consts::PI * x.clamp(0.0, 1.0)).cos();
        ramp((f - (low - EDGE_HZ / 2.0)) / EDGE_HZ) * ramp(((high + EDGE_HZ / 2.0) - f) / EDGE_HZ)
    };
    for (k, c) in spectrum.iter_mut().enumerate() {
        *c *= gain(k as f32 * rate as f32 / n as f32) / n as f32;
    }
    // The inverse of a real signal's spectrum needs real DC and Nyquist bins.
    spectrum[0] = Complex::new(spectrum[0].re, 0.0);
    if n % 2 == 0 {
        let last = spectrum.len() - 1;
        spectrum[last] = Complex::new(spectrum[last].re, 0.0);
    }
    ifft.process(&mut spectrum, samples)
        .expect("buffers sized for the plan");
}

fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>> {
    let mut r = StreamResampler::new(from, to)?;
    let mut out = Vec::with_capacity(samples.len() * to as usize / from as usize + 1);
    r.push(samples, &mut out);
    r.finish(&mut out);
    Ok(out)
}

/// Encodes to 8-bit μ-law and decodes again (the continuous μ-law curve, 256 levels).
pub fn mulaw_roundtrip(x: f32) -> f32 {
    let x = x.clamp(-1.0, 1.0);
    let y = x.signum() * (1.0 + MU * x.abs()).ln() / (1.0 + MU).ln();
    let q = ((y * 127.5).round() / 127.5).clamp(-1.0, 1.0);
    q.signum() * ((1.0 + MU).powf(q.abs()) - 1.0) / MU
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_pass_keeps_the_band_and_removes_the_rest() {
        let rms = |v: &[f32]| (v.iter().map(|x| x * x).sum::<f32>() / v.len() as f32).sqrt();
        for (hz, keep) in [
            (150.0f32, false),
            (1_000.0, true),
            (3_000.0, true),
            (3_700.0, false),
        ] {
            let mut x: Vec<f32> = (0..8_000)
                .map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / 8_000.0).sin())
                .collect();
            band_pass(&mut x, 8_000, 300.0, 3_400.0);
            let level = rms(&x[500..7500]) * std::f32::consts::SQRT_2;
            if keep {
                assert!((level - 1.0).abs() < 0.01, "{hz} Hz: {level}");
            } else {
                assert!(level < 0.01, "{hz} Hz: {level}");
            }
        }
    }

    #[test]
    fn mulaw_error_is_relative() {
        // Companding keeps roughly constant relative error: ~3% at any level above the floor.
        for x in [0.9f32, 0.3, 0.05, -0.01] {
            let y = mulaw_roundtrip(x);
            assert!((y - x).abs() / x.abs() < 0.05, "{x} -> {y}");
        }
        assert_eq!(mulaw_roundtrip(0.0), 0.0);
    }

    #[test]
    fn telephone_removes_the_upper_band() {
        // A 6 kHz tone disappears; a 1 kHz tone survives; the length is kept.
        let tone = |hz: f32| -> Vec<f32> {
            (0..16_000)
                .map(|i| 0.5 * (2.0 * std::f32::consts::PI * hz * i as f32 / 16_000.0).sin())
                .collect()
        };
        let rms = |v: &[f32]| (v.iter().map(|x| x * x).sum::<f32>() / v.len() as f32).sqrt();
        let high = telephone(&tone(6_000.0), 16_000, 7).unwrap();
        let low = telephone(&tone(1_000.0), 16_000, 7).unwrap();
        assert_eq!(high.len(), 16_000);
        assert!(rms(&high[1000..15000]) < 0.01, "{}", rms(&high));
        assert!((rms(&low[1000..15000]) - 0.3535).abs() < 0.02);
    }
}
