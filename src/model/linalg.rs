//! The linear algebra training needs: Cholesky factorisation of a small symmetric
//! positive-definite matrix, for solving Newton steps of logistic regression and for whitening
//! by a covariance matrix (the one-class Gaussian).

use ndarray::{Array1, Array2};

/// The lower-triangular `l` with `l lᵀ = a` for symmetric positive-definite `a`; `None` if `a`
/// is not positive definite.
pub fn cholesky(a: &Array2<f64>) -> Option<Array2<f64>> {
    let n = a.nrows();
    let mut l = Array2::<f64>::zeros((n, n));
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum();
            if i == j {
                let d = a[[i, i]] - s;
                if d <= 0.0 || !d.is_finite() {
                    return None;
                }
                l[[i, j]] = d.sqrt();
            } else {
                l[[i, j]] = (a[[i, j]] - s) / l[[j, j]];
            }
        }
    }
    Some(l)
}

/// Solves `l y = b` for lower-triangular `l` by forward substitution (`b` yields `l`'s order).
pub fn solve_lower(l: &Array2<f64>, b: impl IntoIterator<Item = f64>) -> Array1<f64> {
    let mut y = Array1::<f64>::zeros(l.nrows());
    for (i, bi) in b.into_iter().enumerate() {
        let s: f64 = (0..i).map(|k| l[[i, k]] * y[k]).sum();
        y[i] = (bi - s) / l[[i, i]];
    }
    y
}

/// Solves `a x = b` for symmetric positive-definite `a`; `None` if `a` is not positive definite.
pub fn solve_spd(a: &Array2<f64>, b: &Array1<f64>) -> Option<Array1<f64>> {
    let n = b.len();
    let l = cholesky(a)?;
    let y = solve_lower(&l, b.iter().copied());
    let mut x = Array1::<f64>::zeros(n);
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l[[k, i]] * x[k]).sum();
        x[i] = (y[i] - s) / l[[i, i]];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn solves_a_known_system() {
        let a = array![[4.0, 2.0, 0.6], [2.0, 5.0, 1.0], [0.6, 1.0, 3.0]];
        let x_true = array![1.0, -2.0, 0.5];
        let b = a.dot(&x_true);
        let x = solve_spd(&a, &b).unwrap();
        assert!((&x - &x_true).iter().all(|d| d.abs() < 1e-12));
    }

    #[test]
    fn rejects_indefinite() {
        let a = array![[1.0, 2.0], [2.0, 1.0]];
        assert!(solve_spd(&a, &array![1.0, 1.0]).is_none());
    }
}
