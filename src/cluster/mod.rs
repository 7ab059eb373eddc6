//! Clustering faces into groups (people-to-be) for one embedding model. Pure: knows no database.
//!
//! The method, chosen by measurement on LFW (README, "Clustering"):
//! 1. **DBSCAN** (linfa-clustering, Euclidean on the raw descriptor) over the *strong* faces finds
//!    dense cores; weak faces (small or low detector score) and outliers are noise here, so they
//!    never seed or grow a cluster. The region query is a blocked GEMM scan ([`neighbors`],
//!    [`dbscan`]).
//! 2. **Average linkage** with cannot-links inside each DBSCAN cluster ([`linkage`]) splits what
//!    DBSCAN chained through look-alikes: plain DBSCAN gives 0.75–0.95 pairwise precision on LFW,
//!    this step brings it above 0.99.
//! 3. **Attach**: each remaining face joins the group it is closest to on average, if within the
//!    linkage threshold and allowed by the constraints; attached faces do not pull others in.
//! 4. Groups smaller than `min_person_faces` are left unassigned (no one-face "people").
//! 5. **Few-photo people**: of the strong faces still left, two that are each other's nearest
//!    neighbour within the model's pair cut (a third close to both joins) become a group, under
//!    the same constraints; DBSCAN alone never sees someone with two photos.
//!
//! Constraints always hold in the output: two faces of one photo, or a `cannot` pair, are never
//! in one group. `must` pairs are kept together when they fall in the same DBSCAN cluster; the
//! people layer pins the user's faces to their person, so must-links across clusters are its job.

pub mod assign;
pub mod bench;
pub mod constraints;
pub mod dbscan;
pub mod int8;
pub mod linkage;
pub mod mapping;
pub mod neighbors;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::progress::{CancelToken, Progress, Stage};
use crate::settings;
pub use neighbors::Points;

/// The tunables of clustering (model-dependent ones from the catalogue, the rest from
/// `settings.rs`); the app may change them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterSettings {
    /// DBSCAN radius (Euclidean on stored vectors).
    pub eps: f32,
    /// DBSCAN core size, the face itself included.
    pub min_points: usize,
    /// Average-linkage cut: the largest average distance between two groups that still merge.
    pub linkage_threshold: f32,
    /// Smallest group that becomes a person.
    pub min_person_faces: usize,
    /// Faces whose shorter box side is below this (pixels) may join but never seed a person.
    pub weak_min_px: f32,
    /// Faces whose detector score is below this may join but never seed a person.
    pub weak_min_score: f32,
    /// Largest DBSCAN cluster handed to average linkage at once (bounds its m² memory).
    pub linkage_max: usize,
    /// Incremental runs: a new face joins a person within this average distance.
    pub match_distance: f32,
    /// Few-photo people: mutual nearest neighbours left over closer than this pair up (0: off).
    pub pair_cut: f32,
}

impl Default for ClusterSettings {
    /// The catalogue default embedder's settings.
    fn default() -> Self {
        Self::for_model(crate::vision::models::DEFAULT_EMBEDDER)
    }
}

impl ClusterSettings {
    /// The settings for vectors of `spec`.
    pub fn for_model(spec: &crate::vision::models::EmbedderSpec) -> Self {
        let t = &spec.thresholds;
        Self {
            eps: t.cluster_eps,
            min_points: settings::CLUSTER_MIN_POINTS,
            linkage_threshold: t.linkage,
            match_distance: t.match_distance,
            pair_cut: t.pair,
            min_person_faces: settings::CLUSTER_MIN_PERSON_FACES,
            weak_min_px: settings::CLUSTER_WEAK_MIN_PX,
            weak_min_score: settings::CLUSTER_WEAK_MIN_SCORE,
            linkage_max: settings::CLUSTER_LINKAGE_MAX,
        }
    }

    /// Whether a face of this size and score is weak (may join, never seeds).
    pub fn is_weak(&self, min_side: f32, score: f32) -> bool {
        min_side < self.weak_min_px || score < self.weak_min_score
    }
}

