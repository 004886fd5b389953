//! The classifier a model file stores: any model type `train` and `eval --cv` can fit. In the
//! file the types are told apart by their fields (`weights`/`bias`, `hidden_weights`/...,
//! `logistic`/`mlp`, `real_mean`/...), so files written before the MLP could be saved read
//! unchanged.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::deviation::DeviationLogistic;
use super::gaussian::RealSpeechGaussian;
use super::logistic::LogisticRegression;
use super::mlp::Mlp;
use super::{positive_finite, weighted_mean_spread};

/// Which model type to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ClassifierKind {
    /// L2 logistic regression.
    Logistic,
    /// One-hidden-layer perceptron, 16 tanh units.
    Mlp,
    /// Both, fitted on the same rows; the mean of their log-odds.
    Fusion,
    /// A Gaussian of real speech alone (Ledoit-Wolf covariance), scored by the log of the
    /// squared Mahalanobis distance: it learns no generator. It reads the statistics of how
    /// speech moves, not those of the spectral envelope ([`crate::segment::one_class_inputs`]).
    OneClass,
    /// A logistic regression and a one-class Gaussian, fitted on the same rows; each score
    /// divided by its spread on the training rows, the Gaussian's counted twice; since 1.16.0
    /// with a logistic regression of the statistics' distances from real speech beside them
    /// (the shipped model type). Since 1.21.0 its logistic regression reads
    /// [`crate::segment::logistic_inputs`], not the LFCC deviations, and since 1.22.0 not the
    /// statistics that tell the training set's real sources apart
    /// ([`crate::source_shift::source_dependent`]).
    #[default]
    LogisticOneClass,
}

impl ClassifierKind {
    /// What the model type is, in a few words (model descriptions and `eval` titles).
    pub fn description(self) -> &'static str {
        match self {
            ClassifierKind::Logistic => "Logistic regression",
            ClassifierKind::Mlp => "MLP (16 tanh units)",
            ClassifierKind::Fusion => {
                "Mean log-odds of a logistic regression and an MLP (16 tanh units)"
            }
            ClassifierKind::OneClass => {
                "Distance from a Gaussian of real speech (Ledoit-Wolf covariance; spectral envelope \
                 left out)"
            }
            ClassifierKind::LogisticOneClass => {
                "Logistic regression plus twice the distance from a Gaussian of real speech \
                 (spectral envelope left out; each scaled to unit spread)"
            }
        }
    }
}

/// A fitted classifier on standardised statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "a classifier that matches no model type (a logistic regression needs weights \
                 and bias; an MLP hidden_weights, hidden_bias, output_weights and output_bias \
                 of matching sizes; a fusion logistic and mlp; a one-class Gaussian real_mean, \
                 covariance_cholesky and shrinkage; a logistic and one-class fusion logistic, \
                 one_class, logistic_scale and one_class_scale, and deviation with \
                 deviation_scale or neither)"
)]
pub enum Classifier {
    /// Logistic regression.
    Logistic(LogisticRegression),
    /// Multilayer perceptron.
    Mlp(Mlp),
    /// Logistic regression and MLP averaged.
    Fusion(Fusion),
    /// Distance from real speech.
    OneClass(RealSpeechGaussian),
    /// Logistic regression and distance from real speech, added (boxed: the largest type).
    LogisticOneClass(Box<LogisticOneClass>),
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

/// A logistic regression and a one-class Gaussian on the same inputs, and since 1.16.0 a
/// logistic regression of the statistics' distances from real speech. The score is `logistic /
/// logistic_scale + one_class / one_class_scale + deviation / deviation_scale`, the scales chosen
/// on the training rows so that the logistic part has unit spread, the one-class part a spread
/// of 2 and the deviation part a spread of its weight (1 in the shipped model): the Gaussian,
/// which knows no generator, ranks unseen generator families better (see the model card), the
/// logistic regression the families it was trained on, and the deviation model what leaving
/// real speech's range in either direction says. With a narrowband Gaussian, its test also picks
/// the real speech a row's distances are measured from (since 1.17.0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LogisticOneClassFile")]
pub struct LogisticOneClass {
    /// The discriminative half.
    pub logistic: LogisticRegression,
    /// The real-speech half.
    pub one_class: RealSpeechGaussian,
    /// Divides the logistic log-odds.
    pub logistic_scale: f64,
    /// Divides the one-class score.
    pub one_class_scale: f64,
    /// Since 1.13.0: a Gaussian of real narrowband speech, which scores narrowband rows in
    /// `one_class`'s place (a call is compared with real calls, not with full-band speech).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrowband: Option<NarrowbandGaussian>,
    /// Since 1.16.0: the model of the distances from real speech (since 1.17.0 of the row's
    /// channel, by `narrowband`'s test).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deviation: Option<DeviationLogistic>,
    /// Divides the deviation model's log-odds (present with `deviation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deviation_scale: Option<f64>,
}

/// A Gaussian of real narrowband speech (nothing above 4 kHz: telephone, GSM, 8 kHz audio) and
/// the test that picks it for a standardised row: the mean relative energies of the sub-bands
/// above 4 kHz all below their thresholds (−75 dB, here in standardised units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "NarrowbandGaussianFile")]
pub struct NarrowbandGaussian {
    /// The Gaussian of the real narrowband training rows.
    gaussian: RealSpeechGaussian,
    /// Statistics that must all lie below their threshold.
    bands: Vec<usize>,
    /// The thresholds, standardised.
    below: Vec<f64>,
}

/// A [`NarrowbandGaussian`] as read from a file, before it is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NarrowbandGaussianFile {
    gaussian: RealSpeechGaussian,
    bands: Vec<usize>,
    below: Vec<f64>,
}

