//! Frame-level feature matrices for research, export and plots, computed the way librosa
//! computes them (centred frames with zero padding, periodic window, Slaney mel, `power_to_db`),
//! so they can be checked against librosa and used beside it.
//!
//! Rows are frames and columns are coefficients: the transpose of librosa's layout. Frame `t` is
//! centred on sample `t * hop`; there are `1 + len / hop` frames.

use std::sync::Arc;

use ndarray::{Array2, Axis, concatenate};
use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::features::cepstrum::Dct;
use crate::features::delta::{DELTA_WIDTH, delta};
use crate::features::filterbank::Filterbank;
use crate::features::spectral;
use crate::features::stft::centred_frame;
use crate::features::yin::Yin;

/// What to compute for each frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Power spectrogram in dB (`power_to_db(|STFT|²)`).
    Linear,
    /// Mel power spectrogram in dB (Slaney mel scale and area normalisation).
    Mel,
    /// Mel-frequency cepstral coefficients (orthonormal DCT-II of the mel dB spectrogram).
    Mfcc,
    /// Linear-frequency cepstral coefficients (the same on a linear triangular filterbank).
    Lfcc,
    /// Centroid, bandwidth, roll-off, flatness, flux, zero-crossing rate, RMS.
    Spectral,
    /// YIN fundamental frequency and pYIN voicing probability.
    F0,
}

impl Kind {
    /// True for the kinds that can carry Δ and ΔΔ columns.
    pub fn has_deltas(self) -> bool {
        matches!(self, Kind::Linear | Kind::Mel | Kind::Mfcc | Kind::Lfcc)
    }
}

/// Analysis window (periodic, as `scipy.signal.get_window(name, n, fftbins=True)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Window {
    /// Hann (librosa's default).
    Hann,
    /// Hamming.
    Hamming,
    /// Rectangular (no taper).
    Rectangular,
}

impl Window {
    /// The `n` window coefficients.
    pub fn coefficients(self, n: usize) -> Vec<f64> {
        let phase = |i: usize| 2.0 * std::f64::consts::PI * i as f64 / n as f64;
        (0..n)
            .map(|i| match self {
                Window::Hann => 0.5 - 0.5 * phase(i).cos(),
                Window::Hamming => 0.54 - 0.46 * phase(i).cos(),
                Window::Rectangular => 1.0,
            })
            .collect()
    }
}

/// Parameters of a feature matrix; defaults follow librosa except where noted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatrixConfig {
    /// Sample rate of the input, in Hz.
    pub sample_rate: u32,
    /// FFT length (even).
    pub n_fft: usize,
    /// Samples between frame centres.
    pub hop: usize,
    /// Window length, centred in the FFT frame (at most `n_fft`).
    pub win_len: usize,
    /// Window shape.
    pub window: Window,
    /// Filters of the mel or linear filterbank.
    pub n_filters: usize,
    /// Lowest filterbank frequency, in Hz.
    pub fmin: f32,
    /// Highest filterbank frequency, in Hz (`None`: Nyquist).
    pub fmax: Option<f32>,
    /// Cepstral coefficients kept (c0 included).
    pub n_coeffs: usize,
    /// 0: static only; 1: add Δ; 2: add Δ and ΔΔ.
    pub deltas: usize,
    /// Floor dB values at `max - top_db` (librosa's `power_to_db` default 80; `None`: off).
    pub top_db: Option<f32>,
    /// Lowest F0 searched, in Hz.
    pub f0_min: f32,
    /// Highest F0 searched, in Hz.
    pub f0_max: f32,
    /// F0 frame length in samples (`None`: the smallest power of two holding two periods of
    /// `f0_min`).
    pub f0_frame_len: Option<usize>,
}

impl Default for MatrixConfig {
    fn default() -> Self {
        Self {
            sample_rate: 16_000,
            n_fft: 512,
            hop: 160,
            win_len: 512,
            window: Window::Hann,
            n_filters: 64,
            fmin: 0.0,
            fmax: None,
            n_coeffs: 20,
            deltas: 0,
            top_db: Some(80.0),
            f0_min: 60.0,
            f0_max: 500.0,
            f0_frame_len: None,
        }
    }
}

impl MatrixConfig {
    /// The filterbank's upper edge in Hz.
    pub fn fmax_hz(&self) -> f32 {
        self.fmax.unwrap_or(self.sample_rate as f32 / 2.0)
    }

    /// The F0 frame length in samples.
    pub fn f0_frame_len(&self) -> usize {
        self.f0_frame_len.unwrap_or_else(|| {
            let two_periods = 2.0 * (self.sample_rate as f32 / self.f0_min).ceil() + 2.0;
            (two_periods as usize).next_power_of_two()
        })
    }

