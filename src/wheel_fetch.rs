// Fetching native libraries from hash-pinned PyPI wheels: ONNX Runtime, libheif with libde265
// for HEIC/HEIF photos, libavif for AVIF. Loaded at run time, never linked, so an LGPL library stays
// replaceable and a missing one costs only its feature.
//
// This file is shared, word for word, by `build.rs` (through `include!`) and by the crate, so it
// uses `std` only. Build time fetches into OUT_DIR so `cargo run` and `cargo test` work offline
// afterwards; run time fetches into the user's cache directory when the build-time copy is gone
// (as after `cargo install`, whose build folder is deleted).

/// A wheel pinned by version and SHA-256, and the files to take out of it.
pub struct PinnedWheel {
    pub package: &'static str,
    pub version: &'static str,
    /// The wheel's file name on PyPI (Linux x86-64, CPython 3.11 tag: the libraries inside do
    /// not depend on Python).
    pub file: &'static str,
    pub sha256: &'static str,
    /// Paths inside the wheel; each lands in the destination folder under its base name.
    pub members: &'static [&'static str],
}

/// The ONNX Runtime version `ort` 2.0.0-rc.15 is made for.
pub const ORT_VERSION: &str = "1.31.1";
/// The library's file name inside the wheel (only the versioned name exists there).
pub const ORT_LIB_NAME: &str = "libonnxruntime.so.1.31.1";
/// ONNX Runtime's wheel.
pub const ORT_WHEEL: PinnedWheel = PinnedWheel {
    package: "onnxruntime",
    version: ORT_VERSION,
    file: "onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl",
    sha256: "5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f",
    members: &[
        "onnxruntime/capi/libonnxruntime.so.1.31.1",
        "onnxruntime/capi/libonnxruntime_providers_shared.so",
    ],
};

/// libheif 1.23.0 with libde265 (HEVC decoding; both LGPL-3.0), from `pi-heif` 1.4.0: the
/// smallest wheel that has them and no GPL x265 encoder (docs/research/heic_avif_raw.md).
pub const HEIF_WHEEL: PinnedWheel = PinnedWheel {
    package: "pi-heif",
    version: "1.4.0",
    file: "pi_heif-1.4.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
    sha256: "48554de1080094557f75d090bac1b8004850f11b2be91efe7de9d51d6d620f81",
    members: &[
        "pi_heif.libs/libde265-90fb0ce1.so.0.2.0",
        "pi_heif.libs/libheif-7a3e919c.so.1.23.0",
    ],
};
/// libheif's file name (it needs [`HEIF_DE265_NAME`] loaded first: it has no RPATH).
pub const HEIF_LIB_NAME: &str = "libheif-7a3e919c.so.1.23.0";
/// libde265's file name.
pub const HEIF_DE265_NAME: &str = "libde265-90fb0ce1.so.0.2.0";

/// libavif 1.4.2 with dav1d 1.5.3 linked in (AV1 decoding; BSD-2-Clause), from Pillow 13.0.0:
/// no PyPI libheif wheel decodes AV1 (docs/research/heic_avif_raw.md).
pub const AVIF_WHEEL: PinnedWheel = PinnedWheel {
    package: "pillow",
    version: "13.0.0",
    file: "pillow-13.0.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
    sha256: "a625df9a2a5597fa5e5266e01aefc82604bb85d291e3547981e863560d75da6c",
    members: &["pillow.libs/libavif-c6062d5f.so.16.4.2"],
};
/// libavif's file name.
pub const AVIF_LIB_NAME: &str = "libavif-c6062d5f.so.16.4.2";

/// Whether pre-built wheels exist for this platform.
pub fn wheels_supported() -> bool {
    cfg!(all(target_os = "linux", target_arch = "x86_64"))
}

/// The base name of a wheel member.
pub fn member_name(member: &str) -> &str {
    member.rsplit('/').next().unwrap_or(member)
}

/// Download `wheel` with pip (hash-checked by pip) and unpack its members into `dest_dir`.
/// Writes to a temporary folder first and renames, so a concurrent or killed fetch never leaves
/// a half-written library under its final name. Does nothing when every member is there.
pub fn fetch_wheel_into(wheel: &PinnedWheel, dest_dir: &std::path::Path) -> Result<(), String> {
    use std::process::Command;
    if wheel
        .members
        .iter()
        .all(|m| dest_dir.join(member_name(m)).is_file())
    {
        return Ok(());
    }
    if !wheels_supported() {
        return Err(format!(
            "no {} wheel is pinned for this platform",
            wheel.package
        ));
    }
    std::fs::create_dir_all(dest_dir).map_err(|e| format!("{}: {e}", dest_dir.display()))?;
    let tmp = dest_dir.join(format!(".fetch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let req = tmp.join("requirements.txt");
    std::fs::write(
        &req,
        format!(
            "{}=={} --hash=sha256:{}\n",
            wheel.package, wheel.version, wheel.sha256
        ),
    )
    .map_err(|e| format!("{}: {e}", req.display()))?;
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--timeout",
            "30",
            "--retries",
            "2",
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
            "`pip download {}=={}` failed: {}",
            wheel.package,
            wheel.version,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let path = tmp.join(wheel.file);
    let script = "import sys, zipfile\n\
        z = zipfile.ZipFile(sys.argv[1])\n\
        for name in sys.argv[3:]:\n\
        \x20   open(sys.argv[2] + '/' + name.rsplit('/', 1)[1], 'wb').write(z.read(name))\n";
    let out = Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(&path)
        .arg(&tmp)
        .args(wheel.members)
        .output()
        .map_err(|e| format!("could not run {python}: {e}"))?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(format!(
            "unpacking {} failed: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let moved = wheel.members.iter().try_for_each(|m| {
        let name = member_name(m);
        std::fs::rename(tmp.join(name), dest_dir.join(name))
            .map_err(|e| format!("{}: {e}", dest_dir.join(name).display()))
    });
    let _ = std::fs::remove_dir_all(&tmp);
    moved
}

/// [`fetch_wheel_into`] for ONNX Runtime, returning the library's path.
pub fn fetch_ort_into(dest_dir: &std::path::Path) -> Result<std::path::PathBuf, String> {
    fetch_wheel_into(&ORT_WHEEL, dest_dir)?;
    Ok(dest_dir.join(ORT_LIB_NAME))
}
