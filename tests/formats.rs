//! Every supported format decodes to the same audio; unsupported and broken input is reported
//! per file while the rest of the batch is scored.

use crate::util::{fixture, s, scan};

/// (fixture, codec, container) for every format the tool must decode.
const FORMATS: &[(&str, &str, &str)] = &[
    ("ref.flac", "flac", "flac"),
    ("pcm_u8.wav", "pcm_u8", "wave"),
    ("pcm_s16le.wav", "pcm_s16le", "wave"),
    ("pcm_s24le.wav", "pcm_s24le", "wave"),
    ("pcm_s32le.wav", "pcm_s32le", "wave"),
    ("pcm_f32le.wav", "pcm_f32le", "wave"),
    ("pcm_f64le.wav", "pcm_f64le", "wave"),
    ("pcm_mulaw.wav", "pcm_mulaw", "wave"),
    ("pcm_alaw.wav", "pcm_alaw", "wave"),
    ("adpcm_ima_wav.wav", "adpcm_ima_wav", "wave"),
    ("adpcm_ms.wav", "adpcm_ms", "wave"),
    ("gsm_ms.wav", "gsm_ms", "wave"),
    ("gsm.gsm", "gsm", "gsm"),
    ("mp3.mp3", "mp3", "mp3"),
    ("vorbis.ogg", "vorbis", "ogg"),
    ("aac.m4a", "aac", "isomp4"),
    ("aiff.aiff", "pcm_s16be", "aiff"),
    ("caf.caf", "pcm_s16le", "caf"),
    ("pcm_mulaw.caf", "pcm_mulaw", "caf"),
    ("pcm_mulaw.au", "pcm_mulaw", "au"),
    ("pcm_s16be.au", "pcm_s16be", "au"),
    ("raw.ul", "pcm_mulaw", "g711"),
    ("raw.al", "pcm_alaw", "g711"),
    ("raw.sln", "pcm_s16le", "sln"),
];

/// Formats that carry the reference samples bit for bit (or at higher precision).
const LOSSLESS: &[&str] = &[
    "pcm_s16le.wav",
    "pcm_s24le.wav",
    "pcm_s32le.wav",
    "pcm_f32le.wav",
    "pcm_f64le.wav",
    "aiff.aiff",
    "caf.caf",
    "pcm_s16be.au",
    "raw.sln",
];

#[test]
fn every_format_decodes_with_the_same_content() {
    let paths: Vec<_> = FORMATS.iter().map(|(f, ..)| fixture(f)).collect();
    let args: Vec<&str> = paths.iter().map(|p| s(p)).collect();
    let run = scan(&args);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(run.records.len(), FORMATS.len());
    let reference = run.get("ref.flac");
    let ref_score = reference["score"].as_f64().unwrap();
    let ref_speech = reference["speech_s"].as_f64().unwrap();
    for (name, codec, container) in FORMATS {
        let r = run.get(name);
        assert!(r.get("error").is_none(), "{name}: {r}");
        assert_eq!(r["codec"], *codec, "{name}");
        assert_eq!(r["container"], *container, "{name}");
        assert_eq!(r["sample_rate"], 8000, "{name}");
        assert_eq!(r["channels"], 1, "{name}");
        let dur = r["duration_s"].as_f64().unwrap();
        // ADPCM and GSM in WAVE pad their last block, AAC its last frame.
        assert!((2.5..2.75).contains(&dur), "{name}: duration {dur}");
        assert_eq!(r["sha256"].as_str().unwrap().len(), 64);
        let score = r["score"]
            .as_f64()
            .unwrap_or_else(|| panic!("{name} not scored: {r}"));
        let speech = r["speech_s"].as_f64().unwrap();
        if LOSSLESS.contains(name) {
            assert!(
                (score - ref_score).abs() < 1e-4,
                "{name}: {score} vs {ref_score}"
            );
            assert_eq!(speech, ref_speech, "{name}");
        } else {
            // 8-bit, companded, ADPCM and lossy codecs change the audio, not what it is. The
            // 32 kbit/s MP3 copy of this 2.6 s clip moves most: towards human by 0.29 with model
            // 1.3.0, 0.35 with 1.4.0, 0.31 with 1.5.0 and 1.6.0, 0.21 with 1.7.0; towards
            // synthetic by 0.20 with 1.8.0, 0.22 with 1.9.0, 0.27 with 1.10.0, 0.24 with 1.11.0,
            // 0.18 with 1.12.0 and 1.13.0 (a known limit, in the model card); the others stay
            // within 0.3.
            let tolerance = if *name == "mp3.mp3" { 0.4 } else { 0.3 };
            assert!(
                (score - ref_score).abs() < tolerance,
                "{name}: {score} vs {ref_score}"
            );
            assert!(
                (speech - ref_speech).abs() < 0.4,
                "{name}: speech {speech} vs {ref_speech}"
            );
        }
    }
}

