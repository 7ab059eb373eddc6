//! Faces that travel, checked with an independent client: exiftool writes MWG face regions into
//! copies of a group photo stored in each of the 8 EXIF orientations (embedded in the JPEG, or
//! in a sidecar under either name; most relative to the stored pixels as the MWG specification
//! says, one relative to the photo as shown), a scan turns the names into people on the right
//! faces; `export xmp` writes them back and exiftool reads areas within 1% of the face boxes.
//! Photos stay byte-identical throughout. And: export → fresh library → import reproduces every
//! named face of a 500-photo LFW library; a face drawn with `add-face` is stored and undone.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use image::metadata::Orientation;
use likeness::people;
use likeness::pipeline::export::{export_xmp, ExportOptions};
use likeness::pipeline::{self, ScanOptions};
use likeness::progress::{CancelToken, Progress};
use likeness::store::Store;
use likeness::vision::{detect, models, Models};

fn exiftool_works(test: &str) -> bool {
    let ok = Command::new("exiftool")
        .arg("-ver")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED {test}: exiftool not found (Debian: libimage-exiftool-perl)");
    }
    ok
}

fn exiftool(args: &[&str]) -> String {
    let out = Command::new("exiftool").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "exiftool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn likeness(db: &Path, args: &[&str]) -> serde_json::Value {
    common::cli(db, args)
}

/// The orientation whose application undoes `o` (the stored pixels of a photo shown upright).
fn inverse(o: u8) -> u8 {
    match o {
        6 => 8,
        8 => 6,
        o => o,
    }
}

/// Where a box on the photo as shown lies on the stored pixels, found without any of
/// Likeness's geometry: paint it on a blank picture of the shown size, turn that picture the
/// way the photo's pixels were turned, and measure the painted pixels. Normalised x, y, w, h.
fn stored_rect(bbox: [f32; 4], shown: (u32, u32), o: u8) -> [f64; 4] {
    let mut mask = image::GrayImage::new(shown.0, shown.1);
    let (x1, y1) = (bbox[0].round() as u32, bbox[1].round() as u32);
    let (x2, y2) = (
        (bbox[2].round() as u32).min(shown.0),
        (bbox[3].round() as u32).min(shown.1),
    );
    for y in y1..y2 {
        for x in x1..x2 {
            mask.put_pixel(x, y, image::Luma([255]));
        }
    }
    let mut m = image::DynamicImage::ImageLuma8(mask);
    m.apply_orientation(Orientation::from_exif(inverse(o)).unwrap());
    let m = m.to_luma8();
    let (mut lx, mut ly, mut hx, mut hy) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in m.enumerate_pixels() {
        if p[0] > 0 {
            lx = lx.min(x);
            ly = ly.min(y);
            hx = hx.max(x + 1);
            hy = hy.max(y + 1);
        }
    }
    let (w, h) = (m.width() as f64, m.height() as f64);
    [
        lx as f64 / w,
        ly as f64 / h,
        (hx - lx) as f64 / w,
        (hy - ly) as f64 / h,
    ]
}

/// An exiftool struct value for one named region, centre-based as MWG says.
fn region(name: &str, r: [f64; 4]) -> String {
    format!(
        "{{Area={{X={:.6},Y={:.6},W={:.6},H={:.6},Unit=normalized}},Name={name},Type=Face}}",
        r[0] + r[2] / 2.0,
        r[1] + r[3] / 2.0,
        r[2],
        r[3]
    )
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    detect::iou(a, b)
}

