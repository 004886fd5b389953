//! Throughput of the pipeline stages, one benchmark per stage plus one end to end.
//! Run with `cargo bench`. Criterion's throughput is in samples of 16 kHz audio (divide by
//! 16,000 for seconds of audio per second); the stage benchmarks use a synthetic voiced signal,
//! decoding and the end-to-end scan use the bundled 16 kHz FLAC sample.

use std::hint::black_box;

use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use voxguard::augment::{stored_16bit, telephone};
use voxguard::decode::AudioDecoderStream;
use voxguard::features::stft::{FrameTransform, frame_count};
use voxguard::features::{FeatureConfig, FrameAnalyzer};
use voxguard::model::Model;
use voxguard::pipeline::{AnalysisConfig, analyze_samples};
use voxguard::resample::StreamResampler;
use voxguard::scan::{Scanner, Thresholds};
use voxguard::segment::DynamicsMode;

/// The longest bundled sample (about 11.7 s of 16 kHz FLAC).
const SAMPLE: &str = "audio-samples/real_librispeech_4137-11701-0000.flac";

/// A voiced-speech-like test signal: a 120 Hz pulse train through a resonance, plus noise.
fn signal(rate: u32, secs: usize) -> Vec<f32> {
    let mut s = 1u64;
    let mut y = [0.0f32; 2];
    (0..rate as usize * secs)
        .map(|i| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
            let pulse = if i % (rate as usize / 120) == 0 {
                1.0
            } else {
                0.0
            };
            let v = pulse + 0.01 * noise + 1.6 * y[0] - 0.8 * y[1];
            y = [v, y[0]];
            0.1 * v
        })
        .collect()
}

fn stages(c: &mut Criterion) {
    let mut group = c.benchmark_group("stages");
    for secs in [10usize, 60] {
        let x16 = signal(16_000, secs);
        let x8 = signal(8_000, secs);
        group.throughput(Throughput::Elements(x16.len() as u64));
        group.bench_with_input(BenchmarkId::new("resample_8k_to_16k", secs), &x8, |b, x| {
            b.iter(|| {
                let mut r = StreamResampler::new(8_000, 16_000).unwrap();
                let mut out = Vec::new();
                r.push(black_box(x), &mut out);
                r.finish(&mut out);
                out
            })
        });
        // The floor under any 10 ms-hop analysis: window, 512-point FFT and power spectrum alone.
        group.bench_with_input(BenchmarkId::new("stft_power", secs), &x16, |b, x| {
            let cfg = FeatureConfig::default().stft;
            let mut transform = FrameTransform::new(cfg).unwrap();
            b.iter(|| {
                (0..frame_count(x.len(), cfg.win_len, cfg.hop))
                    .map(|j| {
                        transform
                            .frame(black_box(&x[j * cfg.hop..][..cfg.win_len]))
                            .power[10]
                    })
                    .sum::<f32>()
            })
        });
        group.bench_with_input(BenchmarkId::new("frame_features", secs), &x16, |b, x| {
            b.iter(|| {
                let mut a = FrameAnalyzer::new(&FeatureConfig::default()).unwrap();
                let mut out = Vec::new();
                a.push(black_box(x), &mut out);
                a.analyse_buffered(&mut out);
                out.len()
            })
        });
        group.bench_with_input(BenchmarkId::new("analyze_samples", secs), &x16, |b, x| {
            b.iter(|| analyze_samples(black_box(x), &AnalysisConfig::default()).unwrap())
        });
    }
    group.finish();
}

/// Decodes the sample to the end and returns the number of frames (samples per channel).
fn decode(path: &Path) -> u64 {
    let mut stream = AudioDecoderStream::open(path, 3600.0).unwrap();
    let mut n = 0u64;
    while let Some(block) = stream.next_block().unwrap() {
        n += block[0].len() as u64;
    }
    n
}

fn file_level(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLE);
    let samples = decode(&path);
    let mut group = c.benchmark_group("file");
    group.throughput(Throughput::Elements(samples));
    group.bench_function("decode_flac", |b| b.iter(|| decode(black_box(&path))));
    let model = Model::builtin().unwrap();
    // Frames kept, so that scoring includes the frame model's term (a scan computes it as each
    // segment is cut).
    let keep = AnalysisConfig {
        dynamics: DynamicsMode::Keep,
        ..AnalysisConfig::default()
    };
    let segments = analyze_samples(&signal(16_000, 60), &keep)
        .unwrap()
        .segments;
    assert!(
        segments.iter().all(|s| s.stats.is_some()),
        "every segment is scored"
    );
    group.bench_function("score_segments_per_minute", |b| {
        b.iter(|| {
            segments
                .iter()
                .filter_map(|s| Some((s.stats.as_deref()?, s.dynamics.as_ref())))
                .map(|(stats, dynamics)| model.logit(black_box(stats), dynamics))
                .sum::<f64>()
        })
    });
    let scanner = Scanner::new(model, AnalysisConfig::default(), Thresholds::default()).unwrap();
    group.bench_function("scan_end_to_end", |b| {
        b.iter(|| scanner.scan(black_box(&path)).unwrap())
    });
    group.finish();
}

/// Writes `samples` as a 16-bit WAV file at 16 kHz.
fn write_pcm16(path: &Path, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &x in samples {
        w.write_sample((x * 32_768.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// A three-minute call stored as a 16-bit WAV at 16 kHz against the same signal at full band:
/// the call's first minute is analysed twice (full band, then as a call), so it costs up to a
/// third more; before the decision moved to the first minute it cost twice as much.
fn calls(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let wide = signal(16_000, 180);
    let call = telephone(&wide, 16_000, 1).unwrap();
    let files = [("full_band", wide), ("call_stored_16k", call)].map(|(name, x)| {
        let path = dir.path().join(format!("{name}.wav"));
        write_pcm16(&path, &stored_16bit(&x, 0.0));
        (name, path)
    });
    let scanner = Scanner::new(
        Model::builtin().unwrap(),
        AnalysisConfig::default(),
        Thresholds::default(),
    )
    .unwrap();
    for (name, path) in &files {
        let as_call = scanner.scan(path).unwrap().analysed_as_call;
        assert_eq!(
            as_call,
            *name == "call_stored_16k",
            "{name} analysed as a call: {as_call}"
        );
    }
    let mut group = c.benchmark_group("scan_3_min");
    group.sample_size(10);
    group.throughput(Throughput::Elements(180 * 16_000));
    for (name, path) in &files {
        group.bench_function(*name, |b| b.iter(|| scanner.scan(black_box(path)).unwrap()));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // No HTML plots: they need system fonts that a build machine may not have.
    config = Criterion::default().without_plots();
    targets = stages, file_level, calls
}
criterion_main!(benches);
