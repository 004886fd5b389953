//! Platt scaling: maps raw classifier log-odds to a calibrated probability of "synthetic",
//! fitted on scores the classifier gave to data it was not trained on.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::logistic::{LogisticRegression, sigmoid};

/// `p = sigmoid(a * raw_logit + b)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Platt {
    /// Slope on the raw log-odds.
    pub a: f64,
    /// Offset.
    pub b: f64,
}

impl Platt {
    /// Fits on held-out raw log-odds with labels (1 = synthetic) and weights.
    /// Weights let the fit assume equal priors for both classes.
    pub fn fit(raw: &[f64], y: &[f64], w: &[f64]) -> Self {
        let x = Array2::from_shape_vec((raw.len(), 1), raw.to_vec()).expect("one column");
        let lr = LogisticRegression::fit(x.view(), y, w, 1e-6);
        Self {
            a: lr.weights[0],
            b: lr.bias,
        }
    }

    /// Calibrated log-odds of a raw log-odds.
    pub fn logit(&self, raw: f64) -> f64 {
        self.a * raw + self.b
    }

    /// Calibrated probability of a raw log-odds.
    pub fn prob(&self, raw: f64) -> f64 {
        sigmoid(self.logit(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinks_overconfident_scores() {
        // Raw scores twice as extreme as the truth: the fitted slope is about 0.5.
        let mut raw = Vec::new();
        let mut y = Vec::new();
        for i in 0..2000 {
            let true_logit = (i % 41) as f64 / 10.0 - 2.0;
            let p = sigmoid(true_logit);
            // deterministic "draws": label frequency follows p within each score value
            let label = if ((i / 41) as f64 + 0.5) / (2000.0 / 41.0) < p {
                1.0
            } else {
                0.0
            };
            raw.push(2.0 * true_logit);
            y.push(label);
        }
        let platt = Platt::fit(&raw, &y, &vec![1.0; raw.len()]);
        assert!((platt.a - 0.5).abs() < 0.1, "{platt:?}");
        assert!(platt.b.abs() < 0.2, "{platt:?}");
    }
}
