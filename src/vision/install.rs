//! Installing a user-installable embedder (see the catalogue's [`InstallSource`]): from a local
//! folder holding the ready ONNX file or the publisher's original files, or from the publisher's
//! download location. Every file is checked against its known checksum; originals are converted
//! with the catalogue's pinned converter in a private virtual environment whose packages pip
//! installs with `--require-hashes`; the result must reproduce the catalogue's SHA-256. Files
//! are written under a temporary name and renamed, so nothing is ever half-installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;
use sha2::{Digest, Sha256, Sha384};

use super::models::{hex, Delivery, EmbedderSpec, InstallSource};
use crate::error::{Error, Result};

/// What an install did (field names are a command-line contract).
#[derive(Debug, Clone, Serialize)]
pub struct Installed {
    pub id: String,
    pub installed: bool,
    pub sha256: String,
    pub path: PathBuf,
    /// `already`, `onnx` (copied), `converted` (from the originals) or `downloaded`.
    pub how: &'static str,
}

fn fail(spec: &EmbedderSpec, message: String) -> Error {
    Error::Model {
        id: spec.id().into(),
        message,
    }
}

fn sha256_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(hex(&Sha256::digest(&bytes)))
}

/// Install `spec` into `dest_dir` (see the module doc). `from` is a folder or a file.
pub fn install(spec: &EmbedderSpec, from: Option<&Path>, dest_dir: &Path) -> Result<Installed> {
    if spec.delivery != Delivery::Installable {
        return Err(fail(
            spec,
            format!(
                "{} ships with Likeness; there is nothing to install",
                spec.name
            ),
        ));
    }
    let Some(source) = spec.install.as_ref() else {
        return Err(fail(spec, "no install source is known".into()));
    };
    let dest = dest_dir.join(spec.model.file);
    let done = |how| Installed {
        id: spec.id().into(),
        installed: true,
        sha256: spec.model.sha256.into(),
        path: dest.clone(),
        how,
    };
    if dest.is_file() && sha256_file(&dest)? == spec.model.sha256 {
        return Ok(done("already"));
    }
    std::fs::create_dir_all(dest_dir).map_err(|e| Error::io(dest_dir, e))?;
    let work = tempdir_in(dest_dir)?;
    let result = (|| -> Result<&'static str> {
        let staged = work.join(spec.model.file);
        let how = match from {
            Some(from) => {
                if let Some(onnx) = find_onnx(spec, from) {
                    let digest = sha256_file(&onnx)?;
                    if digest != spec.model.sha256 {
                        return Err(fail(spec, format!(
                            "{} is not the expected model (SHA-256 {digest}, expected {}); use the file from the conversion described in the README, or Intel's .xml/.bin",
                            onnx.display(),
                            spec.model.sha256
                        )));
                    }
                    std::fs::copy(&onnx, &staged).map_err(|e| Error::io(&staged, e))?;
                    "onnx"
                } else if from.is_dir() {
                    let originals = originals_in(spec, source, from)?;
                    convert(spec, source, &originals, &work, &staged)?;
                    "converted"
                } else {
                    return Err(fail(spec, format!(
                        "{} holds neither {} nor Intel's {}; point --from at the folder with those files",
                        from.display(),
                        spec.model.file,
                        source.files.iter().map(|f| f.0).collect::<Vec<_>>().join(" + ")
                    )));
                }
            }
            None => {
                let originals = download(spec, source, &work)?;
                convert(spec, source, &originals, &work, &staged)?;
                "downloaded"
            }
        };
        let digest = sha256_file(&staged)?;
        if digest != spec.model.sha256 {
            return Err(fail(spec, format!(
                "the converted model has SHA-256 {digest}, not {}; the conversion tools did not reproduce it, so nothing was installed",
                spec.model.sha256
            )));
        }
        std::fs::rename(&staged, &dest).map_err(|e| Error::io(&dest, e))?;
        Ok(how)
    })();
    let _ = std::fs::remove_dir_all(&work);
    result.map(done)
}

