//! Issue 5: malformed and hostile input. Every input gets a record (a score or an error naming
//! the file), nothing panics, and the good files of the batch are still scored.

use std::path::{Path, PathBuf};

use crate::util::{fixture, s, scan};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn truncations_and_garbage_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for src in [
        "ref.flac",
        "pcm_s16le.wav",
        "mp3.mp3",
        "vorbis.ogg",
        "aac.m4a",
        "adpcm_ms.wav",
        "caf.caf",
        "aiff.aiff",
    ] {
        let bytes = std::fs::read(fixture(src)).unwrap();
        let ext = src.rsplit('.').next().unwrap();
        for k in 1..16 {
            // Truncated at 16 points through the file.
            let cut = bytes.len() * k / 16;
            paths.push(write(dir.path(), &format!("cut{k}_{src}"), &bytes[..cut]));
        }
        // Valid header, then random bytes.
        let mut noisy = bytes[..bytes.len().min(200)].to_vec();
        let mut state = 0x9e3779b97f4a7c15u64;
        noisy.extend((0..20_000).map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        }));
        paths.push(write(dir.path(), &format!("noise.{ext}"), &noisy));
    }
    let good = fixture("ref.flac");
    paths.push(good.clone());
    let args: Vec<&str> = paths.iter().map(|p| s(p)).collect();
    let run = scan(&args);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(run.records.len(), paths.len(), "one record per input");
    for r in &run.records {
        let file = r["file"].as_str().unwrap();
        match r.get("error") {
            Some(e) => assert!(
                e.as_str().unwrap().contains(file),
                "error names the file: {e}"
            ),
            None => assert!(r["verdict"].is_string()),
        }
    }
    assert!(
        run.records
            .iter()
            .any(|r| r["file"] == s(&good) && r["score"].is_number())
    );
}

/// A copy of the 16-bit WAV fixture with `patch` applied to its header bytes.
fn patched_wav(dir: &Path, name: &str, patch: impl Fn(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(fixture("pcm_s16le.wav")).unwrap();
    patch(&mut bytes);
    write(dir, name, &bytes)
}

fn find(bytes: &[u8], tag: &[u8]) -> usize {
    bytes.windows(4).position(|w| w == tag).unwrap()
}

#[test]
fn absurd_headers_are_refused_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let zero_rate = patched_wav(dir.path(), "zero_rate.wav", |b| {
        let f = find(b, b"fmt ");
        b[f + 12..f + 16].copy_from_slice(&0u32.to_le_bytes());
    });
    let many_channels = patched_wav(dir.path(), "many_channels.wav", |b| {
        let f = find(b, b"fmt ");
        b[f + 10..f + 12].copy_from_slice(&65535u16.to_le_bytes());
    });
    let long_data = patched_wav(dir.path(), "long_data.wav", |b| {
        let d = find(b, b"data");
        b[d + 4..d + 8].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    });
    let run = scan(&[s(&zero_rate), s(&many_channels), s(&long_data)]);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(run.records.len(), 3);
    for name in ["zero_rate.wav", "many_channels.wav"] {
        let r = run.get(name);
        assert!(r["error"].is_string(), "{name} must be refused: {r}");
    }
    // A data chunk that claims 4 GiB is refused as malformed, or read to the real end of the
    // file: either way a record, never an allocation of what the header claims.
    let r = run.get("long_data.wav");
    assert!(r["error"].is_string() || r["score"].is_number(), "{r}");
}

#[test]
fn max_duration_limits_what_is_decoded() {
    let run = scan(&["--max-duration", "1", s(&fixture("ref.flac"))]);
    assert_eq!(run.code, 1);
    let err = run.records[0]["error"].as_str().unwrap();
    assert!(err.contains("maximum duration"), "{err}");
}

#[test]
fn summary_of_a_run_that_scored_no_audio_gives_no_speed() {
    let out = crate::util::voxguard()
        .args(["scan", "--format", "jsonl", s(&fixture("broken_empty.wav"))])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("1 files, 0.00 h of audio scored"), "{err}");
    assert!(err.contains("1 failed"), "{err}");
    assert!(!err.contains("real time"), "{err}");
}

#[test]
fn wrong_extension_is_probed_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "really_mp3.wav",
        &std::fs::read(fixture("mp3.mp3")).unwrap(),
    );
    let run = scan(&[s(&p)]);
    assert_eq!(run.records[0]["codec"], "mp3", "{}", run.records[0]);
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_dangling_links_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    std::fs::copy(fixture("ref.flac"), tree.join("good.flac")).unwrap();
    std::os::unix::fs::symlink(&tree, tree.join("loop")).unwrap();
    std::os::unix::fs::symlink(tree.join("missing.wav"), tree.join("dangling.wav")).unwrap();
    std::os::unix::fs::symlink(fixture("ref.flac"), tree.join("linked.flac")).unwrap();
    let run = scan(&[s(&tree), s(&tree.join("dangling.wav"))]);
    assert!(run.get("good.flac")["score"].is_number());
    // A link to a file inside a walked directory is scanned like the file.
    assert!(run.get("linked.flac")["score"].is_number());
    let dangling = run.get("dangling.wav")["error"].as_str().unwrap();
    assert!(dangling.contains("cannot read"), "{dangling}");
    // The OS's reason is given once.
    assert_eq!(dangling.matches("No such file").count(), 1, "{dangling}");
    // Links to directories are not followed, so the loop cannot recurse: good, linked, and the
    // dangling link found by the walk and named on the command line.
    assert_eq!(run.records.len(), 4, "{:?}", run.records);
    assert!(run.stderr.contains("not following the link to a directory"));
}
