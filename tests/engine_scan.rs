//! The scan end to end with the real models on real photos from ../shared/data.

mod common;

use std::path::Path;

use likeness::pipeline::{index, ScanOptions};
use likeness::progress::{CancelToken, Progress};
use likeness::store::Store;
use likeness::vision::{detect::iou, Models};

fn scan(store: &mut Store, models: &Models, roots: &[&Path]) -> likeness::pipeline::ScanOutcome {
    let mut opts = ScanOptions::new(roots.iter().map(|p| p.to_path_buf()).collect());
    opts.inference_threads = 2;
    index(store, models, &opts, &CancelToken::new(), &Progress::new()).unwrap()
}

#[test]
fn dev_group_photos_recall_labelled_faces_and_reject_dogs() {
    let Some(data) = common::shared_data("dev_group_photos_recall_labelled_faces_and_reject_dogs")
    else {
        return;
    };
    let dir = data.join("dev/group/dlib_faces");
    let before = common::fingerprint_tree(&dir);
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(&tmp.path().join("l.db")).unwrap();
    let models = Models::load_default().unwrap();
    let out = scan(&mut store, &models, &[&dir]);
    assert_eq!(out.photos_failed, 0, "{:?}", out.failures);

    let faces = store.all_faces().unwrap();
    let path_of = |id| store.photo_path(id).unwrap().unwrap();
    let tsv = std::fs::read_to_string(dir.join("boxes.tsv")).unwrap();
    let (mut found, mut total) = (0, 0);
    for line in tsv.lines().skip(1) {
        let t: Vec<&str> = line.split('\t').collect();
        let v: Vec<f32> = t[2..6].iter().map(|x| x.parse().unwrap()).collect();
        let gt = [v[0], v[1], v[0] + v[2], v[1] + v[3]];
        total += 1;
        if faces
            .iter()
            .any(|f| path_of(f.photo_id).ends_with(t[1]) && iou(&f.bbox, &gt) >= 0.4)
        {
            found += 1;
        }
    }
    let recall = found as f64 / total as f64;
    eprintln!("dev group recall {found}/{total}");
    assert!(recall >= 0.95, "recall {recall}");
    let dogs = faces
        .iter()
        .filter(|f| path_of(f.photo_id).ends_with("dogs.jpg"))
        .count();
    assert_eq!(dogs, 0, "dog faces must not be people");
    assert_eq!(
        before,
        common::fingerprint_tree(&dir),
        "photos were modified"
    );
}

