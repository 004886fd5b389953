//! `voxguard plot`: pictures of the requested size, not blank, with their axis labels, for
//! telephone (8 kHz) and studio (48 kHz) audio.

use std::collections::HashSet;
use std::path::Path;

use crate::util::{fixture, s, voxguard};

/// Decodes a PNG: (width, height, RGB(A) bytes).
fn read_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn distinct_colours(rgb: &[u8]) -> usize {
    rgb.chunks_exact(3)
        .map(|p| (p[0], p[1], p[2]))
        .collect::<HashSet<_>>()
        .len()
}

/// A 48 kHz stereo WAV: a gliding harmonic tone with noise, 3 s.
fn studio_wav(path: &Path) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let mut phase = 0.0f64;
    for i in 0..144_000 {
        let t = i as f64 / 48_000.0;
        phase += 2.0 * std::f64::consts::PI * (150.0 + 50.0 * t) / 48_000.0;
        let v = (1..=8)
            .map(|h| (phase * h as f64).sin() / h as f64)
            .sum::<f64>()
            * 0.2
            + 0.01 * ((i * 7919 % 1000) as f64 / 1000.0 - 0.5);
        let v = (v * 32767.0) as i16;
        w.write_sample(v).unwrap();
        w.write_sample(v).unwrap();
    }
    w.finalize().unwrap();
}

#[test]
fn png_has_the_requested_size_and_is_not_blank() {
    let dir = tempfile::tempdir().unwrap();
    let studio = dir.path().join("studio48k.wav");
    studio_wav(&studio);
    let telephone = fixture("pcm_mulaw.wav");
    for (input, extra) in [
        (telephone.as_path(), vec!["--waveform"]),
        (studio.as_path(), vec!["--scale", "mel"]),
        (telephone.as_path(), vec!["--feature", "f0"]),
        (telephone.as_path(), vec!["--feature", "lfcc"]),
    ] {
        let out = dir.path().join("plot.png");
        voxguard()
            .args([
                "plot",
                s(input),
                "-o",
                s(&out),
                "--width",
                "640",
                "--height",
                "420",
            ])
            .args(&extra)
            .assert()
            .success();
        let (w, h, rgb) = read_png(&out);
        assert_eq!((w, h), (640, 420), "{input:?} {extra:?}");
        assert_eq!(rgb.len(), 640 * 420 * 3);
        let colours = distinct_colours(&rgb);
        assert!(colours > 40, "{input:?} {extra:?}: only {colours} colours");
        let white = rgb
            .chunks_exact(3)
            .filter(|p| p == &[255, 255, 255])
            .count();
        assert!(
            white < 640 * 420 * 9 / 10,
            "{input:?} {extra:?}: mostly white"
        );
    }
}

#[test]
fn svg_carries_size_and_axis_labels() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plot.svg");
    voxguard()
        .args(["plot", s(&fixture("real_mono.wav")), "-o", s(&out)])
        .args(["--width", "900", "--height", "500", "--waveform"])
        .assert()
        .success();
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(
        svg.starts_with("<svg width=\"900\" height=\"500\""),
        "{}",
        &svg[..80]
    );
    for label in [
        "Time (s)",
        "Frequency (Hz)",
        "Synthetic likelihood",
        "Power (dB)",
        "Amplitude",
        "not scored",
    ] {
        assert!(svg.contains(label), "no {label:?} in the SVG");
    }
    // The spectrogram is embedded as an image, not thousands of rectangles.
    assert!(svg.contains("<image"), "spectrogram image missing");
    assert!(svg.len() < 2_000_000, "SVG of {} bytes", svg.len());
}

#[test]
fn bad_plot_requests_fail_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = voxguard()
        .args(["plot", s(&fixture("real_mono.wav")), "-o"])
        .arg(dir.path().join("x.gif"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(".png or .svg"));
    let out = voxguard()
        .args(["plot", s(&fixture("broken_truncated.flac")), "-o"])
        .arg(dir.path().join("x.png"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken_truncated.flac"), "{err}");
    assert!(!dir.path().join("x.png").exists());
}
