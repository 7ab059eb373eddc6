//! New faces meet the people a library already has, at library scale.
//!
//! The rule (the incremental one, [`super::average_distance`]): a face joins the person whose
//! faces are closest on average, if that average is within the match distance. Comparing each
//! new face with every known face costs a GEMM over the whole library (1,000 × 1M × 192 is
//! ~3.8·10¹¹ flops, seconds on a laptop); instead each person is summarised by the mean of the
//! faces the average is taken over. The distance to a mean is never more than the average
//! distance to the points (the norm is convex), so a person whose mean is farther than the
//! match distance cannot match, and only the few people left get the exact average.
//!
//! Faces that match nobody are then clustered with the unplaced faces near them
//! ([`neighbourhood`]): a new person needs a new face, so only the neighbourhood of the new
//! faces can change.

use std::collections::HashMap;

use rayon::prelude::*;

use super::{neighbors, Points};
use crate::error::{Error, Result};
use crate::progress::CancelToken;

/// A library's people for matching: their faces (rows of `points`) and the mean of the faces
/// [`super::average_distance`] reads for each, the pre-filter. Built once, asked many times.
#[derive(Debug, Clone)]
pub struct People<'a> {
    points: &'a Points,
    members: &'a HashMap<i64, Vec<usize>>,
    ids: Vec<i64>,
    means: Points,
}

impl<'a> People<'a> {
    /// The people `members` (person → rows of `points`).
    pub fn new(points: &'a Points, members: &'a HashMap<i64, Vec<usize>>) -> Result<Self> {
        let d = points.dim();
        let mut ids: Vec<i64> = members.keys().copied().collect();
        ids.sort_unstable();
        let rows: Vec<Vec<f32>> = ids
            .par_iter()
            .map(|p| {
                let m = &members[p];
                let mut sum = vec![0.0f64; d];
                let mut k = 0usize;
                for &j in m.iter().step_by(super::average_step(m.len())) {
                    for (s, &x) in sum.iter_mut().zip(points.row(j)) {
                        *s += x as f64;
                    }
                    k += 1;
                }
                sum.iter().map(|s| (*s / k.max(1) as f64) as f32).collect()
            })
            .collect();
        let means = if rows.is_empty() {
            Points::new(d, Vec::new())?
        } else {
            Points::from_rows(&rows)?
        };
        Ok(Self {
            points,
            members,
            ids,
            means,
        })
    }

    /// Number of people.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there is nobody.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// For each row of `new`, every person whose faces are within `distance` of it on
    /// average, as `(person, average distance)`, closest first.
    pub fn near(
        &self,
        new: &Points,
        distance: f32,
        cancel: &CancelToken,
    ) -> Result<Vec<Vec<(i64, f32)>>> {
        if new.is_empty() || self.is_empty() {
            return Ok(vec![Vec::new(); new.len()]);
        }
        if new.dim() != self.points.dim() {
            return Err(Error::Invalid("embeddings of different dimensions".into()));
        }
        // A hair wider than the bound needs: a mean is rounded to f32, and a person whose
        // average is exactly at `distance` must not be lost to that (the average decides).
        let reach = distance * (1.0 + 1e-4) + 1e-6;
        let near = neighbors::cross_radius(new, &self.means, reach, cancel)?;
        let out: Vec<Vec<(i64, f32)>> = near
            .par_iter()
            .enumerate()
            .map(|(q, list)| {
                let mut v: Vec<(i64, f32)> = list
                    .iter()
                    .map(|&(k, _)| {
                        let p = self.ids[k as usize];
                        let d =
                            super::average_distance_to(new.row(q), self.points, &self.members[&p]);
                        (p, d)
                    })
                    .filter(|&(_, d)| d <= distance)
                    .collect();
                v.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
                v
            })
            .collect();
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        Ok(out)
    }

    /// For each row of `new`, the person it matches best, `(average distance, row, person)`,
    /// sorted closest first (ties by row): the offers a caller grants under its constraints.
    pub fn offers(
        &self,
        new: &Points,
        distance: f32,
        cancel: &CancelToken,
    ) -> Result<Vec<(f32, usize, i64)>> {
        let mut offers: Vec<(f32, usize, i64)> = self
            .near(new, distance, cancel)?
            .into_iter()
            .enumerate()
            .filter_map(|(q, v)| v.first().map(|&(p, d)| (d, q, p)))
            .collect();
        offers.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        Ok(offers)
    }
}