impl TryFrom<NarrowbandGaussianFile> for NarrowbandGaussian {
    type Error = String;

    fn try_from(f: NarrowbandGaussianFile) -> Result<Self, String> {
        let inputs = f.gaussian.inputs();
        if f.bands.is_empty()
            || f.bands.len() != f.below.len()
            || f.bands.iter().any(|&i| i >= inputs)
            || f.below.iter().any(|t| !t.is_finite())
        {
            return Err(format!(
                "the narrowband Gaussian needs one finite threshold per band, each band one of its \
                 {inputs} statistics"
            ));
        }
        Ok(Self::new(f.gaussian, f.bands, f.below))
    }
}

impl NarrowbandGaussian {
    /// `gaussian` for the rows whose statistics `bands` all lie below `below` (standardised).
    pub fn new(gaussian: RealSpeechGaussian, bands: Vec<usize>, below: Vec<f64>) -> Self {
        Self {
            gaussian,
            bands,
            below,
        }
    }

    /// Whether a standardised row is narrowband.
    pub fn applies(&self, z: &[f64]) -> bool {
        below_all(z, &self.bands, &self.below)
    }
}

/// Whether every statistic `bands` of the standardised row `z` lies below its threshold in
/// `below`: the narrowband test, the same for the rows a narrowband Gaussian is fitted on and
/// the rows it scores.
pub fn below_all(z: &[f64], bands: &[usize], below: &[f64]) -> bool {
    bands.iter().zip(below).all(|(&i, &t)| z[i] < t)
}

/// A [`LogisticOneClass`] as read from a file, before its scales are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogisticOneClassFile {
    logistic: LogisticRegression,
    one_class: RealSpeechGaussian,
    logistic_scale: f64,
    one_class_scale: f64,
    #[serde(default)]
    narrowband: Option<NarrowbandGaussian>,
    #[serde(default)]
    deviation: Option<DeviationLogistic>,
    #[serde(default)]
    deviation_scale: Option<f64>,
}

impl TryFrom<LogisticOneClassFile> for LogisticOneClass {
    type Error = String;

    fn try_from(f: LogisticOneClassFile) -> Result<Self, String> {
        if !positive_finite(f.logistic_scale) || !positive_finite(f.one_class_scale) {
            return Err("a logistic and one-class fusion needs positive finite scales".into());
        }
        if f.deviation.is_some() != f.deviation_scale.is_some_and(positive_finite) {
            return Err("a deviation model needs a positive finite deviation_scale".into());
        }
        if f.deviation.as_ref().is_some_and(|d| d.has_narrowband()) && f.narrowband.is_none() {
            return Err(
                "a deviation model with a narrowband centre needs the narrowband Gaussian's test"
                    .into(),
            );
        }
        Ok(Self {
            logistic: f.logistic,
            one_class: f.one_class,
            logistic_scale: f.logistic_scale,
            one_class_scale: f.one_class_scale,
            narrowband: f.narrowband,
            deviation: f.deviation,
            deviation_scale: f.deviation_scale,
        })
    }
}

