//! DBSCAN from `linfa-clustering`, given a faster region query: linfa asks its nearest-neighbour
//! index for every point's neighbourhood, one query at a time; in 128 dimensions its k-d tree
//! degenerates into a slow scan. [`Precomputed`] answers those queries from neighbourhoods
//! computed once by the blocked GEMM search in [`super::neighbors`], so linfa's own DBSCAN runs
//! unchanged and its labels equal those of linfa's linear search (tested below).

use std::sync::Arc;

use linfa::traits::Transformer;
use linfa::{Float, ParamGuard};
use linfa_clustering::Dbscan;
use linfa_nn::distance::{Distance, L2Dist};
use linfa_nn::{BuildError, NearestNeighbour, NearestNeighbourIndex, NnError};
use ndarray16::{ArrayBase, ArrayView1, ArrayView2, Data, Ix2};

use super::neighbors::{Neighbourhoods, Points};
use crate::error::{Error, Result};

/// A linfa nearest-neighbour "algorithm" that serves region queries on the indexed batch from
/// precomputed neighbourhoods (exact, strictly closer than `radius`), and falls back to a linear
/// scan for any other query.
#[derive(Debug, Clone)]
pub struct Precomputed {
    lists: Arc<Neighbourhoods>,
    radius: f32,
}

impl Precomputed {
    /// Serve queries of radius up to `radius` from `lists` (see [`super::neighbors`]).
    pub fn new(lists: Arc<Neighbourhoods>, radius: f32) -> Self {
        Self { lists, radius }
    }
}

struct PrecomputedIndex<'a, F: Float> {
    batch: ArrayView2<'a, F>,
    lists: Arc<Neighbourhoods>,
    radius: f32,
}

impl<'a, F: Float> PrecomputedIndex<'a, F> {
    /// Row of the batch that `point` is a view of, if it is one (DBSCAN queries with the rows of
    /// the very array it indexed).
    fn row_of(&self, point: &ArrayView1<'_, F>) -> Option<usize> {
        if !self.batch.is_standard_layout() || point.len() != self.batch.ncols() {
            return None;
        }
        let size = std::mem::size_of::<F>();
        let base = self.batch.as_ptr() as usize;
        let p = point.as_ptr() as usize;
        let off = p.checked_sub(base)?;
        let row_bytes = self.batch.ncols() * size;
        let i = off / row_bytes;
        (off % row_bytes == 0 && i < self.batch.nrows() && point.stride_of(ndarray16::Axis(0)) == 1)
            .then_some(i)
    }

    fn linear(&self, point: ArrayView1<'_, F>, range: F) -> Vec<(ArrayView1<'_, F>, usize)> {
        let r = L2Dist.dist_to_rdist(range);
        self.batch
            .rows()
            .into_iter()
            .enumerate()
            .filter(|(_, row)| L2Dist.rdistance(point.view(), row.view()) < r)
            .map(|(i, row)| (row, i))
            .collect()
    }
}

impl<F: Float> NearestNeighbourIndex<F> for PrecomputedIndex<'_, F> {
    fn k_nearest(
        &self,
        point: ArrayView1<'_, F>,
        k: usize,
    ) -> std::result::Result<Vec<(ArrayView1<'_, F>, usize)>, NnError> {
        if point.len() != self.batch.ncols() {
            return Err(NnError::WrongDimension);
        }
        let mut all: Vec<(F, usize)> = self
            .batch
            .rows()
            .into_iter()
            .enumerate()
            .map(|(i, row)| (L2Dist.rdistance(point.view(), row), i))
            .collect();
        all.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
        Ok(all
            .into_iter()
            .take(k)
            .map(|(_, i)| (self.batch.row(i), i))
            .collect())
    }

    fn within_range(
        &self,
        point: ArrayView1<'_, F>,
        range: F,
    ) -> std::result::Result<Vec<(ArrayView1<'_, F>, usize)>, NnError> {
        if point.len() != self.batch.ncols() {
            return Err(NnError::WrongDimension);
        }
        let range32 = range.to_f32().unwrap_or(f32::INFINITY);
        match self.row_of(&point) {
            Some(i) if range32 <= self.radius => Ok(self.lists[i]
                .iter()
                .filter(|(_, d)| range32 == self.radius || *d < range32)
                .map(|&(j, _)| (self.batch.row(j as usize), j as usize))
                .collect()),
            _ => Ok(self.linear(point, range)),
        }
    }
}

