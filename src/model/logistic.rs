//! L2-regularised, sample-weighted logistic regression on standardised features, fitted by
//! Newton's method (exact for this convex problem, a handful of iterations).

use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::linalg::solve_spd;

/// Per-feature shift and scale learned on the training set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Mean of each feature.
    pub mean: Vec<f64>,
    /// Standard deviation of each feature (1 where it was 0).
    pub scale: Vec<f64>,
}

impl Standardizer {
    /// Fits means and standard deviations of the columns of `x` (rows are samples).
    pub fn fit(x: ArrayView2<'_, f64>) -> Self {
        let mean = x.mean_axis(Axis(0)).expect("at least one row");
        let scale = x
            .std_axis(Axis(0), 0.0)
            .mapv(|s| if s > 1e-12 { s } else { 1.0 });
        Self {
            mean: mean.to_vec(),
            scale: scale.to_vec(),
        }
    }

    /// Standardises every row of `x` in place (rows are samples, as in [`Standardizer::fit`]).
    pub fn apply_to_rows(&self, x: &mut Array2<f64>) {
        for mut row in x.rows_mut() {
            for ((v, mean), scale) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *v = (*v - mean) / scale;
            }
        }
    }

    /// Standardises one row.
    pub fn apply(&self, row: &[f32]) -> Vec<f64> {
        row.iter()
            .zip(&self.mean)
            .zip(&self.scale)
            .map(|((&v, m), s)| (v as f64 - m) / s)
            .collect()
    }
}

/// A fitted logistic regression: `logit = weights · z + bias` on standardised `z`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogisticRegression {
    /// One weight per standardised feature.
    pub weights: Vec<f64>,
    /// Intercept.
    pub bias: f64,
}

impl LogisticRegression {
    /// Fits on standardised rows `z`, labels `y` (1 = synthetic) and sample weights `w`,
    /// minimising weighted log-loss plus `l2 / 2 * |weights|^2` (the bias is not penalised).
    pub fn fit(z: ArrayView2<'_, f64>, y: &[f64], w: &[f64], l2: f64) -> Self {
        let (n, d) = z.dim();
        // Design matrix with a trailing column of ones for the bias.
        let mut xb = Array2::<f64>::ones((n, d + 1));
        xb.slice_mut(ndarray::s![.., ..d]).assign(&z);
        let y = Array1::from(y.to_vec());
        let w = Array1::from(w.to_vec());
        let mut beta = Array1::<f64>::zeros(d + 1);
        let mut penalty = Array1::<f64>::from_elem(d + 1, l2);
        penalty[d] = 1e-9;
        for _ in 0..50 {
            let p = xb.dot(&beta).mapv(sigmoid);
            let grad = xb.t().dot(&(&w * &(&p - &y))) + &penalty * &beta;
            let curv = &w * &p.mapv(|v| (v * (1.0 - v)).max(1e-12));
            let mut hess = xb.t().dot(&(&xb * &curv.view().insert_axis(Axis(1))));
            for i in 0..=d {
                hess[[i, i]] += penalty[i];
            }
            let Some(step) = solve_spd(&hess, &grad) else {
                break;
            };
            beta -= &step;
            if step.iter().map(|s| s.abs()).fold(0.0, f64::max) < 1e-8 {
                break;
            }
        }
        Self {
            weights: beta.slice(ndarray::s![..d]).to_vec(),
            bias: beta[d],
        }
    }

    /// Fits as [`LogisticRegression::fit`] on the columns of `z` that `inputs` selects (one flag
    /// per column); the others get weight 0, so the model scores full rows and ignores them.
    /// `None` if `inputs` does not match the rows.
    pub fn fit_inputs(
        z: ArrayView2<'_, f64>,
        y: &[f64],
        w: &[f64],
        l2: f64,
        inputs: &[bool],
    ) -> Option<Self> {
        if inputs.len() != z.ncols() {
            return None;
        }
        let columns: Vec<usize> = (0..inputs.len()).filter(|&j| inputs[j]).collect();
        let fitted = Self::fit(z.select(Axis(1), &columns).view(), y, w, l2);
        let mut weights = vec![0.0; inputs.len()];
        for (&j, &weight) in columns.iter().zip(&fitted.weights) {
            weights[j] = weight;
        }
        Some(Self {
            weights,
            bias: fitted.bias,
        })
    }

    /// The log-odds for one standardised row.
    pub fn logit(&self, z: &[f64]) -> f64 {
        self.weights.iter().zip(z).map(|(w, v)| w * v).sum::<f64>() + self.bias
    }
}

/// The logistic function, `1 / (1 + e^-x)`.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_known_separator() {
        // y is drawn from sigmoid(2 * x0 - 1 * x1 + 0.5): the fit recovers the weights.
        let mut seed = 42u64;
        let mut rnd = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let n = 20_000;
        let mut z = Array2::<f64>::zeros((n, 2));
        let mut y = vec![0.0; n];
        for i in 0..n {
            let (a, b) = (rnd() * 4.0 - 2.0, rnd() * 4.0 - 2.0);
            z[[i, 0]] = a;
            z[[i, 1]] = b;
            y[i] = if rnd() < sigmoid(2.0 * a - b + 0.5) {
                1.0
            } else {
                0.0
            };
        }
        let m = LogisticRegression::fit(z.view(), &y, &vec![1.0; n], 1e-6);
        assert!((m.weights[0] - 2.0).abs() < 0.15, "{m:?}");
        assert!((m.weights[1] + 1.0).abs() < 0.15, "{m:?}");
        assert!((m.bias - 0.5).abs() < 0.15, "{m:?}");
    }

    #[test]
    fn a_column_left_out_gets_no_weight_and_the_rest_fit_as_alone() {
        // Column 1 separates the classes perfectly, column 0 only partly: left out, column 1
        // must get no weight however telling it is.
        let z = ndarray::array![[-1.0, -3.0], [0.5, -2.0], [-0.5, 2.0], [1.0, 3.0]];
        let (y, w) = ([0.0, 0.0, 1.0, 1.0], [1.0; 4]);
        let m = LogisticRegression::fit_inputs(z.view(), &y, &w, 1.0, &[true, false]).unwrap();
        assert_eq!(m.weights[1], 0.0);
        let alone = LogisticRegression::fit(z.slice(ndarray::s![.., ..1]), &y, &w, 1.0);
        assert_eq!((m.weights[0], m.bias), (alone.weights[0], alone.bias));
        assert!(m.weights[0] > 0.0);
        assert!(LogisticRegression::fit_inputs(z.view(), &y, &w, 1.0, &[true]).is_none());
    }

    #[test]
    fn separable_data_stays_finite_with_l2() {
        let z = ndarray::array![[-1.0], [-0.5], [0.5], [1.0]];
        let m = LogisticRegression::fit(z.view(), &[0.0, 0.0, 1.0, 1.0], &[1.0; 4], 1.0);
        assert!(m.weights[0].is_finite() && m.weights[0] > 0.0);
    }

    #[test]
    fn standardizer_centres_and_scales() {
        let x = ndarray::array![[1.0, 5.0], [3.0, 5.0]];
        let s = Standardizer::fit(x.view());
        assert_eq!(s.apply(&[1.0, 5.0]), vec![-1.0, 0.0]);
        assert_eq!(s.apply(&[3.0, 5.0]), vec![1.0, 0.0]);
        let mut rows = x.clone();
        s.apply_to_rows(&mut rows);
        assert_eq!(rows, ndarray::array![[-1.0, 0.0], [1.0, 0.0]]);
    }
}
