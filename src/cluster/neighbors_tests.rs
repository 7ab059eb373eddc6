//! Tests of the neighbour search: blocked and filtered search equal a direct scan.

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
    for (i, list) in got.iter().enumerate() {
        let want: Vec<u32> = (0..p.len())
            .filter(|&j| dist2(p.row(i), p.row(j)) < r * r)
            .map(|j| j as u32)
            .collect();
        let have: Vec<u32> = list.iter().map(|x| x.0).collect();
        assert_eq!(have, want, "point {i}");
        total += want.len();
    }
    assert!(total > 2 * p.len(), "test radius finds too few pairs");
}

#[test]
fn filtered_search_in_128_dimensions_is_exact() {
    // Enough points to take the principal-component pre-filter, with real structure: 70
    // tight groups along random directions.
    let p = grouped(2100, 128, 70, 3);
    let r = 0.5;
    let got = radius_f32(&p, r, &CancelToken::new()).unwrap();
    let total = assert_exact(&p, &got, r, 11);
    assert!(total > 3 * 191, "test radius finds too few pairs: {total}");
}

#[test]
fn jacobi_diagonalises() {
    let a = vec![4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 1.0];
    let (vals, v) = jacobi_eigen(a.clone(), 3);
    for c in 0..3 {
        // A v = lambda v
        for r in 0..3 {
            let av: f64 = (0..3).map(|k| a[r * 3 + k] * v[k * 3 + c]).sum();
            assert!((av - vals[c] * v[r * 3 + c]).abs() < 1e-9);
        }
    }
}

#[test]
fn cross_search_sorted_by_distance() {
    let p = pseudo_random(50, 8, 1);
    let q = p.subset(&[3, 9]);
    let got = cross_radius(&q, &p, 10.0, &CancelToken::new()).unwrap();
    assert_eq!(got[0][0], (3, 0.0));
    assert_eq!(got[1][0], (9, 0.0));
    assert!(got[0].windows(2).all(|w| w[0].1 <= w[1].1));
    // Against a direct scan, across block and chunk boundaries.
    let p = pseudo_random(700, 16, 5);
    let q = pseudo_random(300, 16, 6);
    let got = cross_radius(&q, &p, 0.3, &CancelToken::new()).unwrap();
    for (i, list) in got.iter().enumerate() {
        let mut have: Vec<u32> = list.iter().map(|x| x.0).collect();
        have.sort();
        let want: Vec<u32> = (0..p.len())
            .filter(|&j| dist2(q.row(i), p.row(j)) < 0.09)
            .map(|j| j as u32)
            .collect();
        assert_eq!(have, want, "query {i}");
    }
    assert!(got.iter().map(Vec::len).sum::<usize>() > 300);
}

#[test]
fn nan_is_refused() {
    assert!(Points::new(2, vec![0.0, f32::NAN]).is_err());
}

/// Points in `groups` tight clusters along random directions (like faces of people), `d`-dim.
fn grouped(n: usize, d: usize, groups: usize, seed: u64) -> Points {
    let noise = pseudo_random(n, d, seed);
    let dirs = pseudo_random(groups, d, seed + 1);
    let data: Vec<f32> = (0..n)
        .flat_map(|i| {
            let (nr, dr) = (noise.row(i).to_vec(), dirs.row(i % groups).to_vec());
            nr.into_iter().zip(dr).map(|(a, b)| a * 0.5 + b * 4.0)
        })
        .collect();
    Points::new(d, data).unwrap()
}

fn assert_exact(p: &Points, got: &Neighbourhoods, r: f32, step: usize) -> usize {
    let mut total = 0;
    for i in (0..p.len()).step_by(step) {
        let want: Vec<u32> = (0..p.len())
            .filter(|&j| dist2(p.row(i), p.row(j)) < r * r)
            .map(|j| j as u32)
            .collect();
        let have: Vec<u32> = got[i].iter().map(|x| x.0).collect();
        assert_eq!(have, want, "point {i}");
        total += want.len();
    }
    total
}

