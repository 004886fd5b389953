//! Optional last stage: figures. A recording's spectrogram (or a feature) above its per-segment
//! synthetic likelihood, and DET curves with score histograms for evaluations. PNG or SVG, with
//! an embedded font so every machine renders the same picture.

pub mod det;
pub mod pool;
pub mod recording;

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};

/// DejaVu Sans reduced to ASCII and a few symbols (licence in `src/plot/FONT-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("DejaVuSans-subset.ttf");
/// The family name the figures ask for.
const FAMILY: &str = "sans-serif";

/// Picture formats, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// Raster, 8-bit RGB.
    Png,
    /// Vector; text stays text, the spectrogram is an embedded PNG.
    Svg,
}

impl ImageFormat {
    /// The format for `path`'s extension.
    pub fn from_path(path: &Path) -> Result<Self> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("png") => Ok(Self::Png),
            Some("svg") => Ok(Self::Svg),
            _ => Err(Error::Config(format!(
                "{}: a figure must end in .png or .svg",
                path.display()
            ))),
        }
    }
}

/// Something that can draw itself on any plotters backend.
pub trait Figure {
    /// Draws on `root`, which covers the whole picture.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// Renders `figure` at `size` pixels and returns the encoded file.
pub fn render(figure: &impl Figure, format: ImageFormat, size: (u32, u32)) -> Result<Vec<u8>> {
    let (w, h) = size;
    if !(200..=10_000).contains(&w) || !(150..=10_000).contains(&h) {
        return Err(Error::Config(format!(
            "figure size {w}x{h} outside 200..10000 x 150..10000 pixels"
        )));
    }
    register_font();
    match format {
        ImageFormat::Png => {
            let mut rgb = vec![0u8; (w * h * 3) as usize];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
                figure.draw(&root)?;
                root.present().map_err(draw_error)?;
            }
            encode_png(&rgb, size)
        }
        ImageFormat::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                figure.draw(&root)?;
                root.present().map_err(draw_error)?;
            }
            Ok(svg.into_bytes())
        }
    }
}

/// A text style in the embedded font.
pub fn font(size: f64) -> TextStyle<'static> {
    (FAMILY, size).into_font().into()
}

/// Maps any plotters error to ours.
pub fn draw_error<E: std::fmt::Debug>(e: E) -> Error {
    Error::Plot(format!("{e:?}"))
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
            .unwrap_or_else(|_| panic!("the embedded font is a valid TrueType file"));
    });
}

fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(draw_error)?;
    writer.write_image_data(rgb).map_err(draw_error)?;
    writer.finish().map_err(draw_error)?;
    Ok(out)
}
