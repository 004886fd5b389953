//! A small multilayer perceptron (one tanh hidden layer) on standardised features, trained by
//! mini-batch Adam on the same weighted log-loss as the logistic regression. It is the second
//! model type `train` and `eval --cv` can fit (`--classifier mlp`).

use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

use super::logistic::sigmoid;

/// Size and training schedule of an [`Mlp`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MlpConfig {
    /// Hidden units.
    pub hidden: usize,
    /// Passes over the training rows (shuffled every pass).
    pub epochs: usize,
    /// Rows per Adam step.
    pub batch: usize,
    /// Adam step size.
    pub learning_rate: f64,
    /// L2 penalty on the weights (not the biases), on the scale of the logistic regression's.
    pub l2: f64,
    /// Seed of the weight initialisation.
    pub seed: u64,
}

impl Default for MlpConfig {
    fn default() -> Self {
        Self {
            hidden: 16,
            epochs: 300,
            batch: 200,
            learning_rate: 0.001,
            l2: 10.0,
            seed: 0,
        }
    }
}

/// A fitted network: `logit = w2 · tanh(W1 z + b1) + b2`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "MlpFile", into = "MlpFile")]
pub struct Mlp {
    w1: Array2<f64>,
    b1: Array1<f64>,
    w2: Array1<f64>,
    b2: f64,
}

/// An [`Mlp`] as a model file stores it: one row of input weights per hidden unit.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MlpFile {
    hidden_weights: Vec<Vec<f64>>,
    hidden_bias: Vec<f64>,
    output_weights: Vec<f64>,
    output_bias: f64,
}

impl TryFrom<MlpFile> for Mlp {
    type Error = String;

    fn try_from(f: MlpFile) -> Result<Self, String> {
        let h = f.hidden_weights.len();
        let d = f.hidden_weights.first().map_or(0, Vec::len);
        if h == 0 || d == 0 {
            return Err("an MLP needs at least one hidden unit and one input".into());
        }
        if f.hidden_weights.iter().any(|r| r.len() != d)
            || f.hidden_bias.len() != h
            || f.output_weights.len() != h
        {
            return Err(format!(
                "MLP weights of inconsistent shapes ({h} hidden units of {d} inputs expected)"
            ));
        }
        Ok(Self {
            w1: Array2::from_shape_vec((h, d), f.hidden_weights.concat())
                .map_err(|e| e.to_string())?,
            b1: Array1::from(f.hidden_bias),
            w2: Array1::from(f.output_weights),
            b2: f.output_bias,
        })
    }
}

impl From<Mlp> for MlpFile {
    fn from(m: Mlp) -> Self {
        Self {
            hidden_weights: m.w1.rows().into_iter().map(|r| r.to_vec()).collect(),
            hidden_bias: m.b1.to_vec(),
            output_weights: m.w2.to_vec(),
            output_bias: m.b2,
        }
    }
}

/// Adam's moment estimates for one parameter array.
struct Adam<D: ndarray::Dimension> {
    m: ndarray::Array<f64, D>,
    v: ndarray::Array<f64, D>,
}

impl<D: ndarray::Dimension> Adam<D> {
    fn new(shape: D) -> Self {
        Self {
            m: ndarray::Array::zeros(shape.clone()),
            v: ndarray::Array::zeros(shape),
        }
    }

    fn step(
        &mut self,
        param: &mut ndarray::Array<f64, D>,
        grad: &ndarray::Array<f64, D>,
        t: i32,
        lr: f64,
    ) {
        const B1: f64 = 0.9;
        const B2: f64 = 0.999;
        self.m
            .zip_mut_with(grad, |m, &g| *m = B1 * *m + (1.0 - B1) * g);
        self.v
            .zip_mut_with(grad, |v, &g| *v = B2 * *v + (1.0 - B2) * g * g);
        let (c1, c2) = (1.0 - B1.powi(t), 1.0 - B2.powi(t));
        ndarray::Zip::from(param)
            .and(&self.m)
            .and(&self.v)
            .for_each(|p, &m, &v| *p -= lr * (m / c1) / ((v / c2).sqrt() + 1e-8));
    }
}

