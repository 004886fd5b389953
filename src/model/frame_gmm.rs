//! A diagonal-covariance Gaussian mixture of real speech's frame dynamics (the deltas and
//! delta-deltas of the cepstra, [`crate::segment::frame_dynamics`]). It is one-class like
//! [`super::gaussian::RealSpeechGaussian`], but reads frames instead of pooled statistics: a
//! segment whose frames move unlike real speech has a low mean log-likelihood, whichever
//! generator made it. Fitted by k-means then EM, as scikit-learn's
//! `GaussianMixture(covariance_type="diag")`; written here because the Rust mixture crates
//! (linfa-clustering) fit full covariances only.

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::logistic::Standardizer;
use super::positive_finite;

/// A fitted mixture over frames standardised by `center` and `scale`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "GmmFile", into = "GmmFile")]
pub struct DiagonalGmm {
    center: Vec<f64>,
    scale: Vec<f64>,
    weights: Vec<f64>,
    means: Array2<f64>,
    variances: Array2<f64>,
    /// The log-densities as one matrix product, derived from the fields above: a standardised
    /// frame `z` has `ln w_k + ln N(z; μ_k, σ²_k) = bias_k + [z, z²] · coef[.., k]`, the first
    /// `d` rows of `coef` being `μ / σ²` and the last `d` rows `-1 / 2σ²`.
    coef: Array2<f64>,
    /// Per component: `ln w - ½ Σ ln(2π σ²) - ½ Σ μ² / σ²`.
    bias: Vec<f64>,
}

/// A [`DiagonalGmm`] as a model file stores it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GmmFile {
    center: Vec<f64>,
    scale: Vec<f64>,
    weights: Vec<f64>,
    means: Vec<Vec<f64>>,
    variances: Vec<Vec<f64>>,
}

impl TryFrom<GmmFile> for DiagonalGmm {
    type Error = String;

    fn try_from(f: GmmFile) -> Result<Self, String> {
        let (k, d) = (f.weights.len(), f.center.len());
        let rows_ok = |m: &[Vec<f64>], valid: fn(f64) -> bool| {
            m.len() == k
                && m.iter()
                    .all(|r| r.len() == d && r.iter().all(|&v| valid(v)))
        };
        let usable = k > 0
            && d > 0
            && f.scale.len() == d
            && f.scale.iter().all(|&s| positive_finite(s))
            && f.weights.iter().all(|&w| positive_finite(w))
            && rows_ok(&f.means, f64::is_finite)
            && rows_ok(&f.variances, positive_finite);
        if !usable {
            return Err(format!(
                "a frame mixture of {k} components over {d} inputs needs {d} positive scales, \
                 {k} positive weights and {k} rows of {d} means and of {d} positive variances"
            ));
        }
        let matrix = |m: Vec<Vec<f64>>| {
            Array2::from_shape_vec((k, d), m.into_iter().flatten().collect()).expect("checked")
        };
        Ok(Self::new(
            f.center,
            f.scale,
            f.weights,
            matrix(f.means),
            matrix(f.variances),
        ))
    }
}

impl From<DiagonalGmm> for GmmFile {
    fn from(g: DiagonalGmm) -> Self {
        let rows = |m: &Array2<f64>| m.rows().into_iter().map(|r| r.to_vec()).collect();
        Self {
            means: rows(&g.means),
            variances: rows(&g.variances),
            center: g.center,
            scale: g.scale,
            weights: g.weights,
        }
    }
}

/// The frame mixture's term in a segment's score: `(-mean log-likelihood - offset) / scale`,
/// offset and scale set on the training rows so that the term is centred there and has the
/// chosen share of the score's spread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FrameTermFile")]
pub struct FrameTerm {
    /// The mixture of real speech's frame dynamics.
    pub gmm: DiagonalGmm,
    /// Mean of minus the mean log-likelihood over the training rows.
    pub offset: f64,
    /// Divides the centred term.
    pub scale: f64,
}

/// A [`FrameTerm`] as read from a file, before its scale is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameTermFile {
    gmm: DiagonalGmm,
    offset: f64,
    scale: f64,
}

