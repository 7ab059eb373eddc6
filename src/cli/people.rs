//! Handlers of the people commands: cluster, people, person, the decisions, suggest,
//! eval clusters and bench cluster. All logic is in `likeness::people` / `likeness::cluster`.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::json;

use likeness::cluster::{bench, ClusterSettings};
use likeness::people::{self, Mode};
use likeness::progress::{CancelToken, Progress};
use likeness::settings;
use likeness::store::Store;
use likeness::vision::Models;

use super::{cancel_on_ctrl_c, spawn_bar, Ctx};

pub(crate) fn open(ctx: &Ctx) -> Result<Store> {
    let path = ctx.db_path();
    if !path.exists() {
        bail!(
            "no library database at {} (scan a folder first)",
            path.display()
        );
    }
    Ok(Store::open(&path)?)
}

/// `likeness cluster [--full]`
pub fn cluster(ctx: &Ctx, full: bool) -> Result<()> {
    let mut store = open(ctx)?;
    let cancel = cancel_on_ctrl_c()?;
    let progress = Progress::new();
    let mode = if full { Mode::Full } else { Mode::Incremental };
    let spec = likeness::pipeline::library_embedder(&store)?;
    let o = people::recluster(
        &mut store,
        spec.id(),
        &ClusterSettings::for_model(spec),
        mode,
        &cancel,
        &progress,
    )?;
    ctx.emit(serde_json::to_value(&o)?, || {
        format!(
            "{} faces: {} people, {} unassigned ({} groups clustered, {} matched to people, {} new people, {} faces changed) in {:.2} s",
            o.faces, o.people, o.unassigned, o.clusters, o.matched, o.new_people, o.changed, o.seconds
        )
    });
    Ok(())
}

/// `likeness people`
pub fn list(ctx: &Ctx) -> Result<()> {
    let store = open(ctx)?;
    let people = people::list(&store)?;
    let rows: Vec<_> = people
        .iter()
        .map(|p| {
            json!({"id": p.id, "name": p.name, "faces": p.faces, "hidden": p.hidden,
                   "representative": p.representative})
        })
        .collect();
    ctx.emit(json!({ "people": rows }), || {
        let mut s = format!("{} people", people.len());
        for p in &people {
            s += &format!(
                "\n  {:>6}  {:<30} {:>5} faces{}",
                p.id,
                p.name.as_deref().unwrap_or("(unnamed)"),
                p.faces,
                if p.hidden { "  hidden" } else { "" }
            );
        }
        s
    });
    Ok(())
}

/// `likeness person ID`
pub fn person(ctx: &Ctx, id: i64) -> Result<()> {
    let store = open(ctx)?;
    let p = store
        .person(id)?
        .with_context(|| format!("no person {id}"))?;
    let faces = people::faces(&store, id)?;
    let rows: Vec<_> = faces
        .iter()
        .map(|f| {
            json!({"face_id": f.face_id, "photo": f.path, "box": f.bbox,
                   "source": f.assigned_by.map(|a| a.as_str()), "score": f.score})
        })
        .collect();
    ctx.emit(
        json!({"id": p.id, "name": p.name, "hidden": p.hidden, "merged_into": p.merged_into,
               "faces": rows}),
        || {
            let mut s = format!(
                "person {} {}: {} faces{}",
                p.id,
                p.name.as_deref().unwrap_or("(unnamed)"),
                faces.len(),
                p.merged_into
                    .map(|m| format!(" (merged into {m})"))
                    .unwrap_or_default()
            );
            for f in &faces {
                s += &format!(
                    "\n  face {:>7}  {}  [{:.0} {:.0} {:.0} {:.0}]  {}",
                    f.face_id,
                    f.path,
                    f.bbox[0],
                    f.bbox[1],
                    f.bbox[2],
                    f.bbox[3],
                    f.assigned_by.map_or("", |a| a.as_str())
                );
            }
            s
        },
    );
    Ok(())
}

/// `likeness name|merge|move|reject|same|different|hide|ignore|undo ...`: the command line's
/// words for a `people::Act`.
pub fn decide(ctx: &Ctx, act: people::Act) -> Result<()> {
    let mut store = open(ctx)?;
    let done = people::apply(&mut store, &act)?;
    match done.decision {
        Some(id) => ctx.emit(json!({"decision": id, "ok": true}), || done.message),
        None => ctx.emit(json!({"decision": null, "undone": false}), || done.message),
    }
    Ok(())
}

