//! `voxguard plot`: one recording's spectrogram (or a feature) above its per-segment synthetic
//! likelihood, as PNG or SVG.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use voxguard::model::Model;
use voxguard::pipeline::AnalysisConfig;
use voxguard::plot::recording::{FeatureView, PlotOptions, RecordingFigure, Scale};
use voxguard::plot::{ImageFormat, render};
use voxguard::scan::{Scanner, Thresholds};

use super::write_atomically;

/// Arguments of `voxguard plot`.
#[derive(Args)]
pub struct PlotArgs {
    /// Audio file (any format `scan` reads).
    file: PathBuf,
    /// Output picture, `.png` or `.svg`.
    #[arg(long, short)]
    out: PathBuf,
    /// Frequency scale of the spectrogram.
    #[arg(long, value_enum, default_value_t = Scale::Linear)]
    scale: Scale,
    /// Show this feature instead of the spectrogram.
    #[arg(long, value_enum)]
    feature: Option<FeatureView>,
    /// Add the waveform above.
    #[arg(long)]
    waveform: bool,
    /// Width in pixels.
    #[arg(long, default_value_t = 1200)]
    width: u32,
    /// Height in pixels.
    #[arg(long, default_value_t = 700)]
    height: u32,
    /// Model file [default: the built-in model].
    #[arg(long)]
    model: Option<PathBuf>,
    /// Segments scoring at or above this are drawn as synthetic.
    #[arg(long, default_value_t = 0.7)]
    synthetic_above: f64,
    /// Segments scoring at or below this are drawn as human.
    #[arg(long, default_value_t = 0.3)]
    human_below: f64,
    /// Longest recording accepted, in seconds.
    #[arg(long, default_value_t = 4.0 * 3600.0)]
    max_duration: f64,
}

/// Scores the file, draws it and writes the picture.
pub fn run(args: PlotArgs) -> anyhow::Result<ExitCode> {
    let format = ImageFormat::from_path(&args.out)?;
    let model = match &args.model {
        Some(p) => Model::load(p)?,
        None => Model::builtin()?,
    };
    let thresholds = Thresholds {
        synthetic: args.synthetic_above,
        human: args.human_below,
        ..Thresholds::default()
    };
    let analysis = AnalysisConfig {
        max_duration_s: args.max_duration,
        ..AnalysisConfig::default()
    };
    let scanner = Scanner::new(model, analysis, thresholds).context("invalid settings")?;
    let report = scanner.scan(&args.file)?;
    let opts = PlotOptions {
        scale: args.scale,
        feature: args.feature,
        waveform: args.waveform,
        max_columns: args.width as usize,
        max_duration_s: args.max_duration,
    };
    let figure = RecordingFigure::build(&args.file, &report, thresholds, &opts)
        .with_context(|| format!("{}", args.file.display()))?;
    let bytes = render(&figure, format, (args.width, args.height))?;
    write_atomically(&args.out, &bytes)?;
    eprintln!(
        "{}: {} ({}) -> {}",
        args.file.display(),
        report.verdict.as_str(),
        report
            .score
            .map_or("not scored".into(), |s| format!("{s:.2}")),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