/// What to cluster: points plus the facts that constrain them (indices are rows of `points`).
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub points: &'a Points,
    /// Photo of each point: two points of one photo never share a group.
    pub photo: &'a [i64],
    /// Weak points never seed or grow a group.
    pub weak: &'a [bool],
    /// Pairs to keep together (within a DBSCAN cluster).
    pub must: &'a [(usize, usize)],
    /// Pairs never to put together.
    pub cannot: &'a [(usize, usize)],
    /// Person each point is pinned to by the user, if any: points of different owners never
    /// share a group. Empty slice: nobody is pinned.
    pub owner: &'a [Option<i64>],
    /// `(point, person)`: the point never shares a group with a point owned by that person
    /// ("not this person").
    pub forbidden: &'a [(usize, i64)],
}

impl Input<'_> {
    fn owner(&self, i: usize) -> Option<i64> {
        self.owner.get(i).copied().flatten()
    }
}

/// The result: a group per point or `None` (unassigned), plus counts for reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Clustering {
    /// Group of each point, `0..groups`, or `None`.
    pub labels: Vec<Option<usize>>,
    /// Number of groups (people-to-be).
    pub groups: usize,
    /// DBSCAN clusters before linkage split them.
    pub dbscan_clusters: usize,
    /// DBSCAN noise points (before attaching).
    pub dbscan_noise: usize,
}

/// Group the points (see the module doc). Checks `cancel` between stages and chunks.
pub fn cluster(
    input: Input<'_>,
    s: &ClusterSettings,
    cancel: &CancelToken,
    progress: &Progress,
) -> Result<Clustering> {
    let p = input.points;
    let n = p.len();
    if input.photo.len() != n || input.weak.len() != n {
        return Err(Error::Invalid("cluster input of mismatched lengths".into()));
    }
    progress.set_stage(Stage::Clustering);
    let radius = s.eps.max(s.linkage_threshold);
    let t0 = std::time::Instant::now();
    let all = neighbors::radius_neighbours(p, radius, cancel)?;
    let pairs: usize = all.iter().map(Vec::len).sum::<usize>() - n;
    tracing::info!(
        "neighbours of {n} points within {radius}: {} pairs in {:.2} s",
        pairs / 2,
        t0.elapsed().as_secs_f64()
    );

    // 1. DBSCAN over strong points, with their neighbourhoods re-indexed to the subset.
    let strong: Vec<usize> = (0..n).filter(|&i| !input.weak[i]).collect();
    let strong_lists = restrict(&all, &strong, s.eps);
    let sp = p.subset(&strong);
    let labels = dbscan::dbscan(&sp, Arc::new(strong_lists), s.eps, s.min_points)?;
    let dbscan_clusters = labels.iter().flatten().max().map_or(0, |m| m + 1);
    let dbscan_noise = labels.iter().filter(|l| l.is_none()).count();
    let mut chunks: Vec<Vec<usize>> = vec![Vec::new(); dbscan_clusters];
    for (k, l) in labels.iter().enumerate() {
        if let Some(c) = l {
            chunks[*c].push(strong[k]);
        }
    }
    tracing::info!(
        "DBSCAN: {dbscan_clusters} clusters, {dbscan_noise} noise at {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    let chunks = split_large(p, &all, chunks, s, cancel)?;
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }

    // 2. Constrained average linkage inside each chunk.
    let rules = constraints::Constraints::new(&input);
    Progress::add(&progress.total, chunks.len() as u64);
    let groups: Vec<Vec<usize>> = chunks
        .par_iter()
        .flat_map_iter(|chunk| {
            let out = if cancel.is_cancelled() {
                Vec::new()
            } else {
                link_chunk(p, chunk, &input, &rules, s.linkage_threshold)
            };
            Progress::add(&progress.done, 1);
            out
        })
        .collect();
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }

    tracing::info!(
        "linkage: {} groups at {:.2} s",
        groups.len(),
        t0.elapsed().as_secs_f64()
    );
    // 3. Attach the rest, closest first, without growing groups.
    let mut label: Vec<Option<usize>> = vec![None; n];
    for (g, members) in groups.iter().enumerate() {
        for &i in members {
            label[i] = Some(g);
        }
    }
    let mut built: Vec<constraints::Group> = groups.iter().map(|m| rules.group(m)).collect();
    let mut offers: Vec<(f32, usize, usize)> = (0..n)
        .into_par_iter()
        .filter(|&i| label[i].is_none())
        .filter_map(|i| {
            let candidates: HashSet<usize> = all[i]
                .iter()
                .filter_map(|&(j, _)| label[j as usize])
                .collect();
            candidates
                .into_iter()
                .map(|g| (average_distance(p, i, &groups[g]), g))
                .filter(|&(d, _)| d <= s.linkage_threshold)
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                .map(|(d, g)| (d, i, g))
        })
        .collect();
    offers.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for (_, i, g) in offers {
        if built[g].may_take(&rules, i) {
            built[g].take(&rules, i);
        }
    }

    // 4. Number the groups that are big enough, in order of their smallest point.
    let mut finals: Vec<Vec<usize>> = built
        .into_iter()
        .map(|g| {
            let mut m = g.members;
            m.sort_unstable();
            m
        })
        .filter(|g| g.len() >= s.min_person_faces.max(1))
        .collect();
    let mut taken = vec![false; n];
    for &i in finals.iter().flatten() {
        taken[i] = true;
    }
    // 5. Few-photo people: what is left pairs up where it is unambiguous.
    finals.extend(few_photo_people(&input, &all, &taken, &rules, s));
    finals.sort_by_key(|g| g[0]);
    let mut labels = vec![None; n];
    for (g, members) in finals.iter().enumerate() {
        for &i in members {
            labels[i] = Some(g);
        }
    }
    Ok(Clustering {
        labels,
        groups: finals.len(),
        dbscan_clusters,
        dbscan_noise,
    })
}