#[test]
fn opus_in_ogg_and_webm_decodes_like_the_reference() {
    // Voice notes and VoIP recordings: Opus at 16 and 32 kbit/s, decoded at 48 kHz, also when
    // the WebM track declares the encoder's 8 kHz input rate (opus_8k.webm: read at 8 kHz, the
    // 48 kHz samples made a 15-second clip that scored 0.96).
    let (ogg, webm, webm_8k, reference) = (
        fixture("opus.ogg"),
        fixture("opus.webm"),
        fixture("opus_8k.webm"),
        fixture("ref.flac"),
    );
    let run = scan(&[s(&ogg), s(&webm), s(&webm_8k), s(&reference)]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let reference = run.get("ref.flac");
    let ref_score = reference["score"].as_f64().unwrap();
    let ref_speech = reference["speech_s"].as_f64().unwrap();
    for (name, container) in [
        ("opus.ogg", "ogg"),
        ("opus.webm", "matroska"),
        ("opus_8k.webm", "matroska"),
    ] {
        let r = run.get(name);
        assert_eq!(r["codec"], "opus", "{r}");
        assert_eq!(r["container"], container, "{r}");
        assert_eq!(r["sample_rate"], 48_000, "{r}");
        // The encoder's pre-skip and last-frame padding add a few tens of ms.
        let dur = r["duration_s"].as_f64().unwrap();
        assert!((2.5..2.6).contains(&dur), "{name}: duration {dur}");
        // Measured with model 1.10.0: 0.418 (16 kbit/s Ogg) and 0.451 (32 kbit/s WebM) against
        // 0.396 for the FLAC (1.9.0: 0.457, 0.481, 0.428; 1.8.0: 0.466, 0.491, 0.475; an earlier
        // model: 0.332, 0.351, 0.368).
        let score = r["score"].as_f64().unwrap();
        assert!(
            (score - ref_score).abs() < 0.1,
            "{name}: {score} vs {ref_score}"
        );
        let speech = r["speech_s"].as_f64().unwrap();
        assert!((speech - ref_speech).abs() < 0.4, "{name}: speech {speech}");
    }
}

#[test]
fn mp2_decodes_like_the_reference() {
    // MPEG-1/2 Layer II (broadcast and some call loggers); ffmpeg's encoder has no 8 kHz mode, so
    // the fixture is at 16 kHz. Model 1.22.0: 0.356 against 0.357 for the FLAC.
    let run = scan(&[s(&fixture("mp2.mp2")), s(&fixture("ref.flac"))]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let ref_score = run.get("ref.flac")["score"].as_f64().unwrap();
    let r = run.get("mp2.mp2");
    assert_eq!(
        (r["codec"].as_str(), r["sample_rate"].as_u64()),
        (Some("mp2"), Some(16_000))
    );
    let score = r["score"].as_f64().unwrap();
    assert!((score - ref_score).abs() < 0.1, "{score} vs {ref_score}");
}

#[test]
fn bad_and_unsupported_files_fail_alone() {
    let cases: &[(&str, &str)] = &[
        ("broken_truncated.flac", "truncated"),
        ("broken_empty.wav", "file is empty"),
        ("broken_not_audio.wav", "not a recognised audio file"),
        ("unsupported_g726.wav", "unsupported codec G.726 ADPCM"),
        (
            "unsupported_g722.au",
            "unsupported codec G.722 ADPCM in an AU file",
        ),
        (
            "unsupported_aac_ltp.m4a",
            "unsupported codec AAC other than mono or stereo AAC-LC",
        ),
    ];
    let good = fixture("pcm_s16le.wav");
    let mut args: Vec<String> = cases
        .iter()
        .map(|(f, _)| s(&fixture(f)).to_string())
        .collect();
    args.insert(2, s(&good).to_string());
    args.push("/nonexistent/call.wav".into());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = scan(&refs);
    assert_eq!(run.code, 1, "some files failed: exit 1");
    assert_eq!(run.records.len(), cases.len() + 2);
    for (name, reason) in cases {
        let err = run.get(name)["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no error"));
        assert!(err.contains(name), "error names the file: {err}");
        assert!(err.contains(reason), "{name}: {err}");
    }
    let missing = run.get("call.wav")["error"].as_str().unwrap();
    assert!(
        missing.contains("/nonexistent/call.wav") && missing.contains("cannot read"),
        "{missing}"
    );
    assert!(
        run.get("pcm_s16le.wav")["score"].is_number(),
        "the good file is still scored"
    );
}

#[test]
fn truncated_wav_is_reported_with_where_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    for (fixture_name, cut_name) in [
        ("pcm_s16le.wav", "cut.wav"),
        ("gsm_ms.wav", "cut_gsm.wav"),
        ("pcm_mulaw.au", "cut.au"),
    ] {
        let bytes = std::fs::read(fixture(fixture_name)).unwrap();
        let cut = dir.path().join(cut_name);
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let run = scan(&[s(&cut)]);
        assert_eq!(run.code, 1);
        let err = run.records[0]["error"].as_str().unwrap();
        assert!(
            err.contains(cut_name) && err.contains("truncated") && err.contains(" s"),
            "{err}"
        );
    }
}

