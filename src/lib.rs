#![deny(unsafe_code)]
#![warn(missing_docs)]
#![doc = include_str!("../README.md")]
//!
//! ## Library map
//! The modules follow the pipeline: [`decode`] → [`resample`] → [`features`] → [`vad`] and
//! [`segment`] → [`model`] → [`scan`] → [`report`]; [`pipeline`] wires the analysis of one file;
//! [`dataset`], [`augment`], [`train`] and [`eval`] build and measure models.

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
