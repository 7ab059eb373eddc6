//! Handlers of the commands for faces that travel: add-face, export xmp, regions (conflicts).
//! All logic is in `likeness::pipeline::{drawn, export}` and `likeness::people::regions`.

use std::path::Path;

use anyhow::{bail, Result};
use serde_json::json;

use likeness::library::sidecar::SidecarName;
use likeness::people::Who;
use likeness::pipeline::export::{self, ExportOptions};
use likeness::progress::Progress;
use likeness::vision::Models;

use super::people::open;
use super::{cancel_on_ctrl_c, spawn_bar, Ctx};

/// `likeness add-face PHOTO X1 Y1 X2 Y2 [--person ID]`
pub fn add_face(ctx: &Ctx, photo: &Path, bbox: [f32; 4], person: Option<i64>) -> Result<()> {
    let mut store = open(ctx)?;
    let spec = likeness::pipeline::library_embedder(&store)?;
    let models = Models::load_for(spec)?;
    let who = match person {
        Some(id) => Who::Person(id),
        None => Who::New(None),
    };
    let added = likeness::pipeline::drawn::add_face(&mut store, &models, photo, bbox, &who)?;
    ctx.emit(serde_json::to_value(&added)?, || {
        format!(
            "face {} added to person {} ({}); `likeness undo` takes it back",
            added.face_id,
            added.person_id,
            if added.landmarks_found {
                "the detector found its eyes, nose and mouth inside the box"
            } else {
                "aligned from the box alone: the detector found no face inside it"
            }
        )
    });
    Ok(())
}

/// `likeness export xmp [--person ID] [--sidecar photo.xmp|photo.ext.xmp]`
pub fn export_xmp(ctx: &Ctx, person: Option<i64>, sidecar: Option<&str>) -> Result<()> {
    let sidecar = match sidecar {
        None => None,
        Some(s) => match SidecarName::parse(s) {
            Some(n) => Some(n),
            None => bail!("--sidecar is photo.ext.xmp (photo.jpg.xmp: digiKam, darktable, Immich) or photo.xmp (Lightroom), not {s:?}"),
        },
    };
    let mut store = open(ctx)?;
    if let Some(id) = person {
        if store.person(id)?.is_none() {
            bail!("no person {id}");
        }
    }
    let cancel = cancel_on_ctrl_c()?;
    let progress = Progress::new();
    let bar = spawn_bar(progress.clone(), "photos");
    let out = export::export_xmp(
        &mut store,
        &ExportOptions { person, sidecar },
        &cancel,
        &progress,
    );
    bar.finish();
    let out = out?;
    ctx.emit(serde_json::to_value(&out)?, || {
        let mut s = format!(
            "{} faces written into the XMP sidecars of {} photos (photos untouched){}",
            out.faces_written,
            out.photos_written,
            if out.cancelled { " — cancelled" } else { "" }
        );
        if out.regions_kept > 0 {
            s += &format!("; {} face regions of other programs kept", out.regions_kept);
        }
        for f in &out.failed {
            s += &format!("\n  not written: {}: {}", f.photo, f.reason);
        }
        s
    });
    Ok(())
}

/// `likeness regions`: names from other programs' face regions that were not applied.
pub fn conflicts(ctx: &Ctx) -> Result<()> {
    let store = open(ctx)?;
    let list = store.region_conflicts()?;
    ctx.emit(json!({ "region_conflicts": list }), || {
        if list.is_empty() {
            return "no region conflicts: every named face region was applied".into();
        }
        list.iter()
            .map(|c| {
                let what = if c.name.is_empty() {
                    String::new()
                } else {
                    format!("\"{}\" ", c.name)
                };
                format!("{}: {what}not applied: {}", c.photo, c.reason)
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}
