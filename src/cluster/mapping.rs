//! Stable identities across re-clusters: new groups take the ids of the old people they overlap
//! most, one to one, so names and suggestions do not jump around when the clustering changes.

use std::collections::{HashMap, HashSet};

/// For each new group (given as the old id of each of its members, `None` when the member had
/// none), the old id it takes over, or `None` for a new identity. Greedy by overlap size:
/// the pair (group, old id) sharing the most members is matched first; an old id in `taken`
/// (already claimed, e.g. by the user's pinned faces) or already matched is not used again.
/// Ties go to the smaller group index, then the smaller old id, so the result is deterministic.
pub fn map_by_overlap(groups: &[Vec<Option<i64>>], taken: &HashSet<i64>) -> Vec<Option<i64>> {
    let mut pairs: Vec<(usize, usize, i64)> = Vec::new();
    for (g, members) in groups.iter().enumerate() {
        let mut counts: HashMap<i64, usize> = HashMap::new();
        for old in members.iter().flatten() {
            *counts.entry(*old).or_default() += 1;
        }
        pairs.extend(counts.into_iter().map(|(old, c)| (c, g, old)));
    }
    pairs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut out = vec![None; groups.len()];
    let mut used: HashSet<i64> = taken.clone();
    for (_, g, old) in pairs {
        if out[g].is_none() && !used.contains(&old) {
            out[g] = Some(old);
            used.insert(old);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_overlap_wins_and_ids_are_unique() {
        // Old person 7 split in two: the bigger part keeps 7, the other becomes new.
        let groups = vec![
            vec![Some(7), Some(7), None],
            vec![Some(7), Some(7), Some(7), Some(9)],
            vec![Some(9), Some(9)],
            vec![None, None],
        ];
        let m = map_by_overlap(&groups, &HashSet::new());
        assert_eq!(m, vec![None, Some(7), Some(9), None]);
    }

    #[test]
    fn taken_ids_are_not_reused() {
        let groups = vec![vec![Some(3), Some(3)], vec![Some(3), Some(4)]];
        let m = map_by_overlap(&groups, &HashSet::from([3]));
        assert_eq!(m, vec![None, Some(4)]);
    }

    #[test]
    fn ties_are_deterministic() {
        let groups = vec![vec![Some(5)], vec![Some(5)]];
        assert_eq!(
            map_by_overlap(&groups, &HashSet::new()),
            vec![Some(5), None]
        );
    }
}
