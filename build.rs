//! Fetches the native libraries Likeness loads at run time (hash-pinned PyPI wheels) into
//! OUT_DIR so that `cargo run` and `cargo test` need no manual step: ONNX Runtime, libheif
//! with libde265 for HEIC, libavif for AVIF. A failure here is only a warning: the app falls back to
//! `ORT_DYLIB_PATH` / `LIKENESS_HEIF_DIR` or to fetching into the user's cache at first use.

#[allow(dead_code)]
mod wheel_fetch {
    include!("src/wheel_fetch.rs");
}

fn main() {
    println!("cargo:rerun-if-changed=src/wheel_fetch.rs");
    println!("cargo:rerun-if-env-changed=LIKENESS_SKIP_ORT_FETCH");
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let ort = out_dir.join("onnxruntime");
    let heif = out_dir.join("heif");
    let avif = out_dir.join("avif");
    println!("cargo:rustc-env=LIKENESS_BUILD_ORT_DIR={}", ort.display());
    println!("cargo:rustc-env=LIKENESS_BUILD_HEIF_DIR={}", heif.display());
    println!("cargo:rustc-env=LIKENESS_BUILD_AVIF_DIR={}", avif.display());
    if std::env::var_os("LIKENESS_SKIP_ORT_FETCH").is_some() {
        return;
    }
    if let Err(e) = wheel_fetch::fetch_ort_into(&ort) {
        println!("cargo:warning=ONNX Runtime was not fetched at build time ({e}); Likeness will try again at first run");
    }
    if let Err(e) = wheel_fetch::fetch_wheel_into(&wheel_fetch::HEIF_WHEEL, &heif) {
        println!("cargo:warning=libheif was not fetched at build time ({e}); Likeness will try again when it meets a HEIC photo");
    }
    if let Err(e) = wheel_fetch::fetch_wheel_into(&wheel_fetch::AVIF_WHEEL, &avif) {
        println!("cargo:warning=libavif was not fetched at build time ({e}); Likeness will try again when it meets an AVIF photo");
    }
}