/// `likeness unassigned [--limit N] [--ignored]`: faces in nobody, not ignored, newest photos first
/// (or the ignored ones).
pub fn unassigned(ctx: &Ctx, limit: usize, ignored: bool) -> Result<()> {
    let store = open(ctx)?;
    let (faces, total) = if ignored {
        store.ignored_faces(limit)?
    } else {
        store.unassigned_faces(limit)?
    };
    ctx.emit(json!({"faces": faces, "total": total}), || {
        let what = if ignored { "ignored" } else { "in nobody" };
        let mut t = format!("{total} faces {what} (showing {})", faces.len());
        for f in &faces {
            t += &format!(
                "\n  face {:>7}  {}  [{:.0} {:.0} {:.0} {:.0}]",
                f.face_id, f.photo, f.bbox[0], f.bbox[1], f.bbox[2], f.bbox[3]
            );
        }
        t
    });
    Ok(())
}

/// `likeness suggest [PERSON]`
pub fn suggest(ctx: &Ctx, person: Option<i64>, limit: usize) -> Result<()> {
    let store = open(ctx)?;
    let model = likeness::pipeline::library_embedder(&store)?.id();
    if let Some(p) = person {
        let s = people::faces_for_person(&store, model, p, limit)?;
        ctx.emit(json!({"person": p, "faces": s}), || {
            let mut t = format!("{} suggested faces for person {p}", s.len());
            for f in &s {
                t += &format!("\n  face {:>7}  distance {:.3}", f.face_id, f.distance);
            }
            t
        });
    } else {
        let pp = people::similar_people(&store, model, limit)?;
        let fp = people::uncertain_pairs(&store, model, limit)?;
        ctx.emit(json!({"people_pairs": pp, "face_pairs": fp}), || {
            let mut t = format!("{} pairs of people that might be one:", pp.len());
            for p in &pp {
                t += &format!("\n  {} + {}  distance {:.3}", p.a, p.b, p.distance);
            }
            t += &format!("\n{} face pairs to verify:", fp.len());
            for p in &fp {
                t += &format!("\n  faces {} / {}  distance {:.3}", p.a, p.b, p.distance);
            }
            t
        });
    }
    Ok(())
}

/// `likeness eval clusters LABELS.tsv [--model ID] [--eps E,..] [--cut C,..]`
pub fn eval_clusters(
    ctx: &Ctx,
    tsv: &Path,
    threads: Option<usize>,
    model: Option<&str>,
    (eps, cut, min_points, pair_cut): (&[f32], &[f32], &[usize], &[f32]),
) -> Result<()> {
    let spec = ctx.embedder(model)?;
    let models = Models::load_for_evaluation(spec, tsv)?;
    let base = ClusterSettings::for_model(spec);
    let eps: Vec<f32> = if eps.is_empty() {
        vec![base.eps]
    } else {
        eps.to_vec()
    };
    let cut: Vec<f32> = if cut.is_empty() {
        vec![base.linkage_threshold]
    } else {
        cut.to_vec()
    };
    let mps: Vec<usize> = if min_points.is_empty() {
        vec![base.min_points]
    } else {
        min_points.to_vec()
    };
    let pairs: Vec<f32> = if pair_cut.is_empty() {
        vec![base.pair_cut]
    } else {
        pair_cut.to_vec()
    };
    let mut grid: Vec<ClusterSettings> = Vec::new();
    for &m in &mps {
        for &e in &eps {
            for &c in &cut {
                for &pc in &pairs {
                    grid.push(ClusterSettings {
                        eps: e,
                        min_points: m,
                        linkage_threshold: c,
                        match_distance: c,
                        pair_cut: pc,
                        ..base
                    });
                }
            }
        }
    }
    let cancel = cancel_on_ctrl_c()?;
    let progress = Progress::new();
    let bar = spawn_bar(progress.clone(), "images");
    let r = likeness::eval::clusters::evaluate(
        tsv,
        &models,
        threads.unwrap_or_else(settings::default_inference_threads),
        &grid,
        &cancel,
        &progress,
    );
    bar.finish();
    let r = r?;
    ctx.emit(serde_json::to_value(&r)?, || {
        let line = |r: &likeness::eval::clusters::ClusterReport| format!(
            "{} (eps {:.3}, cut {:.3}, min points {}, pair cut {:.3}): {} images, {} identities: pairwise precision {:.4} recall {:.4} F1 {:.4}; BCubed precision {:.4} recall {:.4} F1 {:.4}; {} people, {} faces unassigned, {} images without a face",
            r.model, r.settings.eps, r.settings.linkage_threshold, r.settings.min_points, r.settings.pair_cut, r.images, r.identities, r.pairwise_precision, r.pairwise_recall, r.pairwise_f1,
            r.bcubed_precision, r.bcubed_recall, r.bcubed_f1, r.people, r.unassigned, r.no_face
        );
        if r.grid.is_empty() {
            line(&r)
        } else {
            r.grid.iter().map(line).collect::<Vec<_>>().join("\n")
        }
    });
    Ok(())
}

