//! Detection error trade-off (DET) curves on normal-deviate axes, as the ASVspoof tools draw
//! them, beside histograms of the scores of each class.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::Result;
use crate::eval::{eer, error_rates};
use crate::plot::{Figure, draw_error, font};

/// Scores of one condition (e.g. clean or telephone copies); higher means more synthetic.
#[derive(Debug, Clone, PartialEq)]
pub struct DetCurve {
    /// Legend text.
    pub label: String,
    /// Scores of real speech.
    pub bonafide: Vec<f64>,
    /// Scores of synthetic speech.
    pub spoof: Vec<f64>,
}

impl DetCurve {
    /// (false-alarm rate, miss rate) at every threshold, false alarms falling.
    pub fn points(&self) -> Vec<(f64, f64)> {
        error_rates(&self.bonafide, &self.spoof)
    }
}

/// DET curves and the first curve's score histograms.
#[derive(Debug, Clone, PartialEq)]
pub struct DetFigure {
    /// Title line.
    pub title: String,
    /// One curve per condition.
    pub curves: Vec<DetCurve>,
}

/// Axis ticks in percent, as the ASVspoof DET plots use.
const TICKS: [f64; 9] = [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0];
/// Axis range in probability.
const RANGE: (f64, f64) = (0.0005, 0.6);
const COLOURS: [RGBColor; 4] = [
    RGBColor(30, 90, 200),
    RGBColor(220, 110, 20),
    RGBColor(40, 150, 70),
    RGBColor(150, 40, 160),
];

impl Figure for DetFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE).map_err(draw_error)?;
        let area = root.titled(&self.title, font(16.0)).map_err(draw_error)?;
        let (w, _) = area.dim_in_pixel();
        let (left, right) = area.split_horizontally(w * 55 / 100);
        self.draw_det(&left)?;
        match self.curves.first() {
            Some(c) => draw_histograms(&right, c),
            None => Ok(()),
        }
    }
}

impl DetFigure {
    fn draw_det<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        let axis = probit(RANGE.0)..probit(RANGE.1);
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(axis.clone(), axis)
            .map_err(draw_error)?;
        let ticks: Vec<f64> = TICKS.iter().map(|p| probit(p / 100.0)).collect();
        chart
            .configure_mesh()
            .x_desc("False alarm rate: real speech flagged (%)")
            .y_desc("Miss rate: synthetic speech passed (%)")
            .x_labels(0)
            .y_labels(0)
            .axis_desc_style(font(13.0))
            .disable_mesh()
            .draw()
            .map_err(draw_error)?;
        // Tick labels at the percentages, placed by hand: the axes are not linear in them.
        let (lo, hi) = (probit(RANGE.0), probit(RANGE.1));
        let base = area.get_base_pixel();
        for (p, t) in TICKS.iter().zip(&ticks) {
            let (x, y) = chart.backend_coord(&(*t, lo));
            let below = font(12.0).pos(Pos::new(HPos::Center, VPos::Top));
            area.draw(&Text::new(
                format!("{p}"),
                (x - base.0, y - base.1 + 6),
                below,
            ))
            .map_err(draw_error)?;
            let (x, y) = chart.backend_coord(&(lo, *t));
            let left = font(12.0).pos(Pos::new(HPos::Right, VPos::Center));
            area.draw(&Text::new(
                format!("{p}"),
                (x - base.0 - 6, y - base.1),
                left,
            ))
            .map_err(draw_error)?;
        }
        // Grid at the ticks only.
        let grid = RGBColor(220, 220, 220);
        for t in &ticks {
            chart
                .draw_series(LineSeries::new([(*t, lo), (*t, hi)], grid))
                .map_err(draw_error)?;
            chart
                .draw_series(LineSeries::new([(lo, *t), (hi, *t)], grid))
                .map_err(draw_error)?;
        }
        chart
            .draw_series(DashedLineSeries::new(
                [(lo, lo), (hi, hi)],
                4,
                4,
                GREY_LINE.into(),
            ))
            .map_err(draw_error)?;
        let clamp = |p: f64| probit(p.clamp(RANGE.0, RANGE.1));
        for (curve, colour) in self.curves.iter().zip(COLOURS.iter().cycle()) {
            let e = eer(&curve.bonafide, &curve.spoof);
            let points: Vec<(f64, f64)> = curve
                .points()
                .into_iter()
                .map(|(fa, miss)| (clamp(fa), clamp(miss)))
                .collect();
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                .map_err(draw_error)?
                .label(format!("{} (EER {:.1}%)", curve.label, 100.0 * e))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(std::iter::once(Circle::new(
                    (clamp(e), clamp(e)),
                    4,
                    colour.filled(),
                )))
                .map_err(draw_error)?;
        }
        draw_series_labels(&mut chart)
    }
}

const GREY_LINE: RGBColor = RGBColor(140, 140, 140);

