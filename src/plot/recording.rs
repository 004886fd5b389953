//! The analyst's picture of one recording: a spectrogram (linear or mel, in dB, with a colour
//! bar) or a feature (LFCC, MFCC, F0), an optional waveform, and below them the synthetic
//! likelihood of every segment, coloured by verdict, with the thresholds marked and unscored
//! segments shown as such. Long recordings are reduced in time to the figure's width.

use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::error::Result;
use crate::features::filterbank::{Filterbank, hz_to_mel, mel_to_hz};
use crate::features::matrix::{Kind, MatrixConfig, extract};
use crate::features::stft::{Stft, StftConfig};
use crate::pipeline::{load_mono_at, stream_mono};
use crate::plot::pool::{ColumnPool, Combine};
use crate::plot::{Figure, draw_error, font};
use crate::report::{FileReport, SegmentReport};
use crate::scan::Thresholds;

/// Frequency scale of the spectrogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// Linear frequency axis (FFT bins).
    Linear,
    /// Mel bands, axis labelled in Hz.
    Mel,
}

/// A feature to show instead of the spectrogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FeatureView {
    /// Linear-frequency cepstra c1.. (c0, the level, left out).
    Lfcc,
    /// Mel-frequency cepstra c1.. (c0 left out).
    Mfcc,
    /// YIN F0, drawn more opaque where pYIN finds the frame voiced.
    F0,
}

/// What to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotOptions {
    /// Spectrogram scale (ignored when `feature` is set).
    pub scale: Scale,
    /// Show this feature instead of the spectrogram.
    pub feature: Option<FeatureView>,
    /// Add a waveform panel.
    pub waveform: bool,
    /// Upper bound on time columns (about the figure width).
    pub max_columns: usize,
    /// Longest recording accepted, in seconds.
    pub max_duration_s: f64,
}

/// The main panel's content.
#[derive(Debug, Clone, PartialEq)]
pub enum Panel {
    /// Time columns of dB values from 0 Hz to `fmax_hz`, bins linear or mel-spaced.
    Spectrogram {
        /// Columns of dB values, low frequency first.
        columns: Vec<Vec<f32>>,
        /// Upper frequency edge.
        fmax_hz: f64,
        /// Scale of the rows.
        scale: Scale,
    },
    /// Time columns of cepstral coefficients c1.. .
    Coefficients {
        /// Columns of coefficient values.
        columns: Vec<Vec<f32>>,
        /// Axis label.
        label: String,
    },
    /// Per column: voicing-weighted F0 and mean voicing probability.
    Pitch {
        /// `[f0_hz, voiced_prob]` columns.
        columns: Vec<Vec<f32>>,
        /// Top of the F0 axis.
        f0_max: f64,
    },
}

/// Everything the recording figure shows.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingFigure {
    /// Title line.
    pub title: String,
    /// Length of the recording, in seconds.
    pub duration_s: f64,
    /// Spectrogram or feature.
    pub panel: Panel,
    /// `[min, max]` waveform columns, if requested.
    pub waveform: Option<Vec<Vec<f32>>>,
    /// Scored segments (of the downmix).
    pub segments: Vec<SegmentReport>,
    /// Distance between segment starts, in seconds.
    pub hop_s: f64,
    /// Verdict thresholds.
    pub thresholds: Thresholds,
}

const RED_SYNTH: RGBColor = RGBColor(200, 40, 40);
const GREEN_HUMAN: RGBColor = RGBColor(40, 150, 70);
const AMBER: RGBColor = RGBColor(230, 160, 20);
const GREY: RGBColor = RGBColor(150, 150, 150);
/// Pixels for the y labels, the same in every panel so time axes line up.
const Y_LABELS: u32 = 70;
/// Pixels on the right for the colour bar and the legend.
const RIGHT: u32 = 150;

