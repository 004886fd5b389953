//! A one-class model of real speech: a Gaussian fitted to the bonafide rows only, with
//! Ledoit-Wolf shrinkage of its covariance. A segment's score is the log of its squared
//! Mahalanobis distance from real speech, so the model knows no generator: what it flags is
//! speech unlike the real speech it was fitted on (`--classifier one-class`). It reads a chosen
//! subset of the statistics (`inputs`), so that it can leave out those that describe who speaks
//! rather than how the speech was made.

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::linalg::{cholesky, solve_lower};

/// A fitted Gaussian: `logit = ln((z - mean)ᵀ Σ⁻¹ (z - mean))` with `Σ = L Lᵀ`, `z` the
/// statistics of a row that `inputs` selects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "GaussianFile", into = "GaussianFile")]
pub struct RealSpeechGaussian {
    /// Which statistics of a row the Gaussian reads (its length is the row's).
    inputs: Vec<bool>,
    mean: Array1<f64>,
    /// Lower-triangular Cholesky factor of the shrunk covariance.
    chol: Array2<f64>,
    /// Ledoit-Wolf shrinkage intensity towards a scaled identity (0 = sample covariance).
    shrinkage: f64,
}

/// A [`RealSpeechGaussian`] as a model file stores it: row `i` of the Cholesky factor holds its
/// `i + 1` entries up to the diagonal. Files written before `inputs` existed (models up to
/// 1.9.0) read every statistic.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GaussianFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    inputs: Option<Vec<bool>>,
    real_mean: Vec<f64>,
    covariance_cholesky: Vec<Vec<f64>>,
    shrinkage: f64,
}

impl TryFrom<GaussianFile> for RealSpeechGaussian {
    type Error = String;

    fn try_from(f: GaussianFile) -> Result<Self, String> {
        let d = f.real_mean.len();
        let shaped = d > 0
            && f.covariance_cholesky.len() == d
            && f.covariance_cholesky
                .iter()
                .enumerate()
                .all(|(i, r)| r.len() == i + 1 && r[i] > 0.0 && r.iter().all(|v| v.is_finite()));
        if !shaped {
            return Err(format!(
                "a one-class Gaussian of {d} inputs needs {d} Cholesky rows of lengths 1..={d} \
                 with positive diagonals"
            ));
        }
        let inputs = f.inputs.unwrap_or_else(|| vec![true; d]);
        if inputs.iter().filter(|&&u| u).count() != d {
            return Err(format!(
                "a one-class Gaussian of {d} inputs needs {d} of its `inputs` set to true"
            ));
        }
        let mut chol = Array2::zeros((d, d));
        for (i, row) in f.covariance_cholesky.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                chol[[i, j]] = v;
            }
        }
        Ok(Self {
            inputs,
            mean: Array1::from(f.real_mean),
            chol,
            shrinkage: f.shrinkage,
        })
    }
}

impl From<RealSpeechGaussian> for GaussianFile {
    fn from(g: RealSpeechGaussian) -> Self {
        Self {
            inputs: Some(g.inputs),
            covariance_cholesky: g
                .chol
                .rows()
                .into_iter()
                .enumerate()
                .map(|(i, r)| r.iter().take(i + 1).copied().collect())
                .collect(),
            real_mean: g.mean.to_vec(),
            shrinkage: g.shrinkage,
        }
    }
}