#[test]
fn both_searches_are_exact_in_192_dimensions() {
    let p = grouped(2300, 192, 60, 11);
    let r = 0.7;
    let f = radius_f32(&p, r, &CancelToken::new()).unwrap();
    assert!(
        assert_exact(&p, &f, r, 7) > 3 * 329,
        "test radius finds too few pairs"
    );
    if int8::available() {
        let q = radius_int8(&p, r, &CancelToken::new()).unwrap();
        assert_exact(&p, &q, r, 7);
        // Same pairs, and distances equal to the f32 search's up to its GEMM rounding.
        for (a, b) in f.iter().zip(&q) {
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(b) {
                assert_eq!(x.0, y.0);
                assert!((x.1 - y.1).abs() < 1e-3, "{x:?} {y:?}");
            }
        }
    } else {
        eprintln!("no AVX-512 VNNI on this CPU: the int8 search is not exercised");
    }
}

#[test]
fn int8_search_keeps_pairs_at_the_radius() {
    // Pairs placed at 0.999 and 1.001 of the radius from each other: quantisation moves
    // distances by more than that, so only the error bound keeps the inside ones.
    if !int8::available() {
        eprintln!("no AVX-512 VNNI on this CPU: the int8 search is not exercised");
        return;
    }
    let (n, d, r) = (2400, 128, 0.5f32);
    let base = pseudo_random(n / 2, d, 21);
    let step = pseudo_random(n / 2, d, 22);
    let mut data = Vec::with_capacity(n * d);
    for i in 0..n / 2 {
        let (a, s) = (base.row(i), step.row(i));
        let len = dist(s, &vec![0.0; d]);
        let k = if i % 2 == 0 { 0.999 } else { 1.001 } * r / len;
        // Spread the pairs apart so they do not meet each other.
        data.extend(a.iter().map(|x| x * 40.0));
        data.extend(a.iter().zip(s).map(|(x, y)| x * 40.0 + y * k));
    }
    let p = Points::new(d, data).unwrap();
    let got = radius_int8(&p, r, &CancelToken::new()).unwrap();
    let inside = assert_exact(&p, &got, r, 1);
    // Every point itself, plus both ends of each inside pair.
    assert!(inside > n + n / 3, "too few pairs inside: {inside}");
}

#[test]
fn int8_kernel_equals_its_scalar_reference() {
    if !int8::available() {
        eprintln!("no AVX-512 VNNI on this CPU: the int8 kernel is not exercised");
        return;
    }
    // An odd dimension (padded to a multiple of 4) and a row count off the tile sizes.
    let p = grouped(203, 37, 9, 31);
    let q = int8::Quantised::new(p.as_slice(), p.dim());
    let bound = q.bounds(0.6);
    let (mut simd, mut scalar) = (Vec::new(), Vec::new());
    q.scan(0..203, 0..203, &bound, &mut |i, j| simd.push((i, j)));
    q.scan_scalar(0..203, 0..203, &bound, &mut |i, j| scalar.push((i, j)));
    simd.sort();
    assert_eq!(simd, scalar);
    assert!(simd.len() > 203 * 3, "too few pairs pass: {}", simd.len());
    // A window that starts off zero.
    let (mut simd, mut scalar) = (Vec::new(), Vec::new());
    q.scan(64..100, 96..203, &bound, &mut |i, j| simd.push((i, j)));
    q.scan_scalar(64..100, 96..203, &bound, &mut |i, j| scalar.push((i, j)));
    simd.sort();
    assert_eq!(simd, scalar);
}

#[test]
fn int8_bound_passes_every_true_neighbour_and_filters() {
    // The filter's arithmetic in its scalar form runs on every CPU: quantised vectors with real
    // error (not in stored form), every pair within the radius must pass, and most pairs
    // must not.
    let p = grouped(600, 37, 20, 41);
    let r = 0.6;
    let q = int8::Quantised::new(p.as_slice(), p.dim());
    let bound = q.bounds(r);
    let mut passed = std::collections::HashSet::new();
    q.scan_scalar(0..600, 0..600, &bound, &mut |i, j| {
        passed.insert((i, j));
    });
    let mut inside = 0;
    for i in 0..600 {
        for j in 0..600 {
            if dist2(p.row(i), p.row(j)) < r * r {
                inside += 1;
                assert!(passed.contains(&(i, j)), "true neighbours {i}, {j} dropped");
            }
        }
    }
    assert!(
        inside > 3 * 600,
        "test radius finds too few pairs: {inside}"
    );
    assert!(
        passed.len() < 600 * 600 / 4,
        "the bound filters nothing: {}",
        passed.len()
    );
}
