//! Re-clustering: turn the faces of the active model into people without ever overriding a
//! user decision. Incremental (default): faces clustering has not considered yet (new, or taken
//! out of a person by a decision) first join existing people; the rest are clustered with the
//! unplaced faces within reach of them. Full: every machine assignment is recomputed, and the new
//! groups take over the old people's ids by overlap. Pinned faces never move in either, and a
//! full run leaves faces with a mapped vector (photo offline at an upgrade) in their person.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use serde::Serialize;

use crate::cluster::constraints::{Constraints, Group};
use crate::cluster::{self, assign, mapping, ClusterSettings, Points};
use crate::error::Result;
use crate::progress::{CancelToken, Progress};
use crate::store::{Assigner, ClusterFace, Store};

/// Incremental or full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Match the faces not considered yet to people, cluster the rest with the unplaced faces
    /// around them.
    Incremental,
    /// Recompute every machine assignment (user decisions still hold).
    Full,
}

/// What a re-cluster did (field names are a command-line contract).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReclusterOutcome {
    /// Faces of the model considered.
    pub faces: usize,
    /// People with at least one face afterwards.
    pub people: usize,
    /// Groups the clustering produced in this run.
    pub clusters: usize,
    /// Faces in no person afterwards.
    pub unassigned: usize,
    pub seconds: f64,
    /// Faces that joined an existing person by matching (incremental).
    pub matched: usize,
    /// People created in this run.
    pub new_people: usize,
    /// Face assignments written (a full run counts both of its passes).
    pub changed: usize,
}

/// The constraints of the stored decisions, in row indices of `faces`.
pub(crate) struct Facts {
    pub owner: Vec<Option<i64>>,
    pub must: Vec<(usize, usize)>,
    pub cannot: Vec<(usize, usize)>,
    pub forbidden: Vec<(usize, i64)>,
    /// The same, as the one "may these faces share a person" rule.
    pub rules: Constraints,
}

pub(crate) fn facts(store: &Store, faces: &[ClusterFace]) -> Result<Facts> {
    let row: HashMap<i64, usize> = faces
        .iter()
        .enumerate()
        .map(|(k, f)| (f.face_id, k))
        .collect();
    let owner: Vec<Option<i64>> = faces
        .iter()
        .map(|f| {
            if f.assigned_by == Some(Assigner::User) {
                f.person_id
            } else {
                None
            }
        })
        .collect();
    let (mut must, mut cannot) = (Vec::new(), Vec::new());
    for (a, b, same) in store.face_pairs()? {
        if let (Some(&x), Some(&y)) = (row.get(&a), row.get(&b)) {
            if same {
                must.push((x, y));
            } else {
                cannot.push((x.min(y), x.max(y)));
            }
        }
    }
    let forbidden: Vec<(usize, i64)> = store
        .rejections()?
        .into_iter()
        .filter_map(|(f, p)| row.get(&f).map(|&k| (k, p)))
        .collect();
    let photo = faces.iter().map(|f| f.photo_id).collect();
    Ok(Facts {
        rules: Constraints::from_facts(photo, owner.clone(), &cannot, &forbidden),
        owner,
        must,
        cannot,
        forbidden,
    })
}

/// Re-cluster the faces of `model_id` (see the module doc) and write the result. Each pass
/// is one transaction: cancelling leaves the database as it was, or (in a full run's second
/// pass) at the consistent result of the first.
///
/// A full run ends with an incremental pass, so that running `cluster` right after
/// `cluster --full` changes nothing: faces the full clustering left over but that match a
/// person on average (the incremental rule) join it there and then.
pub fn recluster(
    store: &mut Store,
    model_id: &str,
    s: &ClusterSettings,
    mode: Mode,
    cancel: &CancelToken,
    progress: &Progress,
) -> Result<ReclusterOutcome> {
    let t0 = Instant::now();
    let first = one_pass(store, model_id, s, mode, cancel, progress)?;
    if mode == Mode::Incremental {
        return Ok(first);
    }
    let second = one_pass(store, model_id, s, Mode::Incremental, cancel, progress)?;
    Ok(ReclusterOutcome {
        faces: first.faces,
        people: second.people,
        clusters: first.clusters + second.clusters,
        unassigned: second.unassigned,
        seconds: t0.elapsed().as_secs_f64(),
        matched: second.matched,
        new_people: first.new_people + second.new_people,
        changed: first.changed + second.changed,
    })
}

