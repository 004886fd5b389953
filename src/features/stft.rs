//! Short-time Fourier transform over a stream: frames of `win_len` samples every `hop`, Hann
//! window, zero-padded to `n_fft`, one-sided power spectrum.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use crate::error::{Error, Result};

/// STFT geometry, in samples at the analysis rate.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StftConfig {
    /// FFT length (power spectrum has `n_fft / 2 + 1` bins).
    pub n_fft: usize,
    /// Window length; the frame is zero-padded to `n_fft`.
    pub win_len: usize,
    /// Distance between frame starts.
    pub hop: usize,
}

impl StftConfig {
    /// Checks the geometry is usable.
    pub fn validate(&self) -> Result<()> {
        if self.hop == 0 || self.win_len == 0 || self.win_len > self.n_fft || self.n_fft < 16 {
            return Err(Error::Config(format!(
                "STFT needs 0 < hop, 0 < win_len <= n_fft, n_fft >= 16 (got {self:?})"
            )));
        }
        Ok(())
    }

    /// Number of one-sided frequency bins.
    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }
}

/// One analysed frame, handed to the caller's callback.
pub struct Frame<'a> {
    /// The raw (unwindowed) samples of the frame.
    pub samples: &'a [f32],
    /// One-sided complex spectrum of the windowed frame.
    pub spectrum: &'a [Complex<f32>],
    /// One-sided power spectrum `|X[k]|^2` of the windowed frame.
    pub power: &'a [f32],
}

/// Window, FFT and power spectrum of one frame at a time; the part of the STFT that does not
/// depend on the stream, so blocks of frames can be transformed on several threads.
#[derive(Clone)]
pub struct FrameTransform {
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
    fft_in: Vec<f32>,
    fft_out: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    power: Vec<f32>,
    /// Bins from this one up are set to zero ([`FrameTransform::band_limited`]).
    top_bin: usize,
}

impl FrameTransform {
    /// Plans the FFT for `cfg`.
    pub fn new(cfg: StftConfig) -> Result<Self> {
        cfg.validate()?;
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(cfg.n_fft);
        Ok(Self {
            window: hann(cfg.win_len),
            fft_in: fft.make_input_vec(),
            fft_out: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            power: vec![0.0; cfg.n_bins()],
            top_bin: cfg.n_bins(),
            fft,
        })
    }

    /// The same transform with every bin from `top_bin` up set to zero, as if the frame held
    /// nothing there.
    pub fn band_limited(mut self, top_bin: usize) -> Self {
        self.top_bin = top_bin.min(self.power.len());
        self
    }

    /// Transforms `samples` (exactly one window long).
    pub fn frame<'a>(&'a mut self, samples: &'a [f32]) -> Frame<'a> {
        let win = self.window.len();
        for ((dst, &x), &w) in self
            .fft_in
            .iter_mut()
            .zip(&samples[..win])
            .zip(&self.window)
        {
            *dst = x * w;
        }
        self.fft_in[win..].iter_mut().for_each(|v| *v = 0.0);
        self.fft
            .process_with_scratch(&mut self.fft_in, &mut self.fft_out, &mut self.scratch)
            .expect("buffers come from the planner");
        self.fft_out[self.top_bin..].fill(Complex::new(0.0, 0.0));
        for (p, c) in self.power.iter_mut().zip(&self.fft_out) {
            *p = c.norm_sqr();
        }
        Frame {
            samples,
            spectrum: &self.fft_out,
            power: &self.power,
        }
    }
}

/// Streaming STFT: push samples, receive every complete frame.
pub struct Stft {
    cfg: StftConfig,
    transform: FrameTransform,
    buffer: Vec<f32>,
    to_skip: usize,
}

impl Stft {
    /// Plans the FFT for `cfg`.
    pub fn new(cfg: StftConfig) -> Result<Self> {
        Ok(Self {
            transform: FrameTransform::new(cfg)?,
            buffer: Vec::with_capacity(cfg.win_len),
            to_skip: 0,
            cfg,
        })
    }

    /// The geometry this STFT runs with.
    pub fn config(&self) -> &StftConfig {
        &self.cfg
    }

    /// Appends `samples` and calls `on_frame` for every frame that is now complete.
    pub fn push(&mut self, samples: &[f32], mut on_frame: impl FnMut(Frame<'_>)) {
        let (win, hop) = (self.cfg.win_len, self.cfg.hop);
        let mut rest = samples;
        while !rest.is_empty() {
            if self.to_skip > 0 {
                let skip = self.to_skip.min(rest.len());
                rest = &rest[skip..];
                self.to_skip -= skip;
                continue;
            }
            let take = (win - self.buffer.len()).min(rest.len());
            self.buffer.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.buffer.len() == win {
                on_frame(self.transform.frame(&self.buffer));
                if hop >= win {
                    self.buffer.clear();
                    self.to_skip = hop - win;
                } else {
                    self.buffer.drain(..hop);
                }
            }
        }
    }
}

/// Periodic Hann window (as `scipy.signal.get_window("hann", n)` and librosa use).
pub fn hann(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let x = std::f64::consts::PI * i as f64 / n as f64;
            (x.sin() * x.sin()) as f32
        })
        .collect()
}

