//! One photo, outside any library: decode it and find its faces (for `likeness faces`,
//! `likeness verify` and the evaluations). Touches no database.

use std::path::Path;

use crate::error::{Error, Result};
use crate::library::decode;
use crate::settings;
use crate::vision::{Detection, FaceEngine};

/// A face found in a single photo, in the photo's oriented pixel coordinates.
#[derive(Debug, Clone)]
pub struct PhotoFace {
    pub detection: Detection,
    pub embedding: Vec<f32>,
}

/// The faces of one photo.
#[derive(Debug, Clone)]
pub struct PhotoFaces {
    pub width: u32,
    pub height: u32,
    pub faces: Vec<PhotoFace>,
}

impl PhotoFaces {
    /// The face with the largest box.
    pub fn largest(&self) -> Option<&PhotoFace> {
        self.faces.iter().max_by(|a, b| {
            let area = |f: &PhotoFace| f.detection.size().0 * f.detection.size().1;
            area(a).total_cmp(&area(b))
        })
    }

    /// The face whose box centre is nearest the photo's centre (LFW's convention).
    pub fn nearest_centre(&self) -> Option<&PhotoFace> {
        let (cx, cy) = (self.width as f32 / 2.0, self.height as f32 / 2.0);
        self.faces.iter().min_by(|a, b| {
            let d = |f: &PhotoFace| {
                let (x, y) = f.detection.centre();
                (x - cx).powi(2) + (y - cy).powi(2)
            };
            d(a).total_cmp(&d(b))
        })
    }
}

/// Decode `path` and detect its faces (in the decoded image's pixels).
pub fn detect(
    engine: &mut FaceEngine,
    path: &Path,
) -> Result<(crate::library::decode::Decoded, Vec<Detection>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let d = decode::decode_guarded(path, &bytes, settings::WORK_MAX_SIDE).map_err(|message| {
        Error::Photo {
            path: path.to_path_buf(),
            message,
        }
    })?;
    let dets = engine
        .detector
        .detect(&d.image, settings::MIN_FACE_PX * d.scale)?;
    Ok((d, dets))
}

/// Decode `path` and detect (and, if `embed`, embed) its faces.
pub fn analyze(engine: &mut FaceEngine, path: &Path, embed: bool) -> Result<PhotoFaces> {
    let (d, dets) = detect(engine, path)?;
    let embeddings = if embed {
        let chips = engine.chips(&d.image, dets.iter().map(|det| det.landmarks));
        engine.embedder.embed(&chips)?
    } else {
        vec![Vec::new(); dets.len()]
    };
    let back = 1.0 / d.scale;
    Ok(PhotoFaces {
        width: d.width,
        height: d.height,
        faces: dets
            .iter()
            .zip(embeddings)
            .map(|(det, embedding)| PhotoFace {
                detection: det.scaled(back),
                embedding,
            })
            .collect(),
    })
}

/// Analyze many photos on `threads` threads, each with its own engine; results in input order.
pub fn analyze_many(
    models: &crate::vision::Models,
    paths: &[std::path::PathBuf],
    threads: usize,
    cancel: &crate::progress::CancelToken,
    progress: &crate::progress::Progress,
) -> Result<Vec<Result<PhotoFaces>>> {
    map_photos(models, paths, threads, cancel, progress, |engine, path| {
        let r = analyze(engine, path, true);
        if let Ok(f) = &r {
            crate::progress::Progress::add(&progress.faces, f.faces.len() as u64);
        }
        r
    })
}

/// Run `work` on every photo of `paths` on `threads` threads, each with its own engine; results
/// in input order. The one thread pool of the evaluations and benchmarks.
pub fn map_photos<T: Send>(
    models: &crate::vision::Models,
    paths: &[std::path::PathBuf],
    threads: usize,
    cancel: &crate::progress::CancelToken,
    progress: &crate::progress::Progress,
    work: impl Fn(&mut FaceEngine, &Path) -> Result<T> + Sync,
) -> Result<Vec<Result<T>>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<T>>>> =
        Mutex::new((0..paths.len()).map(|_| None).collect());
    crate::progress::Progress::add(&progress.total, paths.len() as u64);
    let mut engines = Vec::new();
    for _ in 0..threads.max(1) {
        engines.push(models.engine()?);
    }
    std::thread::scope(|s| {
        for (i, mut engine) in engines.into_iter().enumerate() {
            let (next, results, work) = (&next, &results, &work);
            let spawned = std::thread::Builder::new()
                .name(format!("likeness-analyze-{i}"))
                .spawn_scoped(s, move || loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= paths.len() || cancel.is_cancelled() {
                        return;
                    }
                    let r = work(&mut engine, &paths[k]);
                    crate::progress::Progress::add(&progress.done, 1);
                    if let Ok(mut v) = results.lock() {
                        v[k] = Some(r);
                    }
                });
            if let Err(e) = spawned {
                tracing::error!("cannot start an analysis thread: {e}");
            }
        }
    });
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    let v = results
        .into_inner()
        .map_err(|_| Error::Invalid("an analysis thread panicked".into()))?;
    Ok(v.into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Error::Invalid("not analyzed".into()))))
        .collect())
}