fn one_pass(
    store: &mut Store,
    model_id: &str,
    s: &ClusterSettings,
    mode: Mode,
    cancel: &CancelToken,
    progress: &Progress,
) -> Result<ReclusterOutcome> {
    let t0 = Instant::now();
    let matrix = store.cluster_matrix(model_id)?;
    let (faces, points) = (&matrix.faces, &*matrix.points);
    let facts = facts(store, faces)?;
    tracing::info!(
        "recluster: {} faces read at {:.2} s",
        faces.len(),
        t0.elapsed().as_secs_f64()
    );
    let old: Vec<Option<i64>> = faces.iter().map(|f| f.person_id).collect();
    let mut new: Vec<Option<i64>> = old.clone();
    let mut outcome = ReclusterOutcome {
        faces: faces.len(),
        ..Default::default()
    };

    // Rows left to cluster: all machine/unassigned faces (full), or the unassigned ones that
    // did not match a person (incremental).
    let free: Vec<usize> = match mode {
        Mode::Full => {
            // A vector guessed through the harmonic map is good enough to place a face nobody
            // placed, not to take a face away from its person: those keep theirs.
            let kept = |k: usize| facts.owner[k].is_some() || (faces[k].mapped && old[k].is_some());
            for (k, n) in new.iter_mut().enumerate() {
                if !kept(k) {
                    *n = None;
                }
            }
            (0..faces.len())
                .filter(|&k| facts.owner[k].is_some() || !kept(k))
                .collect()
        }
        Mode::Incremental => {
            // Only faces clustering has not considered yet (new ones, and faces a decision
            // took out of a person) are offered to people; those that match nobody are
            // clustered with the unplaced faces around them. Faces already considered and
            // far from every new one would only come out as they did last time.
            let fresh: Vec<usize> = (0..faces.len())
                .filter(|&k| new[k].is_none() && !faces[k].clustered)
                .collect();
            let matched = match_to_people(&fresh, points, &facts, &mut new, s, cancel)?;
            outcome.matched = matched;
            tracing::info!(
                "recluster: {matched} of {} new faces matched at {:.2} s",
                fresh.len(),
                t0.elapsed().as_secs_f64()
            );
            let left: Vec<usize> = fresh.into_iter().filter(|&k| new[k].is_none()).collect();
            let unplaced: Vec<usize> = (0..faces.len())
                .filter(|&k| new[k].is_none() && faces[k].clustered)
                .collect();
            let radius = s.eps.max(s.linkage_threshold);
            assign::neighbourhood(points, &left, &unplaced, radius, 1, cancel)?
        }
    };

    // Cluster the free rows (with the pinned faces too in a full run, as anchors).
    let sub = points.subset(&free);
    let pos: HashMap<usize, usize> = free.iter().enumerate().map(|(k, &i)| (i, k)).collect();
    let remap = |v: &[(usize, usize)]| -> Vec<(usize, usize)> {
        v.iter()
            .filter_map(|(a, b)| Some((*pos.get(a)?, *pos.get(b)?)))
            .collect()
    };
    let photo: Vec<i64> = free.iter().map(|&i| faces[i].photo_id).collect();
    let weak: Vec<bool> = free
        .iter()
        .map(|&i| s.is_weak(faces[i].min_side, faces[i].score))
        .collect();
    let owner: Vec<Option<i64>> = free.iter().map(|&i| facts.owner[i]).collect();
    let forbidden: Vec<(usize, i64)> = facts
        .forbidden
        .iter()
        .filter_map(|&(i, p)| pos.get(&i).map(|&k| (k, p)))
        .collect();
    let (must, cannot) = (remap(&facts.must), remap(&facts.cannot));
    let c = cluster::cluster(
        cluster::Input {
            points: &sub,
            photo: &photo,
            weak: &weak,
            must: &must,
            cannot: &cannot,
            owner: &owner,
            forbidden: &forbidden,
        },
        s,
        cancel,
        progress,
    )?;
    outcome.clusters = c.groups;
    tracing::info!(
        "recluster: {} free faces clustered at {:.2} s",
        free.len(),
        t0.elapsed().as_secs_f64()
    );

    // Groups → people. A group holding pinned faces goes to their person, unless another
    // person holds a strict majority of the group's faces (pinned faces count for their
    // person, the others for the one they were in): one face the user moved must not drag the
    // 30 look-alikes of another person after it (that would merge two people silently), and new
    // faces around a face the user confirmed go to the user's person. The others take the old
    // person they overlap most (full) or become new people.
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); c.groups];
    for (k, l) in c.labels.iter().enumerate() {
        if let Some(g) = l {
            groups[*g].push(free[k]);
        }
    }
    let mut target: Vec<Option<i64>> = groups
        .iter()
        .map(|g| {
            let mut pinned: HashMap<i64, usize> = HashMap::new();
            for o in g.iter().filter_map(|&i| facts.owner[i]) {
                *pinned.entry(o).or_default() += 1;
            }
            let user = pinned.into_iter().max_by_key(|&(p, n)| (n, -p))?.0;
            // Another person takes the group only with a strict majority of all its faces.
            let mut count: HashMap<i64, usize> = HashMap::new();
            for p in g.iter().filter_map(|&i| facts.owner[i].or(old[i])) {
                *count.entry(p).or_default() += 1;
            }
            let other = count
                .into_iter()
                .filter(|&(p, _)| p != user)
                .max_by_key(|&(p, n)| (n, -p));
            Some(match other {
                Some((p, n)) if 2 * n > g.len() => p,
                _ => user,
            })
        })
        .collect();
    if mode == Mode::Full {
        let taken: HashSet<i64> = target.iter().flatten().copied().collect();
        let unmapped: Vec<usize> = (0..groups.len()).filter(|&g| target[g].is_none()).collect();
        let olds: Vec<Vec<Option<i64>>> = unmapped
            .iter()
            .map(|&g| groups[g].iter().map(|&i| old[i]).collect())
            .collect();
        for (g, m) in unmapped.iter().zip(mapping::map_by_overlap(&olds, &taken)) {
            target[*g] = m;
        }
    }

    // Assign group members, enforcing every constraint against what the person already holds.
    let mut members: HashMap<i64, Vec<usize>> = HashMap::new();
    for (k, p) in new.iter().enumerate() {
        if let Some(p) = p {
            members.entry(*p).or_default().push(k);
        }
    }
    let mut created: Vec<(usize, Vec<usize>)> = Vec::new();
    for (g, rows) in groups.iter().enumerate() {
        let rows: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|&i| facts.owner[i].is_none())
            .collect();
        match target[g] {
            Some(p) => {
                let m = members.entry(p).or_default();
                let mut group = facts.rules.person(p, m);
                for i in rows {
                    if group.may_take(&facts.rules, i) {
                        group.take(&facts.rules, i);
                        m.push(i);
                        new[i] = Some(p);
                    }
                }
            }
            None if rows.len() >= s.min_person_faces.max(1) => created.push((g, rows)),
            None => {}
        }
    }

    if cancel.is_cancelled() {
        return Err(crate::Error::Cancelled);
    }
    let outcome = store.write(|w| {
        for (_, rows) in &created {
            let p = w.create_person(None, Assigner::Machine)?;
            for &i in rows {
                new[i] = Some(p);
            }
            outcome.new_people += 1;
        }
        let changes: Vec<(i64, Option<i64>, Option<Assigner>)> = (0..faces.len())
            .filter(|&k| facts.owner[k].is_none())
            .map(|k| (k, new[k].map(|_| Assigner::Machine)))
            .filter(|&(k, by)| new[k] != old[k] || faces[k].assigned_by != by)
            .map(|(k, by)| (faces[k].face_id, new[k], by))
            .collect();
        outcome.changed = (0..faces.len()).filter(|&k| new[k] != old[k]).count();
        w.assign_faces(&changes)?;
        // Every face this pass read has been considered now, including those it took out of
        // a person (which `assign_faces` marked new again).
        let considered: Vec<i64> = (0..faces.len())
            .filter(|&k| !faces[k].clustered || (new[k].is_none() && old[k].is_some()))
            .map(|k| faces[k].face_id)
            .collect();
        w.mark_clustered(&considered)?;
        w.delete_unused_machine_people()?;
        outcome.people = new.iter().flatten().collect::<HashSet<_>>().len();
        Ok(outcome)
    })?;
    let mut outcome = outcome;
    outcome.unassigned = new.iter().filter(|p| p.is_none()).count();
    outcome.seconds = t0.elapsed().as_secs_f64();
    Ok(outcome)
}