impl RealSpeechGaussian {
    /// Fits on the statistics that `inputs` selects (one flag per column) of the rows of `z`
    /// whose label `y` is 0 (real speech), each weighted by `w`. The covariance is shrunk
    /// towards `μ I` (μ its mean variance) by the Ledoit-Wolf intensity, with the weights'
    /// effective sample size in place of the row count (with equal weights this is
    /// scikit-learn's `LedoitWolf`). `None` without real rows of positive weight, or if
    /// `inputs` does not match the rows or selects nothing.
    pub fn fit(z: ArrayView2<'_, f64>, y: &[f64], w: &[f64], inputs: &[bool]) -> Option<Self> {
        let columns: Vec<usize> = (0..inputs.len()).filter(|&j| inputs[j]).collect();
        if inputs.len() != z.ncols() || columns.is_empty() {
            return None;
        }
        let z = z.select(ndarray::Axis(1), &columns);
        let d = z.ncols();
        let real: Vec<usize> = (0..z.nrows())
            .filter(|&i| y[i] == 0.0 && w[i] > 0.0)
            .collect();
        let total: f64 = real.iter().map(|&i| w[i]).sum();
        if real.is_empty() || !total.is_finite() {
            return None;
        }
        let v: Vec<f64> = real.iter().map(|&i| w[i] / total).collect();
        let mut mean = Array1::<f64>::zeros(d);
        for (&i, &vi) in real.iter().zip(&v) {
            mean.scaled_add(vi, &z.row(i));
        }
        let mut cov = Array2::<f64>::zeros((d, d));
        let mut fourth = 0.0;
        for (&i, &vi) in real.iter().zip(&v) {
            let x = &z.row(i) - &mean;
            let x2 = x.view().insert_axis(ndarray::Axis(1));
            cov.scaled_add(vi, &x2.dot(&x2.t()));
            fourth += vi * x.dot(&x).powi(2);
        }
        let mu = cov.diag().sum() / d as f64;
        let n_eff = 1.0 / v.iter().map(|x| x * x).sum::<f64>();
        let sq = cov.iter().map(|c| c * c).sum::<f64>();
        // ||S - μI||² / d and the estimated variance of S's entries, as Ledoit and Wolf (2004).
        let delta = (sq - 2.0 * mu * cov.diag().sum() + d as f64 * mu * mu) / d as f64;
        let beta = ((fourth - sq) / (d as f64 * n_eff)).min(delta);
        // At least a trace of shrinkage, so fewer rows than features still give an invertible
        // covariance.
        let shrinkage = if beta <= 0.0 { 0.0 } else { beta / delta }.max(1e-9);
        let mut shrunk = cov * (1.0 - shrinkage);
        shrunk.diag_mut().mapv_inplace(|c| c + shrinkage * mu);
        // A constant feature leaves μ = 0 and no positive-definite covariance.
        let chol = cholesky(&shrunk)?;
        Some(Self {
            inputs: inputs.to_vec(),
            mean,
            chol,
            shrinkage,
        })
    }

    /// How many statistics a row must have.
    pub fn inputs(&self) -> usize {
        self.inputs.len()
    }

    /// Squared Mahalanobis distance of a standardised row from real speech.
    pub fn distance2(&self, z: &[f64]) -> f64 {
        // u = L⁻¹ (z - mean), distance² = |u|².
        let read = z.iter().zip(&self.inputs).filter(|(_, u)| **u);
        let centred = read.zip(&self.mean).map(|((z, _), m)| z - m);
        solve_lower(&self.chol, centred).iter().map(|x| x * x).sum()
    }