#[test]
fn exiftool_regions_become_people_in_every_orientation_and_export_reads_back() {
    let test = "exiftool_regions_become_people_in_every_orientation_and_export_reads_back";
    let Some(data) = common::shared_data(test) else {
        return;
    };
    if !exiftool_works(test) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pics = tmp.path().join("pics");
    std::fs::create_dir_all(&pics).unwrap();
    let db = tmp.path().join("lib.db");
    // A group photo (500x332, six faces), stored in each orientation so that it shows upright.
    let upright = image::open(data.join("dev/group/dlib_faces/2008_002470.jpg"))
        .unwrap()
        .to_rgb8();
    let shown = upright.dimensions();
    let photo = |o: u8| pics.join(format!("o{o}.jpg"));
    for o in 1..=8u8 {
        let mut img = image::DynamicImage::ImageRgb8(upright.clone());
        img.apply_orientation(Orientation::from_exif(inverse(o)).unwrap());
        img.to_rgb8().save(photo(o)).unwrap();
        exiftool(&[
            "-q",
            "-overwrite_original",
            &format!("-Orientation#={o}"),
            photo(o).to_str().unwrap(),
        ]);
    }
    // The faces Likeness finds, before any region exists.
    let v = likeness(&db, &["scan", "--no-xmp", pics.to_str().unwrap()]);
    assert_eq!(v["photos_indexed"], 8);
    let faces_of = |db: &Path, o: u8| {
        let store = Store::open(db).unwrap();
        let p = std::fs::canonicalize(photo(o)).unwrap();
        let row = store.photo_by_path(p.to_str().unwrap()).unwrap().unwrap();
        store.faces_of_photo(row.id).unwrap()
    };
    // Alice and Bob are the two largest faces, the same two in every copy.
    let mut reference = faces_of(&db, 1);
    reference.sort_by(|a, b| {
        let area = |f: &likeness::store::FaceRow| (f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1]);
        area(b).total_cmp(&area(a))
    });
    assert!(reference.len() >= 2, "the group photo has faces");
    let (alice, bob) = (reference[0].bbox, reference[1].bbox);
    // A patch of wall with no face: the top right corner of the photo as shown.
    let blank = [
        shown.0 as f32 * 0.85,
        2.0,
        shown.0 as f32 * 0.95,
        2.0 + shown.1 as f32 * 0.15,
    ];
    let blank_rect = |o: u8| stored_rect(blank, shown, o);
    let mut expected: BTreeMap<u8, (i64, i64)> = BTreeMap::new();
    for o in 1..=8u8 {
        let faces = faces_of(&db, o);
        let id = |b: &[f32; 4]| {
            faces
                .iter()
                .find(|f| iou(&f.bbox, b) > 0.8)
                .unwrap_or_else(|| panic!("orientation {o}: the face at {b:?} is found"))
                .id
        };
        expected.insert(o, (id(&alice), id(&bob)));
    }

    // exiftool writes the regions: odd orientations into the photo, even ones into a sidecar
    // (photo.jpg.xmp; photo.xmp for 4); 7 as shown instead of on the stored pixels, with the
    // shown size as AppliedToDimensions, as some writers do. Sidecar 2 carries other metadata.
    for o in 1..=8u8 {
        let as_shown = o == 7;
        let r = |b: [f32; 4]| {
            if as_shown {
                stored_rect(b, shown, 1)
            } else {
                stored_rect(b, shown, o)
            }
        };
        let (w, h) = if o >= 5 && !as_shown {
            (shown.1, shown.0)
        } else {
            shown
        };
        // Photo 1 also has a region without a name where there is no face (a hint the
        // detector does not confirm: no face); photo 3 a named one there (the other program's
        // word: a face of its own, aligned from the box).
        let extra = match o {
            1 => format!(
                ",{{Area={{X={:.6},Y={:.6},W=0.1,H=0.15,Unit=normalized}},Type=Face}}",
                blank_rect(1)[0] + 0.05,
                blank_rect(1)[1] + 0.075
            ),
            3 => format!(",{}", region("Carol Example", blank_rect(3))),
            _ => String::new(),
        };
        let info = format!(
            "-XMP-mwg-rs:RegionInfo={{AppliedToDimensions={{W={w},H={h},Unit=pixel}},RegionList=[{},{}{extra}]}}",
            region("Alice Example", r(alice)),
            region("Bob Example", r(bob))
        );
        let target = match o {
            4 => pics.join("o4.xmp"),
            o if o % 2 == 0 => pics.join(format!("o{o}.jpg.xmp")),
            o => photo(o),
        };
        let mut args = vec!["-q", "-overwrite_original", info.as_str()];
        if o == 2 {
            args.extend(["-XMP-dc:Subject=holiday", "-XMP-xmp:Rating=4"]);
        }
        let t = target.to_str().unwrap().to_string();
        args.push(&t);
        exiftool(&args);
    }
    let photos_before: Vec<_> = (1..=8)
        .map(|o| common::fingerprint_tree(&photo(o)))
        .collect();

    // The scan reads them: every name lands on its face, in every orientation.
    let v = likeness(&db, &["scan", pics.to_str().unwrap()]);
    assert_eq!(v["regions_imported"], 17, "{v}");
    assert_eq!(v["region_faces_added"], 1, "{v}");
    assert_eq!(v["region_conflicts"], serde_json::json!([]), "{v}");
    assert_eq!(
        faces_of(&db, 1).len(),
        reference.len(),
        "an unconfirmed hint is no face"
    );
    {
        let store = Store::open(&db).unwrap();
        let named: HashMap<String, i64> = store
            .people()
            .unwrap()
            .into_iter()
            .filter_map(|p| p.name.map(|n| (n, p.id)))
            .collect();
        for (o, (a, b)) in &expected {
            for (face, name) in [(a, "Alice Example"), (b, "Bob Example")] {
                let s = store.face_state(*face).unwrap().unwrap();
                assert_eq!(
                    s.person_id,
                    Some(named[name]),
                    "orientation {o}: face {face} is {name}"
                );
            }
        }
        assert_eq!(
            people::faces(&store, named["Alice Example"]).unwrap().len(),
            8
        );
        assert_eq!(
            people::faces(&store, named["Bob Example"]).unwrap().len(),
            8
        );
        let carol = people::faces(&store, named["Carol Example"]).unwrap();
        assert_eq!(carol.len(), 1);
        assert!(iou(&carol[0].bbox, &blank) > 0.95, "{:?}", carol[0].bbox);
    }
    // Scanning again reads nothing new and changes nothing.
    let v = likeness(&db, &["scan", pics.to_str().unwrap()]);
    assert_eq!(v["photos_indexed"], 0, "{v}");
    assert_eq!(v["regions_imported"], 0, "{v}");

    // A name given in Likeness wins over the region: rename Bob, export, read back.
    let bob_id = {
        let store = Store::open(&db).unwrap();
        store
            .face_state(expected[&1].1)
            .unwrap()
            .unwrap()
            .person_id
            .unwrap()
    };
    likeness(&db, &["name", &bob_id.to_string(), "Robert"]);
    let v = likeness(&db, &["export", "xmp"]);
    assert_eq!(v["photos_written"], 8, "{v}");
    assert_eq!(v["faces_written"], 17, "{v}");
    assert_eq!(v["failed"], serde_json::json!([]), "{v}");
    for o in 1..=8u8 {
        let sidecar = if o == 4 {
            pics.join("o4.xmp")
        } else {
            pics.join(format!("o{o}.jpg.xmp"))
        };
        let out = exiftool(&[
            "-XMP-mwg-rs:all",
            "-struct",
            "-j",
            sidecar.to_str().unwrap(),
        ]);
        let j: serde_json::Value = serde_json::from_str(&out).unwrap();
        let info = &j[0]["RegionInfo"];
        let dims = &info["AppliedToDimensions"];
        let stored = if o >= 5 { (shown.1, shown.0) } else { shown };
        assert_eq!(dims["W"], stored.0, "orientation {o}: {info}");
        assert_eq!(dims["H"], stored.1, "orientation {o}: {info}");
        let list = info["RegionList"].as_array().unwrap();
        // Photo 1 keeps the other program's unnamed region; photo 3 has Carol too.
        let extra = usize::from(o == 1 || o == 3);
        assert_eq!(list.len(), 2 + extra, "orientation {o}: {info}");
        for (name, bbox) in [("Alice Example", alice), ("Robert", bob)] {
            let r = list
                .iter()
                .find(|r| r["Name"] == name)
                .unwrap_or_else(|| panic!("orientation {o}: {name} in {info}"));
            let a = &r["Area"];
            let f = |k: &str| a[k].as_f64().unwrap();
            let got = [f("X") - f("W") / 2.0, f("Y") - f("H") / 2.0, f("W"), f("H")];
            let want = stored_rect(bbox, shown, o);
            for (g, w) in got.iter().zip(want) {
                assert!(
                    (g - w).abs() < 0.01,
                    "orientation {o}, {name}: area {got:?}, face box {want:?}"
                );
            }
        }
    }
    // The other metadata of sidecar 2 is still there.
    let other = exiftool(&[
        "-XMP-dc:Subject",
        "-XMP-xmp:Rating",
        "-s3",
        pics.join("o2.jpg.xmp").to_str().unwrap(),
    ]);
    assert_eq!(
        other.split_whitespace().collect::<Vec<_>>(),
        ["holiday", "4"]
    );
    // Photos are byte-identical after scans, a rename and the export.
    let photos_after: Vec<_> = (1..=8)
        .map(|o| common::fingerprint_tree(&photo(o)))
        .collect();
    assert_eq!(photos_before, photos_after);

    // And a fresh library made from the exported sidecars knows the same people.
    let db2 = tmp.path().join("fresh.db");
    let v = likeness(&db2, &["scan", pics.to_str().unwrap()]);
    assert_eq!(v["regions_imported"], 17, "{v}");
    let store = Store::open(&db2).unwrap();
    let mut names: Vec<(String, u64)> = people::list(&store)
        .unwrap()
        .into_iter()
        .filter_map(|p| p.name.map(|n| (n, p.faces)))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ("Alice Example".to_string(), 8),
            ("Carol Example".to_string(), 1),
            ("Robert".to_string(), 8)
        ]
    );
    drop(store);
    // Forgotten names do not come back from sidecars nobody changed.
    likeness(&db2, &["forget", "--all", "--yes"]);
    let v = likeness(&db2, &["scan", pics.to_str().unwrap()]);
    assert_eq!(v["regions_imported"], 0, "{v}");
    assert_eq!(likeness(&db2, &["stats"])["faces"], 0);
}

