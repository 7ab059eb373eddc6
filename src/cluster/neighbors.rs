//! Exact radius neighbourhoods by blocked brute force: `|a-b|² = |a|² + |b|² - 2a·b` with the dot
//! products from an f32 GEMM on blocks, both cores via rayon, each pair computed once. Pairs near
//! the radius are re-checked with the direct difference so that the answer does not depend on
//! GEMM rounding (DBSCAN's labels then match a direct region query exactly).
//!
//! In 128 dimensions tree indexes degenerate to a scan anyway; a GEMM scan runs near the
//! machine's peak and needs no tuning.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::progress::CancelToken;

/// Row-major points of one dimension.
#[derive(Debug, Clone)]
pub struct Points {
    dim: usize,
    data: Vec<f32>,
    norms: Vec<f32>,
}

impl Points {
    /// Points from a flat row-major buffer of `dim` columns.
    pub fn new(dim: usize, data: Vec<f32>) -> Result<Self> {
        if dim == 0 || data.len() % dim != 0 {
            return Err(Error::Invalid(format!(
                "{} values do not make rows of dimension {dim}",
                data.len()
            )));
        }
        if data.iter().any(|x| !x.is_finite()) {
            return Err(Error::Invalid("an embedding holds NaN or infinity".into()));
        }
        let norms = data.chunks_exact(dim).map(|r| dot(r, r)).collect();
        Ok(Self { dim, data, norms })
    }

