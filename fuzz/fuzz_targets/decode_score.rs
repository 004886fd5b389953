//! Untrusted bytes → decode → features → segments → score: must return a result or an error,
//! never panic, hang or exhaust memory.
#![no_main]

use std::io::Cursor;
use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use voxguard::decode::AudioDecoderStream;
use voxguard::model::Model;
use voxguard::pipeline::{AnalysisConfig, analyze_stream};
use voxguard::scan::{Scanner, Thresholds};

fn scanner() -> &'static Scanner {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    SCANNER.get_or_init(|| {
        let analysis = AnalysisConfig {
            max_duration_s: 150.0,
            ..AnalysisConfig::default()
        };
        Scanner::new(Model::builtin().unwrap(), analysis, Thresholds::default()).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let scanner = scanner();
    let source = Box::new(Cursor::new(data.to_vec()));
    // Raw GSM 06.10 and headerless G.711 are recognised by their extension alone: inputs that
    // start like a GSM frame (signature nibble 0xD) are named `.gsm`, those starting with the
    // nibble 0xE `.ul`, so that those paths are fuzzed too.
    let name = match data.first().map(|b| b >> 4) {
        Some(0xD) => "fuzz.gsm",
        Some(0xE) => "fuzz.ul",
        _ => "fuzz.bin",
    };
    let Ok(stream) = AudioDecoderStream::from_source(source, Path::new(name), 150.0) else {
        return;
    };
    if let Ok(analysis) = analyze_stream(stream, &scanner.analysis) {
        let report = scanner.report(name.into(), String::new(), &analysis);
        assert!(report.score.is_none_or(|s| (0.0..=1.0).contains(&s)));
    }
});