impl LogisticOneClass {
    /// Weight of the one-class part relative to the logistic part, in units of spread.
    pub const ONE_CLASS_WEIGHT: f64 = 2.0;

    /// Fuses the fitted parts (the one-class part with its narrowband Gaussian, if any; the
    /// deviation model with its weight, if any), scaling by their weighted spread over
    /// standardised rows `z`: the logistic part to unit spread, the others to their weight.
    pub fn new(
        logistic: LogisticRegression,
        one_class: RealSpeechGaussian,
        narrowband: Option<NarrowbandGaussian>,
        deviation: Option<(DeviationLogistic, f64)>,
        z: ArrayView2<'_, f64>,
        w: &[f64],
    ) -> Self {
        let spread = |f: &dyn Fn(&[f64]) -> f64| {
            let s: Vec<f64> = z.rows().into_iter().map(|r| f(&r.to_vec())).collect();
            // A constant score keeps its scale of 1 rather than dividing by zero.
            weighted_mean_spread(&s, w).1
        };
        let mut fused = Self {
            logistic,
            one_class,
            logistic_scale: 1.0,
            one_class_scale: 1.0,
            narrowband,
            deviation: None,
            deviation_scale: None,
        };
        fused.logistic_scale = spread(&|r| fused.logistic.logit(r));
        fused.one_class_scale =
            spread(&|r| fused.one_class_logit(r, fused.is_narrowband(r))) / Self::ONE_CLASS_WEIGHT;
        if let Some((d, weight)) = deviation {
            fused.deviation_scale = Some(spread(&|r| d.logit(r, fused.is_narrowband(r))) / weight);
            fused.deviation = Some(d);
        }
        fused
    }

    /// Whether a standardised row is narrowband by the narrowband Gaussian's test (never
    /// without one).
    fn is_narrowband(&self, z: &[f64]) -> bool {
        self.narrowband.as_ref().is_some_and(|n| n.applies(z))
    }

    /// The one-class score of one standardised row, narrowband (`narrow`, by
    /// [`Self::is_narrowband`]) or not: its distance from real speech of its channel.
    fn one_class_logit(&self, z: &[f64], narrow: bool) -> f64 {
        match &self.narrowband {
            Some(n) if narrow => n.gaussian.logit(z),
            _ => self.one_class.logit(z),
        }
    }

    /// The fused score of one standardised row.
    pub fn logit(&self, z: &[f64]) -> f64 {
        let narrow = self.is_narrowband(z);
        let deviation = match (&self.deviation, self.deviation_scale) {
            (Some(d), Some(scale)) => d.logit(z, narrow) / scale,
            _ => 0.0,
        };
        self.logistic.logit(z) / self.logistic_scale
            + self.one_class_logit(z, narrow) / self.one_class_scale
            + deviation
    }
}

impl Classifier {
    /// Log-odds for one standardised row.
    pub fn logit(&self, z: &[f64]) -> f64 {
        match self {
            Classifier::Logistic(m) => m.logit(z),
            Classifier::Mlp(m) => m.logit(z),
            Classifier::Fusion(f) => 0.5 * (f.logistic.logit(z) + f.mlp.logit(z)),
            Classifier::OneClass(g) => g.logit(z),
            Classifier::LogisticOneClass(f) => f.logit(z),
        }
    }

    /// The model type.
    pub fn kind(&self) -> ClassifierKind {
        match self {
            Classifier::Logistic(_) => ClassifierKind::Logistic,
            Classifier::Mlp(_) => ClassifierKind::Mlp,
            Classifier::Fusion(_) => ClassifierKind::Fusion,
            Classifier::OneClass(_) => ClassifierKind::OneClass,
            Classifier::LogisticOneClass(_) => ClassifierKind::LogisticOneClass,
        }
    }