#[test]
fn a_face_drawn_by_hand_is_stored_pinned_and_undone() {
    let Some(data) = common::shared_data("a_face_drawn_by_hand_is_stored_pinned_and_undone") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let pics = tmp.path().join("pics");
    std::fs::create_dir_all(&pics).unwrap();
    let photo = pics.join("group.jpg");
    std::fs::copy(data.join("dev/group/dlib_faces/2008_002470.jpg"), &photo).unwrap();
    let db = tmp.path().join("lib.db");
    likeness(&db, &["scan", pics.to_str().unwrap()]);
    let before = common::fingerprint_tree(&pics);
    let p = photo.to_str().unwrap();
    // Where there is no face: aligned from the box alone, in a new person.
    let v = likeness(&db, &["add-face", p, "380", "10", "470", "120"]);
    assert_eq!(v["landmarks_found"], false, "{v}");
    let (face, person) = (
        v["face_id"].as_i64().unwrap(),
        v["person_id"].as_i64().unwrap(),
    );
    {
        let store = Store::open(&db).unwrap();
        let f = people::faces(&store, person).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].face_id, face);
        assert_eq!(f[0].bbox, [380.0, 10.0, 470.0, 120.0]);
        assert!(store.face_thumb(face).unwrap().is_some());
        let row = store
            .all_faces()
            .unwrap()
            .into_iter()
            .find(|r| r.id == face)
            .unwrap();
        assert_eq!(row.source, likeness::store::FaceSource::Drawn);
        let s = store.face_state(face).unwrap().unwrap();
        assert_eq!(s.assigned_by, Some(likeness::store::Assigner::User));
    }
    // A rescan keeps it; undo removes it and its person.
    let v2 = likeness(&db, &["scan", pics.to_str().unwrap()]);
    assert_eq!(v2["photos_unchanged"], 1);
    likeness(&db, &["undo"]);
    let store = Store::open(&db).unwrap();
    assert!(store.face_state(face).unwrap().is_none());
    assert!(store.person(person).unwrap().is_none());
    // A box over a face Likeness has already found is refused.
    let known = store.all_faces().unwrap()[0].bbox;
    drop(store);
    let out = Command::new(env!("CARGO_BIN_EXE_likeness"))
        .args(["--db", db.to_str().unwrap(), "add-face", p])
        .args(known.map(|v| v.to_string()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is already there"));
    assert_eq!(common::fingerprint_tree(&pics), before);
}

/// The LFW photos of the people with the most photos, `n` in all, copied into `dest`.
fn lfw_sample(data: &Path, dest: &Path, n: usize) -> Vec<(PathBuf, String)> {
    let root = data.join("lfw/lfw-deepfunneled");
    let mut people: Vec<(usize, PathBuf)> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (std::fs::read_dir(&p).map_or(0, |d| d.count()), p))
        .collect();
    people.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut out = Vec::new();
    'people: for (_, dir) in people {
        let name = dir.file_name().unwrap().to_string_lossy().replace('_', " ");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        std::fs::create_dir_all(dest.join(dir.file_name().unwrap())).unwrap();
        for f in files.into_iter().take(40) {
            let t = dest
                .join(dir.file_name().unwrap())
                .join(f.file_name().unwrap());
            std::fs::copy(&f, &t).unwrap();
            out.push((std::fs::canonicalize(&t).unwrap(), name.clone()));
            if out.len() == n {
                break 'people;
            }
        }
    }
    out
}

