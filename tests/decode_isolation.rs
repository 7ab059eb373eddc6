//! A photo can never take the scan down: HEIC and AVIF are decoded by confined worker processes.
//! A worker killed (SIGSEGV) or frozen (SIGSTOP) in the middle of a HEIC costs exactly that
//! photo; a photo in flight when the whole scan was killed twice is not tried a third time; the
//! worker cannot open files, sockets or programs; decompression bombs are refused at once.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use likeness::store::Store;

const BIN: &str = env!("CARGO_BIN_EXE_likeness");

/// A mixed folder: LFW JPEGs, AVIFs with every container rotation, and `heics` copies of the
/// 12 MP iPhone HEIC (slow enough to be caught in the act).
fn mixed_folder(data: &Path, dir: &Path, jpegs: usize, avifs: usize, heics: usize) -> usize {
    std::fs::create_dir_all(dir).unwrap();
    let mut n = 0;
    let mut lfw: Vec<PathBuf> = walkdir::WalkDir::new(data.join("lfw/lfw-deepfunneled"))
        .max_depth(2)
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .take(jpegs)
        .collect();
    lfw.sort();
    for p in &lfw {
        std::fs::copy(p, dir.join(p.file_name().unwrap())).unwrap();
        n += 1;
    }
    let formats = data.join("dev/formats");
    let mut av: Vec<PathBuf> = std::fs::read_dir(formats.join("avif"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("rot"))
        .collect();
    av.sort();
    for p in av.iter().take(avifs) {
        std::fs::copy(p, dir.join(p.file_name().unwrap())).unwrap();
        n += 1;
    }
    for i in 0..heics {
        std::fs::copy(
            formats.join("heic/iphone_7.heic"),
            dir.join(format!("phone_{i}.heic")),
        )
        .unwrap();
        n += 1;
    }
    n
}

/// A test's library: `mixed_folder` in a temporary directory (kept while this lives), and where
/// its database goes.
struct Library {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    db: PathBuf,
    total: usize,
}

/// `None` (the test skips, saying why) without `shared/data`.
fn library(test: &str, jpegs: usize, avifs: usize, heics: usize) -> Option<Library> {
    let data = common::shared_data(test)?;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("photos");
    let total = mixed_folder(&data, &dir, jpegs, avifs, heics);
    Some(Library {
        dir: dir.canonicalize().unwrap(),
        db: tmp.path().join("l.db"),
        total,
        _tmp: tmp,
    })
}

/// `likeness --json --db DB scan DIR` with decode workers on, its report on a pipe.
fn scan_command(db: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args([
        "--json",
        "--db",
        db.to_str().unwrap(),
        "scan",
        dir.to_str().unwrap(),
    ])
    .env_remove("LIKENESS_DECODE_IN_PROCESS")
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    cmd
}

fn scan(db: &Path, dir: &Path, timeout_s: &str) -> Child {
    scan_command(db, dir)
        // One decoding thread and one worker: the HEIC in the journal is the one it decodes.
        .args(["--threads", "1"])
        .env("LIKENESS_DECODE_WORKERS", "1")
        .env("LIKENESS_DECODE_TIMEOUT_S", timeout_s)
        .spawn()
        .unwrap()
}

/// The decode workers of process `parent`.
fn workers_of(parent: u32) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the command name, which is in parentheses: state, ppid, …
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("Z");
        let ppid: u32 = fields.next().unwrap_or("0").parse().unwrap_or(0);
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        // A dead worker (a zombie until the scan reaps it) is not a worker any more.
        if ppid == parent && state != "Z" && String::from_utf8_lossy(&cmd).contains("decode-worker")
        {
            out.push(pid);
        }
    }
    out
}

/// Whether `pid` is gone (or a zombie nobody will run again).
fn gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s
            .rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z')),
    }
}

/// The HEIC paths whose decoding is in flight, per the scan's journal.
fn heics_in_flight(db: &Path) -> Vec<String> {
    let Ok(store) = Store::open_readonly(db) else {
        return Vec::new();
    };
    let Ok(rows) = store.interrupted_decodes() else {
        return Vec::new();
    };
    let mut v: Vec<String> = rows.into_keys().filter(|p| p.ends_with(".heic")).collect();
    v.sort();
    v
}

fn signal(pid: i32, sig: i32) {
    // SAFETY: kill(2) on a pid of ours.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill({pid}, {sig})");
}

