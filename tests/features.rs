//! `voxguard features` through the binary: the three output formats carry the same matrix as
//! the library computes, readable without extra steps.

use std::fs::File;

use ndarray::{Array1, Array2};
use ndarray_npy::{NpzReader, ReadNpyExt};
use voxguard::features::matrix::{Kind, MatrixConfig, extract};

use crate::util::{fixture, s, voxguard};

#[test]
fn npy_npz_and_csv_hold_the_library_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("real_mono.wav");
    let run = |out: &str, extra: &[&str]| {
        voxguard()
            .args([
                "features",
                s(&input),
                "--kind",
                "mfcc",
                "--deltas",
                "1",
                "-o",
            ])
            .arg(dir.path().join(out))
            .args(extra)
            .assert()
            .success();
    };
    run("m.npy", &[]);
    run("m.npz", &[]);
    run("m.csv", &[]);
    let samples = voxguard::pipeline::load_mono(&input, 16_000, 100.0).unwrap();
    let cfg = MatrixConfig {
        deltas: 1,
        ..MatrixConfig::default()
    };
    let want = extract(&samples, Kind::Mfcc, &cfg).unwrap();

    let npy = Array2::<f32>::read_npy(File::open(dir.path().join("m.npy")).unwrap()).unwrap();
    assert_eq!(npy, want.values);

    let mut npz = NpzReader::new(File::open(dir.path().join("m.npz")).unwrap()).unwrap();
    let features: Array2<f32> = npz.by_name("features").unwrap();
    let times: Array1<f64> = npz.by_name("time_s").unwrap();
    let params: Array1<u8> = npz.by_name("params_json").unwrap();
    let params: serde_json::Value = serde_json::from_slice(&params.to_vec()).unwrap();
    assert_eq!(features, want.values);
    assert_eq!(times.to_vec(), want.times_s);
    assert_eq!(params["columns"][20], "d_mfcc0");
    assert_eq!(params["config"]["hop"], 160);

    let csv = std::fs::read_to_string(dir.path().join("m.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header.len(), 41);
    assert_eq!(
        (header[0], header[1], header[21]),
        ("time_s", "mfcc0", "d_mfcc0")
    );
    let rows: Vec<Vec<f32>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), want.values.nrows());
    assert_eq!(rows[7][5], want.values[[7, 4]]);
}

#[test]
fn native_rate_and_parameters_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lin.npy");
    // The fixture is 8 kHz: native rate, n_fft 256 -> 129 bins, hop 80 -> 100 frames/s.
    voxguard()
        .args(["features", s(&fixture("pcm_s16le.wav")), "--kind", "linear"])
        .args(["--rate", "native", "--n-fft", "256", "-o", s(&out)])
        .assert()
        .success();
    let m = Array2::<f32>::read_npy(File::open(&out).unwrap()).unwrap();
    assert_eq!(m.ncols(), 129);
    assert_eq!(m.nrows(), 1 + 20_000 / 80, "2.5 s at 8 kHz");
}

#[test]
fn bad_requests_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("real_mono.wav");
    for (extra, expect) in [
        (
            vec!["--kind", "f0", "--deltas", "2", "-o", "x.npy"],
            "deltas",
        ),
        (vec!["--kind", "mel", "-o", "x.txt"], ".npy, .npz or .csv"),
        (
            vec!["--kind", "mel", "--fmax", "12000", "-o", "x.npy"],
            "fmax",
        ),
        (
            vec![
                "--kind",
                "f0",
                "--f0-min",
                "20",
                "--f0-frame-length",
                "512",
                "-o",
                "x.npy",
            ],
            "F0",
        ),
    ] {
        let out = voxguard()
            .current_dir(dir.path())
            .args(["features", s(&input)])
            .args(&extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{extra:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{extra:?}: {err}");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}
