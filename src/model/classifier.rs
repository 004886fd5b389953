//! The classifier a model file stores: any model type `train` and `eval --cv` can fit. In the
//! file the types are told apart by their fields (`weights`/`bias`, `hidden_weights`/...,
//! `logistic`/`mlp`), so files written before the MLP could be saved read unchanged.

use serde::{Deserialize, Serialize};

use super::logistic::LogisticRegression;
use super::mlp::Mlp;

/// Which model type to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ClassifierKind {
    /// L2 logistic regression (the shipped model type).
    #[default]
    Logistic,
    /// One-hidden-layer perceptron, 16 tanh units.
    Mlp,
    /// Both, fitted on the same rows; the mean of their log-odds.
    Fusion,
}

/// A fitted classifier on standardised statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "a classifier that matches no model type (a logistic regression needs weights \
                 and bias; an MLP hidden_weights, hidden_bias, output_weights and output_bias \
                 of matching sizes; a fusion logistic and mlp)"
)]
pub enum Classifier {
    /// Logistic regression.
    Logistic(LogisticRegression),
    /// Multilayer perceptron.
    Mlp(Mlp),
    /// Logistic regression and MLP averaged.
    Fusion(Fusion),
}

/// A logistic regression and an MLP on the same inputs, scored by the mean of their log-odds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fusion {
    /// The linear half.
    pub logistic: LogisticRegression,
    /// The non-linear half.
    pub mlp: Mlp,
}

impl Classifier {
    /// Log-odds for one standardised row.
    pub fn logit(&self, z: &[f64]) -> f64 {
        match self {
            Classifier::Logistic(m) => m.logit(z),
            Classifier::Mlp(m) => m.logit(z),
            Classifier::Fusion(f) => 0.5 * (f.logistic.logit(z) + f.mlp.logit(z)),
        }
    }

    /// The model type.
    pub fn kind(&self) -> ClassifierKind {
        match self {
            Classifier::Logistic(_) => ClassifierKind::Logistic,
            Classifier::Mlp(_) => ClassifierKind::Mlp,
            Classifier::Fusion(_) => ClassifierKind::Fusion,
        }
    }

    /// How many statistics a row must have.
    pub fn inputs(&self) -> usize {
        match self {
            Classifier::Logistic(m) => m.weights.len(),
            Classifier::Mlp(m) => m.inputs(),
            Classifier::Fusion(f) if f.logistic.weights.len() == f.mlp.inputs() => f.mlp.inputs(),
            // Halves of different widths fit no row.
            Classifier::Fusion(_) => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::mlp::MlpConfig;

    #[test]
    fn every_type_survives_a_json_round_trip() {
        let z = ndarray::array![[-1.0, 0.3], [-0.5, -0.2], [0.5, 0.1], [1.0, 0.4]];
        let (y, w) = ([0.0, 0.0, 1.0, 1.0], [1.0; 4]);
        let cfg = MlpConfig {
            epochs: 5,
            ..MlpConfig::default()
        };
        let logistic = LogisticRegression::fit(z.view(), &y, &w, 1.0);
        let mlp = Mlp::fit(z.view(), &y, &w, &cfg);
        for c in [
            Classifier::Logistic(logistic.clone()),
            Classifier::Mlp(mlp.clone()),
            Classifier::Fusion(Fusion { logistic, mlp }),
        ] {
            let back: Classifier = serde_json::from_str(&serde_json::to_string(&c).unwrap())
                .expect("reads what it writes");
            assert_eq!(back.kind(), c.kind());
            assert_eq!(back.inputs(), 2);
            for row in z.rows() {
                let row = row.to_vec();
                assert_eq!(back.logit(&row), c.logit(&row));
            }
        }
    }

    #[test]
    fn a_logistic_regression_reads_as_before() {
        let c: Classifier =
            serde_json::from_str(r#"{"weights": [1.0, -2.0], "bias": 0.5}"#).unwrap();
        assert_eq!(c.kind(), ClassifierKind::Logistic);
        assert_eq!(c.logit(&[1.0, 1.0]), -0.5);
    }

    #[test]
    fn inconsistent_mlp_shapes_are_refused() {
        for bad in [
            // Hidden rows of different lengths.
            r#"{"hidden_weights": [[1.0, 2.0], [1.0]], "hidden_bias": [0.0, 0.0], "output_weights": [1.0, 1.0], "output_bias": 0.0}"#,
            // Two hidden units, one output weight.
            r#"{"hidden_weights": [[1.0], [2.0]], "hidden_bias": [0.0, 0.0], "output_weights": [1.0], "output_bias": 0.0}"#,
            // No hidden unit.
            r#"{"hidden_weights": [], "hidden_bias": [], "output_weights": [], "output_bias": 0.0}"#,
        ] {
            let err = serde_json::from_str::<Classifier>(bad).unwrap_err();
            assert!(err.to_string().contains("of matching sizes"), "{err}");
        }
    }
}
