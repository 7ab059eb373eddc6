//! User decisions on a database of synthetic faces (no models needed): every decision holds
//! through incremental and full re-clusters, and undo restores the state before it.

use likeness::people::{self, ClusterSettings, Mode};
use likeness::progress::{CancelToken, Progress};
use likeness::store::{NewFace, PhotoFacts, Store};

// Synthetic 128-d vectors spaced for the dlib model's distances.
const MODEL: &str = "dlib_resnet_v1";

/// Three well separated "people" of `per` faces each; each face in its own photo except that
/// photo 0 also holds a face of person 1 (faces 0 and `per` share a photo).
fn build(store: &mut Store, per: usize, offset: usize) -> Vec<i64> {
    let mut s = 9u64 + offset as u64;
    let mut rnd = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 33) as f32 / (1u64 << 31) as f32 - 0.5
    };
    store
        .write(|w| {
            let mut ids = Vec::new();
            let mut photo = 0;
            for person in 0..3 {
                for k in 0..per {
                    let shared = person == 1 && k == 0 && offset == 0;
                    if !shared {
                        photo = new_photo(w, &format!("/p/{}.jpg", offset + ids.len()))?;
                    }
                    let target_photo = if shared { ids_photo(w, ids[0])? } else { photo };
                    let embedding: Vec<f32> = (0..128)
                        .map(|d| if d == person { 1.0 } else { 0.0 } + rnd() * 0.04)
                        .collect();
                    ids.push(w.insert_face(target_photo, &face(embedding), MODEL)?);
                }
            }
            Ok(ids)
        })
        .unwrap()
}

/// A detected face with this vector (same box and score for all).
fn face(embedding: Vec<f32>) -> NewFace {
    NewFace {
        bbox: [10.0, 10.0, 110.0, 110.0],
        landmarks: [[0.0; 2]; 5],
        score: 0.99,
        thumb: vec![0],
        embedding,
        source: Default::default(),
    }
}

fn new_photo(w: &likeness::store::Writer<'_>, path: &str) -> likeness::Result<i64> {
    w.upsert_photo(&PhotoFacts::indexed(path, 400, 400))
}

/// `n` faces, each in a photo of its own, close to axis `axis` (a fourth "person" when the
/// axis is not 0..3), spread like `build`'s.
fn along(store: &mut Store, axis: usize, n: usize, tag: &str) -> Vec<i64> {
    let mut s = 77u64 + n as u64 + tag.len() as u64;
    store
        .write(|w| {
            (0..n)
                .map(|k| {
                    let photo = new_photo(w, &format!("/q/{tag}{k}.jpg"))?;
                    s = s
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let jitter = (s >> 33) as f32 / (1u64 << 31) as f32 - 0.5;
                    let embedding: Vec<f32> = (0..128)
                        .map(|d| if d == axis { 1.0 } else { 0.0 } + jitter * 0.04)
                        .collect();
                    w.insert_face(photo, &face(embedding), MODEL)
                })
                .collect()
        })
        .unwrap()
}

fn ids_photo(w: &likeness::store::Writer<'_>, face: i64) -> likeness::Result<i64> {
    Ok(w.face_state(face)?.map(|f| f.photo_id).unwrap_or_default())
}

fn recluster(store: &mut Store, mode: Mode) -> people::ReclusterOutcome {
    people::recluster(
        store,
        MODEL,
        &ClusterSettings::for_model(&likeness::vision::models::DLIB),
        mode,
        &CancelToken::new(),
        &Progress::default(),
    )
    .unwrap()
}

fn person_of(store: &Store, face: i64) -> Option<i64> {
    store.face_state(face).unwrap().unwrap().person_id
}

