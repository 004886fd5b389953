//! Feature matrices against librosa: references made by `tests/fixtures/parity/make_parity.py`
//! (librosa 0.11) for two sample rates and two FFT sizes, compared kind by kind with the
//! tolerances the README states.

use std::fs::File;

use ndarray::{Array2, ArrayView2, s};
use ndarray_npy::NpzReader;
use serde_json::Value;
use voxguard::features::matrix::{Kind, MatrixConfig, Window, extract};

use crate::util::fixture;

/// dB spectra: largest difference where the reference is above the −100 dB floor.
const DB_TOLERANCE: f32 = 0.01;
/// Cepstra and deltas: largest difference relative to the largest reference magnitude.
const RELATIVE_TOLERANCE: f32 = 1e-3;
/// Spectral statistics, F0 and voicing: the same, tighter.
const STATS_TOLERANCE: f32 = 1e-4;

struct Case {
    name: String,
    cfg: MatrixConfig,
    samples: Vec<f32>,
    reference: NpzReader<File>,
}

fn cases() -> Vec<Case> {
    let dir = fixture("parity");
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("configs.json")).unwrap()).unwrap();
    let configs = meta["configs"].as_object().unwrap();
    assert_eq!(configs.len(), 4, "two rates x two FFT sizes");
    configs
        .iter()
        .map(|(name, c)| {
            let num = |k: &str| c[k].as_f64().unwrap();
            let rate = num("rate") as u32;
            let cfg = MatrixConfig {
                sample_rate: rate,
                n_fft: num("n_fft") as usize,
                hop: num("hop") as usize,
                win_len: num("win") as usize,
                window: match c["window"].as_str().unwrap() {
                    "hann" => Window::Hann,
                    "hamming" => Window::Hamming,
                    other => panic!("window {other}"),
                },
                n_filters: num("n_filters") as usize,
                fmin: num("fmin") as f32,
                fmax: c["fmax"].as_f64().map(|f| f as f32),
                n_coeffs: num("n_coeffs") as usize,
                deltas: 0,
                top_db: Some(meta["top_db"].as_f64().unwrap() as f32),
                f0_min: meta["f0_min"].as_f64().unwrap() as f32,
                f0_max: meta["f0_max"].as_f64().unwrap() as f32,
                f0_frame_len: None,
            };
            let wav = dir.join(format!("speech_{}k.wav", rate / 1000));
            let samples = voxguard::pipeline::load_mono(&wav, rate, 10.0).unwrap();
            let reference =
                NpzReader::new(File::open(dir.join(format!("config_{name}.npz"))).unwrap())
                    .unwrap();
            Case {
                name: name.clone(),
                cfg,
                samples,
                reference,
            }
        })
        .collect()
}

fn compute(case: &Case, kind: Kind, deltas: usize) -> Array2<f32> {
    let cfg = MatrixConfig {
        deltas,
        ..case.cfg.clone()
    };
    extract(&case.samples, kind, &cfg).unwrap().values
}

fn reference(case: &mut Case, kind: &str) -> Array2<f32> {
    case.reference.by_name(kind).unwrap()
}

