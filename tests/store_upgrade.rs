//! Upgrading a database written by an older schema keeps every row.

use likeness::store::{migrations, Store};

#[test]
fn v1_database_upgrades_without_losing_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("old.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(include_str!("fixtures/schema_v1.sql"))
            .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), migrations::latest());
    let stats = store.stats().unwrap();
    assert_eq!(stats.photos, 1);
    assert_eq!(stats.faces, 2);
    assert_eq!(stats.photos_failed, 1);
    assert_eq!(stats.photos_missing, 1);
    assert_eq!(stats.models, vec![("dlib_resnet_v1".to_string(), 3)]);
    // The missing photo's face is still there, with its thumbnail and embedding.
    let missing = store
        .photo_by_path("/home/anna/Pictures/old.jpg")
        .unwrap()
        .unwrap();
    let faces = store.faces_of_photo(missing.id).unwrap();
    assert_eq!(faces.len(), 1);
    // Faces from before faces could be drawn or imported were all found by the detector.
    assert_eq!(faces[0].source, likeness::store::FaceSource::Detected);
    assert!(store.region_conflicts().unwrap().is_empty());
    assert_eq!(
        store.face_thumb(faces[0].id).unwrap().unwrap(),
        vec![0xFF, 0xD8, 0xFF, 0xD9]
    );
    assert_eq!(store.integrity_check().unwrap(), "ok");
    // Opening again is a no-op.
    drop(store);
    let again = Store::open(&path).unwrap();
    assert_eq!(again.stats().unwrap().faces, 2);
}

#[test]
fn v2_library_is_quantised_in_place_and_keeps_its_model_and_decisions() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("v2.db");
    let (raw_face1, raw_blob_len): (Vec<f32>, usize) = {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(include_str!("fixtures/schema_v2.sql"))
            .unwrap();
        let blob: Vec<u8> = conn
            .query_row("SELECT vector FROM embeddings WHERE face_id = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        (likeness::store::blob_to_f32s(&blob), blob.len())
    };
    assert_eq!(raw_blob_len, 512, "the fixture holds f32 vectors");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), migrations::latest());
    // The model the library was made with stays active.
    assert_eq!(
        store.active_embedder().unwrap().as_deref(),
        Some("dlib_resnet_v1")
    );
    // One byte per dimension, and the values survive within the quantisation step.
    let counts = store.model_counts().unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!(counts[0].vectors, 3);
    let v = store.face_vector(1, "dlib_resnet_v1").unwrap().unwrap();
    assert_eq!(v.len(), 128);
    let max = raw_face1.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    for (a, b) in raw_face1.iter().zip(&v) {
        assert!((a - b).abs() <= max / 254.0 + 1e-6, "{a} vs {b}");
    }
    let bytes: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT max(length(vector)) FROM embeddings", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(bytes, 128);
    // People, names, rejections and answers are untouched.
    let anna = store.person(1).unwrap().unwrap();
    assert_eq!(anna.name.as_deref(), Some("Anna"));
    assert_eq!(store.rejections().unwrap(), vec![(2, 1)]);
    assert_eq!(store.face_pairs().unwrap(), vec![(1, 2, false)]);
    assert_eq!(store.decisions(10).unwrap().len(), 1);
    // Step 7: faces in a person count as considered by clustering; the others are offered to
    // people once more by the next incremental run.
    let flags: Vec<(Option<i64>, bool)> = rusqlite::Connection::open(&path)
        .unwrap()
        .prepare("SELECT person_id, clustered FROM faces ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!flags.is_empty());
    assert!(flags.iter().all(|&(p, c)| c == p.is_some()), "{flags:?}");
    assert_eq!(store.integrity_check().unwrap(), "ok");
}
