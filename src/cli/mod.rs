//! Command-line layer: argument definitions and the glue from flags to library calls.
//!
//! Exit codes: 0 every input scored; 1 some inputs could not be read (or a command failed);
//! 2 usage error; 3 `--fail-on` matched a file (and none failed).

mod eval;
mod files;
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
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::Train(args) => train::run(args),
        Command::Eval(args) => eval::run(args),
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
