//! Suggestions for the review and side-by-side verification views. Read-only.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::cluster::{self, Points};
use crate::error::Result;
use crate::store::{Matrix, Store};

/// An unassigned face that might be a given person.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FaceSuggestion {
    pub face_id: i64,
    /// Average distance to the person's faces (lower is likelier).
    pub distance: f32,
}

/// Two people that might be one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PeoplePair {
    pub a: i64,
    pub b: i64,
    /// Average distance between their faces.
    pub distance: f32,
}

/// Two faces to show side by side: "same person?".
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FacePair {
    pub a: i64,
    pub b: i64,
    pub distance: f32,
    /// `|distance - VERIFY_THRESHOLD|`: smaller is more uncertain.
    pub margin: f32,
}

/// The library's vectors (kept by the store between calls) and each person's rows.
struct View {
    matrix: std::sync::Arc<Matrix>,
    members: HashMap<i64, Vec<usize>>,
}

impl std::ops::Deref for View {
    type Target = Matrix;
    fn deref(&self) -> &Matrix {
        &self.matrix
    }
}

fn view(store: &Store, model_id: &str) -> Result<View> {
    let matrix = store.cluster_matrix(model_id)?;
    let mut members: HashMap<i64, Vec<usize>> = HashMap::new();
    for (k, f) in matrix.faces.iter().enumerate() {
        if let Some(p) = f.person_id {
            members.entry(p).or_default().push(k);
        }
    }
    Ok(View { matrix, members })
}

/// Unassigned faces ranked by how likely they are `person` (closest on average first), up to
/// `limit`, leaving out faces that may not join them (`cluster::constraints`: the user said
/// not them or "different" from one of their faces, or a photo they are already in).
pub fn faces_for_person(
    store: &Store,
    model_id: &str,
    person: i64,
    limit: usize,
) -> Result<Vec<FaceSuggestion>> {
    Ok(faces_for_people(store, model_id, &[person], limit)?
        .remove(&person)
        .unwrap_or_default())
}

/// [`faces_for_person`] for many people at once, from one read of the vectors: each person is
/// summarised by the mean of their faces, and only people whose mean is within reach of a face
/// get the exact average (`cluster::assign`), so every named person can have suggestions.
pub fn faces_for_people(
    store: &Store,
    model_id: &str,
    people: &[i64],
    limit: usize,
) -> Result<HashMap<i64, Vec<FaceSuggestion>>> {
    let t = crate::vision::models::embedder(model_id)?.thresholds;
    let v = view(store, model_id)?;
    let members: HashMap<i64, Vec<usize>> = people
        .iter()
        .filter_map(|p| Some((*p, v.members.get(p)?.clone())))
        .collect();
    let mut out: HashMap<i64, Vec<FaceSuggestion>> = HashMap::new();
    if members.is_empty() {
        return Ok(out);
    }
    // Never a face the user said is not them, one from a photo they are in, one answered
    // "different" from one of their faces, or one the user placed elsewhere.
    let rules = super::recluster::facts(store, &v.faces)?.rules;
    let groups: HashMap<i64, cluster::constraints::Group> = members
        .iter()
        .map(|(p, m)| (*p, rules.person(*p, m)))
        .collect();
    let free: Vec<usize> = (0..v.faces.len())
        .filter(|&k| v.faces[k].person_id.is_none())
        .collect();
    let near = cluster::assign::People::new(&v.points, &members)?.near(
        &v.points.subset(&free),
        t.suggest_max,
        &crate::progress::CancelToken::new(),
    )?;
    for (q, list) in near.into_iter().enumerate() {
        let f = &v.faces[free[q]];
        for (p, distance) in list {
            if groups[&p].may_take(&rules, free[q]) {
                out.entry(p).or_default().push(FaceSuggestion {
                    face_id: f.face_id,
                    distance,
                });
            }
        }
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| {
            a.distance
                .total_cmp(&b.distance)
                .then(a.face_id.cmp(&b.face_id))
        });
        list.truncate(limit);
    }
    Ok(out)
}

fn centroid(p: &Points, rows: &[usize]) -> Vec<f32> {
    let mut c = vec![0.0f32; p.dim()];
    for &r in rows {
        for (x, y) in c.iter_mut().zip(p.row(r)) {
            *x += y;
        }
    }
    let n = rows.len().max(1) as f32;
    c.iter_mut().for_each(|x| *x /= n);
    c
}

/// Average distance between the faces of two people (at most 64 of `a`'s faces, each against
/// at most 512 of `b`'s).
fn between(v: &View, a: i64, b: i64) -> f32 {
    let (ma, mb) = (&v.members[&a], &v.members[&b]);
    let step = ma.len().div_ceil(64).max(1);
    let d = ma
        .iter()
        .step_by(step)
        .map(|&i| cluster::average_distance(&v.points, i, mb) as f64)
        .sum::<f64>()
        / ma.iter().step_by(step).count().max(1) as f64;
    d as f32
}

