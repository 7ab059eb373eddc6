//! Upgrading a library to another embedder: every face of every reachable photo is re-embedded
//! from its stored landmarks (no re-detection: face ids, boxes and thumbnails stay), in parallel
//! with one writer committing batches, like the scan. Faces whose photo cannot be read get a
//! vector through the library's harmonic map when it measures good enough, and are otherwise
//! left out of clustering (they keep their person). When every reachable face has its vector,
//! the new model becomes active and people are re-clustered in its space; every user decision
//! refers to faces, so all of them hold.
//!
//! Resumable by construction: a batch of photos' vectors is one transaction, the work list is
//! "faces without a vector of the target", and the old model stays active until the end, so a
//! kill or Ctrl-C at any moment loses at most the batch in flight and mixes nothing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, RecvTimeoutError};
use serde::Serialize;

use crate::cluster::ClusterSettings;
use crate::error::{Error, Result};
use crate::harmonic::{self, LinearMap};
use crate::library::{decode, walk};
use crate::people::{self, Mode};
use crate::progress::{CancelToken, Progress, Stage};
use crate::settings;
use crate::store::{ModelMap, Origin, PhotoToEmbed, Store};
use crate::vision::models::Metric;
use crate::vision::Models;

/// What an upgrade did (field names are a command-line contract).
#[derive(Debug, Clone, Default, Serialize)]
pub struct UpgradeOutcome {
    /// The model upgraded to.
    pub model: String,
    /// The model active before.
    pub from: String,
    /// Faces in the library.
    pub faces: u64,
    /// Faces re-embedded from their photo in this run.
    pub reembedded: u64,
    /// Faces given a vector through the harmonic map.
    pub mapped: u64,
    /// Faces with no vector of the new model (photo unreachable, map not good enough): they
    /// keep their person and are left out of new clustering.
    pub left_out: u64,
    /// Photos read and re-embedded in this run.
    pub photos_reembedded: u64,
    /// Photos that could not be read (offline, deleted, edited since the scan).
    pub photos_unreachable: u64,
    pub seconds: f64,
    pub cancelled: bool,
    /// Whether the new model is active now.
    pub activated: bool,
    /// The harmonic map's agreement with real vectors on held-out faces, when one was fitted.
    pub map_agreement: Option<f64>,
    /// People after re-clustering in the new space.
    pub people: usize,
}

/// A re-embedded photo, or why it could not be.
enum Done {
    Embedded(Vec<(i64, Vec<f32>)>),
    Unreachable(String),
}

/// Re-embed the library with `models`' embedder, then make it active (see the module doc).
pub fn upgrade(
    store: &mut Store,
    models: &Models,
    threads: usize,
    cancel: &CancelToken,
    progress: &Progress,
) -> Result<UpgradeOutcome> {
    let t0 = Instant::now();
    let _memory = crate::memory::hold_for_job();
    let to = models.embedder_spec();
    let from = super::library_embedder(store)?;
    let mut out = UpgradeOutcome {
        model: to.id().to_string(),
        from: from.id().to_string(),
        faces: store.face_count()?,
        ..Default::default()
    };
    progress.set_stage(Stage::Reembedding);
    let todo = store.photos_to_embed(to.id())?;
    Progress::add(&progress.total, todo.len() as u64);
    let threads = threads.max(1);
    let mut engines = Vec::with_capacity(threads);
    for _ in 0..threads {
        engines.push(models.engine()?);
    }
    let next = AtomicUsize::new(0);
    let (tx, rx) = bounded::<(usize, Done)>(threads * 4);
    let mut unreachable: Vec<String> = Vec::new();
    std::thread::scope(|s| -> Result<()> {
        for (i, mut engine) in engines.into_iter().enumerate() {
            let (tx, next, todo) = (tx.clone(), &next, &todo);
            std::thread::Builder::new()
                .name(format!("likeness-reembed-{i}"))
                .spawn_scoped(s, move || loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= todo.len() || cancel.is_cancelled() {
                        return;
                    }
                    let done = match reembed(&mut engine, &todo[k]) {
                        Ok(v) => Done::Embedded(v),
                        Err(why) => Done::Unreachable(why),
                    };
                    if tx.send((k, done)).is_err() {
                        return;
                    }
                })
                .map_err(|e| Error::Invalid(format!("cannot start a re-embedding thread: {e}")))?;
        }
        drop(tx);
        // One writer: batches of photos, each batch one transaction.
        let mut batch: Vec<(i64, Vec<f32>)> = Vec::new();
        let mut photos_in_batch = 0usize;
        let mut oldest: Option<Instant> = None;
        let max_delay = Duration::from_millis(settings::WRITE_MAX_DELAY_MS);
        loop {
            let wait = oldest.map_or(max_delay, |t| max_delay.saturating_sub(t.elapsed()));
            let (flush, finished) = match rx.recv_timeout(wait) {
                Ok((k, done)) => {
                    oldest.get_or_insert_with(Instant::now);
                    match done {
                        Done::Embedded(v) => {
                            Progress::add(&progress.faces, v.len() as u64);
                            out.photos_reembedded += 1;
                            batch.extend(v);
                        }
                        Done::Unreachable(why) => {
                            tracing::info!("{}: not re-embedded: {why}", todo[k].path);
                            Progress::add(&progress.failed, 1);
                            unreachable.push(todo[k].path.clone());
                        }
                    }
                    Progress::add(&progress.done, 1);
                    photos_in_batch += 1;
                    (photos_in_batch >= settings::WRITE_BATCH, false)
                }
                Err(RecvTimeoutError::Timeout) => (true, false),
                Err(RecvTimeoutError::Disconnected) => (true, true),
            };
            if flush && !batch.is_empty() {
                store.write(|w| {
                    batch
                        .iter()
                        .try_for_each(|(f, v)| w.put_embedding(*f, to.id(), v, Origin::Model))
                })?;
                out.reembedded += batch.len() as u64;
                batch.clear();
            }
            if flush {
                photos_in_batch = 0;
                oldest = None;
            }
            if finished {
                return Ok(());
            }
        }
    })?;
    out.photos_unreachable = unreachable.len() as u64;
    if cancel.is_cancelled() {
        out.cancelled = true;
        out.seconds = t0.elapsed().as_secs_f64();
        return Ok(out);
    }

    // Faces still without a real vector of the new model: through the map, or left out.
    if from.id() != to.id() {
        let (mapped, left_out, agreement) = bridge(store, from.id(), to)?;
        out.mapped = mapped;
        out.left_out = left_out;
        out.map_agreement = agreement;
    } else {
        out.left_out = store.faces_without_any_vector(to.id())?;
    }
    store.write(|w| w.set_active_embedder(to.id()))?;
    out.activated = true;

    // People in the new space; decisions are face facts and hold.
    progress.set_stage(Stage::Clustering);
    let rc = people::recluster(
        store,
        to.id(),
        &ClusterSettings::for_model(to),
        Mode::Full,
        cancel,
        progress,
    )?;
    out.people = rc.people;
    out.seconds = t0.elapsed().as_secs_f64();
    progress.set_stage(Stage::Done);
    Ok(out)
}

