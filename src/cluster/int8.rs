//! The one-byte pre-filter of the radius search: every vector quantised to int8 with its own
//! scale (`x ≈ s·q`, `|q| ≤ 127`, as the store keeps them), all pairs' dot products by AVX-512
//! VNNI (64 byte products per instruction, 4× the f32 FMA rate), and a pair passed on only if its
//! quantised distance is within the radius plus both vectors' quantisation errors.
//!
//! Why that never drops a true neighbour: with `x = x̂ + eₓ` and `y = ŷ + e_y`,
//! `|x − y| ≥ |x̂ − ŷ| − |eₓ| − |e_y|` (triangle inequality), so `|x − y| < r` implies
//! `|x̂ − ŷ| < r + |eₓ| + |e_y|`. The integer dot products are exact; the float arithmetic around
//! them gets a slack far above its rounding. The caller checks every passed pair with the exact
//! f32 distance, so the answer is the same as a direct scan's.
//!
//! Only where the CPU has AVX-512 VNNI (`available`); elsewhere the f32 GEMM path runs.

/// Rows per register tile (each row's four bytes are broadcast against the column panels).
pub const TILE_ROWS: usize = 8;
/// Columns per packed panel (one 512-bit register of 16 i32 lanes).
const PANEL: usize = 16;
/// Column panels per register tile: 8 rows × 2 panels = 16 accumulators of 32 registers.
const TILE_PANELS: usize = 2;
/// Columns per register tile.
pub const TILE_COLS: usize = PANEL * TILE_PANELS;

/// Whether this CPU runs the int8 kernel.
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Largest dimension the kernel takes: integer dot products up to 127² · 1024 stay below 2²⁴,
/// so their conversion to f32 is exact (the scaling after it rounds; `bounds` has the slack).
pub const MAX_DIM: usize = 1024;

/// Points quantised for the kernel: rows as unsigned bytes (`q + 128`, the side VNNI takes
/// unsigned) and as column panels of signed bytes, with the per-row numbers the test needs.
pub struct Quantised {
    /// Real rows.
    n: usize,
    /// Dimension rounded up to a multiple of 4 (VNNI multiplies bytes in fours).
    dim4: usize,
    /// `(q + 128)`, rows padded to a multiple of `TILE_ROWS`, row-major `dim4` wide.
    unsigned: Vec<u8>,
    /// `q` in panels of 16 columns: `[panel][k/4][lane][k%4]`; columns padded to `TILE_COLS`.
    packed: Vec<i8>,
    /// Per column: `128·Σq` (what the `+128` of the unsigned side adds to a dot product).
    bias: Vec<i32>,
    /// Per row: scale `s`.
    scale: Vec<f32>,
    /// Per row: `|s·q|²`; padded columns `+∞` so they never pass.
    norm: Vec<f32>,
    /// Per row: `|x − s·q|`, the quantisation error.
    err: Vec<f32>,
}

impl Quantised {
    /// Quantise `n` rows of `dim` values (row-major).
    pub fn new(data: &[f32], dim: usize) -> Self {
        let n = data.len() / dim.max(1);
        let dim4 = dim.div_ceil(4) * 4;
        let rows = n.div_ceil(TILE_ROWS) * TILE_ROWS;
        let cols = n.div_ceil(TILE_COLS) * TILE_COLS;
        let mut unsigned = vec![128u8; rows * dim4];
        let mut packed = vec![0i8; cols * dim4];
        let mut bias = vec![0i32; cols];
        let mut scale = vec![0.0f32; cols];
        let mut norm = vec![f32::INFINITY; cols];
        let mut err = vec![0.0f32; cols];
        let k4 = dim4 / 4;
        for (i, x) in data.chunks_exact(dim).enumerate() {
            let m = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let s = if m > 0.0 { m / 127.0 } else { 1.0 };
            let (mut qq, mut sum, mut e2) = (0i64, 0i64, 0.0f64);
            let (panel, lane) = (i / PANEL, i % PANEL);
            for (k, &v) in x.iter().enumerate() {
                let q = (v / s).round().clamp(-127.0, 127.0) as i8;
                unsigned[i * dim4 + k] = (q as i16 + 128) as u8;
                packed[(panel * k4 + k / 4) * PANEL * 4 + lane * 4 + k % 4] = q;
                qq += q as i64 * q as i64;
                sum += q as i64;
                let e = v as f64 - s as f64 * q as f64;
                e2 += e * e;
            }
            bias[i] = 128 * sum as i32;
            scale[i] = s;
            norm[i] = (s as f64 * s as f64 * qq as f64) as f32;
            err[i] = e2.sqrt() as f32;
        }
        Self {
            n,
            dim4,
            unsigned,
            packed,
            bias,
            scale,
            norm,
            err,
        }
    }

    /// The largest quantisation error of any row.
    pub fn max_err(&self) -> f32 {
        self.err.iter().copied().fold(0.0, f32::max)
    }

    /// The per-row bound of the test: row `i` passes a column `j` when
    /// `norm[j] − 2·s_i·s_j·(q_i·q_j) < bound(i)`, that is when the quantised distance is below
    /// `r + err_i + max_err` (plus rounding slack). Padded rows get `−∞`.
    pub fn bounds(&self, radius: f32) -> Vec<f32> {
        let e_max = self.max_err();
        let rows = self.n.div_ceil(TILE_ROWS) * TILE_ROWS;
        (0..rows)
            .map(|i| {
                if i >= self.n {
                    return f32::NEG_INFINITY;
                }
                let reach = (radius + self.err[i] + e_max) as f64;
                let r2 = reach * reach;
                // The f32 evaluation of norms and products errs by ~1e-6 of the norms.
                let slack = 1e-4 * (1.0 + r2 + self.norm[i] as f64);
                (r2 + slack - self.norm[i] as f64) as f32
            })
            .collect()
    }

