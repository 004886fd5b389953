//! A logistic regression on how far each statistic lies from real speech, whichever way. Generator
//! families push the same statistic to opposite sides of real speech (the pulse shape of one
//! family is steadier than speech's, of another less steady), so a weight on the statistic itself
//! learns the sides of the families in training; a weight on its distance from real speech learns
//! that leaving real speech's range is suspect, which carries over to families on the other side.
//! Unlike the one-class Gaussian it is trained on synthetic speech too, so it learns which
//! statistics' distances matter (model card, "Changes in 1.16.0").

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::logistic::{LogisticRegression, Standardizer};
use super::weighted_mean_spread;

/// Spread of the deviation model's term in the shipped model type, as a multiple of the logistic
/// regression's (`train --deviation-weight`; 2 was also tried, model card).
pub const DEVIATION_WEIGHT: f64 = 1.0;

/// A distance from real speech counts up to this many of real speech's standard deviations: one
/// wild statistic (a segment with almost no voicing) should not outweigh all the others.
pub const DISTANCE_CAP: f64 = 6.0;

/// A fitted deviation model: `logit = Σ weights[k] · min(|z[k] − centre[k]| / spread[k], 6) +
/// bias` over the statistics `inputs` selects of a standardised row `z`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DeviationFile", into = "DeviationFile")]
pub struct DeviationLogistic {
    /// Which statistics of a row it reads (its length is the row's).
    inputs: Vec<bool>,
    /// Real speech's weighted mean of each statistic read.
    centre: Vec<f64>,
    /// Real speech's weighted standard deviation of each statistic read.
    spread: Vec<f64>,
    /// One weight per distance (in units of `spread`).
    weights: Vec<f64>,
    bias: f64,
}

/// A [`DeviationLogistic`] as a model file stores it, before it is checked.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviationFile {
    inputs: Vec<bool>,
    real_centre: Vec<f64>,
    real_spread: Vec<f64>,
    weights: Vec<f64>,
    bias: f64,
}

impl TryFrom<DeviationFile> for DeviationLogistic {
    type Error = String;

    fn try_from(f: DeviationFile) -> Result<Self, String> {
        let d = f.inputs.iter().filter(|&&u| u).count();
        let sized = d > 0
            && [f.real_centre.len(), f.real_spread.len(), f.weights.len()] == [d; 3]
            && f.real_spread.iter().all(|&s| s > 0.0 && s.is_finite())
            && f.real_centre
                .iter()
                .chain(&f.weights)
                .all(|v| v.is_finite())
            && f.bias.is_finite();
        if !sized {
            return Err(format!(
                "a deviation model reading {d} statistics needs {d} finite centres, positive \
                 spreads and weights, and a finite bias"
            ));
        }
        Ok(Self {
            inputs: f.inputs,
            centre: f.real_centre,
            spread: f.real_spread,
            weights: f.weights,
            bias: f.bias,
        })
    }
}

impl From<DeviationLogistic> for DeviationFile {
    fn from(m: DeviationLogistic) -> Self {
        Self {
            inputs: m.inputs,
            real_centre: m.centre,
            real_spread: m.spread,
            weights: m.weights,
            bias: m.bias,
        }
    }
}

impl DeviationLogistic {
    /// Fits on the statistics `inputs` selects of the standardised rows `z` (labels `y`, 1 =
    /// synthetic; weights `w`): real speech's centre and spread from the real rows, then an L2
    /// logistic regression (penalty `l2`) on the standardised capped distances, its weights
    /// carried back to the distances themselves. `None` without real rows of positive weight or
    /// if `inputs` does not match the rows or selects nothing.
    pub fn fit(
        z: ArrayView2<'_, f64>,
        y: &[f64],
        w: &[f64],
        inputs: &[bool],
        l2: f64,
    ) -> Option<Self> {
        let columns: Vec<usize> = (0..inputs.len()).filter(|&j| inputs[j]).collect();
        let real_w: Vec<f64> = w
            .iter()
            .zip(y)
            .map(|(&w, &y)| if y == 0.0 { w } else { 0.0 })
            .collect();
        if inputs.len() != z.ncols() || columns.is_empty() || real_w.iter().sum::<f64>() <= 0.0 {
            return None;
        }
        let (centre, spread): (Vec<f64>, Vec<f64>) = columns
            .iter()
            .map(|&j| weighted_mean_spread(&z.column(j).to_vec(), &real_w))
            .unzip();
        let mut model = Self {
            inputs: inputs.to_vec(),
            centre,
            spread,
            weights: vec![0.0; columns.len()],
            bias: 0.0,
        };
        let mut distances = Array2::from_shape_fn((z.nrows(), columns.len()), |(i, k)| {
            model.distance(z[[i, columns[k]]], k)
        });
        let scaler = Standardizer::fit(distances.view());
        scaler.apply_to_rows(&mut distances);
        let fitted = LogisticRegression::fit(distances.view(), y, w, l2);
        model.weights = fitted
            .weights
            .iter()
            .zip(&scaler.scale)
            .map(|(b, s)| b / s)
            .collect();
        model.bias = fitted.bias
            - model
                .weights
                .iter()
                .zip(&scaler.mean)
                .map(|(b, m)| b * m)
                .sum::<f64>();
        Some(model)
    }

