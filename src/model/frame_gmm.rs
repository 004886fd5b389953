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

/// A fitted mixture over frames standardised by `center` and `scale`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "GmmFile", into = "GmmFile")]
pub struct DiagonalGmm {
    center: Vec<f64>,
    scale: Vec<f64>,
    weights: Vec<f64>,
    means: Array2<f64>,
    variances: Array2<f64>,
    /// `1 / σ²`, derived from `variances`.
    precisions: Array2<f64>,
    /// Per component: `ln w - ½ Σ ln(2π σ²)`, derived from the fields above.
    log_norm: Vec<f64>,
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
        let rows_ok = |m: &[Vec<f64>], positive: bool| {
            m.len() == k
                && m.iter().all(|r| {
                    r.len() == d && r.iter().all(|v| v.is_finite() && (!positive || *v > 0.0))
                })
        };
        let usable = k > 0
            && d > 0
            && f.scale.len() == d
            && f.scale.iter().all(|s| s.is_finite() && *s > 0.0)
            && f.weights.iter().all(|w| w.is_finite() && *w > 0.0)
            && rows_ok(&f.means, false)
            && rows_ok(&f.variances, true);
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
        if !(f.offset.is_finite() && f.scale.is_finite() && f.scale > 0.0) {
            return Err("a frame model needs a finite offset and a positive finite scale".into());
        }
        Ok(Self::new(f.gmm, f.offset, f.scale))
    }
}

impl FrameTerm {
    /// The term of `gmm` centred by `offset` and divided by `scale` (a scale that is not
    /// positive and finite, as from a constant score, becomes 1).
    pub fn new(gmm: DiagonalGmm, offset: f64, scale: f64) -> Self {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
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
        let log_norm = weights
            .iter()
            .zip(variances.rows())
            .map(|(w, v)| {
                w.ln()
                    - 0.5
                        * v.iter()
                            .map(|s| (std::f64::consts::TAU * s).ln())
                            .sum::<f64>()
            })
            .collect();
        Self {
            precisions: variances.mapv(f64::recip),
            center,
            scale,
            weights,
            means,
            variances,
            log_norm,
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
        let x = frames.mapv(f64::from);
        let center = x.mean_axis(Axis(0))?.to_vec();
        let scale: Vec<f64> = x
            .std_axis(Axis(0), 0.0)
            .iter()
            .map(|&s| if s > 1e-12 { s } else { 1.0 })
            .collect();
        let mut z = x;
        for mut row in z.rows_mut() {
            for ((v, c), s) in row.iter_mut().zip(&center).zip(&scale) {
                *v = (*v - c) / s;
            }
        }
        let mut gmm = kmeans_start(z.view(), k, cfg, center, scale);
        let mut previous = f64::NEG_INFINITY;
        for _ in 0..cfg.max_iter {
            let (stats, mean_ll) = gmm.expectation(z.view());
            gmm = gmm.maximisation(&stats, n, cfg.reg_covar);
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
        let mut z = vec![0.0; self.inputs()];
        let mut per_component = vec![0.0; self.components()];
        let total: f64 = frames
            .rows()
            .into_iter()
            .map(|row| {
                for (((o, &v), c), s) in z.iter_mut().zip(row).zip(&self.center).zip(&self.scale) {
                    *o = (f64::from(v) - c) / s;
                }
                self.component_log_likelihoods(&z, &mut per_component);
                log_sum_exp(&per_component)
            })
            .sum();
        Some(total / frames.nrows() as f64)
    }

    /// `ln w_k + ln N(z; μ_k, σ²_k)` for every component `k` into `out`, `z` standardised.
    fn component_log_likelihoods(&self, z: &[f64], out: &mut [f64]) {
        let d = z.len();
        let means = self.means.as_slice().expect("standard layout");
        let precisions = self.precisions.as_slice().expect("standard layout");
        let rows = means.chunks_exact(d).zip(precisions.chunks_exact(d));
        for ((o, (m, p)), norm) in out.iter_mut().zip(rows).zip(&self.log_norm) {
            let q: f64 = z
                .iter()
                .zip(m)
                .zip(p)
                .map(|((z, m), p)| (z - m) * (z - m) * p)
                .sum();
            *o = norm - 0.5 * q;
        }
    }

    /// E step over standardised rows `z`: responsibility-weighted sums (count, Σx, Σx² per
    /// component) and the mean log-likelihood under the current parameters.
    fn expectation(&self, z: ArrayView2<'_, f64>) -> (Sums, f64) {
        let (k, d) = self.means.dim();
        let n = z.nrows();
        let (sums, ll) = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let chunk = z.slice(ndarray::s![c * CHUNK..((c + 1) * CHUNK).min(n), ..]);
                let mut s = Sums::zeros(k, d);
                let mut ll = 0.0;
                let mut r = vec![0.0; k];
                for row in chunk.rows() {
                    let row = row.as_slice().expect("standard layout");
                    self.component_log_likelihoods(row, &mut r);
                    let total = log_sum_exp(&r);
                    ll += total;
                    r.iter_mut().for_each(|v| *v = (*v - total).exp());
                    s.add(row, &r);
                }
                (s, ll)
            })
            .collect::<Vec<_>>()
            .into_iter()
            // Summed in chunk order, so a fit does not depend on how rayon split the work.
            .fold((Sums::zeros(k, d), 0.0), |(a, x), (b, y)| {
                (a.merge(b), x + y)
            });
        (sums, ll / n as f64)
    }