/// `likeness bench cluster EMBEDDINGS.npy`
pub fn bench_cluster(
    ctx: &Ctx,
    file: &Path,
    eps: Option<f32>,
    min_points: Option<usize>,
) -> Result<()> {
    let points = bench::read_npy(file)?;
    let mut s = bench::settings_for(&points);
    if let Some(e) = eps {
        s.eps = e;
    }
    if let Some(m) = min_points {
        s.min_points = m;
    }
    let r = bench::bench(&points, &s, &CancelToken::new())?;
    ctx.emit(serde_json::to_value(&r)?, || {
        format!(
            "{} x {}: {:.2} s, {} clusters, {} noise, peak {:.0} MB (eps {}, min points {})",
            r.n, r.dim, r.seconds, r.clusters, r.noise, r.peak_rss_mb, r.eps, r.min_points
        )
    });
    Ok(())
}

/// `likeness bench assign EMBEDDINGS.npy LABELS.npy [--new N]`
pub fn bench_assign(ctx: &Ctx, file: &Path, labels: &Path, new: usize) -> Result<()> {
    let points = bench::read_npy(file)?;
    let labels = bench::read_npy_labels(labels)?;
    let s = bench::settings_for(&points);
    let r = bench::bench_assign(&points, &labels, new, &s, &CancelToken::new())?;
    ctx.emit(serde_json::to_value(&r)?, || {
        format!(
            "{} new faces into {} faces / {} people: {:.3} s (means {:.3}, match {:.3}, cluster {:.3}); {} matched ({} to their own person), {} new groups from {} faces clustered, {} unassigned; peak {:.0} MB",
            r.new, r.faces, r.people, r.seconds, r.seconds_means, r.seconds_match, r.seconds_cluster,
            r.matched, r.matched_correct, r.new_groups, r.reclustered, r.unassigned, r.peak_rss_mb
        )
    });
    Ok(())
}

/// `likeness bench photos LABELS OUT [--count N --megapixels M --seed S]`
pub fn bench_photos(
    ctx: &Ctx,
    labels: &Path,
    out: &Path,
    count: usize,
    megapixels: f64,
    min_face_px: f64,
    seed: u64,
) -> Result<()> {
    let r = likeness::eval::composites::make(labels, out, count, megapixels, min_face_px, seed)?;
    ctx.emit(serde_json::to_value(&r)?, || {
        format!(
            "{} photos of {}x{} with {} LFW faces pasted in {}",
            r.photos.len(),
            r.width,
            r.height,
            r.faces_pasted,
            out.display()
        )
    });
    Ok(())
}

/// `likeness forget --person ID | --all [--yes]`
pub fn forget(ctx: &Ctx, person: Option<i64>, all: bool, yes: bool) -> Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    let mut store = open(ctx)?;
    let what = match (person, all) {
        (Some(id), false) => people::Forget::Person(id),
        (None, true) => people::Forget::All,
        _ => bail!("say what to forget: --person ID or --all"),
    };
    let (_, text) = people::forget::preview(&store, what)?;
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!("not forgetting without a confirmation: there is no terminal to ask on, so run it again with --yes ({text})");
        }
        eprint!("{text}\nType \"yes\" to go on: ");
        std::io::stderr().flush().ok();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            bail!("nothing was forgotten");
        }
    }
    let n = people::forget(&mut store, what)?;
    ctx.emit(json!({ "faces_forgotten": n }), || {
        format!("{n} faces forgotten; the library file keeps no trace of them")
    });
    Ok(())
}
