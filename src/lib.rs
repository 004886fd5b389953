#![deny(unsafe_code)]
#![warn(missing_docs)]
#![doc = include_str!("../README.md")]
//!
//! ## Library map
//! The modules follow the pipeline: [`decode`] → [`resample`] → [`features`] → [`vad`] and
//! [`segment`] → [`model`] → [`scan`] → [`report`]; [`pipeline`] wires the analysis of one file;
//! [`dataset`], [`augment`], [`source_shift`], [`train`] and [`eval`] build and measure models.

pub mod decode;
pub mod error;
pub mod features;
pub mod resample;
pub mod segment;
pub mod vad;

pub use error::{Error, Result};
pub mod augment;
pub mod dataset;
pub mod eval;
pub mod model;
pub mod pipeline;
pub mod plot;
pub mod report;
pub mod scan;
pub mod source_shift;
pub mod train;

/// Deterministic test signals shared by the unit tests.
#[cfg(test)]
pub(crate) mod test_signal {
    /// `n` samples of uniform white noise in `[-0.5, 0.5)` from a 64-bit LCG seeded by `seed`.
    pub fn noise(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect()
    }
}