    /// M step: new weights, means and variances from the E step's sums over `n` frames. A
    /// component no frame chose keeps its mean and variance at a negligible weight.
    fn maximisation(&self, s: &Sums, n: usize, reg: f64) -> Self {
        let mut means = self.means.clone();
        let mut variances = self.variances.clone();
        let floor = 10.0 * f64::EPSILON;
        let weights = s.count.iter().map(|c| c.max(floor) / n as f64).collect();
        for (c, &count) in s.count.iter().enumerate() {
            if count < floor {
                continue;
            }
            for j in 0..means.ncols() {
                let m = s.sum[[c, j]] / count;
                means[[c, j]] = m;
                variances[[c, j]] = (s.sum_sq[[c, j]] / count - m * m).max(0.0) + reg;
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

/// Responsibility-weighted sums of the E step.
struct Sums {
    count: Vec<f64>,
    sum: Array2<f64>,
    sum_sq: Array2<f64>,
}

impl Sums {
    fn zeros(k: usize, d: usize) -> Self {
        Self {
            count: vec![0.0; k],
            sum: Array2::zeros((k, d)),
            sum_sq: Array2::zeros((k, d)),
        }
    }

    fn add(&mut self, row: &[f64], resp: &[f64]) {
        let d = row.len();
        let sums = self.sum.as_slice_mut().expect("standard layout");
        let squares = self.sum_sq.as_slice_mut().expect("standard layout");
        let per_component = sums.chunks_exact_mut(d).zip(squares.chunks_exact_mut(d));
        for ((count, &r), (s, q)) in self.count.iter_mut().zip(resp).zip(per_component) {
            *count += r;
            for ((s, q), &v) in s.iter_mut().zip(q.iter_mut()).zip(row) {
                *s += r * v;
                *q += r * v * v;
            }
        }
    }

    fn merge(mut self, other: Sums) -> Self {
        self.count
            .iter_mut()
            .zip(&other.count)
            .for_each(|(a, b)| *a += b);
        self.sum += &other.sum;
        self.sum_sq += &other.sum_sq;
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

/// The starting mixture: k-means (k-means++ seeding, then Lloyd iterations) on standardised
/// rows `z`; each component gets its cluster's share, mean and variance.
fn kmeans_start(
    z: ArrayView2<'_, f64>,
    k: usize,
    cfg: &GmmConfig,
    center: Vec<f64>,
    scale: Vec<f64>,
) -> DiagonalGmm {
    let (n, d) = z.dim();
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
    let mut label = vec![0; n];
    for _ in 0..KMEANS_ITERATIONS {
        label = z
            .rows()
            .into_iter()
            .map(|r| {
                (0..k)
                    .min_by(|&a, &b| sq(r, centers.row(a)).total_cmp(&sq(r, centers.row(b))))
                    .expect("k > 0")
            })
            .collect();
        let mut sums = Array2::<f64>::zeros((k, d));
        let mut counts = vec![0usize; k];
        for (r, &l) in z.rows().into_iter().zip(&label) {
            sums.row_mut(l).scaled_add(1.0, &r);
            counts[l] += 1;
        }
        for (c, &count) in counts.iter().enumerate() {
            if count > 0 {
                centers.row_mut(c).assign(&(&sums.row(c) / count as f64));
            }
        }
    }
    let mut s = Sums::zeros(k, d);
    let mut one_hot = vec![0.0; k];
    for (r, &l) in z.rows().into_iter().zip(&label) {
        one_hot[l] = 1.0;
        s.add(r.as_slice().expect("standard layout"), &one_hot);
        one_hot[l] = 0.0;
    }
    let start = DiagonalGmm::new(
        center,
        scale,
        vec![1.0 / k as f64; k],
        centers,
        Array2::ones((k, d)),
    );
    start.maximisation(&s, n, cfg.reg_covar)
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
