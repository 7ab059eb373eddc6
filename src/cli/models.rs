//! Handlers of the model commands: models (list), models install, models prune, upgrade.

use std::path::Path;

use anyhow::{bail, Result};
use serde_json::json;

use likeness::pipeline;
use likeness::progress::Progress;
use likeness::settings;
use likeness::store::Store;
use likeness::vision::models::{self, Delivery};
use likeness::vision::{install, Models};

use super::{cancel_on_ctrl_c, spawn_bar, Ctx};

/// `likeness models`
pub fn list(ctx: &Ctx) -> Result<()> {
    let path = ctx.db_path();
    let (active, counts) = if path.exists() {
        let store = Store::open(&path)?;
        (
            pipeline::library_embedder(&store)?.id(),
            store.model_counts()?,
        )
    } else {
        (models::DEFAULT_EMBEDDER.id(), Vec::new())
    };
    let rows: Vec<_> = models::EMBEDDERS
        .iter()
        .map(|e| {
            let stored = counts.iter().find(|c| c.model_id == e.id());
            json!({
                "id": e.id(), "name": e.name, "kind": "embedder",
                "installed": models::is_installed(e), "active": e.id() == active,
                "dims": e.dims, "metric": e.metric, "bytes_per_face": e.bytes_per_face(),
                "licence": e.licence, "source": e.source, "delivery": e.delivery,
                "default": e.id() == models::DEFAULT_EMBEDDER.id(),
                "vectors": stored.map_or(0, |c| c.vectors),
                "mapped_vectors": stored.map_or(0, |c| c.mapped),
                "thresholds": e.thresholds,
            })
        })
        .collect();
    ctx.emit(json!({"models": rows, "active_embedder": active}), || {
        let mut s = String::new();
        for e in models::EMBEDDERS {
            let stored = counts
                .iter()
                .find(|c| c.model_id == e.id())
                .map_or(0, |c| c.vectors);
            s += &format!(
                "{} {:<16} {:<42} {:>3}-d {:<9} {:>3} B/face  {}{}\n",
                if e.id() == active { "*" } else { " " },
                e.id(),
                e.name,
                e.dims,
                format!("{:?}", e.metric).to_lowercase(),
                e.bytes_per_face(),
                if models::is_installed(e) {
                    "installed"
                } else {
                    "not installed"
                },
                if stored > 0 {
                    format!(", {stored} vectors in this library")
                } else {
                    String::new()
                }
            );
        }
        s + "(* active in this library)"
    });
    Ok(())
}

/// `likeness models install ID [--from PATH]`
pub fn install(ctx: &Ctx, id: &str, from: Option<&Path>) -> Result<()> {
    let spec = models::embedder(id)?;
    if spec.delivery == Delivery::Shipped {
        ctx.emit(
            json!({"id": id, "installed": true, "sha256": spec.model.sha256, "how": "shipped"}),
            || format!("{} ships with Likeness: nothing to install", spec.name),
        );
        return Ok(());
    }
    let r = install::install(spec, from, &models::user_models_dir())?;
    ctx.emit(serde_json::to_value(&r)?, || {
        format!(
            "{} installed at {} (SHA-256 {}); upgrade a library with `likeness upgrade --model {}`",
            spec.name,
            r.path.display(),
            r.sha256,
            spec.id()
        )
    });
    Ok(())
}

/// `likeness models prune ID`
pub fn prune(ctx: &Ctx, id: &str) -> Result<()> {
    let spec = models::embedder(id)?;
    let path = ctx.db_path();
    if !path.exists() {
        bail!("no library database at {}", path.display());
    }
    let mut store = Store::open(&path)?;
    if pipeline::library_embedder(&store)?.id() == spec.id() {
        bail!(
            "{} is this library's active model; upgrade to another model before pruning it",
            spec.id()
        );
    }
    let n = store.write(|w| w.prune_model(spec.id()))?;
    ctx.emit(json!({"id": spec.id(), "vectors_removed": n}), || {
        format!(
            "removed {n} vectors of {}; switching back to it now needs a full re-embedding",
            spec.id()
        )
    });
    Ok(())
}

/// `likeness upgrade --model ID`
pub fn upgrade(ctx: &Ctx, id: &str, threads: Option<usize>) -> Result<()> {
    let spec = models::embedder(id)?;
    let path = ctx.db_path();
    if !path.exists() {
        bail!(
            "no library database at {} (scan a folder first)",
            path.display()
        );
    }
    let mut store = Store::open(&path)?;
    let models = Models::load_for(spec)?;
    let cancel = cancel_on_ctrl_c()?;
    let progress = Progress::new();
    let bar = spawn_bar(progress.clone(), "photos");
    let o = pipeline::upgrade(
        &mut store,
        &models,
        threads.unwrap_or_else(settings::default_inference_threads),
        &cancel,
        &progress,
    );
    bar.finish();
    let o = o?;
    ctx.emit(serde_json::to_value(&o)?, || {
        if o.cancelled {
            format!(
                "stopped after re-embedding {} faces; {} is still active; run the same command again to resume",
                o.reembedded, o.from
            )
        } else {
            format!(
                "{} → {}: {} faces, {} re-embedded, {} mapped, {} left out ({} photos unreachable); {} people; {:.1} s",
                o.from, o.model, o.faces, o.reembedded, o.mapped, o.left_out, o.photos_unreachable, o.people, o.seconds
            )
        }
    });
    Ok(())
}
