//! Responsiveness of the app (a benchmark, not a test): frame times of the real `App`, driven
//! headless by egui_kittest, measured as the CPU time of one egui pass plus tessellation (what the
//! UI thread does per frame; the GPU upload/draw is not included).
//!
//! 1. A synthetic library of 200,000 faces: 20,000 people (one of 5,000 faces) and 20,000
//!    faces in nobody; the people grid, the ungrouped view and the big person's view, scrolling.
//! 2. The library view while a real scan runs (LFW images from `../shared/data`, skipped with a
//!    message when absent).
//!
//! `cargo bench --bench ui_frames` (release profile). `LIKENESS_BENCH_FACES` and
//! `LIKENESS_BENCH_SCAN` (number of photos) change the sizes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use likeness::store::{Assigner, NewFace, PhotoFacts, Store};
use likeness::ui::{App, Command, Job, Saved, View};

fn env_usize(k: &str, d: usize) -> usize {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

fn thumb(i: usize) -> Vec<u8> {
    let img = image::RgbImage::from_fn(160, 160, |x, y| {
        let c = (i * 37 % 200) as u8;
        image::Rgb([c.wrapping_add((x / 2) as u8), (y / 2) as u8, 255 - c])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&img)
        .expect("jpeg");
    out
}

/// A library with `faces` faces in as many photos: the first `big` faces are one person, then
/// `people - 1` people share the faces up to `faces - ungrouped` (every 10th named), and the
/// last `ungrouped` faces are in nobody. Vectors are the active embedder's (unit length).
fn synthetic(db: &Path, faces: usize, people: usize, big: usize, ungrouped: usize) -> i64 {
    let mut store = Store::open(db).expect("open");
    let thumbs: Vec<Vec<u8>> = (0..16).map(thumb).collect();
    let model = likeness::vision::models::DEFAULT_EMBEDDER;
    let mut big_id = 0;
    store
        .write(|w| {
            w.set_active_embedder(model.id())?;
            let mut face_ids = Vec::with_capacity(faces);
            for i in 0..faces {
                let path = format!("/synthetic/{:06}.jpg", i);
                let id = w.upsert_photo(&PhotoFacts {
                    size: 1000,
                    content_hash: Some(&path),
                    detector: Some("bench"),
                    ..PhotoFacts::indexed(&path, 640, 480)
                })?;
                let mut v: Vec<f32> = (0..model.dims)
                    .map(|k| (((i * 31 + k * 7) % 97) as f32 / 97.0) - 0.5)
                    .collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.iter_mut().for_each(|x| *x /= norm);
                let f = NewFace {
                    bbox: [100.0, 100.0, 200.0, 220.0],
                    landmarks: [[0.0; 2]; 5],
                    score: 0.99,
                    thumb: thumbs[i % thumbs.len()].clone(),
                    embedding: v,
                    source: Default::default(),
                };
                face_ids.push(w.insert_face(id, &f, model.id())?);
            }
            let placed = faces - ungrouped;
            let mut rows = Vec::with_capacity(placed);
            let first = w.create_person(Some("Everyday"), Assigner::User)?;
            big_id = first;
            for &f in &face_ids[..big] {
                rows.push((f, Some(first), Some(Assigner::Machine)));
            }
            let rest = &face_ids[big..placed];
            let others = people.saturating_sub(1).max(1);
            let bounds = |p: usize| p * rest.len() / others;
            for p in 0..others {
                let chunk = &rest[bounds(p)..bounds(p + 1)];
                let name = (p % 10 == 0).then(|| format!("Person {p:05}"));
                let person = w.create_person(name.as_deref(), Assigner::Machine)?;
                for &f in chunk {
                    rows.push((f, Some(person), Some(Assigner::Machine)));
                }
            }
            w.assign_faces(&rows)?;
            Ok(())
        })
        .expect("synthetic library");
    big_id
}

fn harness(db: &Path) -> Harness<'static, App> {
    Harness::builder()
        .with_size([1280.0, 800.0])
        .build_ui_state(
            |ui, app: &mut App| app.show(ui),
            App::new(db.to_path_buf(), Saved::default()),
        )
}

/// One frame: the egui pass and the tessellation of its shapes.
fn frame(h: &mut Harness<'static, App>) -> Duration {
    let t = Instant::now();
    h.step();
    let shapes = h.output().shapes.clone();
    let ppp = h.output().pixels_per_point;
    let _ = h.ctx.tessellate(shapes, ppp);
    t.elapsed()
}

fn report(what: &str, mut v: Vec<Duration>) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let p = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{what}: {} frames, median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        v.len(),
        ms(p(0.5)),
        ms(p(0.99)),
        ms(*v.last().unwrap_or(&Duration::ZERO))
    );
}

fn wait(h: &mut Harness<'static, App>, secs: u64, cond: impl Fn(&App) -> bool) {
    let t = Instant::now();
    while !cond(h.state()) && t.elapsed() < Duration::from_secs(secs) {
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Scroll the shown view: three rows a frame down, then back up, so new rows and thumbnails
/// come all the time.
fn scroll(h: &mut Harness<'static, App>, frames: usize) -> Vec<Duration> {
    h.hover_at(egui::pos2(640.0, 450.0));
    let mut times = Vec::new();
    for i in 0..frames {
        let dy = if (i / 200) % 2 == 0 { -60.0 } else { 60.0 };
        h.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, dy),
            phase: egui::TouchPhase::Move,
            modifiers: egui::Modifiers::NONE,
            source: egui::MouseWheelSource::Wheel,
        });
        times.push(frame(h));
        std::thread::sleep(Duration::from_millis(4));
    }
    times
}

