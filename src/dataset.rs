//! Labelled clip lists (`manifest.csv`: `file,label,system,corpus,speaker,...`, `file` relative to
//! the manifest) for training and evaluation.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
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

/// Copies of a manifest's clips made by another tool (a codec, a channel, a recorder), found in
/// one folder by the clip's file name without its extension (`LJ001-0021.flac` → any
/// `LJ001-0021.*`), so that `eval` can score any copy beside the clean clip, not only its own.
#[derive(Debug, Clone)]
pub struct SuppliedCopies {
    /// The folder, for messages.
    dir: PathBuf,
    /// File stem → the copy, or `None` when two files share the stem.
    by_stem: HashMap<OsString, Option<PathBuf>>,
    /// Stems that more than one of the clips has: their copy could be either clip's.
    shared: HashSet<OsString>,
}

impl SuppliedCopies {
    /// Lists the files of `dir` (not its subfolders) as copies of `clips`.
    pub fn from_dir(dir: &Path, clips: &[Clip]) -> Result<Self> {
        let io = |error| Error::Io {
            path: dir.to_owned(),
            error,
        };
        let mut by_stem: HashMap<OsString, Option<PathBuf>> = HashMap::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if let (true, Some(stem)) = (path.is_file(), path.file_stem()) {
                by_stem
                    .entry(stem.to_owned())
                    .and_modify(|p| *p = None)
                    .or_insert(Some(path));
            }
        }
        let mut seen = HashSet::new();
        let shared = clips
            .iter()
            .filter_map(|c| c.path.file_stem())
            .filter(|stem| !seen.insert(*stem))
            .map(OsStr::to_owned)
            .collect();
        Ok(Self {
            dir: dir.to_owned(),
            by_stem,
            shared,
        })
    }

    /// The copy of the clip at `clip`; an error naming the clip and the folder when there is
    /// none, more than one, or another clip has the same name.
    pub fn of(&self, clip: &Path) -> Result<&Path> {
        let stem = clip.file_stem().unwrap_or_default();
        let reason = match self.by_stem.get(stem) {
            _ if self.shared.contains(stem) => "another clip of the manifest has its name",
            Some(Some(copy)) => return Ok(copy),
            Some(None) => "more than one file there has its name",
            None => "no file there has its name",
        };
        Err(Error::NoCopy {
            clip: clip.to_owned(),
            dir: self.dir.clone(),
            reason,
        })
    }
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
    fn supplied_copies_are_found_by_the_clip_name_without_extension() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.mp3", "b.m4a", "b.ogg", "c.wav.mp3"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        std::fs::create_dir(dir.path().join("d")).unwrap();
        let clip = |path: &str| Clip {
            path: path.into(),
            label: Label::Bonafide,
            system: String::new(),
            speaker: String::new(),
            corpus: String::new(),
        };
        let clips = ["x/a.flac", "y/f.flac", "z/f.wav"].map(clip);
        let copies = SuppliedCopies::from_dir(dir.path(), &clips).unwrap();
        let of = |clip: &str| copies.of(Path::new(clip));
        assert_eq!(of("corpus/x/a.flac").unwrap(), dir.path().join("a.mp3"));
        assert_eq!(of("c.wav.flac").unwrap(), dir.path().join("c.wav.mp3"));
        for (clip, why) in [
            ("b.flac", "more than one"),
            ("d.flac", "no file"),
            ("e", "no file"),
            ("y/f.flac", "another clip"),
        ] {
            let err = of(clip).unwrap_err().to_string();
            assert!(err.contains(clip) && err.contains(why), "{err}");
        }
        let missing = SuppliedCopies::from_dir(&dir.path().join("none"), &clips).unwrap_err();
        assert!(missing.to_string().contains("cannot read"), "{missing}");
    }

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