impl TryFrom<FrameTermFile> for FrameTerm {
    type Error = String;

    fn try_from(f: FrameTermFile) -> Result<Self, String> {
        if !(f.offset.is_finite() && positive_finite(f.scale)) {
            return Err("a frame model needs a finite offset and a positive finite scale".into());
        }
        Ok(Self::new(f.gmm, f.offset, f.scale))
    }
}

impl FrameTerm {
    /// The term of `gmm` centred by `offset` and divided by `scale` (a scale that is not
    /// positive and finite, as from a constant score, becomes 1).
    pub fn new(gmm: DiagonalGmm, offset: f64, scale: f64) -> Self {
        let scale = if positive_finite(scale) { scale } else { 1.0 };
        Self { gmm, offset, scale }
    }

    /// The term for one segment's frame dynamics (0 without a frame).
    pub fn score(&self, dynamics: ArrayView2<'_, f32>) -> f64 {
        self.gmm
            .mean_log_likelihood(dynamics)
            .map_or(0.0, |ll| (-ll - self.offset) / self.scale)
    }
}

/// How a mixture is fitted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GmmConfig {
    /// Number of components.
    pub components: usize,
    /// Most EM iterations.
    pub max_iter: usize,
    /// EM stops when the mean log-likelihood gains less than this.
    pub tol: f64,
    /// Added to every variance (of standardised inputs), so no component collapses on a frame.
    pub reg_covar: f64,
    /// Seed of the k-means initialisation.
    pub seed: u64,
}

impl Default for GmmConfig {
    /// scikit-learn's settings of the trial that led to this model (`frame_gmm_check.py`).
    fn default() -> Self {
        Self {
            components: 32,
            max_iter: 50,
            tol: 1e-3,
            reg_covar: 1e-3,
            seed: 0,
        }
    }
}

/// Lloyd iterations of the k-means that places the initial components.
const KMEANS_ITERATIONS: usize = 10;

/// Frames per parallel work item in the E step.
const CHUNK: usize = 1024;

impl DiagonalGmm {
    fn new(
        center: Vec<f64>,
        scale: Vec<f64>,
        weights: Vec<f64>,
        means: Array2<f64>,
        variances: Array2<f64>,
    ) -> Self {
        let (k, d) = means.dim();
        let mut coef = Array2::zeros((2 * d, k));
        let mut bias = Vec::with_capacity(k);
        for (c, (m, v)) in means.rows().into_iter().zip(variances.rows()).enumerate() {
            let mut b = weights[c].ln();
            for (j, (&m, &v)) in m.iter().zip(v).enumerate() {
                coef[[j, c]] = m / v;
                coef[[d + j, c]] = -0.5 / v;
                b -= 0.5 * ((std::f64::consts::TAU * v).ln() + m * m / v);
            }
            bias.push(b);
        }
        Self {
            center,
            scale,
            weights,
            means,
            variances,
            coef,
            bias,
        }
    }

    /// Fits a mixture to the rows of `frames` (each a frame). `None` with fewer frames than
    /// components.
    pub fn fit(frames: ArrayView2<'_, f32>, cfg: &GmmConfig) -> Option<Self> {
        let (n, d) = frames.dim();
        let k = cfg.components;
        if k == 0 || d == 0 || n < k {
            return None;
        }
        let Standardizer {
            mean: center,
            scale,
        } = Standardizer::fit(frames.mapv(f64::from).view());
        let zz = with_squares(frames, &center, &scale);
        let mut gmm = kmeans_start(zz.view(), k, cfg, center, scale);
        let mut previous = f64::NEG_INFINITY;
        for _ in 0..cfg.max_iter {
            let (moments, mean_ll) = gmm.expectation(zz.view());
            gmm = gmm.maximisation(&moments, n, cfg.reg_covar);
            if mean_ll - previous < cfg.tol {
                break;
            }
            previous = mean_ll;
        }
        Some(gmm)
    }