#[test]
fn rescans_are_incremental_and_faces_follow_moved_photos() {
    let Some(data) = common::shared_data("rescans_are_incremental_and_faces_follow_moved_photos")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let lib = std::fs::canonicalize(tmp.path()).unwrap().join("photos");
    let files = common::copy_lfw(&data, &lib, &["Aaron_Peirsol", "Abdullah_Gul"]);
    let mut store = Store::open(&tmp.path().join("l.db")).unwrap();
    let models = Models::load_default().unwrap();

    let first = scan(&mut store, &models, &[&lib]);
    assert_eq!(first.photos_indexed as usize, files.len());
    assert!(first.faces_found as usize >= files.len());
    let faces_before = store.all_faces().unwrap();

    let again = scan(&mut store, &models, &[&lib]);
    assert_eq!(again.photos_unchanged as usize, files.len());
    assert_eq!(again.photos_indexed, 0);
    assert_eq!(
        store.all_faces().unwrap(),
        faces_before,
        "a re-scan changed faces"
    );

    // Move one photo to another folder and rename it; delete another; overwrite a third.
    let moved_from = &files[0];
    let old_row = store
        .photo_by_path(&moved_from.to_string_lossy())
        .unwrap()
        .unwrap();
    let moved_faces = store.faces_of_photo(old_row.id).unwrap();
    let moved_to = lib.join("renamed/holiday.jpg");
    std::fs::create_dir_all(moved_to.parent().unwrap()).unwrap();
    std::fs::rename(moved_from, &moved_to).unwrap();
    std::fs::remove_file(&files[1]).unwrap();
    std::fs::copy(&files[files.len() - 1], &files[2]).unwrap();

    let third = scan(&mut store, &models, &[&lib]);
    assert_eq!(third.photos_moved, 1);
    assert_eq!(
        third.photos_indexed, 1,
        "only the overwritten photo is re-processed"
    );
    assert_eq!(third.photos_missing, 1);
    let row = store
        .photo_by_path(&moved_to.to_string_lossy())
        .unwrap()
        .unwrap();
    assert_eq!(row.id, old_row.id, "the moved photo keeps its identity");
    assert_eq!(store.faces_of_photo(row.id).unwrap(), moved_faces);
    let stats = store.stats().unwrap();
    assert_eq!(stats.photos_missing, 1);
    // The deleted photo's faces are kept (names attached to them must survive).
    let gone = store
        .photo_by_path(&files[1].to_string_lossy())
        .unwrap()
        .unwrap();
    assert!(!store.faces_of_photo(gone.id).unwrap().is_empty());
    // No duplicates: one face row per (photo, box).
    let all = store.all_faces().unwrap();
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert!(
                !(a.photo_id == b.photo_id && iou(&a.bbox, &b.bbox) > 0.9),
                "duplicate face"
            );
        }
    }
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn broken_and_odd_files_are_reported_and_skipped() {
    let Some(data) = common::shared_data("broken_and_odd_files_are_reported_and_skipped") else {
        return;
    };
    // Stored paths are canonical.
    let dir = std::fs::canonicalize(data.join("dev/robustness")).unwrap();
    let before = common::fingerprint_tree(&dir);
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(&tmp.path().join("l.db")).unwrap();
    let models = Models::load_default().unwrap();
    let out = scan(&mut store, &models, &[&dir]);
    assert_eq!(out.photos_seen, out.photos_indexed + out.photos_failed);
    assert!(out.photos_failed >= 10, "{:?}", out.failures);
    assert!(out.failures.iter().all(|f| !f.reason.is_empty()));
    let reason = |name: &str| {
        out.failures
            .iter()
            .find(|f| f.path.ends_with(name))
            .map(|f| f.reason.clone())
            .unwrap_or_default()
    };
    assert!(reason("empty_0_bytes.jpg").contains("empty"));
    assert!(reason("text_named_as.jpg").contains("not an image"));
    // A JPEG named .png is still a photo.
    assert!(out
        .failures
        .iter()
        .all(|f| !f.path.ends_with("DSCN0010_jpeg_named_as.png")));
    // EXIF orientation is applied: every rotated copy of hopper shows its face upright.
    for ext in ["jpg", "webp"] {
        for o in 2..=8 {
            let p = dir.join(format!("pillow/hopper_orientation_{o}.{ext}"));
            let row = store.photo_by_path(&p.to_string_lossy()).unwrap().unwrap();
            assert_eq!(
                store.faces_of_photo(row.id).unwrap().len(),
                1,
                "{}",
                p.display()
            );
        }
    }
    assert_eq!(
        before,
        common::fingerprint_tree(&dir),
        "photos were modified"
    );
}

#[test]
fn refined_landmarks_stay_on_the_face_and_default_to_the_detectors() {
    let Some(data) = common::shared_data("refined_landmarks_stay_on_the_face") else {
        return;
    };
    // The refinement needs only the detector: face_reid_0095's alignment asks for it.
    let spec = &likeness::vision::models::FACE_REID_0095.align;
    assert!(spec.refine_landmarks);
    let mut engine = Models::load_default().unwrap().engine().unwrap();
    let dir = data.join("dev/group/dlib_faces");
    // The first photo by name (read_dir's order differs between file systems).
    let mut photos: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg") && !p.ends_with("dogs.jpg"))
        .collect();
    photos.sort();
    let photo = photos.remove(0);
    let img = image::open(&photo).unwrap().to_rgb8();
    let dets = engine.detector.detect(&img, 20.0).unwrap();
    assert!(!dets.is_empty(), "{}", photo.display());
    for d in &dets {
        let refined = engine
            .detector
            .refine_landmarks(&img, &d.landmarks, spec)
            .unwrap();
        // Averaged with a second detection of the same face: it moves by a fraction of the
        // eye distance (small faces most: ~2 px at 13 px between the eyes), never to another
        // face (a neighbour is more than an eye distance away).
        let eyes =
            (d.landmarks[1][0] - d.landmarks[0][0]).hypot(d.landmarks[1][1] - d.landmarks[0][1]);
        for (a, b) in d.landmarks.iter().zip(&refined) {
            let moved = (a[0] - b[0]).hypot(a[1] - b[1]);
            assert!(moved < 0.5 * eyes, "moved {moved} px, eyes {eyes} px");
        }
    }
    // Where the canvas holds no face, the landmarks stay as given.
    let blank = image::RgbImage::new(400, 400);
    let lm = dets[0].landmarks;
    assert_eq!(
        engine.detector.refine_landmarks(&blank, &lm, spec).unwrap(),
        lm
    );
}
