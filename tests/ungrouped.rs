//! Faces in nobody: listed, ignored for good (through re-scans and both kinds of re-cluster),
//! and batches of faces moved, taken out or ignored as one decision that one `undo` restores.

mod common;

use std::path::Path;
use std::process::Command;

fn likeness(db: &Path, args: &[&str]) -> serde_json::Value {
    common::cli(db, args)
}

fn ids(v: &serde_json::Value) -> Vec<i64> {
    v["faces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["face_id"].as_i64().unwrap())
        .collect()
}

#[test]
fn ignored_faces_stay_ignored_and_batches_are_one_decision() {
    let Some(data) = common::shared_data("ignored_faces_stay_ignored_and_batches_are_one_decision")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let pics = tmp.path().join("pics");
    common::copy_lfw(&data, &pics, &["Hans_Blix", "Naomi_Watts"]);
    for f in ["2008_002470.jpg", "2009_004587.jpg"] {
        std::fs::copy(data.join("dev/group/dlib_faces").join(f), pics.join(f)).unwrap();
    }
    let db = tmp.path().join("lib.db");
    likeness(&db, &["scan", pics.to_str().unwrap()]);
    likeness(&db, &["cluster"]);
    let before = likeness(&db, &["unassigned", "--limit", "1000"]);
    let total = before["total"].as_u64().unwrap();
    assert!(total >= 3, "{before}");
    let first = &before["faces"][0];
    for k in ["face_id", "photo", "box"] {
        assert!(first.get(k).is_some(), "missing {k} in {first}");
    }
    let strangers: Vec<i64> = ids(&before).into_iter().take(3).collect();
    let args: Vec<String> = strangers.iter().map(i64::to_string).collect();
    let mut cmd = vec!["ignore"];
    cmd.extend(args.iter().map(String::as_str));
    likeness(&db, &cmd);
    let after = likeness(&db, &["unassigned", "--limit", "1000"]);
    assert_eq!(after["total"].as_u64().unwrap(), total - 3);
    assert!(ids(&after).iter().all(|f| !strangers.contains(f)));
    assert_eq!(likeness(&db, &["stats"])["ignored"], 3);
    // They are listed where an ignore can be taken back from.
    let ignored = likeness(&db, &["unassigned", "--ignored"]);
    assert_eq!(ignored["total"], 3);
    let mut listed = ids(&ignored);
    listed.sort_unstable();
    let mut want = strangers.clone();
    want.sort_unstable();
    assert_eq!(listed, want);

    // A new scan (one photo changed on disk, the rest unchanged) and both re-clusters keep
    // them out of everyone.
    let group = pics.join("2009_004587.jpg");
    let mut bytes = std::fs::read(&group).unwrap();
    bytes.extend_from_slice(b"\0\0");
    std::fs::write(&group, bytes).unwrap();
    likeness(&db, &["scan", pics.to_str().unwrap()]);
    likeness(&db, &["cluster"]);
    likeness(&db, &["cluster", "--full"]);
    let store = likeness::store::Store::open(&db).unwrap();
    for f in &strangers {
        let s = store.face_state(*f).unwrap().unwrap();
        assert!(s.ignored && s.person_id.is_none(), "face {f}: {s:?}");
    }
    drop(store);
    assert_eq!(likeness(&db, &["stats"])["ignored"], 3);

    // One undo shows all three again.
    likeness(&db, &["undo"]);
    assert_eq!(likeness(&db, &["stats"])["ignored"], 0);
    assert_eq!(likeness(&db, &["unassigned", "--ignored"])["total"], 0);
    let back = likeness(&db, &["unassigned", "--limit", "1000"]);
    assert!(strangers.iter().all(|f| ids(&back).contains(f)));

    // Two ungrouped faces of different photos moved to a person in one decision; one undo.
    let people = likeness(&db, &["people"]);
    let person = people["people"][0]["id"].as_i64().unwrap();
    let store = likeness::store::Store::open(&db).unwrap();
    let mut two: Vec<i64> = Vec::new();
    let mut photos = std::collections::HashSet::new();
    for f in ids(&back) {
        let s = store.face_state(f).unwrap().unwrap();
        let clash = store
            .person_faces(person)
            .unwrap()
            .iter()
            .any(|p| p.photo_id == s.photo_id);
        if !clash && photos.insert(s.photo_id) {
            two.push(f);
        }
        if two.len() == 2 {
            break;
        }
    }
    drop(store);
    assert_eq!(two.len(), 2);
    let n_before = likeness(&db, &["person", &person.to_string()])["faces"]
        .as_array()
        .unwrap()
        .len();
    likeness(
        &db,
        &[
            "move",
            &two[0].to_string(),
            &two[1].to_string(),
            &person.to_string(),
        ],
    );
    let n = |db: &Path| {
        likeness(db, &["person", &person.to_string()])["faces"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(n(&db), n_before + 2);
    // Taken out again as one decision, then that undone, then the move undone: one step each.
    likeness(&db, &["reject", &two[0].to_string(), &two[1].to_string()]);
    assert_eq!(n(&db), n_before);
    likeness(&db, &["undo"]);
    assert_eq!(n(&db), n_before + 2);
    likeness(&db, &["undo"]);
    assert_eq!(n(&db), n_before);

    // Two faces the user called different people never join one person in a batch.
    likeness(
        &db,
        &["different", &two[0].to_string(), &two[1].to_string()],
    );
    let out = Command::new(env!("CARGO_BIN_EXE_likeness"))
        .args(["--db", db.to_str().unwrap(), "move"])
        .args([two[0], two[1], person].map(|v| v.to_string()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("marked different people"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(n(&db), n_before);
}

#[test]
fn two_photo_people_become_people_and_stay_through_scans_and_reclusters() {
    let Some(data) = common::shared_data("two_photo_people_become_people_and_stay") else {
        return;
    };
    // The first ten LFW identities with exactly two photos.
    let tsv = std::fs::read_to_string(data.join("lfw/identities_min2.tsv")).unwrap();
    let mut by: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for line in tsv.lines().skip(1) {
        let (path, who) = line.split_once('\t').unwrap();
        by.entry(who.to_string())
            .or_default()
            .push(path.to_string());
    }
    let pairs: Vec<(String, Vec<String>)> = by
        .into_iter()
        .filter(|(_, v)| v.len() == 2)
        .take(10)
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let pics = tmp.path().join("pics");
    std::fs::create_dir_all(&pics).unwrap();
    for (_, files) in &pairs {
        for f in files {
            let src = data.join("lfw").join(f);
            std::fs::copy(&src, pics.join(src.file_name().unwrap())).unwrap();
        }
    }
    let db = tmp.path().join("lib.db");
    likeness(&db, &["scan", pics.to_str().unwrap()]);
    likeness(&db, &["cluster", "--full"]);
    // Which identities are a person of their own two photos, and no one else's.
    let grouped = |db: &Path| -> Vec<String> {
        let store = likeness::store::Store::open(db).unwrap();
        let mut out = Vec::new();
        for p in store.people().unwrap().iter().filter(|p| p.faces > 0) {
            let faces = store.person_faces(p.id).unwrap();
            let names: std::collections::BTreeSet<String> = faces
                .iter()
                .map(|f| {
                    let file = Path::new(&f.path).file_name().unwrap().to_string_lossy();
                    file[..file.rfind('_').unwrap()].to_string()
                })
                .collect();
            assert_eq!(names.len(), 1, "one person is one identity: {names:?}");
            if faces.len() == 2 {
                out.extend(names);
            }
        }
        out.sort();
        out
    };
    let first = grouped(&db);
    eprintln!(
        "{} of {} two-photo identities became people",
        first.len(),
        pairs.len()
    );
    assert!(
        first.len() >= 6,
        "two-photo people found: {first:?} of {:?}",
        pairs.iter().map(|p| &p.0).collect::<Vec<_>>()
    );
    // A new photo elsewhere, then both kinds of re-cluster: the same people.
    std::fs::copy(
        data.join("dev/group/dlib_faces/2008_002470.jpg"),
        pics.join("group.jpg"),
    )
    .unwrap();
    likeness(&db, &["scan", pics.to_str().unwrap()]);
    likeness(&db, &["cluster"]);
    assert_eq!(grouped(&db), first);
    likeness(&db, &["cluster", "--full"]);
    assert_eq!(grouped(&db), first);
}
