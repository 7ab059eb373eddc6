//! Harmonic embeddings (FaceNet §5): a linear map from one model's space into another's, so faces
//! that can no longer be re-embedded (their photo is gone) still get a vector in the new space.
//! Fitted by ridge least squares on the faces that have both vectors; judged by how often the
//! same-person decision with one side mapped agrees with the decision on two real vectors.
//! Pure: no database, no model.

use crate::vision::embed;

/// Ridge penalty relative to the mean diagonal of `XᵀX`: keeps the solve stable when a library
/// has barely more faces than dimensions, and is negligible with thousands.
const RIDGE: f64 = 1e-4;

/// A fitted map `y = [x, 1] · M` (`M` is `(d_in + 1) × d_out`, row-major; the last row is the
/// bias). With `unit_output`, mapped vectors are scaled to unit length (cosine targets).
#[derive(Debug, Clone, PartialEq)]
pub struct LinearMap {
    pub d_in: usize,
    pub d_out: usize,
    pub matrix: Vec<f32>,
    pub unit_output: bool,
}

impl LinearMap {
    /// Fit on pairs `(x, y)`; `None` if there are too few pairs for the dimension (fewer than
    /// `d_in + 1`) or the system is singular.
    pub fn fit(xs: &[&[f32]], ys: &[&[f32]], unit_output: bool) -> Option<Self> {
        let n = xs.len().min(ys.len());
        let d_in = xs.first()?.len();
        let d_out = ys.first()?.len();
        let k = d_in + 1;
        if n < k {
            return None;
        }
        // Normal equations: (XᵀX + λI) M = XᵀY, in f64.
        let mut a = vec![0.0f64; k * k];
        let mut b = vec![0.0f64; k * d_out];
        let mut row = vec![0.0f64; k];
        for (x, y) in xs.iter().zip(ys).take(n) {
            for (r, v) in row.iter_mut().zip(x.iter()) {
                *r = *v as f64;
            }
            row[d_in] = 1.0;
            for i in 0..k {
                let ri = row[i];
                if ri == 0.0 {
                    continue;
                }
                for j in i..k {
                    a[i * k + j] += ri * row[j];
                }
                for (o, yv) in y.iter().enumerate() {
                    b[i * d_out + o] += ri * *yv as f64;
                }
            }
        }
        for i in 0..k {
            for j in 0..i {
                a[i * k + j] = a[j * k + i];
            }
        }
        let mean_diag = (0..k).map(|i| a[i * k + i]).sum::<f64>() / k as f64;
        for i in 0..d_in {
            a[i * k + i] += RIDGE * mean_diag;
        }
        let l = cholesky(&a, k)?;
        let m = cholesky_solve(&l, k, &b, d_out);
        Some(Self {
            d_in,
            d_out,
            matrix: m.into_iter().map(|v| v as f32).collect(),
            unit_output,
        })
    }

    /// Map one vector.
    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        let mut y: Vec<f32> = self.matrix[self.d_in * self.d_out..].to_vec();
        for (i, xv) in x.iter().enumerate().take(self.d_in) {
            let r = &self.matrix[i * self.d_out..(i + 1) * self.d_out];
            for (o, m) in y.iter_mut().zip(r) {
                *o += xv * m;
            }
        }
        if self.unit_output {
            embed::normalize(&mut y);
        }
        y
    }
}

/// Lower-triangular `L` with `L·Lᵀ = A` (`A` symmetric positive definite, `k × k`).
fn cholesky(a: &[f64], k: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0f64; k * k];
    for i in 0..k {
        for j in 0..=i {
            let mut s = a[i * k + j];
            for p in 0..j {
                s -= l[i * k + p] * l[j * k + p];
            }
            if i == j {
                if s <= 0.0 {
                    return None;
                }
                l[i * k + i] = s.sqrt();
            } else {
                l[i * k + j] = s / l[j * k + j];
            }
        }
    }
    Some(l)
}

