//! Stage 2: bring every stream to the one analysis rate with rubato's synchronous FFT resampler,
//! chunk by chunk, so long files never sit in memory whole.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler, WindowFunction};

use crate::error::{Error, Result};

/// The rate all analysis runs at, in Hz. 16 kHz keeps the full wide-band speech spectrum while
/// telephone audio (8 kHz) is upsampled without inventing content above 4 kHz.
pub const ANALYSIS_RATE: u32 = 16_000;

/// Input frames handed to rubato per call.
/// Input frames per resampler call. One FFT block per call (no sub-chunks): rubato's
/// anti-aliasing cutoff rises with the block length, and with 4096-frame blocks it sits at
/// 99 % of the lower Nyquist frequency for the usual rates (about 7.9 kHz from 44.1 or 48 kHz
/// to 16 kHz). Shorter blocks cut speech above 6.8 kHz, which the detector would read as a
/// band-limited, more synthetic-looking recording.
const CHUNK: usize = 4096;

/// A mono streaming resampler; a pass-through when the rates already match.
pub struct StreamResampler {
    inner: Option<Box<Fft<f32>>>,
    pending: Vec<f32>,
    out: Vec<f32>,
    to_skip: usize,
    n_in: u64,
    n_out: u64,
    ratio: f64,
}

impl StreamResampler {
    /// A resampler from `from` Hz to `to` Hz.
    pub fn new(from: u32, to: u32) -> Result<Self> {
        let ratio = to as f64 / from as f64;
        let inner = if from == to {
            None
        } else {
            let (from_hz, to_hz) = (from as usize, to as usize);
            let window = WindowFunction::BlackmanHarris2;
            let r = Fft::<f32>::new_custom(from_hz, to_hz, CHUNK, 1, 1, window, FixedSync::Input)
                .map_err(|e| Error::Config(format!("resampler {from} -> {to} Hz: {e}")))?;
            Some(Box::new(r))
        };
        let (to_skip, out_len) = inner
            .as_ref()
            .map_or((0, 0), |r| (r.output_delay(), r.output_frames_max()));
        Ok(Self {
            inner,
            pending: Vec::with_capacity(CHUNK),
            out: vec![0.0; out_len],
            to_skip,
            n_in: 0,
            n_out: 0,
            ratio,
        })
    }

    /// Resamples `input`, appending whatever output is ready to `sink`.
    pub fn push(&mut self, mut input: &[f32], sink: &mut Vec<f32>) {
        self.n_in += input.len() as u64;
        if self.inner.is_none() {
            sink.extend_from_slice(input);
            self.n_out += input.len() as u64;
            return;
        }
        while !input.is_empty() {
            let take = (CHUNK - self.pending.len()).min(input.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.pending.len() == CHUNK {
                self.run_chunk(None, sink);
                self.pending.clear();
            }
        }
    }

    /// Flushes the resampler's tail so the output has exactly `round(len_in * ratio)` samples.
    pub fn finish(&mut self, sink: &mut Vec<f32>) {
        if self.inner.is_none() {
            return;
        }
        let expected = (self.n_in as f64 * self.ratio).round() as u64;
        let partial = self.pending.len();
        self.pending.resize(CHUNK, 0.0);
        self.run_chunk(Some(partial), sink);
        self.pending.iter_mut().for_each(|s| *s = 0.0);
        while self.n_out < expected {
            self.run_chunk(Some(0), sink);
        }
        let excess = (self.n_out - expected) as usize;
        sink.truncate(sink.len().saturating_sub(excess));
        self.n_out = expected;
        self.pending.clear();
    }

    fn run_chunk(&mut self, partial_len: Option<usize>, sink: &mut Vec<f32>) {
        let Some(r) = self.inner.as_mut() else { return };
        let input = InterleavedSlice::new(&self.pending[..], 1, CHUNK)
            .expect("pending holds exactly one chunk");
        let out_frames = self.out.len();
        let mut output = InterleavedSlice::new_mut(&mut self.out[..], 1, out_frames)
            .expect("output sized to output_frames_max");
        let indexing = partial_len.map(|n| Indexing::new().partial_len(n));
        let (_, produced) = r
            .process_into_buffer(&input, &mut output, indexing.as_ref())
            .expect("buffer sizes are fixed at construction");
        let skip = self.to_skip.min(produced);
        self.to_skip -= skip;
        sink.extend_from_slice(&self.out[skip..produced]);
        self.n_out += (produced - skip) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, hz: f32, secs: f32) -> Vec<f32> {
        (0..(rate as f32 * secs) as usize)
            .map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin())
            .collect()
    }

    #[test]
    fn output_length_and_phase_match_over_rates() {
        for from in [8_000u32, 11_025, 22_050, 44_100, 48_000] {
            let x = sine(from, 440.0, 1.3);
            let mut r = StreamResampler::new(from, ANALYSIS_RATE).unwrap();
            let mut y = Vec::new();
            for chunk in x.chunks(777) {
                r.push(chunk, &mut y);
            }
            r.finish(&mut y);
            let expected = (x.len() as f64 * 16_000.0 / from as f64).round() as usize;
            assert_eq!(y.len(), expected, "from {from}");
            // The delay is trimmed: away from the edges the output is the same sine, at full
            // amplitude, lagging by at most half an input sample (rubato's FFT resampler has a
            // fixed sub-sample lag for non-integer ratios).
            let w = 2.0 * std::f64::consts::PI * 440.0 / 16_000.0;
            let (mut s, mut c) = (0.0f64, 0.0f64);
            for (i, &v) in y.iter().enumerate().take(expected - 2000).skip(2000) {
                s += v as f64 * (w * i as f64).sin();
                c += v as f64 * (w * i as f64).cos();
            }
            let n = (expected - 4000) as f64 / 2.0;
            let amplitude = (s * s + c * c).sqrt() / n;
            let lag_out_samples = -c.atan2(s) / w;
            let lag_in_samples = lag_out_samples * from as f64 / 16_000.0;
            assert!(
                (amplitude - 1.0).abs() < 0.01,
                "from {from}: amplitude {amplitude}"
            );
            assert!(
                lag_in_samples.abs() <= 0.51,
                "from {from}: lag {lag_in_samples} input samples"
            );
        }
    }

    #[test]
    fn speech_band_survives_downsampling() {
        // A 7.5 kHz tone (the top of the wide speech band) keeps its level through 44.1 and
        // 48 kHz -> 16 kHz, and an 8.5 kHz tone (above the new Nyquist) is removed.
        for from in [44_100u32, 48_000, 32_000, 22_050] {
            let level = |hz: f32| {
                let mut r = StreamResampler::new(from, ANALYSIS_RATE).unwrap();
                let mut y = Vec::new();
                r.push(&sine(from, hz, 1.0), &mut y);
                r.finish(&mut y);
                let mid = &y[2000..y.len() - 2000];
                (mid.iter().map(|v| v * v).sum::<f32>() / mid.len() as f32 * 2.0).sqrt()
            };
            let pass = level(7_500.0);
            assert!((pass - 1.0).abs() < 0.06, "from {from}: 7.5 kHz at {pass}");
            if from > 17_000 {
                let stop = level(8_500.0);
                assert!(stop < 0.01, "from {from}: 8.5 kHz leaks at {stop}");
            }
        }
    }

    #[test]
    fn passthrough_at_analysis_rate() {
        let x = sine(16_000, 100.0, 0.1);
        let mut r = StreamResampler::new(16_000, 16_000).unwrap();
        let mut y = Vec::new();
        r.push(&x, &mut y);
        r.finish(&mut y);
        assert_eq!(x, y);
    }
}
