//! User decisions: each one is a row in `decisions` (kind, JSON payload, who, when) written in
//! the same transaction as its effect. The payload records what the decision replaced, so
//! [`undo`] restores the previous state exactly. Faces a decision touches are *pinned*
//! (`assigned_by = 'user'`): clustering never moves them.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::cluster::constraints::{Clash, Constraints};
use crate::error::{Error, Result};
use crate::store::{Assigner, FaceState, PersonRow, Store, Writer};

/// Who made a decision: the user, in the app or on the command line.
pub const ACTOR: &str = "user";

/// Decisions taken from another program's face regions (XMP) say so.
pub const ACTOR_XMP: &str = "xmp";

/// A face's assignment before a decision changed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaceBefore {
    pub face: i64,
    pub person: Option<i64>,
    pub by: Option<Assigner>,
}

impl From<FaceState> for FaceBefore {
    fn from(f: FaceState) -> Self {
        Self {
            face: f.face_id,
            person: f.person_id,
            by: f.assigned_by,
        }
    }
}

/// What a decision did, and what it replaced (the `payload` column).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decision {
    Name {
        person: i64,
        name: Option<String>,
        before: Option<String>,
        faces: Vec<FaceBefore>,
    },
    Merge {
        into: i64,
        from: i64,
        name_before: Option<String>,
        faces: Vec<FaceBefore>,
        rejections_added: Vec<i64>,
    },
    Move {
        face: i64,
        person: i64,
        faces: Vec<FaceBefore>,
        rejection_removed: bool,
    },
    Split {
        person: i64,
        faces: Vec<FaceBefore>,
    },
    Reject {
        face: i64,
        person: i64,
        before: FaceBefore,
        /// The answer was already on record (given before, or carried over by a merge): undo
        /// leaves it.
        #[serde(default)]
        already: bool,
    },
    Hide {
        person: i64,
        hidden: bool,
        before: bool,
    },
    Pair {
        a: i64,
        b: i64,
        same: bool,
        before: Option<bool>,
        faces: Vec<FaceBefore>,
        created_person: Option<i64>,
    },
    /// A face the user drew where the detector found none; undo removes it.
    AddFace {
        face: i64,
        person: i64,
        created_person: bool,
        faces: Vec<FaceBefore>,
    },
    /// Several faces moved to one person at once (one undo step).
    MoveFaces {
        person: i64,
        faces: Vec<FaceBefore>,
        rejections_removed: Vec<i64>,
    },
    /// "Not this person" for several faces at once: `(face, person)` answers.
    RejectFaces {
        answers: Vec<(i64, i64)>,
        before: Vec<FaceBefore>,
        /// Answers already on record: undo leaves them.
        #[serde(default)]
        already: Vec<(i64, i64)>,
    },
    /// Faces marked "not a face / a stranger, never show again" (or, `ignored: false`, shown
    /// again).
    Ignore {
        faces: Vec<FaceBefore>,
        ignored: bool,
    },
    /// The names of one photo's face regions, written by another program (see
    /// `people::regions`); undo takes them back, keeping the faces.
    Import {
        photo: i64,
        from: String,
        faces: Vec<FaceBefore>,
        created_people: Vec<i64>,
    },
}

impl Decision {
    /// The `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Decision::Name { .. } => "name",
            Decision::Merge { .. } => "merge",
            Decision::Move { .. } => "move",
            Decision::Split { .. } => "split",
            Decision::Reject { .. } => "reject",
            Decision::Hide { .. } => "hide",
            Decision::Pair { same: true, .. } => "same",
            Decision::Pair { same: false, .. } => "different",
            Decision::AddFace { .. } => "add_face",
            Decision::Import { .. } => "import",
            Decision::MoveFaces { .. } => "move",
            Decision::RejectFaces { .. } => "reject",
            Decision::Ignore { ignored: true, .. } => "ignore",
            Decision::Ignore { ignored: false, .. } => "unignore",
        }
    }

    /// What it was, in words (the undo message says what went back).
    pub fn describe(&self) -> String {
        match self {
            Decision::AddFace { face, .. } => format!("the face drawn by hand (face {face})"),
            Decision::Import { from, .. } => {
                format!("the names another program gave in {from}")
            }
            Decision::MoveFaces { faces, person, .. } => {
                format!("{} face(s) moved to person {person}", moved(faces))
            }
            Decision::RejectFaces { answers, .. } => {
                format!("\"not this person\" for {} face(s)", answers.len())
            }
            Decision::Ignore { faces, ignored } => format!(
                "{} face(s) {}",
                faces.len(),
                if *ignored { "ignored" } else { "shown again" }
            ),
            other => other.kind().replace('_', " "),
        }
    }
}