    /// Checks the parameters against each other.
    pub fn validate(&self) -> Result<()> {
        let bad = |why: &str| Err(Error::Config(format!("{why} (got {self:?})")));
        if self.sample_rate == 0 || self.hop == 0 {
            return bad("sample rate and hop must be positive");
        }
        if self.n_fft < 16 || self.n_fft % 2 == 1 || self.win_len == 0 || self.win_len > self.n_fft
        {
            return bad("need an even n_fft >= 16 and 0 < win_length <= n_fft");
        }
        let nyquist = self.sample_rate as f32 / 2.0;
        if !(self.fmin >= 0.0 && self.fmin < self.fmax_hz() && self.fmax_hz() <= nyquist) {
            return bad("need 0 <= fmin < fmax <= sample_rate / 2");
        }
        if self.n_filters < 2 || self.n_coeffs == 0 || self.n_coeffs > self.n_filters {
            return bad("need at least 2 filters and 1..=n_filters cepstral coefficients");
        }
        if self.deltas > 2 {
            return bad("deltas must be 0, 1 or 2");
        }
        if self.f0_frame_len() % 2 == 1 {
            return bad("the F0 frame length must be even");
        }
        Ok(())
    }
}

/// A feature matrix with its axes.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    /// What was computed.
    pub kind: Kind,
    /// One name per column (`"mfcc3"`, `"d_mfcc3"`, `"dd_mfcc3"`, `"1000Hz"`, …).
    pub columns: Vec<String>,
    /// Frame centre times in seconds, one per row.
    pub times_s: Vec<f64>,
    /// Frames × columns.
    pub values: Array2<f32>,
}

/// Computes a `kind` matrix of mono `samples` taken at `cfg.sample_rate`.
pub fn extract(samples: &[f32], kind: Kind, cfg: &MatrixConfig) -> Result<FeatureMatrix> {
    cfg.validate()?;
    if cfg.deltas > 0 && !kind.has_deltas() {
        return Err(Error::Config(format!(
            "deltas are defined for spectrogram and cepstral kinds, not {kind:?}"
        )));
    }
    let (mut columns, mut values) = match kind {
        Kind::Linear => linear(samples, cfg),
        Kind::Mel => filterbank_db(samples, cfg, mel_bank(cfg), "mel"),
        Kind::Mfcc => cepstra(
            filterbank_db(samples, cfg, mel_bank(cfg), "mel"),
            cfg,
            "mfcc",
        ),
        Kind::Lfcc => cepstra(
            filterbank_db(samples, cfg, linear_bank(cfg), "lin"),
            cfg,
            "lfcc",
        ),
        Kind::Spectral => spectral_stats(samples, cfg),
        Kind::F0 => f0(samples, cfg)?,
    };
    if cfg.deltas > 0 {
        let base: Vec<String> = columns.clone();
        let mut blocks = vec![values.clone()];
        for order in 1..=cfg.deltas {
            blocks.push(delta(&values, order, DELTA_WIDTH)?);
            let prefix = if order == 1 { "d_" } else { "dd_" };
            columns.extend(base.iter().map(|c| format!("{prefix}{c}")));
        }
        let views: Vec<_> = blocks.iter().map(|b| b.view()).collect();
        values = concatenate(Axis(1), &views).expect("blocks share the frame count");
    }
    let times_s = (0..values.nrows())
        .map(|t| (t * cfg.hop) as f64 / cfg.sample_rate as f64)
        .collect();
    Ok(FeatureMatrix {
        kind,
        columns,
        times_s,
        values,
    })
}

/// Frequencies of the one-sided FFT bins, in Hz.
pub fn bin_frequencies(cfg: &MatrixConfig) -> Vec<f64> {
    (0..cfg.n_fft / 2 + 1)
        .map(|k| k as f64 * cfg.sample_rate as f64 / cfg.n_fft as f64)
        .collect()
}

/// Calls `on_frame(t, power)` with `|STFT|²` of each centred, zero-padded frame in turn
/// (librosa's `stft(center=True, pad_mode="constant")`, in double precision), so callers reduce
/// it without holding the whole spectrogram.
fn for_each_power_frame(
    samples: &[f32],
    cfg: &MatrixConfig,
    mut on_frame: impl FnMut(usize, &[f64]),
) {
    let n_frames = 1 + samples.len() / cfg.hop;
    let fft: Arc<dyn RealToComplex<f64>> = RealFftPlanner::new().plan_fft_forward(cfg.n_fft);
    let window = cfg.window.coefficients(cfg.win_len);
    // The window sits in the middle of the n_fft frame centred on t * hop.
    let head = (cfg.n_fft - cfg.win_len) / 2;
    let mut frame = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let mut power = vec![0.0; spectrum.len()];
    for t in 0..n_frames {
        centred_frame(samples, t * cfg.hop, &mut frame, false);
        frame[..head].fill(0.0);
        frame[head + cfg.win_len..].fill(0.0);
        frame[head..head + cfg.win_len]
            .iter_mut()
            .zip(&window)
            .for_each(|(v, w)| *v *= w);
        fft.process_with_scratch(&mut frame, &mut spectrum, &mut scratch)
            .expect("buffers sized for the plan");
        power
            .iter_mut()
            .zip(&spectrum)
            .for_each(|(p, c): (&mut f64, &Complex<f64>)| *p = c.norm_sqr());
        on_frame(t, &power);
    }
}

