//! Triangular filterbanks on a one-sided power spectrum.

/// A bank of triangular filters, stored sparsely as (first bin, weights).
#[derive(Debug, Clone)]
pub struct Filterbank {
    filters: Vec<(usize, Vec<f32>)>,
}

impl Filterbank {
    /// `n_filters` triangles with centres equally spaced in Hz between `fmin` and `fmax`
    /// (the linear filterbank behind LFCC), peak weight 1.
    pub fn linear(n_filters: usize, n_fft: usize, sample_rate: f32, fmin: f32, fmax: f32) -> Self {
        let step = (fmax - fmin) / (n_filters + 1) as f32;
        let edges: Vec<f32> = (0..n_filters + 2).map(|i| fmin + step * i as f32).collect();
        Self::from_edges(&edges, n_fft, sample_rate)
    }

    /// `n_filters` triangles with centres equally spaced on the Slaney mel scale between `fmin`
    /// and `fmax`, each scaled to unit area in Hz (librosa's `filters.mel(htk=False,
    /// norm="slaney")`, the usual MFCC front end).
    pub fn mel(n_filters: usize, n_fft: usize, sample_rate: f32, fmin: f32, fmax: f32) -> Self {
        let (lo, hi) = (hz_to_mel(fmin as f64), hz_to_mel(fmax as f64));
        let step = (hi - lo) / (n_filters + 1) as f64;
        let edges: Vec<f64> = (0..n_filters + 2)
            .map(|i| mel_to_hz(lo + step * i as f64))
            .collect();
        let edges_f32: Vec<f32> = edges.iter().map(|&e| e as f32).collect();
        let mut bank = Self::from_edges(&edges_f32, n_fft, sample_rate);
        for ((_, weights), e) in bank.filters.iter_mut().zip(edges.windows(3)) {
            let area_norm = (2.0 / (e[2] - e[0])) as f32;
            weights.iter_mut().for_each(|w| *w *= area_norm);
        }
        bank
    }

    /// Triangles whose feet and peaks are consecutive entries of `edges_hz`.
    fn from_edges(edges_hz: &[f32], n_fft: usize, sample_rate: f32) -> Self {
        let n_bins = n_fft / 2 + 1;
        let bin_hz = sample_rate / n_fft as f32;
        let filters = edges_hz
            .windows(3)
            .map(|e| {
                let (lo, mid, hi) = (e[0], e[1], e[2]);
                let first = ((lo / bin_hz).ceil() as usize).min(n_bins);
                let last = ((hi / bin_hz).floor() as usize).min(n_bins - 1);
                let weights = (first..=last.max(first))
                    .map(|k| {
                        let f = k as f32 * bin_hz;
                        let w = if f <= mid {
                            (f - lo) / (mid - lo)
                        } else {
                            (hi - f) / (hi - mid)
                        };
                        w.max(0.0)
                    })
                    .collect();
                (first, weights)
            })
            .collect();
        Self { filters }
    }

    /// Number of filters.
    pub fn len(&self) -> usize {
        self.filters.len()
    }

    /// True when the bank has no filters.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// Writes each filter's weighted power sum into `out` (length `self.len()`).
    pub fn apply(&self, power: &[f32], out: &mut [f32]) {
        for ((first, w), o) in self.filters.iter().zip(out.iter_mut()) {
            *o = power
                .get(*first..)
                .unwrap_or(&[])
                .iter()
                .zip(w)
                .map(|(p, w)| p * w)
                .sum();
        }
    }
}

/// Slaney's mel scale (Auditory Toolbox; librosa's default): linear below 1 kHz, logarithmic
/// above.
pub fn hz_to_mel(hz: f64) -> f64 {
    const MIN_LOG_HZ: f64 = 1000.0;
    if hz < MIN_LOG_HZ {
        hz * 3.0 / 200.0
    } else {
        15.0 + (hz / MIN_LOG_HZ).ln() / mel_log_step()
    }
}

/// Inverse of [`hz_to_mel`].
pub fn mel_to_hz(mel: f64) -> f64 {
    const MIN_LOG_MEL: f64 = 15.0;
    if mel < MIN_LOG_MEL {
        mel * 200.0 / 3.0
    } else {
        1000.0 * ((mel - MIN_LOG_MEL) * mel_log_step()).exp()
    }
}

fn mel_log_step() -> f64 {
    6.4f64.ln() / 27.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_mel_scale_matches_librosa_values() {
        // librosa.hz_to_mel([500, 1000, 4000]) = [7.5, 15.0, 35.16...]
        assert!((hz_to_mel(500.0) - 7.5).abs() < 1e-12);
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(4000.0) - 35.163_760_31).abs() < 1e-6);
        for hz in [0.0, 250.0, 999.0, 1000.0, 3000.0, 7999.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9);
        }
    }

    #[test]
    fn linear_triangles_peak_at_centres() {
        // 3 filters over 0..4000 Hz, 16 kHz, n_fft 512 (31.25 Hz bins): centres 1000, 2000, 3000.
        let fb = Filterbank::linear(3, 512, 16_000.0, 0.0, 4_000.0);
        assert_eq!(fb.len(), 3);
        for (i, centre_bin) in [32usize, 64, 96].iter().enumerate() {
            let mut power = vec![0.0; 257];
            power[*centre_bin] = 1.0;
            let mut out = vec![0.0; 3];
            fb.apply(&power, &mut out);
            assert!((out[i] - 1.0).abs() < 1e-6, "filter {i}: {out:?}");
            assert!(out.iter().enumerate().all(|(j, v)| j == i || *v == 0.0));
        }
    }

    #[test]
    fn flat_spectrum_gives_equal_linear_outputs() {
        let fb = Filterbank::linear(10, 512, 16_000.0, 0.0, 8_000.0);
        let mut out = vec![0.0; 10];
        fb.apply(&vec![1.0; 257], &mut out);
        for v in &out {
            assert!((v - out[0]).abs() / out[0] < 0.05, "{out:?}");
        }
    }
}