fn record(w: &Writer<'_>, d: &Decision) -> Result<i64> {
    record_as(w, d, ACTOR)
}

/// How many distinct faces a list of before-states covers.
fn moved(faces: &[FaceBefore]) -> usize {
    faces.iter().map(|f| f.face).collect::<HashSet<_>>().len()
}

/// Record `d` as made by `actor` (see [`ACTOR_XMP`]).
pub(crate) fn record_as(w: &Writer<'_>, d: &Decision, actor: &str) -> Result<i64> {
    let payload = serde_json::to_string(d)
        .map_err(|e| Error::Invalid(format!("cannot encode decision: {e}")))?;
    w.insert_decision(d.kind(), &payload, actor)
}

fn person(w: &Writer<'_>, id: i64) -> Result<PersonRow> {
    match w.person(id)? {
        Some(p) if p.merged_into.is_none() => Ok(p),
        Some(p) => Err(Error::Invalid(format!(
            "person {id} was merged into person {}",
            p.merged_into.unwrap_or_default()
        ))),
        None => Err(Error::Invalid(format!("no person {id}"))),
    }
}

fn face(w: &Writer<'_>, id: i64) -> Result<FaceState> {
    w.face_state(id)?
        .ok_or_else(|| Error::Invalid(format!("no face {id}")))
}

/// The one rule (`cluster::constraints`) over just the faces a decision touches, indexed as
/// given: their photos and the "different" answers of faces `ask` (read for those only).
/// Owners and rejections do not apply: the user is placing these faces now.
fn rules_over(w: &Writer<'_>, faces: &[&FaceState], ask: &[i64]) -> Result<Constraints> {
    let row: HashMap<i64, usize> = faces
        .iter()
        .enumerate()
        .map(|(k, f)| (f.face_id, k))
        .collect();
    let different: Vec<(usize, usize)> = w
        .different_pairs_of(ask)?
        .into_iter()
        .filter_map(|(a, b)| Some((*row.get(&a)?, *row.get(&b)?)))
        .collect();
    Ok(Constraints::from_facts(
        faces.iter().map(|f| f.photo_id).collect(),
        vec![None; faces.len()],
        &different,
        &[],
    ))
}

/// Pin `faces` to `to` (user-assigned), returning what they were. Before that, machine faces
/// of `to` that would break a constraint with them (same photo, a "different" answer) leave
/// `to`; a user-pinned conflict refuses the whole decision, since two user facts disagree.
pub(crate) fn pin_into(w: &Writer<'_>, to: i64, faces: &[FaceState]) -> Result<Vec<FaceBefore>> {
    if let Some(f) = faces.iter().find(|f| f.ignored) {
        return Err(Error::Invalid(format!(
            "face {} is ignored (not a face, or a stranger); show it again first",
            f.face_id
        )));
    }
    let moving: HashSet<i64> = faces.iter().map(|f| f.face_id).collect();
    let current: Vec<FaceState> = w
        .person_face_states(to)?
        .into_iter()
        .filter(|f| !moving.contains(&f.face_id))
        .collect();
    // The one rule (`cluster::constraints`) over just the faces involved: the moving faces
    // first, then the faces `to` has now; "different" answers read for the moving faces only.
    let all: Vec<&FaceState> = faces.iter().chain(&current).collect();
    let ids: Vec<i64> = faces.iter().map(|f| f.face_id).collect();
    let rules = rules_over(w, &all, &ids)?;
    let m = faces.len();
    for i in 0..m {
        for j in i + 1..m {
            match rules.clash(i, j) {
                Some(Clash::SamePhoto) => {
                    return Err(Error::Invalid(format!(
                        "faces {} and {} are in one photo, so they are different people",
                        ids[i], ids[j]
                    )))
                }
                Some(_) => {
                    return Err(Error::Invalid(format!(
                        "faces {} and {} were marked different people; they cannot both be \
                         person {to}",
                        ids[i], ids[j]
                    )))
                }
                None => {}
            }
        }
    }
    let mut changes: Vec<FaceBefore> = Vec::new();
    for (k, c) in current.iter().enumerate() {
        if let Some(i) = (0..m).find(|&i| rules.clash(i, m + k).is_some()) {
            if c.assigned_by == Some(Assigner::User) {
                return Err(Error::Invalid(format!(
                    "face {} cannot join person {to}: its face {} is in the same photo or was \
                     marked a different person; move or reject one of them first",
                    ids[i], c.face_id
                )));
            }
            changes.push((*c).into());
            w.assign_faces(&[(c.face_id, None, None)])?;
        }
    }
    for f in faces {
        changes.push((*f).into());
    }
    let rows: Vec<_> = faces
        .iter()
        .map(|f| (f.face_id, Some(to), Some(Assigner::User)))
        .collect();
    w.assign_faces(&rows)?;
    Ok(changes)
}