    /// Points from rows (all of the same length).
    pub fn from_rows<R: AsRef<[f32]>>(rows: &[R]) -> Result<Self> {
        let dim = rows.first().map_or(1, |r| r.as_ref().len());
        let mut data = Vec::with_capacity(rows.len() * dim);
        for r in rows {
            if r.as_ref().len() != dim {
                return Err(Error::Invalid("embeddings of different dimensions".into()));
            }
            data.extend_from_slice(r.as_ref());
        }
        Self::new(dim, data)
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.norms.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.norms.is_empty()
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// The flat row-major buffer.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// The subset of rows `idx`, in that order.
    pub fn subset(&self, idx: &[usize]) -> Points {
        let mut data = Vec::with_capacity(idx.len() * self.dim);
        for &i in idx {
            data.extend_from_slice(self.row(i));
        }
        Points {
            dim: self.dim,
            norms: idx.iter().map(|&i| self.norms[i]).collect(),
            data,
        }
    }

    /// Euclidean distance between rows `i` and `j`, computed directly.
    pub fn dist(&self, i: usize, j: usize) -> f32 {
        dist(self.row(i), self.row(j))
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Squared Euclidean distance between two vectors.
pub fn dist2(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>()
}

/// Euclidean distance between two vectors.
pub fn dist(a: &[f32], b: &[f32]) -> f32 {
    dist2(a, b).sqrt()
}

/// For every point, its neighbours closer than `radius` (itself included, as DBSCAN counts it)
/// as `(index, distance)`, sorted by index. Strictly closer, as linfa's region queries.
pub type Neighbourhoods = Vec<Vec<(u32, f32)>>;

/// Rows per block: 256 x 128 f32 is 128 KB, which stays in L2 while a column block streams.
const BLOCK: usize = 256;

/// Columns per GEMM call: bounds the scratch matrix to 256 x 8192 f32 (8 MB) per thread.
const COLS: usize = 8192;

/// Exact radius neighbourhoods of all points (see the module doc).
pub fn radius_neighbours(p: &Points, radius: f32, cancel: &CancelToken) -> Result<Neighbourhoods> {
    let n = p.len();
    let nblocks = n.div_ceil(BLOCK);
    let r2 = radius * radius;
    // Pairs whose GEMM distance² is within this of r² are recomputed directly: f32 GEMM error
    // on 128-d vectors of norm ~1 is far below 1e-3.
    let slack = 1e-3 * (1.0 + r2);
    // Each block row pairs with itself and every later block: each pair is computed once.
    let found: Vec<Vec<(u32, u32, f32)>> = (0..nblocks)
        .into_par_iter()
        .map(|bi| {
            if cancel.is_cancelled() {
                return Vec::new();
            }
            let i0 = bi * BLOCK;
            let i1 = (i0 + BLOCK).min(n);
            let rows = i1 - i0;
            let mut g = vec![0.0f32; rows * COLS];
            let mut out = Vec::new();
            // Columns from this block's first row on, in chunks that keep `g` small.
            for j0 in (i0..n).step_by(COLS) {
                let cols = (n - j0).min(COLS);
                gemm_abt(p, i0, rows, j0, cols, &mut g[..rows * cols]);
                for a in 0..rows {
                    let i = i0 + a;
                    let gi = &g[a * cols..(a + 1) * cols];
                    for (c, &gij) in gi.iter().enumerate() {
                        let j = j0 + c;
                        // Each pair once, j > i; j == i is added for every point below.
                        if j <= i {
                            continue;
                        }
                        let d2 = p.norms[i] + p.norms[j] - 2.0 * gij;
                        if d2 < r2 + slack {
                            let d2 = if (d2 - r2).abs() <= slack {
                                dist2(p.row(i), p.row(j))
                            } else {
                                d2.max(0.0)
                            };
                            if d2 < r2 {
                                out.push((i as u32, j as u32, d2.sqrt()));
                            }
                        }
                    }
                }
            }
            out
        })
        .collect();
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    let mut lists: Neighbourhoods = (0..n).map(|i| vec![(i as u32, 0.0)]).collect();
    for block in found {
        for (i, j, d) in block {
            lists[i as usize].push((j, d));
            lists[j as usize].push((i, d));
        }
    }
    lists.par_iter_mut().for_each(|l| l.sort_by_key(|x| x.0));
    Ok(lists)
}

/// `g[rows x cols] = A[i0..i0+rows] · A[j0..j0+cols]ᵀ`.
fn gemm_abt(p: &Points, i0: usize, rows: usize, j0: usize, cols: usize, g: &mut [f32]) {
    let d = p.dim;
    let a = &p.data[i0 * d..(i0 + rows) * d];
    let b = &p.data[j0 * d..(j0 + cols) * d];
    debug_assert_eq!(g.len(), rows * cols);
    // SAFETY: `a` is rows x d row-major (row stride d, column stride 1); `b` read as its
    // transpose is d x cols (row stride 1, column stride d); `g` is rows x cols row-major. All
    // three slices hold exactly those elements, so every index sgemm touches is in bounds.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            d,
            cols,
            1.0,
            a.as_ptr(),
            d as isize,
            1,
            b.as_ptr(),
            1,
            d as isize,
            0.0,
            g.as_mut_ptr(),
            cols as isize,
            1,
        );
    }
}

/// For each query row of `q`, the points of `p` within `radius` as `(index in p, distance)`,
/// sorted by distance. Used to match new faces to existing people.
pub fn cross_radius(
    q: &Points,
    p: &Points,
    radius: f32,
    cancel: &CancelToken,
) -> Result<Neighbourhoods> {
    if q.dim != p.dim && !q.is_empty() && !p.is_empty() {
        return Err(Error::Invalid("embeddings of different dimensions".into()));
    }
    let r2 = radius * radius;
    let out: Neighbourhoods = (0..q.len())
        .into_par_iter()
        .map(|i| {
            if cancel.is_cancelled() {
                return Vec::new();
            }
            let mut v: Vec<(u32, f32)> = (0..p.len())
                .filter_map(|j| {
                    let d2 = dist2(q.row(i), p.row(j));
                    (d2 < r2).then_some((j as u32, d2.sqrt()))
                })
                .collect();
            v.sort_by(|a, b| a.1.total_cmp(&b.1));
            v
        })
        .collect();
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo_random(n: usize, d: usize, seed: u64) -> Points {
        let mut s = seed;
        let data = (0..n * d)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 0.2
            })
            .collect();
        Points::new(d, data).unwrap()
    }

    #[test]
    fn blocked_search_equals_direct_search() {
        // 600 points cross block boundaries (256) both ways.
        let p = pseudo_random(600, 16, 7);
        let r = 0.28;
        let got = radius_neighbours(&p, r, &CancelToken::new()).unwrap();
        let mut total = 0;
        for i in 0..p.len() {
            let want: Vec<u32> = (0..p.len())
                .filter(|&j| dist2(p.row(i), p.row(j)) < r * r)
                .map(|j| j as u32)
                .collect();
            let have: Vec<u32> = got[i].iter().map(|x| x.0).collect();
            assert_eq!(have, want, "point {i}");
            total += want.len();
        }
        assert!(total > 2 * p.len(), "test radius finds too few pairs");
    }

    #[test]
    fn cross_search_sorted_by_distance() {
        let p = pseudo_random(50, 8, 1);
        let q = p.subset(&[3, 9]);
        let got = cross_radius(&q, &p, 10.0, &CancelToken::new()).unwrap();
        assert_eq!(got[0][0], (3, 0.0));
        assert_eq!(got[1][0], (9, 0.0));
        assert!(got[0].windows(2).all(|w| w[0].1 <= w[1].1));
    }

    #[test]
    fn nan_is_refused() {
        assert!(Points::new(2, vec![0.0, f32::NAN]).is_err());
    }
}
