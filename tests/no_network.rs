//! Nothing in Likeness opens a network connection except the explicit model download and the
//! ONNX Runtime / decoder fetch (issue 10): a scan, clustering and every reading command, traced
//! with strace, create no internet socket, and neither does the app showing each of its views
//! (headless, under egui_kittest). Skipped with a message where strace is absent.

mod common;

use std::path::Path;
use std::process::Command;

/// Whether strace is installed and may trace here (containers without ptrace refuse it); says
/// why not when it cannot.
fn strace_works(test: &str) -> bool {
    let ok = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=socket", "-o", "/dev/null", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "SKIPPED {test}: strace is absent or may not trace here (apt install strace; ptrace allowed)"
        );
    }
    ok
}

/// Run `likeness ARGS` under strace; the socket families it asked for.
fn traced(db: &Path, args: &[&str]) -> Option<Vec<String>> {
    let log = db.with_extension(format!("strace-{}", args[0]));
    let out = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=socket,connect", "-o"])
        .arg(&log)
        .arg(env!("CARGO_BIN_EXE_likeness"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "likeness {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    Some(
        text.lines()
            .filter(|l| l.contains("socket(") || l.contains("connect("))
            .map(str::to_string)
            .collect(),
    )
}

#[test]
fn scans_and_reading_commands_open_no_network_connection() {
    let Some(data) = common::shared_data("scans_and_reading_commands_open_no_network_connection")
    else {
        return;
    };
    if !strace_works("scans_and_reading_commands_open_no_network_connection") {
        return;
    }
    // The trace sees sockets at all: a program that opens one is caught.
    let tmp = tempfile::tempdir().unwrap();
    let control = tmp.path().join("control.strace");
    let ok = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=socket", "-o"])
        .arg(&control)
        .args(["python3", "-c", "import socket; socket.socket()"])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        let text = std::fs::read_to_string(&control).unwrap();
        assert!(text.contains("AF_INET"), "strace saw no socket: {text}");
    }
    let photos = tmp.path().join("photos");
    common::copy_lfw(&data, &photos, &["Hans_Blix"]);
    let db = tmp.path().join("l.db");
    let p = photos.to_str().unwrap();
    let mut calls = Vec::new();
    for args in [
        vec!["scan", p],
        vec!["cluster"],
        vec!["people"],
        vec!["person", "1"],
        vec!["stats"],
        vec!["suggest"],
        vec!["formats"],
        vec!["models"],
    ] {
        calls.extend(traced(&db, &args).unwrap());
    }
    let inet: Vec<&String> = calls
        .iter()
        .filter(|l| l.contains("AF_INET") || l.contains("AF_INET6") || l.contains("sin_port"))
        .collect();
    assert!(inet.is_empty(), "network use: {inet:?}");
}

/// Set (to a library path) in the child run of [`app_views_open_no_network_connection`].
const CHILD: &str = "LIKENESS_NO_NETWORK_CHILD_DB";

/// The app's every view, each waited for, on the library named by `CHILD`. Runs only as the
/// traced child of [`app_views_open_no_network_connection`]; a plain run returns at once.
#[test]
fn child_visits_every_view() {
    use common::ui::{harness, idle_library, wait};
    use egui::{Key, Modifiers};
    use likeness::ui::{Command, View};
    let Some(db) = std::env::var_os(CHILD) else {
        return;
    };
    let mut h = harness(Path::new(&db));
    wait(&mut h, "the library", 60, idle_library);
    let views = [
        (Key::Num1, View::Library),
        (Key::Num2, View::People),
        (Key::Num3, View::Ungrouped),
        (Key::Num4, View::Review),
        (Key::Num5, View::Verify),
        (Key::Num6, View::Photos),
        (Key::Num7, View::Settings),
    ];
    for (key, view) in views {
        h.key_press_modifiers(Modifiers::COMMAND, key);
        wait(&mut h, &format!("{view:?}"), 60, |a| a.saved.view == view);
        h.run_steps(20);
    }
    let person = h
        .state()
        .runtime()
        .unwrap()
        .data
        .library
        .as_ref()
        .unwrap()
        .people[0]
        .id;
    h.state_mut().command(Command::OpenPerson(person));
    wait(&mut h, "the person view", 60, |a| {
        a.saved.view == View::Person && a.runtime().is_some_and(|r| r.data.person_faces.is_some())
    });
    h.run_steps(20);
    println!("VISITED EVERY VIEW");
}

#[test]
fn app_views_open_no_network_connection() {
    let Some(data) = common::shared_data("app_views_open_no_network_connection") else {
        return;
    };
    if !strace_works("app_views_open_no_network_connection") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    common::copy_lfw(&data, &photos, &["Hans_Blix", "Naomi_Watts"]);
    let db = tmp.path().join("l.db");
    for args in [vec!["scan", photos.to_str().unwrap()], vec!["cluster"]] {
        let ok = Command::new(env!("CARGO_BIN_EXE_likeness"))
            .arg("--db")
            .arg(&db)
            .args(&args)
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "likeness {args:?}");
    }
    let log = tmp.path().join("app.strace");
    let out = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=socket,connect", "-o"])
        .arg(&log)
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", "child_visits_every_view", "--nocapture"])
        .env(CHILD, &db)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("VISITED EVERY VIEW"),
        "the traced app run failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let inet: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("AF_INET") || l.contains("sin_port"))
        .collect();
    assert!(inet.is_empty(), "network use by the app's views: {inet:?}");
}
