//! Labelled clip lists (`manifest.csv`: `file,label,system,corpus,speaker,...`, `file` relative to
//! the manifest) for training and evaluation.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// Ground truth of a clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// A real human recording.
    Bonafide,
    /// Synthetic speech.
    Spoof,
}

impl Label {
    /// The label as the manifest spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Bonafide => "bonafide",
            Label::Spoof => "spoof",
        }
    }
}

/// One labelled clip.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// Absolute or manifest-relative path resolved against the manifest's folder.
    pub path: PathBuf,
    /// Ground truth.
    pub label: Label,
    /// Generator id, or `bonafide`.
    pub system: String,
    /// Speaker or voice id (empty when the manifest has none).
    pub speaker: String,
    /// Recording source (`corpus` column; empty when the manifest has none). Training balances
    /// real speech over its sources so that one dominant source does not define "real".
    pub corpus: String,
}

#[derive(Deserialize)]
struct Row {
    file: String,
    label: Label,
    system: String,
    #[serde(default)]
    speaker: String,
    #[serde(default)]
    corpus: String,
}

/// Reads a manifest; paths are resolved relative to its folder.
pub fn read_manifest(path: &Path) -> Result<Vec<Clip>> {
    let bad = |reason: String| Error::Manifest {
        path: path.to_owned(),
        reason,
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let mut clips = Vec::new();
    for (i, row) in reader.deserialize::<Row>().enumerate() {
        let row = row.map_err(|e| bad(format!("row {}: {e}", i + 2)))?;
        clips.push(Clip {
            path: base.join(&row.file),
            label: row.label,
            system: row.system,
            speaker: row.speaker,
            corpus: row.corpus,
        });
    }
    if clips.is_empty() {
        return Err(bad("no clips".into()));
    }
    Ok(clips)
}

/// The corpus folder: `$VOXGUARD_CORPUS` if set, else `../shared/corpus` (relative to the
/// current directory). Tests that need it skip, saying so, when it is absent.
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("VOXGUARD_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/corpus"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_relative_paths_and_labels() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("manifest.csv");
        std::fs::write(
            &m,
            "file,label,system,corpus,speaker\na/x.flac,bonafide,bonafide,c,s1\nb/y.flac,spoof,tts,c,v\n",
        )
        .unwrap();
        let clips = read_manifest(&m).unwrap();
        assert_eq!(clips.len(), 2);
        assert_eq!(clips[0].path, dir.path().join("a/x.flac"));
        assert_eq!(clips[1].label, Label::Spoof);
        assert_eq!(clips[1].speaker, "v");
    }

    #[test]
    fn bad_label_names_the_row() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("manifest.csv");
        std::fs::write(&m, "file,label,system\nx.flac,maybe,s\n").unwrap();
        let err = read_manifest(&m).unwrap_err().to_string();
        assert!(err.contains("row 2"), "{err}");
    }
}
