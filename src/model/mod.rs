//! Stage 5: the classifier. A model is a versioned JSON data file (see `models/README.md`) holding
//! the feature settings it was trained with, a standardiser, a classifier on pooled segment
//! statistics (a logistic regression, a small MLP, a one-class Gaussian of real speech, or a
//! fusion of them, which since 1.16.0 can hold a logistic regression of the statistics' distances
//! from real speech too), an optional frame model and a Platt calibration fitted on held-out
//! folds.

pub mod calibration;
pub mod classifier;
pub mod deviation;
pub mod frame_gmm;
pub mod gaussian;
pub mod linalg;
pub mod logistic;
pub mod mlp;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::features::FeatureConfig;
use crate::segment::{Dynamics, DynamicsMode, stat_names};
use calibration::Platt;
use classifier::Classifier;
use frame_gmm::FrameTerm;
use logistic::Standardizer;

/// The `format` field every model file carries.
pub const MODEL_FORMAT: &str = "voxguard-model";
/// The model file layout version this build reads and writes.
pub const MODEL_FORMAT_VERSION: u32 = 1;

/// The default model, compiled in from `models/default.json`.
const BUILTIN_JSON: &str = include_str!("../../models/default.json");

/// A trained detector, as stored on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    /// Always `voxguard-model`.
    pub format: String,
    /// Layout version of this file (see [`MODEL_FORMAT_VERSION`]).
    pub format_version: u32,
    /// Short model name.
    pub name: String,
    /// Model version (bumped on every retrain that ships).
    pub version: String,
    /// One-line description.
    pub description: String,
    /// Frame features the model expects.
    pub features: FeatureConfig,
    /// Names of the pooled statistics, in the order of the weights.
    pub stats: Vec<String>,
    /// Feature standardisation.
    pub standardizer: Standardizer,
    /// The classifier on standardised statistics.
    pub classifier: Classifier,
    /// A frame model of real speech whose term is added to the classifier's score (models
    /// before 1.12.0 have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame_model: Option<FrameTerm>,
    /// Calibration of the classifier's log-odds into a probability.
    pub calibration: Platt,
    /// How the model was trained (data, exclusions, counts), for provenance.
    pub training: serde_json::Value,
}

/// A loaded model with its identity (name, version, SHA-256 of the file bytes).
#[derive(Debug, Clone)]
pub struct Model {
    /// The model's contents.
    pub file: ModelFile,
    /// SHA-256 of the model file, hex.
    pub sha256: String,
    /// Where it came from (`<built-in>` for the default).
    pub path: PathBuf,
}

impl Model {
    /// The default model shipped in `models/default.json`.
    pub fn builtin() -> Result<Self> {
        Self::from_json(
            BUILTIN_JSON.as_bytes(),
            PathBuf::from("<built-in models/default.json>"),
        )
    }

    /// Loads a model file.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::Model {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Self::from_json(&bytes, path.to_owned())
    }

    fn from_json(bytes: &[u8], path: PathBuf) -> Result<Self> {
        let bad = |reason: String| Error::Model {
            path: path.clone(),
            reason,
        };
        let file: ModelFile =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("not a model file: {e}")))?;
        if file.format != MODEL_FORMAT || file.format_version != MODEL_FORMAT_VERSION {
            return Err(bad(format!(
                "format {} v{} (this build reads {MODEL_FORMAT} v{MODEL_FORMAT_VERSION})",
                file.format, file.format_version
            )));
        }
        file.features.validate().map_err(|e| bad(e.to_string()))?;
        let expected = stat_names(&file.features);
        let d = expected.len();
        if file.stats != expected
            || file.standardizer.mean.len() != d
            || file.standardizer.scale.len() != d
            || file.classifier.inputs() != d
        {
            return Err(bad(format!(
                "statistics do not match its feature settings (expected {d})"
            )));
        }
        let dynamics = 2 * file.features.n_ceps;
        if let Some(frame) = &file.frame_model
            && frame.gmm.inputs() != dynamics
        {
            return Err(bad(format!(
                "frame model reads {} values per frame, its features give {dynamics}",
                frame.gmm.inputs()
            )));
        }
        Ok(Self {
            sha256: hex(&Sha256::digest(bytes)),
            file,
            path,
        })
    }

    /// Serialises the model as pretty JSON.
    pub fn to_json(file: &ModelFile) -> String {
        serde_json::to_string_pretty(file).expect("model serialises") + "\n"
    }

    /// How the segmenter must hand this model a segment's frame dynamics: none without a
    /// frame model, else already reduced to the frame model's term.
    pub fn dynamics_mode(&self) -> DynamicsMode {
        self.file
            .frame_model
            .clone()
            .map_or(DynamicsMode::Skip, |f| DynamicsMode::Score(Arc::new(f)))
    }

    /// The frame model's term for a segment's dynamics (0 without a frame model or dynamics).
    pub fn frame_term(&self, dynamics: Option<&Dynamics>) -> f64 {
        match (&self.file.frame_model, dynamics) {
            (_, Some(Dynamics::Term(t))) => *t,
            (Some(f), Some(Dynamics::Frames(d))) => f.score(d.view()),
            _ => 0.0,
        }
    }

    /// Uncalibrated log-odds for one segment's pooled statistics and frame dynamics.
    pub fn raw_logit(&self, stats: &[f32], dynamics: Option<&Dynamics>) -> f64 {
        let f = &self.file;
        segment_logit(
            &f.standardizer,
            &f.classifier,
            stats,
            self.frame_term(dynamics),
        )
    }

    /// Calibrated log-odds that the segment is synthetic.
    pub fn logit(&self, stats: &[f32], dynamics: Option<&Dynamics>) -> f64 {
        self.file.calibration.logit(self.raw_logit(stats, dynamics))
    }
}