impl Mlp {
    /// Fits on standardised rows `z`, labels `y` (1 = synthetic) and sample weights `w` (which
    /// sum to the number of rows), minimising the mean weighted log-loss plus
    /// `l2 / (2 n) * |weights|^2`.
    pub fn fit(z: ArrayView2<'_, f64>, y: &[f64], w: &[f64], cfg: &MlpConfig) -> Self {
        let (n, d) = z.dim();
        let h = cfg.hidden;
        let mut rng = Pcg64::seed_from_u64(cfg.seed);
        let mut uniform = |rows: usize, cols: usize, limit: f64| {
            Array2::from_shape_fn((rows, cols), |_| rng.random_range(-limit..limit))
        };
        // Glorot-uniform initialisation.
        let mut w1 = uniform(h, d, (6.0 / (d + h) as f64).sqrt());
        let mut w2 = uniform(h, 1, (6.0 / (h + 1) as f64).sqrt()).remove_axis(Axis(1));
        let (mut b1, mut b2) = (Array1::<f64>::zeros(h), Array1::<f64>::zeros(1));
        let decay = cfg.l2 / n as f64;
        let (mut a_w1, mut a_b1) = (Adam::new(w1.raw_dim()), Adam::new(b1.raw_dim()));
        let (mut a_w2, mut a_b2) = (Adam::new(w2.raw_dim()), Adam::new(b2.raw_dim()));
        let mut order: Vec<usize> = (0..n).collect();
        let mut t = 0;
        for _ in 0..cfg.epochs {
            order.shuffle(&mut rng);
            for rows in order.chunks(cfg.batch.max(1)) {
                t += 1;
                let zb = z.select(Axis(0), rows);
                let hidden = (zb.dot(&w1.t()) + &b1).mapv(f64::tanh);
                let p = (hidden.dot(&w2) + b2[0]).mapv(sigmoid);
                // The batch's share of the mean weighted log-loss's gradient.
                let g_out = Array1::from_iter(
                    rows.iter()
                        .zip(&p)
                        .map(|(&i, &p)| w[i] * (p - y[i]) / rows.len() as f64),
                );
                let g_w2 = hidden.t().dot(&g_out) + &w2 * decay;
                let g_b2 = Array1::from_elem(1, g_out.sum());
                let mut g_a = g_out
                    .insert_axis(Axis(1))
                    .dot(&w2.view().insert_axis(Axis(0)));
                g_a.zip_mut_with(&hidden, |g, &a| *g *= 1.0 - a * a);
                let g_w1 = g_a.t().dot(&zb) + &w1 * decay;
                let g_b1 = g_a.sum_axis(Axis(0));
                a_w1.step(&mut w1, &g_w1, t, cfg.learning_rate);
                a_b1.step(&mut b1, &g_b1, t, cfg.learning_rate);
                a_w2.step(&mut w2, &g_w2, t, cfg.learning_rate);
                a_b2.step(&mut b2, &g_b2, t, cfg.learning_rate);
            }
        }
        Self {
            w1,
            b1,
            w2,
            b2: b2[0],
        }
    }

    /// How many inputs a row must have.
    pub fn inputs(&self) -> usize {
        self.w1.ncols()
    }

    /// The log-odds for one standardised row.
    pub fn logit(&self, z: &[f64]) -> f64 {
        let hidden = (self.w1.dot(&ndarray::ArrayView1::from(z)) + &self.b1).mapv(f64::tanh);
        hidden.dot(&self.w2) + self.b2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points inside a circle of radius 1 are class 1: not linearly separable.
    fn circle(n: usize) -> (Array2<f64>, Vec<f64>) {
        let mut rng = Pcg64::seed_from_u64(9);
        let z = Array2::from_shape_fn((n, 2), |_| rng.random_range(-2.0..2.0));
        let y = z
            .rows()
            .into_iter()
            .map(|r| f64::from(r[0] * r[0] + r[1] * r[1] < 1.0))
            .collect();
        (z, y)
    }

    #[test]
    fn learns_a_boundary_a_linear_model_cannot() {
        let (z, y) = circle(600);
        let w = vec![1.0; y.len()];
        let cfg = MlpConfig {
            epochs: 600,
            learning_rate: 0.05,
            l2: 0.01,
            ..MlpConfig::default()
        };
        let mlp = Mlp::fit(z.view(), &y, &w, &cfg);
        // Rows whose log-odds have the sign of their label.
        let right = |logit: &dyn Fn(&[f64]) -> f64| {
            z.rows()
                .into_iter()
                .zip(&y)
                .filter(|(r, label)| (logit(r.as_slice().unwrap()) > 0.0) == (**label == 1.0))
                .count()
        };
        let correct = right(&|r| mlp.logit(r));
        assert!(
            correct as f64 / y.len() as f64 > 0.9,
            "{correct} of {}",
            y.len()
        );
        let linear = super::super::logistic::LogisticRegression::fit(z.view(), &y, &w, 0.01);
        let linear_correct = right(&|r| linear.logit(r));
        assert!(
            linear_correct < correct,
            "linear {linear_correct}, mlp {correct}"
        );
    }

    #[test]
    fn training_is_deterministic() {
        let (z, y) = circle(100);
        let w = vec![1.0; y.len()];
        let cfg = MlpConfig {
            epochs: 20,
            ..MlpConfig::default()
        };
        assert_eq!(
            Mlp::fit(z.view(), &y, &w, &cfg),
            Mlp::fit(z.view(), &y, &w, &cfg)
        );
    }
}
