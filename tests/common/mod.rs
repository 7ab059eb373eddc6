//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `../shared/data` beside the checkout, or `None` (after saying so) when it is absent.
pub fn shared_data(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("LIKENESS_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    if dir.join("lfw").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED {test}: real face data not found at {} (set LIKENESS_DATA)",
            dir.display()
        );
        None
    }
}

/// SHA-256 of every file under `dir`, sorted by path: proof that a scan modified nothing.
pub fn fingerprint_tree(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out: Vec<(PathBuf, String)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            (
                e.path().to_path_buf(),
                likeness::library::content_hash(&bytes),
            )
        })
        .collect();
    out.sort();
    out
}

/// Copy the first `n` images (sorted) of LFW person folders into `dest`, one folder per person.
pub fn copy_lfw(data: &Path, dest: &Path, people: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in people {
        let src = data.join("lfw/lfw-deepfunneled").join(p);
        let dst = dest.join(p);
        std::fs::create_dir_all(&dst).unwrap();
        let mut files: Vec<_> = std::fs::read_dir(&src)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let t = dst.join(f.file_name().unwrap());
            std::fs::copy(&f, &t).unwrap();
            out.push(t);
        }
    }
    out
}

/// Scan `photos` into `store` with the dlib embedder and group the people, as every library
/// made before MobileFaceNet became the default was.
pub fn dlib_library(store: &mut likeness::store::Store, photos: &Path) {
    use likeness::people::{self, ClusterSettings, Mode};
    use likeness::progress::{CancelToken, Progress};
    use likeness::vision::models::DLIB;
    let m = likeness::vision::Models::load_for(&DLIB).unwrap();
    let opts = likeness::pipeline::ScanOptions::new(vec![photos.to_path_buf()]);
    likeness::pipeline::index(store, &m, &opts, &CancelToken::new(), &Progress::new()).unwrap();
    people::recluster(
        store,
        DLIB.id(),
        &ClusterSettings::for_model(&DLIB),
        Mode::Full,
        &CancelToken::new(),
        &Progress::new(),
    )
    .unwrap();
}