    /// How many values a frame has.
    pub fn inputs(&self) -> usize {
        self.center.len()
    }

    /// How many components the mixture has.
    pub fn components(&self) -> usize {
        self.weights.len()
    }

    /// Mean log-likelihood of the rows of `frames`, or `None` without a frame.
    pub fn mean_log_likelihood(&self, frames: ArrayView2<'_, f32>) -> Option<f64> {
        if frames.nrows() == 0 {
            return None;
        }
        let zz = with_squares(frames, &self.center, &self.scale);
        let terms = self.log_terms(zz.view());
        let total: f64 = terms
            .rows()
            .into_iter()
            .map(|r| log_sum_exp(r.as_slice().expect("standard layout")))
            .sum();
        Some(total / frames.nrows() as f64)
    }

    /// `ln w_k + ln N(z; μ_k, σ²_k)` for every frame (row) and component `k` (column), from the
    /// frames' [`with_squares`] rows.
    fn log_terms(&self, zz: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut terms = zz.dot(&self.coef);
        for mut row in terms.rows_mut() {
            row.iter_mut().zip(&self.bias).for_each(|(t, b)| *t += b);
        }
        terms
    }

    /// E step over the [`with_squares`] rows `zz`: responsibility-weighted moments and the mean
    /// log-likelihood under the current parameters.
    fn expectation(&self, zz: ArrayView2<'_, f64>) -> (Moments, f64) {
        let n = zz.nrows();
        let (moments, ll) = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let chunk = zz.slice(ndarray::s![c * CHUNK..((c + 1) * CHUNK).min(n), ..]);
                let mut resp = self.log_terms(chunk);
                let mut ll = 0.0;
                for mut row in resp.rows_mut() {
                    let row = row.as_slice_mut().expect("standard layout");
                    let total = log_sum_exp(row);
                    ll += total;
                    row.iter_mut().for_each(|v| *v = (*v - total).exp());
                }
                (Moments::of(chunk, resp.view()), ll)
            })
            .collect::<Vec<_>>()
            .into_iter()
            // Summed in chunk order, so a fit does not depend on how rayon split the work.
            .reduce(|(a, x), (b, y)| (a.merge(b), x + y))
            .expect("n >= k > 0 frames");
        (moments, ll / n as f64)
    }

    /// M step: new weights, means and variances from the E step's moments over `n` frames. A
    /// component no frame chose keeps its mean and variance at a negligible weight.
    fn maximisation(&self, s: &Moments, n: usize, reg: f64) -> Self {
        let mut means = self.means.clone();
        let mut variances = self.variances.clone();
        let d = means.ncols();
        let floor = 10.0 * f64::EPSILON;
        let weights = s.count.iter().map(|c| c.max(floor) / n as f64).collect();
        for (c, &count) in s.count.iter().enumerate() {
            if count < floor {
                continue;
            }
            for j in 0..d {
                let m = s.sums[[c, j]] / count;
                means[[c, j]] = m;
                variances[[c, j]] = (s.sums[[c, d + j]] / count - m * m).max(0.0) + reg;
            }
        }
        Self::new(
            self.center.clone(),
            self.scale.clone(),
            weights,
            means,
            variances,
        )
    }
}

/// The frames standardised by `center` and `scale`, each row followed by its squares: `[z, z²]`,
/// so that log-densities and the E step's moments are matrix products.
fn with_squares(frames: ArrayView2<'_, f32>, center: &[f64], scale: &[f64]) -> Array2<f64> {
    let (n, d) = frames.dim();
    let mut zz = Array2::zeros((n, 2 * d));
    for (mut out, row) in zz.rows_mut().into_iter().zip(frames.rows()) {
        for (j, ((&v, c), s)) in row.iter().zip(center).zip(scale).enumerate() {
            let z = (f64::from(v) - c) / s;
            out[j] = z;
            out[d + j] = z * z;
        }
    }
    zz
}

/// Responsibility-weighted moments of the E step: per component the count, and the sums of
/// `[z, z²]` (one row of `2d` per component).
struct Moments {
    count: Vec<f64>,
    sums: Array2<f64>,
}

