//! Nothing in Likeness opens a network connection except the explicit model download and the
//! ONNX Runtime / decoder fetch (issue 10): a scan, clustering and every reading command, traced
//! with strace, create no internet socket. Skipped with a message where strace is absent.

mod common;

use std::path::Path;
use std::process::Command;

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
    if Command::new("strace").arg("-V").output().is_err() {
        eprintln!("SKIPPED scans_and_reading_commands_open_no_network_connection: strace is absent (apt install strace)");
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