    /// The capped distance of value `v` of the `k`-th statistic read from real speech's centre.
    fn distance(&self, v: f64, k: usize) -> f64 {
        ((v - self.centre[k]).abs() / self.spread[k]).min(DISTANCE_CAP)
    }

    /// How many statistics a row must have.
    pub fn inputs(&self) -> usize {
        self.inputs.len()
    }

    /// The log-odds for one standardised row.
    pub fn logit(&self, z: &[f64]) -> f64 {
        let read = z.iter().zip(&self.inputs).filter(|(_, u)| **u);
        read.enumerate()
            .map(|(k, (&v, _))| self.weights[k] * self.distance(v, k))
            .sum::<f64>()
            + self.bias
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of two statistics: real speech spread around 0 in both; synthetic rows sit at ±3 in
    /// the first (half each side) and at real speech's values in the second.
    fn two_sided() -> (Array2<f64>, Vec<f64>, Vec<f64>) {
        let n = 200;
        let z = Array2::from_shape_fn((n, 2), |(i, j)| {
            let wobble = ((i * 7 + j * 3) % 11) as f64 / 10.0 - 0.5;
            match (i < n / 2, j, i % 2) {
                (false, 0, 0) => 3.0 + wobble,
                (false, 0, _) => -3.0 + wobble,
                _ => wobble,
            }
        });
        let y = (0..n).map(|i| if i < n / 2 { 0.0 } else { 1.0 }).collect();
        (z, y, vec![1.0; n])
    }

    #[test]
    fn a_statistic_pushed_both_ways_is_learnt_as_one_sign_of_synthesis() {
        let (z, y, w) = two_sided();
        let m = DeviationLogistic::fit(z.view(), &y, &w, &[true, true], 1.0).unwrap();
        // Both sides score above real speech's centre, and alike: a plain logistic regression
        // of the statistic would put them on opposite sides.
        let (low, mid, high) = (
            m.logit(&[-3.0, 0.0]),
            m.logit(&[0.0, 0.0]),
            m.logit(&[3.0, 0.0]),
        );
        assert!(low > mid + 2.0 && high > mid + 2.0, "{low} {mid} {high}");
        assert!((low - high).abs() < 0.5, "{low} {high}");
        assert!(
            m.weights[0] > 0.0 && m.weights[0] > 5.0 * m.weights[1].abs(),
            "{:?}",
            m.weights
        );
        // Beyond the cap a distance counts no more.
        assert_eq!(
            m.logit(&[50.0, 0.0]),
            m.logit(&[6.0 * m.spread[0] + m.centre[0], 0.0])
        );
    }

    #[test]
    fn only_the_selected_statistics_are_read() {
        let (z, y, w) = two_sided();
        let m = DeviationLogistic::fit(z.view(), &y, &w, &[false, true], 1.0).unwrap();
        assert_eq!(m.logit(&[-3.0, 0.1]), m.logit(&[3.0, 0.1]));
        assert_eq!(m.inputs(), 2);
        assert!(DeviationLogistic::fit(z.view(), &y, &w, &[true], 1.0).is_none());
        assert!(DeviationLogistic::fit(z.view(), &y, &w, &[false, false], 1.0).is_none());
        assert!(DeviationLogistic::fit(z.view(), &[1.0; 200], &w, &[true, true], 1.0).is_none());
    }

    #[test]
    fn the_centre_and_spread_are_real_speechs() {
        let (z, y, w) = two_sided();
        let m = DeviationLogistic::fit(z.view(), &y, &w, &[true, true], 1.0).unwrap();
        let real = z.slice(ndarray::s![..100, 0]).to_vec();
        let (mean, spread) = weighted_mean_spread(&real, &[1.0; 100]);
        assert!((m.centre[0] - mean).abs() < 1e-12 && (m.spread[0] - spread).abs() < 1e-12);
    }

    #[test]
    fn scores_as_the_regression_of_the_standardised_distances_it_was_fitted_as() {
        let (z, y, w) = two_sided();
        let m = DeviationLogistic::fit(z.view(), &y, &w, &[true, true], 1.0).unwrap();
        let distances = Array2::from_shape_fn(z.dim(), |(i, k)| m.distance(z[[i, k]], k));
        let scaler = Standardizer::fit(distances.view());
        let scaled = Array2::from_shape_fn(distances.dim(), |(i, k)| {
            (distances[[i, k]] - scaler.mean[k]) / scaler.scale[k]
        });
        let direct = LogisticRegression::fit(scaled.view(), &y, &w, 1.0);
        for (row, s) in z.rows().into_iter().zip(scaled.rows()) {
            let (folded, fitted) = (m.logit(&row.to_vec()), direct.logit(&s.to_vec()));
            assert!((folded - fitted).abs() < 1e-9, "{folded} {fitted}");
        }
    }

    #[test]
    fn survives_a_json_round_trip_and_rejects_a_broken_file() {
        let (z, y, w) = two_sided();
        let m = DeviationLogistic::fit(z.view(), &y, &w, &[true, false], 1.0).unwrap();
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<DeviationLogistic>(&json).unwrap(), m);
        let broken = json.replace("\"real_spread\":[", "\"real_spread\":[-");
        let err = serde_json::from_str::<DeviationLogistic>(&broken).unwrap_err();
        assert!(err.to_string().contains("positive"), "{err}");
    }
}