fn restore_faces(w: &Writer<'_>, faces: &[FaceBefore]) -> Result<()> {
    // Restore in reverse so a face listed twice ends at its oldest state.
    let rows: Vec<_> = faces
        .iter()
        .rev()
        .map(|f| (f.face, f.person, f.by))
        .collect();
    let restored: HashSet<i64> = faces.iter().map(|f| f.face).collect();
    for f in faces {
        if let Some(p) = f.person {
            ensure_exists(w, p)?;
            // Since the decision, clustering may have put another face of this face's photo
            // into that person: it leaves, as it would for any decision (one face per photo).
            if let Some(photo) = w.face_state(f.face)?.map(|s| s.photo_id) {
                let clash: Vec<_> = w
                    .person_face_states(p)?
                    .into_iter()
                    .filter(|c| {
                        c.photo_id == photo
                            && !restored.contains(&c.face_id)
                            && c.assigned_by != Some(Assigner::User)
                    })
                    .map(|c| (c.face_id, None, None))
                    .collect();
                w.assign_faces(&clash)?;
            }
        }
    }
    w.assign_faces(&rows)
}

/// A person a decision refers to may have been deleted since (machine people that emptied are
/// cleaned up): re-create the row under the same id.
fn ensure_exists(w: &Writer<'_>, id: i64) -> Result<()> {
    if w.person(id)?.is_none() {
        w.restore_person(&PersonRow {
            id,
            name: None,
            hidden: false,
            created_by: Assigner::Machine,
            merged_into: None,
            faces: 0,
        })?;
    }
    Ok(())
}

/// Name or rename a person (`None` or an empty name removes the name). Its current faces are
/// pinned: they are what the user saw under that name.
pub fn name(store: &mut Store, person_id: i64, new_name: Option<&str>) -> Result<i64> {
    let new_name = new_name.map(str::trim).filter(|n| !n.is_empty());
    store.write(|w| {
        let p = person(w, person_id)?;
        let faces: Vec<FaceState> = w
            .person_face_states(person_id)?
            .into_iter()
            .filter(|f| f.assigned_by != Some(Assigner::User))
            .collect();
        let changes = pin_into(w, person_id, &faces)?;
        w.set_person_name(person_id, new_name)?;
        record(
            w,
            &Decision::Name {
                person: person_id,
                name: new_name.map(String::from),
                before: p.name,
                faces: changes,
            },
        )
    })
}