    /// The raw score, larger for rows unlike real speech: `ln(distance²)`.
    pub fn logit(&self, z: &[f64]) -> f64 {
        self.distance2(z).max(1e-300).ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Every statistic of a three-column row.
    const ALL: [bool; 3] = [true; 3];

    /// Six rows, three features; the expected figures are scikit-learn 1.9's `LedoitWolf`.
    fn rows() -> Array2<f64> {
        array![
            [1.0, 2.0, 0.5],
            [0.3, -1.0, 1.5],
            [-0.7, 0.4, -0.2],
            [2.0, 1.1, 0.9],
            [-1.2, -0.8, 0.1],
            [0.5, 0.0, -1.3]
        ]
    }

    #[test]
    fn equal_weights_match_scikit_learn_ledoit_wolf() {
        let z = rows();
        let g = RealSpeechGaussian::fit(z.view(), &[0.0; 6], &[1.0; 6], &ALL).unwrap();
        assert!((g.shrinkage - 0.8228909344138549).abs() < 1e-12);
        let mean = [0.3166666666666667, 0.2833333333333333, 0.25];
        assert!(g.mean.iter().zip(mean).all(|(a, b)| (a - b).abs() < 1e-12));
        let covariance = g.chol.dot(&g.chol.t());
        assert!((covariance[[0, 1]] - 0.11930263445733388).abs() < 1e-12);
        assert!((covariance[[2, 2]] - 0.955021507095109).abs() < 1e-12);
        assert!((g.distance2(&[0.2, -0.5, 1.0]) - 1.1971877998840437).abs() < 1e-10);
        assert!((g.distance2(&[3.0, 3.0, 3.0]) - 20.218631507617747).abs() < 1e-9);
    }

    #[test]
    fn only_real_rows_count_and_weights_act_as_repeats() {
        let z = rows();
        // Two spoof rows added far away change nothing.
        let mut more = z.clone();
        more.push_row(array![50.0, -40.0, 9.0].view()).unwrap();
        more.push_row(array![-30.0, 20.0, 7.0].view()).unwrap();
        let mut y = vec![0.0; 6];
        y.extend([1.0, 1.0]);
        let a = RealSpeechGaussian::fit(z.view(), &[0.0; 6], &[1.0; 6], &ALL).unwrap();
        let b = RealSpeechGaussian::fit(more.view(), &y, &[1.0; 8], &ALL).unwrap();
        assert_eq!(a.distance2(&[1.0, 1.0, 1.0]), b.distance2(&[1.0, 1.0, 1.0]));
        // Doubling a row's weight moves the mean as repeating it does.
        let mut rep = z.clone();
        rep.push_row(z.row(0)).unwrap();
        let c = RealSpeechGaussian::fit(rep.view(), &[0.0; 7], &[1.0; 7], &ALL).unwrap();
        let mut w = [1.0; 6];
        w[0] = 2.0;
        let d = RealSpeechGaussian::fit(z.view(), &[0.0; 6], &w, &ALL).unwrap();
        assert!((&c.mean - &d.mean).iter().all(|x| x.abs() < 1e-12));
        assert!(RealSpeechGaussian::fit(z.view(), &[1.0; 6], &[1.0; 6], &ALL).is_none());
    }

    #[test]
    fn far_rows_score_higher_and_the_file_form_round_trips() {
        let z = rows();
        let g = RealSpeechGaussian::fit(z.view(), &[0.0; 6], &[1.0; 6], &ALL).unwrap();
        assert!(g.logit(&[5.0, -5.0, 5.0]) > g.logit(&[0.3, 0.3, 0.2]));
        let back: RealSpeechGaussian =
            serde_json::from_str(&serde_json::to_string(&g).unwrap()).unwrap();
        assert_eq!(back, g);
        for bad in [
            r#"{"real_mean": [0.0, 0.0], "covariance_cholesky": [[1.0], [0.5]], "shrinkage": 0.1}"#,
            r#"{"real_mean": [0.0], "covariance_cholesky": [[-1.0]], "shrinkage": 0.1}"#,
            r#"{"real_mean": [], "covariance_cholesky": [], "shrinkage": 0.1}"#,
        ] {
            let err = serde_json::from_str::<RealSpeechGaussian>(bad).unwrap_err();
            assert!(err.to_string().contains("Cholesky rows"), "{err}");
        }
    }

    #[test]
    fn inputs_select_the_statistics_read() {
        let z = rows();
        let two =
            RealSpeechGaussian::fit(z.view(), &[0.0; 6], &[1.0; 6], &[true, false, true]).unwrap();
        let columns = z.select(ndarray::Axis(1), &[0, 2]);
        let alone =
            RealSpeechGaussian::fit(columns.view(), &[0.0; 6], &[1.0; 6], &[true; 2]).unwrap();
        assert_eq!(two.inputs(), 3);
        // The middle statistic is not read: any value of it gives the two-column distance.
        for middle in [-9.0, 0.0, 40.0] {
            assert_eq!(
                two.distance2(&[0.7, middle, -1.1]),
                alone.distance2(&[0.7, -1.1])
            );
        }
        assert!(RealSpeechGaussian::fit(z.view(), &[0.0; 6], &[1.0; 6], &[false; 3]).is_none());
        assert!(RealSpeechGaussian::fit(z.view(), &[0.0; 6], &[1.0; 6], &[true; 2]).is_none());
        // The file keeps the selection; a file without one (models up to 1.9.0) reads every
        // statistic; a selection of the wrong size is refused.
        let back: RealSpeechGaussian =
            serde_json::from_str(&serde_json::to_string(&two).unwrap()).unwrap();
        assert_eq!(back, two);
        let old = r#"{"real_mean": [0.0, 0.0], "covariance_cholesky": [[1.0], [0.0, 1.0]], "shrinkage": 0.1}"#;
        let g: RealSpeechGaussian = serde_json::from_str(old).unwrap();
        assert_eq!(g.inputs(), 2);
        assert_eq!(g.distance2(&[3.0, 4.0]), 25.0);
        let bad = old.replace('{', r#"{"inputs": [true, false, false], "#);
        let err = serde_json::from_str::<RealSpeechGaussian>(&bad).unwrap_err();
        assert!(err.to_string().contains("`inputs` set to true"), "{err}");
    }
}
