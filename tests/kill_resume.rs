//! A scan killed with SIGKILL at random moments resumes to exactly the faces of an uninterrupted
//! scan: no duplicates, nothing lost, an intact database; and a model upgrade killed the same
//! way resumes to exactly the vectors and people of an uninterrupted upgrade. Slow (each scans or
//! re-embeds 1,000+ LFW photos about five times), so they are ignored by default:
//!
//! ```text
//! cargo test --release --test kill_resume -- --ignored --nocapture
//! ```

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use likeness::store::Store;

const PHOTOS: usize = 1000;
const KILLS: usize = 4;

type Faces = BTreeMap<String, Vec<([i64; 4], Vec<f32>)>>;

/// Faces per photo path, boxes rounded to 1/100 px, with their embeddings.
fn faces_by_photo(db: &Path) -> (Faces, usize) {
    let store = Store::open_readonly(db).unwrap();
    let emb: BTreeMap<i64, Vec<f32>> = store
        .embeddings(&store.active_embedder().unwrap().unwrap())
        .unwrap()
        .into_iter()
        .map(|e| (e.face_id, e.vector))
        .collect();
    let mut out: Faces = BTreeMap::new();
    let faces = store.all_faces().unwrap();
    for f in &faces {
        let path = store.photo_path(f.photo_id).unwrap().unwrap();
        let b = f.bbox.map(|v| (v * 100.0).round() as i64);
        out.entry(path)
            .or_default()
            .push((b, emb.get(&f.id).cloned().unwrap_or_default()));
    }
    for v in out.values_mut() {
        v.sort_by_key(|a| a.0);
    }
    (out, faces.len())
}

