//! Training-time degradations applied to both classes, so the classifier cannot use channel
//! properties (bandwidth, codec, noise, level, length) as a shortcut: a telephone copy of each
//! clip is resampled to 8 kHz, band-limited to the telephone band, companded with G.711 μ-law and
//! brought back to the analysis rate; a degraded copy is cropped, rescaled and buried in coloured
//! noise, half the time sent through a telephone channel as well (that μ-law one or the GSM 06.10
//! codec of mobile calls, in equal shares) and, independently, half the time through a simulated
//! low-bit-rate perceptual coder. [`mp3_copy`] makes the evaluation-only MP3 copy,
//! [`stored_16bit`] the evaluation-only calls stored as 16-bit files.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;
use realfft::RealFftPlanner;
use realfft::num_complex::Complex;

use crate::error::Result;
use crate::resample::StreamResampler;

mod codec;
mod mp3;
pub use codec::LossyCoder;
use mp3::roundtrip as mp3_roundtrip;

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
    let (lo, hi) = PHONE_HIGH_HZ;
    let high = lo + (hi - lo) * (seed % 1001) as f32 / 1000.0;
    at_rate(samples, rate, 8_000, |mut narrow| {
        band_pass(&mut narrow, 8_000, PHONE_LOW_HZ, high);
        narrow.iter().map(|&x| mulaw_roundtrip(x)).collect()
    })
}

/// Passes `samples` (at `rate` Hz) through the GSM 06.10 full-rate codec at 8 kHz (libgsm's
/// encoder and decoder) and back: the codec itself, not a simulation of it.
pub fn gsm_channel(samples: &[f32], rate: u32) -> Result<Vec<f32>> {
    at_rate(samples, rate, 8_000, |narrow| {
        crate::decode::gsm_roundtrip(&narrow)
    })
}

/// Passes `samples` (at `rate` Hz) through MP3 at `coded_rate` Hz (an MPEG Layer III rate) and
/// about `kbps` kbit/s, and back.
pub fn mp3_copy(samples: &[f32], rate: u32, coded_rate: u32, kbps: u32) -> Result<Vec<f32>> {
    at_rate(samples, rate, coded_rate, |coded| {
        mp3_roundtrip(&coded, coded_rate, kbps)
    })
}

/// `samples` scaled by `gain_db` and rounded to 16-bit steps (clipped at full scale), as a
/// recorder stores a call it received: the rounding leaves white quantisation noise about 101
/// dB below full scale, which fills the band a channel emptied.
pub fn stored_16bit(samples: &[f32], gain_db: f32) -> Vec<f32> {
    let scale = 10f32.powf(gain_db / 20.0) * 32_768.0;
    samples
        .iter()
        .map(|&x| (x * scale).round().clamp(-32_768.0, 32_767.0) / 32_768.0)
        .collect()
}

/// Resamples `samples` from `rate` to `channel_rate` Hz, passes them through `channel` there and
/// brings its output back to `rate`: the shape of every telephone and codec copy.
fn at_rate(
    samples: &[f32],
    rate: u32,
    channel_rate: u32,
    channel: impl FnOnce(Vec<f32>) -> Vec<f32>,
) -> Result<Vec<f32>> {
    resample(
        &channel(resample(samples, rate, channel_rate)?),
        channel_rate,
        rate,
    )
}

/// Removes everything outside `low..high` Hz from the whole signal at once (training clips are
/// short), with 100 Hz raised-cosine edges.
pub fn band_pass(samples: &mut [f32], rate: u32, low: f32, high: f32) {
    let n = samples.len();
    if n < 2 {
        return;
    }
    const EDGE_HZ: f32 = 100.0;
    let ramp = |x: f32| 0.5 - 0.5 * (std::f32::consts::PI * x.clamp(0.0, 1.0)).cos();
    shape_spectrum(samples, rate, |f| {
        ramp((f - (low - EDGE_HZ / 2.0)) / EDGE_HZ) * ramp(((high + EDGE_HZ / 2.0) - f) / EDGE_HZ)
    });
}

