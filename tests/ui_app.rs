//! The desktop app driven headless with egui_kittest: no display, no GPU. The flow tests scan
//! real faces from `../shared/data` (skipped, with a message, when that folder is absent).

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

use likeness::ui::{App, Command, Job, Saved, ScanResult, View};

use common::ui::{harness, idle_library, wait};

fn type_into(h: &mut Harness<'static, App>, label: &str, text: &str) {
    h.get_by_label(label).focus();
    h.step();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.step();
    h.get_by_label(label).type_text(text);
    h.step();
}

#[test]
fn empty_library_guides_and_errors_never_crash() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&dir.path().join("lib.db"));
    wait(&mut h, "the first snapshot", 20, idle_library);
    h.get_by_label("No photos yet — add a folder.");

    // A folder that does not exist is an error message, not a crash.
    type_into(&mut h, "Folder path", "/no/such/folder");
    h.get_by_role_and_label(Role::Button, "Add").click();
    wait(&mut h, "the error", 20, |a| {
        a.runtime()
            .is_some_and(|r| r.data.messages.iter().any(|m| m.error))
    });
    h.get_by_label_contains("cannot add /no/such/folder");
    assert!(h
        .state()
        .runtime()
        .unwrap()
        .data
        .library
        .as_ref()
        .unwrap()
        .folders
        .is_empty());

    // Keyboard navigation and empty states of the other views.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num2);
    h.run_steps(3);
    assert_eq!(h.state().saved.view, View::People);
    h.get_by_label("No people yet");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num7);
    h.run_steps(3);
    assert_eq!(h.state().saved.view, View::Settings);
    h.get_by_label_contains("Open now:");

    // The two-photo check with missing files reports, never panics.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num5);
    h.run_steps(3);
    h.get_by_label("Any two photos").click();
    h.run_steps(2);
    type_into(&mut h, "First photo", "/no/a.jpg");
    type_into(&mut h, "Second photo", "/no/b.jpg");
    h.get_by_role_and_label(Role::Button, "Compare").click();
    wait(&mut h, "the verify error", 30, |a| {
        a.runtime().is_some_and(|r| {
            !r.data.verifying && r.data.messages.iter().any(|m| m.text.contains("a.jpg"))
        })
    });
}

