//! Throughput of the pipeline stages on synthetic audio, grouped by input length.
//! Run with `cargo bench`; figures are seconds of audio per second of CPU (criterion's
//! throughput is in samples of 16 kHz audio).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use voxguard::features::{FeatureConfig, FrameAnalyzer};
use voxguard::pipeline::{AnalysisConfig, analyze_samples};
use voxguard::resample::StreamResampler;

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
        group.bench_with_input(BenchmarkId::new("frame_features", secs), &x16, |b, x| {
            b.iter(|| {
                let mut a = FrameAnalyzer::new(&FeatureConfig::default()).unwrap();
                let mut out = Vec::new();
                a.push(black_box(x), &mut out);
                out.len()
            })
        });
        group.bench_with_input(BenchmarkId::new("analyze_samples", secs), &x16, |b, x| {
            b.iter(|| analyze_samples(black_box(x), &AnalysisConfig::default()).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
