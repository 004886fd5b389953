//! `voxguard scan`: score files in parallel, stream records to stdout as they complete.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;

use anyhow::Context;
use clap::{Args, ValueEnum};
use rayon::prelude::*;

use voxguard::model::Model;
use voxguard::pipeline::{AnalysisConfig, ChannelMode};
use voxguard::report::{FileError, Format, Record, reporter};
use voxguard::scan::{Scanner, Thresholds, Verdict};
use voxguard::segment::SegmentConfig;

use super::files::{Input, expand};
use super::{EXIT_FAILED, EXIT_FLAGGED, progress, set_jobs};

/// Which verdicts make `--fail-on` exit with status 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any file judged `synthetic`.
    Synthetic,
    /// Any file judged `synthetic` or `inconclusive`.
    Inconclusive,
}

/// Arguments of `voxguard scan`.
#[derive(Args)]
pub struct ScanArgs {
    /// Audio files, or directories to search recursively for audio files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format [default: table on a terminal, jsonl otherwise].
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Files analysed in parallel (0 = one per core).
    #[arg(long, short = 'j', default_value_t = 0)]
    jobs: usize,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Model file [default: the built-in models/default.json].
    #[arg(long)]
    model: Option<PathBuf>,
    /// Segment length in seconds.
    #[arg(long, default_value_t = 4.0)]
    segment: f64,
    /// Step between segment starts in seconds.
    #[arg(long, default_value_t = 2.0)]
    hop: f64,
    /// Downmix channels (`mix`) or score each channel separately (`each`).
    #[arg(long, value_enum, default_value = "mix")]
    channels: ChannelMode,
    /// A file (or channel) scoring at or above this is `synthetic`.
    #[arg(long, default_value_t = 0.7)]
    synthetic_above: f64,
    /// A file (or channel) scoring at or below this is `human`.
    #[arg(long, default_value_t = 0.3)]
    human_below: f64,
    /// Seconds of speech a file needs for a verdict (else `not_applicable`).
    #[arg(long, default_value_t = 1.5)]
    min_speech: f64,
    /// Seconds of speech a segment needs to be scored (else its score is null).
    #[arg(long, default_value_t = 1.0)]
    min_segment_speech: f64,
    /// Longest recording accepted, in seconds; longer files are reported as errors.
    #[arg(long, default_value_t = 4.0 * 3600.0)]
    max_duration: f64,
    /// Exit with status 3 when any file gets this verdict (or worse).
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
}

/// Runs the scan and returns the documented exit status.
pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    set_jobs(args.jobs)?;
    let model = match &args.model {
        Some(p) => Model::load(p)?,
        None => Model::builtin()?,
    };
    let analysis = AnalysisConfig {
        segments: SegmentConfig {
            length_s: args.segment,
            hop_s: args.hop,
            min_speech_s: args.min_segment_speech,
            ..SegmentConfig::default()
        },
        channels: args.channels,
        max_duration_s: args.max_duration,
        ..AnalysisConfig::default()
    };
    let thresholds = Thresholds {
        synthetic: args.synthetic_above,
        human: args.human_below,
        min_speech_s: args.min_speech,
    };
    let scanner = Scanner::new(model, analysis, thresholds).context("invalid settings")?;
    let inputs = expand(&args.paths);
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Jsonl
    });
    let mut reporter = reporter(format);
    let pb = progress::bar(inputs.len(), args.quiet, "scanning");
    let (tx, rx) = mpsc::channel::<Record>();
    let (mut failed, mut flagged) = (0usize, 0usize);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = std::thread::scope(|s| -> std::io::Result<()> {
        s.spawn(|| {
            inputs.par_iter().for_each_with(tx, |tx, input| {
                let _ = tx.send(scan_one(&scanner, input));
            })
        });
        for record in rx {
            match &record {
                Record::Failed(_) => failed += 1,
                Record::Scored(r) => {
                    let hit = match args.fail_on {
                        Some(FailOn::Synthetic) => r.verdict == Verdict::Synthetic,
                        Some(FailOn::Inconclusive) => {
                            matches!(r.verdict, Verdict::Synthetic | Verdict::Inconclusive)
                        }
                        None => false,
                    };
                    flagged += hit as usize;
                }
            }
            pb.suspend(|| reporter.record(&mut out, &record))?;
            pb.inc(1);
        }
        reporter.finish(&mut out)?;
        out.flush()
    });
    pb.finish_and_clear();
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        other => other.context("writing the report")?,
    }
    Ok(if failed > 0 {
        ExitCode::from(EXIT_FAILED)
    } else if flagged > 0 {
        ExitCode::from(EXIT_FLAGGED)
    } else {
        ExitCode::SUCCESS
    })
}

fn scan_one(scanner: &Scanner, input: &Input) -> Record {
    match input {
        Input::File(path) => match scanner.scan(path) {
            Ok(report) => Record::Scored(Box::new(report)),
            Err(e) => Record::Failed(FileError {
                file: path.display().to_string(),
                error: e.to_string(),
            }),
        },
        Input::Unreadable(path, reason) => Record::Failed(FileError {
            file: path.display().to_string(),
            error: format!("{}: {reason}", path.display()),
        }),
    }
}