fn tempdir_in(dir: &Path) -> Result<PathBuf> {
    let work = dir.join(format!(".install-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| Error::io(&work, e))?;
    Ok(work)
}

/// The ready ONNX file at `from` (the file itself, or the catalogue's file name in the folder).
fn find_onnx(spec: &EmbedderSpec, from: &Path) -> Option<PathBuf> {
    if from.is_file() && from.extension().is_some_and(|e| e == "onnx") {
        return Some(from.to_path_buf());
    }
    let inside = from.join(spec.model.file);
    inside.is_file().then_some(inside)
}

/// The publisher's files in `dir` (or one level below, as Intel's folders nest them), each
/// checked against its SHA-384.
fn originals_in(spec: &EmbedderSpec, source: &InstallSource, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for (name, sha384) in source.files {
        let candidates = std::iter::once(dir.join(name)).chain(
            std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path().join(name)),
        );
        let Some(path) = candidates.into_iter().find(|p| p.is_file()) else {
            return Err(fail(
                spec,
                format!(
                    "{} holds neither {} nor {name}; point --from at the folder with Intel's files",
                    dir.display(),
                    spec.model.file
                ),
            ));
        };
        check_sha384(spec, &path, sha384)?;
        out.push(path);
    }
    Ok(out)
}

fn check_sha384(spec: &EmbedderSpec, path: &Path, expected: &str) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let digest = hex(&Sha384::digest(&bytes));
    if digest != expected {
        return Err(fail(spec, format!(
            "{} is not Intel's published file (SHA-384 {digest}, expected {expected}); download it again",
            path.display()
        )));
    }
    Ok(())
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Download the publisher's files into `work` (Python's urllib, which uses the system's
/// certificate store) and check them.
fn download(spec: &EmbedderSpec, source: &InstallSource, work: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for (name, sha384) in source.files {
        let url = format!("{}{name}", source.url_base);
        let path = work.join(name);
        let script = "import sys, urllib.request\n\
            urllib.request.urlretrieve(sys.argv[1], sys.argv[2])\n";
        let run = Command::new(python())
            .arg("-c")
            .arg(script)
            .arg(&url)
            .arg(&path)
            .output()
            .map_err(|e| {
                fail(
                    spec,
                    format!("could not run {} ({e}); install Python 3", python()),
                )
            })?;
        if !run.status.success() {
            let why = String::from_utf8_lossy(&run.stderr);
            let last = why.trim().lines().last().unwrap_or("").to_string();
            return Err(fail(spec, format!(
                "could not download {url} ({last}); on a machine without internet, download Intel's .xml and .bin elsewhere and run `likeness models install {} --from DIR`",
                spec.id()
            )));
        }
        check_sha384(spec, &path, sha384)?;
        out.push(path);
    }
    Ok(out)
}

/// The converter's virtual environment, made once in the user cache with hash-pinned packages.
fn converter_env(spec: &EmbedderSpec, source: &InstallSource) -> Result<PathBuf> {
    let digest = hex(&Sha256::digest(source.requirements.as_bytes()));
    let base = directories::ProjectDirs::from("org", "Likeness", "likeness")
        .map(|d| d.cache_dir().to_path_buf())
        .unwrap_or_else(std::env::temp_dir);
    let venv = base.join(format!("convert-{}-{}", spec.id(), &digest[..12]));
    let py = venv.join("bin/python");
    if venv.join(".complete").is_file() && py.is_file() {
        return Ok(py);
    }
    let _ = std::fs::remove_dir_all(&venv);
    std::fs::create_dir_all(&base).map_err(|e| Error::io(&base, e))?;
    let step = |cmd: &mut Command, what: &str| -> Result<()> {
        let out = cmd.output().map_err(|e| {
            fail(
                spec,
                format!("could not run {what} ({e}); install Python 3 with venv and pip"),
            )
        })?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr);
            let last = why.trim().lines().last().unwrap_or("").to_string();
            return Err(fail(spec, format!(
                "{what} failed ({last}); the converter needs CPython 3.11 or 3.12 (set PYTHON to one) and pip to reach PyPI once"
            )));
        }
        Ok(())
    };
    step(
        Command::new(python()).args(["-m", "venv"]).arg(&venv),
        "creating the converter's Python environment",
    )?;
    let req = venv.join("requirements.txt");
    std::fs::write(&req, source.requirements).map_err(|e| Error::io(&req, e))?;
    step(
        Command::new(&py)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--require-hashes",
                "--only-binary=:all:",
                "-r",
            ])
            .arg(&req),
        "installing the pinned converter packages",
    )?;
    std::fs::write(venv.join(".complete"), b"").map_err(|e| Error::io(&venv, e))?;
    Ok(py)
}

/// Run the catalogue's converter on the originals (`.xml`, `.bin`) into `out`.
fn convert(
    spec: &EmbedderSpec,
    source: &InstallSource,
    originals: &[PathBuf],
    work: &Path,
    out: &Path,
) -> Result<()> {
    let py = converter_env(spec, source)?;
    let script = work.join("convert.py");
    std::fs::write(&script, source.converter).map_err(|e| Error::io(&script, e))?;
    let run = Command::new(&py)
        .arg(&script)
        .args(originals)
        .arg(out)
        .output()
        .map_err(|e| fail(spec, format!("could not run the converter: {e}")))?;
    if !run.status.success() || !out.is_file() {
        let why = String::from_utf8_lossy(&run.stderr);
        let last = why.trim().lines().last().unwrap_or("").to_string();
        return Err(fail(
            spec,
            format!("converting Intel's files failed ({last}); nothing was installed"),
        ));
    }
    Ok(())
}