fn library_views(faces: usize, people: usize, big: usize, ungrouped: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("bench.db");
    let t = Instant::now();
    let big_id = synthetic(&db, faces, people, big, ungrouped);
    println!(
        "synthetic library: {faces} faces, {people} people (one of {big} faces), {ungrouped} ungrouped, in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let mut h = harness(&db);
    wait(&mut h, 120, |a| {
        a.runtime()
            .and_then(|r| r.data.library.as_ref())
            .is_some_and(|l| !l.people.is_empty())
    });
    let shown = h
        .state()
        .runtime()
        .and_then(|r| r.data.library.as_ref())
        .map_or(0, |l| l.people.len());
    println!("people in the grid: {shown}");

    h.state_mut().command(Command::Show(View::People));
    for _ in 0..5 {
        h.step();
    }
    let times = scroll(&mut h, 600);
    let up = h.state().runtime().map_or(0, |r| r.thumbs.uploads);
    println!("thumbnails uploaded while scrolling: {up}");
    report(
        &format!("people grid, {faces} faces / {people} people, scrolling"),
        times,
    );

    h.state_mut().command(Command::Show(View::Ungrouped));
    wait(&mut h, 120, |a| {
        a.runtime().is_some_and(|r| r.data.ungrouped.is_some())
    });
    let listed = h
        .state()
        .runtime()
        .and_then(|r| r.data.ungrouped.as_ref())
        .map_or(0, |u| u.1);
    let times = scroll(&mut h, 600);
    report(&format!("ungrouped view, {listed} faces, scrolling"), times);

    h.state_mut().command(Command::OpenPerson(big_id));
    wait(&mut h, 120, |a| {
        a.runtime()
            .and_then(|r| r.data.person_faces.as_ref())
            .is_some_and(|(id, f)| *id == big_id && !f.is_empty())
    });
    let n = h
        .state()
        .runtime()
        .and_then(|r| r.data.person_faces.as_ref())
        .map_or(0, |(_, f)| f.len());
    // The merge list (closest people) comes from the worker after the faces: frames while it
    // is computed, then scrolling.
    let t = Instant::now();
    let mut loading = Vec::new();
    let ready = |a: &App| {
        a.runtime()
            .is_some_and(|r| r.data.closest.as_ref().is_some_and(|(p, _)| *p == big_id))
    };
    while !ready(h.state()) && t.elapsed() < Duration::from_secs(120) {
        loading.push(frame(&mut h));
        std::thread::sleep(Duration::from_millis(16));
    }
    println!(
        "merge list of the {n}-face person ready {:.2} s after its faces",
        t.elapsed().as_secs_f64()
    );
    if !loading.is_empty() {
        report("person view while its merge list is computed", loading);
    }
    let times = scroll(&mut h, 600);
    report(&format!("person view, {n} faces, scrolling"), times);
}

fn during_scan(n: usize) {
    let lfw = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/lfw/lfw-deepfunneled");
    if !lfw.is_dir() {
        println!("SKIPPED scan frames: {} is absent", lfw.display());
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).expect("mkdir");
    let mut people: Vec<PathBuf> = std::fs::read_dir(&lfw)
        .expect("lfw")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    people.sort();
    let mut copied = 0;
    'outer: for p in people {
        for f in std::fs::read_dir(&p).expect("dir").flatten() {
            if copied >= n {
                break 'outer;
            }
            let _ = std::fs::copy(f.path(), photos.join(f.file_name()));
            copied += 1;
        }
    }
    let db = dir.path().join("scan.db");
    let mut h = harness(&db);
    wait(&mut h, 30, |a| {
        a.runtime().is_some_and(|r| r.data.library.is_some())
    });
    h.state_mut()
        .command(Command::Ask(Job::AddFolder(photos.clone())));
    wait(&mut h, 30, |a| {
        a.runtime()
            .and_then(|r| r.data.library.as_ref())
            .is_some_and(|l| !l.folders.is_empty())
    });
    h.state_mut().command(Command::Scan);
    h.step();
    let mut times = Vec::new();
    let t = Instant::now();
    while h.state().runtime().is_some_and(|r| r.scanning())
        && t.elapsed() < Duration::from_secs(600)
    {
        times.push(frame(&mut h));
        // A 60 Hz display asks for a frame every ~16 ms.
        std::thread::sleep(Duration::from_millis(16));
    }
    println!(
        "scan of {copied} photos took {:.1} s",
        t.elapsed().as_secs_f64()
    );
    report(
        &format!("library view during a scan of {copied} photos"),
        times,
    );
}

fn main() {
    let faces = env_usize("LIKENESS_BENCH_FACES", 200_000);
    library_views(faces, faces / 10, 5_000.min(faces / 4), faces / 10);
    during_scan(env_usize("LIKENESS_BENCH_SCAN", 200));
}
