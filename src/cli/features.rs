//! `voxguard features`: one file's frame-level feature matrix, written for numpy or pandas.

use std::io::Cursor;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use voxguard::decode::{MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};
use voxguard::features::export::{ExportFormat, write};
use voxguard::features::matrix::{Kind, MatrixConfig, Window, extract};
use voxguard::pipeline::load_mono_at;

use super::write_atomically;

/// Arguments of `voxguard features`.
#[derive(Args)]
pub struct FeaturesArgs {
    /// Audio file (any format `scan` reads); channels are averaged.
    file: PathBuf,
    /// What to compute.
    #[arg(long, value_enum)]
    kind: Kind,
    /// Output: `.npy` (matrix), `.npz` (matrix, time axis, parameters) or `.csv`.
    #[arg(long, short)]
    out: PathBuf,
    /// Append Δ (1) or Δ and ΔΔ (2) columns (librosa's `delta`, width 9).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
    deltas: u8,
    /// Analysis sample rate in Hz, or `native` for the file's own rate.
    #[arg(long, default_value = "16000", value_parser = parse_rate)]
    rate: RateArg,
    /// FFT length in samples (even).
    #[arg(long, default_value_t = MatrixConfig::default().n_fft)]
    n_fft: usize,
    /// Samples between frames [default: 10 ms at the analysis rate].
    #[arg(long)]
    hop: Option<usize>,
    /// Window length in samples, centred in the FFT frame [default: n_fft].
    #[arg(long)]
    win_length: Option<usize>,
    /// Window shape.
    #[arg(long, value_enum, default_value_t = Window::Hann)]
    window: Window,
    /// Mel or linear filters.
    #[arg(long, default_value_t = MatrixConfig::default().n_filters)]
    n_filters: usize,
    /// Lowest filterbank frequency in Hz.
    #[arg(long, default_value_t = 0.0)]
    fmin: f32,
    /// Highest filterbank frequency in Hz [default: half the analysis rate].
    #[arg(long)]
    fmax: Option<f32>,
    /// Cepstral coefficients kept (c0 included).
    #[arg(long, default_value_t = MatrixConfig::default().n_coeffs)]
    n_coeffs: usize,
    /// dB range kept below the maximum (librosa's `top_db`); 0 keeps everything.
    #[arg(long, default_value_t = 80.0)]
    top_db: f32,
    /// Lowest F0 searched, Hz.
    #[arg(long, default_value_t = MatrixConfig::default().f0_min)]
    f0_min: f32,
    /// Highest F0 searched, Hz.
    #[arg(long, default_value_t = MatrixConfig::default().f0_max)]
    f0_max: f32,
    /// F0 frame length in samples [default: smallest power of two holding two periods of
    /// f0-min].
    #[arg(long)]
    f0_frame_length: Option<usize>,
    /// Longest recording accepted, in seconds.
    #[arg(long, default_value_t = 4.0 * 3600.0)]
    max_duration: f64,
}

/// `--rate`: a rate in Hz or the file's own.
#[derive(Clone, Copy)]
struct RateArg(Option<u32>);

fn parse_rate(s: &str) -> Result<RateArg, String> {
    if s == "native" {
        return Ok(RateArg(None));
    }
    match s.parse::<u32>() {
        Ok(r) if (MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&r) => Ok(RateArg(Some(r))),
        _ => Err(format!(
            "expected `native` or a rate in Hz ({MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE}), got {s:?}"
        )),
    }
}

/// Computes and writes the matrix.
pub fn run(args: FeaturesArgs) -> anyhow::Result<ExitCode> {
    let format = ExportFormat::from_path(&args.out)?;
    let (samples, rate) = load_mono_at(&args.file, args.rate.0, args.max_duration)?;
    let cfg = MatrixConfig {
        sample_rate: rate,
        n_fft: args.n_fft,
        hop: args.hop.unwrap_or((rate / 100) as usize),
        win_len: args.win_length.unwrap_or(args.n_fft),
        window: args.window,
        n_filters: args.n_filters,
        fmin: args.fmin,
        fmax: args.fmax,
        n_coeffs: args.n_coeffs,
        deltas: args.deltas as usize,
        top_db: (args.top_db > 0.0).then_some(args.top_db),
        f0_min: args.f0_min,
        f0_max: args.f0_max,
        f0_frame_len: args.f0_frame_length,
    };
    let matrix =
        extract(&samples, args.kind, &cfg).with_context(|| format!("{}", args.file.display()))?;
    let mut bytes = Cursor::new(Vec::new());
    write(&matrix, &cfg, format, &mut bytes)?;
    write_atomically(&args.out, bytes.get_ref())?;
    eprintln!(
        "{}: {} frames x {} columns ({:?}) -> {}",
        args.file.display(),
        matrix.values.nrows(),
        matrix.values.ncols(),
        args.kind,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