/// Wait until a HEIC not in `skip` is being decoded by the (single) worker and the worker is
/// stopped in the middle of it: returns the photo and the stopped worker.
fn stop_worker_in_a_heic(child: &Child, db: &Path, skip: &[String]) -> (String, i32) {
    let deadline = Instant::now() + Duration::from_secs(180);
    while Instant::now() < deadline {
        let photo = heics_in_flight(db).into_iter().find(|p| !skip.contains(p));
        let workers = workers_of(child.id());
        if let (Some(photo), [worker]) = (photo, workers.as_slice()) {
            // The HEIC takes ~1 s in a worker; caught 0.15 s in, it is still being decoded.
            std::thread::sleep(Duration::from_millis(150));
            if !heics_in_flight(db).contains(&photo) || workers_of(child.id()) != [*worker] {
                continue;
            }
            signal(*worker, libc::SIGSTOP);
            // Still in flight with the worker stopped: its answer has not come back.
            std::thread::sleep(Duration::from_millis(100));
            if heics_in_flight(db).contains(&photo) {
                return (photo, *worker);
            }
            signal(*worker, libc::SIGCONT);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("no HEIC was caught being decoded");
}

fn finish(mut child: Child) -> serde_json::Value {
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(child.wait().unwrap().success(), "scan failed: {out}");
    serde_json::from_str(&out).unwrap()
}

fn failures(report: &serde_json::Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_crashed_or_frozen_decoder_costs_exactly_its_photo() {
    let Some(lib) = library(
        "a_crashed_or_frozen_decoder_costs_exactly_its_photo",
        8,
        4,
        4,
    ) else {
        return;
    };
    let (dir, db, total) = (lib.dir.clone(), lib.db.clone(), lib.total);
    let child = scan(&db, &dir, "3");
    // SIGSEGV in the middle of one HEIC (sent while it is stopped, delivered on SIGCONT) …
    let (crashed, w1) = stop_worker_in_a_heic(&child, &db, &[]);
    signal(w1, libc::SIGSEGV);
    signal(w1, libc::SIGCONT);
    // … and SIGSTOP in the middle of another, left stopped: the 3 s deadline ends it.
    let (frozen, w2) = stop_worker_in_a_heic(&child, &db, std::slice::from_ref(&crashed));
    assert_ne!(w1, w2, "the crashed worker was replaced");
    let report = finish(child);
    let failed = failures(&report);
    assert_eq!(failed.len(), 2, "{failed:?}");
    let reason = |p: &str| &failed.iter().find(|(q, _)| q == p).unwrap().1;
    assert_eq!(
        reason(&crashed),
        "the HEIC decoder crashed (signal 11, SIGSEGV)"
    );
    assert_eq!(reason(&frozen), "the HEIC decoder took longer than 3 s");
    assert_eq!(report["photos_indexed"], total as u64 - 2, "{report}");
    // Both workers are gone; nothing was left running.
    assert!(gone(w1) && gone(w2));
    // A new scan does not try them again, and the library is sound.
    let again = common::cli(&db, &["scan", dir.to_str().unwrap()]);
    assert_eq!(again["photos_unchanged"], total as u64, "{again}");
    assert_eq!(again["photos_failed"], 0, "{again}");
    let store = Store::open(&db).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert!(store.interrupted_decodes().unwrap().is_empty());
}

#[test]
fn a_photo_in_flight_when_the_scan_was_killed_twice_is_not_tried_again() {
    let Some(lib) = library(
        "a_photo_in_flight_when_the_scan_was_killed_twice_is_not_tried_again",
        3,
        1,
        1,
    ) else {
        return;
    };
    let (dir, db, total) = (lib.dir.clone(), lib.db.clone(), lib.total);
    let mut victim = String::new();
    for round in 1..=2u32 {
        let mut child = scan(&db, &dir, "30");
        // The decoder hangs (stopped); the user gives up and kills the app.
        let (photo, worker) = stop_worker_in_a_heic(&child, &db, &[]);
        child.kill().unwrap();
        child.wait().unwrap();
        victim = photo;
        let left = Store::open_readonly(&db)
            .unwrap()
            .interrupted_decodes()
            .unwrap();
        assert_eq!(left[&victim].starts, round, "{left:?}");
        // The worker died with the app (PR_SET_PDEATHSIG), stopped or not.
        let t = Instant::now();
        while !gone(worker) && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(gone(worker), "worker {worker} outlived its scan");
    }
    // The third scan fails it without decoding it, and finishes everything else.
    let report = common::cli(&db, &["scan", dir.to_str().unwrap()]);
    let failed = failures(&report);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, victim);
    assert!(
        failed[0]
            .1
            .starts_with("decoding never finished: the app ended 2 times"),
        "{}",
        failed[0].1
    );
    let store = Store::open(&db).unwrap();
    assert!(store.interrupted_decodes().unwrap().is_empty());
    assert_eq!(store.integrity_check().unwrap(), "ok");
    drop(store);
    let again = common::cli(&db, &["scan", dir.to_str().unwrap()]);
    assert_eq!(again["photos_unchanged"], total as u64, "{again}");
}

#[test]
fn a_scan_stopped_while_a_decoder_hangs_stops_at_once_and_fails_nothing() {
    let Some(lib) = library(
        "a_scan_stopped_while_a_decoder_hangs_stops_at_once_and_fails_nothing",
        3,
        1,
        2,
    ) else {
        return;
    };
    let (dir, db, total) = (lib.dir.clone(), lib.db.clone(), lib.total);
    let child = scan(&db, &dir, "30");
    let (_, worker) = stop_worker_in_a_heic(&child, &db, &[]);
    // Ctrl-C (the app's Stop does the same through its cancel token).
    let t = Instant::now();
    signal(child.id() as i32, libc::SIGINT);
    let report = finish(child);
    let took = t.elapsed();
    assert!(took < Duration::from_secs(5), "stopping took {took:?}");
    assert_eq!(report["cancelled"], true, "{report}");
    assert!(failures(&report).is_empty(), "{report}");
    assert!(
        gone(worker) || {
            std::thread::sleep(Duration::from_millis(500));
            gone(worker)
        }
    );
    // Nothing was lost: the next scan does the rest.
    let again = common::cli(&db, &["scan", dir.to_str().unwrap()]);
    assert_eq!(again["photos_failed"], 0, "{again}");
    let store = Store::open(&db).unwrap();
    assert!(store.interrupted_decodes().unwrap().is_empty());
    assert_eq!(
        again["photos_indexed"].as_u64().unwrap() + again["photos_unchanged"].as_u64().unwrap(),
        total as u64,
        "{again}"
    );
}

#[test]
fn a_decoder_over_its_memory_limit_costs_its_photo_with_that_reason() {
    let Some(lib) = library(
        "a_decoder_over_its_memory_limit_costs_its_photo_with_that_reason",
        2,
        1,
        1,
    ) else {
        return;
    };
    let (dir, db, total) = (lib.dir.clone(), lib.db.clone(), lib.total);
    // A 12 MP HEIC needs ~1.1 GB of address space in a worker; allow it 600 MB.
    let child = scan_command(&db, &dir)
        .env("LIKENESS_DECODE_MEMORY_MB", "600")
        .spawn()
        .unwrap();
    let report = finish(child);
    let failed = failures(&report);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].0.ends_with(".heic"), "{failed:?}");
    assert!(
        failed[0].1.starts_with("the HEIC decoder") && failed[0].1.contains("600 MB"),
        "{}",
        failed[0].1
    );
    assert_eq!(report["photos_indexed"], total as u64 - 1, "{report}");
}

