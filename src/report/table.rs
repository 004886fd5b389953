//! The human-readable report: one line per file, then its segments as a score track.

use std::io::Write;

use super::{Record, Reporter};

/// Plain-text table for terminals.
pub struct Table;

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:5.1}%", 100.0 * v))
        .unwrap_or_else(|| "    - ".into())
}

impl Reporter for Table {
    fn record(&mut self, out: &mut dyn Write, record: &Record) -> std::io::Result<()> {
        match record {
            Record::Failed(e) => writeln!(out, "ERROR  {}", e.error),
            Record::Scored(r) => {
                writeln!(
                    out,
                    "{:<14} score {}  max segment {}  speech {:.1}/{:.1} s  {} {} Hz x{}  {}",
                    r.verdict.as_str().to_uppercase(),
                    pct(r.score),
                    pct(r.max_segment_score),
                    r.speech_s,
                    r.duration_s,
                    r.codec,
                    r.sample_rate,
                    r.channels,
                    r.file
                )?;
                if let Some(note) = &r.note {
                    writeln!(out, "    note: {note}")?;
                }
                if r.analysed_as_call {
                    writeln!(out, "    analysed as a call: 0-4 kHz only")?;
                }
                for c in r.channel_results.iter().flatten() {
                    writeln!(
                        out,
                        "    channel {}: {} score {}  max segment {}  speech {:.1} s",
                        c.channel.map(|c| c.to_string()).unwrap_or_default(),
                        c.verdict.as_str(),
                        pct(c.score),
                        pct(c.max_segment_score),
                        c.speech_s
                    )?;
                }
                for s in &r.segments {
                    let ch = s.channel.map(|c| format!("ch{c} ")).unwrap_or_default();
                    let bar = s
                        .score
                        .map(|v| "#".repeat((v * 20.0).round() as usize))
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "    {ch}{:7.2}-{:7.2} s  {}  speech {:3.0}%  {:<20} {}",
                        s.start_s,
                        s.end_s,
                        pct(s.score),
                        100.0 * s.speech_ratio,
                        bar,
                        s.note.as_deref().unwrap_or("")
                    )?;
                }
                Ok(())
            }
        }
    }

    fn finish(&mut self, _out: &mut dyn Write) -> std::io::Result<()> {
        Ok(())
    }
}
