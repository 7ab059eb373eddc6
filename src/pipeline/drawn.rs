//! A face drawn by hand where the detector found none (`likeness add-face`, the photo view):
//! the photo is decoded again, the detector looks inside the box for the face's landmarks (else
//! the box alone places them), and the face is stored with its thumbnail and embedding of the
//! library's model, marked drawn, pinned to its person — one decision, undone like any other.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::library::decode;
use crate::people::{self, Who};
use crate::settings;
use crate::store::{FaceSource, Store};
use crate::vision::{detect, Models};

/// What adding a face did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Added {
    pub face_id: i64,
    pub person_id: i64,
    pub decision_id: i64,
    /// Whether the detector found the face's landmarks inside the box (else they were placed
    /// from the box alone).
    pub landmarks_found: bool,
}

/// Add a face on `photo` (a photo of the library) at `bbox` = `[x1, y1, x2, y2]` in the photo's
/// oriented pixels (as shown), for `who`.
pub fn add_face(
    store: &mut Store,
    models: &Models,
    photo: &Path,
    bbox: [f32; 4],
    who: &Who,
) -> Result<Added> {
    let canonical = std::fs::canonicalize(photo).map_err(|e| Error::io(photo, e))?;
    let path = canonical.to_string_lossy().into_owned();
    let Some((photo_id, width, height)) = store.photo_dims(&path)? else {
        return Err(Error::Invalid(format!(
            "{} is not an indexed photo of this library (scan its folder first)",
            photo.display()
        )));
    };
    let model_id = models.embedder_spec().id();
    if let Some(active) = store.active_embedder()? {
        if active != model_id {
            return Err(Error::Invalid(format!(
                "this library uses the {active} embedder, not {model_id}"
            )));
        }
    }
    let [x1, y1, x2, y2] = bbox;
    let (w, h) = (width as f32, height as f32);
    let bbox = [x1.max(0.0), y1.max(0.0), x2.min(w), y2.min(h)];
    if !(bbox[2] - bbox[0] >= settings::MIN_FACE_PX && bbox[3] - bbox[1] >= settings::MIN_FACE_PX) {
        return Err(Error::Invalid(format!(
            "the box {x1} {y1} {x2} {y2} is not a face inside this {width}x{height} photo \
             (x1 < x2, y1 < y2, at least {} pixels each way)",
            settings::MIN_FACE_PX
        )));
    }
    let existing = store.faces_of_photo(photo_id)?;
    let already = |b: &[f32; 4]| {
        existing
            .iter()
            .find(|f| detect::iou(&f.bbox, b) >= settings::DRAWN_SAME_FACE_IOU)
            .map(|f| {
                Error::Invalid(format!(
                    "face {} is already there; name or move it instead",
                    f.id
                ))
            })
    };
    if let Some(e) = already(&bbox) {
        return Err(e);
    }
    let bytes = std::fs::read(&canonical).map_err(|e| Error::io(photo, e))?;
    let d =
        decode::decode_guarded(&canonical, &bytes, settings::WORK_MAX_SIDE).map_err(|message| {
            Error::Photo {
                path: photo.to_path_buf(),
                message,
            }
        })?;
    let mut engine = models.engine()?;
    let work_box = bbox.map(|v| v * d.scale);
    let found = engine.detector.find_in_box(&d.image, &work_box)?;
    // A looser box around a face Likeness has is still that face.
    if let Some(e) = found.and_then(|f| already(&f.scaled(1.0 / d.scale).bbox)) {
        return Err(e);
    }
    let det = found.unwrap_or_else(|| detect::Detection::from_box(work_box));
    let timers = super::index::Timers::default();
    let mut face = super::index::embed_faces(&mut engine, &d, &[det], FaceSource::Drawn, &timers)?
        .pop()
        .ok_or_else(|| Error::Invalid("the face could not be embedded".into()))?;
    // The face is where the user drew it; the detector only gave the landmarks.
    face.bbox = bbox;
    let (decision_id, face_id, person_id) =
        people::add_face(store, photo_id, &face, model_id, who)?;
    Ok(Added {
        face_id,
        person_id,
        decision_id,
        landmarks_found: found.is_some(),
    })
}
