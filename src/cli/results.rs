//! The `--output` results file: JSON lines appended one complete line per file, and what a
//! `--resume` run may skip.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use anyhow::Context;

use voxguard::report::Record;
use voxguard::scan::Verdict;

/// An append-only JSON-lines results file.
pub struct ResultsFile {
    file: File,
}

/// Files already scored in an earlier run: `(path as recorded, sha256)`.
pub type Done = HashSet<(String, String)>;

impl ResultsFile {
    /// Opens (creating) `path` for appending. With `resume`, reads the records already there,
    /// cuts off a trailing partial line left by a killed run, and returns the scored files.
    /// Without `resume`, an existing non-empty file is refused rather than mixed into.
    pub fn open(path: &Path, resume: bool) -> anyhow::Result<(Self, Done)> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        let mut text = Vec::new();
        file.read_to_end(&mut text)
            .with_context(|| format!("reading {}", path.display()))?;
        if !resume && !text.is_empty() {
            anyhow::bail!(
                "{} already holds results: pass --resume to continue it, or choose another file",
                path.display()
            );
        }
        let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if complete < text.len() {
            // A run killed mid-write left a partial line: drop it so the file stays valid.
            file.set_len(complete as u64)?;
            file.seek(SeekFrom::End(0))?;
        }
        let mut done = Done::new();
        for (n, line) in text[..complete].split(|&b| b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let record: Record = serde_json::from_slice(line).with_context(|| {
                format!("{} line {}: not a voxguard record", path.display(), n + 1)
            })?;
            if let Record::Scored(r) = record {
                done.insert((r.file, r.sha256));
            }
        }
        Ok((Self { file }, done))
    }

    /// Appends one record as one line, in a single write, and flushes it to the OS.
    pub fn append(&mut self, record: &Record) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.flush()
    }

    /// Forces the appended records to disk.
    pub fn sync(&self) -> std::io::Result<()> {
        self.file.sync_data()
    }
}

/// Counts for the closing summary of `scan` and `merge`.
#[derive(Default)]
pub struct Summary {
    /// Inputs seen.
    pub files: usize,
    /// Inputs skipped because already in the results file.
    pub skipped: usize,
    /// Inputs that could not be read.
    pub failed: usize,
    /// Files judged synthetic.
    pub synthetic: usize,
    /// Files matched by `--fail-on`.
    pub flagged: usize,
    /// Seconds of audio scored.
    pub audio_s: f64,
}

impl Summary {
    /// Counts one record.
    pub fn count(&mut self, record: &Record) {
        self.files += 1;
        match record {
            Record::Failed(_) => self.failed += 1,
            Record::Scored(r) => {
                self.audio_s += r.duration_s;
                self.synthetic += (r.verdict == Verdict::Synthetic) as usize;
            }
        }
    }

    /// One line on stderr: what the run did, and how fast when `elapsed_s` is given.
    pub fn print(&self, elapsed_s: Option<f64>, output: Option<&Path>) {
        let skipped = match output {
            Some(p) if self.skipped > 0 => {
                format!(" ({} already in {})", self.skipped, p.display())
            }
            _ => String::new(),
        };
        let speed = match elapsed_s {
            Some(t) if self.audio_s > 0.0 => {
                format!(", {t:.1} s, {:.0}x real time", self.audio_s / t.max(1e-9))
            }
            Some(t) => format!(", {t:.1} s"),
            None => String::new(),
        };
        eprintln!(
            "voxguard: {} files{skipped}, {:.2} h of audio scored, {} synthetic, {} failed{speed}",
            self.files + self.skipped,
            self.audio_s / 3600.0,
            self.synthetic,
            self.failed,
        );
    }
}