/// Merge person `from` into person `into`: all its faces move (pinned), its "not this person"
/// answers carry over, and `into` takes `from`'s name if it had none. Refused when both have
/// user-confirmed faces in one photo.
pub fn merge(store: &mut Store, into: i64, from: i64) -> Result<i64> {
    if into == from {
        return Err(Error::Invalid("cannot merge a person into itself".into()));
    }
    store.write(|w| {
        let (pi, pf) = (person(w, into)?, person(w, from)?);
        let pinned = |f: &FaceState| f.assigned_by == Some(Assigner::User);
        let into_faces = w.person_face_states(into)?;
        let from_faces = w.person_face_states(from)?;
        // The merged person obeys the one rule (`cluster::constraints`: one face per photo, no
        // two faces answered "different"): `into`'s confirmed faces first, then `from`'s
        // confirmed ones, then machine faces; a machine face that clashes leaves, a confirmed
        // one refuses the merge.
        let order: Vec<&FaceState> = into_faces
            .iter()
            .filter(|f| pinned(f))
            .chain(from_faces.iter().filter(|f| pinned(f)))
            .chain(into_faces.iter().filter(|f| !pinned(f)))
            .chain(from_faces.iter().filter(|f| !pinned(f)))
            .collect();
        let ids: Vec<i64> = order.iter().map(|f| f.face_id).collect();
        let rules = rules_over(w, &order, &ids)?;
        let mut group = rules.group(&[]);
        let (mut keep, mut dropped) = (Vec::new(), Vec::new());
        for (k, f) in order.iter().enumerate() {
            if group.may_take(&rules, k) {
                group.take(&rules, k);
                if !(pinned(f) && f.person_id == Some(into)) {
                    keep.push(**f);
                }
            } else if !pinned(f) {
                dropped.push(**f);
            } else {
                return Err(Error::Invalid(format!(
                    "person {into} and person {from} both have a confirmed face in one photo \
                     or faces answered \"different\" (face {}): they are different people",
                    f.face_id
                )));
            }
        }
        let mut changes: Vec<FaceBefore> = dropped.iter().map(|f| (*f).into()).collect();
        let rows: Vec<_> = dropped.iter().map(|f| (f.face_id, None, None)).collect();
        w.assign_faces(&rows)?;
        changes.extend(pin_into(w, into, &keep)?);
        let mut rejections_added = Vec::new();
        let mut decision_rejections: Vec<i64> = Vec::new();
        for f in w.rejected_from(from)? {
            if !w.is_rejected(f, into)? {
                decision_rejections.push(f);
            }
        }
        w.set_person_merged_into(from, Some(into))?;
        let name_before = pi.name.clone();
        if pi.name.is_none() && pf.name.is_some() {
            w.set_person_name(into, pf.name.as_deref())?;
        }
        let mut d = Decision::Merge {
            into,
            from,
            name_before,
            faces: changes,
            rejections_added: Vec::new(),
        };
        let id = record(w, &d)?;
        for f in decision_rejections {
            w.add_rejection(f, into, id)?;
            rejections_added.push(f);
        }
        if let Decision::Merge {
            rejections_added: r,
            ..
        } = &mut d
        {
            *r = rejections_added;
        }
        update_payload(w, id, &d)?;
        Ok(id)
    })
}

fn update_payload(w: &Writer<'_>, id: i64, d: &Decision) -> Result<()> {
    let payload = serde_json::to_string(d)
        .map_err(|e| Error::Invalid(format!("cannot encode decision: {e}")))?;
    w.set_decision_payload(id, &payload)
}

/// Move a face to a person (pinned). Clears an earlier "not this person" for that pair.
pub fn move_face(store: &mut Store, face_id: i64, person_id: i64) -> Result<i64> {
    store.write(|w| {
        person(w, person_id)?;
        let f = face(w, face_id)?;
        let rejection_removed = w.is_rejected(face_id, person_id)?;
        if rejection_removed {
            w.remove_rejection(face_id, person_id)?;
        }
        let faces = pin_into(w, person_id, &[f])?;
        record(
            w,
            &Decision::Move {
                face: face_id,
                person: person_id,
                faces,
                rejection_removed,
            },
        )
    })
}

/// Split faces off into a new (unnamed, user-made) person; returns `(decision, new person)`.
pub fn split(store: &mut Store, face_ids: &[i64]) -> Result<(i64, i64)> {
    split_as(store, face_ids, None)
}

/// [`split`] into a new person called `name` (one decision: undo removes the person, name and
/// all).
pub fn split_as(store: &mut Store, face_ids: &[i64], name: Option<&str>) -> Result<(i64, i64)> {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    if face_ids.is_empty() {
        return Err(Error::Invalid("no faces to split off".into()));
    }
    store.write(|w| {
        let faces = face_ids
            .iter()
            .map(|&id| face(w, id))
            .collect::<Result<Vec<_>>>()?;
        let new = w.create_person(name, Assigner::User)?;
        let changes = pin_into(w, new, &faces)?;
        let id = record(
            w,
            &Decision::Split {
                person: new,
                faces: changes,
            },
        )?;
        Ok((id, new))
    })
}