impl RecordingFigure {
    /// Reads `path` again (streaming) for the picture and combines it with its scan `report`.
    pub fn build(
        path: &Path,
        report: &FileReport,
        thresholds: Thresholds,
        opts: &PlotOptions,
    ) -> Result<Self> {
        let (panel, waveform) = match opts.feature {
            None => spectrogram(path, opts)?,
            Some(view) => (feature_panel(path, view, opts)?, None),
        };
        let waveform = if opts.waveform {
            match waveform {
                Some(w) => Some(w),
                None => spectrogram(path, opts)?.1,
            }
        } else {
            None
        };
        let score = report
            .score
            .map_or("not scored".to_string(), |s| format!("{s:.2}"));
        let name = Path::new(&report.file)
            .file_name()
            .map_or(report.file.clone(), |n| n.to_string_lossy().into_owned());
        Ok(Self {
            title: format!(
                "{name}: {} (score {score}), {} Hz, {:.1} s",
                report.verdict.as_str(),
                report.sample_rate,
                report.duration_s
            ),
            duration_s: report.duration_s.max(1e-3),
            panel,
            waveform,
            segments: report.segments.clone(),
            hop_s: report.settings.hop_s,
            thresholds,
        })
    }
}

/// Streams the file at its own rate through an STFT (32 ms frames, 8 ms hop) and pools the
/// power columns (and the waveform envelope) to at most `max_columns`.
fn spectrogram(path: &Path, opts: &PlotOptions) -> Result<(Panel, Option<Vec<Vec<f32>>>)> {
    let mut stft: Option<Stft> = None;
    let mut mel: Option<Filterbank> = None;
    let mut spec_pool = ColumnPool::new(Combine::Mean, opts.max_columns);
    let mut wave_pool = ColumnPool::new(Combine::MinMax, opts.max_columns);
    let mut bands = Vec::new();
    let mut on_block = |block: &[f32], rate: u32| -> Result<()> {
        if stft.is_none() {
            let n_fft = ((rate as f64 * 0.032) as usize).next_power_of_two().max(64);
            let cfg = StftConfig {
                n_fft,
                win_len: n_fft,
                hop: n_fft / 4,
            };
            stft = Some(Stft::new(cfg)?);
            if opts.scale == Scale::Mel {
                let n_mels = if rate <= 8000 { 64 } else { 128 };
                let half = rate as f32 / 2.0;
                mel = Some(Filterbank::mel(n_mels, n_fft, rate as f32, 0.0, half));
                bands = vec![0.0; n_mels];
            }
        }
        let stft = stft.as_mut().expect("created above");
        let hop = stft.config().hop;
        stft.push(block, |frame| {
            match &mel {
                Some(bank) => {
                    bank.apply(frame.power, &mut bands);
                    spec_pool.push(&bands);
                }
                None => spec_pool.push(frame.power),
            }
            let head = &frame.samples[..hop];
            let lo = head.iter().copied().fold(f32::INFINITY, f32::min);
            let hi = head.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            wave_pool.push(&[lo, hi]);
        });
        Ok(())
    };
    let (info, _) = stream_mono(path, None, opts.max_duration_s, |block, rate| {
        if block.is_empty() {
            return Ok(());
        }
        on_block(block, rate)
    })?;
    let rate = info.sample_rate;
    let columns = spec_pool
        .finish()
        .into_iter()
        .map(|c| c.iter().map(|p| 10.0 * (p + 1e-12).log10()).collect())
        .collect();
    let panel = Panel::Spectrogram {
        columns,
        fmax_hz: rate as f64 / 2.0,
        scale: opts.scale,
    };
    Ok((panel, Some(wave_pool.finish())))
}

