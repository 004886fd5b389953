//! Time derivatives of feature matrices by Savitzky–Golay filtering, as librosa's
//! `feature.delta(width, order, mode="interp")` computes them: the derivative of a local
//! polynomial fit over `width` frames, with the first and last full windows' fits used at the
//! edges.

use ndarray::Array2;

use crate::error::{Error, Result};

/// Frames in the delta window (librosa's default).
pub const DELTA_WIDTH: usize = 9;

/// The `order`-th (1 or 2) derivative along the rows (frames) of `x`, over `width` frames
/// (odd, at least 3). Needs at least `width` frames.
pub fn delta(x: &Array2<f32>, order: usize, width: usize) -> Result<Array2<f32>> {
    if !(1..=2).contains(&order) || width < 3 || width % 2 == 0 {
        return Err(Error::Config(format!(
            "delta needs order 1 or 2 and an odd width >= 3 (got order {order}, width {width})"
        )));
    }
    let n = x.nrows();
    if n < width {
        return Err(Error::Config(format!(
            "deltas need at least {width} frames; this input has {n}"
        )));
    }
    let coeffs = coefficients(order, width);
    let half = width / 2;
    let mut out = Array2::<f32>::zeros(x.raw_dim());
    for t in half..n - half {
        for (j, &c) in coeffs.iter().enumerate() {
            let row = x.row(t + j - half);
            out.row_mut(t)
                .iter_mut()
                .zip(row)
                .for_each(|(o, &v)| *o += (c * v as f64) as f32);
        }
    }
    // A polynomial of degree `order` has a constant `order`-th derivative: the edge frames take
    // the value of the first (last) complete window.
    for t in 0..half {
        let first = out.row(half).to_owned();
        out.row_mut(t).assign(&first);
        let last = out.row(n - 1 - half).to_owned();
        out.row_mut(n - 1 - t).assign(&last);
    }
    Ok(out)
}

/// Least-squares derivative weights over offsets `-half..=half`.
fn coefficients(order: usize, width: usize) -> Vec<f64> {
    let half = (width / 2) as i64;
    let ks: Vec<f64> = (-half..=half).map(|k| k as f64).collect();
    if order == 1 {
        let s2: f64 = ks.iter().map(|k| k * k).sum();
        ks.iter().map(|k| k / s2).collect()
    } else {
        let m = ks.iter().map(|k| k * k).sum::<f64>() / ks.len() as f64;
        let s: f64 = ks.iter().map(|k| (k * k - m).powi(2)).sum();
        ks.iter().map(|k| 2.0 * (k * k - m) / s).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_of_polynomials_are_exact_everywhere() {
        // x = 3t + 0.5t^2: first derivative 3 + t (exact for the quadratic only in the
        // interior), second derivative 1 everywhere.
        let x = Array2::from_shape_fn((20, 1), |(t, _)| {
            let t = t as f32;
            3.0 * t + 0.5 * t * t
        });
        let d1 = delta(&x, 1, 9).unwrap();
        let d2 = delta(&x, 2, 9).unwrap();
        for t in 4..16 {
            assert!((d1[[t, 0]] - (3.0 + t as f32)).abs() < 1e-3, "t={t}");
        }
        assert!(d2.iter().all(|v| (v - 1.0).abs() < 1e-4), "{d2:?}");
        // Edges take the first and last full windows' values.
        assert_eq!(d1[[0, 0]], d1[[4, 0]]);
        assert_eq!(d1[[19, 0]], d1[[15, 0]]);
    }

    #[test]
    fn too_few_frames_is_an_error() {
        let x = Array2::<f32>::zeros((8, 3));
        let err = delta(&x, 1, 9).unwrap_err().to_string();
        assert!(err.contains("at least 9 frames"), "{err}");
    }
}