/// "Not this person": the face leaves its person and never returns to it.
pub fn reject(store: &mut Store, face_id: i64) -> Result<i64> {
    store.write(|w| reject_in(w, face_id, None))
}

/// "This face is not `person`", whether or not it is in `person` now (a "No" in the review of
/// suggestions for an unassigned face): it leaves `person` if it was there, and neither
/// clustering nor suggestions put it there again. Undone like any decision.
pub fn reject_from(store: &mut Store, face_id: i64, person: i64) -> Result<i64> {
    store.write(|w| reject_in(w, face_id, Some(person)))
}

fn reject_in(w: &Writer<'_>, face_id: i64, person: Option<i64>) -> Result<i64> {
    let f = face(w, face_id)?;
    let p = match person {
        Some(p) if w.person(p)?.is_some() => p,
        Some(p) => return Err(Error::Invalid(format!("no person {p}"))),
        None => f
            .person_id
            .ok_or_else(|| Error::Invalid(format!("face {face_id} is not in a person")))?,
    };
    if f.person_id == Some(p) {
        w.assign_faces(&[(face_id, None, None)])?;
    }
    let already = w.is_rejected(face_id, p)?;
    let id = record(
        w,
        &Decision::Reject {
            face: face_id,
            person: p,
            before: f.into(),
            already,
        },
    )?;
    w.add_rejection(face_id, p, id)?;
    Ok(id)
}

/// Hide (or show again) a person.
pub fn hide(store: &mut Store, person_id: i64, hidden: bool) -> Result<i64> {
    store.write(|w| {
        let p = person(w, person_id)?;
        w.set_person_hidden(person_id, hidden)?;
        record(
            w,
            &Decision::Hide {
                person: person_id,
                hidden,
                before: p.hidden,
            },
        )
    })
}

/// "Same person" (`same`) or "different people" for two faces. Same: both end pinned in one
/// person (the one either is in, or a new one); refused when they are pinned to two different
/// people (merge those instead). Different: if they share a person, `b` leaves it.
pub fn pair(store: &mut Store, a: i64, b: i64, same: bool) -> Result<i64> {
    if a == b {
        return Err(Error::Invalid("a face is always the same as itself".into()));
    }
    store.write(|w| {
        let (fa, fb) = (face(w, a)?, face(w, b)?);
        if fa.photo_id == fb.photo_id && same {
            return Err(Error::Invalid(format!(
                "faces {a} and {b} are in one photo, so they are different people"
            )));
        }
        let before = w.face_pair(a, b)?;
        let mut faces = Vec::new();
        let mut created_person = None;
        if same {
            let pinned = |f: &FaceState| f.assigned_by == Some(Assigner::User);
            let target = match (fa.person_id, fb.person_id) {
                (Some(x), Some(y)) if x != y && pinned(&fa) && pinned(&fb) => {
                    return Err(Error::Invalid(format!(
                        "face {a} is confirmed as person {x} and face {b} as person {y}; \
                         merge the two people instead"
                    )))
                }
                (Some(x), Some(_)) if pinned(&fa) => x,
                (Some(_), Some(y)) if pinned(&fb) => y,
                (Some(x), _) => x,
                (None, Some(y)) => y,
                (None, None) => {
                    let p = w.create_person(None, Assigner::User)?;
                    created_person = Some(p);
                    p
                }
            };
            faces = pin_into(w, target, &[fa, fb])?;
        } else if fa.person_id.is_some() && fa.person_id == fb.person_id {
            faces.push(fb.into());
            w.assign_faces(&[(b, None, None)])?;
        }
        let d = Decision::Pair {
            a,
            b,
            same,
            before,
            faces,
            created_person,
        };
        let id = record(w, &d)?;
        w.set_face_pair(a, b, Some(same), id)?;
        Ok(id)
    })
}

/// `ids` without repeats, in their order (a face named twice is one face).
fn distinct(ids: &[i64]) -> Vec<i64> {
    let mut seen = HashSet::new();
    ids.iter().copied().filter(|i| seen.insert(*i)).collect()
}

