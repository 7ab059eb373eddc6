//! Handlers of the engine commands: scan, faces, verify, eval lfw, stats.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::json;

use likeness::pipeline::{self, photo, ScanOptions};
use likeness::progress::Progress;
use likeness::store::Store;
use likeness::vision::Models;
use likeness::{eval, settings, verify};

use super::{cancel_on_ctrl_c, spawn_bar, Ctx};

/// `likeness faces PHOTO`
pub fn faces(ctx: &Ctx, path: &Path, embed: bool) -> Result<()> {
    let models = Models::load_default()?;
    let mut engine = models.engine()?;
    let f = photo::analyze(&mut engine, path, embed)?;
    let faces: Vec<_> = f
        .faces
        .iter()
        .map(|face| {
            let d = &face.detection;
            let mut v = json!({"box": d.bbox, "landmarks": d.landmarks, "score": d.score});
            if embed {
                v["embedding"] = json!(face.embedding);
            }
            v
        })
        .collect();
    ctx.emit(
        json!({"faces": faces, "width": f.width, "height": f.height}),
        || {
            let mut s = format!(
                "{}: {}x{}, {} face(s)",
                path.display(),
                f.width,
                f.height,
                f.faces.len()
            );
            for face in &f.faces {
                let b = face.detection.bbox;
                s += &format!(
                    "\n  box ({:.0}, {:.0}) - ({:.0}, {:.0})  score {:.3}",
                    b[0], b[1], b[2], b[3], face.detection.score
                );
            }
            s
        },
    );
    Ok(())
}

/// `likeness verify A B [--model ID]`
pub fn verify(ctx: &Ctx, photo_a: &Path, photo_b: &Path, model: Option<&str>) -> Result<()> {
    let spec = ctx.embedder(model)?;
    let models = Models::load_for(spec)?;
    let mut engine = models.engine()?;
    let mut emb = |p: &Path| -> Result<Vec<f32>> {
        let f = photo::analyze(&mut engine, p, true)?;
        Ok(f.largest()
            .with_context(|| format!("no face found in {}", p.display()))?
            .embedding
            .clone())
    };
    let (a, b) = (emb(photo_a)?, emb(photo_b)?);
    let v = verify::verify(&spec.thresholds, &a, &b);
    let mut value = serde_json::to_value(&v)?;
    value["model"] = json!(spec.id());
    ctx.emit(value, || {
        format!(
            "distance {:.3} (threshold {:.2}): {}",
            v.distance, v.threshold, v.meaning
        )
    });
    Ok(())
}

/// `likeness eval lfw DIR [--model ID] [--mirror] [--map-from ID]`
pub fn eval_lfw(
    ctx: &Ctx,
    dir: &Path,
    threads: Option<usize>,
    model: Option<&str>,
    mirror: bool,
    map_from: Option<&str>,
) -> Result<()> {
    let mut spec = ctx.embedder(model)?;
    if mirror && !spec.mirror {
        // A measurement of the catalogue's choice: the same entry with mirror averaging on.
        spec = Box::leak(Box::new(likeness::vision::EmbedderSpec {
            mirror: true,
            ..*spec
        }));
    }
    let models = Models::load_for_evaluation(spec, dir)?;
    let from = match map_from {
        Some(id) => Some(Models::load_for_evaluation(
            likeness::vision::models::embedder(id)?,
            dir,
        )?),
        None => None,
    };
    let cancel = cancel_on_ctrl_c()?;
    let progress = Progress::new();
    let bar = spawn_bar(progress.clone(), "images");
    let report = eval::lfw::evaluate(
        dir,
        &models,
        from.as_ref(),
        threads.unwrap_or_else(settings::default_inference_threads),
        &cancel,
        &progress,
    );
    bar.finish();
    let report = report?;
    ctx.emit(serde_json::to_value(&report)?, || {
        format!(
            "LFW 10-fold, {}: accuracy {:.2}% ± {:.2} (threshold {:.3}, {} pairs, {} images without a face; cosine {:.2}%)",
            report.model,
            report.accuracy_mean * 100.0,
            report.accuracy_std * 100.0,
            report.threshold_mean,
            report.pairs,
            report.no_face,
            report.cosine_accuracy_mean * 100.0
        )
    });
    Ok(())
}

