//! Model upgrades end to end on real faces: a library scanned with the old dlib embedder gets
//! decisions of every kind, some of its photos go offline, and it is upgraded to MobileFaceNet
//! (and to Intel's 0095 where `../shared/models` has it), then switched back. Face ids never
//! change, every decision holds, unreachable faces keep their person, and the people are at
//! least as pure as before.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use likeness::people::{self, ClusterSettings, Mode};
use likeness::pipeline::{self, index, ScanOptions};
use likeness::progress::{CancelToken, Progress};
use likeness::store::{Assigner, Store};
use likeness::vision::models::{self, DLIB, FACE_REID_0095, MOBILEFACENET};
use likeness::vision::{install, Models};

const PHOTOS: usize = 1000;
const OFFLINE: usize = 25;

/// The LFW images of identities_min5 (people with 5+ photos), in file order.
fn lfw_images(data: &Path, n: usize) -> Vec<PathBuf> {
    let tsv = std::fs::read_to_string(data.join("lfw/identities_min5.tsv")).unwrap();
    tsv.lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .map(|p| data.join("lfw").join(p))
        .take(n)
        .collect()
}

/// Everything a user decided, as the database says it.
#[derive(Debug, PartialEq)]
struct Decided {
    /// Pinned (user-assigned) faces and their person.
    pinned: Vec<(i64, i64)>,
    names: Vec<(i64, String)>,
    hidden: Vec<i64>,
    merged: Vec<(i64, i64)>,
    rejections: Vec<(i64, i64)>,
    pairs: Vec<(i64, i64, bool)>,
}

fn decided(store: &Store) -> Decided {
    let mut pinned = Vec::new();
    for f in face_ids(store) {
        let s = store.face_state(f).unwrap().unwrap();
        if s.assigned_by == Some(Assigner::User) {
            pinned.push((f, s.person_id.unwrap()));
        }
    }
    let people = store.people().unwrap();
    Decided {
        pinned,
        names: people
            .iter()
            .filter_map(|p| p.name.clone().map(|n| (p.id, n)))
            .collect(),
        hidden: people.iter().filter(|p| p.hidden).map(|p| p.id).collect(),
        merged: people
            .iter()
            .filter_map(|p| p.merged_into.map(|m| (p.id, m)))
            .collect(),
        rejections: store.rejections().unwrap(),
        pairs: store.face_pairs().unwrap(),
    }
}

/// Decisions hold in the assignments: rejected faces are not in that person, "different"
/// faces not together, "same" faces together.
fn assert_decisions_hold(store: &Store, d: &Decided) {
    let person = |f: i64| store.face_state(f).unwrap().unwrap().person_id;
    for &(f, p) in &d.pinned {
        assert_eq!(person(f), Some(p), "pinned face {f} moved");
    }
    for &(f, p) in &d.rejections {
        assert_ne!(person(f), Some(p), "rejected face {f} is back in {p}");
    }
    for &(a, b, same) in &d.pairs {
        let (pa, pb) = (person(a), person(b));
        if same {
            assert_eq!(pa, pb, "same faces {a}/{b} apart");
        } else {
            assert!(pa.is_none() || pa != pb, "different faces {a}/{b} together");
        }
    }
}

/// Pairwise precision of the people over the centre faces of the LFW images (identity = the
/// image's folder).
fn purity(store: &Store) -> f64 {
    let mut by_person: HashMap<i64, Vec<String>> = HashMap::new();
    for (path, face) in centre_faces(store) {
        if let Some(p) = store.face_state(face).unwrap().and_then(|s| s.person_id) {
            by_person.entry(p).or_default().push(identity(&path));
        }
    }
    let (mut right, mut all) = (0u64, 0u64);
    for ids in by_person.values() {
        for i in 0..ids.len() {
            for j in i + 1..ids.len() {
                all += 1;
                right += u64::from(ids[i] == ids[j]);
            }
        }
    }
    right as f64 / all.max(1) as f64
}

/// The people holding more than one identity, with their counts (for failure messages).
fn mixed_people(store: &Store) -> Vec<String> {
    let mut by_person: HashMap<i64, HashMap<String, usize>> = HashMap::new();
    for (path, face) in centre_faces(store) {
        if let Some(p) = store.face_state(face).unwrap().and_then(|s| s.person_id) {
            *by_person
                .entry(p)
                .or_default()
                .entry(identity(&path))
                .or_default() += 1;
        }
    }
    let mut out: Vec<String> = by_person
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(p, v)| format!("person {p}: {v:?}"))
        .collect();
    out.sort();
    out
}

fn face_ids(store: &Store) -> Vec<i64> {
    store
        .face_photos()
        .unwrap()
        .iter()
        .map(|f| f.face_id)
        .collect()
}