/// Re-embed one photo's faces from its stored landmarks, at the scan's working resolution.
fn reembed(
    engine: &mut crate::vision::FaceEngine,
    p: &PhotoToEmbed,
) -> std::result::Result<Vec<(i64, Vec<f32>)>, String> {
    let path = std::path::Path::new(&p.path);
    let md = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    let entry = walk::file_entry(path.to_path_buf(), &md);
    if entry.size != p.size || entry.mtime_ns != p.mtime_ns {
        return Err("changed since it was scanned (the next scan re-detects it)".into());
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    // A decoder bug must cost one photo, not the upgrade (as in the scan).
    let d = decode::decode_guarded(path, &bytes, settings::WORK_MAX_SIDE)?;
    let chips = engine.chips(
        &d.image,
        p.faces
            .iter()
            .map(|f| f.landmarks.map(|q| [q[0] * d.scale, q[1] * d.scale])),
    );
    let v = engine.embedder.embed(&chips).map_err(|e| e.to_string())?;
    Ok(p.faces.iter().map(|f| f.face_id).zip(v).collect())
}

/// Fit (or refit) the map from `from` into `to` on the faces with both vectors, measure it on
/// held-out faces, and give the faces without a real `to` vector a mapped one when it is good
/// enough. Returns `(mapped, left out, agreement)`.
fn bridge(
    store: &mut Store,
    from: &str,
    to: &crate::vision::EmbedderSpec,
) -> Result<(u64, u64, Option<f64>)> {
    let orphans = store.faces_without_own_vector(from, to.id())?;
    let no_vector = store.faces_without_any_vector(to.id())?;
    if orphans.is_empty() {
        // Nothing to map (old mapped vectors of faces now re-embedded were replaced).
        return Ok((0, no_vector, None));
    }
    let pairs = store.paired_vectors(from, to.id())?;
    // Hold out every 10th photo's faces (whole photos, like LFW folds keep images apart).
    let (mut fit_x, mut fit_y, mut test_x, mut test_y) = (vec![], vec![], vec![], vec![]);
    for (_, photo, x, y) in &pairs {
        if photo % 10 == 0 {
            test_x.push(x.as_slice());
            test_y.push(y.as_slice());
        } else {
            fit_x.push(x.as_slice());
            fit_y.push(y.as_slice());
        }
    }
    let unit = to.metric == Metric::Cosine;
    let fitted = LinearMap::fit(&fit_x, &fit_y, unit);
    let agreement = fitted
        .as_ref()
        .and_then(|m| harmonic::agreement(m, &test_x, &test_y, to.thresholds.verify));
    let good = agreement.is_some_and(|a| a >= settings::MAP_MIN_AGREEMENT)
        && fit_x.len() >= settings::MAP_MIN_FACES;
    let (Some(map), true) = (fitted, good) else {
        tracing::warn!(
            "harmonic map {from} → {}: {} faces to fit, agreement {agreement:?}: not used; {} faces keep their person and are left out of clustering",
            to.id(),
            fit_x.len(),
            orphans.len()
        );
        store.write(|w| w.delete_mapped(to.id()))?;
        return Ok((0, no_vector, agreement));
    };
    // Refit on every pair for the vectors actually stored.
    let all_x: Vec<&[f32]> = pairs.iter().map(|p| p.2.as_slice()).collect();
    let all_y: Vec<&[f32]> = pairs.iter().map(|p| p.3.as_slice()).collect();
    let map = LinearMap::fit(&all_x, &all_y, unit).unwrap_or(map);
    let n = orphans.len() as u64;
    store.write(|w| {
        w.delete_mapped(to.id())?;
        w.save_model_map(&ModelMap {
            from_model: from.to_string(),
            to_model: to.id().to_string(),
            rows: map.d_in + 1,
            cols: map.d_out,
            matrix: map.matrix.clone(),
            fitted_on: pairs.len() as u64,
            accuracy: agreement.unwrap_or(0.0),
        })?;
        orphans.iter().try_for_each(|(face, x)| {
            w.put_embedding(*face, to.id(), &map.apply(x), Origin::Mapped)
        })
    })?;
    Ok((n, no_vector.saturating_sub(n), agreement))
}