/// Two or three strong faces no group took, each the other's nearest free neighbour and closer
/// than `s.pair_cut`, under the same constraints as every group (one photo, cannot-links, the
/// user's people and "not this person" answers). DBSCAN needs `min_points` faces to see a
/// person, so the cousin with two photos would otherwise never become one.
fn few_photo_people(
    input: &Input<'_>,
    all: &neighbors::Neighbourhoods,
    taken: &[bool],
    rules: &constraints::Constraints,
    s: &ClusterSettings,
) -> Vec<Vec<usize>> {
    if s.pair_cut <= 0.0 {
        return Vec::new();
    }
    let n = taken.len();
    // A face the user placed is its person's business (incremental matching), not a pair's.
    let free = |i: usize| !taken[i] && !input.weak[i] && input.owner(i).is_none();
    let nearest: Vec<Option<(usize, f32)>> = (0..n)
        .map(|i| {
            if !free(i) {
                return None;
            }
            all[i]
                .iter()
                .map(|&(j, d)| (j as usize, d))
                .filter(|&(j, d)| j != i && free(j) && d < s.pair_cut)
                .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
        })
        .collect();
    let mut group_of: HashMap<usize, usize> = HashMap::new();
    let mut out: Vec<constraints::Group> = Vec::new();
    for (i, near) in nearest.iter().enumerate() {
        if let Some((j, _)) = *near {
            let mut g = rules.group(&[i]);
            if i < j && nearest[j].map(|x| x.0) == Some(i) && g.may_take(rules, j) {
                g.take(rules, j);
                group_of.insert(i, out.len());
                group_of.insert(j, out.len());
                out.push(g);
            }
        }
    }
    // A third face whose nearest is in a pair and that is close to both joins it.
    for (k, near) in nearest.iter().enumerate() {
        let Some((m, _)) = *near else { continue };
        if group_of.contains_key(&k) {
            continue;
        }
        let Some(&g) = group_of.get(&m) else { continue };
        let fits = out[g].members.len() == 2
            && out[g].may_take(rules, k)
            && out[g]
                .members
                .iter()
                .all(|&x| input.points.dist(k, x) < s.pair_cut);
        if fits {
            out[g].take(rules, k);
            group_of.insert(k, g);
        }
    }
    out.into_iter()
        .map(|g| {
            let mut m = g.members;
            m.sort_unstable();
            m
        })
        .collect()
}

/// Average distance from point `i` to `members` (at most 512 of them, evenly spread: enough for
/// a stable mean, and bounded cost for very large people).
pub fn average_distance(p: &Points, i: usize, members: &[usize]) -> f32 {
    average_distance_to(p.row(i), p, members)
}

/// [`average_distance`] of any vector (a new face, not yet a row of `p`).
pub fn average_distance_to(v: &[f32], p: &Points, members: &[usize]) -> f32 {
    let (mut sum, mut k) = (0.0f64, 0usize);
    for &j in members.iter().step_by(average_step(members.len())) {
        sum += neighbors::dist(v, p.row(j)) as f64;
        k += 1;
    }
    if k == 0 {
        f32::INFINITY
    } else {
        (sum / k as f64) as f32
    }
}