#[test]
fn inputs_are_not_modified() {
    let path = fixture("pcm_mulaw.wav");
    let before = std::fs::read(&path).unwrap();
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    scan(&[s(&path)]);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
}

/// Issue 5 (found by `cargo fuzz`): a float WAV whose samples overflow the FFT crashed the
/// resampler. It must be a per-file error.
#[test]
fn issue5_fuzz_absurd_float_samples_are_an_error_not_a_panic() {
    let bad = fixture("regression_fuzz_nan_float.wav");
    let good = fixture("ref.flac");
    let run = scan(&[s(&bad), s(&good)]);
    assert_eq!(run.code, 1);
    let err = run.get("regression_fuzz_nan_float.wav")["error"]
        .as_str()
        .unwrap();
    assert!(err.contains("not finite or beyond"), "{err}");
    assert!(run.get("ref.flac")["score"].is_number());
}

/// Issue 5 (found by `cargo fuzz` with overflow checks): an MS ADPCM block whose predictor
/// overflows inside symphonia. In a release build it is a per-file error, never a panic.
#[test]
fn issue5_fuzz_adpcm_overflow_is_a_per_file_error() {
    let bad = fixture("regression_fuzz_adpcm_ms_overflow.wav");
    let run = scan(&[s(&bad), s(&fixture("ref.flac"))]);
    assert_eq!(run.code, 1);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let r = run.get("regression_fuzz_adpcm_ms_overflow.wav");
    assert!(r["error"].as_str().unwrap().contains("corrupt"), "{r}");
    assert!(run.get("ref.flac")["score"].is_number());
}
