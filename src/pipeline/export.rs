//! Export: the named faces of each photo as MWG face regions (plus a Microsoft Photo copy) in
//! an XMP sidecar beside the photo, never in the photo. An existing sidecar is merged: its other
//! properties stay byte for byte (`library::xmp::write_sidecar`), and its face regions that no
//! named face of Likeness covers are kept (names another program gave that Likeness could not
//! place survive); a new sidecar carries over the photo's embedded regions the same way, since
//! readers prefer the sidecar. Each sidecar is written whole or not at all (`sidecar::write_atomic`); a
//! photo whose sidecar cannot be written is listed with the reason and the rest go on.
//!
//! Regions are written relative to the stored pixels, with `AppliedToDimensions` the stored
//! size, as the MWG specification says and digiKam, Lightroom and Immich read them: the face
//! boxes (relative to the photo as shown) go through the inverse of the EXIF orientation.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::error::Result;
use crate::library::sidecar::{self, SidecarName};
use crate::library::xmp::{self, NormRect, Region};
use crate::progress::{CancelToken, Progress, Stage};
use crate::settings;
use crate::store::{NamedFace, PhotoGeometry, Store};

/// A photo whose sidecar was not written, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportFailure {
    pub photo: String,
    pub reason: String,
}

/// What an export did (field names are a command-line contract).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExportOutcome {
    pub photos_written: u64,
    pub faces_written: u64,
    pub failed: Vec<ExportFailure>,
    /// Face regions of other programs kept in the sidecars (no named face of Likeness there).
    pub regions_kept: u64,
    pub cancelled: bool,
}

/// Which sidecars to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportOptions {
    /// Only photos where this person appears (all their named faces are written).
    pub person: Option<i64>,
    /// The naming convention; `None`: the sidecar the photo already has, else `photo.ext.xmp`.
    pub sidecar: Option<SidecarName>,
}

/// Write the sidecars. Photos are only read (for the orientation of photos indexed before
/// Likeness recorded it).
pub fn export_xmp(
    store: &mut Store,
    opts: &ExportOptions,
    cancel: &CancelToken,
    progress: &Progress,
) -> Result<ExportOutcome> {
    progress.set_stage(Stage::Exporting);
    let mut by_photo: BTreeMap<i64, Vec<NamedFace>> = BTreeMap::new();
    for f in store.named_faces(opts.person)? {
        by_photo.entry(f.photo_id).or_default().push(f);
    }
    Progress::add(&progress.total, by_photo.len() as u64);
    let mut out = ExportOutcome::default();
    // The sidecars written, so the next scan knows they hold nothing new.
    let mut written: Vec<(i64, String, Option<u8>)> = Vec::new();
    for (photo_id, faces) in by_photo {
        if cancel.is_cancelled() {
            out.cancelled = true;
            break;
        }
        let Some(geo) = store.photo_geometry(photo_id)? else {
            continue;
        };
        match write_one(&geo, &faces, opts.sidecar) {
            Ok((kept, learned)) => {
                out.photos_written += 1;
                out.faces_written += faces.len() as u64;
                out.regions_kept += kept;
                written.push((photo_id, sidecar::signature(Path::new(&geo.path)), learned));
            }
            Err(reason) => {
                Progress::add(&progress.failed, 1);
                out.failed.push(ExportFailure {
                    photo: geo.path.clone(),
                    reason,
                })
            }
        }
        Progress::add(&progress.done, 1);
        Progress::add(&progress.faces, faces.len() as u64);
    }
    store.write(|w| {
        for (id, sig, orientation) in &written {
            w.set_xmp_sig(*id, sig)?;
            if let Some(o) = orientation {
                w.set_orientation(*id, *o)?;
            }
        }
        Ok(())
    })?;
    progress.set_stage(Stage::Done);
    Ok(out)
}

/// Write one photo's sidecar; returns how many foreign regions were kept and, for a photo whose
/// orientation was not recorded, the orientation read from it.
fn write_one(
    geo: &PhotoGeometry,
    faces: &[NamedFace],
    convention: Option<SidecarName>,
) -> std::result::Result<(u64, Option<u8>), String> {
    let photo = Path::new(&geo.path);
    let (orientation, learned) = match geo.orientation {
        Some(o) => (o, None),
        None => {
            let o = orientation_of(photo)?;
            (o, Some(o))
        }
    };
    let target = match convention {
        Some(c) => c.path_for(photo),
        None => sidecar::candidates(photo)
            .into_iter()
            .find(|p| p.exists())
            .unwrap_or_else(|| SidecarName::PhotoExt.path_for(photo)),
    };
    let existing = match std::fs::read(&target) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read {}: {e}", target.display())),
    };
    let (w, h) = (geo.width as f64, geo.height as f64);
    let mut regions: Vec<Region> = faces
        .iter()
        .map(|f| {
            let shown = NormRect {
                x: f.bbox[0] as f64 / w,
                y: f.bbox[1] as f64 / h,
                w: (f.bbox[2] - f.bbox[0]) as f64 / w,
                h: (f.bbox[3] - f.bbox[1]) as f64 / h,
            };
            Region {
                name: Some(f.name.clone()),
                rect: xmp::display_to_stored(shown, orientation),
            }
        })
        .collect();
    let mut kept = 0;
    // The regions readers will stop seeing once this sidecar exists (a sidecar wins over the
    // photo's own XMP): the old sidecar's, else those embedded in the photo.
    let foreign = match existing.as_deref() {
        Some(old) => xmp::parse(old).map_err(|e| {
            format!(
                "{} is not readable XMP ({e}); it was left as it is",
                target.display()
            )
        })?,
        None => std::fs::read(photo)
            .ok()
            .and_then(|b| sidecar::embedded(&b))
            .and_then(|x| xmp::parse(&x).ok().flatten()),
    };
    let ours = regions.len();
    for r in foreign.map(|p| p.faces).unwrap_or_default() {
        // Ours when it names someone this photo's faces already name, or covers one of them,
        // read by the specification (stored pixels) or as some writers mean it (as shown).
        let as_shown = xmp::display_to_stored(r.rect, orientation);
        let covered = regions[..ours].iter().any(|o| {
            (r.name.is_some() && o.name == r.name)
                || xmp::iou(o.rect, r.rect) >= settings::BOX_MATCH_IOU as f64
                || xmp::iou(o.rect, as_shown) >= settings::BOX_MATCH_IOU as f64
        });
        if !covered {
            regions.push(r);
            kept += 1;
        }
    }
    let stored = if orientation >= 5 {
        (geo.height, geo.width)
    } else {
        (geo.width, geo.height)
    };
    let bytes = xmp::write_sidecar(existing.as_deref(), &regions, stored)?;
    if existing.as_deref() != Some(&bytes[..]) {
        sidecar::write_atomic(&target, &bytes)
            .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    }
    Ok((kept, learned))
}

/// The orientation the scan applied to a photo (decoded again: it depends on the container).
fn orientation_of(photo: &Path) -> std::result::Result<u8, String> {
    let bytes = std::fs::read(photo)
        .map_err(|e| format!("cannot read the photo {}: {e}", photo.display()))?;
    crate::library::decode::decode_guarded(photo, &bytes, 64).map(|d| d.orientation)
}
