//! `voxguard scan`: score files in parallel, stream records to stdout as they complete.

use std::io::{IsTerminal, Write};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use rayon::prelude::*;

use voxguard::model::Model;
use voxguard::pipeline::{AnalysisConfig, ChannelMode};
use voxguard::report::{FileError, Format, Record, reporter};
use voxguard::scan::{Scanner, Thresholds, Verdict, sha256_file};
use voxguard::segment::SegmentConfig;
use voxguard::train::stable_hash;

use super::files::{Input, expand};
use super::results::{Done, ResultsFile, Summary};
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
    #[arg(long, default_value_t = SegmentConfig::default().hop_s)]
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
    /// Seconds of speech a file needs for a `synthetic` verdict: short real speech scores high,
    /// so a shorter file scoring high is `inconclusive`, with a note.
    #[arg(long, default_value_t = Thresholds::default().synthetic_min_speech_s)]
    synthetic_min_speech: f64,
    /// Seconds of speech a segment needs to be scored (else its score is null).
    #[arg(long, default_value_t = 1.0)]
    min_segment_speech: f64,
    /// Longest recording accepted, in seconds; longer files are reported as errors.
    #[arg(long, default_value_t = 4.0 * 3600.0)]
    max_duration: f64,
    /// Exit with status 3 when any file gets this verdict (or worse).
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Append one JSON line per file to this results file (stdout then stays empty unless
    /// `--format` is given). An existing non-empty file needs `--resume`.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Skip files already scored in the `--output` file (same path and SHA-256); files that
    /// failed before are tried again.
    #[arg(long, requires = "output")]
    resume: bool,
    /// Scan only shard K of N (K from 0 to N-1): inputs are split by a hash of their path, so
    /// N runs with the same arguments cover every file exactly once. Combine with `merge`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    shard: Option<Shard>,
}

/// One of N deterministic parts of the input list.
#[derive(Debug, Clone, Copy)]
pub struct Shard {
    index: u64,
    count: u64,
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    let (k, n) = s.split_once('/').ok_or("expected K/N, e.g. 0/8")?;
    let index: u64 = k
        .trim()
        .parse()
        .map_err(|_| format!("K in {s:?} is not a number"))?;
    let count: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("N in {s:?} is not a number"))?;
    if count == 0 || index >= count {
        return Err(format!("need 0 <= K < N (got {index}/{count})"));
    }
    Ok(Shard { index, count })
}

/// What happened to one input.
enum Outcome {
    /// Scored or failed now.
    Done(Record),
    /// Already in the results file.
    Skipped,
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
        synthetic_min_speech_s: args.synthetic_min_speech,
    };
    let scanner = Scanner::new(model, analysis, thresholds).context("invalid settings")?;
    let mut inputs = expand(&args.paths);
    if let Some(shard) = args.shard {
        inputs
            .retain(|i| stable_hash(&i.path().display().to_string()) % shard.count == shard.index);
    }
    let (mut results, done) = match &args.output {
        Some(path) => {
            let (file, done) = ResultsFile::open(path, args.resume)?;
            (Some(file), done)
        }
        None => (None, Done::new()),
    };
    let format = match (args.format, &args.output) {
        (Some(f), _) => Some(f),
        (None, Some(_)) => None,
        (None, None) if std::io::stdout().is_terminal() => Some(Format::Table),
        (None, None) => Some(Format::Jsonl),
    };
    let mut reporter = format.map(reporter);
    let pb = progress::bar(inputs.len(), args.quiet, "scanning");
    let (tx, rx) = mpsc::channel::<Outcome>();
    let mut sum = Summary::default();
    let started = Instant::now();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = std::thread::scope(|s| -> anyhow::Result<()> {
        s.spawn(|| {
            inputs.par_iter().for_each_with(tx, |tx, input| {
                let _ = tx.send(scan_guarded(&scanner, input, &done));
            })
        });
        for outcome in rx {
            pb.inc(1);
            let Outcome::Done(record) = outcome else {
                sum.skipped += 1;
                continue;
            };
            sum.count(&record);
            match &record {
                Record::Failed(_) => {}
                Record::Scored(r) => {
                    let hit = match args.fail_on {
                        Some(FailOn::Synthetic) => r.verdict == Verdict::Synthetic,
                        Some(FailOn::Inconclusive) => {
                            matches!(r.verdict, Verdict::Synthetic | Verdict::Inconclusive)
                        }
                        None => false,
                    };
                    sum.flagged += hit as usize;
                }
            }
            if let Some(file) = results.as_mut() {
                file.append(&record)
                    .context("appending to the results file")?;
            }
            if let Some(rep) = reporter.as_mut() {
                pb.suspend(|| rep.record(&mut out, &record))?;
            }
        }
        if let Some(rep) = reporter.as_mut() {
            rep.finish(&mut out)?;
        }
        out.flush()?;
        if let Some(file) = &results {
            file.sync().context("syncing the results file")?;
        }
        Ok(())
    });
    pb.finish_and_clear();
    if let Err(e) = written {
        let closed_pipe = e
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe);
        if closed_pipe {
            return Ok(ExitCode::SUCCESS);
        }
        return Err(e.context("writing the report"));
    }
    if !args.quiet {
        sum.print(
            Some(started.elapsed().as_secs_f64()),
            args.output.as_deref(),
        );
    }
    Ok(if sum.failed > 0 {
        ExitCode::from(EXIT_FAILED)
    } else if sum.flagged > 0 {
        ExitCode::from(EXIT_FLAGGED)
    } else {
        ExitCode::SUCCESS
    })
}

fn scan_one(scanner: &Scanner, input: &Input, done: &Done) -> Outcome {
    let (path, result) = match input {
        Input::File(path) => {
            let name = path.display().to_string();
            let result = sha256_file(path).and_then(|sha| {
                if done.contains(&(name.clone(), sha.clone())) {
                    return Ok(None);
                }
                scanner.scan_hashed(path, sha).map(Some)
            });
            (path, result.map_err(|e| e.to_string()))
        }
        Input::Unreadable(path, reason) => (path, Err(format!("{}: {reason}", path.display()))),
    };
    match result {
        Ok(None) => Outcome::Skipped,
        Ok(Some(report)) => Outcome::Done(Record::Scored(Box::new(report))),
        Err(error) => Outcome::Done(Record::Failed(FileError {
            file: path.display().to_string(),
            error,
        })),
    }
}

/// [`scan_one`], with a panic (a bug) turned into that file's error so the batch goes on.
fn scan_guarded(scanner: &Scanner, input: &Input, done: &Done) -> Outcome {
    std::panic::catch_unwind(AssertUnwindSafe(|| scan_one(scanner, input, done))).unwrap_or_else(
        |panic| {
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown");
            Outcome::Done(Record::Failed(FileError {
                file: input.path().display().to_string(),
                error: format!(
                    "{}: internal error while analysing (please report): {what}",
                    input.path().display()
                ),
            }))
        },
    )
}