#[test]
fn decisions_survive_reclustering_and_undo_restores() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("l.db")).unwrap();
    let per = 6;
    let f = build(&mut store, per, 0);
    let out = recluster(&mut store, Mode::Incremental);
    assert_eq!(out.people, 3, "{out:?}");
    // Faces 0 and `per` share a photo: never together.
    assert_ne!(person_of(&store, f[0]), person_of(&store, f[per]));

    let (a, b, c) = (
        person_of(&store, f[1]).unwrap(),
        person_of(&store, f[per + 1]).unwrap(),
        person_of(&store, f[2 * per + 1]).unwrap(),
    );
    people::name(&mut store, a, Some("Ann")).unwrap();
    people::name(&mut store, c, Some("Cy")).unwrap();
    // The user says B is Ann too (a wrong merge is theirs to make), then undoes it.
    let merge = people::merge(&mut store, a, b);
    // Faces 0 (Ann) and `per` (B) share a photo and both are... only Ann's is pinned: allowed,
    // B's face in that photo leaves.
    merge.unwrap();
    assert_eq!(person_of(&store, f[per + 2]), Some(a));
    assert_eq!(store.person(b).unwrap().unwrap().merged_into, Some(a));
    assert_eq!(person_of(&store, f[per]), None);
    people::undo(&mut store).unwrap().unwrap();
    assert_eq!(person_of(&store, f[per + 2]), Some(b));
    assert_eq!(person_of(&store, f[per]), Some(b));
    assert_eq!(store.person(b).unwrap().unwrap().merged_into, None);

    // Reject a face of Cy, mark two of Ann's faces different, hide B.
    people::reject(&mut store, f[2 * per + 3]).unwrap();
    people::different(&mut store, f[2], f[3]).unwrap();
    people::hide(&mut store, b, true).unwrap();

    let check = |store: &Store| {
        let list = people::list(store).unwrap();
        let name_of = |p| list.iter().find(|x| x.id == p).and_then(|x| x.name.clone());
        assert_eq!(name_of(a).as_deref(), Some("Ann"));
        assert_eq!(name_of(c).as_deref(), Some("Cy"));
        assert!(list.iter().find(|x| x.id == b).unwrap().hidden);
        assert_ne!(
            person_of(store, f[2 * per + 3]),
            Some(c),
            "rejected face came back"
        );
        let (p2, p3) = (person_of(store, f[2]), person_of(store, f[3]));
        assert!(p2.is_none() || p2 != p3, "different faces together");
        assert_eq!(person_of(store, f[1]), Some(a));
        assert_eq!(person_of(store, f[2 * per + 1]), Some(c));
    };
    check(&store);
    // New faces arrive: they join the existing people, decisions hold.
    let g = build(&mut store, 3, 100);
    let out = recluster(&mut store, Mode::Incremental);
    assert!(out.matched >= 8, "{out:?}");
    assert_eq!(person_of(&store, g[0]), Some(a));
    check(&store);
    recluster(&mut store, Mode::Full);
    check(&store);
    assert_eq!(person_of(&store, g[6]), Some(c));

    // Undo in reverse: hide, different, reject.
    people::undo(&mut store).unwrap().unwrap();
    assert!(!store.person(b).unwrap().unwrap().hidden);
    people::undo(&mut store).unwrap().unwrap();
    assert!(store.face_pairs().unwrap().is_empty());
    people::undo(&mut store).unwrap().unwrap();
    assert_eq!(person_of(&store, f[2 * per + 3]), Some(c));
    assert!(store.rejections().unwrap().is_empty());
}