#[test]
fn a_decode_worker_cannot_read_write_connect_or_run_anything() {
    let out = Command::new(BIN)
        .args(["decode-worker", "--check"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |what: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{what}: ")))
            .unwrap_or_else(|| panic!("no {what:?} in {text}"))
            .to_string()
    };
    let confinement = line("confinement");
    assert!(confinement.contains("memory limit"), "{text}");
    assert!(confinement.contains("seccomp"), "{text}");
    for what in [
        "write a file",
        "open a socket",
        "start a process",
        "run a program",
    ] {
        assert_eq!(line(what), "denied", "{what}: {text}");
    }
    if confinement.contains("Landlock") {
        assert_eq!(line("read a file"), "denied", "{text}");
    } else {
        eprintln!("this kernel has no Landlock: file reads stay open to the worker");
    }
    assert_eq!(line("start a thread"), "allowed", "{text}");

    // `likeness formats` tells the user the same, from a worker the app started itself.
    let out = Command::new(BIN)
        .args(["--json", "formats"])
        .env_remove("LIKENESS_DECODE_TIMEOUT_S")
        .env_remove("LIKENESS_DECODE_IN_PROCESS")
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &v["decoding"];
    assert_eq!(d["isolated"], true, "{d}");
    assert_eq!(d["confinement"], confinement.as_str(), "{d}");
    assert_eq!(d["timeout_s"], 30.0, "{d}");
    let out = Command::new(BIN)
        .args(["--json", "formats"])
        .env("LIKENESS_DECODE_IN_PROCESS", "1")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decoding"]["isolated"], false, "{v}");
}

// ---- decompression bombs ----

/// A PNG whose header says 100,000 × 100,000 RGB, with a few bytes of data.
fn png_bomb() -> Vec<u8> {
    let chunk = |kind: &[u8; 4], body: &[u8]| {
        let mut c = (body.len() as u32).to_be_bytes().to_vec();
        let mut crc_in = kind.to_vec();
        crc_in.extend_from_slice(body);
        c.extend_from_slice(&crc_in);
        c.extend_from_slice(&crc32fast::hash(&crc_in).to_be_bytes());
        c
    };
    let mut ihdr = 100_000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    // A zlib stream of 1,000 zero bytes (stored block).
    let mut idat = vec![0x78, 0x01, 0x01, 0xe8, 0x03, 0x17, 0xfc];
    idat.extend_from_slice(&[0; 1000]);
    idat.extend_from_slice(&[0, 0, 0, 0]);
    [
        b"\x89PNG\r\n\x1a\n".to_vec(),
        chunk(b"IHDR", &ihdr),
        chunk(b"IDAT", &idat),
        chunk(b"IEND", &[]),
    ]
    .concat()
}

/// A real small HEIF/AVIF file whose `ispe` properties now claim 100,000 × 100,000.
fn container_bomb(src: &Path) -> Vec<u8> {
    let mut b = std::fs::read(src).unwrap();
    let mut at = 0;
    let mut n = 0;
    while let Some(k) = b[at..].windows(4).position(|w| w == b"ispe") {
        let i = at + k;
        b[i + 8..i + 12].copy_from_slice(&100_000u32.to_be_bytes());
        b[i + 12..i + 16].copy_from_slice(&100_000u32.to_be_bytes());
        at = i + 4;
        n += 1;
    }
    assert!(n > 0, "{}: no ispe", src.display());
    b
}

/// Peak RSS (KB: VmHWM, sampled every 2 ms until exit), success and stdout of a command.
/// (wait4's ru_maxrss would count the test process itself: a spawned child inherits its
/// parent's high-water mark at exec.)
fn run_measured(cmd: &mut Command) -> (i64, bool, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        stdout.read_to_string(&mut out).unwrap();
        out
    });
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0i64;
    let status = loop {
        if let Ok(s) = std::fs::read_to_string(&status_file) {
            if let Some(kb) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
            {
                peak = peak.max(kb);
            }
        }
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    (peak, status.success(), reader.join().unwrap())
}