/// Solve `L·Lᵀ·X = B` for `X` (`k × m`).
fn cholesky_solve(l: &[f64], k: usize, b: &[f64], m: usize) -> Vec<f64> {
    let mut x = b.to_vec();
    for c in 0..m {
        for i in 0..k {
            let mut s = x[i * m + c];
            for p in 0..i {
                s -= l[i * k + p] * x[p * m + c];
            }
            x[i * m + c] = s / l[i * k + i];
        }
        for i in (0..k).rev() {
            let mut s = x[i * m + c];
            for p in i + 1..k {
                s -= l[p * k + i] * x[p * m + c];
            }
            x[i * m + c] = s / l[i * k + i];
        }
    }
    x
}

/// How well a map stands in for real vectors, without labels: over held-out faces, the share
/// of pairs whose same-person decision (distance < `threshold` in the target space) with one
/// side mapped equals the decision with both sides real. Pairs are balanced like LFW's: every
/// pair the real vectors call "same", and as many "different" pairs spread evenly over all of
/// them. `None` without any "same" pair.
pub fn agreement(
    map: &LinearMap,
    held_x: &[&[f32]],
    held_y: &[&[f32]],
    threshold: f32,
) -> Option<f64> {
    let n = held_x.len().min(held_y.len());
    let mapped: Vec<Vec<f32>> = held_x.iter().take(n).map(|x| map.apply(x)).collect();
    let mut same: Vec<(usize, usize)> = vec![];
    let mut diff: Vec<(f32, usize, usize)> = vec![];
    for i in 0..n {
        for j in i + 1..n {
            let d = embed::distance(held_y[i], held_y[j]);
            if d < threshold {
                same.push((i, j));
            } else {
                diff.push((d, i, j));
            }
        }
    }
    if same.is_empty() {
        return None;
    }
    let stride = (diff.len() / same.len()).max(1);
    let diff: Vec<(f32, usize, usize)> =
        diff.into_iter().step_by(stride).take(same.len()).collect();
    let mut agree = 0usize;
    let total = same.len() + diff.len();
    for &(i, j) in &same {
        agree += usize::from(embed::distance(&mapped[i], held_y[j]) < threshold);
    }
    for &(_, i, j) in &diff {
        agree += usize::from(embed::distance(&mapped[i], held_y[j]) >= threshold);
    }
    Some(agree as f64 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_known_affine_map() {
        // y = A x + c with a 3→2 map, from 20 exact samples.
        let a = [[1.0f32, -2.0, 0.5], [0.25, 0.0, 3.0]];
        let c = [0.1f32, -0.3];
        let xs: Vec<Vec<f32>> = (0..20)
            .map(|i| {
                let t = i as f32;
                vec![(t * 0.37).sin(), (t * 0.71).cos(), t / 20.0]
            })
            .collect();
        let ys: Vec<Vec<f32>> = xs
            .iter()
            .map(|x| {
                (0..2)
                    .map(|o| a[o].iter().zip(x).map(|(m, v)| m * v).sum::<f32>() + c[o])
                    .collect()
            })
            .collect();
        let xr: Vec<&[f32]> = xs.iter().map(|v| v.as_slice()).collect();
        let yr: Vec<&[f32]> = ys.iter().map(|v| v.as_slice()).collect();
        let m = LinearMap::fit(&xr, &yr, false).unwrap();
        for (x, y) in xs.iter().zip(&ys) {
            let p = m.apply(x);
            assert!(embed::distance(&p, y) < 1e-2, "{p:?} vs {y:?}");
        }
        // Too few samples for the dimension: no map.
        assert!(LinearMap::fit(&xr[..3], &yr[..3], false).is_none());
    }

    #[test]
    fn agreement_is_one_for_an_exact_map_and_low_for_a_wrong_one() {
        let xs: Vec<Vec<f32>> = (0..40)
            .map(|i| {
                let g = (i / 4) as f32;
                vec![g, (i % 4) as f32 * 0.01]
            })
            .collect();
        let xr: Vec<&[f32]> = xs.iter().map(|v| v.as_slice()).collect();
        let id = LinearMap {
            d_in: 2,
            d_out: 2,
            matrix: vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
            unit_output: false,
        };
        assert_eq!(agreement(&id, &xr, &xr, 0.5), Some(1.0));
        let shifted = LinearMap {
            matrix: vec![1.0, 0.0, 0.0, 1.0, 3.0, 0.0],
            ..id
        };
        assert!(agreement(&shifted, &xr, &xr, 0.5).unwrap() <= 0.75);
    }
}