/// `10 log10(max(x, 1e-10))`, floored at `max - top_db` (librosa's `power_to_db(ref=1.0)`).
pub fn power_to_db(power: &Array2<f64>, top_db: Option<f32>) -> Array2<f32> {
    floor_db(power.mapv(|p| 10.0 * p.max(1e-10).log10()), top_db)
}

/// Floors dB values at `max - top_db` and narrows them to `f32`.
fn floor_db(mut db: Array2<f64>, top_db: Option<f32>) -> Array2<f32> {
    if let Some(top) = top_db {
        let floor = db.fold(f64::NEG_INFINITY, |m, &v| m.max(v)) - top as f64;
        db.mapv_inplace(|v| v.max(floor));
    }
    db.mapv(|v| v as f32)
}

fn linear(samples: &[f32], cfg: &MatrixConfig) -> (Vec<String>, Array2<f32>) {
    let columns = bin_frequencies(cfg)
        .iter()
        .map(|f| format!("{f}Hz"))
        .collect();
    let mut db = Array2::zeros((1 + samples.len() / cfg.hop, cfg.n_fft / 2 + 1));
    for_each_power_frame(samples, cfg, |t, power| {
        db.row_mut(t)
            .iter_mut()
            .zip(power)
            .for_each(|(d, p)| *d = 10.0 * p.max(1e-10).log10());
    });
    (columns, floor_db(db, cfg.top_db))
}

fn mel_bank(cfg: &MatrixConfig) -> Filterbank {
    let rate = cfg.sample_rate as f32;
    Filterbank::mel(cfg.n_filters, cfg.n_fft, rate, cfg.fmin, cfg.fmax_hz())
}

fn linear_bank(cfg: &MatrixConfig) -> Filterbank {
    let rate = cfg.sample_rate as f32;
    Filterbank::linear(cfg.n_filters, cfg.n_fft, rate, cfg.fmin, cfg.fmax_hz())
}

/// Filterbank energies of the power spectrogram, in dB.
fn filterbank_db(
    samples: &[f32],
    cfg: &MatrixConfig,
    bank: Filterbank,
    prefix: &str,
) -> (Vec<String>, Array2<f32>) {
    let mut energies = Array2::<f64>::zeros((1 + samples.len() / cfg.hop, bank.len()));
    let (mut row_f32, mut out) = (vec![0.0f32; cfg.n_fft / 2 + 1], vec![0.0f32; bank.len()]);
    for_each_power_frame(samples, cfg, |t, power| {
        row_f32
            .iter_mut()
            .zip(power)
            .for_each(|(r, &v)| *r = v as f32);
        bank.apply(&row_f32, &mut out);
        energies
            .row_mut(t)
            .iter_mut()
            .zip(&out)
            .for_each(|(e, &o)| *e = o as f64);
    });
    let columns = (0..bank.len()).map(|i| format!("{prefix}{i}")).collect();
    (columns, power_to_db(&energies, cfg.top_db))
}

/// The first `n_coeffs` orthonormal DCT-II coefficients of each dB row.
fn cepstra(
    (_, db): (Vec<String>, Array2<f32>),
    cfg: &MatrixConfig,
    prefix: &str,
) -> (Vec<String>, Array2<f32>) {
    let dct = Dct::new(db.ncols(), cfg.n_coeffs);
    let mut out = Array2::zeros((db.nrows(), cfg.n_coeffs));
    for (row, mut o) in db.rows().into_iter().zip(out.rows_mut()) {
        let input = row.to_vec();
        dct.apply(&input, o.as_slice_mut().expect("rows of a standard array"));
    }
    let columns = (0..cfg.n_coeffs).map(|i| format!("{prefix}{i}")).collect();
    (columns, out)
}

