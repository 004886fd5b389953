//! Writing feature matrices for numpy and pandas: `.npy` (the matrix), `.npz` (matrix, time axis
//! and parameters) and CSV (`time_s` then one column per coefficient).

use std::io::{Seek, Write};
use std::path::Path;

use ndarray::Array1;
use ndarray_npy::{NpzWriter, WriteNpyExt};

use crate::error::{Error, Result};
use crate::features::matrix::{FeatureMatrix, MatrixConfig};

/// Output file formats, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// `float32` frames × columns.
    Npy,
    /// `features` (frames × columns), `time_s`, and `params_json` (UTF-8 bytes of the kind,
    /// column names and parameters).
    Npz,
    /// Header `time_s,<columns>`, one row per frame.
    Csv,
}

impl ExportFormat {
    /// The format for `path`'s extension.
    pub fn from_path(path: &Path) -> Result<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("npy") => Ok(Self::Npy),
            Some("npz") => Ok(Self::Npz),
            Some("csv") => Ok(Self::Csv),
            _ => Err(Error::Config(format!(
                "{}: the output must end in .npy, .npz or .csv",
                path.display()
            ))),
        }
    }
}

/// Writes `m` (computed with `cfg`) to `out` in `format`.
pub fn write<W: Write + Seek>(
    m: &FeatureMatrix,
    cfg: &MatrixConfig,
    format: ExportFormat,
    out: W,
) -> Result<()> {
    match format {
        ExportFormat::Npy => m.values.write_npy(out).map_err(output_error),
        ExportFormat::Npz => {
            let params = serde_json::json!({
                "kind": m.kind,
                "columns": m.columns,
                "config": cfg,
                "layout": "frames x columns",
            });
            let mut npz = NpzWriter::new(out);
            npz.add_array("features", &m.values).map_err(output_error)?;
            npz.add_array("time_s", &Array1::from(m.times_s.clone()))
                .map_err(output_error)?;
            npz.add_array(
                "params_json",
                &Array1::from(params.to_string().into_bytes()),
            )
            .map_err(output_error)?;
            npz.finish().map_err(output_error)?;
            Ok(())
        }
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(std::iter::once("time_s").chain(m.columns.iter().map(String::as_str)))
                .map_err(output_error)?;
            for (t, row) in m.times_s.iter().zip(m.values.rows()) {
                let fields = std::iter::once(t.to_string()).chain(row.iter().map(f32::to_string));
                w.write_record(fields).map_err(output_error)?;
            }
            w.flush().map_err(output_error)
        }
    }
}

/// A failure to encode or write the output, as an I/O error on it.
fn output_error(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
    Error::Io {
        path: "<feature output>".into(),
        error: std::io::Error::other(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::matrix::{Kind, extract};
    use ndarray::Array2;
    use ndarray_npy::{NpzReader, ReadNpyExt};
    use std::io::Cursor;

    fn matrix() -> (FeatureMatrix, MatrixConfig) {
        let cfg = MatrixConfig::default();
        let noise = crate::test_signal::noise(4000, 1);
        (extract(&noise, Kind::Spectral, &cfg).unwrap(), cfg)
    }

    #[test]
    fn npy_and_npz_round_trip() {
        let (m, cfg) = matrix();
        let mut buf = Cursor::new(Vec::new());
        write(&m, &cfg, ExportFormat::Npy, &mut buf).unwrap();
        let back = Array2::<f32>::read_npy(&buf.get_ref()[..]).unwrap();
        assert_eq!(back, m.values);

        let mut buf = Cursor::new(Vec::new());
        write(&m, &cfg, ExportFormat::Npz, &mut buf).unwrap();
        let mut npz = NpzReader::new(Cursor::new(buf.into_inner())).unwrap();
        let features: Array2<f32> = npz.by_name("features").unwrap();
        let times: Array1<f64> = npz.by_name("time_s").unwrap();
        let params: Array1<u8> = npz.by_name("params_json").unwrap();
        let params: serde_json::Value = serde_json::from_slice(params.as_slice().unwrap()).unwrap();
        assert_eq!(features, m.values);
        assert_eq!(times.to_vec(), m.times_s);
        assert_eq!(params["columns"][0], "centroid_hz");
        assert_eq!(params["config"]["n_fft"], 512);
    }

    #[test]
    fn csv_has_a_header_and_one_row_per_frame() {
        let (m, cfg) = matrix();
        let mut buf = Cursor::new(Vec::new());
        write(&m, &cfg, ExportFormat::Csv, &mut buf).unwrap();
        let text = String::from_utf8(buf.into_inner()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "time_s,centroid_hz,bandwidth_hz,rolloff_hz,flatness,flux,zcr,rms"
        );
        assert_eq!(lines.len(), m.values.nrows() + 1);
        assert!(lines[2].starts_with("0.01,"), "{}", lines[2]);
    }

    #[test]
    fn format_follows_the_extension() {
        assert_eq!(
            ExportFormat::from_path(Path::new("a.NPZ")).unwrap(),
            ExportFormat::Npz
        );
        assert!(ExportFormat::from_path(Path::new("a.txt")).is_err());
    }
}
