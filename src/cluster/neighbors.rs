//! Exact radius neighbourhoods by blocked brute force, both cores via rayon, each pair computed
//! once. Two ways to the same answer:
//! - where the CPU has AVX-512 VNNI, a one-byte pre-filter ([`int8`]): integer dot products of
//!   the quantised vectors at four times the f32 rate, a bound that never drops a true neighbour,
//!   then the exact f32 distance of every pair it passes;
//! - elsewhere `|a-b|² = |a|² + |b|² - 2a·b` with the dot products from an f32 GEMM on blocks
//!   (optionally on the leading principal components first); pairs near the radius are
//!   re-checked with the direct difference so that the answer does not depend on GEMM rounding.
//!
//! Either way DBSCAN's labels match a direct region query exactly. In 128 dimensions tree
//! indexes degenerate to a scan anyway; a GEMM scan runs near the machine's peak and needs no
//! tuning.

use rayon::prelude::*;

use super::int8;

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
        if dim == 0 || !data.len().is_multiple_of(dim) {
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

    /// Add rows at the end (a flat row-major buffer of this dimension).
    pub fn push_rows(&mut self, data: &[f32]) -> Result<()> {
        if !data.len().is_multiple_of(self.dim) {
            return Err(Error::Invalid(format!(
                "{} values do not make rows of dimension {}",
                data.len(),
                self.dim
            )));
        }
        if data.iter().any(|x| !x.is_finite()) {
            return Err(Error::Invalid("an embedding holds NaN or infinity".into()));
        }
        self.norms
            .extend(data.chunks_exact(self.dim).map(|r| dot(r, r)));
        self.data.extend_from_slice(data);
        Ok(())
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

/// Eight independent partial sums: a plain `.sum()` over f32 is one serial dependency chain
/// (the compiler may not reorder float additions), eight lanes let it use SIMD; measured ~6x
/// faster on the exact re-checks of the neighbour search.
#[inline]
fn lanes(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += f(x[k], y[k]);
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| f(*x, *y)).sum();
    acc.iter().sum::<f32>() + tail
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    lanes(a, b, |x, y| x * y)
}

/// Squared Euclidean distance between two vectors.
pub fn dist2(a: &[f32], b: &[f32]) -> f32 {
    lanes(a, b, |x, y| (x - y) * (x - y))
}

/// Euclidean distance between two vectors.
pub fn dist(a: &[f32], b: &[f32]) -> f32 {
    dist2(a, b).sqrt()
}

/// For every point, its neighbours closer than `radius` (itself included, as DBSCAN counts it)
/// as `(index, distance)`, sorted by index. Strictly closer, as linfa's region queries.
pub type Neighbourhoods = Vec<Vec<(u32, f32)>>;

/// Rows per block and columns per GEMM call (a 2 MB scratch matrix per thread). Each call packs
/// its columns again, so taller blocks pack less; the scratch matrix is scanned right after
/// the GEMM wrote it. Measured on 100k synthetic 192-d vectors (`benches/scale.sh`), search
/// seconds: 256 x 8192: 8.8; 256 x 1024: 7.6; 512 x 512: 5.6; 512 x 1024: 5.3; 1024 x 1024: 5.7;
/// 2048 x 256: 5.7.
const BLOCK: usize = 512;
const COLS: usize = 1024;

/// Below this many points the f32 search is as quick and quantising is not worth it.
const INT8_MIN_POINTS: usize = 2048;

/// Exact radius neighbourhoods of all points (see the module doc).
pub fn radius_neighbours(p: &Points, radius: f32, cancel: &CancelToken) -> Result<Neighbourhoods> {
    if radius.is_nan() || radius < 0.0 {
        return Err(Error::Invalid(format!("neighbour radius {radius}")));
    }
    if p.len() >= INT8_MIN_POINTS && p.dim <= int8::MAX_DIM && int8::available() {
        radius_int8(p, radius, cancel)
    } else {
        radius_f32(p, radius, cancel)
    }
}

/// [`radius_neighbours`] by f32 GEMM, with the principal-component pre-filter where the
/// vectors have few main directions.
fn radius_f32(p: &Points, radius: f32, cancel: &CancelToken) -> Result<Neighbourhoods> {
    let n = p.len();
    let nblocks = n.div_ceil(BLOCK);
    let r2 = radius * radius;
    // Pairs whose GEMM distance² is within this of r² are recomputed directly: f32 GEMM error
    // on 128-d vectors of norm ~1 is far below 1e-3.
    let slack = 1e-3 * (1.0 + r2);
    // In high dimension, a first pass on the leading principal components (a contraction, so
    // it never drops a true neighbour) costs a quarter of the GEMM; only pairs it keeps get the
    // exact distance. Without it, the GEMM runs on the full vectors.
    let head = if p.dim >= 4 * FILTER_MIN_DIM && n >= FILTER_MIN_POINTS {
        pca_head(p, p.dim / 4)
    } else {
        None
    };
    let q = head.as_ref().unwrap_or(p);
    // Each block row pairs with itself and every later block: each pair is computed once.
    let found: Vec<Vec<(u32, u32, f32)>> = (0..nblocks)
        .into_par_iter()
        // One scratch matrix per worker, not per block (fresh memory is zeroed by the kernel).
        .map_init(
            || vec![0.0f32; BLOCK * COLS],
            |g, bi| {
                if cancel.is_cancelled() {
                    return Vec::new();
                }
                let i0 = bi * BLOCK;
                let i1 = (i0 + BLOCK).min(n);
                let rows = i1 - i0;
                let mut out = Vec::new();
                // Columns from this block's first row on, in chunks that keep `g` small.
                for j0 in (i0..n).step_by(COLS) {
                    let cols = (n - j0).min(COLS);
                    gemm_abt(q, i0, rows, j0, cols, &mut g[..rows * cols]);
                    let nj = &q.norms[j0..j0 + cols];
                    for a in 0..rows {
                        let i = i0 + a;
                        let gi = &g[a * cols..(a + 1) * cols];
                        let ni = q.norms[i];
                        // Each pair once, j > i; j == i is added for every point below.
                        let skip = (i + 1).saturating_sub(j0).min(cols);
                        within(&gi[skip..], &nj[skip..], r2 + slack - ni, |c, gij| {
                            let j = j0 + skip + c;
                            let d2 = ni + nj[skip + c] - 2.0 * gij;
                            let d2 = if head.is_some() || (d2 - r2).abs() <= slack {
                                dist2(p.row(i), p.row(j))
                            } else {
                                d2.max(0.0)
                            };
                            if d2 < r2 {
                                out.push((i as u32, j as u32, d2.sqrt()));
                            }
                        });
                    }
                }
                out
            },
        )
        .collect();
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    Ok(assemble(n, found))
}

/// The neighbourhoods of `n` points from the pairs found (each once, `i < j`), each point
/// itself included, lists sorted by index.
fn assemble(n: usize, found: Vec<Vec<(u32, u32, f32)>>) -> Neighbourhoods {
    // Exact capacities: growing 2n vectors by doubling would waste up to half the memory.
    let mut degree = vec![1usize; n];
    for &(i, j, _) in found.iter().flatten() {
        degree[i as usize] += 1;
        degree[j as usize] += 1;
    }
    let mut lists: Neighbourhoods = (0..n)
        .map(|i| {
            let mut v = Vec::with_capacity(degree[i]);
            v.push((i as u32, 0.0));
            v
        })
        .collect();
    drop(degree);
    for block in found {
        for (i, j, d) in block {
            lists[i as usize].push((j, d));
            lists[j as usize].push((i, d));
        }
    }
    lists.par_iter_mut().for_each(|l| l.sort_by_key(|x| x.0));
    lists
}

/// Ask the CPU to bring `row` into cache ahead of use (a hint; nothing where unsupported).
#[inline]
fn prefetch(row: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    for line in row.chunks(16) {
        // SAFETY: a prefetch never faults and reads nothing into the program; the pointer is
        // in bounds anyway.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                line.as_ptr() as *const i8
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

/// [`radius_neighbours`] by the one-byte pre-filter ([`int8`]): the kernel passes every pair
/// that may be within the radius, the exact f32 distance decides.
fn radius_int8(p: &Points, radius: f32, cancel: &CancelToken) -> Result<Neighbourhoods> {
    let n = p.len();
    let q = int8::Quantised::new(&p.data, p.dim);
    let bound = q.bounds(radius);
    let r2 = radius * radius;
    // BLOCK and COLS are multiples of the kernel's tiles; each block row pairs with itself and
    // every later column, so each pair is tested once (`j > i`).
    let checked = std::sync::atomic::AtomicUsize::new(0);
    let found: Vec<Vec<(u32, u32, f32)>> = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|bi| {
            let mut out = Vec::new();
            if cancel.is_cancelled() {
                return out;
            }
            let mut passed = 0;
            let i0 = bi * BLOCK;
            let i1 = (i0 + BLOCK).min(n);
            // Column chunks small enough to stay in the core's L2 while the block's rows pass.
            // The kernel's hits are scattered over rows that are mostly not in cache: each is
            // prefetched when found and checked once the chunk is done.
            let mut pending: Vec<(u32, u32)> = Vec::new();
            for j0 in (i0..n).step_by(COLS) {
                q.scan(i0..i1, j0..(j0 + COLS).min(n), &bound, &mut |i, j| {
                    if j > i {
                        prefetch(p.row(j));
                        pending.push((i as u32, j as u32));
                    }
                });
                passed += pending.len();
                for (i, j) in pending.drain(..) {
                    let d2 = dist2(p.row(i as usize), p.row(j as usize));
                    if d2 < r2 {
                        out.push((i, j, d2.sqrt()));
                    }
                }
            }
            checked.fetch_add(passed, std::sync::atomic::Ordering::Relaxed);
            // Growth by doubling leaves up to half of each list unused until the lists are
            // assembled; at 100k faces that slack is ~100 MB of the peak.
            out.shrink_to_fit();
            out
        })
        .collect();
    drop((q, bound));
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    tracing::debug!(
        "int8 search: {} pairs checked exactly, {} within {radius}",
        checked.into_inner(),
        found.iter().map(Vec::len).sum::<usize>()
    );
    Ok(assemble(n, found))
}

/// Calls `hit(c, g[c])` for every column with `n[c] - 2·g[c] < t` (that is, for a row of norm
/// `nᵢ`, distance² below `t + nᵢ`). Almost no column is a hit, so each run of 16 columns is
/// first tested with a branch-free reduction the compiler turns into SIMD compares; measured
/// this scan was most of the search's time when written as one branchy loop (both searches use
/// it: matching 1,000 new faces against 1M went from 0.70–0.85 s to 0.55 s, `bench assign`).
#[inline]
fn within(g: &[f32], n: &[f32], t: f32, mut hit: impl FnMut(usize, f32)) {
    const RUN: usize = 16;
    let (gc, nc) = (g.chunks_exact(RUN), n.chunks_exact(RUN));
    let tail = gc.remainder().len();
    for (k, (gs, ns)) in gc.zip(nc).enumerate() {
        let mut any = false;
        for m in 0..RUN {
            any |= ns[m] - 2.0 * gs[m] < t;
        }
        if any {
            for m in 0..RUN {
                if ns[m] - 2.0 * gs[m] < t {
                    hit(k * RUN + m, gs[m]);
                }
            }
        }
    }
    let base = g.len() - tail;
    for m in base..g.len() {
        if n[m] - 2.0 * g[m] < t {
            hit(m, g[m]);
        }
    }
}

/// The neighbour pre-filter runs on a quarter of the dimensions, the leading principal
/// components: 32 of dlib's 128 keep ~80% of the variance (3.8% of LFW pairs pass at radius
/// 0.52, against 1.3% true neighbours); 48 of MobileFaceNet's 192 keep 93% (its vectors span
/// ~64 directions). On 100k synthetic MobileFaceNet-shaped vectors the search took 12.3 s with
/// 32, 7.0 s with 48 and 7.6 s with 64 (`benches/scale.sh`). Below 16 it is not worth it.
const FILTER_MIN_DIM: usize = 16;

/// The filter is used only where its components hold at least this share of the variance:
/// on isotropic vectors (a quarter of the dimensions hold a quarter of it) nearly every pair
/// passes, and the exact re-checks cost several times the plain GEMM.
const FILTER_MIN_VARIANCE: f64 = 0.6;

/// Below this many points the full GEMM is cheap enough.
const FILTER_MIN_POINTS: usize = 2048;

/// The points projected on their `k` leading principal components (centred), if those hold
/// `FILTER_MIN_VARIANCE` of the variance. Orthonormal projection: distances can only shrink.
/// The covariance comes from at most 8,192 evenly spread rows, which is plenty to find the
/// main directions.
fn pca_head(p: &Points, k: usize) -> Option<Points> {
    let (n, d) = (p.len(), p.dim);
    let step = n.div_ceil(8192).max(1);
    let rows: Vec<usize> = (0..n).step_by(step).collect();
    let mut mu = vec![0.0f64; d];
    for &i in &rows {
        for (m, &x) in mu.iter_mut().zip(p.row(i)) {
            *m += x as f64;
        }
    }
    mu.iter_mut().for_each(|m| *m /= rows.len() as f64);
    let mut cov = vec![0.0f64; d * d];
    for &i in &rows {
        let c: Vec<f64> = p
            .row(i)
            .iter()
            .zip(&mu)
            .map(|(&x, m)| x as f64 - m)
            .collect();
        for a in 0..d {
            let ca = c[a];
            for b in a..d {
                cov[a * d + b] += ca * c[b];
            }
        }
    }
    for a in 0..d {
        for b in 0..a {
            cov[a * d + b] = cov[b * d + a];
        }
    }
    let (vals, vecs) = jacobi_eigen(cov, d);
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| vals[b].total_cmp(&vals[a]));
    let total: f64 = vals.iter().map(|v| v.max(0.0)).sum();
    let kept: f64 = order[..k].iter().map(|&c| vals[c].max(0.0)).sum();
    if total <= 0.0 || kept < FILTER_MIN_VARIANCE * total {
        tracing::debug!(
            "no neighbour pre-filter: {k} of {d} components hold {:.2}",
            kept / total
        );
        return None;
    }
    // Projection matrix d x k (row-major), and the projected mean to subtract.
    let proj: Vec<f32> = (0..d)
        .flat_map(|r| order[..k].iter().map(move |&c| (r, c)))
        .map(|(r, c)| vecs[r * d + c] as f32)
        .collect();
    let mut out = vec![0.0f32; n * k];
    // SAFETY: data is n x d row-major, proj is d x k row-major, out is n x k row-major; each
    // slice holds exactly those elements.
    unsafe {
        matrixmultiply::sgemm(
            n,
            d,
            k,
            1.0,
            p.data.as_ptr(),
            d as isize,
            1,
            proj.as_ptr(),
            k as isize,
            1,
            0.0,
            out.as_mut_ptr(),
            k as isize,
            1,
        );
    }
    let mu_proj: Vec<f32> = (0..k)
        .map(|c| (0..d).map(|r| mu[r] * proj[r * k + c] as f64).sum::<f64>() as f32)
        .collect();
    for row in out.chunks_exact_mut(k) {
        for (x, m) in row.iter_mut().zip(&mu_proj) {
            *x -= m;
        }
    }
    let norms = out.chunks_exact(k).map(|r| dot(r, r)).collect();
    Some(Points {
        dim: k,
        data: out,
        norms,
    })
}

/// Eigen-decomposition of a symmetric `n x n` matrix (row-major) by cyclic Jacobi rotations:
/// `(eigenvalues, eigenvectors as columns)`. Rotations keep the vectors orthonormal, which is
/// what the pre-filter's exactness rests on; the values only need to be roughly right.
fn jacobi_eigen(mut a: Vec<f64>, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0f64; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let total: f64 = a.iter().map(|x| x * x).sum::<f64>().max(f64::MIN_POSITIVE);
    for _sweep in 0..50 {
        let off: f64 = (0..n)
            .flat_map(|p| (p + 1..n).map(move |q| (p, q)))
            .map(|(p, q)| a[p * n + q] * a[p * n + q])
            .sum();
        if off <= 1e-22 * total {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() <= 1e-300 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

/// `g[rows x cols] = A[i0..i0+rows] · A[j0..j0+cols]ᵀ`.
fn gemm_abt(p: &Points, i0: usize, rows: usize, j0: usize, cols: usize, g: &mut [f32]) {
    gemm_cross(p, i0, rows, p, j0, cols, g)
}

/// `g[rows x cols] = P[i0..i0+rows] · Q[j0..j0+cols]ᵀ` (same dimension).
fn gemm_cross(
    p: &Points,
    i0: usize,
    rows: usize,
    q: &Points,
    j0: usize,
    cols: usize,
    g: &mut [f32],
) {
    let d = p.dim;
    let a = &p.data[i0 * d..(i0 + rows) * d];
    let b = &q.data[j0 * d..(j0 + cols) * d];
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
    let slack = 1e-3 * (1.0 + r2);
    // Blocks of query rows against column chunks of `p`, by GEMM; candidates near or inside
    // the radius get the exact distance (see `radius_neighbours`).
    let out: Neighbourhoods = (0..q.len().div_ceil(BLOCK))
        .into_par_iter()
        .flat_map_iter(|bi| {
            let i0 = bi * BLOCK;
            let rows = (q.len() - i0).min(BLOCK);
            let mut lists: Neighbourhoods = vec![Vec::new(); rows];
            if cancel.is_cancelled() {
                return lists;
            }
            let mut g = vec![0.0f32; rows * COLS];
            for j0 in (0..p.len()).step_by(COLS) {
                let cols = (p.len() - j0).min(COLS);
                gemm_cross(q, i0, rows, p, j0, cols, &mut g[..rows * cols]);
                for (a, list) in lists.iter_mut().enumerate() {
                    let ni = q.norms[i0 + a];
                    let gi = &g[a * cols..(a + 1) * cols];
                    within(gi, &p.norms[j0..j0 + cols], r2 + slack - ni, |c, _| {
                        let d2 = dist2(q.row(i0 + a), p.row(j0 + c));
                        if d2 < r2 {
                            list.push(((j0 + c) as u32, d2.sqrt()));
                        }
                    });
                }
            }
            for l in &mut lists {
                l.sort_by(|a, b| a.1.total_cmp(&b.1));
            }
            lists
        })
        .collect();
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    Ok(out)
}

#[cfg(test)]
#[path = "neighbors_tests.rs"]
mod tests;