#[test]
fn same_split_move_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("l.db")).unwrap();
    let per = 5;
    let f = build(&mut store, per, 0);
    recluster(&mut store, Mode::Full);
    let (a, b) = (
        person_of(&store, f[1]).unwrap(),
        person_of(&store, f[per + 1]).unwrap(),
    );
    // Split two faces off A, then say one of them is the same as a face of B.
    let (_, new) = people::split(&mut store, &[f[3], f[4]]).unwrap();
    assert_eq!(person_of(&store, f[3]), Some(new));
    // f[4] is pinned to `new`, f[per + 2] is machine-assigned to B: it joins `new`.
    people::same(&mut store, f[4], f[per + 2]).unwrap();
    assert_eq!(person_of(&store, f[per + 2]), Some(new));
    // Pinned to two different people: refused, nothing written.
    people::name(&mut store, b, Some("Bo")).unwrap();
    let e = people::same(&mut store, f[3], f[per + 3]).unwrap_err();
    assert!(e.to_string().contains("merge"), "{e}");
    // Faces of one photo can never be "same".
    assert!(people::same(&mut store, f[0], f[per]).is_err());
    // Two confirmed faces answered "different" refuse a merge of their people, writing nothing.
    let c = person_of(&store, f[2 * per + 1]).unwrap();
    people::name(&mut store, c, Some("Cy")).unwrap();
    people::apply(
        &mut store,
        &people::Act::Pair {
            a: f[per + 1],
            b: f[2 * per + 1],
            same: false,
        },
    )
    .unwrap();
    let e = people::merge(&mut store, b, c).unwrap_err();
    assert!(e.to_string().contains("different"), "{e}");
    assert_eq!(person_of(&store, f[2 * per + 1]), Some(c));
    people::undo(&mut store).unwrap().unwrap();
    people::undo(&mut store).unwrap().unwrap();
    // Move a face in; a full re-cluster keeps it there.
    people::move_face(&mut store, f[2 * per], a).unwrap();
    recluster(&mut store, Mode::Full);
    assert_eq!(person_of(&store, f[2 * per]), Some(a));
    assert_eq!(person_of(&store, f[per + 2]), Some(new));
    // Undo everything; nothing left to undo afterwards.
    while people::undo(&mut store).unwrap().is_some() {}
    assert!(store.face_pairs().unwrap().is_empty());
    assert!(
        store.person(new).unwrap().is_none(),
        "split person should be gone"
    );
    assert_eq!(store.person(b).unwrap().unwrap().name, None);
}

#[test]
fn no_to_a_suggestion_is_remembered_and_undoable() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("l.db")).unwrap();
    let per = 6;
    let f = build(&mut store, per, 0);
    recluster(&mut store, Mode::Incremental);
    let ann = person_of(&store, f[1]).unwrap();
    people::name(&mut store, ann, Some("Ann")).unwrap();
    // A new face of Ann's look that nobody has placed yet is suggested for her...
    let loose = build(&mut store, 1, 100)[0];
    assert_eq!(person_of(&store, loose), None);
    let suggested = |store: &Store| {
        people::faces_for_person(store, MODEL, ann, 50)
            .unwrap()
            .iter()
            .any(|s| s.face_id == loose)
    };
    assert!(
        suggested(&store),
        "the unplaced face should be suggested for Ann"
    );
    // ...the user answers No: it is not suggested again, and re-clustering keeps it out of Ann.
    people::reject_from(&mut store, loose, ann).unwrap();
    assert!(!suggested(&store));
    recluster(&mut store, Mode::Full);
    assert_ne!(person_of(&store, loose), Some(ann));
    // Undo brings the suggestion back.
    people::undo(&mut store).unwrap().unwrap();
    assert!(store.rejections().unwrap().is_empty());
    assert!(suggested(&store));
    // "Different" from one of Ann's faces rules it out for her as well (the one rule of
    // `cluster::constraints`), until that answer is undone too.
    people::apply(
        &mut store,
        &people::Act::Pair {
            a: loose,
            b: f[1],
            same: false,
        },
    )
    .unwrap();
    assert!(
        !suggested(&store),
        "a face answered different from Ann's face is not suggested for Ann"
    );
    people::undo(&mut store).unwrap().unwrap();
    assert!(suggested(&store));
    // A person that does not exist is refused.
    assert!(people::reject_from(&mut store, loose, 999_999).is_err());
    // Said twice, undone once: the first "No" still holds (undo removes what it added only).
    people::reject_from(&mut store, loose, ann).unwrap();
    people::reject_from(&mut store, loose, ann).unwrap();
    people::undo(&mut store).unwrap().unwrap();
    assert_eq!(store.rejections().unwrap(), vec![(loose, ann)]);
    people::undo(&mut store).unwrap().unwrap();
    assert!(store.rejections().unwrap().is_empty());
    // "Not Ann", then moved back into Ann (the answer goes), both undone: back in Ann and no
    // answer left (the move's undo restores the answer, the reject's undo takes it away).
    let f1 = f[1];
    people::reject(&mut store, f1).unwrap();
    people::move_face(&mut store, f1, ann).unwrap();
    assert!(store.rejections().unwrap().is_empty());
    people::undo(&mut store).unwrap().unwrap();
    assert_eq!(store.rejections().unwrap(), vec![(f1, ann)]);
    people::undo(&mut store).unwrap().unwrap();
    assert!(store.rejections().unwrap().is_empty());
    assert_eq!(person_of(&store, f1), Some(ann));
}

