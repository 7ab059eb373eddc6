//! The thin adapter between the app and the people API (issue 3): the worker calls these, and
//! they call the library. No SQL and no clustering logic here.

use std::collections::{HashMap, HashSet};

use super::state::{FaceCard, PersonCard};
use crate::people::{self, ClusterSettings, Mode};
use crate::progress::{CancelToken, Progress};
use crate::store::Store;

/// Suggestions asked for per named person.
const SUGGESTIONS_PER_PERSON: usize = 50;
/// Suggestions the review view holds at once (closest first; answering reloads): every named
/// person is asked, so a big library could offer tens of thousands.
const SUGGESTIONS_SHOWN: usize = 1000;
/// Uncertain pairs loaded at once.
const PAIRS: usize = 200;

fn s(e: crate::Error) -> String {
    e.to_string()
}

/// "Is this NAME?" for a face that belongs to nobody yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub face: FaceCard,
    pub person: i64,
    pub name: String,
    pub distance: f32,
}

/// Two faces the library is least sure about.
#[derive(Debug, Clone, PartialEq)]
pub struct UncertainPair {
    pub a: FaceCard,
    pub b: FaceCard,
    pub distance: f32,
    /// Why this pair is asked about, e.g. "near the threshold".
    pub why: String,
}

/// A photo in the photos view, with one of its faces to stand for it.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoCard {
    pub photo_id: i64,
    pub path: String,
    pub faces: Vec<i64>,
}

/// The people grid's data.
#[derive(Debug, Clone, Default)]
pub struct PeopleList {
    pub people: Vec<PersonCard>,
    pub unassigned: u64,
    pub can_undo: bool,
}

/// Everyone with faces or a name, named first by name, then unnamed by size.
pub fn people(store: &Store) -> Result<PeopleList, String> {
    let list = people::list(store).map_err(s)?;
    let assigned: u64 = list.iter().map(|p| p.faces).sum();
    let mut people: Vec<PersonCard> = list
        .into_iter()
        .map(|p| PersonCard {
            id: p.id,
            name: p.name,
            faces: p.faces,
            face: p.representative,
            hidden: p.hidden,
        })
        .collect();
    sort_people(&mut people);
    let stats = store.stats().map_err(s)?;
    // Ignored faces belong to no one but are not waiting for a person either.
    let faces = stats.faces.saturating_sub(stats.ignored);
    let can_undo = store
        .decisions(64)
        .map_err(s)?
        .iter()
        .any(|d| d.undone_at.is_none());
    Ok(PeopleList {
        people,
        unassigned: faces.saturating_sub(assigned),
        can_undo,
    })
}

