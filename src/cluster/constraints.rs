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

/// Why two faces may not share a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clash {
    /// Two faces of one photo are two people.
    SamePhoto,
    /// The user said they are different people ("different", or faces confirmed apart).
    Different,
    /// The user placed them in two different people.
    TwoPeople,
    /// One was rejected from the person the other was placed in ("not this person").
    Rejected,
}

impl Constraints {
    pub fn new(input: &Input<'_>) -> Self {
        let owner = (0..input.photo.len()).map(|i| input.owner(i)).collect();
        Self::from_facts(input.photo.to_vec(), owner, input.cannot, input.forbidden)
    }

    /// The constraints of faces given by their facts, indexed as given: each face's photo,
    /// the person the user placed it in (if any), "different" pairs, and `(face, person)`
    /// rejections. Decisions build one over the few faces they touch.
    pub fn from_facts(
        photo: Vec<i64>,
        owner: Vec<Option<i64>>,
        cannot: &[(usize, usize)],
        forbidden: &[(usize, i64)],
    ) -> Self {
        let mut by_face: HashMap<usize, Vec<i64>> = HashMap::new();
        for &(i, person) in forbidden {
            by_face.entry(i).or_default().push(person);
        }
        Self {
            photo,
            owner,
            cannot: cannot.iter().map(|&(a, b)| (a.min(b), a.max(b))).collect(),
            forbidden: by_face,
        }
    }

    /// Why faces `i` and `j` may not share a person, or `None` when they may.
    pub fn clash(&self, i: usize, j: usize) -> Option<Clash> {
        let rejected = |a: usize, b: usize| {
            self.owner[b].is_some_and(|o| self.forbidden.get(&a).is_some_and(|f| f.contains(&o)))
        };
        if self.photo[i] == self.photo[j] {
            Some(Clash::SamePhoto)
        } else if self.cannot(i, j) {
            Some(Clash::Different)
        } else if matches!((self.owner[i], self.owner[j]), (Some(a), Some(b)) if a != b) {
            Some(Clash::TwoPeople)
        } else if rejected(i, j) || rejected(j, i) {
            Some(Clash::Rejected)
        } else {
            None
        }
    }

    /// Every pair inside `chunk` that may not share a person, as positions in `chunk`
    /// (what linkage must never join): [`Constraints::clash`] for all pairs, found through
    /// photos, owners and the stated pairs rather than by trying every pair.
    pub fn pairs_within(&self, chunk: &[usize]) -> Vec<(usize, usize)> {
        let pos: HashMap<usize, usize> = chunk.iter().enumerate().map(|(k, &i)| (i, k)).collect();
        let mut out = Vec::new();
        let mut by_photo: HashMap<i64, Vec<usize>> = HashMap::new();
        for (k, &i) in chunk.iter().enumerate() {
            by_photo.entry(self.photo[i]).or_default().push(k);
        }
        for same_photo in by_photo.values() {
            for (x, &a) in same_photo.iter().enumerate() {
                for &b in &same_photo[x + 1..] {
                    out.push((a, b));
                }
            }
        }
        for &(a, b) in &self.cannot {
            if let (Some(&x), Some(&y)) = (pos.get(&a), pos.get(&b)) {
                out.push((x, y));
            }
        }
        let owned: Vec<(usize, i64)> = (0..chunk.len())
            .filter_map(|k| self.owner[chunk[k]].map(|o| (k, o)))
            .collect();
        for (x, &(a, oa)) in owned.iter().enumerate() {
            for &(b, ob) in &owned[x + 1..] {
                if oa != ob {
                    out.push((a, b));
                }
            }
        }
        for (&i, people) in &self.forbidden {
            if let Some(&x) = pos.get(&i) {
                out.extend(
                    owned
                        .iter()
                        .filter(|o| o.0 != x && people.contains(&o.1))
                        .map(|o| (x, o.0)),
                );
            }
        }
        out
    }

    /// The group of the existing person `person` with faces `members`: a face may join only
    /// where it may join every member, and not when the user placed it elsewhere or said it
    /// is not this person.
    pub fn person(&self, person: i64, members: &[usize]) -> Group {
        let mut g = self.group(members);
        g.owners.insert(person);
        g
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

    /// Many small random cases: the group's running test, the chunk's pairs and a person's
    /// group all say exactly what [`Constraints::clash`] says pair by pair.
    #[test]
    fn every_form_of_the_rule_agrees_with_the_pairwise_clash() {
        let mut seed = 42u64;
        let mut next = |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        for _ in 0..300 {
            let n = 2 + next(9) as usize;
            let photo: Vec<i64> = (0..n).map(|_| next(6) as i64).collect();
            let owner: Vec<Option<i64>> = (0..n)
                .map(|_| (next(3) == 0).then(|| 100 + next(3) as i64))
                .collect();
            let cannot: Vec<(usize, usize)> = (0..next(3))
                .map(|_| (next(n as u64) as usize, next(n as u64) as usize))
                .filter(|(a, b)| a != b)
                .collect();
            let forbidden: Vec<(usize, i64)> = (0..next(3))
                .map(|_| (next(n as u64) as usize, 100 + next(3) as i64))
                .collect();
            let c = Constraints::from_facts(photo.clone(), owner.clone(), &cannot, &forbidden);
            let chunk: Vec<usize> = (0..n).filter(|_| next(4) != 0).collect();
            let mut brute: Vec<(usize, usize)> = Vec::new();
            for x in 0..chunk.len() {
                for y in x + 1..chunk.len() {
                    if c.clash(chunk[x], chunk[y]).is_some() {
                        brute.push((x, y));
                    }
                }
            }
            let mut found: Vec<(usize, usize)> = c
                .pairs_within(&chunk)
                .into_iter()
                .map(|(a, b)| (a.min(b), a.max(b)))
                .collect();
            found.sort_unstable();
            found.dedup();
            assert_eq!(found, brute, "chunk {chunk:?}");
            let members: Vec<usize> = (0..n).filter(|_| next(3) == 0).collect();
            let g = c.group(&members);
            let valid = members
                .iter()
                .enumerate()
                .all(|(x, &a)| members[x + 1..].iter().all(|&b| c.clash(a, b).is_none()));
            for i in (0..n).filter(|i| !members.contains(i)) {
                let pairwise = members.iter().all(|&j| c.clash(i, j).is_none());
                if valid {
                    assert_eq!(g.may_take(&c, i), pairwise, "{i} into {members:?}");
                }
                // A person's group also refuses faces placed elsewhere or rejected from it.
                let p = 100 + next(3) as i64;
                let as_person =
                    pairwise && owner[i].is_none_or(|o| o == p) && !forbidden.contains(&(i, p));
                // (A person's own faces are never placed elsewhere or rejected from it.)
                let consistent = members
                    .iter()
                    .all(|&j| owner[j].is_none_or(|o| o == p) && !forbidden.contains(&(j, p)));
                if valid && consistent {
                    assert_eq!(c.person(p, &members).may_take(&c, i), as_person);
                }
            }
        }
    }
}
