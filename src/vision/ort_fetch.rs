// Fetching ONNX Runtime's shared library from its PyPI wheel, hash-pinned.
//
// This file is shared, word for word, by `build.rs` (through `include!`) and by
// `vision/runtime.rs`, so it uses `std` only. Build time fetches into OUT_DIR so `cargo run` and
// `cargo test` work offline afterwards; run time fetches into the user's cache directory when the
// build-time copy is gone (as after `cargo install`, whose build folder is deleted).

/// The ONNX Runtime version `ort` 2.0.0-rc.15 is made for.
pub const ORT_VERSION: &str = "1.31.1";
/// The library's file name inside the wheel (only the versioned name exists there).
pub const ORT_LIB_NAME: &str = "libonnxruntime.so.1.31.1";
/// The wheel for Linux x86-64, CPython 3.11 tag (the library inside does not depend on Python).
pub const ORT_WHEEL: &str = "onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl";
/// SHA-256 of that wheel as published on PyPI.
pub const ORT_WHEEL_SHA256: &str =
    "5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f";

/// Whether a pre-built wheel exists for this platform.
pub fn ort_fetch_supported() -> bool {
    cfg!(all(target_os = "linux", target_arch = "x86_64"))
}

/// Download the wheel with pip (hash-checked by pip), unpack the library into `dest_dir` and
/// return its path. Writes to a temporary folder first and renames, so a concurrent or killed
/// fetch never leaves a half-written library under the final name.
pub fn fetch_ort_into(dest_dir: &std::path::Path) -> Result<std::path::PathBuf, String> {
    use std::process::Command;
    let final_lib = dest_dir.join(ORT_LIB_NAME);
    if final_lib.is_file() {
        return Ok(final_lib);
    }
    if !ort_fetch_supported() {
        return Err("no ONNX Runtime wheel is pinned for this platform".into());
    }
    std::fs::create_dir_all(dest_dir).map_err(|e| format!("{}: {e}", dest_dir.display()))?;
    let tmp = dest_dir.join(format!(".fetch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let req = tmp.join("requirements.txt");
    std::fs::write(
        &req,
        format!("onnxruntime=={ORT_VERSION} --hash=sha256:{ORT_WHEEL_SHA256}\n"),
    )
    .map_err(|e| format!("{}: {e}", req.display()))?;
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--platform",
            "manylinux_2_28_x86_64",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
            "--require-hashes",
            "-r",
        ])
        .arg(&req)
        .arg("-d")
        .arg(&tmp)
        .output()
        .map_err(|e| format!("could not run `{python} -m pip` ({e}); install Python 3 with pip"))?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(format!(
            "`pip download onnxruntime=={ORT_VERSION}` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let wheel = tmp.join(ORT_WHEEL);
    let script = "import sys, zipfile\n\
        z = zipfile.ZipFile(sys.argv[1])\n\
        for name in ('onnxruntime/capi/' + sys.argv[3], 'onnxruntime/capi/libonnxruntime_providers_shared.so'):\n\
        \x20   open(sys.argv[2] + '/' + name.rsplit('/', 1)[1], 'wb').write(z.read(name))\n";
    let out = Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(&wheel)
        .arg(&tmp)
        .arg(ORT_LIB_NAME)
        .output()
        .map_err(|e| format!("could not run {python}: {e}"))?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(format!(
            "unpacking {} failed: {}",
            wheel.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    for name in ["libonnxruntime_providers_shared.so", ORT_LIB_NAME] {
        std::fs::rename(tmp.join(name), dest_dir.join(name))
            .map_err(|e| format!("{}: {e}", dest_dir.join(name).display()))?;
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(final_lib)
}
