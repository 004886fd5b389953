//! A vectorisable approximation of `ln` for the loop that runs once per bin of every frame (the
//! log spectrum), where libm's scalar calls were a large part of the scan time. Its error (1e-6
//! relative) is far below what the features can resolve.

use std::f32::consts::LN_2;

/// Natural logarithm of a positive, normal `x` to within 1e-6 (relative, or absolute near 1);
/// branch-free so a loop over a spectrum vectorises.
#[inline]
pub fn ln(x: f32) -> f32 {
    let bits = x.to_bits();
    // x = m 2^e with m in [sqrt(1/2), sqrt(2)).
    let shifted = bits.wrapping_sub(0x3f35_04f3);
    let e = (shifted as i32 >> 23) as f32;
    let m = f32::from_bits((shifted & 0x007f_ffff).wrapping_add(0x3f35_04f3));
    // ln m = 2 atanh u, u = (m - 1) / (m + 1), |u| < 0.172.
    let u = (m - 1.0) / (m + 1.0);
    let u2 = u * u;
    2.0 * u * (1.0 + u2 * (1.0 / 3.0 + u2 * (1.0 / 5.0 + u2 * (1.0 / 7.0)))) + e * LN_2
}

/// `10 log10(x)` for positive, normal `x`, through [`ln`].
#[inline]
pub fn db(x: f32) -> f32 {
    ln(x) * (10.0 / std::f32::consts::LN_10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_matches_std_over_the_normal_range() {
        let mut worst = 0.0f32;
        let mut x = f32::MIN_POSITIVE;
        while x < 1e38 {
            for f in [1.0f32, 1.1, 1.41, 1.42, 1.7, 1.99] {
                let v = x * f;
                let exact = (v as f64).ln();
                let err = ((ln(v) as f64 - exact) / exact.abs().max(1.0)).abs() as f32;
                worst = worst.max(err);
            }
            x *= 2.0;
        }
        assert!(worst < 1e-6, "worst error {worst}");
        assert_eq!(ln(1.0), 0.0);
        assert!((db(1e-3) + 30.0).abs() < 1e-4);
    }
}