/// Named people first (by name, case-insensitive), then unnamed ones by size, largest first.
pub fn sort_people(people: &mut [PersonCard]) {
    people.sort_by(|a, b| match (&a.name, &b.name) {
        (Some(x), Some(y)) => x
            .to_lowercase()
            .cmp(&y.to_lowercase())
            .then(a.id.cmp(&b.id)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => b.faces.cmp(&a.faces).then(a.id.cmp(&b.id)),
    });
}

/// The people closest to `person`, closest first, with the average distance between their
/// faces: the person view's merge candidates.
pub fn closest_people(store: &Store, person: i64) -> Result<Vec<(i64, f32)>, String> {
    Ok(
        people::closest_people(store, model_id(store)?, person, MERGE_CANDIDATES)
            .map_err(s)?
            .into_iter()
            .map(|p| (p.b, p.distance))
            .collect(),
    )
}

/// How many people the person view lists by closeness before the rest by name.
const MERGE_CANDIDATES: usize = 30;

/// The faces of one person.
pub fn person_faces(store: &Store, person: i64) -> Result<Vec<FaceCard>, String> {
    Ok(people::faces(store, person)
        .map_err(s)?
        .into_iter()
        .map(|f| FaceCard {
            id: f.face_id,
            photo_id: f.photo_id,
            bbox: f.bbox,
        })
        .collect())
}

/// Record a decision (the people API's one vocabulary); returns the sentence to show.
pub fn apply(store: &mut Store, act: &people::Act) -> Result<Option<String>, String> {
    let done = people::apply(store, act).map_err(s)?;
    // Answers in the review and verify views step on silently; the rest say what happened.
    let quiet = matches!(
        act,
        people::Act::RejectFrom { .. } | people::Act::Pair { .. }
    ) || matches!(act, people::Act::Move { faces, .. } if faces.len() == 1);
    Ok((!quiet).then(|| {
        let mut m = done.message;
        if let Some(first) = m.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        if done.decision.is_some() && *act != people::Act::Undo {
            m += " — Ctrl+Z undoes it";
        }
        m
    }))
}

fn face_card(
    store: &Store,
    face: i64,
    cache: &mut HashMap<i64, Vec<FaceCard>>,
) -> Option<FaceCard> {
    let st = store.face_state(face).ok()??;
    let faces = cache.entry(st.photo_id).or_insert_with(|| {
        store
            .faces_of_photo(st.photo_id)
            .map(|v| {
                v.into_iter()
                    .map(|f| FaceCard {
                        id: f.id,
                        photo_id: f.photo_id,
                        bbox: f.bbox,
                    })
                    .collect()
            })
            .unwrap_or_default()
    });
    faces.iter().find(|f| f.id == face).cloned()
}

/// Suggestions for the review view: unassigned faces close to a named person, closest first.
pub fn suggestions(store: &Store) -> Result<Vec<Suggestion>, String> {
    let model = model_id(store)?;
    let named: Vec<_> = people::list(store)
        .map_err(s)?
        .into_iter()
        .filter(|p| p.name.is_some() && !p.hidden && p.faces > 0)
        .collect();
    // Every named person, from one read of the vectors (`people::faces_for_people`).
    let ids: Vec<i64> = named.iter().map(|p| p.id).collect();
    let mut found =
        people::faces_for_people(store, model, &ids, SUGGESTIONS_PER_PERSON).map_err(s)?;
    let mut all = Vec::new();
    for p in &named {
        for f in found.remove(&p.id).unwrap_or_default() {
            all.push((
                f.distance,
                f.face_id,
                p.id,
                p.name.clone().unwrap_or_default(),
            ));
        }
    }
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::new();
    let mut cache = HashMap::new();
    let mut seen = HashSet::new();
    for (distance, face, person, name) in all {
        if out.len() >= SUGGESTIONS_SHOWN {
            break;
        }
        // A face suggested for two people is asked about its closest one only.
        if !seen.insert(face) {
            continue;
        }
        if let Some(face) = face_card(store, face, &mut cache) {
            out.push(Suggestion {
                face,
                person,
                name,
                distance,
            });
        }
    }
    Ok(out)
}

/// The most uncertain pairs of the library, most uncertain first.
pub fn uncertain_pairs(store: &Store) -> Result<Vec<UncertainPair>, String> {
    let pairs = people::uncertain_pairs(store, model_id(store)?, PAIRS).map_err(s)?;
    let mut cache = HashMap::new();
    let mut out = Vec::new();
    for p in pairs {
        let (Some(a), Some(b)) = (
            face_card(store, p.a, &mut cache),
            face_card(store, p.b, &mut cache),
        ) else {
            continue;
        };
        out.push(UncertainPair {
            a,
            b,
            distance: p.distance,
            why: format!("{:.2} from the same-person threshold", p.margin),
        });
    }
    Ok(out)
}

/// Photos in which all of `chosen` appear, by path.
pub fn photos_with(store: &Store, chosen: &[i64]) -> Result<Vec<PhotoCard>, String> {
    type Entry = (String, Vec<i64>, HashSet<i64>);
    let mut by_photo: HashMap<i64, Entry> = HashMap::new();
    for &p in chosen {
        for f in people::faces(store, p).map_err(s)? {
            let e = by_photo
                .entry(f.photo_id)
                .or_insert_with(|| (f.path.clone(), Vec::new(), HashSet::new()));
            e.1.push(f.face_id);
            e.2.insert(p);
        }
    }
    let mut out: Vec<PhotoCard> = by_photo
        .into_iter()
        .filter(|(_, (_, _, who))| who.len() == chosen.len())
        .map(|(photo_id, (path, faces, _))| PhotoCard {
            photo_id,
            path,
            faces,
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// The library's active embedder id.
fn model_id(store: &Store) -> Result<&'static str, String> {
    Ok(crate::pipeline::library_embedder(store).map_err(s)?.id())
}

/// Clustering settings of the library's model with the app's two knobs: `adjust` is added to
/// the model's linkage cut (and match distance), so the knob means the same for every model.
pub fn cluster_settings(
    store: &Store,
    adjust: f32,
    min_face_px: f32,
) -> Result<ClusterSettings, String> {
    let base = ClusterSettings::for_model(crate::pipeline::library_embedder(store).map_err(s)?);
    Ok(ClusterSettings {
        linkage_threshold: base.linkage_threshold + adjust,
        match_distance: base.match_distance + adjust,
        weak_min_px: min_face_px,
        ..base
    })
}

/// How many people clustering with these settings would produce, in words.
pub fn preview(store: &Store, threshold: f32, min_face_px: f32) -> Result<String, String> {
    let cs = cluster_settings(store, threshold, min_face_px)?;
    let o = people::preview(
        store,
        model_id(store)?,
        &cs,
        &CancelToken::new(),
        &Progress::default(),
    )
    .map_err(s)?;
    let now = people::list(store).map_err(s)?.len();
    Ok(format!(
        "{} people and {} ungrouped faces with these settings (now {now} people)",
        o.people, o.unassigned
    ))
}

/// Group faces into people: incremental after a scan, or everything again (`full`) with new
/// settings. User decisions always hold.
pub fn recluster(
    store: &mut Store,
    (threshold, min_face_px): (f32, f32),
    full: bool,
    cancel: &CancelToken,
    progress: &Progress,
) -> Result<String, String> {
    let cs = cluster_settings(store, threshold, min_face_px)?;
    let model = model_id(store)?;
    let mode = if full { Mode::Full } else { Mode::Incremental };
    let o = people::recluster(store, model, &cs, mode, cancel, progress).map_err(s)?;
    Ok(format!(
        "Grouped {} faces into {} people ({} not grouped) in {:.1} s",
        o.faces, o.people, o.unassigned, o.seconds
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(id: i64, name: Option<&str>, faces: u64) -> PersonCard {
        PersonCard {
            id,
            name: name.map(str::to_string),
            faces,
            face: None,
            hidden: false,
        }
    }

    #[test]
    fn named_first_by_name_then_unnamed_by_size() {
        let mut v = vec![
            card(1, None, 3),
            card(2, Some("ben"), 1),
            card(3, None, 9),
            card(4, Some("Anna"), 2),
        ];
        sort_people(&mut v);
        let ids: Vec<i64> = v.iter().map(|p| p.id).collect();
        assert_eq!(ids, [4, 2, 3, 1]);
        assert_eq!(v[2].display_name(), "Unnamed");
    }
}
