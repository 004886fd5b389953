//! The library's error type: what went wrong with one input, or with a configuration.

use std::path::PathBuf;

/// Result alias used across voxguard.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything voxguard's library can fail with.
///
/// Per-file errors always carry the path, so a batch report can say which file failed and why.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read (missing, permission denied, I/O failure).
    #[error("{path}: cannot read: {error}")]
    Io {
        /// The input that failed.
        path: PathBuf,
        /// The underlying I/O error, part of the message (not a separate `source()`, so a
        /// chain-printing caller does not repeat it).
        error: std::io::Error,
    },
    /// The file is not audio in any container voxguard can read (or is empty).
    #[error("{path}: not a recognised audio file: {reason}")]
    UnknownFormat {
        /// The input that failed.
        path: PathBuf,
        /// Why the probe failed.
        reason: String,
    },
    /// The container was recognised but its codec cannot be decoded.
    #[error("{path}: unsupported codec {codec}")]
    UnsupportedCodec {
        /// The input that failed.
        path: PathBuf,
        /// Human-readable codec name (e.g. "AMR-NB", "G.726 ADPCM").
        codec: String,
    },
    /// The stream is malformed, truncated or otherwise undecodable.
    #[error("{path}: corrupt or truncated audio: {reason}")]
    Corrupt {
        /// The input that failed.
        path: PathBuf,
        /// What the decoder reported.
        reason: String,
    },
    /// The stream declares something voxguard refuses to process (0 Hz, too many channels, too long).
    #[error("{path}: limit exceeded: {reason}")]
    Limit {
        /// The input that failed.
        path: PathBuf,
        /// Which limit and by how much.
        reason: String,
    },
    /// A model file is missing, malformed or incompatible with this version.
    #[error("model {path}: {reason}")]
    Model {
        /// The model file (or `<built-in>`).
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A dataset manifest is malformed.
    #[error("manifest {path}: {reason}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// `eval --copy supplied` found no single copy of a clip in the folder of copies.
    #[error("{clip}: no single copy in {dir}: {reason}")]
    NoCopy {
        /// The manifest's clip.
        clip: PathBuf,
        /// The folder of copies.
        dir: PathBuf,
        /// None there, more than one, or another clip of the manifest has its name.
        reason: &'static str,
    },
    /// An analysis setting is out of range (segment length, hop, thresholds...).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A figure could not be drawn or encoded.
    #[error("cannot draw the figure: {0}")]
    Plot(String),
}