/// Research features at 16 kHz, pooled to at most `max_columns`.
fn feature_panel(path: &Path, view: FeatureView, opts: &PlotOptions) -> Result<Panel> {
    let cfg = MatrixConfig::default();
    let (samples, _) = load_mono_at(path, Some(cfg.sample_rate), opts.max_duration_s)?;
    let kind = match view {
        FeatureView::Lfcc => Kind::Lfcc,
        FeatureView::Mfcc => Kind::Mfcc,
        FeatureView::F0 => Kind::F0,
    };
    let m = extract(&samples, kind, &cfg)?;
    let mut pool = ColumnPool::new(Combine::Mean, opts.max_columns);
    for row in m.values.rows() {
        let row = row.to_vec();
        match view {
            // Pool F0 weighted by voicing: [f0 * p, p] averages to a voicing-weighted F0.
            FeatureView::F0 => pool.push(&[row[0] * row[1], row[1]]),
            _ => pool.push(&row[1..]),
        }
    }
    let columns = pool.finish();
    Ok(match view {
        FeatureView::F0 => Panel::Pitch {
            columns: columns
                .into_iter()
                .map(|c| vec![if c[1] > 0.0 { c[0] / c[1] } else { 0.0 }, c[1]])
                .collect(),
            f0_max: cfg.f0_max as f64,
        },
        _ => Panel::Coefficients {
            columns,
            label: format!(
                "{} coefficient",
                if view == FeatureView::Lfcc {
                    "LFCC"
                } else {
                    "MFCC"
                }
            ),
        },
    })
}

impl Figure for RecordingFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE).map_err(draw_error)?;
        let area = root.titled(&self.title, font(17.0)).map_err(draw_error)?;
        let (w, h) = area.dim_in_pixel();
        let track_h = h * 32 / 100;
        let wave_h = if self.waveform.is_some() {
            h * 16 / 100
        } else {
            0
        };
        let (upper, track) = area.split_vertically(h - track_h);
        let (wave, main) = upper.split_vertically(wave_h);
        let (main, bar) = main.split_horizontally(w - RIGHT);
        if let Some(columns) = &self.waveform {
            let (wave, _) = wave.split_horizontally(w - RIGHT);
            self.draw_waveform(&wave, columns)?;
        }
        match &self.panel {
            Panel::Spectrogram {
                columns,
                fmax_hz,
                scale,
            } => {
                let max = columns.iter().flatten().fold(f32::MIN, |a, &b| a.max(b));
                let range = (max - 80.0, max);
                let (y_range, to_hz): (std::ops::Range<f64>, fn(f64) -> f64) = match scale {
                    Scale::Linear => (0.0..*fmax_hz, |y| y),
                    Scale::Mel => (hz_to_mel(0.0)..hz_to_mel(*fmax_hz), mel_to_hz),
                };
                self.draw_heatmap(&main, columns, y_range, range, "Frequency (Hz)", to_hz)?;
                draw_colour_bar(&bar, range, "Power (dB)")?;
            }
            Panel::Coefficients { columns, label } => {
                let range = robust_range(columns);
                let n = columns.first().map_or(1, Vec::len) as f64;
                self.draw_heatmap(&main, columns, 1.0..n + 1.0, range, label, |y| y)?;
                draw_colour_bar(&bar, range, "Value")?;
            }
            Panel::Pitch { columns, f0_max } => self.draw_pitch(&main, columns, *f0_max)?,
        }
        let (track, legend) = track.split_horizontally(w - RIGHT);
        self.draw_track(&track)?;
        self.draw_legend(&legend)
    }
}

/// A panel's chart: time on x, `f64` on y.
type TimeChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

