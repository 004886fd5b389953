//! A real MP3 round trip (rusty_mp3's encoder and decoder), for the evaluation copy that stands
//! for low-rate call archives and voice mail: MP3 at 8 kHz leaves spectral holes that move from
//! frame to frame, which no training copy has.

use rusty_mp3::encode::lametag::{DECODER_DELAY, ENCODER_DELAY};
use rusty_mp3::{Mp3Decoder, Mp3Encoder, Mp3EncoderConfig};

/// Encodes mono `samples` at `rate` Hz (an MPEG Layer III rate: 8, 11.025, 12, 16, 22.05, 24,
/// 32, 44.1 or 48 kHz) as constant-bit-rate MP3 at about `kbps` kbit/s (snapped to the nearest
/// valid rate) and decodes them again, aligned with the input and of its length.
///
/// # Panics
/// If `rate` is not an MPEG Layer III rate; callers pass constants.
pub fn roundtrip(samples: &[f32], rate: u32, kbps: u32) -> Vec<f32> {
    let mut encoder = Mp3Encoder::new(Mp3EncoderConfig {
        bitrate_kbps: kbps,
        vbr_quality: None,
    });
    encoder
        .push_pcm_f32(samples, 1, rate)
        .expect("an MPEG Layer III sample rate");
    encoder.finish();
    // The first packet is the Info tag frame, which holds no audio: leaving it out keeps the
    // decoder from emitting a frame of silence for it.
    let bytes: Vec<u8> = std::iter::from_fn(|| encoder.next_packet().ok())
        .skip(1)
        .flatten()
        .collect();
    let mut decoder = Mp3Decoder::new();
    decoder.push(&bytes);
    decoder.flush();
    let mut out = Vec::with_capacity(samples.len() + ENCODER_DELAY + DECODER_DELAY);
    while let Ok(frame) = decoder.next_frame() {
        out.extend_from_slice(&frame.samples);
    }
    let mut aligned: Vec<f32> = out
        .into_iter()
        .skip(ENCODER_DELAY + DECODER_DELAY)
        .take(samples.len())
        .collect();
    aligned.resize(samples.len(), 0.0);
    aligned
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A burst of pseudo-random noise in the middle of a second of silence.
    fn burst(rate: u32) -> Vec<f32> {
        let n = rate as usize;
        let mut state = 12_345u32;
        (0..n)
            .map(|i| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
                if (n / 3..n / 3 + n / 10).contains(&i) {
                    0.5 * noise
                } else {
                    0.0
                }
            })
            .collect()
    }

    #[test]
    fn the_round_trip_is_aligned_with_its_input_and_as_long() {
        for (rate, kbps) in [(8_000, 16), (16_000, 24)] {
            let x = burst(rate);
            let y = roundtrip(&x, rate, kbps);
            assert_eq!(y.len(), x.len());
            // Output sample `i + lag` against input sample `i`, for lags either way.
            let correlation = |lag: isize| -> f32 {
                let shifted = |i: usize| y.get(i.checked_add_signed(lag)?);
                (0..x.len()).filter_map(|i| Some(x[i] * shifted(i)?)).sum()
            };
            let best = (-200..200).max_by(|&a, &b| correlation(a).total_cmp(&correlation(b)));
            assert_eq!(best, Some(0), "{rate} Hz");
            // The burst's energy is kept (within coding loss) and the silence stays silent.
            let energy = |v: &[f32]| v.iter().map(|s| s * s).sum::<f32>();
            let ratio = energy(&y) / energy(&x);
            assert!(
                (0.5..1.5).contains(&ratio),
                "{rate} Hz: energy ratio {ratio}"
            );
            assert!(energy(&y[..x.len() / 4]) < 1e-3 * energy(&x), "{rate} Hz");
        }
    }

    #[test]
    fn a_lower_rate_loses_more() {
        let x = burst(8_000);
        let error = |kbps| -> f32 {
            let y = roundtrip(&x, 8_000, kbps);
            x.iter().zip(&y).map(|(a, b)| (a - b) * (a - b)).sum()
        };
        assert!(
            error(8) > error(32),
            "8 kbit/s {} vs 32 kbit/s {}",
            error(8),
            error(32)
        );
    }
}