/// Fills `out` with the samples of a frame centred on `centre` (`out.len() / 2` before it),
/// padding past the ends with zeros or, if `edge`, with the end samples.
pub fn centred_frame(samples: &[f32], centre: usize, out: &mut [f64], edge: bool) {
    let start = centre as isize - (out.len() / 2) as isize;
    for (j, o) in out.iter_mut().enumerate() {
        let i = start + j as isize;
        *o = if i >= 0 && (i as usize) < samples.len() {
            samples[i as usize] as f64
        } else if edge && !samples.is_empty() {
            samples[if i < 0 { 0 } else { samples.len() - 1 }] as f64
        } else {
            0.0
        };
    }
}

/// Frames of `len` samples with `hop` between starts (no padding): the count the STFT emits.
pub fn frame_count(len: usize, win_len: usize, hop: usize) -> usize {
    if len < win_len {
        0
    } else {
        (len - win_len) / hop + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CFG: StftConfig = StftConfig {
        n_fft: 512,
        win_len: 400,
        hop: 160,
    };

    fn frames_of(x: &[f32], cfg: StftConfig, chunk: usize) -> Vec<Vec<f32>> {
        let mut stft = Stft::new(cfg).unwrap();
        let mut out = Vec::new();
        for c in x.chunks(chunk.max(1)) {
            stft.push(c, |f| out.push(f.power.to_vec()));
        }
        out
    }

    #[test]
    fn a_band_limited_transform_keeps_the_bins_below_the_cut_only() {
        // 1 kHz (bin 32) and 6 kHz (bin 192) at 16 kHz; the cut at bin 128 is 4 kHz.
        let tone = |hz: f32, i: usize| (2.0 * std::f32::consts::PI * hz * i as f32 / 16e3).sin();
        let x: Vec<f32> = (0..400).map(|i| tone(1e3, i) + tone(6e3, i)).collect();
        let full = FrameTransform::new(CFG).unwrap().frame(&x).power.to_vec();
        let mut limited = FrameTransform::new(CFG).unwrap().band_limited(128);
        let frame = limited.frame(&x);
        assert!(full[192] > 1.0 && full[32] > 1.0);
        assert_eq!(frame.power[..128], full[..128]);
        assert!(frame.power[128..].iter().all(|&p| p == 0.0));
        assert!(frame.spectrum[128..].iter().all(|c| c.norm_sqr() == 0.0));
    }

    #[test]
    fn sine_peaks_in_its_bin() {
        // 1000 Hz at 16 kHz with n_fft 512: bin 1000 / (16000 / 512) = 32.
        let x: Vec<f32> = (0..16_000)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16_000.0).sin())
            .collect();
        for p in frames_of(&x, CFG, 1000) {
            let peak = p
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap()
                .0;
            assert_eq!(peak, 32);
        }
    }

    #[test]
    fn parseval_energy_is_conserved() {
        // Sum over the full spectrum of |X|^2 equals n_fft * sum of windowed samples squared.
        let x: Vec<f32> = (0..400)
            .map(|i| ((i * 7919) % 113) as f32 / 113.0 - 0.5)
            .collect();
        let p = &frames_of(&x, CFG, 400)[0];
        let w = hann(400);
        let time: f64 = x
            .iter()
            .zip(&w)
            .map(|(a, b)| ((a * b) as f64).powi(2))
            .sum();
        let n = 512;
        let freq: f64 = p[0] as f64
            + p[n / 2] as f64
            + 2.0 * p[1..n / 2].iter().map(|&v| v as f64).sum::<f64>();
        assert!((freq / n as f64 - time).abs() / time < 1e-4);
    }

    #[test]
    fn silence_and_dc_are_finite() {
        for value in [0.0f32, 1.0, -1.0] {
            let x = vec![value; 4000];
            for p in frames_of(&x, CFG, 333) {
                assert!(p.iter().all(|v| v.is_finite()));
            }
        }
    }

    #[test]
    fn rejects_bad_geometry() {
        assert!(
            Stft::new(StftConfig {
                n_fft: 256,
                win_len: 400,
                hop: 160
            })
            .is_err()
        );
        assert!(
            Stft::new(StftConfig {
                n_fft: 512,
                win_len: 400,
                hop: 0
            })
            .is_err()
        );
    }

    proptest! {
        #[test]
        fn frame_count_independent_of_chunking(len in 0usize..5000, chunk in 1usize..900, hop in 1usize..600) {
            let cfg = StftConfig { n_fft: 512, win_len: 400, hop };
            let x = vec![0.25f32; len];
            prop_assert_eq!(frames_of(&x, cfg, chunk).len(), frame_count(len, 400, hop));
        }
    }
}