/// Normalised histograms of the bonafide and spoof scores of `curve`.
fn draw_histograms<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    curve: &DetCurve,
) -> Result<()> {
    let all = curve.bonafide.iter().chain(&curve.spoof);
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &s| {
        (a.min(s), b.max(s))
    });
    if !lo.is_finite() || !hi.is_finite() {
        return Ok(());
    }
    let hi = hi.max(lo + 1e-9);
    let bins = 30;
    let width = (hi - lo) / bins as f64;
    let density = |scores: &[f64]| {
        let mut h = vec![0.0; bins];
        for s in scores {
            h[(((s - lo) / width) as usize).min(bins - 1)] += 1.0;
        }
        let n = scores.len().max(1) as f64;
        h.iter().map(|c| c / n).collect::<Vec<f64>>()
    };
    let (bona, spoof) = (density(&curve.bonafide), density(&curve.spoof));
    let top = bona.iter().chain(&spoof).fold(0.0f64, |a, &b| a.max(b)) * 1.1;
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(lo..hi, 0.0..top.max(1e-3))
        .map_err(draw_error)?;
    chart
        .configure_mesh()
        .x_desc(format!("Score ({})", curve.label))
        .y_desc("Fraction of clips")
        .label_style(font(12.0))
        .axis_desc_style(font(13.0))
        .light_line_style(WHITE)
        .draw()
        .map_err(draw_error)?;
    let classes = [
        (
            bona,
            RGBColor(40, 150, 70),
            format!("real ({})", curve.bonafide.len()),
        ),
        (
            spoof,
            RGBColor(200, 40, 40),
            format!("synthetic ({})", curve.spoof.len()),
        ),
    ];
    for (h, colour, label) in classes {
        chart
            .draw_series(h.iter().enumerate().map(|(i, &v)| {
                let x = lo + i as f64 * width;
                Rectangle::new([(x, 0.0), (x + width, v)], colour.mix(0.45).filled())
            }))
            .map_err(draw_error)?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    }
    draw_series_labels(&mut chart)
}

/// The legend box of the labelled series, top right, the same in both panels.
fn draw_series_labels<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(font(12.0))
        .background_style(WHITE.mix(0.9))
        .border_style(GREY_LINE)
        .draw()
        .map_err(draw_error)
}

/// Inverse of the standard normal CDF (Acklam's rational approximation, relative error
/// below 1.2e-9): the DET axes' scale.
pub fn probit(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.024_25 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.024_25 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probit_matches_known_quantiles() {
        // scipy.stats.norm.ppf
        for (p, z) in [
            (0.5, 0.0),
            (0.975, 1.959_963_984_540_054),
            (0.001, -3.090_232_306_167_813_5),
            (0.2, -0.841_621_233_572_914_3),
            (0.99, 2.326_347_874_040_841),
        ] {
            assert!((probit(p) - z).abs() < 1e-8, "{p}: {} vs {z}", probit(p));
        }
    }

    #[test]
    fn det_figure_renders_with_its_labels() {
        let curve = |label: &str, shift: f64| DetCurve {
            label: label.into(),
            bonafide: (0..200).map(|i| (i as f64 / 20.0).sin() - shift).collect(),
            spoof: (0..300).map(|i| (i as f64 / 7.0).cos() + shift).collect(),
        };
        let fig = DetFigure {
            title: "test".into(),
            curves: vec![curve("clean", 1.0), curve("telephone copy", 0.5)],
        };
        let svg = String::from_utf8(
            crate::plot::render(&fig, crate::plot::ImageFormat::Svg, (800, 400)).unwrap(),
        )
        .unwrap();
        for label in [
            "False alarm rate",
            "Miss rate",
            "clean (EER",
            "telephone copy (EER",
            "\n40\n",
            "\n0.1\n",
            "Fraction of clips",
        ] {
            assert!(svg.contains(label), "no {label:?}");
        }
        let png = crate::plot::render(&fig, crate::plot::ImageFormat::Png, (800, 400)).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 800);
        assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 400);
    }

    #[test]
    fn det_points_run_from_all_flagged_to_none() {
        let c = DetCurve {
            label: "x".into(),
            bonafide: vec![0.1, 0.2, 0.6],
            spoof: vec![0.5, 0.8, 0.9, 0.95],
        };
        let pts = c.points();
        assert_eq!(pts.first(), Some(&(1.0, 0.0)));
        assert_eq!(pts.last(), Some(&(0.0, 1.0)));
        // After passing 0.1 and 0.2 (real) and 0.5 (synthetic): 1/3 false alarms, 1/4 misses.
        assert!(pts.contains(&(1.0 / 3.0, 0.25)), "{pts:?}");
        assert!(pts.windows(2).all(|w| w[1].0 <= w[0].0 && w[1].1 >= w[0].1));
    }
}
