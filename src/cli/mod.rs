//! Command-line layer: argument definitions and the glue from flags to library calls.
//!
//! Exit codes: 0 every input scored; 1 some inputs could not be read (or a command failed);
//! 2 usage error; 3 `--fail-on` matched a file (and none failed).

mod eval;
mod features;
mod files;
mod merge;
mod plot;
mod progress;
mod results;
mod scan;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit status when some inputs could not be read or a command failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit status when `--fail-on` matched a file.
pub const EXIT_FLAGGED: u8 = 3;

/// voxguard: is this voice human or synthetic? Scores every segment of a recording.
#[derive(Parser)]
#[command(version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Score recordings: files and directories (recursively), any common audio format.
    Scan(scan::ScanArgs),
    /// Train a model from a labelled manifest.
    Train(train::TrainArgs),
    /// Measure a model (or cross-validate training) on a labelled manifest.
    Eval(eval::EvalArgs),
    /// Export one file's frame-level features (spectrograms, cepstra, spectral statistics, F0)
    /// as .npy, .npz or .csv, computed as librosa computes them.
    Features(features::FeaturesArgs),
    /// Draw a recording's spectrogram (or a feature) above its per-segment synthetic
    /// likelihood, as PNG or SVG.
    Plot(plot::PlotArgs),
    /// Combine results files of shards or runs into one, each file once.
    Merge(merge::MergeArgs),
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::Train(args) => train::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Features(args) => features::run(args),
        Command::Plot(args) => plot::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("voxguard: error: {e:#}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// Sets the size of rayon's global pool (0 = one thread per core).
fn set_jobs(jobs: usize) -> anyhow::Result<()> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build_global()
        .map_err(|e| anyhow::anyhow!("cannot start {jobs} worker threads: {e}"))
}

/// Writes `bytes` to a temporary file beside `path`, syncs it, and renames it into place, so a
/// reader never sees a half-written file.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    // Temporary files are private (0600); results and models are ordinary data.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