/// [`average_distance`] reads every `average_step`-th member: at most 512 of a big person.
pub(crate) fn average_step(members: usize) -> usize {
    members.div_ceil(512).max(1)
}

/// DBSCAN clusters larger than `linkage_max` are clustered again with a smaller radius until
/// they fit; what falls out becomes noise (and may attach later).
fn split_large(
    p: &Points,
    all: &neighbors::Neighbourhoods,
    chunks: Vec<Vec<usize>>,
    s: &ClusterSettings,
    cancel: &CancelToken,
) -> Result<Vec<Vec<usize>>> {
    let mut out = Vec::new();
    let mut todo: Vec<(Vec<usize>, f32)> = chunks.into_iter().map(|c| (c, s.eps)).collect();
    while let Some((chunk, eps)) = todo.pop() {
        if chunk.len() <= s.linkage_max.max(2) {
            out.push(chunk);
            continue;
        }
        let eps = eps * 0.9;
        tracing::info!(
            "splitting a DBSCAN cluster of {} at eps {eps:.3}",
            chunk.len()
        );
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let sub = p.subset(&chunk);
        // The neighbours within the smaller radius are among those already found: searching
        // again cost as much as the first search (a 70,000-face chain of 100k synthetic faces).
        let lists = restrict(all, &chunk, eps);
        let labels = dbscan::dbscan(&sub, Arc::new(lists), eps, s.min_points)?;
        let k = labels.iter().flatten().max().map_or(0, |m| m + 1);
        let mut parts = vec![Vec::new(); k];
        for (local, l) in labels.iter().enumerate() {
            if let Some(c) = l {
                parts[*c].push(chunk[local]);
            }
        }
        todo.extend(parts.into_iter().map(|c| (c, eps)));
    }
    out.sort_by_key(|c| c.first().copied());
    Ok(out)
}

/// The neighbourhoods of `members` (indices into `all`) among themselves, closer than
/// `radius`, re-indexed to positions in `members`.
fn restrict(
    all: &neighbors::Neighbourhoods,
    members: &[usize],
    radius: f32,
) -> neighbors::Neighbourhoods {
    let mut local = vec![u32::MAX; all.len()];
    for (k, &i) in members.iter().enumerate() {
        local[i] = k as u32;
    }
    members
        .par_iter()
        .map(|&i| {
            all[i]
                .iter()
                .filter(|&&(j, d)| d < radius && local[j as usize] != u32::MAX)
                .map(|&(j, d)| (local[j as usize], d))
                .collect()
        })
        .collect()
}

/// Average linkage inside one chunk, with its must-links pre-merged and its cannot-links (same
/// photo, user's "different") enforced.
fn link_chunk(
    p: &Points,
    chunk: &[usize],
    input: &Input<'_>,
    rules: &constraints::Constraints,
    threshold: f32,
) -> Vec<Vec<usize>> {
    let pos: HashMap<usize, usize> = chunk.iter().enumerate().map(|(k, &i)| (i, k)).collect();
    // Must-link groups by union-find over the chunk.
    let mut parent: Vec<usize> = (0..chunk.len()).collect();
    fn find(parent: &mut [usize], x: usize) -> usize {
        let mut r = x;
        while parent[r] != r {
            r = parent[r];
        }
        let mut y = x;
        while parent[y] != r {
            let next = parent[y];
            parent[y] = r;
            y = next;
        }
        r
    }
    for &(a, b) in input.must {
        if let (Some(&x), Some(&y)) = (pos.get(&a), pos.get(&b)) {
            let (rx, ry) = (find(&mut parent, x), find(&mut parent, y));
            parent[rx] = ry;
        }
    }
    let mut init: HashMap<usize, Vec<usize>> = HashMap::new();
    for k in 0..chunk.len() {
        let r = find(&mut parent, k);
        init.entry(r).or_default().push(k);
    }
    let mut init: Vec<Vec<usize>> = init.into_values().collect();
    init.sort_by_key(|g| g[0]);
    // Pairs that may never share a person (one photo, "different", two owners, rejections).
    let local_cannot = rules.pairs_within(chunk);
    let sub = p.subset(chunk);
    linkage::average_linkage(&sub, init, &local_cannot, threshold)
        .into_iter()
        .map(|g| g.into_iter().map(|k| chunk[k]).collect())
        .collect()
}

#[cfg(test)]
mod tests;