impl RecordingFigure {
    /// A chart over the recording's time axis on `area`, laid out like every other panel (same
    /// margin and y-label width, so the time axes line up), with `x_labels` pixels below it for
    /// time labels (0 for none).
    fn time_chart<'a, DB: DrawingBackend>(
        &self,
        area: &'a DrawingArea<DB, Shift>,
        x_labels: u32,
        y_range: std::ops::Range<f64>,
    ) -> Result<TimeChart<'a, DB>> {
        ChartBuilder::on(area)
            .margin(6)
            .x_label_area_size(x_labels)
            .y_label_area_size(Y_LABELS)
            .build_cartesian_2d(0.0..self.duration_s, y_range)
            .map_err(draw_error)
    }

    fn draw_heatmap<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        columns: &[Vec<f32>],
        y_range: std::ops::Range<f64>,
        (lo, hi): (f32, f32),
        y_desc: &str,
        y_to_label: fn(f64) -> f64,
    ) -> Result<()> {
        let top = y_range.end;
        let mut chart = self.time_chart(area, 24, y_range)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .y_desc(y_desc)
            .y_label_formatter(&|y| format!("{:.0}", y_to_label(*y)))
            .label_style(font(12.0))
            .axis_desc_style(font(13.0))
            .draw()
            .map_err(draw_error)?;
        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        if columns.is_empty() || pw == 0 || ph == 0 {
            return Ok(());
        }
        let rows = columns[0].len();
        let mut rgb = Vec::with_capacity((pw * ph * 3) as usize);
        for y in 0..ph {
            let row = ((ph - 1 - y) as usize * rows) / ph as usize;
            for x in 0..pw {
                let col = (x as usize * columns.len()) / pw as usize;
                let v = columns[col][row].clamp(lo, hi);
                let c = ViridisRGB.get_color_normalized(v, lo, hi.max(lo + 1e-6));
                rgb.extend_from_slice(&[c.0, c.1, c.2]);
            }
        }
        let image = BitMapElement::with_owned_buffer((0.0, top), (pw, ph), rgb)
            .expect("buffer sized to the plotting area");
        chart
            .draw_series(std::iter::once(image))
            .map_err(draw_error)?;
        Ok(())
    }

    fn draw_pitch<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        columns: &[Vec<f32>],
        f0_max: f64,
    ) -> Result<()> {
        let mut chart = self.time_chart(area, 24, 0.0..f0_max)?;
        chart
            .configure_mesh()
            .y_desc("F0 (Hz)")
            .light_line_style(WHITE)
            .label_style(font(12.0))
            .axis_desc_style(font(13.0))
            .draw()
            .map_err(draw_error)?;
        let dt = self.duration_s / columns.len().max(1) as f64;
        chart
            .draw_series(columns.iter().enumerate().map(|(i, c)| {
                let style = RGBAColor(30, 60, 200, c[1].clamp(0.05, 1.0) as f64).filled();
                Circle::new(((i as f64 + 0.5) * dt, c[0] as f64), 2, style)
            }))
            .map_err(draw_error)?;
        Ok(())
    }

    fn draw_waveform<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        columns: &[Vec<f32>],
    ) -> Result<()> {
        let peak = columns
            .iter()
            .flatten()
            .fold(1e-6f32, |a, &b| a.max(b.abs())) as f64;
        let mut chart = self.time_chart(area, 0, -peak..peak)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_desc("Amplitude")
            .y_labels(3)
            .label_style(font(11.0))
            .axis_desc_style(font(12.0))
            .draw()
            .map_err(draw_error)?;
        let dt = self.duration_s / columns.len().max(1) as f64;
        let style = RGBColor(40, 70, 160).filled();
        chart
            .draw_series(columns.iter().enumerate().map(|(i, c)| {
                let t = i as f64 * dt;
                Rectangle::new([(t, c[0] as f64), (t + dt, c[1] as f64)], style)
            }))
            .map_err(draw_error)?;
        Ok(())
    }

    fn draw_track<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        let mut chart = self.time_chart(area, 36, 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_desc("Time (s)")
            .y_desc("Synthetic likelihood")
            .y_labels(5)
            .label_style(font(12.0))
            .axis_desc_style(font(13.0))
            .light_line_style(WHITE)
            .draw()
            .map_err(draw_error)?;
        let t = &self.thresholds;
        let last = self.segments.len().saturating_sub(1);
        let bars = self.segments.iter().enumerate().map(|(i, s)| {
            // Overlapping segments: each is drawn over the hop around its centre, the first and
            // last stretched to the recording's ends.
            let centre = (s.start_s + s.end_s) / 2.0;
            let half = (self.hop_s / 2.0).min((s.end_s - s.start_s) / 2.0);
            let x0 = if i == 0 { s.start_s } else { centre - half };
            let x1 = if i == last { s.end_s } else { centre + half };
            match s.score {
                Some(p) => {
                    let colour = if p >= t.synthetic {
                        RED_SYNTH
                    } else if p <= t.human {
                        GREEN_HUMAN
                    } else {
                        AMBER
                    };
                    Rectangle::new([(x0, 0.0), (x1, p)], colour.filled())
                }
                None => Rectangle::new([(x0, 0.0), (x1, 1.0)], GREY.mix(0.25).filled()),
            }
        });
        chart.draw_series(bars).map_err(draw_error)?;
        for (level, colour) in [(t.synthetic, RED_SYNTH), (t.human, GREEN_HUMAN)] {
            chart
                .draw_series(DashedLineSeries::new(
                    [(0.0, level), (self.duration_s, level)],
                    6,
                    4,
                    colour.stroke_width(1),
                ))
                .map_err(draw_error)?;
        }
        Ok(())
    }

    fn draw_legend<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        let t = &self.thresholds;
        let entries = [
            (
                RED_SYNTH.to_rgba(),
                format!("synthetic >= {:.2}", t.synthetic),
            ),
            (AMBER.to_rgba(), "inconclusive".to_string()),
            (GREEN_HUMAN.to_rgba(), format!("human <= {:.2}", t.human)),
            (GREY.mix(0.25), "not scored".to_string()),
        ];
        for (i, (colour, label)) in entries.iter().enumerate() {
            let y = 14 + 20 * i as i32;
            area.draw(&Rectangle::new([(8, y), (20, y + 12)], colour.filled()))
                .map_err(draw_error)?;
            area.draw(&Text::new(label.as_str(), (26, y), font(12.0)))
                .map_err(draw_error)?;
        }
        area.draw(&Text::new("(too little speech)", (26, 14 + 80), font(11.0)))
            .map_err(draw_error)?;
        Ok(())
    }
}

