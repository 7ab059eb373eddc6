//! "May these faces share a group?" — said once for clustering: never two faces of one photo,
//! never a cannot-linked pair ("different people", faces confirmed as two people), never faces
//! the user placed in two different people, never a face with the person it was rejected from.
//! Linkage, attaching and few-photo people all ask it here.

use std::collections::{HashMap, HashSet};

use super::Input;

/// The constraints of one clustering run, indexed like its points.
pub struct Constraints {
    photo: Vec<i64>,
    owner: Vec<Option<i64>>,
    cannot: HashSet<(usize, usize)>,
    forbidden: HashMap<usize, Vec<i64>>,
}

impl Constraints {
    pub fn new(input: &Input<'_>) -> Self {
        let mut forbidden: HashMap<usize, Vec<i64>> = HashMap::new();
        for &(i, person) in input.forbidden {
            forbidden.entry(i).or_default().push(person);
        }
        Self {
            photo: input.photo.to_vec(),
            owner: (0..input.photo.len()).map(|i| input.owner(i)).collect(),
            cannot: input
                .cannot
                .iter()
                .map(|&(a, b)| (a.min(b), a.max(b)))
                .collect(),
            forbidden,
        }
    }

    /// The cannot-linked pairs, smaller index first.
    pub fn cannot_pairs(&self) -> &HashSet<(usize, usize)> {
        &self.cannot
    }

    /// Whether `i` and `j` are cannot-linked.
    pub fn cannot(&self, i: usize, j: usize) -> bool {
        self.cannot.contains(&(i.min(j), i.max(j)))
    }

    /// A group of `members`, ready to be asked about more.
    pub fn group(&self, members: &[usize]) -> Group {
        let mut g = Group::default();
        for &i in members {
            g.take(self, i);
        }
        g
    }
}

/// A group being built: its members and what they rule out.
#[derive(Debug, Clone, Default)]
pub struct Group {
    pub members: Vec<usize>,
    photos: HashSet<i64>,
    owners: HashSet<i64>,
    /// People some member was rejected from.
    banned: HashSet<i64>,
}

impl Group {
    /// Whether point `i` may join.
    pub fn may_take(&self, c: &Constraints, i: usize) -> bool {
        let owner_ok = match c.owner[i] {
            Some(o) => self.owners.iter().all(|&x| x == o) && !self.banned.contains(&o),
            None => true,
        };
        owner_ok
            && !self.photos.contains(&c.photo[i])
            && !c
                .forbidden
                .get(&i)
                .is_some_and(|f| f.iter().any(|x| self.owners.contains(x)))
            && !self.members.iter().any(|&j| c.cannot(i, j))
    }

    /// Add point `i` (the caller asked [`Group::may_take`] first, or is building from a group
    /// already known to hold).
    pub fn take(&mut self, c: &Constraints, i: usize) {
        self.members.push(i);
        self.photos.insert(c.photo[i]);
        self.owners.extend(c.owner[i]);
        if let Some(f) = c.forbidden.get(&i) {
            self.banned.extend(f.iter().copied());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Points;

    #[test]
    fn a_group_refuses_a_second_photo_a_cannot_link_another_owner_and_a_rejection() {
        let p = Points::new(1, vec![0.0; 6]).unwrap();
        let photo = [1, 2, 1, 3, 4, 5];
        let weak = [false; 6];
        let owner = [Some(7), None, None, Some(8), None, Some(9)];
        let input = Input {
            points: &p,
            photo: &photo,
            weak: &weak,
            must: &[],
            cannot: &[(4, 1)],
            owner: &owner,
            forbidden: &[(1, 9)],
        };
        let c = Constraints::new(&input);
        let g = c.group(&[0, 1]);
        assert!(!g.may_take(&c, 2), "same photo as 0");
        assert!(!g.may_take(&c, 3), "owned by someone else than 0's person");
        assert!(!g.may_take(&c, 4), "cannot-linked with 1");
        assert!(!g.may_take(&c, 5), "1 was rejected from 5's person");
        assert!(c.group(&[1]).may_take(&c, 0));
        assert!(c.cannot(1, 4) && c.cannot(4, 1) && !c.cannot(0, 1));
    }
}