#[test]
fn one_moved_face_does_not_drag_its_look_alikes_into_another_person() {
    // The user moves one face of B into A (a lookalike, a child, or a mistake: theirs to say).
    // A full re-cluster keeps that face in A and B's other faces in B: one pinned face must not
    // merge two people silently.
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("l.db")).unwrap();
    let per = 8;
    let f = build(&mut store, per, 0);
    recluster(&mut store, Mode::Full);
    let (a, b) = (
        person_of(&store, f[1]).unwrap(),
        person_of(&store, f[per + 1]).unwrap(),
    );
    assert_ne!(a, b);
    people::move_face(&mut store, f[per + 3], a).unwrap();
    for mode in [Mode::Full, Mode::Incremental, Mode::Full] {
        recluster(&mut store, mode);
        assert_eq!(person_of(&store, f[per + 3]), Some(a), "{mode:?}");
        for k in (per + 1..2 * per).filter(|&k| k != per + 3) {
            assert_eq!(person_of(&store, f[k]), Some(b), "face {k} after {mode:?}");
        }
        for (k, &face) in f.iter().enumerate().take(per).skip(1) {
            assert_eq!(person_of(&store, face), Some(a), "face {k} after {mode:?}");
        }
    }
}

#[test]
fn undo_never_puts_two_faces_of_one_photo_in_one_person() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(&tmp.path().join("l.db")).unwrap();
    let per = 6;
    let ids = build(&mut store, per, 0);
    recluster(&mut store, Mode::Full);
    // Faces 0 and `per` share a photo. Face 0 is confirmed in its person, then ignored.
    let (a, b) = (ids[0], ids[per]);
    let pa = person_of(&store, a).unwrap();
    people::name(&mut store, pa, Some("Ann")).unwrap();
    people::ignore(&mut store, &[a], true).unwrap();
    // Meanwhile the machine puts the other face of that photo into Ann.
    store
        .write(|w| w.assign_faces(&[(b, Some(pa), Some(likeness::store::Assigner::Machine))]))
        .unwrap();
    // Undoing the ignore brings face 0 back to Ann; the other face of its photo leaves.
    people::undo(&mut store).unwrap();
    assert_eq!(person_of(&store, a), Some(pa));
    assert_ne!(person_of(&store, b), Some(pa));
}

/// An incremental run offers only faces it has not considered, but a face left alone earlier
/// still becomes a person when new faces like it arrive; a face a decision takes out of a
/// person is considered again.
#[test]
fn incremental_runs_consider_new_faces_and_the_unplaced_faces_around_them() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(&tmp.path().join("l.db")).unwrap();
    let per = 6;
    let f = build(&mut store, per, 0);
    recluster(&mut store, Mode::Incremental);
    let people_before = store.people().unwrap().len();
    // A lone face of someone new stays unplaced, run after run.
    let lone = along(&mut store, 9, 1, "lone")[0];
    for _ in 0..2 {
        let o = recluster(&mut store, Mode::Incremental);
        assert_eq!(person_of(&store, lone), None);
        assert_eq!(o.new_people, 0);
    }
    // Two more faces like it arrive: the three are one new person, the lone face included.
    let more = along(&mut store, 9, 2, "more");
    let o = recluster(&mut store, Mode::Incremental);
    assert_eq!(o.new_people, 1, "{o:?}");
    let p = person_of(&store, lone).expect("the earlier lone face joins the new person");
    assert!(more.iter().all(|&m| person_of(&store, m) == Some(p)));
    assert_eq!(store.people().unwrap().len(), people_before + 1);
    // A settled library: a further run changes nothing.
    assert_eq!(recluster(&mut store, Mode::Incremental).changed, 0);
    // Removing a face from its person (a machine decision undone by the user: here, its
    // person emptied by hand) makes it new again: the next run offers it to its look-alikes.
    let a = person_of(&store, f[2]).unwrap();
    store
        .write(|w| w.assign_faces(&[(f[2], None, None)]))
        .unwrap();
    recluster(&mut store, Mode::Incremental);
    assert_eq!(person_of(&store, f[2]), Some(a));
}
