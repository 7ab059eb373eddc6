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
