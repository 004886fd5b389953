use super::*;

fn sample() -> Record {
    Record::Scored(Box::new(FileReport {
        file: "a,b.wav".into(),
        sha256: "00".repeat(32),
        duration_s: 6.0,
        sample_rate: 8000,
        channels: 1,
        codec: "pcm_mulaw".into(),
        container: "wave".into(),
        score: Some(0.25),
        max_segment_score: Some(0.5),
        verdict: Verdict::Human,
        note: None,
        speech_s: 4.5,
        analysed_as_call: true,
        channel_results: None,
        segments: vec![
            SegmentReport {
                channel: None,
                start_s: 0.0,
                end_s: 4.0,
                score: Some(0.5),
                speech_ratio: 0.8,
                note: None,
            },
            SegmentReport {
                channel: None,
                start_s: 2.0,
                end_s: 6.0,
                score: None,
                speech_ratio: 0.1,
                note: Some("too little speech".into()),
            },
        ],
        model: ModelId {
            name: "m".into(),
            version: "1".into(),
            sha256: "ff".into(),
        },
        settings: Settings {
            segment_s: 4.0,
            hop_s: 2.0,
            min_segment_speech_s: 1.0,
            min_speech_s: 1.5,
            synthetic_min_speech_s: 2.0,
            channels: crate::pipeline::ChannelMode::Mix,
            synthetic_above: 0.7,
            human_below: 0.3,
            max_duration_s: 14400.0,
        },
        voxguard_version: "0".into(),
    }))
}

fn failed() -> Record {
    Record::Failed(FileError {
        file: "bad.wav".into(),
        error: "bad.wav: not a recognised audio file: x".into(),
    })
}

fn render(format: Format) -> String {
    let mut r = reporter(format);
    let mut out = Vec::new();
    r.record(&mut out, &sample()).unwrap();
    r.record(&mut out, &failed()).unwrap();
    r.finish(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn jsonl_has_the_documented_fields() {
    let text = render(Format::Jsonl);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for key in [
        "file",
        "sha256",
        "duration_s",
        "sample_rate",
        "channels",
        "codec",
        "score",
        "max_segment_score",
        "verdict",
        "speech_s",
        "analysed_as_call",
        "segments",
        "model",
    ] {
        assert!(lines[0].get(key).is_some(), "missing {key}");
    }
    assert_eq!(lines[0]["verdict"], "human");
    assert!(lines[0]["segments"][1]["score"].is_null());
    for key in ["channel", "start_s", "end_s", "score", "speech_ratio"] {
        assert!(
            lines[0]["segments"][0].get(key).is_some(),
            "segment missing {key}"
        );
    }
    for key in ["name", "version", "sha256"] {
        assert!(lines[0]["model"].get(key).is_some());
    }
    assert_eq!(lines[1]["file"], "bad.wav");
    assert!(lines[1]["error"].as_str().unwrap().contains("bad.wav"));
    // Records round-trip through the public type.
    let back: Record = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(back, sample());
}

#[test]
fn results_written_by_earlier_versions_still_read() {
    // Lines of earlier versions have no `synthetic_min_speech_s`; they had no such rule, which
    // reads as 0 s (`merge` and `--resume` parse old results files). Nor `analysed_as_call`,
    // which reads as false.
    let mut line: serde_json::Value =
        serde_json::from_str(render(Format::Jsonl).lines().next().unwrap()).unwrap();
    let settings = line["settings"].as_object_mut().unwrap();
    assert_eq!(settings.remove("synthetic_min_speech_s"), Some(2.0.into()));
    let record = line.as_object_mut().unwrap();
    assert_eq!(record.remove("analysed_as_call"), Some(true.into()));
    let Record::Scored(old) = serde_json::from_value(line).unwrap() else {
        panic!("a scored record");
    };
    assert_eq!(old.settings.synthetic_min_speech_s, 0.0);
    assert!(!old.analysed_as_call);
}

#[test]
fn json_is_one_array() {
    let v: serde_json::Value = serde_json::from_str(&render(Format::Json)).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    let empty = {
        let mut out = Vec::new();
        reporter(Format::Json).finish(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&empty).unwrap(),
        serde_json::json!([])
    );
}

#[test]
fn csv_has_one_row_per_segment_and_quotes_commas() {
    let text = render(Format::Csv);
    let mut rdr = ::csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<::csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[0][0], "a,b.wav");
    assert_eq!(&rows[0][7], "true");
    assert_eq!(&rows[1][11], "");
    assert_eq!(&rows[2][14], "bad.wav: not a recognised audio file: x");
}

#[test]
fn table_shows_verdict_and_error() {
    let text = render(Format::Table);
    assert!(text.contains("HUMAN"));
    assert!(text.contains("ERROR  bad.wav"));
    assert!(text.contains("too little speech"));
    assert!(text.contains("analysed as a call"));
}
