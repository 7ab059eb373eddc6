//! Fetches ONNX Runtime's shared library (hash-pinned PyPI wheel) into OUT_DIR so that
//! `cargo run` and `cargo test` need no manual step. A failure here is only a warning: the app
//! falls back to `ORT_DYLIB_PATH` or to fetching into the user's cache directory at first use.

#[allow(dead_code)]
mod ort_fetch {
    include!("src/vision/ort_fetch.rs");
}

fn main() {
    println!("cargo:rerun-if-changed=src/vision/ort_fetch.rs");
    println!("cargo:rerun-if-env-changed=LIKENESS_SKIP_ORT_FETCH");
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let dir = out_dir.join("onnxruntime");
    println!("cargo:rustc-env=LIKENESS_BUILD_ORT_DIR={}", dir.display());
    if std::env::var_os("LIKENESS_SKIP_ORT_FETCH").is_some() {
        return;
    }
    if let Err(e) = ort_fetch::fetch_ort_into(&dir) {
        println!("cargo:warning=ONNX Runtime was not fetched at build time ({e}); Likeness will try again at first run");
    }
}