#[test]
fn scan_summary_lists_failed_files_with_reasons() {
    let src =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/dev/robustness/derived-broken");
    if !src.is_dir() {
        eprintln!("SKIPPED: {} is absent", src.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("broken");
    std::fs::create_dir(&photos).unwrap();
    for name in ["empty_0_bytes.jpg", "text_named_as.jpg"] {
        std::fs::copy(src.join(name), photos.join(name)).unwrap();
    }
    let mut h = harness(&dir.path().join("lib.db"));
    wait(&mut h, "the first snapshot", 20, idle_library);
    h.state_mut()
        .command(Command::Ask(Job::AddFolder(photos.clone())));
    wait(&mut h, "the folder", 20, |a| {
        a.runtime()
            .and_then(|r| r.data.library.as_ref())
            .is_some_and(|l| l.folders.len() == 1)
    });
    h.get_by_role_and_label(Role::Button, "Scan").click();
    wait(&mut h, "the scan", 120, |a| {
        a.runtime().is_some_and(|r| {
            !r.scanning()
                && r.data.last_scan.is_some()
                && r.data
                    .library
                    .as_ref()
                    .is_some_and(|l| l.failures.len() == 2)
        })
    });
    // Grouped by kind of reason, each group opening on its files.
    h.get_by_label("2 photo(s) could not be read:");
    h.get_by_label_contains("not an image (1)");
    h.get_by_label_contains("empty file (1)").click();
    h.run_steps(3);
    h.get_by_label_contains("empty_0_bytes.jpg");
    h.get_by_label_contains("empty file (0 bytes)");

    // Removing the folder keeps the app usable and empties the list.
    h.get_by_role_and_label(Role::Button, "Remove").click();
    wait(&mut h, "the removal", 20, |a| {
        a.runtime()
            .and_then(|r| r.data.library.as_ref())
            .is_some_and(|l| l.folders.is_empty() && l.failures.is_empty())
    });
}

/// A file dropped on the window, as winit would hand it to egui.
#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn two_dropped_photos_are_compared_side_by_side() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/dev/people/dlib_johns");
    if !src.is_dir() {
        eprintln!("SKIPPED: {} is absent", src.display());
        return;
    }
    let pick = |who: &str| {
        let mut v: Vec<PathBuf> = std::fs::read_dir(src.join(who))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    let salley = pick("John_Salley");
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&dir.path().join("lib.db"));
    wait(&mut h, "the first snapshot", 20, idle_library);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num5);
    h.run_steps(2);
    for p in [&salley[0], &salley[1]] {
        h.input_mut()
            .dropped_files
            .push(std::sync::Arc::new(Dropped(p.clone())));
    }
    h.run_steps(2);
    assert_eq!(
        h.state().runtime().unwrap().views.path_a,
        salley[0].to_string_lossy()
    );
    assert_eq!(
        h.state().runtime().unwrap().views.path_b,
        salley[1].to_string_lossy()
    );
    h.get_by_role_and_label(Role::Button, "Compare").click();
    wait(&mut h, "the verdict", 60, |a| {
        a.runtime().is_some_and(|r| r.data.verdict.is_some())
    });
    let v = &h
        .state()
        .runtime()
        .unwrap()
        .data
        .verdict
        .as_ref()
        .unwrap()
        .verdict;
    assert!(v.same_person, "two photos of John Salley: {v:?}");
    h.get_by_label_contains(&format!("(distance {:.2})", v.distance));
    wait(&mut h, "both photos", 20, |a| {
        a.runtime().is_some_and(|r| {
            r.shown.contains_key(&likeness::ui::PhotoSlot::A)
                && r.shown.contains_key(&likeness::ui::PhotoSlot::B)
        })
    });
}

#[test]
fn saved_state_round_trips_and_tolerates_old_fields() {
    let s = Saved {
        view: View::Verify,
        people_filter: "ann".into(),
        ..Default::default()
    };
    let json = serde_json::to_string(&s).unwrap();
    let back: Saved = serde_json::from_str(&json).unwrap();
    assert_eq!(back.view, View::Verify);
    assert_eq!(back.people_filter, "ann");
    // Unknown and missing fields (an older or newer app's save) fall back to defaults.
    let old: Saved = serde_json::from_str(r#"{"view":"People","gone":1}"#).unwrap();
    assert_eq!(old.view, View::People);
    assert!(old.people_filter.is_empty());
}

/// A few photos of three people from the shared data, copied to a temporary folder.
fn sample_photos(dst: &Path) -> Option<Vec<PathBuf>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/dev/people/dlib_johns");
    if !src.is_dir() {
        eprintln!(
            "SKIPPED: {} is absent; the scan-and-people flow needs real faces",
            src.display()
        );
        return None;
    }
    let mut out = Vec::new();
    for person in ["John_Salley", "John_Savage", "John_Simm"] {
        let mut files: Vec<_> = std::fs::read_dir(src.join(person))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files.into_iter().take(4) {
            let to = dst.join(format!(
                "{person}_{}",
                f.file_name().unwrap().to_string_lossy()
            ));
            std::fs::copy(&f, &to).unwrap();
            out.push(to);
        }
    }
    Some(out)
}