#[test]
fn decompression_bombs_are_refused_at_once_in_little_memory() {
    let Some(data) =
        common::shared_data("decompression_bombs_are_refused_at_once_in_little_memory")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bombs");
    std::fs::create_dir_all(&dir).unwrap();
    let avif = data.join("dev/formats/avif");
    let files = [
        ("bomb.png", png_bomb()),
        ("bomb.heic", container_bomb(&avif.join("hopper.heif"))),
        ("bomb.avif", container_bomb(&avif.join("hopper.avif"))),
    ];
    for (name, bytes) in &files {
        assert!(bytes.len() < 4096, "{name}: {} bytes", bytes.len());
        std::fs::write(dir.join(name), bytes).unwrap();
        // In process: refused before any decoding, fast.
        let t = Instant::now();
        let r = likeness::library::decode::decode_guarded(&dir.join(name), bytes, 4096);
        let took = t.elapsed();
        let why = r.expect_err(name);
        assert!(why.contains("decompression bomb guard"), "{name}: {why}");
        assert!(took < Duration::from_secs(1), "{name}: {took:?}");
    }
    // Through a real scan (workers on): every one refused, the whole scan in < 1 s of decoding
    // and the process under 200 MB at its peak.
    let db = tmp.path().join("l.db");
    let t = Instant::now();
    let (rss_kb, ok, out) = run_measured(&mut scan_command(&db, &dir));
    let wall = t.elapsed();
    assert!(ok, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let failed = failures(&report);
    assert_eq!(failed.len(), 3, "{failed:?}");
    for (path, why) in &failed {
        assert!(why.contains("decompression bomb guard"), "{path}: {why}");
    }
    let decode_s = report["timing"]["decode_s"].as_f64().unwrap();
    assert!(decode_s < 1.0, "decoding took {decode_s} s");
    assert!(rss_kb < 200 * 1024, "peak RSS {rss_kb} KB");
    eprintln!(
        "bombs: scan {:.2} s wall, decode {decode_s:.3} s, peak RSS {} MB",
        wall.as_secs_f64(),
        rss_kb / 1024
    );
}
