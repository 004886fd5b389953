//! Invariance of the shipped model's scores to things that carry no evidence: digital silence
//! at the ends, level, near-silent dither in place of digital silence, and the sample rate the
//! same speech is stored at.

use std::path::{Path, PathBuf};

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

use crate::util::{resample, s, scan, write_float_wav};

/// The largest score change the issue allows for padding and level.
const MAX_SHIFT: f64 = 0.05;

fn samples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("audio-samples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "flac"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 4);
    files
}

/// Makes a variant of 16 kHz samples: its rate and samples.
type Variant<'a> = (&'a str, &'a dyn Fn(&[f32]) -> (u32, Vec<f32>));

/// Scores of every variant: (variant name, original file stem, original score, variant score).
fn variant_scores(dir: &Path, make: &[Variant]) -> Vec<(String, String, f64, f64)> {
    let mut originals = Vec::new();
    for file in samples() {
        let stem = file.file_stem().unwrap().to_str().unwrap().to_string();
        let x = voxguard::pipeline::load_mono(&file, 16_000, 60.0).unwrap();
        write_float_wav(&dir.join(format!("{stem}.orig.wav")), 16_000, &x);
        for (name, f) in make {
            let (rate, y) = f(&x);
            write_float_wav(&dir.join(format!("{stem}.{name}.wav")), rate, &y);
        }
        originals.push(stem);
    }
    let run = scan(&[s(dir)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let score = |n: &str| run.get(n)["score"].as_f64().unwrap();
    let mut out = Vec::new();
    for stem in &originals {
        let base = score(&format!("{stem}.orig.wav"));
        for (name, _) in make {
            let v = score(&format!("{stem}.{name}.wav"));
            eprintln!("{stem} {name}: {base:.4} -> {v:.4} ({:+.4})", v - base);
            out.push((name.to_string(), stem.clone(), base, v));
        }
    }
    out
}

#[test]
fn silence_at_the_ends_and_level_do_not_move_scores() {
    let dir = tempfile::tempdir().unwrap();
    let second = vec![0.0f32; 16_000];
    let pad = |x: &[f32]| (16_000, [&second[..], x, &second[..]].concat());
    let gain = |db: f32| {
        move |x: &[f32]| {
            (
                16_000,
                x.iter().map(|v| v * 10f32.powf(db / 20.0)).collect(),
            )
        }
    };
    let (up, down) = (gain(12.0), gain(-12.0));
    // Noise at -120 dBFS turns digital silence into near-silence, as any resampling or lossy
    // coding does; it once moved synthetic clips by up to 0.36 (through cepstral deltas next to
    // pauses).
    let dither = |x: &[f32]| {
        let mut rng = Pcg64::seed_from_u64(7);
        let y = x
            .iter()
            .map(|v| v + rng.random_range(-1.75e-6f32..1.75e-6))
            .collect();
        (16_000, y)
    };
    let results = variant_scores(
        dir.path(),
        &[
            ("pad1s", &pad),
            ("plus12dB", &up),
            ("minus12dB", &down),
            ("dither120dB", &dither),
        ],
    );
    for (variant, stem, base, v) in results {
        assert!(
            (v - base).abs() < MAX_SHIFT,
            "{stem} {variant}: {base} -> {v}"
        );
    }
}

#[test]
fn storing_the_same_speech_at_another_rate_does_not_move_scores() {
    // 16 kHz speech upsampled to 44.1 or 48 kHz holds nothing new; the detector must not read
    // the resampler's roll-off near 8 kHz as evidence (it once did: +0.4 on real speech).
    let dir = tempfile::tempdir().unwrap();
    let to = |rate: u32| move |x: &[f32]| (rate, resample(x, 16_000, rate));
    let (r44, r48) = (to(44_100), to(48_000));
    let results = variant_scores(dir.path(), &[("up44k", &r44), ("up48k", &r48)]);
    for (variant, stem, base, v) in results {
        assert!(
            (v - base).abs() < MAX_SHIFT,
            "{stem} {variant}: {base} -> {v}"
        );
    }
}