/// A segment's uncalibrated log-odds: the classifier on its standardised statistics plus the
/// frame model's term (0 without one). Scanning and training both score segments with this.
pub fn segment_logit(
    standardizer: &Standardizer,
    classifier: &Classifier,
    stats: &[f32],
    frame_term: f64,
) -> f64 {
    classifier.logit(&standardizer.apply(stats)) + frame_term
}

/// Whether `x` can divide or weigh: finite and above 0 (what a model file's scales, weights and
/// variances must be).
pub(crate) fn positive_finite(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

/// Weighted mean and standard deviation of `values` (weights `w`); a spread of 0 becomes 1, so
/// a constant score can divide another without a division by zero.
pub fn weighted_mean_spread(values: &[f64], w: &[f64]) -> (f64, f64) {
    let total: f64 = w.iter().sum();
    let mean = values.iter().zip(w).map(|(v, w)| v * w).sum::<f64>() / total;
    let var = values
        .iter()
        .zip(w)
        .map(|(v, w)| w * (v - mean).powi(2))
        .sum::<f64>()
        / total;
    (mean, if var > 0.0 { var.sqrt() } else { 1.0 })
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use classifier::ClassifierKind;

    /// The shipped model's JSON with `edit` applied.
    fn edited(edit: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
        let mut v: serde_json::Value = serde_json::from_str(BUILTIN_JSON).unwrap();
        edit(&mut v);
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn the_builtin_model_is_of_the_default_type() {
        let m = Model::builtin().unwrap();
        assert_eq!(m.file.classifier.kind(), ClassifierKind::default());
        assert_eq!(m.file.classifier.kind(), ClassifierKind::LogisticOneClass);
        assert_eq!(m.file.classifier.inputs(), m.file.stats.len());
        assert_eq!(m.sha256.len(), 64);
    }

    #[test]
    fn the_builtin_logistic_regression_reads_its_inputs_alone() {
        let m = Model::builtin().unwrap();
        let Classifier::LogisticOneClass(f) = &m.file.classifier else {
            panic!("the shipped type");
        };
        let inputs = crate::segment::logistic_inputs(&crate::features::FeatureConfig::default());
        assert_eq!(inputs.len(), f.logistic.weights.len());
        // Left out: the 20 LFCC deviations, and the 12 statistics on which the corpus's real
        // sources differ by a pooled spread or more (`source_shift`; model card, "Changes in
        // 1.22.0").
        let source_dependent = [
            "lfcc13_mean",
            "dlfcc1_std",
            "dlfcc2_std",
            "dlfcc3_std",
            "dlfcc4_std",
            "dlfcc6_std",
            "dlfcc7_std",
            "dlfcc8_std",
            "dlfcc9_std",
            "dlfcc10_std",
            "band6_rel_db_std",
            "band7_rel_db_std",
        ];
        for ((name, &input), &w) in m.file.stats.iter().zip(&inputs).zip(&f.logistic.weights) {
            let read = input && !source_dependent.contains(&name.as_str());
            assert_eq!(w != 0.0, read, "{name}: weight {w}");
        }
        assert_eq!(inputs.iter().filter(|&&i| !i).count(), 20);
    }

    #[test]
    fn broken_model_files_are_refused_naming_the_file_and_the_reason() {
        let path = PathBuf::from("broken.json");
        let cases: [(Vec<u8>, &str); 4] = [
            (b"{ not json".to_vec(), "not a model file"),
            (
                edited(|v| v["format_version"] = 99.into()),
                "this build reads",
            ),
            (
                // The logistic half one statistic short of the one-class half.
                edited(|v| {
                    v["classifier"]["logistic"]["weights"]
                        .as_array_mut()
                        .unwrap()
                        .pop();
                }),
                "statistics do not match",
            ),
            (
                edited(|v| v["classifier"] = serde_json::json!({"weights": [1.0]})),
                "matches no model type",
            ),
        ];
        for (bytes, reason) in cases {
            let err = Model::from_json(&bytes, path.clone())
                .unwrap_err()
                .to_string();
            assert!(err.contains("broken.json") && err.contains(reason), "{err}");
        }
    }
}