/// `likeness formats`
pub fn formats(ctx: &Ctx) -> Result<()> {
    let list = likeness::library::formats::status();
    let iso = likeness::library::isolate::status();
    ctx.emit(json!({ "formats": list, "decoding": iso }), || {
        list.iter()
            .map(|f| {
                format!(
                    "{:<11} {:<40} {}",
                    f.name,
                    f.extensions.join(" "),
                    match (&f.decoder, &f.reason) {
                        (Some(d), _) => format!("yes ({d})"),
                        (None, Some(why)) => format!("no: {why}"),
                        (None, None) => "no".to_string(),
                    }
                )
            })
            .chain([iso.describe()])
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

/// `likeness stats`
pub fn stats(ctx: &Ctx) -> Result<()> {
    let path = ctx.db_path();
    if !path.exists() {
        bail!(
            "no library database at {} (scan a folder first)",
            path.display()
        );
    }
    let store = Store::open(&path)?;
    let st = store.stats()?;
    let spec = likeness::pipeline::library_embedder(&store)?;
    let models: Vec<_> = st
        .models
        .iter()
        .map(|(id, n)| json!({"id": id, "embeddings": n}))
        .collect();
    ctx.emit(
        json!({"photos": st.photos, "faces": st.faces, "photos_failed": st.photos_failed,
               "photos_missing": st.photos_missing, "ignored": st.ignored, "models": models, "db": path,
               "active_embedder": spec.id(), "bytes_per_face": spec.bytes_per_face()}),
        || {
            format!(
                "{}: {} photos, {} faces ({} ignored), {} failed, {} missing; model {} ({} bytes per face)",
                path.display(),
                st.photos,
                st.faces,
                st.ignored,
                st.photos_failed,
                st.photos_missing,
                spec.id(),
                spec.bytes_per_face()
            )
        },
    );
    Ok(())
}

/// `likeness scan DIR...`
pub fn scan(
    ctx: &Ctx,
    dirs: &[PathBuf],
    list_failed: bool,
    threads: Option<usize>,
    model: Option<&str>,
    read_xmp: bool,
    redetect: bool,
) -> Result<()> {
    let path = ctx.db_path();
    let mut store = Store::open(&path)?;
    // A model other than an existing library's is refused by the scan, with the way out.
    let spec = match model {
        Some(id) => likeness::vision::models::embedder(id)?,
        None => likeness::pipeline::library_embedder(&store)?,
    };
    let models = Models::load_for(spec)?;
    let mut opts = ScanOptions::new(dirs.to_vec());
    opts.read_xmp = read_xmp;
    opts.redetect = redetect;
    if let Some(t) = threads {
        // A user who limits the scan's threads limits its decoding too.
        opts.inference_threads = t.max(1);
        opts.decode_threads = t.max(1);
    }
    let cancel = cancel_on_ctrl_c()?;
    let progress = Progress::new();
    let bar = spawn_bar(progress.clone(), "photos");
    let outcome = pipeline::index(&mut store, &models, &opts, &cancel, &progress);
    bar.finish();
    let outcome = outcome?;
    let mut value = serde_json::to_value(&outcome)?;
    let roots: Vec<PathBuf> = dirs
        .iter()
        .map(|d| std::fs::canonicalize(d).unwrap_or_else(|_| d.clone()))
        .collect();
    let all_failed = if list_failed {
        let r: Vec<&Path> = roots.iter().map(PathBuf::as_path).collect();
        store.failed_photos(&r)?
    } else {
        Vec::new()
    };
    if list_failed {
        value["failed"] = json!(all_failed
            .iter()
            .map(|(p, why)| json!({"path": p, "reason": why}))
            .collect::<Vec<_>>());
    }
    value["db"] = json!(path);
    let older = store.photos_detected_otherwise(likeness::vision::detect::DETECTION.version)?;
    value["photos_older_detection"] = json!(older);
    ctx.emit(value, || {
        let o = &outcome;
        let mut s = format!(
            "{} photos seen: {} indexed, {} unchanged, {} moved, {} failed, {} missing; {} faces found in {:.1} s ({:.1} photos/s){}",
            o.photos_seen,
            o.photos_indexed,
            o.photos_unchanged,
            o.photos_moved,
            o.photos_failed,
            o.photos_missing,
            o.faces_found,
            o.seconds,
            o.photos_indexed as f64 / o.seconds.max(1e-9),
            if o.cancelled { " — cancelled; run again to resume" } else { "" }
        );
        if o.photos_redetected > 0 || o.faces_removed > 0 {
            s += &format!(
                "\n{} photos searched again with the new detector; {} duplicate or vanished faces removed",
                o.photos_redetected, o.faces_removed
            );
        }
        if older > 0 && !o.cancelled {
            s += &format!(
                "\n{older} photos of this library were searched by an older face detector, which misses close-ups and selfies: `likeness scan --redetect FOLDER` finds them (every decision stays)"
            );
        }
        if o.regions_imported > 0 || o.region_faces_added > 0 {
            s += &format!(
                "\n{} names taken from other programs' face regions (XMP); {} faces made from regions",
                o.regions_imported, o.region_faces_added
            );
        }
        for c in &o.region_conflicts {
            let name = if c.name.is_empty() {
                String::new()
            } else {
                format!("\"{}\" ", c.name)
            };
            s += &format!("\n  region {name}not applied in {}: {}", c.photo, c.reason);
        }
        if list_failed {
            // Grouped by kind of reason, as the app lists them.
            let kinds = likeness::pipeline::by_reason(all_failed.iter().map(|f| f.1.as_str()));
            for (kind, n) in &kinds {
                s += &format!("\n  {kind} ({n}):");
                for (p, why) in all_failed
                    .iter()
                    .filter(|f| likeness::pipeline::reason_kind(&f.1) == kind)
                {
                    s += &format!("\n    {p}: {why}");
                }
            }
        } else {
            for (kind, n) in &o.failures_by_reason {
                s += &format!("\n  {n} × {kind}");
            }
            if o.photos_failed > 0 {
                s += "\n  (--failed lists every file)";
            }
        }
        s
    });
    Ok(())
}

/// `likeness bench recall DIR [--sides A,B,..]`
pub fn bench_recall(ctx: &Ctx, dir: &Path, sides: &[u32]) -> Result<()> {
    let models = Models::load_default()?;
    let mut engine = models.engine()?;
    let rows = eval::composites::recall(&mut engine, dir, sides)?;
    ctx.emit(json!({ "rows": rows }), || {
        let mut s = String::from(
            "detector side  recall by face size (found/pasted)                          ≥40 px  other  detect thread-s",
        );
        for r in &rows {
            let buckets: Vec<String> = r
                .recall
                .iter()
                .map(|b| {
                    let to = b.to_px.map_or(String::from("+"), |t| format!("-{t:.0}"));
                    format!("{:.0}{to} {}/{}", b.from_px, b.found, b.pasted)
                })
                .collect();
            s += &format!(
                "\n{:>13}  {:<60}  {:.3}  {:>5}  {:.1}",
                r.detect_max_side,
                buckets.join(", "),
                r.recall_40,
                r.other_detections,
                r.detect_s
            );
        }
        s
    });
    Ok(())
}

/// `likeness bench size-photos LABELS OUT [--width W --height H --per-band N --seed S]`
pub fn bench_size_photos(
    ctx: &Ctx,
    labels: &Path,
    out: &Path,
    width: u32,
    height: u32,
    per_band: usize,
    seed: u64,
) -> Result<()> {
    let models = Models::load_default()?;
    let mut engine = models.engine()?;
    let made = eval::sizes::make(&mut engine, labels, out, width, height, per_band, seed)?;
    ctx.emit(serde_json::to_value(&made)?, || {
        format!(
            "{} photos of {}×{}, {} faces; where they are: {}",
            made.photos,
            made.width,
            made.height,
            made.faces,
            made.truth.display()
        )
    });
    Ok(())
}

/// `likeness bench sizes DIR [--threads N]`
pub fn bench_sizes(ctx: &Ctx, dir: &Path, threads: Option<usize>, detection: u32) -> Result<()> {
    let models = Models::load_default()?;
    let threads = threads.unwrap_or_else(settings::default_inference_threads);
    let plan = likeness::vision::detect::plan(detection)?;
    let r = eval::sizes::report(&models, dir, threads, plan)?;
    ctx.emit(serde_json::to_value(&r)?, || {
        let mut s = format!(
            "detection {}: {}×{}, {} photos, {} faces: found exactly once {} ({:.2}%), missed {}, found more than once {} ({:.2}%), other detections {}, detector {:.1} thread-s",
            r.detection,
            r.width,
            r.height,
            r.photos,
            r.faces,
            r.found_once,
            100.0 * r.found_once as f64 / r.faces.max(1) as f64,
            r.missed,
            r.duplicated,
            100.0 * r.duplicate_rate,
            r.other_detections,
            r.detect_s
        );
        s += "\n  band                 faces   once   missed  twice+  touching once/faces";
        for b in &r.bands {
            s += &format!(
                "\n  {:<20} {:>5}  {:>5.1}%  {:>6}  {:>6}  {}/{}",
                b.band,
                b.faces,
                100.0 * b.found_once_rate,
                b.missed,
                b.duplicated,
                b.touching_found_once,
                b.touching
            );
        }
        s
    });
    Ok(())
}

/// `likeness bench chips LIST OUT [--model ID]`
pub fn bench_chips(
    ctx: &Ctx,
    list: &Path,
    out: &Path,
    threads: Option<usize>,
    model: Option<&str>,
) -> Result<()> {
    let spec = ctx.embedder(model)?;
    let models = Models::load_for_evaluation(spec, list.parent().unwrap_or(Path::new(".")))?;
    let cancel = cancel_on_ctrl_c()?;
    let progress = Progress::new();
    let bar = spawn_bar(progress.clone(), "photos");
    let r = eval::chips::write(
        &models,
        list,
        out,
        threads.unwrap_or_else(settings::default_inference_threads),
        &cancel,
        &progress,
    );
    bar.finish();
    let r = r?;
    ctx.emit(serde_json::to_value(&r)?, || {
        format!(
            "{} chips of {} px for {} written to {} ({} photos without a face: zero chips)",
            r.photos,
            r.chip_size,
            r.model,
            r.out.display(),
            r.no_face.len()
        )
    });
    Ok(())
}