fn scan(store: &mut Store, m: &Models, dir: &Path) -> pipeline::ScanOutcome {
    pipeline::index(
        store,
        m,
        &ScanOptions::new(vec![dir.to_path_buf()]),
        &CancelToken::new(),
        &Progress::new(),
    )
    .unwrap()
}

/// Every named face as (photo, name, box).
fn named_faces(store: &Store) -> Vec<(String, String, [f32; 4])> {
    let mut v: Vec<_> = store
        .named_faces(None)
        .unwrap()
        .into_iter()
        .map(|f| {
            (
                store.photo_path(f.photo_id).unwrap().unwrap(),
                f.name,
                f.bbox,
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    v
}

#[test]
fn export_then_a_fresh_library_reproduces_every_named_face_of_500_lfw_photos() {
    let Some(data) = common::shared_data(
        "export_then_a_fresh_library_reproduces_every_named_face_of_500_lfw_photos",
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let pics = tmp.path().join("lfw");
    let sample = lfw_sample(&data, &pics, 500);
    assert_eq!(sample.len(), 500);
    let m = Models::load_for(models::DEFAULT_EMBEDDER).unwrap();
    let mut store = Store::open(&tmp.path().join("named.db")).unwrap();
    let o = scan(&mut store, &m, &pics);
    assert_eq!(o.photos_indexed, 500);
    // Name the centre face of every photo after its LFW identity: one person per identity.
    let mut by_name: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (path, name) in &sample {
        let (id, w, h) = store.photo_dims(path.to_str().unwrap()).unwrap().unwrap();
        let centre = (w as f32 / 2.0, h as f32 / 2.0);
        let face = store
            .faces_of_photo(id)
            .unwrap()
            .into_iter()
            .min_by(|a, b| {
                let d = |f: &likeness::store::FaceRow| {
                    ((f.bbox[0] + f.bbox[2]) / 2.0 - centre.0).powi(2)
                        + ((f.bbox[1] + f.bbox[3]) / 2.0 - centre.1).powi(2)
                };
                d(a).total_cmp(&d(b))
            });
        if let Some(f) = face {
            by_name.entry(name.clone()).or_default().push(f.id);
        }
    }
    for (name, faces) in &by_name {
        let (_, person) = people::split(&mut store, faces).unwrap();
        people::name(&mut store, person, Some(name)).unwrap();
    }
    let before = named_faces(&store);
    assert!(before.len() >= 495, "{} named faces", before.len());
    let photos_before = common::fingerprint_tree(&pics);
    let out = export_xmp(
        &mut store,
        &ExportOptions {
            person: None,
            sidecar: None,
        },
        &CancelToken::new(),
        &Progress::new(),
    )
    .unwrap();
    assert_eq!(out.faces_written as usize, before.len());
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    drop(store);

    // A fresh library of the same folder: the regions are read and the same faces named.
    let mut fresh = Store::open(&tmp.path().join("fresh.db")).unwrap();
    let o = scan(&mut fresh, &m, &pics);
    assert_eq!(o.regions_imported as usize, before.len());
    assert!(o.region_conflicts.is_empty(), "{:?}", o.region_conflicts);
    let after = named_faces(&fresh);
    assert_eq!(after.len(), before.len());
    for (a, b) in before.iter().zip(&after) {
        assert_eq!((&a.0, &a.1), (&b.0, &b.1));
        assert!(iou(&a.2, &b.2) > 0.99, "{a:?} vs {b:?}");
    }
    // Photos are untouched (sidecars are new files beside them).
    let photos_after: Vec<_> = common::fingerprint_tree(&pics)
        .into_iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    assert_eq!(photos_before, photos_after);
}

#[test]
fn a_sidecar_read_again_never_undoes_the_users_decisions() {
    let test = "a_sidecar_read_again_never_undoes_the_users_decisions";
    let Some(data) = common::shared_data(test) else {
        return;
    };
    if !exiftool_works(test) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pics = tmp.path().join("pics");
    std::fs::create_dir_all(&pics).unwrap();
    let photo = pics.join("group.jpg");
    std::fs::copy(data.join("dev/group/dlib_faces/2008_002470.jpg"), &photo).unwrap();
    let db = tmp.path().join("lib.db");
    likeness(&db, &["scan", "--no-xmp", pics.to_str().unwrap()]);
    let before = common::fingerprint_tree(&photo);
    // The user names one face Dana in Likeness.
    let (dana_face, erin_face, ids) = {
        let mut store = Store::open(&db).unwrap();
        let mut faces = store.all_faces().unwrap();
        faces.sort_by(|a, b| (b.bbox[2] - b.bbox[0]).total_cmp(&(a.bbox[2] - a.bbox[0])));
        let (_, dana) = people::split(&mut store, &[faces[0].id]).unwrap();
        people::name(&mut store, dana, Some("Dana")).unwrap();
        let mut ids: Vec<i64> = faces.iter().map(|f| f.id).collect();
        ids.sort();
        (faces[0].clone(), faces[1].clone(), ids)
    };
    // Another program calls that face Frank and another one Erin.
    let rect = |b: [f32; 4]| stored_rect(b, (500, 332), 1);
    let sidecar = pics.join("group.jpg.xmp");
    let info = format!(
        "-XMP-mwg-rs:RegionInfo={{AppliedToDimensions={{W=500,H=332,Unit=pixel}},RegionList=[{},{}]}}",
        region("Frank", rect(dana_face.bbox)),
        region("erin", rect(erin_face.bbox))
    );
    exiftool(&["-q", &info, sidecar.to_str().unwrap()]);
    let v = likeness(&db, &["scan", pics.to_str().unwrap()]);
    assert_eq!(v["regions_imported"], 1, "{v}");
    let conflicts = v["region_conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{v}");
    assert_eq!(conflicts[0]["name"], "Frank");
    assert!(
        conflicts[0]["reason"].as_str().unwrap().contains("Dana"),
        "{v}"
    );
    let state = |face: i64| {
        let store = Store::open(&db).unwrap();
        let s = store.face_state(face).unwrap().unwrap();
        s.person_id
            .and_then(|p| store.person(p).unwrap())
            .and_then(|p| p.name)
    };
    assert_eq!(state(dana_face.id).as_deref(), Some("Dana"));
    assert_eq!(state(erin_face.id).as_deref(), Some("erin"));
    // Reading regions of an unchanged photo detected nothing again: the same faces.
    let mut now: Vec<i64> = Store::open(&db)
        .unwrap()
        .all_faces()
        .unwrap()
        .iter()
        .map(|f| f.id)
        .collect();
    now.sort();
    assert_eq!(now, ids);

    // The user undoes Erin; another program rewrites the sidecar for another reason.
    let u = likeness(&db, &["undo"]);
    assert_eq!(u["ok"], true, "{u}");
    assert_eq!(state(erin_face.id), None);
    std::thread::sleep(std::time::Duration::from_millis(20));
    exiftool(&[
        "-q",
        "-overwrite_original",
        "-XMP-xmp:Rating=5",
        sidecar.to_str().unwrap(),
    ]);
    let v = likeness(&db, &["scan", pics.to_str().unwrap()]);
    assert_eq!(v["regions_imported"], 0, "{v}");
    assert_eq!(state(erin_face.id), None, "an undone name stays undone");
    assert_eq!(state(dana_face.id).as_deref(), Some("Dana"));
    let r = likeness(&db, &["regions"]);
    assert_eq!(r["region_conflicts"].as_array().unwrap().len(), 1, "{r}");

    // Export says what Likeness knows: Dana, and no Erin or Frank on its faces.
    let v = likeness(&db, &["export", "xmp"]);
    assert_eq!(v["faces_written"], 1, "{v}");
    let out = exiftool(&[
        "-XMP-mwg-rs:RegionName",
        "-XMP-xmp:Rating",
        "-s3",
        sidecar.to_str().unwrap(),
    ]);
    assert_eq!(out.split_whitespace().collect::<Vec<_>>(), ["Dana", "5"]);
    assert_eq!(common::fingerprint_tree(&photo), before);
}
