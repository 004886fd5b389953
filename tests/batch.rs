//! Batch runs: the results file survives SIGKILL and `--resume` completes it, each file once.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{fixture, s, voxguard};

/// The complete (newline-terminated) records of a results file. A run read while it writes, or
/// killed, may leave a fragment after the last newline: `--resume` drops it, and so does this.
fn lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
    complete
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is a complete record"))
        .collect()
}

#[test]
fn killed_run_resumes_with_every_file_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    let n = 400;
    let src = std::fs::read(fixture("pcm_s16le.wav")).unwrap();
    for i in 0..n {
        // Distinct contents (the low bit of one sample), so each file has its own hash.
        let mut bytes = src.clone();
        bytes[1000 + 2 * i] ^= 1;
        std::fs::write(inputs.join(format!("call{i:04}.wav")), bytes).unwrap();
    }
    let results = dir.path().join("results.jsonl");
    // A real child process, so it can be killed mid-run.
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("voxguard"))
        .args(["scan", "-q", "-j", "1", "--output", s(&results), s(&inputs)])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some records are written, well before it can finish.
    let deadline = Instant::now() + Duration::from_secs(60);
    while lines(&results).len() < 5 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = lines(&results).len();
    assert!(
        (5..n).contains(&before),
        "killed mid-run: {before} of {n} written"
    );

    voxguard()
        .args([
            "scan",
            "-q",
            "--output",
            s(&results),
            "--resume",
            s(&inputs),
        ])
        .assert()
        .success();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in lines(&results) {
        assert!(r["score"].is_number(), "{r}");
        *seen
            .entry(r["file"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(seen.len(), n);
    assert!(seen.values().all(|&c| c == 1), "a file was recorded twice");
    let text = std::fs::read_to_string(&results).unwrap();
    assert!(
        text.ends_with('\n'),
        "no fragment is left after the resumed run"
    );
}

#[test]
fn partial_last_line_is_dropped_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("r.jsonl");
    std::fs::write(&results, b"{\"file\":\"x.wav\",\"sha").unwrap();
    voxguard()
        .args([
            "scan",
            "-q",
            "--output",
            s(&results),
            "--resume",
            s(&fixture("ref.flac")),
        ])
        .assert()
        .success();
    let recs = lines(&results);
    assert_eq!(recs.len(), 1);
    assert!(recs[0]["file"].as_str().unwrap().ends_with("ref.flac"));
}

#[test]
fn existing_results_are_not_overwritten_without_resume() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("r.jsonl");
    std::fs::write(&results, b"{\"file\":\"x.wav\",\"error\":\"x\"}\n").unwrap();
    let out = voxguard()
        .args([
            "scan",
            "-q",
            "--output",
            s(&results),
            s(&fixture("ref.flac")),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--resume"));
    assert_eq!(
        std::fs::read(&results).unwrap(),
        b"{\"file\":\"x.wav\",\"error\":\"x\"}\n"
    );
}

#[test]
fn shards_cover_every_file_exactly_once_and_merge_combines_them() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    let src = std::fs::read(fixture("pcm_mulaw.wav")).unwrap();
    let n = 40;
    for i in 0..n {
        std::fs::write(inputs.join(format!("c{i:02}.wav")), &src).unwrap();
    }
    let shards = 3;
    let mut outputs = Vec::new();
    let mut per_shard: Vec<Vec<String>> = Vec::new();
    for k in 0..shards {
        let out = dir.path().join(format!("shard{k}.jsonl"));
        voxguard()
            .args([
                "scan",
                "-q",
                "--shard",
                &format!("{k}/{shards}"),
                "--output",
                s(&out),
                s(&inputs),
            ])
            .assert()
            .success();
        per_shard.push(
            lines(&out)
                .iter()
                .map(|r| r["file"].as_str().unwrap().to_string())
                .collect(),
        );
        outputs.push(out);
    }
    let mut all: Vec<String> = per_shard.concat();
    assert!(
        per_shard.iter().all(|s| !s.is_empty()),
        "every shard gets work: {per_shard:?}"
    );
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, all.len(), "no file in two shards");
    assert_eq!(all.len(), n, "every file in some shard");

    // Merging the shards, one of them twice, gives every file once.
    let merged = dir.path().join("merged.jsonl");
    let mut args: Vec<&str> = vec!["merge", "-q", "-o", s(&merged)];
    args.extend(outputs.iter().map(|p| s(p)));
    args.push(s(&outputs[0]));
    voxguard().args(&args).assert().success();
    let recs = lines(&merged);
    assert_eq!(recs.len(), n);
    let mut files: Vec<&str> = recs.iter().map(|r| r["file"].as_str().unwrap()).collect();
    files.sort();
    files.dedup();
    assert_eq!(files.len(), n);
}

#[test]
fn bad_shard_specs_are_usage_errors() {
    for spec in ["3/3", "1", "a/2", "0/0"] {
        voxguard()
            .args(["scan", "--shard", spec, "x.wav"])
            .assert()
            .code(2);
    }
}

#[test]
fn results_are_identical_with_one_or_many_jobs_and_across_runs() {
    let dir = crate::util::fixtures();
    let run = |jobs: &str| {
        let out = voxguard()
            .args(["scan", "-q", "--format", "jsonl", "-j", jobs, s(&dir)])
            .output()
            .unwrap();
        let mut lines: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        lines.sort();
        lines
    };
    let one = run("1");
    assert!(one.len() > 20);
    assert_eq!(one, run("2"), "bit-identical records with -j 1 and -j 2");
    assert_eq!(one, run("2"), "and from run to run");
}