/// The rows to cluster again when faces `seeds` found no person: the seeds, every unplaced row
/// (`free`) within `radius` of one, and theirs (`hops` steps). Two hops would give every face
/// next to a seed its whole neighbourhood (an exact DBSCAN core test there); one hop is what
/// a new person needs, a new face and the unplaced faces like it. Measured at 1M faces with
/// 1,000 new (`benches/scale.sh`): 2 hops 1.1 s, 2,270 faces clustered, 56 new people; 1 hop
/// 0.64 s, 459 faces, 57 new people. A chain reaching further is the full re-cluster's job.
/// Sorted.
pub fn neighbourhood(
    points: &Points,
    seeds: &[usize],
    free: &[usize],
    radius: f32,
    hops: usize,
    cancel: &CancelToken,
) -> Result<Vec<usize>> {
    let pool = points.subset(free);
    let mut taken = vec![false; free.len()];
    let pos: HashMap<usize, usize> = free.iter().enumerate().map(|(k, &i)| (i, k)).collect();
    let mut out: Vec<usize> = seeds.to_vec();
    for s in seeds {
        if let Some(&k) = pos.get(s) {
            taken[k] = true;
        }
    }
    let mut frontier: Vec<usize> = seeds.to_vec();
    for _ in 0..hops {
        if frontier.is_empty() {
            break;
        }
        let q = points.subset(&frontier);
        let near = neighbors::cross_radius(&q, &pool, radius, cancel)?;
        frontier.clear();
        for list in near {
            for (k, _) in list {
                let k = k as usize;
                if !taken[k] {
                    taken[k] = true;
                    frontier.push(free[k]);
                }
            }
        }
        out.extend_from_slice(&frontier);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points in overlapping groups (so the mean pre-filter has something to reject and
    /// something to keep), from a fixed generator.
    fn points(n: usize, d: usize, groups: usize) -> Points {
        let mut s = 7u64;
        let mut rnd = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 33) as f32 / (1u64 << 31) as f32 - 0.5
        };
        let centres: Vec<Vec<f32>> = (0..groups)
            .map(|_| (0..d).map(|_| rnd()).collect())
            .collect();
        let data = (0..n)
            .flat_map(|i| centres[i % groups].clone())
            .map(|c| c + rnd() * 0.5)
            .collect();
        Points::new(d, data).unwrap()
    }

    #[test]
    fn offers_equal_the_exact_average_over_every_person() {
        let p = points(3000, 24, 60);
        // People: the first 2,500 rows by group (one big person of 600), the rest are new.
        let mut members: HashMap<i64, Vec<usize>> = HashMap::new();
        for i in 0..2500 {
            let g = if i < 600 { 1000 } else { (i % 60) as i64 };
            members.entry(g).or_default().push(i);
        }
        let new: Vec<usize> = (2500..3000).collect();
        let q = p.subset(&new);
        let people = People::new(&p, &members).unwrap();
        let mut counts = Vec::new();
        for t in [0.95f32, 1.1, 1.3] {
            let got = people.offers(&q, t, &CancelToken::new()).unwrap();
            let mut want: Vec<(f32, usize, i64)> = (0..new.len())
                .filter_map(|k| {
                    members
                        .iter()
                        .map(|(&id, m)| (super::super::average_distance(&p, new[k], m), id))
                        .filter(|&(d, _)| d <= t)
                        .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                        .map(|(d, id)| (d, k, id))
                })
                .collect();
            want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let ids = |v: &[(f32, usize, i64)]| v.iter().map(|o| (o.1, o.2)).collect::<Vec<_>>();
            assert_eq!(ids(&got), ids(&want), "radius {t}");
            counts.push(got.len());
        }
        // The radii span "some new faces match" to "more match": the filter both rejects and keeps.
        assert!(counts[0] > 0 && counts[0] < counts[2], "{counts:?}");
    }

    #[test]
    fn the_neighbourhood_of_new_faces_follows_unplaced_faces_two_steps() {
        // A line of points 1 apart: from the seed at 0, radius 1.5 reaches 1, then 2.
        let p = Points::new(1, (0..8).map(|x| x as f32).collect()).unwrap();
        let free: Vec<usize> = (1..8).collect();
        let c = CancelToken::new();
        assert_eq!(
            neighbourhood(&p, &[0], &free, 1.5, 2, &c).unwrap(),
            vec![0, 1, 2]
        );
        assert_eq!(
            neighbourhood(&p, &[0], &free, 1.5, 1, &c).unwrap(),
            vec![0, 1]
        );
        // A placed face (3) stops the chain.
        let free = [1, 2, 4, 5];
        assert_eq!(
            neighbourhood(&p, &[0], &free, 1.5, 5, &c).unwrap(),
            vec![0, 1, 2]
        );
    }
}
