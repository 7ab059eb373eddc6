//! Finding photos under folders: recursive, following links without looping, skipping hidden
//! folders and the app's own files, and telling unsupported photo formats from non-photos.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::progress::CancelToken;

/// A photo file found by the walk, with the facts that decide whether it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub path: PathBuf,
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
}

/// Everything the walk found.
#[derive(Debug, Default)]
pub struct WalkResult {
    /// Photos to index, sorted by path.
    pub photos: Vec<FileEntry>,
    /// Photo files of formats we cannot read, with the reason.
    pub unsupported: Vec<(FileEntry, String)>,
    /// Folders or files that could not be read (permissions, loops), with the reason.
    pub errors: Vec<(PathBuf, String)>,
}

/// Classify a file by extension: `Ok(true)` supported, `Err(reason)` a photo we cannot read,
/// `Ok(false)` not a photo at all.
pub fn classify(path: &Path) -> Result<bool, &'static str> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    match super::formats::by_extension(&ext).map(|f| f.decoder) {
        Some(super::formats::Decoder::Unsupported(why)) => Err(why),
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

/// The change-detection facts of a file.
pub fn file_entry(path: PathBuf, md: &std::fs::Metadata) -> FileEntry {
    let mtime_ns = md
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0);
    FileEntry {
        path,
        size: md.len(),
        mtime_ns,
    }
}

/// Walk `roots`. Paths inside `skip` (the app's own data: database, caches) are ignored, as
/// are hidden files and folders below a root. Links are followed; loops are reported, not
/// followed twice; a file reachable by two paths is listed once.
pub fn walk(roots: &[PathBuf], skip: &[PathBuf], cancel: &CancelToken) -> WalkResult {
    let mut out = WalkResult::default();
    let mut seen_files: HashSet<(u64, u64)> = HashSet::new();
    for root in roots {
        let walker = walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                let hidden =
                    e.depth() > 0 && e.file_name().to_str().is_some_and(|n| n.starts_with('.'));
                !hidden && !skip.iter().any(|s| e.path().starts_with(s))
            });
        for item in walker {
            if cancel.is_cancelled() {
                return out;
            }
            let e = match item {
                Ok(e) => e,
                Err(err) => {
                    let path = err
                        .path()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| root.clone());
                    let why = if err.loop_ancestor().is_some() {
                        "folder link loop (skipped)".to_string()
                    } else {
                        err.io_error()
                            .map(|e| e.to_string())
                            .unwrap_or_else(|| err.to_string())
                    };
                    out.errors.push((path, why));
                    continue;
                }
            };
            if !e.file_type().is_file() {
                continue;
            }
            let kind = classify(e.path());
            if kind == Ok(false) {
                continue;
            }
            let md = match e.metadata() {
                Ok(md) => md,
                Err(err) => {
                    out.errors.push((e.path().to_path_buf(), err.to_string()));
                    continue;
                }
            };
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                if !seen_files.insert((md.dev(), md.ino())) {
                    continue;
                }
            }
            #[cfg(not(unix))]
            let _ = &mut seen_files;
            let fe = file_entry(e.into_path(), &md);
            match kind {
                Ok(_) => out.photos.push(fe),
                Err(why) => out.unsupported.push((fe, why.to_string())),
            }
        }
    }
    out.photos.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(classify(Path::new("a/B.JPG")), Ok(true));
        assert_eq!(classify(Path::new("a/b.webp")), Ok(true));
        assert_eq!(classify(Path::new("a/IMG_0001.HEIC")), Ok(true));
        assert_eq!(classify(Path::new("a/b.avif")), Ok(true));
        assert_eq!(classify(Path::new("a/IMG_1.CR2")), Ok(true));
        assert_eq!(classify(Path::new("a/notes.txt")), Ok(false));
        assert_eq!(classify(Path::new("a/noext")), Ok(false));
    }

    #[test]
    fn walk_skips_hidden_and_own_files_and_survives_loops() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(root.join(".hidden")).unwrap();
        std::fs::create_dir_all(root.join("appdata")).unwrap();
        for p in [
            "a/1.jpg",
            "a/b/2.png",
            ".hidden/3.jpg",
            "appdata/4.jpg",
            "a/x.cr2",
            "a/t.txt",
        ] {
            std::fs::write(root.join(p), b"x").unwrap();
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("a"), root.join("a/b/loop")).unwrap();
            std::os::unix::fs::symlink(root.join("a/1.jpg"), root.join("a/same.jpg")).unwrap();
        }
        let r = walk(
            &[root.to_path_buf()],
            &[root.join("appdata")],
            &CancelToken::new(),
        );
        let names: Vec<String> = r
            .photos
            .iter()
            .map(|f| f.path.strip_prefix(root).unwrap().display().to_string())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.contains(&"a/x.cr2".to_string()));
        assert!(names.contains(&"a/b/2.png".to_string()));
        assert!(r.unsupported.is_empty(), "{:?}", r.unsupported);
        #[cfg(unix)]
        assert!(
            r.errors.iter().any(|(_, why)| why.contains("loop")),
            "{:?}",
            r.errors
        );
    }
}