impl Moments {
    /// The moments of the [`with_squares`] rows `zz` under responsibilities `resp` (one row
    /// per frame, one column per component).
    fn of(zz: ArrayView2<'_, f64>, resp: ArrayView2<'_, f64>) -> Self {
        Self {
            count: resp.sum_axis(Axis(0)).to_vec(),
            sums: resp.t().dot(&zz),
        }
    }

    fn merge(mut self, other: Moments) -> Self {
        self.count
            .iter_mut()
            .zip(&other.count)
            .for_each(|(a, b)| *a += b);
        self.sums += &other.sums;
        self
    }
}

/// `ln Σ exp(v)` without overflow.
fn log_sum_exp(v: &[f64]) -> f64 {
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    max + v.iter().map(|x| (x - max).exp()).sum::<f64>().ln()
}

/// The starting mixture: k-means (k-means++ seeding, then Lloyd iterations) on the standardised
/// frames of the [`with_squares`] rows `zz`; each component gets its cluster's share, mean and
/// variance.
fn kmeans_start(
    zz: ArrayView2<'_, f64>,
    k: usize,
    cfg: &GmmConfig,
    center: Vec<f64>,
    scale: Vec<f64>,
) -> DiagonalGmm {
    let n = zz.nrows();
    let d = zz.ncols() / 2;
    let z = zz.slice(ndarray::s![.., ..d]);
    let mut rng = Pcg64::seed_from_u64(cfg.seed);
    let sq = |a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>| -> f64 {
        a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
    };
    let mut centers = Array2::<f64>::zeros((k, d));
    centers.row_mut(0).assign(&z.row(rng.random_range(0..n)));
    let mut nearest: Vec<f64> = z
        .rows()
        .into_iter()
        .map(|r| sq(r, centers.row(0)))
        .collect();
    for c in 1..k {
        let total: f64 = nearest.iter().sum();
        let mut pick = rng.random_range(0.0..1.0) * total;
        let chosen = nearest
            .iter()
            .position(|&v| {
                pick -= v;
                pick <= 0.0
            })
            .unwrap_or(n - 1);
        centers.row_mut(c).assign(&z.row(chosen));
        for (v, r) in nearest.iter_mut().zip(z.rows()) {
            *v = v.min(sq(r, centers.row(c)));
        }
    }
    let mut one_hot = Array2::<f64>::zeros((n, k));
    for _ in 0..KMEANS_ITERATIONS {
        // The nearest centre minimises |c|² - 2 z·c.
        let norms: Vec<f64> = centers.rows().into_iter().map(|c| c.dot(&c)).collect();
        let cross = z.dot(&centers.t());
        one_hot.fill(0.0);
        for (row, mut out) in cross.rows().into_iter().zip(one_hot.rows_mut()) {
            let nearest = (0..k)
                .min_by(|&a, &b| (norms[a] - 2.0 * row[a]).total_cmp(&(norms[b] - 2.0 * row[b])))
                .expect("k > 0");
            out[nearest] = 1.0;
        }
        let counts = one_hot.sum_axis(Axis(0));
        let sums = one_hot.t().dot(&z);
        for (c, &count) in counts.iter().enumerate() {
            if count > 0.0 {
                centers.row_mut(c).assign(&(&sums.row(c) / count));
            }
        }
    }
    let start = DiagonalGmm::new(
        center,
        scale,
        vec![1.0 / k as f64; k],
        centers,
        Array2::ones((k, d)),
    );
    start.maximisation(&Moments::of(zz, one_hot.view()), n, cfg.reg_covar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_pcg::Pcg64;

    /// `n` frames from two 2-D Gaussians: 70 % around (-4, 0) with unit spread, 30 % around
    /// (4, 2) with spread 0.5.
    fn two_clusters(n: usize, seed: u64) -> Array2<f32> {
        let mut rng = Pcg64::seed_from_u64(seed);
        let mut normal = || {
            // Box-Muller.
            let (u, v): (f64, f64) = (rng.random_range(1e-12..1.0), rng.random_range(0.0..1.0));
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        };
        Array2::from_shape_fn((n, 2), |(i, j)| {
            let first = i % 10 < 7;
            let (m, s) = match (first, j) {
                (true, 0) => (-4.0, 1.0),
                (true, _) => (0.0, 1.0),
                (false, 0) => (4.0, 0.5),
                (false, _) => (2.0, 0.5),
            };
            (m + s * normal()) as f32
        })
    }

    fn fitted(components: usize) -> DiagonalGmm {
        let cfg = GmmConfig {
            components,
            max_iter: 100,
            tol: 1e-6,
            ..GmmConfig::default()
        };
        DiagonalGmm::fit(two_clusters(4000, 1).view(), &cfg).unwrap()
    }

    #[test]
    fn em_recovers_two_clusters() {
        let g = fitted(2);
        // Back to the original units to compare with the generating parameters.
        let mut found: Vec<(f64, f64, f64, f64)> = (0..2)
            .map(|c| {
                let m0 = g.means[[c, 0]] * g.scale[0] + g.center[0];
                let m1 = g.means[[c, 1]] * g.scale[1] + g.center[1];
                let sd0 = g.variances[[c, 0]].sqrt() * g.scale[0];
                (g.weights[c], m0, m1, sd0)
            })
            .collect();
        found.sort_by(|a, b| a.1.total_cmp(&b.1));
        let expected = [(0.7, -4.0, 0.0, 1.0), (0.3, 4.0, 2.0, 0.5)];
        for (f, e) in found.iter().zip(expected) {
            assert!((f.0 - e.0).abs() < 0.02, "weight {f:?}");
            assert!(
                (f.1 - e.1).abs() < 0.1 && (f.2 - e.2).abs() < 0.1,
                "mean {f:?}"
            );
            assert!((f.3 - e.3).abs() < 0.1, "spread {f:?}");
        }
    }

    #[test]
    fn unseen_frames_from_the_same_source_score_higher_than_shifted_ones() {
        let g = fitted(4);
        let same = two_clusters(1000, 2);
        let shifted = same.mapv(|v| v + 1.5);
        let (a, b) = (
            g.mean_log_likelihood(same.view()).unwrap(),
            g.mean_log_likelihood(shifted.view()).unwrap(),
        );
        assert!(a > b + 1.0, "same {a}, shifted {b}");
        assert_eq!(g.mean_log_likelihood(Array2::zeros((0, 2)).view()), None);
    }

    #[test]
    fn the_log_likelihood_of_one_component_is_the_gaussian_density() {
        // One frame at the mean of a single unit-variance component in 2-D: ln(1 / 2π).
        let g = DiagonalGmm::new(
            vec![0.0; 2],
            vec![1.0; 2],
            vec![1.0],
            Array2::zeros((1, 2)),
            Array2::ones((1, 2)),
        );
        let ll = g.mean_log_likelihood(Array2::zeros((1, 2)).view()).unwrap();
        assert!((ll + std::f64::consts::TAU.ln()).abs() < 1e-12, "{ll}");
    }

    #[test]
    fn fitting_is_deterministic_and_survives_a_json_round_trip() {
        let (a, b) = (fitted(3), fitted(3));
        assert_eq!(a, b);
        let back: DiagonalGmm = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        let x = two_clusters(50, 3);
        assert_eq!(
            back.mean_log_likelihood(x.view()),
            a.mean_log_likelihood(x.view())
        );
    }

    #[test]
    fn too_few_frames_or_a_broken_file_are_refused() {
        let cfg = GmmConfig::default();
        assert!(DiagonalGmm::fit(Array2::<f32>::zeros((10, 2)).view(), &cfg).is_none());
        let bad = r#"{"center": [0.0], "scale": [1.0], "weights": [1.0],
            "means": [[0.0]], "variances": [[0.0]]}"#;
        let err = serde_json::from_str::<DiagonalGmm>(bad).unwrap_err();
        assert!(err.to_string().contains("positive variances"), "{err}");
    }
}
