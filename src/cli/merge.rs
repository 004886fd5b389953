//! `voxguard merge`: combine the results files of shards (or of several runs) into one, each
//! file once, and print the summary.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use voxguard::report::Record;

use super::results::Summary;
use super::write_atomically;

/// Arguments of `voxguard merge`.
#[derive(Args)]
pub struct MergeArgs {
    /// Results files (JSON lines) written by `scan --output`.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Write the merged results here (atomically) instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// No summary on stderr.
    #[arg(long, short)]
    quiet: bool,
}

/// Merges: a scored file is kept once per (path, SHA-256); a failure is kept only for a path
/// that was never scored, once. A partial last line (a killed run) is ignored with a warning.
pub fn run(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let mut scored: HashSet<(String, String)> = HashSet::new();
    let mut scored_paths: HashSet<String> = HashSet::new();
    let mut failures: HashMap<String, Record> = HashMap::new();
    let mut kept: Vec<Record> = Vec::new();
    let mut duplicates = 0usize;
    for path in &args.inputs {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let complete = text.rfind('\n').map_or(0, |i| i + 1);
        if complete < text.len() {
            eprintln!(
                "voxguard: {}: ignoring a partial last line (an interrupted run)",
                path.display()
            );
        }
        for (n, line) in text[..complete].lines().enumerate() {
            if line.is_empty() {
                continue;
            }
            let record: Record = serde_json::from_str(line).with_context(|| {
                format!("{} line {}: not a voxguard record", path.display(), n + 1)
            })?;
            match &record {
                Record::Scored(r) => {
                    if scored.insert((r.file.clone(), r.sha256.clone())) {
                        scored_paths.insert(r.file.clone());
                        kept.push(record);
                    } else {
                        duplicates += 1;
                    }
                }
                Record::Failed(e) => {
                    if failures.insert(e.file.clone(), record.clone()).is_some() {
                        duplicates += 1;
                    }
                }
            }
        }
    }
    let mut failed: Vec<Record> = failures
        .into_iter()
        .filter(|(file, _)| !scored_paths.contains(file))
        .map(|(_, r)| r)
        .collect();
    failed.sort_by_key(|r| match r {
        Record::Failed(e) => e.file.clone(),
        Record::Scored(r) => r.file.clone(),
    });
    kept.extend(failed);
    let mut out = Vec::new();
    let mut sum = Summary::default();
    for r in &kept {
        sum.count(r);
        serde_json::to_writer(&mut out, r)?;
        out.push(b'\n');
    }
    match &args.output {
        Some(path) => write_atomically(path, &out)?,
        None => std::io::stdout().lock().write_all(&out)?,
    }
    if !args.quiet {
        eprintln!(
            "voxguard: merged {} results files, {duplicates} duplicates removed",
            args.inputs.len()
        );
        sum.print(None, None);
    }
    Ok(ExitCode::SUCCESS)
}