/// `(photo path, face)` of the face nearest each photo's centre (LFW's convention).
fn centre_faces(store: &Store) -> Vec<(String, i64)> {
    let mut best: HashMap<i64, (f32, String, i64)> = HashMap::new();
    for f in store.face_photos().unwrap() {
        let (cx, cy) = ((f.bbox[0] + f.bbox[2]) / 2.0, (f.bbox[1] + f.bbox[3]) / 2.0);
        let d = (cx - f.width as f32 / 2.0).powi(2) + (cy - f.height as f32 / 2.0).powi(2);
        let e = best
            .entry(f.photo_id)
            .or_insert((f32::INFINITY, String::new(), 0));
        if d < e.0 {
            *e = (d, f.path.clone(), f.face_id);
        }
    }
    best.into_values().map(|(_, p, f)| (p, f)).collect()
}

/// The LFW identity of a photo path (its folder).
fn identity(path: &str) -> String {
    Path::new(path)
        .parent()
        .and_then(|d| d.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Two people (larger first) whose centre faces are mostly the same identity.
fn split_identity(store: &Store) -> Option<(i64, i64)> {
    let mut votes: HashMap<i64, HashMap<String, usize>> = HashMap::new();
    for (path, face) in centre_faces(store) {
        if let Some(p) = store.face_state(face).unwrap().and_then(|s| s.person_id) {
            *votes
                .entry(p)
                .or_default()
                .entry(identity(&path))
                .or_default() += 1;
        }
    }
    let mut major: Vec<(String, usize, i64)> = votes
        .into_iter()
        .filter_map(|(p, v)| {
            v.into_iter()
                .max_by_key(|x| x.1)
                .map(|(who, n)| (who, n, p))
        })
        .collect();
    major.sort();
    major.windows(2).find(|w| w[0].0 == w[1].0).map(|w| {
        if w[0].1 >= w[1].1 {
            (w[0].2, w[1].2)
        } else {
            (w[1].2, w[0].2)
        }
    })
}

fn upgrade(store: &mut Store, spec: &'static models::EmbedderSpec) -> pipeline::UpgradeOutcome {
    let m = Models::load_for(spec).unwrap();
    let o = pipeline::upgrade(store, &m, 2, &CancelToken::new(), &Progress::new()).unwrap();
    eprintln!("{o:?}");
    assert!(o.activated && !o.cancelled);
    assert_eq!(store.active_embedder().unwrap().as_deref(), Some(spec.id()));
    o
}

#[test]
fn upgrades_keep_every_face_and_decision() {
    let Some(data) = common::shared_data("upgrades_keep_every_face_and_decision") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // Installed models go to a folder of this test (the only test in this binary).
    std::env::set_var("LIKENESS_USER_MODELS_DIR", tmp.path().join("user-models"));
    let lib = tmp.path().join("photos");
    std::fs::create_dir_all(&lib).unwrap();
    let images = lfw_images(&data, PHOTOS);
    let mut links = Vec::new();
    for img in &images {
        let who = img.parent().unwrap().file_name().unwrap();
        std::fs::create_dir_all(lib.join(who)).unwrap();
        let dst = lib.join(who).join(img.file_name().unwrap());
        std::os::unix::fs::symlink(img, &dst).unwrap();
        links.push(dst);
    }
    let before_hashes = common::fingerprint_tree(&data.join("lfw/lfw-deepfunneled/Aaron_Peirsol"));

    // A library made with the old embedder, as every library before MobileFaceNet was.
    let mut store = Store::open(&tmp.path().join("l.db")).unwrap();
    let dlib = Models::load_for(&DLIB).unwrap();
    let out = index(
        &mut store,
        &dlib,
        &ScanOptions::new(vec![lib.clone()]),
        &CancelToken::new(),
        &Progress::new(),
    )
    .unwrap();
    assert_eq!(out.photos_indexed as usize, images.len());
    assert_eq!(store.active_embedder().unwrap().as_deref(), Some(DLIB.id()));
    people::recluster(
        &mut store,
        DLIB.id(),
        &ClusterSettings::for_model(&DLIB),
        Mode::Full,
        &CancelToken::new(),
        &Progress::new(),
    )
    .unwrap();

    // Decisions of every kind.
    let list = people::list(&store).unwrap();
    assert!(list.len() >= 8, "{} people", list.len());
    let faces_of = |s: &Store, p: i64| -> Vec<i64> {
        people::faces(s, p)
            .unwrap()
            .iter()
            .map(|f| f.face_id)
            .collect()
    };
    people::name(&mut store, list[0].id, Some("Anna")).unwrap();
    people::name(&mut store, list[1].id, Some("Ben")).unwrap();
    people::name(&mut store, list[2].id, Some("Cleo")).unwrap();
    let anna = faces_of(&store, list[0].id);
    people::reject(&mut store, anna[anna.len() - 1]).unwrap();
    let ben = faces_of(&store, list[1].id);
    people::different(&mut store, ben[0], ben[1]).unwrap();
    let cleo = faces_of(&store, list[2].id);
    people::same(&mut store, cleo[0], cleo[1]).unwrap();
    people::hide(&mut store, list[5].id, true).unwrap();
    let moved = faces_of(&store, list[6].id)[0];
    people::move_face(&mut store, moved, list[2].id).unwrap();
    // Merge two people that are one identity split by the clustering, as a user would.
    let (into, from) = split_identity(&store).expect("no identity split in two people");
    people::merge(&mut store, into, from).unwrap();
    let d0 = decided(&store);
    assert!(!d0.pinned.is_empty() && d0.names.len() == 3);
    assert_decisions_hold(&store, &d0);
    let ids0: Vec<i64> = face_ids(&store);
    let purity0 = purity(&store);
    let mixed0 = mixed_people(&store);

    // Some photos go offline: their faces cannot be re-embedded.
    let mut offline_faces: Vec<(i64, Option<i64>)> = Vec::new();
    for link in links.iter().step_by(PHOTOS / OFFLINE).take(OFFLINE) {
        std::fs::remove_file(link).unwrap();
    }
    for f in store.face_photos().unwrap() {
        if !Path::new(&f.path).exists() {
            offline_faces.push((
                f.face_id,
                store.face_state(f.face_id).unwrap().unwrap().person_id,
            ));
        }
    }
    assert!(!offline_faces.is_empty());

    // dlib → MobileFaceNet.
    let o = upgrade(&mut store, &MOBILEFACENET);
    assert_eq!(o.faces as usize, ids0.len());
    assert_eq!(o.reembedded + o.mapped + o.left_out, o.faces);
    assert!(o.photos_unreachable as usize >= OFFLINE);
    assert_eq!(face_ids(&store), ids0, "face ids changed");
    let d1 = decided(&store);
    assert_eq!(d1, d0, "decisions changed");
    assert_decisions_hold(&store, &d1);
    // Offline faces keep their person; one nobody had placed may find one through its mapped
    // vector (that is what the bridge is for), never without a vector.
    for &(f, p) in &offline_faces {
        let now = store.face_state(f).unwrap().unwrap().person_id;
        if p.is_some() || o.mapped == 0 {
            assert_eq!(
                now, p,
                "offline face {f} changed person (mapped: {})",
                o.mapped
            );
        }
    }
    let purity1 = purity(&store);
    eprintln!("purity: dlib {purity0:.4}, mobilefacenet {purity1:.4}");
    assert!(
        purity1 >= purity0,
        "{purity1} < {purity0}; mixed people before: {:?}; after: {:?}",
        mixed0,
        mixed_people(&store)
    );
    // Nothing compares vectors of two models: each model's vectors are complete or absent.
    assert!(
        store.faces_without_any_vector(MOBILEFACENET.id()).unwrap() as usize <= offline_faces.len()
    );

    // Intel's 0095, when ../shared/models has it (never part of the project).
    let shared_models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/models");
    if shared_models.join(FACE_REID_0095.model.file).is_file() {
        let r = install::install(
            &FACE_REID_0095,
            Some(&shared_models),
            &models::user_models_dir(),
        )
        .unwrap();
        assert_eq!(r.sha256, FACE_REID_0095.model.sha256);
        upgrade(&mut store, &FACE_REID_0095);
        assert_eq!(decided(&store), d0);
        assert_decisions_hold(&store, &d0);
        let purity2 = purity(&store);
        eprintln!("purity: face_reid_0095 {purity2:.4}");
        assert!(purity2 >= purity0, "{purity2} < {purity0}");
    } else {
        eprintln!("SKIPPED the 0095 step: ../shared/models/face_reid_0095.onnx is absent");
    }

    // Back to dlib: its vectors were kept, so nothing is re-embedded.
    let back = upgrade(&mut store, &DLIB);
    assert_eq!(back.reembedded, 0);
    assert_eq!(decided(&store), d0);
    assert_decisions_hold(&store, &d0);

    // Pruning the inactive MobileFaceNet removes its vectors only.
    let n = store.write(|w| w.prune_model(MOBILEFACENET.id())).unwrap();
    assert!(n > 0);
    assert_eq!(
        store.faces_without_any_vector(MOBILEFACENET.id()).unwrap() as usize,
        ids0.len()
    );
    assert_eq!(store.integrity_check().unwrap(), "ok");
    // Photos are read, never written.
    assert_eq!(
        common::fingerprint_tree(&data.join("lfw/lfw-deepfunneled/Aaron_Peirsol")),
        before_hashes
    );
}
