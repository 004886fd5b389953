//! Per-frame spectral statistics as librosa defines them: centroid, bandwidth, roll-off and
//! flatness from the magnitude spectrum; flux between consecutive magnitude spectra; zero-crossing
//! rate and RMS from the samples.

/// Names of the statistics: those of [`spectrum_stats`], then those of [`waveform_stats`].
pub const NAMES: [&str; 7] = [
    "centroid_hz",
    "bandwidth_hz",
    "rolloff_hz",
    "flatness",
    "flux",
    "zcr",
    "rms",
];

/// Fraction of the magnitude sum below the roll-off frequency (librosa's `roll_percent`).
pub const ROLL_PERCENT: f64 = 0.85;
/// Power floor of the flatness (librosa's `amin`).
const FLATNESS_AMIN: f64 = 1e-10;
/// Magnitudes at or below this are treated as zero by the zero-crossing count.
const ZERO_THRESHOLD: f64 = 1e-10;

/// Centroid, bandwidth (p = 2), roll-off and flatness of one magnitude spectrum whose bins are
/// at `freqs` Hz, and the flux from `previous` (0 for the first frame).
pub fn spectrum_stats(magnitude: &[f64], previous: Option<&[f64]>, freqs: &[f64]) -> [f64; 5] {
    let total: f64 = magnitude.iter().sum();
    // librosa leaves an all-zero column unnormalised, so its centroid and bandwidth are 0.
    let norm = if total > f64::MIN_POSITIVE {
        total
    } else {
        1.0
    };
    let centroid: f64 = magnitude.iter().zip(freqs).map(|(m, f)| m * f).sum::<f64>() / norm;
    let bandwidth = (magnitude
        .iter()
        .zip(freqs)
        .map(|(m, f)| m * (f - centroid).powi(2))
        .sum::<f64>()
        / norm)
        .sqrt();
    let threshold = ROLL_PERCENT * total;
    let mut cumulative = 0.0;
    let rolloff = magnitude
        .iter()
        .zip(freqs)
        .find(|(m, _)| {
            cumulative += *m;
            cumulative >= threshold
        })
        .map_or(0.0, |(_, f)| *f);
    let powers = magnitude.iter().map(|m| (m * m).max(FLATNESS_AMIN));
    let n = magnitude.len() as f64;
    let (log_sum, sum) = powers.fold((0.0, 0.0), |(l, s), p| (l + p.ln(), s + p));
    let flatness = (log_sum / n).exp() / (sum / n);
    let flux = previous.map_or(0.0, |prev| {
        magnitude
            .iter()
            .zip(prev)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt()
    });
    [centroid, bandwidth, rolloff, flatness, flux]
}

/// Zero-crossing rate (sign changes between consecutive samples over the frame length, zero
/// counted as positive) and RMS of one frame.
pub fn waveform_stats(zcr_frame: &[f64], rms_frame: &[f64]) -> [f64; 2] {
    let negative = |v: f64| v < -ZERO_THRESHOLD;
    let crossings = zcr_frame
        .windows(2)
        .filter(|w| negative(w[0]) != negative(w[1]))
        .count();
    let zcr = crossings as f64 / zcr_frame.len() as f64;
    let rms = (rms_frame.iter().map(|v| v * v).sum::<f64>() / rms_frame.len() as f64).sqrt();
    [zcr, rms]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_peak_statistics() {
        let freqs: Vec<f64> = (0..5).map(|k| k as f64 * 1000.0).collect();
        let mag = [0.0, 0.0, 1.0, 0.0, 0.0];
        let [centroid, bandwidth, rolloff, flatness, flux] = spectrum_stats(&mag, None, &freqs);
        assert_eq!(
            (centroid, bandwidth, rolloff, flux),
            (2000.0, 0.0, 2000.0, 0.0)
        );
        assert!(flatness < 1e-6);
        let flat = [1.0; 5];
        let [c, _, _, f, x] = spectrum_stats(&flat, Some(&mag), &freqs);
        assert!((c - 2000.0).abs() < 1e-9 && (f - 1.0).abs() < 1e-12);
        assert!((x - 2.0).abs() < 1e-12, "flux {x}");
    }

    #[test]
    fn zero_crossings_and_rms() {
        let [zcr, rms] = waveform_stats(&[1.0, -1.0, 1.0, -1.0], &[2.0, -2.0]);
        assert_eq!((zcr, rms), (0.75, 2.0));
        // Zero counts as positive, tiny values as zero.
        let [zcr, _] = waveform_stats(&[0.0, 1e-12, -1e-12, 1.0], &[0.0]);
        assert_eq!(zcr, 0.0);
    }
}