/// Multiplies the spectrum of the whole of `samples` (at least 2) by `gain(frequency in Hz)`.
fn shape_spectrum(samples: &mut [f32], rate: u32, gain: impl Fn(f32) -> f32) {
    let n = samples.len();
    let mut planner = RealFftPlanner::<f32>::new();
    let (fft, ifft) = (planner.plan_fft_forward(n), planner.plan_fft_inverse(n));
    let mut spectrum = fft.make_output_vec();
    fft.process(samples, &mut spectrum)
        .expect("buffers sized for the plan");
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

/// Range of the signal-to-noise ratio of the degraded copy, dB.
const SNR_DB: (f32, f32) = (10.0, 30.0);
/// Range of the gain of the degraded copy, dB (loud copies clip at full scale).
const GAIN_DB: (f32, f32) = (-20.0, 6.0);
/// The degraded copy keeps at least this fraction of the clip, and at least `MIN_CROP_S`.
const MIN_CROP_FRACTION: f64 = 0.6;
const MIN_CROP_S: f64 = 3.0;

/// A degraded copy of `samples` (at `rate` Hz), all choices drawn from `seed`: a random crop
/// (60-100 % of the clip, at least 3 s), a gain of -20 to +6 dB with clipping at full scale,
/// noise with a power spectrum falling as `1/f^α` (α from 0, white, to 2, brown) at 10-30 dB
/// below the speech level, with probability 1/2 a telephone channel ([`gsm_channel`] or
/// [`telephone`], equally likely) and, independently with probability 1/2, a [`LossyCoder`] with
/// cut-off, depth and step drawn from their ranges.
pub fn degrade(samples: &[f32], rate: u32, seed: u64) -> Result<Vec<f32>> {
    let mut rng = Pcg64::seed_from_u64(seed);
    let n = samples.len();
    let min_len = ((n as f64 * MIN_CROP_FRACTION) as usize)
        .max((MIN_CROP_S * rate as f64) as usize)
        .min(n);
    let len = rng.random_range(min_len..=n);
    let start = rng.random_range(0..=n - len);
    let mut x = samples[start..start + len].to_vec();
    let snr_db = rng.random_range(SNR_DB.0..SNR_DB.1);
    let alpha = rng.random_range(0.0f32..2.0);
    add_noise(
        &mut x,
        rate,
        &coloured_noise(len, rate, alpha, &mut rng),
        snr_db,
    );
    let gain = 10f32.powf(rng.random_range(GAIN_DB.0..GAIN_DB.1) / 20.0);
    x.iter_mut().for_each(|v| *v = (*v * gain).clamp(-1.0, 1.0));
    if rng.random::<bool>() {
        x = if rng.random::<bool>() {
            gsm_channel(&x, rate)?
        } else {
            telephone(&x, rate, rng.random())?
        };
    }
    if rng.random::<bool>() {
        x = LossyCoder::draw(&mut rng).apply(&x, rate);
    }
    Ok(x)
}

/// `samples` with coloured noise (spectrum `1/f^α`, α in 0..2) at 10-30 dB below the speech
/// level, drawn from `seed`: the noisy test copy of a clip, without crop, gain or channel.
pub fn add_test_noise(samples: &[f32], rate: u32, seed: u64) -> Vec<f32> {
    let mut rng = Pcg64::seed_from_u64(seed);
    let snr_db = rng.random_range(SNR_DB.0..SNR_DB.1);
    let alpha = rng.random_range(0.0f32..2.0);
    let noise = coloured_noise(samples.len(), rate, alpha, &mut rng);
    let mut x = samples.to_vec();
    add_noise(&mut x, rate, &noise, snr_db);
    x
}

/// Adds `noise` scaled to `snr_db` below the speech level of `x`.
fn add_noise(x: &mut [f32], rate: u32, noise: &[f32], snr_db: f32) {
    let target = speech_power(x, rate) / 10f32.powf(snr_db / 10.0);
    let scale = (target / mean_power(noise).max(1e-30)).sqrt();
    x.iter_mut().zip(noise).for_each(|(v, e)| *v += scale * e);
}

fn mean_power(x: &[f32]) -> f32 {
    x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32
}

/// Mean power of the louder half of the 20 ms frames: the speech level, which pauses and padding
/// do not dilute.
fn speech_power(x: &[f32], rate: u32) -> f32 {
    let frame = (rate as usize / 50).max(1);
    let mut powers: Vec<f32> = x.chunks(frame).map(mean_power).collect();
    powers.sort_by(f32::total_cmp);
    let loud = &powers[powers.len() / 2..];
    loud.iter().sum::<f32>() / loud.len().max(1) as f32
}

/// Gaussian-free coloured noise: uniform white noise shaped in the frequency domain so its power
/// falls as `1/f^alpha` above 50 Hz (flat below).
fn coloured_noise(n: usize, rate: u32, alpha: f32, rng: &mut Pcg64) -> Vec<f32> {
    let mut x: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    if n < 2 {
        return x;
    }
    // No DC; flat below 50 Hz.
    shape_spectrum(&mut x, rate, |hz| {
        if hz == 0.0 {
            0.0
        } else {
            hz.max(50.0).powf(-alpha / 2.0)
        }
    });
    x
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
    fn stored_16bit_rounds_to_16_bit_steps_after_the_gain() {
        let x = [0.5f32, -0.25, 1.0e-6, 0.99, -1.0];
        let stored = stored_16bit(&x, 0.0);
        assert_eq!(stored[..3], [0.5, -0.25, 0.0]);
        assert!(stored.iter().all(|v| (v * 32_768.0).fract() == 0.0));
        // 20 dB down a tenth of the amplitude, and a full-scale sample 6 dB up clips.
        let quiet = stored_16bit(&x, -20.0);
        assert!((quiet[0] - 0.05).abs() <= 0.5 / 32_768.0, "{quiet:?}");
        assert_eq!(stored_16bit(&x, 6.0)[3], 32_767.0 / 32_768.0);
    }

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
    fn degrade_is_deterministic_and_keeps_the_requested_noise_level() {
        let rate = 16_000;
        // 5 s of a 200 Hz tone with 1 s of silence in the middle.
        let clip: Vec<f32> = (0..5 * rate as usize)
            .map(|i| {
                let on = !(2 * rate as usize..3 * rate as usize).contains(&i);
                if on {
                    0.1 * (2.0 * std::f32::consts::PI * 200.0 * i as f32 / rate as f32).sin()
                } else {
                    0.0
                }
            })
            .collect();
        for seed in 0..20 {
            let a = degrade(&clip, rate, seed).unwrap();
            assert_eq!(a, degrade(&clip, rate, seed).unwrap());
            assert!(
                a.len() >= 3 * rate as usize && a.len() <= clip.len(),
                "length {}",
                a.len()
            );
            assert!(a.iter().all(|v| v.is_finite() && v.abs() <= 1.0));
        }
        assert_ne!(
            degrade(&clip, rate, 1).unwrap(),
            degrade(&clip, rate, 2).unwrap()
        );
        // The noise sits the requested distance below the speech level, whatever its colour.
        let mut rng = Pcg64::seed_from_u64(3);
        for (alpha, snr) in [(0.0f32, 10.0f32), (1.0, 20.0), (2.0, 30.0)] {
            let noise = coloured_noise(clip.len(), rate, alpha, &mut rng);
            let mut noisy = clip.clone();
            add_noise(&mut noisy, rate, &noise, snr);
            let added: Vec<f32> = noisy.iter().zip(&clip).map(|(a, b)| a - b).collect();
            let measured = 10.0 * (speech_power(&clip, rate) / mean_power(&added)).log10();
            assert!(
                (measured - snr).abs() < 0.01,
                "alpha {alpha}: {measured} dB"
            );
        }
        // Brown noise has most of its power at low frequencies, white noise does not.
        let low_share = |alpha: f32| {
            let mut rng = Pcg64::seed_from_u64(5);
            let mut x = coloured_noise(16_000, rate, alpha, &mut rng);
            let total = mean_power(&x);
            band_pass(&mut x, rate, 0.0, 500.0);
            mean_power(&x) / total
        };
        // In theory 95 % for brown noise (1/16 for white); the band-pass ramp around 0 Hz removes
        // part of the flat region below 50 Hz.
        assert!(low_share(2.0) > 0.7, "brown {}", low_share(2.0));
        assert!(low_share(0.0) < 0.1, "white {}", low_share(0.0));
    }

    #[test]
    fn speech_level_ignores_pauses() {
        let mut x = vec![0.5f32; 32_000];
        x.extend(vec![0.0; 16_000]);
        assert!((speech_power(&x, 16_000) - 0.25).abs() < 0.03);
    }

    #[test]
    fn telephone_channels_remove_the_upper_band() {
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
        // The GSM channel too, and it keeps the 1 kHz tone's level within 2 dB.
        let high = gsm_channel(&tone(6_000.0), 16_000).unwrap();
        let low = gsm_channel(&tone(1_000.0), 16_000).unwrap();
        assert_eq!((high.len(), low.len()), (16_000, 16_000));
        assert!(rms(&high[1000..15000]) < 0.01, "{}", rms(&high));
        let level_db = 20.0 * (rms(&low[1000..15000]) / 0.3535).log10();
        assert!(level_db.abs() < 2.0, "{level_db} dB");
    }
}
