//! Integration tests through the real `voxguard` binary (one test binary, ripgrep-style).

mod util;

mod batch;
mod cli;
mod corpus;
mod features;
mod formats;
mod hostile;
mod invariance;
mod parity;
mod plot;