#[test]
fn scan_name_merge_remove_verify_undo() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    let Some(files) = sample_photos(&photos) else {
        return;
    };
    let db = dir.path().join("lib.db");
    let mut h = harness(&db);
    wait(&mut h, "the first snapshot", 20, idle_library);

    // Add the folder by its typed path and scan it.
    type_into(&mut h, "Folder path", &photos.to_string_lossy());
    h.get_by_role_and_label(Role::Button, "Add").click();
    wait(&mut h, "the folder", 20, |a| {
        a.runtime()
            .and_then(|r| r.data.library.as_ref())
            .is_some_and(|l| l.folders.len() == 1)
    });
    h.get_by_role_and_label(Role::Button, "Scan").click();
    h.run_steps(2);
    assert!(h.state().runtime().unwrap().scanning());
    wait(&mut h, "the scan", 300, |a| {
        a.runtime()
            .is_some_and(|r| r.data.last_scan.is_some() && !r.scanning())
    });
    match &h.state().runtime().unwrap().data.last_scan {
        Some(ScanResult::Finished(o)) => {
            assert_eq!(o.photos_indexed as usize, files.len(), "{o:?}");
            assert!(o.faces_found as usize >= files.len(), "{o:?}");
        }
        other => panic!("scan did not finish: {other:?}"),
    }
    h.get_by_label("Scan finished.");
    wait(&mut h, "people", 20, |a| {
        a.runtime()
            .and_then(|r| r.data.library.as_ref())
            .is_some_and(|l| !l.people.is_empty())
    });
    {
        let store = likeness::store::Store::open_readonly(&db).unwrap();
        assert_eq!(store.stats().unwrap().photos as usize, files.len());
        assert_eq!(store.folders().unwrap().len(), 1);
    }

    // People appear in the grid.
    h.get_by_label("People").click();
    h.run_steps(3);
    let people = h
        .state()
        .runtime()
        .unwrap()
        .data
        .library
        .as_ref()
        .unwrap()
        .people
        .clone();
    assert!(people.len() >= 2, "{people:?}");
    assert!(!h
        .query_all_by_label("Unnamed")
        .collect::<Vec<_>>()
        .is_empty());

    // Rename the first person.
    let first = people[0].id;
    h.get_all_by_label("Unnamed").next().unwrap().click();
    wait(&mut h, "the person view", 20, |a| {
        a.saved.view == View::Person && a.runtime().is_some_and(|r| r.data.person_faces.is_some())
    });
    let shown = h.state().saved.person.unwrap();
    assert_eq!(shown, first);
    // Merge candidates: the closest people first, each with its distance on screen.
    wait(&mut h, "the closest people", 30, |a| {
        a.runtime()
            .is_some_and(|r| r.data.closest.as_ref().is_some_and(|(p, _)| *p == first))
    });
    let near = h.state().runtime().unwrap().data.closest.clone().unwrap().1;
    assert!(!near.is_empty());
    assert!(near.windows(2).all(|w| w[0].1 <= w[1].1), "{near:?}");
    h.run_steps(2);
    h.get_by_label(&format!("{:.2}", near[0].1));
    {
        let store = likeness::store::Store::open_readonly(&db).unwrap();
        let model = likeness::pipeline::library_embedder(&store).unwrap().id();
        let want = likeness::people::closest_people(&store, model, first, near.len()).unwrap();
        assert_eq!(
            want.iter().map(|p| p.b).collect::<Vec<_>>(),
            near.iter().map(|p| p.0).collect::<Vec<_>>()
        );
    }
    type_into(&mut h, "Name", "Ann Example");
    h.get_by_role_and_label(Role::Button, "Rename").click();
    wait(&mut h, "the new name", 20, |a| {
        a.runtime()
            .and_then(|r| r.data.library.as_ref())
            .is_some_and(|l| {
                l.people
                    .iter()
                    .any(|p| p.name.as_deref() == Some("Ann Example"))
            })
    });
    h.get_by_label("Ann Example");
    let named = likeness::ui::backend::people(&likeness::store::Store::open_readonly(&db).unwrap())
        .unwrap();
    assert!(named
        .people
        .iter()
        .any(|p| p.id == first && p.name.as_deref() == Some("Ann Example")));

    // Merge another person into Ann.
    let other = people.iter().find(|p| p.id != first).unwrap().clone();
    h.state_mut().command(Command::OpenPerson(other.id));
    wait(&mut h, "the other person", 20, |a| {
        a.runtime().is_some_and(|r| {
            r.data
                .person_faces
                .as_ref()
                .is_some_and(|(p, _)| *p == other.id)
        })
    });
    type_into(&mut h, "Find a person", "Ann");
    h.get_by_role_and_label(Role::Button, "Merge").click();
    let before = people.len();
    wait(&mut h, "the merge", 20, |a| {
        a.runtime()
            .and_then(|r| r.data.library.as_ref())
            .is_some_and(|l| l.people.len() == before - 1)
    });
    let ann_faces = other.faces + people[0].faces;
    let lib = likeness::ui::backend::people(&likeness::store::Store::open_readonly(&db).unwrap())
        .unwrap();
    let ann = lib.people.iter().find(|p| p.id == first).unwrap();
    assert_eq!(ann.faces, ann_faces, "merged faces belong to Ann");

    // Remove one face from Ann ("not this person").
    h.state_mut().command(Command::OpenPerson(first));
    wait(&mut h, "Ann's faces", 20, |a| {
        a.runtime().is_some_and(|r| {
            r.data
                .person_faces
                .as_ref()
                .is_some_and(|(p, f)| *p == first && f.len() as u64 == ann_faces)
        })
    });
    let face = h
        .state()
        .runtime()
        .unwrap()
        .data
        .person_faces
        .as_ref()
        .unwrap()
        .1[0]
        .id;
    h.get_by_label(&format!("face {face}")).click();
    h.run_steps(2);
    h.get_by_label("1 selected");
    h.get_by_role_and_label(Role::Button, "Not this person")
        .click();
    wait(&mut h, "the removal", 20, |a| {
        a.runtime()
            .and_then(|r| r.data.library.as_ref())
            .and_then(|l| l.people.iter().find(|p| p.id == first))
            .is_some_and(|p| p.faces == ann_faces - 1)
    });
    let faces = likeness::ui::backend::person_faces(
        &likeness::store::Store::open_readonly(&db).unwrap(),
        first,
    )
    .unwrap();
    assert!(faces.iter().all(|f| f.id != face), "the face left Ann");

    // Undo (Ctrl+Z) brings it back.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    wait(&mut h, "the undo", 20, |a| {
        a.runtime()
            .and_then(|r| r.data.library.as_ref())
            .and_then(|l| l.people.iter().find(|p| p.id == first))
            .is_some_and(|p| p.faces == ann_faces)
    });
    let faces = likeness::ui::backend::person_faces(
        &likeness::store::Store::open_readonly(&db).unwrap(),
        first,
    )
    .unwrap();
    assert!(
        faces.iter().any(|f| f.id == face),
        "undo gave the face back"
    );

    // Split two of Ann's faces off as a new person, then hide that person.
    let people_now = |a: &App| {
        a.runtime()
            .and_then(|r| r.data.library.as_ref())
            .map_or(0, |l| l.people.len())
    };
    let before = people_now(h.state());
    wait(&mut h, "Ann's faces again", 20, |a| {
        a.runtime().is_some_and(|r| {
            r.data
                .person_faces
                .as_ref()
                .is_some_and(|(p, f)| *p == first && f.len() as u64 == ann_faces)
        })
    });
    let two: Vec<i64> = h
        .state()
        .runtime()
        .unwrap()
        .data
        .person_faces
        .as_ref()
        .unwrap()
        .1[..2]
        .iter()
        .map(|f| f.id)
        .collect();
    for f in &two {
        h.get_by_label(&format!("face {f}")).click();
        h.run_steps(2);
    }
    h.get_by_label("2 selected");
    h.get_by_role_and_label(Role::Button, "Split off as new person")
        .click();
    wait(&mut h, "the split", 20, |a| people_now(a) == before + 1);
    let split_person = likeness::people::list(&likeness::store::Store::open_readonly(&db).unwrap())
        .unwrap()
        .into_iter()
        .find(|p| p.faces == 2 && p.id != first)
        .expect("a new person with the two faces");
    h.state_mut().command(Command::OpenPerson(split_person.id));
    wait(&mut h, "the new person", 20, |a| {
        a.runtime().is_some_and(|r| {
            r.data
                .person_faces
                .as_ref()
                .is_some_and(|(p, _)| *p == split_person.id)
        })
    });
    h.get_by_role_and_label(Role::Button, "Hide").click();
    wait(&mut h, "hidden", 20, |a| {
        a.runtime()
            .and_then(|r| r.data.library.as_ref())
            .is_some_and(|l| l.people.iter().any(|p| p.id == split_person.id && p.hidden))
    });
    // Undo twice: shown again, then the faces are back with Ann.
    h.get_by_role_and_label(Role::Button, "Undo").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "Undo").click();
    wait(&mut h, "both undone", 20, |a| {
        a.runtime()
            .and_then(|r| r.data.library.as_ref())
            .and_then(|l| l.people.iter().find(|p| p.id == first))
            .is_some_and(|p| p.faces == ann_faces)
    });

    // Review: a suggestion for Ann, or the empty state when every face already has a person.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num4);
    wait(&mut h, "suggestions", 30, |a| {
        a.runtime().is_some_and(|r| r.data.suggestions.is_some())
    });
    let suggestions = h
        .state()
        .runtime()
        .unwrap()
        .data
        .suggestions
        .clone()
        .unwrap();
    if suggestions.is_empty() {
        h.get_by_label("Nothing to review");
    } else {
        h.get_by_label_contains("Is this ");
        h.key_press(Key::Space);
        h.run_steps(2);
        assert!(h
            .state()
            .runtime()
            .unwrap()
            .views
            .skipped
            .contains(&suggestions[0].face.id));
    }

    // Answer an uncertain pair in the verify view.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num5);
    wait(&mut h, "uncertain pairs", 30, |a| {
        a.runtime().is_some_and(|r| r.data.pairs.is_some())
    });
    let pairs = h.state().runtime().unwrap().data.pairs.clone().unwrap();
    if pairs.is_empty() {
        h.get_by_label("No uncertain pairs");
    } else {
        h.get_by_label("Same person?");
        let (a, b) = (pairs[0].a.id, pairs[0].b.id);
        h.key_press(Key::D);
        h.run_steps(3);
        assert_eq!(h.state().runtime().unwrap().views.pair_index, 1);
        let answered = |db: &Path| {
            likeness::store::Store::open_readonly(db)
                .unwrap()
                .face_pairs()
                .unwrap()
                .contains(&(a.min(b), a.max(b), false))
        };
        let t = Instant::now();
        while !answered(&db) {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "the answer was not stored"
            );
            h.step();
            std::thread::sleep(Duration::from_millis(15));
        }
        // And the Undo button takes it back.
        h.get_by_role_and_label(Role::Button, "Undo").click();
        let t = Instant::now();
        while answered(&db) {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "undo did not remove the answer"
            );
            h.step();
            std::thread::sleep(Duration::from_millis(15));
        }
    }
}

