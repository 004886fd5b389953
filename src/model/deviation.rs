//! A logistic regression on how far each statistic lies from real speech, whichever way. Generator
//! families push the same statistic to opposite sides of real speech (the pulse shape of one
//! family is steadier than speech's, of another less steady), so a weight on the statistic itself
//! learns the sides of the families in training; a weight on its distance from real speech learns
//! that leaving real speech's range is suspect, which carries over to families on the other side.
//! Unlike the one-class Gaussian it is trained on synthetic speech too, so it learns which
//! statistics' distances matter (models/HISTORY.md, "Changes in 1.16.0"). Real speech is that of
//! the row's channel: a call is measured against real calls, full-band speech against full-band
//! speech (since 1.17.0; models/HISTORY.md, "Changes in 1.17.0").

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
/// bias` over the statistics `inputs` selects of a standardised row `z`, with the centre and
/// spread of real speech of the row's channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DeviationFile", into = "DeviationFile")]
pub struct DeviationLogistic {
    /// Which statistics of a row it reads (its length is the row's).
    inputs: Vec<bool>,
    /// Real speech's weighted mean and standard deviation of each statistic read: of every real
    /// row, or (with `narrowband`) of the full-band ones.
    real: Reference,
    /// Since 1.17.0: the same of real narrowband speech, for the rows the classifier's
    /// narrowband test picks (a call is measured against real calls, as by the narrowband
    /// Gaussian).
    narrowband: Option<Reference>,
    /// One weight per distance (in units of the spread).
    weights: Vec<f64>,
    bias: f64,
}

/// Real speech's weighted mean and standard deviation of each statistic a deviation model reads
/// (as a file stores the narrowband one: `{"centre": [...], "spread": [...]}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reference {
    centre: Vec<f64>,
    spread: Vec<f64>,
}

impl Reference {
    /// The weighted mean and spread of `columns` of `z`; `None` without weight.
    fn fit(z: ArrayView2<'_, f64>, w: &[f64], columns: &[usize]) -> Option<Self> {
        if w.iter().sum::<f64>() <= 0.0 {
            return None;
        }
        let (centre, spread) = columns
            .iter()
            .map(|&j| weighted_mean_spread(&z.column(j).to_vec(), w))
            .unzip();
        Some(Self { centre, spread })
    }

    /// Whether it holds `d` finite centres and positive finite spreads, as a file must.
    fn fits(&self, d: usize) -> bool {
        self.centre.len() == d
            && self.spread.len() == d
            && self.spread.iter().all(|&s| s > 0.0 && s.is_finite())
            && self.centre.iter().all(|c| c.is_finite())
    }

    /// The capped distance of value `v` of the `k`-th statistic read from the centre.
    fn distance(&self, v: f64, k: usize) -> f64 {
        ((v - self.centre[k]).abs() / self.spread[k]).min(DISTANCE_CAP)
    }
}

/// A [`DeviationLogistic`] as a model file stores it, before it is checked.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviationFile {
    inputs: Vec<bool>,
    real_centre: Vec<f64>,
    real_spread: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    narrowband: Option<Reference>,
    weights: Vec<f64>,
    bias: f64,
}

impl TryFrom<DeviationFile> for DeviationLogistic {
    type Error = String;

    fn try_from(f: DeviationFile) -> Result<Self, String> {
        let d = f.inputs.iter().filter(|&&u| u).count();
        let real = Reference {
            centre: f.real_centre,
            spread: f.real_spread,
        };
        let fine = d > 0
            && real.fits(d)
            && f.narrowband.as_ref().is_none_or(|r| r.fits(d))
            && f.weights.len() == d
            && f.weights.iter().all(|v| v.is_finite())
            && f.bias.is_finite();
        if !fine {
            return Err(format!(
                "a deviation model reading {d} statistics needs {d} finite centres, positive \
                 spreads (for narrowband speech too, if it has any) and weights, and a finite bias"
            ));
        }
        Ok(Self {
            inputs: f.inputs,
            real,
            narrowband: f.narrowband,
            weights: f.weights,
            bias: f.bias,
        })
    }
}

impl From<DeviationLogistic> for DeviationFile {
    fn from(m: DeviationLogistic) -> Self {
        Self {
            inputs: m.inputs,
            real_centre: m.real.centre,
            real_spread: m.real.spread,
            narrowband: m.narrowband,
            weights: m.weights,
            bias: m.bias,
        }
    }
}