/// Incremental step 1: each face of `unassigned` joins the person it is closest to on average (within
/// the match threshold, constraints allowing), closest pairs first. Returns how many joined.
fn match_to_people(
    unassigned: &[usize],
    points: &Points,
    facts: &Facts,
    new: &mut [Option<i64>],
    s: &ClusterSettings,
    cancel: &CancelToken,
) -> Result<usize> {
    let assigned: Vec<usize> = (0..new.len()).filter(|&k| new[k].is_some()).collect();
    if assigned.is_empty() || unassigned.is_empty() {
        return Ok(0);
    }
    let mut members: HashMap<i64, Vec<usize>> = HashMap::new();
    for &k in &assigned {
        if let Some(p) = new[k] {
            members.entry(p).or_default().push(k);
        }
    }
    let t = s.match_distance.min(s.linkage_threshold.max(0.0));
    // People as the means of their faces first: only those that may be within `t` on average
    // get the exact average (`cluster::assign`).
    let offers: Vec<(f32, usize, i64)> = assign::People::new(points, &members)?
        .offers(&points.subset(unassigned), t, cancel)?
        .into_iter()
        .map(|(d, q, p)| (d, unassigned[q], p))
        .collect();
    // Each person offered a face, as a group that knows what it rules out.
    let mut groups: HashMap<i64, Group> = HashMap::new();
    let mut matched = 0;
    for (_, i, p) in offers {
        let Some(m) = members.get_mut(&p) else {
            continue;
        };
        let group = groups.entry(p).or_insert_with(|| facts.rules.person(p, m));
        if group.may_take(&facts.rules, i) {
            group.take(&facts.rules, i);
            new[i] = Some(p);
            m.push(i);
            matched += 1;
        }
    }
    Ok(matched)
}

