//! CSV output: one row per segment, repeating the file's columns; a failed file is one row with
//! only `file` and `error` filled.

use std::io::Write;

use super::{Record, Reporter};

const HEADER: [&str; 15] = [
    "file",
    "sha256",
    "verdict",
    "score",
    "max_segment_score",
    "duration_s",
    "speech_s",
    "analysed_as_call",
    "channel",
    "start_s",
    "end_s",
    "segment_score",
    "speech_ratio",
    "note",
    "error",
];

/// CSV writer state (the header is written once, before the first row).
#[derive(Default)]
pub struct Csv {
    header_written: bool,
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

impl Reporter for Csv {
    fn record(&mut self, out: &mut dyn Write, record: &Record) -> std::io::Result<()> {
        let mut w = csv::Writer::from_writer(Vec::new());
        if !self.header_written {
            w.write_record(HEADER)?;
            self.header_written = true;
        }
        match record {
            Record::Failed(e) => {
                let mut row = vec![String::new(); HEADER.len()];
                row[0] = e.file.clone();
                row[HEADER.len() - 1] = e.error.clone();
                w.write_record(&row)?;
            }
            Record::Scored(r) => {
                let file_cols = [
                    r.file.clone(),
                    r.sha256.clone(),
                    r.verdict.as_str().to_string(),
                    opt(r.score),
                    opt(r.max_segment_score),
                    r.duration_s.to_string(),
                    r.speech_s.to_string(),
                    r.analysed_as_call.to_string(),
                ];
                for s in &r.segments {
                    let mut row = file_cols.to_vec();
                    row.extend([
                        opt(s.channel),
                        s.start_s.to_string(),
                        s.end_s.to_string(),
                        opt(s.score),
                        s.speech_ratio.to_string(),
                        s.note.clone().unwrap_or_default(),
                        String::new(),
                    ]);
                    w.write_record(&row)?;
                }
                if r.segments.is_empty() {
                    let mut row = file_cols.to_vec();
                    row.extend(std::iter::repeat_n(String::new(), 5));
                    row.push(r.note.clone().unwrap_or_default());
                    row.push(String::new());
                    w.write_record(&row)?;
                }
            }
        }
        let bytes = w.into_inner().map_err(|e| e.into_error())?;
        out.write_all(&bytes)
    }

    fn finish(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        if !self.header_written {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(HEADER)?;
            out.write_all(&w.into_inner().map_err(|e| e.into_error())?)?;
        }
        Ok(())
    }
}
