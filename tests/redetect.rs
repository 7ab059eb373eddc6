//! A library scanned by an older release's detection (one pass, upstream NMS: close-ups missed or
//! found twice), with decisions on some of its double boxes, searched again with `--redetect`:
//! the missed close-ups appear, the double boxes nobody decided about go, every decision holds.

mod common;

use std::path::Path;

use likeness::people::{apply, Act};
use likeness::pipeline::{index, ScanOptions, ScanOutcome};
use likeness::progress::{CancelToken, Progress};
use likeness::store::{Assigner, Store};
use likeness::vision::detect::{self, iou};
use likeness::vision::Models;

fn scan(
    store: &mut Store,
    models: &Models,
    root: &Path,
    plan: &'static detect::Plan,
) -> ScanOutcome {
    let mut opts = ScanOptions::new(vec![root.to_path_buf()]);
    opts.inference_threads = 2;
    opts.redetect = true;
    opts.detection = plan;
    let out = index(store, models, &opts, &CancelToken::new(), &Progress::new()).unwrap();
    assert_eq!(out.photos_failed, 0, "{:?}", out.failures);
    out
}

/// An LFW photo cropped around its face so that the face fills `fill` of the width of a
/// `width`×(4/3 `width`) portrait: a close-up, the kind the older detection missed (at 3 MP) or
/// found twice (at under 1 MP).
fn close_up(src: &Path, fill: f32, width: u32, dest: &Path) {
    let img = image::open(src).unwrap().to_rgb8();
    // LFW's deep-funneled face spans ~105 px around the centre of its 250 px photo.
    let w = 105.0 / fill;
    let h = w * 4.0 / 3.0;
    let (x, y) = ((125.0 - w / 2.0).max(0.0), (130.0 - h / 2.0).max(0.0));
    let crop = image::imageops::crop_imm(
        &img,
        x as u32,
        y as u32,
        w as u32,
        (h as u32).min(250 - y as u32),
    )
    .to_image();
    let big = image::imageops::resize(
        &crop,
        width,
        width * 4 / 3,
        image::imageops::FilterType::Triangle,
    );
    big.save(dest).unwrap();
}