#[test]
fn old_library_is_offered_the_better_model_and_upgrades_keeping_names() {
    use likeness::people;
    use likeness::store::Store;
    use likeness::vision::models::DEFAULT_EMBEDDER;
    let lfw = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/lfw/lfw-deepfunneled");
    if !lfw.is_dir() {
        eprintln!("SKIPPED: {} is absent", lfw.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    for who in ["Colin_Powell", "Tony_Blair"] {
        std::fs::create_dir_all(photos.join(who)).unwrap();
        let mut files: Vec<PathBuf> = std::fs::read_dir(lfw.join(who))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files.iter().take(12) {
            std::os::unix::fs::symlink(f, photos.join(who).join(f.file_name().unwrap())).unwrap();
        }
    }
    // A library made by an older Likeness from the command line: the dlib embedder, a named
    // person, and no folders recorded (scans did not record theirs then).
    let db = dir.path().join("old.db");
    let named = {
        let mut store = Store::open(&db).unwrap();
        common::dlib_library(&mut store, &photos);
        let p = people::list(&store).unwrap()[0].id;
        people::name(&mut store, p, Some("Colin")).unwrap();
        p
    };
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(
            "DELETE FROM folders; DELETE FROM library_meta WHERE key = 'folders_recorded';",
        )
        .unwrap();
    let mut h = harness(&db);
    wait(&mut h, "the first snapshot", 20, idle_library);
    h.run_steps(2);
    // It opens on its people, and knows the folder its photos came from.
    assert_eq!(h.state().saved.view, View::People);
    let folders = &h
        .state()
        .runtime()
        .unwrap()
        .data
        .library
        .as_ref()
        .unwrap()
        .folders;
    assert_eq!(
        folders.iter().map(|f| f.path.clone()).collect::<Vec<_>>(),
        vec![std::fs::canonicalize(&photos)
            .unwrap()
            .to_string_lossy()
            .into_owned()]
    );
    h.get_by_label_contains("A better face model is available");
    h.get_by_role_and_label(
        Role::Button,
        &format!("Upgrade to {}", DEFAULT_EMBEDDER.name),
    )
    .click();
    wait(&mut h, "the upgrade", 300, |a| {
        a.runtime().is_some_and(|r| {
            matches!(r.data.last_scan, Some(ScanResult::Upgraded(_))) && r.data.scan.is_none()
        })
    });
    wait(&mut h, "the refreshed library", 20, |a| {
        a.runtime()
            .and_then(|r| r.data.library.as_ref())
            .is_some_and(|l| l.model.id() == DEFAULT_EMBEDDER.id())
    });
    assert_eq!(h.state().saved.view, View::Library);
    h.get_by_label_contains("Upgrade finished");
    // The notice is answered for good, the database uses the new model, the name holds.
    assert!(h
        .state()
        .saved
        .model_notice_seen
        .contains(&DEFAULT_EMBEDDER.id().to_string()));
    let store = Store::open(&db).unwrap();
    assert_eq!(
        store.active_embedder().unwrap().as_deref(),
        Some(DEFAULT_EMBEDDER.id())
    );
    let colin = store.person(named).unwrap().unwrap();
    assert_eq!(colin.name.as_deref(), Some("Colin"));
    assert!(!people::faces(&store, named).unwrap().is_empty());
}

#[test]
fn forgetting_says_what_goes_and_asks_before_it_removes_anything() {
    use likeness::people;
    use likeness::store::Store;
    let Some(data) = common::shared_data("forgetting_says_what_goes") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    common::copy_lfw(&data, &photos, &["Hans_Blix", "Naomi_Watts"]);
    let db = dir.path().join("lib.db");
    let faces = common::library_with(
        &mut Store::open(&db).unwrap(),
        &photos,
        likeness::vision::models::DEFAULT_EMBEDDER,
    );
    let mut h = harness(&db);
    wait(&mut h, "the first snapshot", 20, idle_library);
    let stats = |a: &App| {
        a.runtime()
            .and_then(|r| r.data.library.as_ref())
            .map(|l| l.stats.faces)
    };
    let people_now = |a: &App| {
        a.runtime()
            .and_then(|r| r.data.library.as_ref())
            .map(|l| l.people.clone())
            .unwrap_or_default()
    };

    // One person, from their own view: the sentence names them and counts their faces.
    let before = people_now(h.state());
    assert!(before.len() >= 2, "{before:?}");
    let first = before[0].clone();
    h.state_mut().command(Command::OpenPerson(first.id));
    wait(&mut h, "the person view", 20, |a| {
        a.saved.view == View::Person
    });
    h.get_by_role_and_label(Role::Button, "Forget this person...")
        .click();
    h.run_steps(2);
    h.get_by_label_contains(&format!(
        "Forget {}: {} faces",
        first.display_name(),
        first.faces
    ));
    h.get_by_role_and_label(Role::Button, "Forget for good")
        .click();
    wait(&mut h, "the person forgotten", 60, |a| {
        stats(a) == Some(faces - first.faces)
    });
    assert!(people_now(h.state()).iter().all(|p| p.id != first.id));
    let faces = faces - first.faces;

    h.key_press_modifiers(Modifiers::COMMAND, Key::Num7);
    h.run_steps(3);
    assert_eq!(h.state().saved.view, View::Settings);

    // Asking shows what will go; Keep keeps it.
    h.get_by_role_and_label(Role::Button, "Forget all face data...")
        .click();
    h.run_steps(2);
    h.get_by_label_contains(&format!("Forget all face data: {faces} faces of"));
    h.get_by_role_and_label(Role::Button, "Keep").click();
    h.run_steps(3);
    assert!(h.query_by_label("Forget for good").is_none());
    let stats = |a: &App| {
        a.runtime()
            .and_then(|r| r.data.library.as_ref())
            .map(|l| l.stats.faces)
    };
    assert_eq!(stats(h.state()), Some(faces));

    // Confirmed, everything goes, and the app says so.
    h.get_by_role_and_label(Role::Button, "Forget all face data...")
        .click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "Forget for good")
        .click();
    wait(&mut h, "the forgotten library", 60, |a| stats(a) == Some(0));
    assert!(h
        .query_all_by_label_contains(&format!("{faces} faces forgotten"))
        .next()
        .is_some());
    let store = Store::open(&db).unwrap();
    assert_eq!(store.stats().unwrap().faces, 0);
    assert!(people::list(&store).unwrap().is_empty());
}

#[test]
fn drawing_a_missed_face_names_it_and_undo_takes_it_back() {
    use likeness::store::{FaceSource, Store};
    let Some(data) = common::shared_data("drawing_a_missed_face_names_it_and_undo_takes_it_back")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    let group = photos.join("group.jpg");
    std::fs::copy(data.join("dev/group/dlib_faces/2008_002470.jpg"), &group).unwrap();
    let db = dir.path().join("lib.db");
    common::library_with(
        &mut Store::open(&db).unwrap(),
        &photos,
        likeness::vision::models::DEFAULT_EMBEDDER,
    );
    let (photo_id, w, _) = Store::open(&db)
        .unwrap()
        .photo_dims(std::fs::canonicalize(&group).unwrap().to_str().unwrap())
        .unwrap()
        .unwrap();
    let drawn = |db: &Path| {
        Store::open(db)
            .unwrap()
            .all_faces()
            .unwrap()
            .into_iter()
            .filter(|f| f.source == FaceSource::Drawn)
            .collect::<Vec<_>>()
    };
    let mut h = harness(&db);
    wait(&mut h, "the first snapshot", 20, idle_library);
    h.state_mut().command(Command::Show(View::Photos));
    h.state_mut()
        .command(Command::Ask(Job::OpenPhoto(photo_id)));
    wait(&mut h, "the photo", 30, |a| {
        a.runtime()
            .is_some_and(|r| r.shown.values().any(|p| p.info.photo_id == Some(photo_id)))
    });
    h.get_by_role_and_label(Role::Button, "Draw a missed face")
        .click();
    h.run_steps(2);
    // Drag a box over the top right corner of the photo, where no face was found.
    let image = h.get_by_label("the open photo").rect();
    let k = image.width() / w as f32;
    let at = |x: f32, y: f32| image.min + egui::vec2(x * k, y * k);
    h.hover_at(at(380.0, 10.0));
    h.step();
    h.drag_at(at(380.0, 10.0));
    h.step();
    for t in 1..=5 {
        let f = t as f32 / 5.0;
        h.hover_at(at(380.0 + 90.0 * f, 10.0 + 110.0 * f));
        h.step();
    }
    h.drop_at(at(470.0, 120.0));
    h.run_steps(2);
    h.get_by_label("Whose face is this?");
    type_into(&mut h, "New person", "Drawn Dora");
    h.get_by_role_and_label(Role::Button, "Add as a new person")
        .click();
    wait(&mut h, "the drawn face named", 60, |a| {
        named(a, "Drawn Dora").is_some_and(|p| p.faces == 1)
    });
    let faces = drawn(&db);
    assert_eq!(faces.len(), 1);
    let b = faces[0].bbox;
    for (got, want) in b.iter().zip([380.0, 10.0, 470.0, 120.0]) {
        assert!((got - want).abs() <= 2.0 / k + 1.0, "{b:?}");
    }
    // The open photo now shows the new face's box too; undo takes the face and person back.
    wait(&mut h, "the photo with its new box", 30, |a| {
        a.runtime().is_some_and(|r| {
            r.shown
                .values()
                .any(|p| p.info.photo_id == Some(photo_id) && p.info.boxes.contains(&b))
        })
    });
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    wait(&mut h, "the drawn face undone", 30, |a| {
        named(a, "Drawn Dora").is_none()
    });
    assert!(drawn(&db).is_empty());
    wait(&mut h, "the photo without it", 30, |a| {
        a.runtime().is_some_and(|r| {
            r.shown
                .values()
                .any(|p| p.info.photo_id == Some(photo_id) && !p.info.boxes.contains(&b))
        })
    });
}

#[test]
fn ungrouped_faces_are_named_or_ignored_in_batches_and_undone_in_one_step() {
    use likeness::store::Store;
    let Some(data) = common::shared_data("ungrouped_faces_are_named_or_ignored") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for f in ["2008_002470.jpg", "2009_004587.jpg"] {
        std::fs::copy(data.join("dev/group/dlib_faces").join(f), photos.join(f)).unwrap();
    }
    let db = dir.path().join("lib.db");
    common::library_with(
        &mut Store::open(&db).unwrap(),
        &photos,
        likeness::vision::models::DEFAULT_EMBEDDER,
    );
    let mut h = harness(&db);
    wait(&mut h, "the first snapshot", 20, idle_library);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num3);
    wait(&mut h, "the ungrouped faces", 30, |a| {
        a.runtime().is_some_and(|r| r.data.ungrouped.is_some())
    });
    assert_eq!(h.state().saved.view, View::Ungrouped);
    let (faces, total) = (*h.state().runtime().unwrap().data.ungrouped.clone().unwrap()).clone();
    assert!(faces.len() >= 3, "{total}");
    let ungrouped_total = |a: &App| {
        a.runtime()
            .and_then(|r| r.data.ungrouped.as_ref())
            .map(|u| u.1)
    };
    // Two faces of different photos, picked by clicking their tiles, named as one new person.
    let a = faces[0].clone();
    let b = faces
        .iter()
        .find(|f| f.photo_id != a.photo_id)
        .unwrap()
        .clone();
    h.get_by_label(&format!("face {}", a.face_id)).click();
    h.run_steps(2);
    h.get_by_label(&format!("face {}", b.face_id)).click();
    h.run_steps(2);
    h.get_by_label("2 selected");
    type_into(&mut h, "Name them", "Gail");
    h.get_by_role_and_label(Role::Button, "Name as a new person")
        .click();
    wait(&mut h, "Gail named", 30, |app| {
        named(app, "Gail").is_some_and(|p| p.faces == 2) && ungrouped_total(app) == Some(total - 2)
    });
    // One Ctrl+Z takes both back.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    wait(&mut h, "the naming undone", 30, |app| {
        named(app, "Gail").is_none() && ungrouped_total(app) == Some(total)
    });
    // Ignore one: it leaves the list and counts as ignored, until undone.
    h.get_by_label(&format!("face {}", a.face_id)).click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "Ignore").click();
    wait(&mut h, "the face ignored", 30, |app| {
        ungrouped_total(app) == Some(total - 1)
            && app
                .runtime()
                .and_then(|r| r.data.library.as_ref())
                .map(|l| l.stats.ignored)
                == Some(1)
    });
    assert!(
        Store::open(&db)
            .unwrap()
            .face_state(a.face_id)
            .unwrap()
            .unwrap()
            .ignored
    );
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    wait(&mut h, "the ignore undone", 30, |app| {
        ungrouped_total(app) == Some(total)
    });
    assert!(
        !Store::open(&db)
            .unwrap()
            .face_state(a.face_id)
            .unwrap()
            .unwrap()
            .ignored
    );
}

/// The person the app lists under `name`, once the library has arrived.
fn named(a: &App, name: &str) -> Option<likeness::ui::PersonCard> {
    a.runtime()
        .and_then(|r| r.data.library.as_ref())
        .and_then(|l| {
            l.people
                .iter()
                .find(|p| p.name.as_deref() == Some(name))
                .cloned()
        })
}
