//! Expanding command-line paths into the list of inputs.

use std::path::{Path, PathBuf};

use voxguard::decode::is_headerless;

/// Extensions picked up when walking a directory (files named explicitly are always taken),
/// beside those of headerless telephony audio ([`voxguard::decode::is_headerless`]).
const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "wave", "flac", "mp3", "mp2", "ogg", "oga", "m4a", "mp4", "aac", "aif", "aiff", "aifc",
    "caf", "mka", "mkv", "webm", "opus", "amr", "gsm", "wma", "au", "snd",
];

/// One input to scan, or a path that could not even be listed.
pub enum Input {
    /// A file to scan.
    File(PathBuf),
    /// A path that failed before scanning (missing, unreadable directory, link loop...).
    Unreadable(PathBuf, String),
}

impl Input {
    /// The path this input names.
    pub fn path(&self) -> &Path {
        match self {
            Input::File(p) | Input::Unreadable(p, _) => p,
        }
    }
}

/// Expands `paths`: files as given, directories walked recursively (sorted, audio extensions
/// only). Symbolic links to files are taken like files (a dangling one then fails with its
/// reason); links to directories are not followed, so a link loop cannot recurse, and each one
/// is named on stderr so a tree of linked folders does not silently scan nothing.
pub fn expand(paths: &[PathBuf]) -> Vec<Input> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            for entry in walkdir::WalkDir::new(p).sort_by_file_name() {
                match entry {
                    Ok(e) if e.file_type().is_file() && is_audio(e.path()) => {
                        out.push(Input::File(e.into_path()))
                    }
                    Ok(e) if e.path_is_symlink() => {
                        if e.path().is_dir() {
                            eprintln!(
                                "voxguard: not following the link to a directory {}",
                                e.path().display()
                            );
                        } else if is_audio(e.path()) {
                            out.push(Input::File(e.into_path()));
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| p.clone());
                        out.push(Input::Unreadable(path, e.to_string()));
                    }
                }
            }
        } else {
            out.push(Input::File(p.clone()));
        }
    }
    out
}

fn is_audio(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()) || is_headerless(e)
    })
}
