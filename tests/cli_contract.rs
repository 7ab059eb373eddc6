//! The command-line JSON contract that other tools rely on: field names and exit codes.

mod common;

use std::process::Command;

fn likeness(args: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_likeness"))
        .args(args)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), v)
}

fn has(v: &serde_json::Value, keys: &[&str]) {
    for k in keys {
        assert!(v.get(k).is_some(), "missing `{k}` in {v}");
    }
}

#[test]
fn json_fields_and_exit_codes() {
    let Some(data) = common::shared_data("json_fields_and_exit_codes") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("l.db");
    let db = db.to_str().unwrap();
    let johns = data.join("dev/people/dlib_johns/John_Simm");
    let photos: Vec<_> = {
        let mut v: Vec<_> = std::fs::read_dir(&johns)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };

    // --json and --db are accepted after the subcommand too.
    let (rc, v) = likeness(&[
        "scan",
        johns.to_str().unwrap(),
        "--json",
        "--db",
        db,
        "--failed",
    ]);
    assert_eq!(rc, 0);
    has(
        &v,
        &[
            "photos_seen",
            "photos_indexed",
            "photos_unchanged",
            "photos_failed",
            "photos_missing",
            "faces_found",
            "seconds",
            "failed",
        ],
    );
    assert_eq!(v["photos_indexed"], 11);

    let (rc, v) = likeness(&["--json", "--db", db, "stats"]);
    assert_eq!(rc, 0);
    has(
        &v,
        &[
            "photos",
            "faces",
            "photos_failed",
            "photos_missing",
            "models",
        ],
    );
    assert_eq!(v["photos"], 11);

    let (rc, v) = likeness(&["--json", "faces", photos[0].to_str().unwrap()]);
    assert_eq!(rc, 0);
    has(&v, &["faces", "width", "height"]);
    let face = &v["faces"][0];
    has(face, &["box", "landmarks", "score"]);
    assert_eq!(face["box"].as_array().unwrap().len(), 4);
    assert_eq!(face["landmarks"].as_array().unwrap().len(), 5);

    let (rc, v) = likeness(&[
        "--json",
        "verify",
        photos[0].to_str().unwrap(),
        photos[1].to_str().unwrap(),
    ]);
    assert_eq!(rc, 0);
    has(&v, &["distance", "threshold", "same_person"]);
    assert_eq!(v["same_person"], true);

    // Could not run: a folder that does not exist is a non-zero exit with no JSON.
    let (rc, v) = likeness(&["--json", "--db", db, "scan", "/no/such/folder"]);
    assert_ne!(rc, 0);
    assert!(v.is_null());
}
