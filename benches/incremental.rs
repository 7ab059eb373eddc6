//! The incremental `likeness cluster` through the library file (a benchmark, not a test): a
//! library of N synthetic faces in people (the labels of `benches/scale.sh`'s vectors; labels
//! with one face are unplaced faces) receives 1,000 new faces, and `people::recluster` runs
//! incrementally as after a scan: vectors read from SQLite, matching, clustering of what is
//! left, written back. `cluster::bench` times the same work with the vectors in memory.
//!
//! Three batches of 1,000 new faces: two clustered through the store that settled the library
//! (as the app's worker, which keeps its connection and with it the vector matrix; the first
//! batch also sees the settling run's marks on ~30% of the faces, so it reads everything, the
//! second reads only what changed), the third through a store opened for the run (as the
//! command line: every vector read).
//!
//! `benches/scale.sh` first (it writes `target/bench/lfw-1001000.npy`), then
//! `cargo bench --bench incremental` (`LIKENESS_BENCH_N`, default 100,000, faces before;
//! `LIKENESS_LOG=likeness::people=info` for where the time goes).

use std::path::Path;
use std::time::Instant;

use likeness::cluster::bench::{read_npy, read_npy_labels};
use likeness::people::{recluster, ClusterSettings, Mode};
use likeness::progress::{CancelToken, Progress};
use likeness::store::{Assigner, NewFace, PhotoFacts, Store};

fn main() {
    // LIKENESS_LOG=info shows where the time of each run goes.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LIKENESS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    let (vectors, labels) = (
        dir.join("lfw-1001000.npy"),
        dir.join("lfw-1001000.labels.npy"),
    );
    if !vectors.is_file() || !labels.is_file() {
        println!(
            "SKIPPED: run benches/scale.sh first ({} is absent)",
            vectors.display()
        );
        return;
    }
    let n: usize = std::env::var("LIKENESS_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let new = 1000;
    let batches = 3;
    let points = read_npy(&vectors).expect("vectors");
    let labels = read_npy_labels(&labels).expect("labels");
    let total = (n + batches * new).min(points.len());
    let n = total - batches * new;
    let model = likeness::vision::models::DEFAULT_EMBEDDER;
    assert_eq!(points.dim(), model.dims, "vectors of the default embedder");
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("lib.db");
    let mut store = Store::open(&db).expect("open");
    let t = Instant::now();
    let mut size = std::collections::HashMap::<i64, usize>::new();
    for &l in &labels[..n] {
        *size.entry(l).or_default() += 1;
    }
    let mut person = std::collections::HashMap::<i64, i64>::new();
    let mut add = |store: &mut Store, range: std::ops::Range<usize>| {
        store
            .write(|w| {
                w.set_active_embedder(model.id())?;
                let mut rows = Vec::new();
                for i in range {
                    let path = format!("/synthetic/{i:07}.jpg");
                    let photo = w.upsert_photo(&PhotoFacts {
                        content_hash: Some(&path),
                        detector: Some("bench"),
                        ..PhotoFacts::indexed(&path, 640, 480)
                    })?;
                    let face = w.insert_face(
                        photo,
                        &NewFace {
                            bbox: [100.0, 100.0, 200.0, 220.0],
                            landmarks: [[0.0; 2]; 5],
                            score: 0.99,
                            thumb: Vec::new(),
                            embedding: points.row(i).to_vec(),
                            source: Default::default(),
                        },
                        model.id(),
                    )?;
                    let l = labels[i];
                    if i < n && size[&l] >= 2 {
                        let p = match person.get(&l) {
                            Some(p) => *p,
                            None => {
                                let p = w.create_person(None, Assigner::Machine)?;
                                person.insert(l, p);
                                p
                            }
                        };
                        rows.push((face, Some(p), Some(Assigner::Machine)));
                    }
                }
                w.assign_faces(&rows)?;
                Ok(())
            })
            .expect("synthetic library");
    };
    add(&mut store, 0..n);
    println!(
        "library of {n} faces written in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let s = ClusterSettings::for_model(model);
    let run = |store: &mut Store| {
        let t = Instant::now();
        let o = recluster(
            store,
            model.id(),
            &s,
            Mode::Incremental,
            &CancelToken::new(),
            &Progress::default(),
        )
        .expect("recluster");
        (o, t.elapsed().as_secs_f64())
    };
    // Settle first: the labels' one-face people were never offered to anyone.
    let (o, secs) = run(&mut store);
    println!(
        "first incremental cluster of {} faces: {secs:.2} s; {} matched, {} new people",
        o.faces, o.matched, o.new_people
    );
    for b in 0..batches - 1 {
        let from = n + b * new;
        add(&mut store, from..from + new);
        let (o, secs) = run(&mut store);
        println!(
            "incremental cluster of {} faces ({new} new), store kept open (the app), batch {}: {secs:.2} s; {} matched, {} new people, {} unassigned",
            o.faces, b + 1, o.matched, o.new_people, o.unassigned
        );
    }
    add(&mut store, total - new..total);
    drop(store);
    let t = Instant::now();
    let mut store = Store::open(&db).expect("reopen");
    let (o, _) = run(&mut store);
    println!(
        "incremental cluster of {} faces ({new} new), store opened for it (the command line): {:.2} s; {} matched, {} new people, {} unassigned",
        o.faces,
        t.elapsed().as_secs_f64(),
        o.matched, o.new_people, o.unassigned
    );
}
