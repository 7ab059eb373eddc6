//! Tests of the whole clustering on synthetic points.

use super::*;

/// `k` tight blobs of `per` points in `d` dimensions, far apart, each point its own photo.
fn blobs(k: usize, per: usize, d: usize) -> (Points, Vec<i64>) {
    let mut s = 42u64;
    let mut rnd = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 33) as f32 / (1u64 << 31) as f32 - 0.5
    };
    let mut data = Vec::new();
    for c in 0..k {
        for _ in 0..per {
            data.extend((0..d).map(|x| if x == c { 3.0 } else { 0.0 } + rnd() * 0.1));
        }
    }
    let n = k * per;
    (Points::new(d, data).unwrap(), (0..n as i64).collect())
}

fn run(
    p: &Points,
    photo: &[i64],
    must: &[(usize, usize)],
    cannot: &[(usize, usize)],
) -> Clustering {
    let weak = vec![false; p.len()];
    let input = Input {
        points: p,
        photo,
        weak: &weak,
        must,
        cannot,
        owner: &[],
        forbidden: &[],
    };
    cluster(
        input,
        &ClusterSettings::default(),
        &CancelToken::new(),
        &Progress::default(),
    )
    .unwrap()
}

#[test]
fn separated_blobs_become_groups() {
    let (p, photo) = blobs(4, 6, 8);
    let c = run(&p, &photo, &[], &[]);
    assert_eq!(c.groups, 4);
    for b in 0..4 {
        let l = c.labels[b * 6];
        assert!(l.is_some());
        assert!((b * 6..b * 6 + 6).all(|i| c.labels[i] == l));
    }
}

#[test]
fn faces_of_one_photo_are_never_together() {
    let (p, mut photo) = blobs(2, 6, 8);
    // Points 0 and 1, and 6 and 7, are two faces of one photo each.
    photo[1] = photo[0];
    photo[7] = photo[6];
    let c = run(&p, &photo, &[], &[]);
    assert!(c.labels[0].is_none() || c.labels[0] != c.labels[1]);
    assert!(c.labels[6].is_none() || c.labels[6] != c.labels[7]);
}

#[test]
fn cannot_links_hold_and_must_links_stay() {
    let (p, photo) = blobs(1, 8, 8);
    let c = run(&p, &photo, &[(0, 1)], &[(0, 5), (1, 6)]);
    assert_eq!(c.labels[0], c.labels[1]);
    assert!(c.labels[0].is_some());
    assert!(c.labels[5].is_none() || c.labels[5] != c.labels[0]);
    assert!(c.labels[6].is_none() || c.labels[6] != c.labels[1]);
}

#[test]
fn weak_faces_never_seed_but_may_join() {
    let (p, photo) = blobs(2, 6, 8);
    // Blob 0 all weak: no group. Blob 1: one weak point joins its strong neighbours.
    let mut weak = vec![false; p.len()];
    for w in weak.iter_mut().take(6) {
        *w = true;
    }
    weak[11] = true;
    let input = Input {
        points: &p,
        photo: &photo,
        weak: &weak,
        must: &[],
        cannot: &[],
        owner: &[],
        forbidden: &[],
    };
    let c = cluster(
        input,
        &ClusterSettings::default(),
        &CancelToken::new(),
        &Progress::default(),
    )
    .unwrap();
    assert!((0..6).all(|i| c.labels[i].is_none()), "{:?}", c.labels);
    assert!(c.labels[6].is_some());
    assert_eq!(c.labels[11], c.labels[6]);
}

#[test]
fn cancelled_clustering_stops() {
    let (p, photo) = blobs(2, 5, 4);
    let weak = vec![false; p.len()];
    let cancel = CancelToken::new();
    cancel.cancel();
    let input = Input {
        points: &p,
        photo: &photo,
        weak: &weak,
        must: &[],
        cannot: &[],
        owner: &[],
        forbidden: &[],
    };
    let r = cluster(
        input,
        &ClusterSettings::default(),
        &cancel,
        &Progress::default(),
    );
    assert!(matches!(r, Err(Error::Cancelled)));
}

#[test]
fn owners_and_forbidden_people_hold() {
    let (p, photo) = blobs(1, 8, 8);
    let weak = vec![false; p.len()];
    let mut owner = vec![None; p.len()];
    owner[0] = Some(10);
    owner[1] = Some(20);
    owner[2] = Some(10);
    let input = Input {
        points: &p,
        photo: &photo,
        weak: &weak,
        must: &[],
        cannot: &[],
        owner: &owner,
        forbidden: &[(3, 10)],
    };
    let c = cluster(
        input,
        &ClusterSettings::default(),
        &CancelToken::new(),
        &Progress::default(),
    )
    .unwrap();
    assert!(c.labels[0].is_none() || c.labels[0] != c.labels[1]);
    assert!(c.labels[3].is_none() || (c.labels[3] != c.labels[0] && c.labels[3] != c.labels[2]));
}

#[test]
fn two_or_three_photos_of_someone_become_a_person_under_the_constraints() {
    // Blobs of 2 and 3 points (too few for a DBSCAN core) and a lone point, far apart.
    let (big, _) = blobs(5, 3, 8);
    let rows: Vec<Vec<f32>> = (0..big.len()).map(|i| big.row(i).to_vec()).collect();
    // Blob 0: 3 points; blob 1: 2 points (drop its third); blob 2: 1 point; blobs 3, 4: pairs.
    let keep: Vec<usize> = vec![0, 1, 2, 3, 4, 6, 9, 10, 12, 13];
    let p = Points::from_rows(&keep.iter().map(|&i| rows[i].clone()).collect::<Vec<_>>()).unwrap();
    let photo: Vec<i64> = (0..p.len() as i64).collect();
    let mut s = ClusterSettings {
        min_points: 4,
        ..Default::default()
    };
    let weak = vec![false; p.len()];
    let go = |photo: &[i64], cannot: &[(usize, usize)], s: &ClusterSettings| {
        cluster(
            Input {
                points: &p,
                photo,
                weak: &weak,
                must: &[],
                cannot,
                owner: &[],
                forbidden: &[],
            },
            s,
            &CancelToken::new(),
            &Progress::default(),
        )
        .unwrap()
    };
    let c = go(&photo, &[], &s);
    let same =
        |c: &Clustering, a: usize, b: usize| c.labels[a].is_some() && c.labels[a] == c.labels[b];
    assert!(same(&c, 0, 1) && same(&c, 1, 2), "three photos: one person");
    assert!(same(&c, 3, 4), "two photos: one person");
    assert_eq!(c.labels[5], None, "one photo stays alone");
    assert!(same(&c, 6, 7) && same(&c, 8, 9));
    assert!(!same(&c, 0, 3) && !same(&c, 3, 6));
    // Never two faces of one photo, never against a cannot-link; and off when the cut is 0.
    let mut photo2 = photo.clone();
    photo2[4] = photo2[3];
    let c = go(&photo2, &[(6, 7)], &s);
    assert!(!same(&c, 3, 4) && !same(&c, 6, 7));
    assert!(same(&c, 8, 9));
    s.pair_cut = 0.0;
    let c = go(&photo, &[], &s);
    assert!(!same(&c, 3, 4));
}
