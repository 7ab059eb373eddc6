//! People end to end with the real models on real faces from ../shared/data: scan, cluster,
//! decide, scan 500 more photos, cluster incrementally, then fully — every decision holds, and
//! no person ever holds two faces of one photo.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use likeness::people::{self, ClusterSettings, Mode};
use likeness::pipeline::{index, ScanOptions};
use likeness::progress::{CancelToken, Progress};
use likeness::store::Store;
use likeness::vision::Models;

fn scan_files(store: &mut Store, models: &Models, files: &[PathBuf]) {
    let mut opts = ScanOptions::new(Vec::new());
    opts.files = files.to_vec();
    opts.inference_threads = 2;
    let out = index(store, models, &opts, &CancelToken::new(), &Progress::new()).unwrap();
    assert_eq!(out.photos_failed, 0, "{:?}", out.failures);
}

fn recluster(store: &mut Store, mode: Mode) -> people::ReclusterOutcome {
    let spec = likeness::pipeline::library_embedder(store).unwrap();
    people::recluster(
        store,
        spec.id(),
        &ClusterSettings::for_model(spec),
        mode,
        &CancelToken::new(),
        &Progress::default(),
    )
    .unwrap()
}

/// LFW images of identities_min5, in file order.
fn lfw_images(data: &Path) -> Vec<PathBuf> {
    let tsv = std::fs::read_to_string(data.join("lfw/identities_min5.tsv")).unwrap();
    tsv.lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .map(|p| data.join("lfw").join(p))
        .collect()
}

fn group_photos(data: &Path) -> Vec<PathBuf> {
    let dir = data.join("dev/group/dlib_faces");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    v.sort();
    v
}

/// No person holds two faces of one photo.
fn assert_one_face_per_photo(store: &Store) {
    for p in people::list(store).unwrap() {
        let mut seen = HashSet::new();
        for f in people::faces(store, p.id).unwrap() {
            assert!(
                seen.insert(f.photo_id),
                "person {} holds two faces of {}",
                p.id,
                f.path
            );
        }
    }
}

fn person_of(store: &Store, face: i64) -> Option<i64> {
    store.face_state(face).unwrap().and_then(|f| f.person_id)
}

#[test]
fn faces_of_one_photo_are_never_one_person() {
    let Some(data) = common::shared_data("faces_of_one_photo_are_never_one_person") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(&tmp.path().join("l.db")).unwrap();
    let models = Models::load_default().unwrap();
    let mut files = group_photos(&data);
    files.extend(lfw_images(&data).into_iter().take(60));
    scan_files(&mut store, &models, &files);
    for mode in [Mode::Incremental, Mode::Full] {
        recluster(&mut store, mode);
        assert_one_face_per_photo(&store);
    }
    // Settings so loose that everyone would be one person: only the constraint keeps faces of
    // one group photo apart, so this exercises it on real faces.
    // Unit vectors are at most 2 apart: these radii join everything.
    let spec = likeness::pipeline::library_embedder(&store).unwrap();
    let loose = ClusterSettings {
        eps: 1.9,
        min_points: 2,
        linkage_threshold: 2.1,
        match_distance: 2.1,
        ..ClusterSettings::for_model(spec)
    };
    let out = people::recluster(
        &mut store,
        spec.id(),
        &loose,
        Mode::Full,
        &CancelToken::new(),
        &Progress::default(),
    )
    .unwrap();
    assert_one_face_per_photo(&store);
    let group: HashSet<String> = group_photos(&data)
        .iter()
        .map(|p| {
            std::fs::canonicalize(p)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let in_people = people::list(&store)
        .unwrap()
        .iter()
        .flat_map(|p| people::faces(&store, p.id).unwrap())
        .filter(|f| group.contains(&f.path))
        .count();
    eprintln!("loose settings: {out:?}; {in_people} group-photo faces in people");
    assert!(in_people >= 10, "the constraint was not exercised: {out:?}");
}

#[test]
fn decisions_hold_through_new_photos_and_reclusters() {
    let Some(data) = common::shared_data("decisions_hold_through_new_photos_and_reclusters") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(&tmp.path().join("l.db")).unwrap();
    let models = Models::load_default().unwrap();
    let lfw = lfw_images(&data);
    let (first, more) = (&lfw[..150], &lfw[150..650]);
    let mut files = group_photos(&data);
    files.extend_from_slice(first);
    scan_files(&mut store, &models, &files);
    let out = recluster(&mut store, Mode::Incremental);
    assert!(out.people >= 5, "{out:?}");

    let list = people::list(&store).unwrap();
    let ids: Vec<i64> = list.iter().map(|p| p.id).collect();
    let faces_of = |store: &Store, p: i64| -> Vec<i64> {
        people::faces(store, p)
            .unwrap()
            .iter()
            .map(|f| f.face_id)
            .collect()
    };
    // Name three people, merge a fourth into the first, reject a face of the second, mark two
    // faces of the third different.
    let names = ["Alpha", "Bravo", "Charlie"];
    for (p, n) in ids.iter().zip(names) {
        people::name(&mut store, *p, Some(n)).unwrap();
    }
    let (alpha, bravo, charlie, delta) = (ids[0], ids[1], ids[2], ids[3]);
    let delta_faces = faces_of(&store, delta);
    people::merge(&mut store, alpha, delta).unwrap();
    let alpha_faces = faces_of(&store, alpha);
    assert!(delta_faces.iter().all(|f| alpha_faces.contains(f)));
    let rejected = faces_of(&store, bravo)[0];
    people::reject(&mut store, rejected).unwrap();
    let cf = faces_of(&store, charlie);
    let (d1, d2) = (cf[0], cf[1]);
    people::different(&mut store, d1, d2).unwrap();

    let check = |store: &Store, stage: &str| {
        let list = people::list(store).unwrap();
        let by_id: HashMap<i64, &people::Person> = list.iter().map(|p| (p.id, p)).collect();
        for (p, n) in [(alpha, "Alpha"), (bravo, "Bravo"), (charlie, "Charlie")] {
            assert_eq!(by_id[&p].name.as_deref(), Some(n), "{stage}: name of {p}");
        }
        assert!(!by_id.contains_key(&delta), "{stage}: merged person listed");
        assert_eq!(
            store.person(delta).unwrap().unwrap().merged_into,
            Some(alpha)
        );
        // Every face Alpha held after the merge (its own and Delta's) is still Alpha's.
        for f in &alpha_faces {
            assert_eq!(
                person_of(store, *f),
                Some(alpha),
                "{stage}: merged face {f}"
            );
        }
        assert_ne!(
            person_of(store, rejected),
            Some(bravo),
            "{stage}: rejected face returned"
        );
        let (p1, p2) = (person_of(store, d1), person_of(store, d2));
        assert!(
            p1.is_none() || p1 != p2,
            "{stage}: different faces together"
        );
        assert_one_face_per_photo(store);
    };
    check(&store, "after decisions");

    scan_files(&mut store, &models, more);
    let out = recluster(&mut store, Mode::Incremental);
    eprintln!("incremental: {out:?}");
    assert!(out.matched > 0 || out.new_people > 0, "{out:?}");
    check(&store, "incremental");
    let out = recluster(&mut store, Mode::Full);
    eprintln!("full: {out:?}");
    check(&store, "full");
}
