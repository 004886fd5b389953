//! JSON outputs: a streamed array, or one object per line.

use std::io::Write;

use super::{Record, Reporter};

/// `[record, record, ...]`, written incrementally.
#[derive(Default)]
pub struct JsonArray {
    started: bool,
}

impl Reporter for JsonArray {
    fn record(&mut self, out: &mut dyn Write, record: &Record) -> std::io::Result<()> {
        out.write_all(if self.started { b",\n" } else { b"[\n" })?;
        self.started = true;
        serde_json::to_writer(&mut *out, record)?;
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(if self.started { b"\n]\n" } else { b"[]\n" })
    }
}

/// One complete JSON object per line.
pub struct JsonLines;

impl Reporter for JsonLines {
    fn record(&mut self, out: &mut dyn Write, record: &Record) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        out.write_all(&line)
    }

    fn finish(&mut self, _out: &mut dyn Write) -> std::io::Result<()> {
        Ok(())
    }
}