/// The people closest to `person` on average (`a` is `person`), closest first, up to `limit`:
/// the person view's merge candidates. People are visited in order of the distance between
/// their means, a lower bound of the average distance (the norm is convex; exact for people
/// small enough that the average reads all their faces: 64 and 512), and the search stops
/// when it passes the `limit`-th best average found: a few dozen averages, not one per person.
pub fn closest_people(
    store: &Store,
    model_id: &str,
    person: i64,
    limit: usize,
) -> Result<Vec<PeoplePair>> {
    let v = view(store, model_id)?;
    if limit == 0 || !v.members.contains_key(&person) {
        return Ok(Vec::new());
    }
    let c = centroid(&v.points, &v.members[&person]);
    let mut order: Vec<(f32, i64)> = v
        .members
        .iter()
        .filter(|(&p, _)| p != person)
        .map(|(&p, m)| (cluster::neighbors::dist(&c, &centroid(&v.points, m)), p))
        .collect();
    order.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
    let mut out: Vec<PeoplePair> = Vec::new();
    for (bound, b) in order {
        if out.len() >= limit && bound > out[limit - 1].distance {
            break;
        }
        out.push(PeoplePair {
            a: person,
            b,
            distance: between(&v, person, b),
        });
        out.sort_by(|x, y| x.distance.total_cmp(&y.distance).then(x.b.cmp(&y.b)));
        out.truncate(limit);
    }
    Ok(out)
}

/// Pairs of people that might be one person (average distance within
/// `SIMILAR_PEOPLE_MAX_DISTANCE`), closest first. Pairs that appear together in a photo, or
/// whose faces the user marked different, are proven distinct and left out.
pub fn similar_people(store: &Store, model_id: &str, limit: usize) -> Result<Vec<PeoplePair>> {
    let t = crate::vision::models::embedder(model_id)?.thresholds;
    let v = view(store, model_id)?;
    let mut ids: Vec<i64> = v.members.keys().copied().collect();
    ids.sort_unstable();
    let cents: Vec<Vec<f32>> = ids
        .iter()
        .map(|p| centroid(&v.points, &v.members[p]))
        .collect();
    let cp = Points::from_rows(&cents)?;
    // |mean(A) - mean(B)| <= mean |a - b| (triangle inequality), so pruning on centroid
    // distance never loses a pair; the exact average then decides.
    let lists = cluster::neighbors::radius_neighbours(
        &cp,
        t.similar_people_max,
        &crate::progress::CancelToken::new(),
    )?;
    let photo_people: HashMap<i64, HashSet<i64>> = {
        let mut m: HashMap<i64, HashSet<i64>> = HashMap::new();
        for f in &v.faces {
            if let Some(p) = f.person_id {
                m.entry(f.photo_id).or_default().insert(p);
            }
        }
        m
    };
    let together = |a: i64, b: i64| {
        v.members[&a]
            .iter()
            .any(|&k| photo_people[&v.faces[k].photo_id].contains(&b))
    };
    let person_of: HashMap<i64, i64> = v
        .faces
        .iter()
        .filter_map(|f| f.person_id.map(|p| (f.face_id, p)))
        .collect();
    let different: HashSet<(i64, i64)> = store
        .face_pairs()?
        .into_iter()
        .filter(|x| !x.2)
        .filter_map(|(a, b, _)| {
            let (pa, pb) = (*person_of.get(&a)?, *person_of.get(&b)?);
            Some((pa.min(pb), pa.max(pb)))
        })
        .collect();
    let mut out = Vec::new();
    for (x, list) in lists.iter().enumerate() {
        for &(y, _) in list.iter().filter(|&&(y, _)| y as usize > x) {
            let (a, b) = (ids[x], ids[y as usize]);
            if different.contains(&(a, b)) || together(a, b) {
                continue;
            }
            let d = between(&v, a, b);
            if d <= t.similar_people_max {
                out.push(PeoplePair { a, b, distance: d });
            }
        }
    }
    out.sort_by(|p, q| p.distance.total_cmp(&q.distance));
    out.truncate(limit);
    Ok(out)
}

/// The face pairs whose answer would teach the most, most uncertain first: for each person,
/// its least typical face against its most typical one; for each pair of similar people, their
/// closest faces. Pairs the user already answered are left out.
pub fn uncertain_pairs(store: &Store, model_id: &str, limit: usize) -> Result<Vec<FacePair>> {
    let t = crate::vision::models::embedder(model_id)?.thresholds;
    let v = view(store, model_id)?;
    let answered: HashSet<(i64, i64)> = store
        .face_pairs()?
        .into_iter()
        .map(|(a, b, _)| (a, b))
        .collect();
    let mut out = Vec::new();
    let mut push = |a: i64, b: i64, d: f32| {
        let (a, b) = (a.min(b), a.max(b));
        if a != b && !answered.contains(&(a, b)) {
            out.push(FacePair {
                a,
                b,
                distance: d,
                margin: (d - t.verify).abs(),
            });
        }
    };
    for m in v.members.values().filter(|m| m.len() >= 2) {
        let avg: Vec<f32> = m
            .iter()
            .map(|&i| cluster::average_distance(&v.points, i, m))
            .collect();
        let by = |f: &dyn Fn(f32, f32) -> bool| {
            (0..m.len())
                .reduce(|x, y| if f(avg[y], avg[x]) { y } else { x })
                .unwrap_or(0)
        };
        let (typical, odd) = (m[by(&|a, b| a < b)], m[by(&|a, b| a > b)]);
        push(
            v.faces[odd].face_id,
            v.faces[typical].face_id,
            v.points.dist(odd, typical),
        );
    }
    for pp in similar_people(store, model_id, 200)? {
        let (ma, mb) = (&v.members[&pp.a], &v.members[&pp.b]);
        let best = ma
            .iter()
            .flat_map(|&i| mb.iter().map(move |&j| (i, j)))
            .map(|(i, j)| (v.points.dist(i, j), i, j))
            .min_by(|x, y| x.0.total_cmp(&y.0));
        if let Some((d, i, j)) = best {
            push(v.faces[i].face_id, v.faces[j].face_id, d);
        }
    }
    out.sort_by(|p, q| p.margin.total_cmp(&q.margin));
    out.truncate(limit);
    Ok(out)
}
