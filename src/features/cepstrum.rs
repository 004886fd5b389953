//! Cepstra from filterbank energies (orthonormal DCT-II of the log) and their time derivatives.

/// Floor added to powers before the logarithm, relative to the frame's mean power (−90 dB), so
/// empty bands give a finite value that moves with the level instead of a fixed one: features
/// then stay gain-invariant even for band-limited voices.
pub const RELATIVE_FLOOR: f32 = 1e-9;
/// Absolute floor under the relative one, so digital silence gives a finite value too.
pub const ABSOLUTE_FLOOR: f32 = 1e-30;

/// The floor to add to the powers of a frame whose mean power is `mean_power`.
pub fn power_floor(mean_power: f32) -> f32 {
    RELATIVE_FLOOR * mean_power + ABSOLUTE_FLOOR
}

/// Orthonormal DCT-II matrix, `n_out` rows by `n_in` columns (scipy's `dct(type=2, norm="ortho")`).
#[derive(Debug, Clone)]
pub struct Dct {
    n_in: usize,
    matrix: Vec<f32>,
}

impl Dct {
    /// Plans the first `n_out` coefficients of an `n_in`-point DCT-II.
    pub fn new(n_in: usize, n_out: usize) -> Self {
        let mut matrix = Vec::with_capacity(n_in * n_out);
        for k in 0..n_out {
            let scale = if k == 0 {
                (1.0 / n_in as f64).sqrt()
            } else {
                (2.0 / n_in as f64).sqrt()
            };
            for n in 0..n_in {
                let angle =
                    std::f64::consts::PI * k as f64 * (2 * n + 1) as f64 / (2 * n_in) as f64;
                matrix.push((scale * angle.cos()) as f32);
            }
        }
        Self { n_in, matrix }
    }

    /// `out[k] = sum_n matrix[k][n] * input[n]`.
    pub fn apply(&self, input: &[f32], out: &mut [f32]) {
        for (row, o) in self.matrix.chunks_exact(self.n_in).zip(out.iter_mut()) {
            *o = row.iter().zip(input).map(|(a, b)| a * b).sum();
        }
    }
}

/// Natural log of filterbank energies plus `floor`, in place.
pub fn log_floor(values: &mut [f32], floor: f32) {
    for v in values {
        *v = (*v + floor).ln();
    }
}

/// Delta features by the regression formula over `±width` frames, edges repeated
/// (librosa's `delta(mode="nearest")` for `width = (w-1)/2`).
/// `frames` is a sequence of equal-length vectors; the result has the same shape.
pub fn deltas(frames: &[Vec<f32>], width: usize) -> Vec<Vec<f32>> {
    let n = frames.len();
    if n == 0 {
        return Vec::new();
    }
    let dim = frames[0].len();
    let denom: f32 = 2.0 * (1..=width).map(|k| (k * k) as f32).sum::<f32>();
    (0..n)
        .map(|t| {
            let mut d = vec![0.0; dim];
            for k in 1..=width {
                let next = &frames[(t + k).min(n - 1)];
                let prev = &frames[t.saturating_sub(k)];
                for ((o, a), b) in d.iter_mut().zip(next).zip(prev) {
                    *o += k as f32 * (a - b);
                }
            }
            d.iter_mut().for_each(|v| *v /= denom);
            d
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dct_of_constant_is_only_c0() {
        let dct = Dct::new(8, 4);
        let mut out = vec![0.0; 4];
        dct.apply(&[2.0; 8], &mut out);
        // Orthonormal: c0 = sqrt(8) * 2.
        assert!((out[0] - 8f32.sqrt() * 2.0).abs() < 1e-5);
        assert!(out[1..].iter().all(|v| v.abs() < 1e-5));
    }

    #[test]
    fn dct_matches_reference_values() {
        // scipy.fft.dct([1, 2, 3, 4], norm="ortho") = [5, -2.2304425, 0, -0.15851267]
        let dct = Dct::new(4, 4);
        let mut out = vec![0.0; 4];
        dct.apply(&[1.0, 2.0, 3.0, 4.0], &mut out);
        for (a, b) in out.iter().zip([5.0, -2.230_442_5, 0.0, -0.158_512_67]) {
            assert!((a - b).abs() < 1e-5, "{out:?}");
        }
    }

    #[test]
    fn delta_of_ramp_is_slope_inside() {
        let frames: Vec<Vec<f32>> = (0..10).map(|t| vec![3.0 * t as f32]).collect();
        let d = deltas(&frames, 2);
        for v in &d[2..8] {
            assert!((v[0] - 3.0).abs() < 1e-5);
        }
        assert!(d.iter().all(|v| v[0].is_finite()));
    }

    #[test]
    fn log_floor_keeps_silence_finite() {
        let mut v = vec![0.0, 1.0];
        log_floor(&mut v, power_floor(0.0));
        assert!(v.iter().all(|x| x.is_finite()));
        assert!((v[1] - 0.0).abs() < 1e-6);
    }
}