/// How many people and unassigned faces `s` would give on the current faces, without writing
/// (for the settings preview). Same code path as a full re-cluster.
pub fn preview(
    store: &Store,
    model_id: &str,
    s: &ClusterSettings,
    cancel: &CancelToken,
    progress: &Progress,
) -> Result<ReclusterOutcome> {
    let t0 = Instant::now();
    let matrix = store.cluster_matrix(model_id)?;
    let (faces, points) = (&matrix.faces, &*matrix.points);
    let facts = facts(store, faces)?;
    let photo: Vec<i64> = faces.iter().map(|f| f.photo_id).collect();
    let weak: Vec<bool> = faces
        .iter()
        .map(|f| s.is_weak(f.min_side, f.score))
        .collect();
    let c = cluster::cluster(
        cluster::Input {
            points,
            photo: &photo,
            weak: &weak,
            must: &facts.must,
            cannot: &facts.cannot,
            owner: &facts.owner,
            forbidden: &facts.forbidden,
        },
        s,
        cancel,
        progress,
    )?;
    // People: the groups, plus pinned people none of whose faces fell in a group.
    let grouped: HashSet<i64> = (0..faces.len())
        .filter(|&k| c.labels[k].is_some())
        .filter_map(|k| facts.owner[k])
        .collect();
    let pinned_alone: HashSet<i64> = facts
        .owner
        .iter()
        .flatten()
        .filter(|p| !grouped.contains(p))
        .copied()
        .collect();
    Ok(ReclusterOutcome {
        faces: faces.len(),
        people: c.groups + pinned_alone.len(),
        clusters: c.groups,
        unassigned: (0..faces.len())
            .filter(|&k| c.labels[k].is_none() && facts.owner[k].is_none())
            .count(),
        seconds: t0.elapsed().as_secs_f64(),
        ..Default::default()
    })
}
