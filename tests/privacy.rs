//! Private by default: the library file is the owner's alone, and `forget` leaves no face data in
//! it (issue 10).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

fn likeness(db: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_likeness"))
        .arg("--json")
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (
        out.status.code().unwrap_or(-1),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn library_files_are_owner_only_and_old_ones_are_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let shared = tmp.path();
    std::fs::set_permissions(shared, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = shared.join("new-folder");
    let db = dir.join("library.db");
    {
        let mut store = likeness::store::Store::open(&db).unwrap();
        store.add_folder("/photos").unwrap();
        assert_eq!(
            mode(&dir),
            0o700,
            "the folder Likeness made for the library"
        );
        for f in ["library.db", "library.db-wal", "library.db-shm"] {
            assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
        }
    }
    // A folder the user chose and that existed already is theirs: left as it is.
    assert_eq!(mode(shared), 0o755);

    // A library made world-readable (as before this change) is tightened when opened.
    for f in ["library.db", "library.db-wal", "library.db-shm"] {
        let p = dir.join(f);
        if p.exists() {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    let _store = likeness::store::Store::open(&db).unwrap();
    for f in ["library.db", "library.db-wal", "library.db-shm"] {
        let p = dir.join(f);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{f} after reopening");
        }
    }
}

/// Bytes of `needle` anywhere in the files of the library (`db`, `-wal`, `-shm`).
fn library_contains(db: &Path, needle: &[u8]) -> bool {
    ["", "-wal", "-shm"].iter().any(|s| {
        let mut name = db.as_os_str().to_owned();
        name.push(s);
        std::fs::read(std::path::PathBuf::from(name))
            .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            .unwrap_or(false)
    })
}

#[test]
fn forget_removes_faces_for_good_and_asks_first() {
    let Some(data) = common::shared_data("forget_removes_faces_for_good_and_asks_first") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    common::copy_lfw(&data, &photos, &["Hans_Blix", "Naomi_Watts"]);
    let before = common::fingerprint_tree(&photos);
    let db = tmp.path().join("l.db");
    let (rc, scan, err) = likeness(&db, &["scan", photos.to_str().unwrap()]);
    assert_eq!(rc, 0, "{err}");
    let faces = scan["faces_found"].as_u64().unwrap();
    assert!(faces >= 20, "{scan}");
    assert_eq!(likeness(&db, &["cluster"]).0, 0);
    let (_, people, _) = likeness(&db, &["people"]);
    let people = people["people"].as_array().unwrap().clone();
    assert!(people.len() >= 2, "{people:?}");

    // Known stored bytes: one vector and one thumbnail of each person.
    let sample = |person: i64| -> (Vec<u8>, Vec<u8>) {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.query_row(
            "SELECT e.vector, t.jpeg FROM faces f JOIN embeddings e ON e.face_id = f.id
             JOIN face_thumbs t ON t.face_id = f.id WHERE f.person_id = ?1 LIMIT 1",
            [person],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    let first = people[0]["id"].as_i64().unwrap();
    let second = people[1]["id"].as_i64().unwrap();
    let first_faces = people[0]["faces"].as_u64().unwrap();
    let (v1, t1) = sample(first);
    let (v2, t2) = sample(second);
    let thumb_window = |t: &[u8]| t[t.len() / 2..t.len() / 2 + 64].to_vec();
    assert!(
        library_contains(&db, &v1),
        "the search finds stored vectors"
    );
    assert!(
        library_contains(&db, &thumb_window(&t1)),
        "and stored thumbnails"
    );

    // Without --yes and without a terminal: a sentence, nothing forgotten.
    let (rc, _, err) = likeness(&db, &["forget", "--all"]);
    assert_ne!(rc, 0);
    assert!(err.contains("--yes"), "{err}");
    let (_, stats, _) = likeness(&db, &["stats"]);
    assert_eq!(stats["faces"].as_u64(), Some(faces));

    // One person: their faces, vectors and thumbnails go; the other person's stay.
    let (rc, out, err) = likeness(&db, &["forget", "--person", &first.to_string(), "--yes"]);
    assert_eq!(rc, 0, "{err}");
    assert_eq!(out["faces_forgotten"].as_u64(), Some(first_faces));
    assert!(
        !library_contains(&db, &v1),
        "a forgotten vector is still in the file"
    );
    assert!(!library_contains(&db, &thumb_window(&t1)));
    assert!(library_contains(&db, &v2));
    let (_, people_after, _) = likeness(&db, &["people"]);
    let ids: Vec<i64> = people_after["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert!(!ids.contains(&first) && ids.contains(&second), "{ids:?}");

    // Everything.
    let (rc, out, err) = likeness(&db, &["forget", "--all", "--yes"]);
    assert_eq!(rc, 0, "{err}");
    assert_eq!(out["faces_forgotten"].as_u64(), Some(faces - first_faces));
    assert!(!library_contains(&db, &v2));
    assert!(!library_contains(&db, &thumb_window(&t2)));
    let (_, stats, _) = likeness(&db, &["stats"]);
    assert_eq!(stats["faces"].as_u64(), Some(0), "{stats}");
    assert_eq!(stats["photos"].as_u64(), scan["photos_indexed"].as_u64());
    // Photos untouched, and a re-scan does not bring the faces back.
    assert_eq!(common::fingerprint_tree(&photos), before);
    let (rc, rescan, _) = likeness(&db, &["scan", photos.to_str().unwrap()]);
    assert_eq!(rc, 0);
    assert_eq!(rescan["faces_found"].as_u64(), Some(0), "{rescan}");
}