/// Symlinks to the first ~`PHOTOS` LFW photos (whole person folders) in `lib`; their count.
fn link_lfw(data: &Path, lib: &Path) -> usize {
    std::fs::create_dir_all(lib).unwrap();
    // Links, not copies: the test reads LFW where it lies and never writes to it.
    let mut people: Vec<_> = std::fs::read_dir(data.join("lfw/lfw-deepfunneled"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    people.sort();
    let mut n = 0;
    for p in people {
        if n >= PHOTOS {
            break;
        }
        let dst = lib.join(p.file_name().unwrap());
        std::os::unix::fs::symlink(&p, &dst).unwrap();
        n += std::fs::read_dir(&p).unwrap().count();
    }
    n
}

/// Kill `start()` with SIGKILL `KILLS` times at random fractions of `full`, then let it finish.
/// Returns what `progress(db)` said after each kill.
fn kill_and_finish(
    full: std::time::Duration,
    start: impl Fn() -> std::process::Child,
    progress: impl Fn() -> u64,
) -> Vec<u64> {
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut committed = Vec::new();
    for k in 0..KILLS {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        // Somewhere between start-up and most of a full run's time.
        let frac = 0.05 + (seed >> 33) as f64 / (1u64 << 31) as f64 * 0.5;
        let at = full.mul_f64(frac);
        let mut child = start();
        std::thread::sleep(at);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let done = progress();
        eprintln!(
            "kill {} after {:.2} s: {done} committed",
            k + 1,
            at.as_secs_f64()
        );
        committed.push(done);
    }
    assert!(start().wait().unwrap().success());
    committed
}

fn upgrade(db: &Path, model: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_likeness"))
        .args(["--json", "--db"])
        .arg(db)
        .args(["upgrade", "--model", model])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Each face's vector of `model` (dequantised) and the grouping: faces per person as sorted
/// face-id lists with the person's name.
type Grouping = (BTreeMap<i64, Vec<f32>>, Vec<(Option<String>, Vec<i64>)>);

fn grouping(db: &Path, model: &str) -> Grouping {
    let store = Store::open_readonly(db).unwrap();
    let vectors = store
        .embeddings(model)
        .unwrap()
        .into_iter()
        .map(|e| (e.face_id, e.vector))
        .collect();
    let mut groups: Vec<(Option<String>, Vec<i64>)> = likeness::people::list(&store)
        .unwrap()
        .into_iter()
        .map(|p| {
            let mut f: Vec<i64> = likeness::people::faces(&store, p.id)
                .unwrap()
                .iter()
                .map(|f| f.face_id)
                .collect();
            f.sort_unstable();
            (p.name, f)
        })
        .filter(|g| !g.1.is_empty())
        .collect();
    groups.sort_by(|a, b| a.1.cmp(&b.1));
    (vectors, groups)
}

#[test]
#[ignore = "slow: kills real upgrades of 1,000 LFW photos; run with --ignored"]
fn killed_upgrades_resume_to_the_same_result() {
    use likeness::people;
    use likeness::vision::models::MOBILEFACENET;
    let Some(data) = common::shared_data("killed_upgrades_resume_to_the_same_result") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let lib = tmp.path().join("photos");
    let n = link_lfw(&data, &lib);
    // A dlib library with a few decisions, as an old library would be.
    let base = tmp.path().join("base.db");
    {
        let mut store = Store::open(&base).unwrap();
        common::dlib_library(&mut store, &lib);
        let list = people::list(&store).unwrap();
        people::name(&mut store, list[0].id, Some("Anna")).unwrap();
        people::name(&mut store, list[1].id, Some("Ben")).unwrap();
        let f = people::faces(&store, list[0].id).unwrap();
        people::reject(&mut store, f[f.len() - 1].face_id).unwrap();
    }
    eprintln!("{n} photos in a dlib library");
    let reference = tmp.path().join("reference.db");
    let killed = tmp.path().join("killed.db");
    std::fs::copy(&base, &reference).unwrap();
    std::fs::copy(&base, &killed).unwrap();

    let t = Instant::now();
    assert!(upgrade(&reference, MOBILEFACENET.id())
        .wait()
        .unwrap()
        .success());
    let full = t.elapsed();
    eprintln!("uninterrupted upgrade: {:.1} s", full.as_secs_f64());
    let committed = kill_and_finish(
        full,
        || upgrade(&killed, MOBILEFACENET.id()),
        || {
            Store::open_readonly(&killed)
                .unwrap()
                .model_counts()
                .unwrap()
                .iter()
                .find(|c| c.model_id == MOBILEFACENET.id())
                .map_or(0, |c| c.vectors)
        },
    );
    let faces = Store::open_readonly(&base).unwrap().face_count().unwrap();
    assert!(
        committed.iter().any(|&c| c > 0 && c < faces),
        "no kill landed mid-upgrade: {committed:?}"
    );
    let (want_v, want_g) = grouping(&reference, MOBILEFACENET.id());
    let (got_v, got_g) = grouping(&killed, MOBILEFACENET.id());
    assert_eq!(got_v.len(), want_v.len(), "vector count differs");
    for (face, v) in &want_v {
        assert_eq!(got_v.get(face), Some(v), "face {face}: vector differs");
    }
    assert_eq!(got_g, want_g, "people differ");
    let store = Store::open(&killed).unwrap();
    assert_eq!(
        store.active_embedder().unwrap().as_deref(),
        Some(MOBILEFACENET.id())
    );
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

fn scan(db: &Path, dir: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_likeness"))
        .args(["--json", "--db"])
        .arg(db)
        .arg("scan")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
#[ignore = "slow: kills real scans of 1,000 LFW photos; run with --ignored"]
fn killed_scans_resume_to_the_same_faces() {
    let Some(data) = common::shared_data("killed_scans_resume_to_the_same_faces") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let lib = tmp.path().join("photos");
    std::fs::create_dir_all(&lib).unwrap();
    // Links, not copies: the test reads LFW where it lies and never writes to it.
    let mut people: Vec<_> = std::fs::read_dir(data.join("lfw/lfw-deepfunneled"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    people.sort();
    let mut n = 0;
    for p in people {
        if n >= PHOTOS {
            break;
        }
        let dst = lib.join(p.file_name().unwrap());
        std::os::unix::fs::symlink(&p, &dst).unwrap();
        n += std::fs::read_dir(&p).unwrap().count();
    }
    eprintln!("{n} photos");

    let reference = tmp.path().join("reference.db");
    let t = Instant::now();
    assert!(scan(&reference, &lib).wait().unwrap().success());
    let full = t.elapsed();
    eprintln!("uninterrupted scan: {:.1} s", full.as_secs_f64());

    let killed = tmp.path().join("killed.db");
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut committed = Vec::new();
    for k in 0..KILLS {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        // Somewhere between start-up and most of a full scan's time.
        let frac = 0.05 + (seed >> 33) as f64 / (1u64 << 31) as f64 * 0.5;
        let at = full.mul_f64(frac);
        let mut child = scan(&killed, &lib);
        std::thread::sleep(at);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let done = if killed.exists() {
            Store::open_readonly(&killed)
                .unwrap()
                .stats()
                .unwrap()
                .photos
        } else {
            0
        };
        eprintln!(
            "kill {} after {:.2} s: {done} photos committed",
            k + 1,
            at.as_secs_f64()
        );
        committed.push(done);
    }
    assert!(scan(&killed, &lib).wait().unwrap().success());

    let (want, want_n) = faces_by_photo(&reference);
    let (got, got_n) = faces_by_photo(&killed);
    assert_eq!(got_n, want_n, "face count differs: {got_n} vs {want_n}");
    assert_eq!(got.len(), want.len());
    for (path, faces) in &want {
        let other = &got[path];
        assert_eq!(other.len(), faces.len(), "{path}");
        for ((b1, e1), (b2, e2)) in faces.iter().zip(other) {
            assert_eq!(b1, b2, "{path}");
            let d = likeness::vision::embed::distance(e1, e2);
            assert!(d < 1e-3, "{path}: embedding moved by {d}");
        }
    }
    let store = Store::open(&killed).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert!(
        committed.iter().any(|&c| c > 0 && (c as usize) < n),
        "no kill landed mid-scan: {committed:?}"
    );
}
