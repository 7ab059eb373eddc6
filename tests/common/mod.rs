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

/// Run `likeness --json --db DB ARGS...`, which must succeed; its JSON.
pub fn cli(db: &Path, args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_likeness"))
        .args(["--json", "--db", db.to_str().unwrap()])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "likeness {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
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
    library_with(store, photos, &likeness::vision::models::DLIB);
}

/// Scan `photos` into `store` with `spec` and group the people; the faces found.
pub fn library_with(
    store: &mut likeness::store::Store,
    photos: &Path,
    spec: &'static likeness::vision::EmbedderSpec,
) -> u64 {
    use likeness::people::{self, ClusterSettings, Mode};
    use likeness::progress::{CancelToken, Progress};
    let m = likeness::vision::Models::load_for(spec).unwrap();
    let opts = likeness::pipeline::ScanOptions::new(vec![photos.to_path_buf()]);
    let o =
        likeness::pipeline::index(store, &m, &opts, &CancelToken::new(), &Progress::new()).unwrap();
    people::recluster(
        store,
        spec.id(),
        &ClusterSettings::for_model(spec),
        Mode::Full,
        &CancelToken::new(),
        &Progress::new(),
    )
    .unwrap();
    o.faces_found
}

/// The desktop app under egui_kittest, and stepping it until the worker has answered.
pub mod ui {
    use std::path::Path;
    use std::time::{Duration, Instant};

    use egui_kittest::Harness;
    use likeness::ui::{App, Saved};

    pub fn harness(db: &Path) -> Harness<'static, App> {
        let app = App::new(db.to_path_buf(), Saved::default());
        Harness::builder()
            .with_size([1200.0, 800.0])
            .build_ui_state(|ui, app: &mut App| app.show(ui), app)
    }

    /// Step frames until `cond` holds (the worker answers asynchronously).
    pub fn wait(h: &mut Harness<'static, App>, what: &str, secs: u64, cond: impl Fn(&App) -> bool) {
        let t = Instant::now();
        loop {
            h.step();
            if cond(h.state()) {
                h.step();
                return;
            }
            assert!(
                t.elapsed() < Duration::from_secs(secs),
                "timed out after {secs} s waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(15));
        }
    }

    pub fn idle_library(app: &App) -> bool {
        app.runtime().is_some_and(|r| r.data.library.is_some())
    }
}