impl NearestNeighbour for Precomputed {
    fn from_batch_with_leaf_size<'a, F: Float, DT: Data<Elem = F>, D: 'a + Distance<F>>(
        &self,
        batch: &'a ArrayBase<DT, Ix2>,
        _leaf_size: usize,
        _dist_fn: D,
    ) -> std::result::Result<Box<dyn 'a + Send + Sync + NearestNeighbourIndex<F>>, BuildError> {
        if batch.ncols() == 0 {
            return Err(BuildError::ZeroDimension);
        }
        Ok(Box::new(PrecomputedIndex {
            batch: batch.view(),
            lists: self.lists.clone(),
            radius: self.radius,
        }))
    }
}

/// linfa's DBSCAN on `points` with neighbourhoods `lists` computed at radius `eps` (Euclidean,
/// strictly closer). `min_points` counts the point itself. Labels: `Some(cluster)` or `None`
/// (noise).
pub fn dbscan(
    points: &Points,
    lists: Arc<Neighbourhoods>,
    eps: f32,
    min_points: usize,
) -> Result<Vec<Option<usize>>> {
    if lists.len() != points.len() {
        return Err(Error::Invalid("neighbourhoods of other points".into()));
    }
    if points.is_empty() {
        return Ok(Vec::new());
    }
    let view = ArrayView2::from_shape((points.len(), points.dim()), points.as_slice())
        .map_err(|e| Error::Invalid(format!("embedding matrix: {e}")))?;
    let params = Dbscan::params_with(min_points.max(1), L2Dist, Precomputed::new(lists, eps))
        .tolerance(eps)
        .check()
        .map_err(|e| Error::Invalid(format!("DBSCAN settings: {e}")))?;
    Ok(params.transform(&view).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::neighbors::radius_neighbours;
    use crate::progress::CancelToken;
    use linfa_nn::LinearSearch;

    /// Blobs with noise, so that DBSCAN finds clusters, border points and noise.
    fn blobs(seed: u64) -> Points {
        let mut s = seed;
        let mut rnd = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 33) as f32 / (1u64 << 31) as f32 - 0.5
        };
        let d = 8;
        let mut data = Vec::new();
        for c in 0..12 {
            let centre: Vec<f32> = (0..d).map(|_| rnd() * 4.0).collect();
            let n = 10 + 7 * (c % 4);
            for _ in 0..n {
                data.extend(centre.iter().map(|x| x + rnd() * 0.6));
            }
        }
        for _ in 0..60 {
            data.extend((0..d).map(|_| rnd() * 4.0));
        }
        Points::new(d, data).unwrap()
    }

    #[test]
    fn labels_match_linfa_linear_search() {
        for (seed, eps, min_points) in [(1, 0.5, 3), (2, 0.6, 4), (3, 0.45, 2), (4, 0.7, 6)] {
            let p = blobs(seed);
            let lists = Arc::new(radius_neighbours(&p, eps, &CancelToken::new()).unwrap());
            let ours = dbscan(&p, lists, eps, min_points).unwrap();
            let view = ArrayView2::from_shape((p.len(), p.dim()), p.as_slice()).unwrap();
            let theirs = Dbscan::params_with(min_points, L2Dist, LinearSearch)
                .tolerance(eps)
                .transform(&view)
                .unwrap()
                .to_vec();
            assert_eq!(ours, theirs, "seed {seed}");
            let clusters = ours.iter().flatten().max().map_or(0, |m| m + 1);
            let noise = ours.iter().filter(|l| l.is_none()).count();
            assert!(
                clusters >= 5 && noise > 0,
                "seed {seed}: {clusters} clusters"
            );
        }
    }
}
