//! Training-time degradations applied to both classes, so the classifier cannot use channel
//! properties (bandwidth, codec) as a shortcut: a telephone copy of each clip is resampled to
//! 8 kHz, companded with G.711 μ-law and brought back to the analysis rate.

use crate::error::Result;
use crate::resample::StreamResampler;

/// μ-law constant of G.711.
const MU: f32 = 255.0;

/// Passes `samples` (at `rate` Hz) through an 8 kHz μ-law telephone channel and back.
pub fn telephone(samples: &[f32], rate: u32) -> Result<Vec<f32>> {
    let narrow = resample(samples, rate, 8_000)?;
    let companded: Vec<f32> = narrow.iter().map(|&x| mulaw_roundtrip(x)).collect();
    resample(&companded, 8_000, rate)
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
        let high = telephone(&tone(6_000.0), 16_000).unwrap();
        let low = telephone(&tone(1_000.0), 16_000).unwrap();
        assert_eq!(high.len(), 16_000);
        assert!(rms(&high[1000..15000]) < 0.01, "{}", rms(&high));
        assert!((rms(&low[1000..15000]) - 0.3535).abs() < 0.02);
    }
}