/// Move several faces to a person as one decision (one undo step). Clears earlier "not this
/// person" answers for those faces and that person.
pub fn move_faces(store: &mut Store, face_ids: &[i64], person_id: i64) -> Result<i64> {
    let face_ids = &distinct(face_ids);
    if face_ids.is_empty() {
        return Err(Error::Invalid("no faces to move".into()));
    }
    store.write(|w| {
        person(w, person_id)?;
        let faces = face_ids
            .iter()
            .map(|&id| face(w, id))
            .collect::<Result<Vec<_>>>()?;
        let mut rejections_removed = Vec::new();
        for f in face_ids {
            if w.is_rejected(*f, person_id)? {
                w.remove_rejection(*f, person_id)?;
                rejections_removed.push(*f);
            }
        }
        let faces = pin_into(w, person_id, &faces)?;
        record(
            w,
            &Decision::MoveFaces {
                person: person_id,
                faces,
                rejections_removed,
            },
        )
    })
}

/// "Not this person" for several faces as one decision: each leaves its person and never
/// returns to it.
pub fn reject_faces(store: &mut Store, face_ids: &[i64]) -> Result<i64> {
    let face_ids = &distinct(face_ids);
    if face_ids.is_empty() {
        return Err(Error::Invalid("no faces to take out".into()));
    }
    store.write(|w| {
        let mut answers = Vec::new();
        let mut before = Vec::new();
        for &id in face_ids {
            let f = face(w, id)?;
            let p = f
                .person_id
                .ok_or_else(|| Error::Invalid(format!("face {id} is not in a person")))?;
            answers.push((id, p));
            before.push(f.into());
            w.assign_faces(&[(id, None, None)])?;
        }
        let mut already = Vec::new();
        for &(f, p) in &answers {
            if w.is_rejected(f, p)? {
                already.push((f, p));
            }
        }
        let id = record(
            w,
            &Decision::RejectFaces {
                answers: answers.clone(),
                before,
                already,
            },
        )?;
        for (f, p) in answers {
            w.add_rejection(f, p, id)?;
        }
        Ok(id)
    })
}

/// Mark faces "not a face / a stranger, never show again" (`ignored`), or show them again: an
/// ignored face leaves its person and is never clustered, suggested or listed as ungrouped,
/// through every re-scan and re-cluster. One decision, undone as one step.
pub fn ignore(store: &mut Store, face_ids: &[i64], ignored: bool) -> Result<i64> {
    let face_ids = &distinct(face_ids);
    if face_ids.is_empty() {
        return Err(Error::Invalid("no faces given".into()));
    }
    store.write(|w| {
        let faces = face_ids
            .iter()
            .map(|&id| face(w, id))
            .collect::<Result<Vec<_>>>()?;
        if let Some(f) = faces.iter().find(|f| f.ignored == ignored) {
            return Err(Error::Invalid(format!(
                "face {} is {} ignored",
                f.face_id,
                if ignored { "already" } else { "not" }
            )));
        }
        let rows: Vec<_> = face_ids.iter().map(|&f| (f, None, None)).collect();
        w.assign_faces(&rows)?;
        w.set_ignored(face_ids, ignored)?;
        record(
            w,
            &Decision::Ignore {
                faces: faces.into_iter().map(Into::into).collect(),
                ignored,
            },
        )
    })
}

/// Whose face a drawn face is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// An existing person.
    Person(i64),
    /// A new person, named or not.
    New(Option<String>),
}

/// Add a face the user drew on photo `photo_id` (its box, landmarks, thumbnail and embedding
/// of the library's model in `face`) and pin it to `who`. Returns `(decision, face, person)`.
/// Undo removes the face again (and the person, when this made one).
pub fn add_face(
    store: &mut Store,
    photo_id: i64,
    face: &crate::store::NewFace,
    model_id: &str,
    who: &Who,
) -> Result<(i64, i64, i64)> {
    store.write(|w| {
        let (person_id, created_person) = match who {
            Who::Person(p) => (person(w, *p)?.id, false),
            Who::New(name) => {
                let name = name.as_deref().map(str::trim).filter(|n| !n.is_empty());
                (w.create_person(name, Assigner::User)?, true)
            }
        };
        if let Some(f) = w
            .person_face_states(person_id)?
            .iter()
            .find(|f| f.photo_id == photo_id && f.assigned_by == Some(Assigner::User))
        {
            return Err(Error::Invalid(format!(
                "person {person_id} is already face {} of this photo, and a person appears once \
                 in a photo",
                f.face_id
            )));
        }
        let face_id = w.insert_face(photo_id, face, model_id)?;
        let state = self::face(w, face_id)?;
        let faces = pin_into(w, person_id, &[state])?;
        let id = record(
            w,
            &Decision::AddFace {
                face: face_id,
                person: person_id,
                created_person,
                faces,
            },
        )?;
        Ok((id, face_id, person_id))
    })
}

