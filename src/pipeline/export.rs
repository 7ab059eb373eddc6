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
    /// Face regions of other programs kept in the sidecars (no face of Likeness there).
    pub regions_kept: u64,
    /// Names taken out of sidecars because Likeness no longer gives that face that name.
    pub regions_removed: u64,
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
    // Photos with a sidecar Likeness has read but no named face now: names it wrote there
    // before (a face since unnamed, moved or forgotten) are taken back.
    if opts.person.is_none() {
        for id in store.photos_with_sidecars()? {
            by_photo.entry(id).or_default();
        }
    }
    Progress::add(&progress.total, by_photo.len() as u64);
    let mut out = ExportOutcome::default();
    // The sidecars written whose earlier state Likeness had read: the next scan knows they hold
    // nothing new (others are read again, so what another program added is not missed).
    let mut written: Vec<(i64, String)> = Vec::new();
    let mut learned: Vec<(i64, u8)> = Vec::new();
    for (photo_id, faces) in by_photo {
        if cancel.is_cancelled() {
            out.cancelled = true;
            break;
        }
        let Some(geo) = store.photo_geometry(photo_id)? else {
            continue;
        };
        let all: Vec<[f32; 4]> = store
            .faces_of_photo(photo_id)?
            .into_iter()
            .map(|f| f.bbox)
            .collect();
        match write_one(&geo, &faces, &all, opts.sidecar) {
            Ok(w) => {
                if !faces.is_empty() {
                    out.photos_written += 1;
                    out.faces_written += faces.len() as u64;
                }
                out.regions_kept += w.kept;
                out.regions_removed += w.removed;
                if let Some(sig) = w.read_sig {
                    written.push((photo_id, sig));
                }
                if let Some(o) = w.learned {
                    learned.push((photo_id, o));
                }
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
        for (id, sig) in &written {
            w.set_xmp_sig(*id, sig)?;
        }
        for (id, o) in &learned {
            w.set_orientation(*id, *o)?;
        }
        Ok(())
    })?;
    progress.set_stage(Stage::Done);
    Ok(out)
}

/// What writing one sidecar did.
struct Written {
    /// Regions of other programs kept / names Likeness no longer gives taken out.
    kept: u64,
    removed: u64,
    /// The sidecars' signature after writing, when Likeness had read their state before.
    read_sig: Option<String>,
    /// The orientation of a photo indexed before Likeness recorded it.
    learned: Option<u8>,
}

/// Write one photo's sidecar: `faces` are its named faces, `all` every face box it has.
fn write_one(
    geo: &PhotoGeometry,
    faces: &[NamedFace],
    all: &[[f32; 4]],
    convention: Option<SidecarName>,
) -> std::result::Result<Written, String> {
    let photo = Path::new(&geo.path);
    let (orientation, learned) = match geo.orientation {
        Some(o) => (o, None),
        None => {
            let o = orientation_of(photo)?;
            (o, Some(o))
        }
    };
    let before = sidecar::signature(photo);
    // What readers see now: the first sidecar with regions, else the photo's own.
    let seen = sidecar::read_file(photo)?;
    let seen_in = seen
        .as_ref()
        .filter(|f| f.from != "embedded")
        .map(|f| std::path::PathBuf::from(&f.from));
    // By default the names go where they already are, else into the sidecar the photo has,
    // else photo.ext.xmp; a name the user chose must not leave regions in another sidecar
    // that readers would take first.
    let target = match (convention, &seen_in) {
        (Some(c), Some(there)) if c.path_for(photo) != *there => {
            return Err(format!(
                "{} already holds this photo's face regions; export with that sidecar name \
                 (or the default) so readers do not see two versions",
                there.display()
            ))
        }
        (Some(c), _) => c.path_for(photo),
        (None, Some(there)) => there.clone(),
        (None, None) => sidecar::candidates(photo)
            .into_iter()
            .find(|p| p.exists())
            .unwrap_or_else(|| SidecarName::PhotoExt.path_for(photo)),
    };
    let existing = match std::fs::read(&target) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read {}: {e}", target.display())),
    };
    if let Some(old) = existing.as_deref() {
        xmp::parse(old).map_err(|e| {
            format!(
                "{} is not readable XMP ({e}); it was left as it is",
                target.display()
            )
        })?;
    }
    let (w, h) = (geo.width as f64, geo.height as f64);
    let stored_rect = |b: &[f32; 4]| {
        let shown = NormRect {
            x: b[0] as f64 / w,
            y: b[1] as f64 / h,
            w: (b[2] - b[0]) as f64 / w,
            h: (b[3] - b[1]) as f64 / h,
        };
        xmp::display_to_stored(shown, orientation)
    };
    let mut regions: Vec<Region> = faces
        .iter()
        .map(|f| Region {
            name: Some(f.name.clone()),
            rect: stored_rect(&f.bbox),
        })
        .collect();
    // Regions already there: Likeness's word wins over the ones on its faces once it has read
    // them (named or not: a face it knows has the name Likeness gives it, or none); before, only
    // over those on its named faces. The rest are other programs' and stay.
    let read = geo.xmp_sig.as_deref() == Some(before.as_str());
    let covers_by: Vec<NormRect> = if read {
        all.iter().map(stored_rect).collect()
    } else {
        regions.iter().map(|r| r.rect).collect()
    };
    let (mut kept, mut removed) = (0, 0);
    for r in seen.map(|f| f.regions.faces).unwrap_or_default() {
        // Read by the specification (stored pixels) or as some writers mean it (as shown).
        let as_shown = xmp::display_to_stored(r.rect, orientation);
        let covered = covers_by.iter().any(|o| {
            xmp::iou(*o, r.rect) >= settings::BOX_MATCH_IOU as f64
                || xmp::iou(*o, as_shown) >= settings::BOX_MATCH_IOU as f64
        }) || (r.name.is_some() && regions.iter().any(|o| o.name == r.name));
        if covered {
            removed += u64::from(r.name.is_some() && !regions.iter().any(|o| o.name == r.name));
        } else {
            regions.push(r);
            kept += 1;
        }
    }
    if faces.is_empty() && removed == 0 {
        return Ok(Written {
            kept: 0,
            removed: 0,
            read_sig: None,
            learned,
        });
    }
    let stored = if orientation >= 5 {
        (geo.height, geo.width)
    } else {
        (geo.width, geo.height)
    };
    let out = xmp::write_sidecar(existing.as_deref(), &regions, stored)?;
    if existing.as_deref() != Some(&out[..]) {
        sidecar::write_atomic(&target, &out)
            .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    }
    Ok(Written {
        kept,
        removed,
        read_sig: read.then(|| sidecar::signature(photo)),
        learned,
    })
}

/// The orientation the scan applied to a photo (decoded again: it depends on the container).
fn orientation_of(photo: &Path) -> std::result::Result<u8, String> {
    let bytes = std::fs::read(photo)
        .map_err(|e| format!("cannot read the photo {}: {e}", photo.display()))?;
    crate::library::decode::decode_guarded(photo, &bytes, 64).map(|d| d.orientation)
}