    /// Call `hit(i, j)` for every row `i` in `rows` and column `j` in `cols` whose quantised
    /// distance passes `bound[i]`. `rows.start` must be a multiple of `TILE_ROWS` and
    /// `cols.start` of `TILE_COLS` (ranges ending elsewhere cost whole tiles).
    pub fn scan(
        &self,
        rows: std::ops::Range<usize>,
        cols: std::ops::Range<usize>,
        bound: &[f32],
        hit: &mut impl FnMut(usize, usize),
    ) {
        assert!(rows.start.is_multiple_of(TILE_ROWS) && cols.start.is_multiple_of(TILE_COLS));
        assert!(self.dim4 <= MAX_DIM && available());
        let (re, ce) = (rows.end.min(self.n), cols.end.min(self.n));
        let r1 = re.div_ceil(TILE_ROWS) * TILE_ROWS;
        let c1 = ce.div_ceil(TILE_COLS) * TILE_COLS;
        // Tiles overhanging the ranges report only what lies inside.
        let mut inside = |i: usize, j: usize| {
            if i < re && j < ce {
                hit(i, j)
            }
        };
        #[cfg(target_arch = "x86_64")]
        for i in (rows.start..r1).step_by(TILE_ROWS) {
            for j in (cols.start..c1).step_by(TILE_COLS) {
                // SAFETY: `available()` was checked above; `i` and `j` are tile-aligned and
                // below the padded row and column counts, which `tile_avx512` reads within.
                unsafe { self.tile_avx512(i, j, bound, &mut inside) };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (r1, c1, bound, &mut inside);
    }

    /// The same test in plain integer arithmetic, one pair at a time: the kernel's reference
    /// in tests.
    pub fn scan_scalar(
        &self,
        rows: std::ops::Range<usize>,
        cols: std::ops::Range<usize>,
        bound: &[f32],
        hit: &mut impl FnMut(usize, usize),
    ) {
        let k4 = self.dim4 / 4;
        let rows_start = rows.start;
        let rows = bound.iter().enumerate().take(rows.end.min(self.n));
        for (i, &bi) in rows.skip(rows_start) {
            let u = &self.unsigned[i * self.dim4..(i + 1) * self.dim4];
            for j in cols.start..cols.end.min(self.n) {
                let (panel, lane) = (j / PANEL, j % PANEL);
                let mut acc = 0i32;
                for (k, &a) in u.iter().enumerate() {
                    let b = self.packed[(panel * k4 + k / 4) * PANEL * 4 + lane * 4 + k % 4];
                    acc += a as i32 * b as i32;
                }
                let g = (acc - self.bias[j]) as f32 * self.scale[j];
                // Fused as the kernel's `fnmadd`, so both round alike.
                if (-2.0 * self.scale[i]).mul_add(g, self.norm[j]) < bi {
                    hit(i, j);
                }
            }
        }
    }

    /// One register tile: rows `i..i+8` against columns `j..j+32`.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512vnni")]
    unsafe fn tile_avx512(
        &self,
        i: usize,
        j: usize,
        bound: &[f32],
        hit: &mut impl FnMut(usize, usize),
    ) {
        use std::arch::x86_64::*;
        let k4 = self.dim4 / 4;
        let mut acc = [[_mm512_setzero_si512(); TILE_PANELS]; TILE_ROWS];
        let a = self.unsigned.as_ptr().add(i * self.dim4);
        let panel0 = j / PANEL;
        let b = self.packed.as_ptr().add(panel0 * k4 * PANEL * 4);
        for k in 0..k4 {
            let mut bv = [_mm512_setzero_si512(); TILE_PANELS];
            for (p, v) in bv.iter_mut().enumerate() {
                *v = _mm512_loadu_si512(b.add((p * k4 + k) * PANEL * 4) as *const _);
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let av = _mm512_set1_epi32(
                    (a.add(r * self.dim4 + 4 * k) as *const i32).read_unaligned(),
                );
                for (p, x) in row.iter_mut().enumerate() {
                    *x = _mm512_dpbusd_epi32(*x, av, bv[p]);
                }
            }
        }
        for p in 0..TILE_PANELS {
            let c = j + p * PANEL;
            let bias = _mm512_loadu_si512(self.bias.as_ptr().add(c) as *const _);
            let sj = _mm512_loadu_ps(self.scale.as_ptr().add(c));
            let nj = _mm512_loadu_ps(self.norm.as_ptr().add(c));
            for (r, row) in acc.iter().enumerate() {
                let g = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(row[p], bias)), sj);
                let two_si = _mm512_set1_ps(2.0 * *self.scale.get_unchecked(i + r));
                let lhs = _mm512_fnmadd_ps(two_si, g, nj);
                let mut mask =
                    _mm512_cmp_ps_mask::<_CMP_LT_OQ>(lhs, _mm512_set1_ps(bound[i + r])) as u32;
                while mask != 0 {
                    let lane = mask.trailing_zeros() as usize;
                    hit(i + r, c + lane);
                    mask &= mask - 1;
                }
            }
        }
    }
}