/// Undo the newest decision not yet undone; returns it, or `None` when there is nothing to
/// undo. The row stays, marked undone, as history.
pub fn undo(store: &mut Store) -> Result<Option<(i64, Decision)>> {
    store.write(|w| {
        let Some(row) = w.last_open_decision()? else {
            return Ok(None);
        };
        let d: Decision = serde_json::from_str(&row.payload)
            .map_err(|e| Error::Invalid(format!("decision {} cannot be read: {e}", row.id)))?;
        match &d {
            Decision::Name {
                person,
                before,
                faces,
                ..
            } => {
                ensure_exists(w, *person)?;
                w.set_person_name(*person, before.as_deref())?;
                restore_faces(w, faces)?;
            }
            Decision::Merge {
                into,
                from,
                name_before,
                faces,
                rejections_added,
            } => {
                w.set_person_merged_into(*from, None)?;
                w.set_person_name(*into, name_before.as_deref())?;
                restore_faces(w, faces)?;
                for f in rejections_added {
                    w.remove_rejection(*f, *into)?;
                }
            }
            Decision::Move {
                face,
                person,
                faces,
                rejection_removed,
            } => {
                restore_faces(w, faces)?;
                // The face is gone if its photo was re-processed without it.
                if *rejection_removed && w.face_state(*face)?.is_some() {
                    w.add_rejection(*face, *person, row.id)?;
                }
            }
            Decision::Split { person, faces } => {
                restore_faces(w, faces)?;
                w.delete_person(*person)?;
            }
            Decision::Reject {
                face,
                person,
                before,
                already,
            } => {
                if !already {
                    w.remove_rejection(*face, *person)?;
                }
                restore_faces(w, &[*before])?;
            }
            Decision::Hide { person, before, .. } => {
                ensure_exists(w, *person)?;
                w.set_person_hidden(*person, *before)?;
            }
            Decision::Pair {
                a,
                b,
                before,
                faces,
                created_person,
                ..
            } => {
                w.set_face_pair(*a, *b, *before, row.id)?;
                restore_faces(w, faces)?;
                if let Some(p) = created_person {
                    w.delete_person(*p)?;
                }
            }
            Decision::AddFace {
                face,
                person,
                created_person,
                faces,
            } => {
                // Faces of the person that had to leave for the new one come back first.
                let others: Vec<FaceBefore> =
                    faces.iter().filter(|f| f.face != *face).copied().collect();
                restore_faces(w, &others)?;
                w.delete_faces(&[*face])?;
                if *created_person {
                    w.delete_person(*person)?;
                }
            }
            Decision::Import {
                faces,
                created_people,
                ..
            } => {
                restore_faces(w, faces)?;
                for p in created_people {
                    w.delete_person(*p)?;
                }
            }
            Decision::MoveFaces {
                person,
                faces,
                rejections_removed,
            } => {
                restore_faces(w, faces)?;
                for f in rejections_removed {
                    if w.face_state(*f)?.is_some() {
                        w.add_rejection(*f, *person, row.id)?;
                    }
                }
            }
            Decision::RejectFaces {
                answers,
                before,
                already,
            } => {
                for (f, p) in answers.iter().filter(|a| !already.contains(a)) {
                    w.remove_rejection(*f, *p)?;
                }
                restore_faces(w, before)?;
            }
            Decision::Ignore { faces, ignored } => {
                let ids: Vec<i64> = faces.iter().map(|f| f.face).collect();
                w.set_ignored(&ids, !ignored)?;
                restore_faces(w, faces)?;
            }
        }
        w.mark_undone(row.id)?;
        Ok(Some((row.id, d)))
    })
}