#[test]
fn redetection_finds_missed_close_ups_drops_double_boxes_and_keeps_every_decision() {
    let Some(data) = common::shared_data(
        "redetection_finds_missed_close_ups_drops_double_boxes_and_keeps_every_decision",
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    // Close-ups of 16 people, and ordinary photos (LFW as it is, a group photo).
    let lfw = data.join("lfw/lfw-deepfunneled");
    let mut people: Vec<_> = std::fs::read_dir(&lfw)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    people.sort();
    for (i, person) in people.iter().step_by(97).take(16).enumerate() {
        let mut files: Vec<_> = std::fs::read_dir(person)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let fill = [0.9, 1.0, 0.6, 0.8][i % 4];
        let width = if i < 12 { 756 } else { 1536 };
        close_up(
            &files[0],
            fill,
            width,
            &photos.join(format!("closeup_{i:02}.jpg")),
        );
    }
    let ordinary = common::copy_lfw(&data, &photos.join("lfw"), &["Tom_Harkin"]);
    std::fs::copy(
        data.join("dev/group/dlib_faces/2008_002506.jpg"),
        photos.join("group.jpg"),
    )
    .unwrap();

    let models = Models::load_default().unwrap();
    let db = tmp.path().join("l.db");
    let mut store = Store::open(&db).unwrap();
    let first = scan(&mut store, &models, &photos, &detect::DETECTION_1);
    assert_eq!(
        store
            .photos_detected_otherwise(detect::DETECTION.version)
            .unwrap(),
        first.photos_indexed,
        "every photo records the older detection"
    );

    let id_of = |store: &Store, name: &str| {
        store
            .photos()
            .unwrap()
            .into_iter()
            .find(|r| r.path.ends_with(name))
            .unwrap()
            .id
    };
    let close_ups: Vec<(String, i64, usize)> = (0..16)
        .map(|i| {
            let name = format!("closeup_{i:02}.jpg");
            let id = id_of(&store, &name);
            let n = store.faces_of_photo(id).unwrap().len();
            (name, id, n)
        })
        .collect();
    eprintln!(
        "faces per close-up with the older detection: {:?}",
        close_ups.iter().map(|c| c.2).collect::<Vec<_>>()
    );
    let missed: Vec<i64> = close_ups.iter().filter(|c| c.2 == 0).map(|c| c.1).collect();
    let doubled: Vec<i64> = close_ups.iter().filter(|c| c.2 >= 2).map(|c| c.1).collect();
    assert!(
        !missed.is_empty() && doubled.len() >= 3,
        "the older detection missed {} close-ups and doubled {}: these photos no longer show what this test is about",
        missed.len(),
        doubled.len()
    );

    // Decisions on double boxes: one named as a person of its own, one ignored, one rejected
    // from the person it was put in; the last ones nobody touches.
    let faces = |store: &Store, photo: i64| store.faces_of_photo(photo).unwrap();
    let smallest = |store: &Store, photo: i64| {
        faces(store, photo)
            .into_iter()
            .min_by(|a, b| {
                let area = |f: &likeness::store::FaceRow| {
                    (f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1])
                };
                area(a).total_cmp(&area(b))
            })
            .unwrap()
            .id
    };
    let named_dup = smallest(&store, doubled[0]);
    let named = apply(
        &mut store,
        &Act::Split {
            faces: vec![named_dup],
            name: Some("Named Double".into()),
        },
    )
    .unwrap()
    .person
    .unwrap();
    let ignored_dup = smallest(&store, doubled[1]);
    apply(
        &mut store,
        &Act::Ignore {
            faces: vec![ignored_dup],
            ignored: true,
        },
    )
    .unwrap();
    // An ordinary person, named, with one face said not to be them.
    let harkin: Vec<i64> = ordinary
        .iter()
        .map(|p| {
            let id = id_of(&store, p.file_name().unwrap().to_str().unwrap());
            faces(&store, id)[0].id
        })
        .collect();
    let ann = apply(
        &mut store,
        &Act::Split {
            faces: harkin[..3].to_vec(),
            name: Some("Tom".into()),
        },
    )
    .unwrap()
    .person
    .unwrap();
    apply(
        &mut store,
        &Act::RejectFrom {
            face: harkin[4],
            person: ann,
        },
    )
    .unwrap();
    let rejected_dup = smallest(&store, doubled[2]);
    apply(
        &mut store,
        &Act::Pair {
            a: rejected_dup,
            b: harkin[3],
            same: false,
        },
    )
    .unwrap();
    let untouched: Vec<i64> = doubled[3..].to_vec();
    let group = id_of(&store, "group.jpg");
    let group_before: Vec<[f32; 4]> = faces(&store, group).iter().map(|f| f.bbox).collect();
    let rejections_before = store.rejections().unwrap();
    let decisions_before = store.decisions(1_000_000).unwrap().len();

    // A plain scan searches nothing again; --redetect does.
    let mut opts = ScanOptions::new(vec![photos.clone()]);
    opts.inference_threads = 2;
    let plain = index(
        &mut store,
        &models,
        &opts,
        &CancelToken::new(),
        &Progress::new(),
    )
    .unwrap();
    assert_eq!((plain.photos_redetected, plain.photos_indexed), (0, 0));
    let again = scan(&mut store, &models, &photos, &detect::DETECTION);
    assert_eq!(again.photos_redetected, first.photos_indexed);
    assert_eq!(
        store
            .photos_detected_otherwise(detect::DETECTION.version)
            .unwrap(),
        0
    );

    // The missed close-ups appear; every close-up has one face nobody decided about.
    let decided = [named_dup, ignored_dup, rejected_dup];
    for (name, id, _) in &close_ups {
        let undecided: Vec<_> = faces(&store, *id)
            .into_iter()
            .filter(|f| !decided.contains(&f.id))
            .collect();
        let expected = if decided
            .iter()
            .any(|d| faces(&store, *id).iter().any(|f| f.id == *d))
        {
            0..=1
        } else {
            1..=1
        };
        assert!(
            expected.contains(&undecided.len()),
            "{name}: {} faces nobody decided about",
            undecided.len()
        );
    }
    for id in &missed {
        assert_eq!(faces(&store, *id).len(), 1, "a missed close-up is found");
    }
    for id in &untouched {
        assert_eq!(
            faces(&store, *id).len(),
            1,
            "a double box nobody decided about is gone"
        );
    }
    // Every decision holds: the named double box is its person, the ignored one ignored, the
    // "different" answer and the rejection stand, the named person keeps its faces.
    let st = store
        .face_state(named_dup)
        .unwrap()
        .expect("named face kept");
    assert_eq!(
        (st.person_id, st.assigned_by),
        (Some(named), Some(Assigner::User))
    );
    assert_eq!(
        store.person(named).unwrap().unwrap().name.as_deref(),
        Some("Named Double")
    );
    assert!(
        store
            .face_state(ignored_dup)
            .unwrap()
            .expect("ignored face kept")
            .ignored
    );
    assert!(store.face_state(rejected_dup).unwrap().is_some());
    assert!(store
        .face_pairs()
        .unwrap()
        .iter()
        .any(|p| (p.0 == rejected_dup || p.1 == rejected_dup) && !p.2));
    assert_eq!(
        store.person(ann).unwrap().unwrap().name.as_deref(),
        Some("Tom")
    );
    for f in &harkin[..3] {
        assert_eq!(store.face_state(*f).unwrap().unwrap().person_id, Some(ann));
    }
    assert_eq!(store.rejections().unwrap(), rejections_before);
    assert_eq!(store.decisions(1_000_000).unwrap().len(), decisions_before);
    // Ordinary photos keep their faces where they were.
    let group_after: Vec<[f32; 4]> = faces(&store, group).iter().map(|f| f.bbox).collect();
    assert_eq!(group_after.len(), group_before.len());
    for b in &group_before {
        assert!(group_after.iter().any(|a| iou(a, b) > 0.8));
    }
    // Done once: the next --redetect searches nothing.
    let third = scan(&mut store, &models, &photos, &detect::DETECTION);
    assert_eq!((third.photos_redetected, third.photos_indexed), (0, 0));
    assert_eq!(store.integrity_check().unwrap(), "ok");
}