    /// How many statistics a row must have.
    pub fn inputs(&self) -> usize {
        match self {
            Classifier::Logistic(m) => m.weights.len(),
            Classifier::Mlp(m) => m.inputs(),
            Classifier::Fusion(f) if f.logistic.weights.len() == f.mlp.inputs() => f.mlp.inputs(),
            Classifier::OneClass(g) => g.inputs(),
            Classifier::LogisticOneClass(f)
                if f.logistic.weights.len() == f.one_class.inputs()
                    && f.narrowband
                        .as_ref()
                        .is_none_or(|n| n.gaussian.inputs() == f.one_class.inputs())
                    && f.deviation
                        .as_ref()
                        .is_none_or(|d| d.inputs() == f.one_class.inputs()) =>
            {
                f.one_class.inputs()
            }
            // Halves of different widths fit no row.
            Classifier::Fusion(_) | Classifier::LogisticOneClass(_) => 0,
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
        let gaussian = RealSpeechGaussian::fit(z.view(), &y, &w, &[true; 2]).unwrap();
        let deviation =
            DeviationLogistic::fit(z.view(), &y, &w, None, &[true; 2], 1.0).map(|d| (d, 1.5));
        let both = LogisticOneClass::new(
            logistic.clone(),
            gaussian.clone(),
            None,
            deviation,
            z.view(),
            &w,
        );
        assert!(both.deviation.is_some());
        for c in [
            Classifier::Logistic(logistic.clone()),
            Classifier::Mlp(mlp.clone()),
            Classifier::Fusion(Fusion { logistic, mlp }),
            Classifier::OneClass(gaussian),
            Classifier::LogisticOneClass(Box::new(both)),
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
    fn narrowband_rows_are_measured_against_the_narrowband_gaussian() {
        // Column 0 plays the high band's energy: rows below -1 are narrowband. Real full-band
        // rows sit around column 1 = 0, real narrowband ones around 3.
        let z = ndarray::array![
            [0.0, -0.2],
            [0.5, 0.2],
            [1.0, 0.1],
            [-2.0, 2.8],
            [-2.5, 3.2],
            [-3.0, 3.0],
            [0.2, 5.0],
            [-2.2, 0.0]
        ];
        let y = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0];
        let w = [1.0; 8];
        let full_w = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let narrow_w = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0];
        let all = RealSpeechGaussian::fit(z.view(), &y, &full_w, &[false, true]).unwrap();
        let narrow = RealSpeechGaussian::fit(z.view(), &y, &narrow_w, &[false, true]).unwrap();
        let logistic = LogisticRegression::fit(z.view(), &y, &w, 1.0);
        let test = NarrowbandGaussian::new(narrow.clone(), vec![0], vec![-1.0]);
        let fused = LogisticOneClass::new(
            logistic,
            all.clone(),
            Some(test.clone()),
            None,
            z.view(),
            &w,
        );
        for row in z.rows() {
            let row = row.to_vec();
            let expected = if row[0] < -1.0 { &narrow } else { &all };
            assert_eq!(test.applies(&row), row[0] < -1.0);
            assert_eq!(fused.is_narrowband(&row), row[0] < -1.0);
            assert_eq!(
                fused.one_class_logit(&row, fused.is_narrowband(&row)),
                expected.logit(&row)
            );
        }
        // A narrowband row like the real calls is closer to real speech than it would be to the
        // full-band Gaussian, and the file keeps the Gaussian.
        let call = [-2.4, 3.0];
        assert!(narrow.logit(&call) < all.logit(&call));
        let back: LogisticOneClass =
            serde_json::from_str(&serde_json::to_string(&fused).unwrap()).unwrap();
        assert_eq!(back.logit(&call), fused.logit(&call));

        // The deviation model measures the rows the same test picks against real narrowband
        // speech: it is fitted with the test's flags and scores with them.
        let flags: Vec<bool> = z.rows().into_iter().map(|r| r[0] < -1.0).collect();
        let deviation =
            DeviationLogistic::fit(z.view(), &y, &w, Some(&flags), &[false, true], 1.0).unwrap();
        assert!(deviation.has_narrowband());
        let with = LogisticOneClass::new(
            LogisticRegression::fit(z.view(), &y, &w, 1.0),
            all.clone(),
            Some(test.clone()),
            Some((deviation.clone(), 1.0)),
            z.view(),
            &w,
        );
        let scale = with.deviation_scale.unwrap();
        for (row, &narrowband) in z.rows().into_iter().zip(&flags) {
            let row = row.to_vec();
            let added = with.logit(&row) - fused.logit(&row);
            let expected = deviation.logit(&row, narrowband) / scale;
            assert!((added - expected).abs() < 1e-9, "{added} {expected}");
        }
        assert!(deviation.logit(&call, true) < deviation.logit(&call, false));
        // Without the test the file could not tell which rows are narrowband.
        let mut json = serde_json::to_value(&with).unwrap();
        json.as_object_mut().unwrap().remove("narrowband");
        let err = serde_json::from_value::<LogisticOneClass>(json).unwrap_err();
        assert!(err.to_string().contains("narrowband"), "{err}");
        // Thresholds and bands must pair up and lie within the row.
        let json = serde_json::to_value(&test).unwrap();
        for (key, bad) in [
            ("below", serde_json::json!([])),
            ("bands", serde_json::json!([2])),
            ("below", serde_json::json!([null])),
        ] {
            let mut broken = json.clone();
            broken[key] = bad;
            assert!(
                serde_json::from_value::<NarrowbandGaussian>(broken).is_err(),
                "{key}"
            );
        }
    }

    #[test]
    fn the_deviation_model_is_added_at_its_weight_in_units_of_spread() {
        // Real rows around 0 in column 0; synthetic rows on both sides of them.
        let z = ndarray::array![
            [0.1, 0.3],
            [-0.2, -0.1],
            [0.0, 0.2],
            [0.2, -0.3],
            [2.5, 0.1],
            [-2.6, 0.0],
            [2.9, -0.2],
            [-2.4, 0.2]
        ];
        let y = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
        let w = [1.0; 8];
        let logistic = LogisticRegression::fit(z.view(), &y, &w, 1.0);
        let gaussian = RealSpeechGaussian::fit(z.view(), &y, &w, &[true; 2]).unwrap();
        let deviation = DeviationLogistic::fit(z.view(), &y, &w, None, &[true; 2], 1.0).unwrap();
        let without =
            LogisticOneClass::new(logistic.clone(), gaussian.clone(), None, None, z.view(), &w);
        let with = LogisticOneClass::new(
            logistic,
            gaussian,
            None,
            Some((deviation.clone(), 1.5)),
            z.view(),
            &w,
        );
        let parts: Vec<f64> = z
            .rows()
            .into_iter()
            .map(|r| deviation.logit(&r.to_vec(), false))
            .collect();
        let spread = weighted_mean_spread(&parts, &w).1;
        let scale = with.deviation_scale.unwrap();
        assert!((scale - spread / 1.5).abs() < 1e-12);
        for (row, part) in z.rows().into_iter().zip(&parts) {
            let row = row.to_vec();
            let added = with.logit(&row) - without.logit(&row);
            assert!((added - part / scale).abs() < 1e-9, "{added} {part}");
        }
        // A deviation model without its scale, or a scale without the model, is refused.
        let json = serde_json::to_value(&with).unwrap();
        for key in ["deviation", "deviation_scale"] {
            let mut broken = json.clone();
            broken.as_object_mut().unwrap().remove(key);
            assert!(
                serde_json::from_value::<LogisticOneClass>(broken).is_err(),
                "{key}"
            );
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
    fn a_fusion_with_a_zero_scale_is_refused() {
        let bad = r#"{"logistic": {"weights": [1.0], "bias": 0.0},
            "one_class": {"real_mean": [0.0], "covariance_cholesky": [[1.0]], "shrinkage": 0.1},
            "logistic_scale": 0.0, "one_class_scale": 1.0}"#;
        assert!(serde_json::from_str::<LogisticOneClass>(bad).is_err());
        let good = bad.replace("\"logistic_scale\": 0.0", "\"logistic_scale\": 2.0");
        let c: Classifier = serde_json::from_str(&good).unwrap();
        assert_eq!(c.kind(), ClassifierKind::LogisticOneClass);
        // z = 2: logistic 2 / 2 plus ln(2²) / 1.
        assert!((c.logit(&[2.0]) - (1.0 + 4f64.ln())).abs() < 1e-12);
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