/// Largest |a − b| over the matrix, after checking the shapes agree.
fn max_abs_diff(a: ArrayView2<f32>, b: ArrayView2<f32>, what: &str) -> f32 {
    assert_eq!(a.shape(), b.shape(), "{what}: shape");
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn max_abs(a: ArrayView2<f32>) -> f32 {
    a.iter().map(|v| v.abs()).fold(0.0, f32::max)
}

#[test]
fn spectrograms_match_librosa_in_db() {
    for mut case in cases() {
        for (kind, name, deltas) in [(Kind::Linear, "linear", 0), (Kind::Mel, "mel", 2)] {
            let ours = compute(&case, kind, deltas);
            let want = reference(&mut case, name);
            let n = want.ncols() / (deltas + 1);
            let (ours_db, want_db) = (ours.slice(s![.., ..n]), want.slice(s![.., ..n]));
            assert_eq!(ours_db.shape(), want_db.shape(), "{} {name}", case.name);
            let worst = ours_db
                .iter()
                .zip(want_db.iter())
                .filter(|(_, w)| **w > -100.0)
                .map(|(o, w)| (o - w).abs())
                .fold(0.0, f32::max);
            eprintln!("{} {name}: max |dB error| {worst:.2e}", case.name);
            assert!(worst <= DB_TOLERANCE, "{} {name}: {worst} dB", case.name);
            if deltas > 0 {
                check_relative(
                    &case.name,
                    &format!("{name} deltas"),
                    ours.slice(s![.., n..]),
                    want.slice(s![.., n..]),
                    RELATIVE_TOLERANCE,
                );
            }
        }
    }
}

fn check_relative(
    case: &str,
    what: &str,
    ours: ArrayView2<f32>,
    want: ArrayView2<f32>,
    tolerance: f32,
) {
    let err = max_abs_diff(ours, want, what) / max_abs(want);
    eprintln!("{case} {what}: max error / max |reference| {err:.2e}");
    assert!(err <= tolerance, "{case} {what}: relative error {err}");
}

#[test]
fn cepstra_and_their_deltas_match_librosa() {
    for mut case in cases() {
        for (kind, name) in [(Kind::Mfcc, "mfcc"), (Kind::Lfcc, "lfcc")] {
            let ours = compute(&case, kind, 2);
            let want = reference(&mut case, name);
            let n = case.cfg.n_coeffs;
            for (block, label) in ["", "Δ", "ΔΔ"].iter().enumerate() {
                let cols = s![.., block * n..(block + 1) * n];
                check_relative(
                    &case.name,
                    &format!("{name}{label}"),
                    ours.slice(cols),
                    want.slice(cols),
                    RELATIVE_TOLERANCE,
                );
            }
        }
    }
}

#[test]
fn spectral_statistics_match_librosa() {
    for mut case in cases() {
        let ours = compute(&case, Kind::Spectral, 0);
        let want = reference(&mut case, "spectral");
        let bin_hz = case.cfg.sample_rate as f32 / case.cfg.n_fft as f32;
        for (c, stat) in voxguard::features::spectral::NAMES.iter().enumerate() {
            let (o, w) = (ours.slice(s![.., c..c + 1]), want.slice(s![.., c..c + 1]));
            if *stat == "rolloff_hz" {
                // A cumulative sum crossing its threshold can land one bin apart in rounding.
                let worst = max_abs_diff(o, w, stat);
                eprintln!("{} rolloff: max |error| {worst} Hz", case.name);
                assert!(
                    worst <= bin_hz * 1.001,
                    "{} rolloff differs by {worst} Hz",
                    case.name
                );
            } else {
                check_relative(&case.name, stat, o, w, STATS_TOLERANCE);
            }
        }
    }
}

#[test]
fn f0_and_voicing_match_librosa() {
    for mut case in cases() {
        let ours = compute(&case, Kind::F0, 0);
        let want = reference(&mut case, "f0");
        check_relative(
            &case.name,
            "yin f0",
            ours.slice(s![.., 0..1]),
            want.slice(s![.., 0..1]),
            STATS_TOLERANCE,
        );
        let prob = max_abs_diff(
            ours.slice(s![.., 1..2]),
            want.slice(s![.., 1..2]),
            "voiced_prob",
        );
        eprintln!("{} pyin voiced_prob: max |error| {prob:.2e}", case.name);
        assert!(
            prob <= STATS_TOLERANCE,
            "{} voiced_prob error {prob}",
            case.name
        );
        let voiced = want.column(1).iter().filter(|p| **p > 0.5).count();
        assert!(
            voiced > 5,
            "{}: the clip has voiced frames ({voiced})",
            case.name
        );
    }
}
