//! Average-linkage agglomeration with cannot-link constraints, cut at a distance threshold.
//!
//! Why: DBSCAN chains look-alike faces through density paths (single linkage); average linkage
//! only merges two groups when their faces are close *on average*, which is what keeps two
//! siblings apart. It runs inside each DBSCAN cluster, so its O(m²) matrix stays small.
//!
//! Algorithm: nearest-neighbour chain (O(m²) time, one m×m matrix), valid because average
//! linkage is reducible. A cannot-link makes a distance infinite, and the Lance–Williams update
//! of average linkage keeps it infinite (a group containing a face that must not meet another
//! group never meets it); reducibility still holds, so the chain stays exact. A group whose
//! nearest neighbour is beyond the threshold can never merge again (reducibility), so it leaves.

use super::neighbors::{dist2, Points};

/// Merge `init` groups of rows of `p` (must-link groups, or single rows) by average linkage
/// while the closest pair of groups is at most `threshold` apart on average, never merging
/// two groups joined by a pair in `cannot` (row indices of `p`). Returns the final groups.
pub fn average_linkage(
    p: &Points,
    init: Vec<Vec<usize>>,
    cannot: &[(usize, usize)],
    threshold: f32,
) -> Vec<Vec<usize>> {
    let m = init.len();
    if m <= 1 {
        return init;
    }
    let mut group_of = vec![usize::MAX; p.len()];
    for (g, members) in init.iter().enumerate() {
        for &i in members {
            group_of[i] = g;
        }
    }
    // Group-level average distances, from sums over member pairs.
    let mut d = vec![0.0f32; m * m];
    let mut sums = vec![0.0f64; m * m];
    let rows: Vec<usize> = (0..p.len())
        .filter(|&i| group_of[i] != usize::MAX)
        .collect();
    for (k, &i) in rows.iter().enumerate() {
        for &j in &rows[k + 1..] {
            let (gi, gj) = (group_of[i], group_of[j]);
            if gi != gj {
                let x = dist2(p.row(i), p.row(j)).sqrt() as f64;
                sums[gi * m + gj] += x;
                sums[gj * m + gi] += x;
            }
        }
    }
    let mut size: Vec<usize> = init.iter().map(Vec::len).collect();
    for a in 0..m {
        for b in 0..m {
            if a != b {
                d[a * m + b] = (sums[a * m + b] / (size[a] * size[b]).max(1) as f64) as f32;
            }
        }
    }
    drop(sums);
    for &(i, j) in cannot {
        let (gi, gj) = (group_of[i], group_of[j]);
        if gi != usize::MAX && gj != usize::MAX && gi != gj {
            d[gi * m + gj] = f32::INFINITY;
            d[gj * m + gi] = f32::INFINITY;
        }
    }

    let mut members = init;
    let mut active = vec![true; m];
    let mut chain: Vec<usize> = Vec::new();
    let mut next_start = 0;
    loop {
        if chain.is_empty() {
            while next_start < m && !active[next_start] {
                next_start += 1;
            }
            if next_start == m {
                break;
            }
            chain.push(next_start);
        }
        let a = chain[chain.len() - 1];
        let prev = (chain.len() >= 2).then(|| chain[chain.len() - 2]);
        // Prefer the previous chain element on ties, so the chain cannot cycle.
        let mut best = prev.map(|b| (d[a * m + b], b));
        for c in (0..m).filter(|&c| c != a && active[c]) {
            let x = d[a * m + c];
            if best.is_none_or(|(bx, _)| x < bx) {
                best = Some((x, c));
            }
        }
        match best {
            Some((x, b)) if x <= threshold => {
                if Some(b) == prev {
                    chain.truncate(chain.len() - 2);
                    // Lance–Williams for average linkage; infinity stays infinity.
                    let (sa, sb) = (size[a] as f32, size[b] as f32);
                    for c in (0..m).filter(|&c| active[c] && c != a && c != b) {
                        let v = (sa * d[a * m + c] + sb * d[b * m + c]) / (sa + sb);
                        d[a * m + c] = v;
                        d[c * m + a] = v;
                    }
                    active[b] = false;
                    size[a] += size[b];
                    let moved = std::mem::take(&mut members[b]);
                    members[a].extend(moved);
                } else {
                    chain.push(b);
                }
            }
            _ => {
                // Nearest group beyond the threshold: this group is final.
                active[a] = false;
                chain.pop();
            }
        }
    }
    members.into_iter().filter(|g| !g.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(xs: &[f32]) -> Points {
        Points::new(1, xs.to_vec()).unwrap()
    }

    fn sorted(mut g: Vec<Vec<usize>>) -> Vec<Vec<usize>> {
        for x in &mut g {
            x.sort();
        }
        g.sort();
        g
    }

    #[test]
    fn chain_is_split_where_single_linkage_would_merge() {
        // Eleven points 0.1 apart: single linkage at 0.3 makes one group; average linkage at
        // 0.3 cannot, since the average distance across the whole chain is 0.6.
        let xs: Vec<f32> = (0..11).map(|i| i as f32 * 0.1).collect();
        let g = average_linkage(&line(&xs), (0..11).map(|i| vec![i]).collect(), &[], 0.3);
        assert!(g.len() >= 2, "{g:?}");
        assert!(g.iter().all(|x| x.len() <= 7), "{g:?}");
    }

    #[test]
    fn matches_brute_force_average_linkage() {
        let xs = [0.0, 0.05, 0.12, 1.0, 1.1, 1.15, 3.0, 3.3, 5.0];
        let got = average_linkage(
            &line(&xs),
            (0..xs.len()).map(|i| vec![i]).collect(),
            &[],
            0.4,
        );
        assert_eq!(
            sorted(got),
            vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 7], vec![8]]
        );
    }

    #[test]
    fn cannot_link_is_never_merged_even_through_others() {
        let xs = [0.0, 0.1, 0.2];
        let got = average_linkage(
            &line(&xs),
            (0..3).map(|i| vec![i]).collect(),
            &[(0, 2)],
            1.0,
        );
        let got = sorted(got);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.iter().all(|g| !(g.contains(&0) && g.contains(&2))));
    }

    #[test]
    fn must_link_groups_stay_together() {
        let xs = [0.0, 5.0, 0.1];
        let got = average_linkage(&line(&xs), vec![vec![0, 1], vec![2]], &[], 0.2);
        assert_eq!(sorted(got), vec![vec![0, 1], vec![2]]);
    }
}