impl DeviationLogistic {
    /// Fits on the statistics `inputs` selects of the standardised rows `z` (labels `y`, 1 =
    /// synthetic; weights `w`; `narrow` flags the rows the classifier's narrowband test picks,
    /// `None` without one): real speech's centre and spread from the real rows (the full-band
    /// and the narrowband ones apart, given `narrow` and real rows of both), then an L2 logistic
    /// regression (penalty `l2`) on the standardised capped distances, its weights carried back
    /// to the distances themselves. `None` without real rows of positive weight or if `inputs`
    /// does not match the rows or selects nothing.
    pub fn fit(
        z: ArrayView2<'_, f64>,
        y: &[f64],
        w: &[f64],
        narrow: Option<&[bool]>,
        inputs: &[bool],
        l2: f64,
    ) -> Option<Self> {
        let columns: Vec<usize> = (0..inputs.len()).filter(|&j| inputs[j]).collect();
        if inputs.len() != z.ncols() || columns.is_empty() {
            return None;
        }
        // Real rows' weights, of one channel (`Some(true)`: narrowband) or of both.
        let real_w = |channel: Option<bool>| -> Vec<f64> {
            (0..y.len())
                .map(|i| {
                    let side = narrow.map(|n| n[i]);
                    let kept = y[i] == 0.0 && (channel.is_none() || channel == side);
                    if kept { w[i] } else { 0.0 }
                })
                .collect()
        };
        let split = narrow.and_then(|_| {
            let full = Reference::fit(z, &real_w(Some(false)), &columns)?;
            Some((full, Reference::fit(z, &real_w(Some(true)), &columns)?))
        });
        let (real, narrowband) = match split {
            Some((full, narrowband)) => (full, Some(narrowband)),
            None => (Reference::fit(z, &real_w(None), &columns)?, None),
        };
        let mut model = Self {
            inputs: inputs.to_vec(),
            real,
            narrowband,
            weights: vec![0.0; columns.len()],
            bias: 0.0,
        };
        let mut distances = Array2::from_shape_fn((z.nrows(), columns.len()), |(i, k)| {
            let side = narrow.is_some_and(|n| n[i]);
            model.reference(side).distance(z[[i, columns[k]]], k)
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

    /// Real speech of a row's channel: narrowband (`narrow`) or full band.
    fn reference(&self, narrow: bool) -> &Reference {
        match &self.narrowband {
            Some(r) if narrow => r,
            _ => &self.real,
        }
    }

    /// Whether it measures narrowband rows against real narrowband speech.
    pub fn has_narrowband(&self) -> bool {
        self.narrowband.is_some()
    }

    /// How many statistics a row must have.
    pub fn inputs(&self) -> usize {
        self.inputs.len()
    }

    /// The log-odds for one standardised row, narrowband (`narrow`, as the classifier's test
    /// finds it) or not.
    pub fn logit(&self, z: &[f64], narrow: bool) -> f64 {
        let reference = self.reference(narrow);
        let read = z.iter().zip(&self.inputs).filter(|(_, u)| **u);
        read.enumerate()
            .map(|(k, (&v, _))| self.weights[k] * reference.distance(v, k))
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
        let m = DeviationLogistic::fit(z.view(), &y, &w, None, &[true, true], 1.0).unwrap();
        // Both sides score above real speech's centre, and alike: a plain logistic regression
        // of the statistic would put them on opposite sides.
        let (low, mid, high) = (
            m.logit(&[-3.0, 0.0], false),
            m.logit(&[0.0, 0.0], false),
            m.logit(&[3.0, 0.0], false),
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
            m.logit(&[50.0, 0.0], false),
            m.logit(&[6.0 * m.real.spread[0] + m.real.centre[0], 0.0], false)
        );
    }

    #[test]
    fn only_the_selected_statistics_are_read() {
        let (z, y, w) = two_sided();
        let m = DeviationLogistic::fit(z.view(), &y, &w, None, &[false, true], 1.0).unwrap();
        assert_eq!(m.logit(&[-3.0, 0.1], false), m.logit(&[3.0, 0.1], false));
        assert_eq!(m.inputs(), 2);
        assert!(DeviationLogistic::fit(z.view(), &y, &w, None, &[true], 1.0).is_none());
        assert!(DeviationLogistic::fit(z.view(), &y, &w, None, &[false, false], 1.0).is_none());
        assert!(
            DeviationLogistic::fit(z.view(), &[1.0; 200], &w, None, &[true, true], 1.0).is_none()
        );
    }

    #[test]
    fn the_centre_and_spread_are_real_speechs() {
        let (z, y, w) = two_sided();
        let m = DeviationLogistic::fit(z.view(), &y, &w, None, &[true, true], 1.0).unwrap();
        let real = z.slice(ndarray::s![..100, 0]).to_vec();
        let (mean, spread) = weighted_mean_spread(&real, &[1.0; 100]);
        assert!(
            (m.real.centre[0] - mean).abs() < 1e-12 && (m.real.spread[0] - spread).abs() < 1e-12
        );
    }

    #[test]
    fn scores_as_the_regression_of_the_standardised_distances_it_was_fitted_as() {
        let (z, y, w) = two_sided();
        let m = DeviationLogistic::fit(z.view(), &y, &w, None, &[true, true], 1.0).unwrap();
        let distances = Array2::from_shape_fn(z.dim(), |(i, k)| m.real.distance(z[[i, k]], k));
        let scaler = Standardizer::fit(distances.view());
        let scaled = Array2::from_shape_fn(distances.dim(), |(i, k)| {
            (distances[[i, k]] - scaler.mean[k]) / scaler.scale[k]
        });
        let direct = LogisticRegression::fit(scaled.view(), &y, &w, 1.0);
        for (row, s) in z.rows().into_iter().zip(scaled.rows()) {
            let (folded, fitted) = (m.logit(&row.to_vec(), false), direct.logit(&s.to_vec()));
            assert!((folded - fitted).abs() < 1e-9, "{folded} {fitted}");
        }
    }

    /// [`two_sided`]'s rows, every other pair narrowband (flagged; a pair holds both sides of the
    /// synthetic rows) with its first statistic 4 higher, as a channel moves a statistic of real
    /// and synthetic speech alike.
    fn two_channels() -> (Array2<f64>, Vec<f64>, Vec<f64>, Vec<bool>) {
        let (mut z, y, w) = two_sided();
        let narrow: Vec<bool> = (0..z.nrows()).map(|i| (i / 2) % 2 == 1).collect();
        for (i, &n) in narrow.iter().enumerate() {
            if n {
                z[[i, 0]] += 4.0;
            }
        }
        (z, y, w, narrow)
    }

    #[test]
    fn narrowband_rows_are_measured_against_real_narrowband_speech() {
        let (z, y, w, narrow) = two_channels();
        let m =
            DeviationLogistic::fit(z.view(), &y, &w, Some(&narrow), &[true, true], 1.0).unwrap();
        assert!(m.has_narrowband());
        let (full, calls) = (&m.real, m.narrowband.as_ref().unwrap());
        assert!(full.centre[0].abs() < 0.2 && (calls.centre[0] - 4.0).abs() < 0.2);
        // Each channel's real speech scores alike; a real call read as full band would look far
        // from real speech, and a synthetic one is told apart within its channel.
        let (call, speech) = (m.logit(&[4.0, 0.0], true), m.logit(&[0.0, 0.0], false));
        assert!((call - speech).abs() < 0.2, "{call} {speech}");
        assert!(m.logit(&[4.0, 0.0], false) > call + 2.0);
        assert!(m.logit(&[7.0, 0.0], true) > call + 2.0 && m.logit(&[1.0, 0.0], true) > call + 2.0);
        // One centre for both channels sits between them.
        let one = DeviationLogistic::fit(z.view(), &y, &w, None, &[true, true], 1.0).unwrap();
        assert!(!one.has_narrowband() && (one.real.centre[0] - 2.0).abs() < 0.2);
        // Without real rows of one channel there is no split.
        let none = vec![false; narrow.len()];
        let m = DeviationLogistic::fit(z.view(), &y, &w, Some(&none), &[true, true], 1.0).unwrap();
        assert!(!m.has_narrowband());
    }

    #[test]
    fn survives_a_json_round_trip_and_rejects_a_broken_file() {
        let (z, y, w) = two_sided();
        let m = DeviationLogistic::fit(z.view(), &y, &w, None, &[true, false], 1.0).unwrap();
        let json = serde_json::to_string(&m).unwrap();
        assert!(!json.contains("narrowband"), "{json}");
        assert_eq!(serde_json::from_str::<DeviationLogistic>(&json).unwrap(), m);
        let broken = json.replace("\"real_spread\":[", "\"real_spread\":[-");
        let err = serde_json::from_str::<DeviationLogistic>(&broken).unwrap_err();
        assert!(err.to_string().contains("positive"), "{err}");

        let (z, y, w, narrow) = two_channels();
        let m =
            DeviationLogistic::fit(z.view(), &y, &w, Some(&narrow), &[true, true], 1.0).unwrap();
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<DeviationLogistic>(&json).unwrap(), m);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let mut halved = value.clone();
        halved["narrowband"]
            .as_object_mut()
            .unwrap()
            .remove("spread");
        assert!(serde_json::from_value::<DeviationLogistic>(halved).is_err());
        let mut one_spread = value.clone();
        one_spread["narrowband"]["spread"] = serde_json::json!([1.0]);
        let err = serde_json::from_value::<DeviationLogistic>(one_spread).unwrap_err();
        assert!(err.to_string().contains("narrowband"), "{err}");
    }
}