/// A vertical colour scale for `lo..hi` with its label.
fn draw_colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (lo, hi): (f32, f32),
    label: &str,
) -> Result<()> {
    let (lo, hi) = (lo as f64, (hi as f64).max(lo as f64 + 1e-6));
    let mut chart = ChartBuilder::on(area)
        .margin_top(6)
        .margin_bottom(6)
        .margin_left(10)
        .margin_right(4)
        .x_label_area_size(24)
        .right_y_label_area_size(70)
        .build_cartesian_2d(0.0..1.0, lo..hi)
        .map_err(draw_error)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(label)
        .y_labels(6)
        .label_style(font(11.0))
        .axis_desc_style(font(12.0))
        .draw()
        .map_err(draw_error)?;
    let steps = 64;
    let step = (hi - lo) / steps as f64;
    chart
        .draw_series((0..steps).map(|i| {
            let v = lo + step * i as f64;
            let c = ViridisRGB.get_color_normalized(v + step / 2.0, lo, hi);
            Rectangle::new([(0.0, v), (1.0, v + step)], c.filled())
        }))
        .map_err(draw_error)?;
    Ok(())
}

/// The 1st to 99th percentile of all values: cepstral heat maps are not dominated by outliers.
fn robust_range(columns: &[Vec<f32>]) -> (f32, f32) {
    let mut all: Vec<f32> = columns.iter().flatten().copied().collect();
    if all.is_empty() {
        return (0.0, 1.0);
    }
    all.sort_by(f32::total_cmp);
    let at = |q: f64| all[((all.len() - 1) as f64 * q) as usize];
    (at(0.01), at(0.99))
}
