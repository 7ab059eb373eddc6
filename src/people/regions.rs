//! Names from other programs: a face region with a name (XMP, written by digiKam, Lightroom,
//! Apple Photos, exiftool…) becomes a decision, as if the user had named that face in Likeness
//! — unless the user already decided otherwise here. Then nothing is changed and the region is
//! kept as a conflict to show. Regions without a name are hints (the scan makes faces of them
//! where the detector found none) and decide nothing.

use std::collections::HashMap;

use serde::Serialize;

use super::decisions::{self, Decision, FaceBefore, ACTOR_XMP};
use crate::error::{Error, Result};
use crate::store::{region_key, Assigner, Writer};

/// One named region of a photo: the face it became (matched, or made from it), or `None`
/// when no face could be had there.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedRegion {
    pub face: Option<i64>,
    pub name: String,
}

/// What importing one photo's names did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Imported {
    /// Named regions whose name is now on their face (newly, or because it already was).
    pub applied: u64,
    /// Named regions left alone, each with the reason.
    pub conflicts: Vec<Conflict>,
}

/// A region name that was not applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    pub face_id: Option<i64>,
    pub name: String,
    pub reason: String,
}

/// Apply the names of one photo's regions, read from `from` (a sidecar path or "embedded"),
/// inside the scan's transaction: one `import` decision for the photo (actor "xmp", undone
/// like any other). A name this photo's regions already gave once is not applied again (the
/// user may have undone or changed it since; a sidecar rewritten for another reason must not
/// bring it back). Names are matched to people in any case; a name two people share, or one
/// the user decided against, is a conflict, recorded on the photo.
pub fn import(
    w: &Writer<'_>,
    photo_id: i64,
    from: &str,
    regions: &[NamedRegion],
) -> Result<Imported> {
    let mut out = Imported::default();
    let seen = w.region_names(photo_id)?;
    let fresh: Vec<&NamedRegion> = regions
        .iter()
        .filter(|r| !r.name.trim().is_empty() && !seen.contains(&region_key(&r.name)))
        .collect();
    if fresh.is_empty() {
        return Ok(out);
    }
    let mut people: HashMap<String, Vec<i64>> = HashMap::new();
    for p in w.people()? {
        if let Some(n) = &p.name {
            people.entry(region_key(n)).or_default().push(p.id);
        }
    }
    let mut faces: Vec<FaceBefore> = Vec::new();
    let mut created_people: Vec<i64> = Vec::new();
    for r in fresh {
        let name = r.name.trim();
        let key = region_key(name);
        w.clear_region_conflicts(photo_id, name)?;
        w.add_region_name(photo_id, &key)?;
        let conflict = |reason: String| Conflict {
            face_id: r.face,
            name: name.to_string(),
            reason,
        };
        let Some(face_id) = r.face else {
            out.conflicts.push(conflict(
                "no face could be found or made inside this region".into(),
            ));
            continue;
        };
        let f = w
            .face_state(face_id)?
            .ok_or_else(|| Error::Invalid(format!("no face {face_id}")))?;
        let target = match people.get(&key).map(Vec::as_slice) {
            None | Some([]) => None,
            Some([one]) => Some(*one),
            Some(many) => {
                out.conflicts.push(conflict(format!(
                    "{} people are called {name} in Likeness; say which one this face is",
                    many.len()
                )));
                continue;
            }
        };
        if f.assigned_by == Some(Assigner::User) {
            if f.person_id.is_some() && f.person_id == target {
                out.applied += 1;
            } else {
                let now = match f.person_id {
                    Some(p) => describe(w, p)?,
                    None => "no one (you took it out of its person)".into(),
                };
                out.conflicts.push(conflict(format!(
                    "in Likeness you said face {face_id} is {now}"
                )));
            }
            continue;
        }
        if let Some(t) = target {
            if w.is_rejected(face_id, t)? {
                out.conflicts.push(conflict(format!(
                    "in Likeness you said face {face_id} is not {name}"
                )));
                continue;
            }
        }
        let step = w.attempt(|w| {
            let (p, created) = match target {
                Some(p) => (p, false),
                None => (w.create_person(Some(name), Assigner::User)?, true),
            };
            Ok((p, created, decisions::pin_into(w, p, &[f])?))
        });
        match step {
            Ok((p, created, changes)) => {
                if created {
                    created_people.push(p);
                    people.insert(key, vec![p]);
                }
                faces.extend(changes);
                out.applied += 1;
            }
            Err(Error::Invalid(why)) => out.conflicts.push(conflict(why)),
            Err(e) => return Err(e),
        }
    }
    for c in &out.conflicts {
        w.add_region_conflict(photo_id, c.face_id, &c.name, &c.reason)?;
    }
    if !faces.is_empty() || !created_people.is_empty() {
        decisions::record_as(
            w,
            &Decision::Import {
                photo: photo_id,
                from: from.to_string(),
                faces,
                created_people,
            },
            ACTOR_XMP,
        )?;
    }
    Ok(out)
}

/// "Anna" or "person 12".
fn describe(w: &Writer<'_>, person: i64) -> Result<String> {
    Ok(w.person(person)?
        .and_then(|p| p.name)
        .unwrap_or_else(|| format!("person {person}")))
}
