//! Helpers shared by the integration tests: run the real binary, parse its JSON lines.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// The committed fixtures folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A fixture's path.
pub fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

/// The voxguard binary, quiet.
pub fn voxguard() -> Command {
    Command::cargo_bin("voxguard").expect("binary built")
}

/// Result of a run: exit code and stdout parsed as JSON lines.
pub struct Run {
    pub code: i32,
    pub records: Vec<Value>,
    pub stderr: String,
}

impl Run {
    /// The record for the file whose path ends with `name`.
    pub fn get(&self, name: &str) -> &Value {
        self.records
            .iter()
            .find(|r| r["file"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("no record for {name}"))
    }
}

/// Runs `voxguard scan --format jsonl ARGS...`.
pub fn scan(args: &[&str]) -> Run {
    let out = voxguard()
        .arg("scan")
        .args(["--format", "jsonl", "--quiet"])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    Run {
        code: out.status.code().unwrap(),
        records: stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
            .collect(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Writes mono `x` at `rate` Hz as a 32-bit float WAV.
pub fn write_float_wav(path: &Path, rate: u32, x: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    x.iter().for_each(|v| w.write_sample(*v).unwrap());
    w.finalize().unwrap();
}

/// `x` resampled from `from` to `to` Hz by the crate's own streaming resampler.
pub fn resample(x: &[f32], from: u32, to: u32) -> Vec<f32> {
    let mut r = voxguard::resample::StreamResampler::new(from, to).unwrap();
    let mut y = Vec::new();
    r.push(x, &mut y);
    r.finish(&mut y);
    y
}

/// Path as a `&str`.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
