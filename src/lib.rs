#![deny(unsafe_code)]
#![warn(missing_docs)]
//! voxguard: tells whether a recorded voice is human or synthetic, segment by segment.
//!
//! The modules follow the pipeline: [`decode`] → [`resample`] → [`features`] → [`vad`] and
//! [`segment`] → [`model`] → [`report`]; [`pipeline`] wires them for one file, [`dataset`],
//! [`augment`], [`train`] and [`eval`] build and measure models.

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
pub mod report;
pub mod scan;
pub mod train;