fn spectral_stats(samples: &[f32], cfg: &MatrixConfig) -> (Vec<String>, Array2<f32>) {
    let freqs = bin_frequencies(cfg);
    let mut out = Array2::zeros((1 + samples.len() / cfg.hop, spectral::NAMES.len()));
    let (mut zcr_frame, mut rms_frame) = (vec![0.0; cfg.n_fft], vec![0.0; cfg.n_fft]);
    let (mut current, mut previous) = (Vec::new(), Vec::new());
    for_each_power_frame(samples, cfg, |t, power| {
        current.clear();
        current.extend(power.iter().map(|p| p.sqrt()));
        let prev = (t > 0).then_some(previous.as_slice());
        let spec = spectral::spectrum_stats(&current, prev, &freqs);
        // librosa pads edge values for the zero-crossing rate and zeros for the RMS.
        centred_frame(samples, t * cfg.hop, &mut zcr_frame, true);
        centred_frame(samples, t * cfg.hop, &mut rms_frame, false);
        let wave = spectral::waveform_stats(&zcr_frame, &rms_frame);
        for (o, v) in out.row_mut(t).iter_mut().zip(spec.iter().chain(&wave)) {
            *o = *v as f32;
        }
        std::mem::swap(&mut current, &mut previous);
    });
    let columns = spectral::NAMES.iter().map(|s| s.to_string()).collect();
    (columns, out)
}

fn f0(samples: &[f32], cfg: &MatrixConfig) -> Result<(Vec<String>, Array2<f32>)> {
    let yin = Yin::new(
        cfg.sample_rate,
        cfg.f0_frame_len(),
        cfg.f0_min as f64,
        cfg.f0_max as f64,
    )?;
    let frames = yin.track(samples, cfg.hop);
    let mut out = Array2::zeros((frames.len(), 2));
    for (p, mut o) in frames.iter().zip(out.rows_mut()) {
        o[0] = p.f0_hz as f32;
        o[1] = p.voiced_prob as f32;
    }
    Ok((vec!["f0_hz".into(), "voiced_prob".into()], out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * std::f64::consts::PI * freq * i as f64 / rate as f64).sin() as f32)
            .collect()
    }

    #[test]
    fn frame_grid_and_time_axis() {
        let cfg = MatrixConfig::default();
        for kind in [
            Kind::Linear,
            Kind::Mel,
            Kind::Mfcc,
            Kind::Lfcc,
            Kind::Spectral,
            Kind::F0,
        ] {
            let m = extract(&sine(440.0, 16_000, 16_000), kind, &cfg).unwrap();
            assert_eq!(m.values.nrows(), 101, "{kind:?}");
            assert_eq!(m.times_s.len(), 101);
            assert_eq!(m.columns.len(), m.values.ncols());
            assert!((m.times_s[100] - 1.0).abs() < 1e-12);
            assert!(m.values.iter().all(|v| v.is_finite()), "{kind:?}");
        }
    }

    #[test]
    fn sine_peaks_in_its_bin_and_f0_is_found() {
        let cfg = MatrixConfig::default();
        let lin = extract(&sine(1000.0, 16_000, 8000), Kind::Linear, &cfg).unwrap();
        let row = lin.values.row(25);
        let peak = row
            .iter()
            .enumerate()
            .fold((0, f32::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b })
            .0;
        assert_eq!(peak, 32, "1000 Hz at 31.25 Hz per bin");
        let f0 = extract(&sine(200.0, 16_000, 8000), Kind::F0, &cfg).unwrap();
        assert!(
            (f0.values[[25, 0]] - 200.0).abs() < 1.0,
            "{}",
            f0.values[[25, 0]]
        );
    }

    #[test]
    fn deltas_add_named_columns() {
        let cfg = MatrixConfig {
            deltas: 2,
            ..MatrixConfig::default()
        };
        let m = extract(&sine(300.0, 16_000, 4000), Kind::Mfcc, &cfg).unwrap();
        assert_eq!(m.values.ncols(), 60);
        assert_eq!(m.columns[20], "d_mfcc0");
        assert_eq!(m.columns[59], "dd_mfcc19");
        let err = extract(&sine(300.0, 16_000, 4000), Kind::F0, &cfg).unwrap_err();
        assert!(err.to_string().contains("deltas"));
    }

    #[test]
    fn top_db_floors_relative_to_the_peak() {
        let cfg = MatrixConfig::default();
        let m = extract(&sine(1000.0, 16_000, 4000), Kind::Linear, &cfg).unwrap();
        let max = m.values.fold(f32::MIN, |a, &b| a.max(b));
        let min = m.values.fold(f32::MAX, |a, &b| a.min(b));
        assert!((max - min - 80.0).abs() < 1e-3, "{max} {min}");
    }

    #[test]
    fn rejects_inconsistent_parameters() {
        let ok = MatrixConfig::default();
        for bad in [
            MatrixConfig {
                win_len: 1024,
                ..ok.clone()
            },
            MatrixConfig {
                fmax: Some(9000.0),
                ..ok.clone()
            },
            MatrixConfig {
                n_coeffs: 100,
                ..ok.clone()
            },
            MatrixConfig {
                n_fft: 511,
                ..ok.clone()
            },
        ] {
            assert!(extract(&[0.0; 100], Kind::Mfcc, &bad).is_err(), "{bad:?}");
        }
    }
}
