//! The model catalogue: ids, files, checksums and input contracts. Embeddings are stored with the
//! embedder's id, and vectors of different ids are never compared.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A model file Likeness knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSpec {
    /// Stable id stored with every embedding.
    pub id: &'static str,
    /// File name in the models folder.
    pub file: &'static str,
    /// SHA-256 of the file; a file with another hash is refused.
    pub sha256: &'static str,
}

/// RetinaFace MobileNet-0.25 (MIT), boxes and 5 landmarks. BGR, mean (104,117,123), NCHW.
pub const DETECTOR: ModelSpec = ModelSpec {
    id: "retinaface_mnet025",
    file: "retinaface_mnet025.onnx",
    sha256: "b7a7acab55e104dce6f32cdfff929bd83946da5cd869b9e2e9bdffafd1b7e4a5",
};

/// MTCNN O-Net (MIT, facenet-pytorch): confirms RetinaFace's proposals are human faces.
pub const FACE_CHECK: ModelSpec = ModelSpec {
    id: "mtcnn_onet",
    file: "mtcnn_onet.onnx",
    sha256: "bcedbcc93b1be22a5811840090e1d61b02682d48dbf10ff8ccfde12ce3e0d27c",
};

/// dlib ResNet face embedder v1 (CC0): 150x150 RGB 0..255 chips to 128-d descriptors.
pub const EMBEDDER: ModelSpec = ModelSpec {
    id: "dlib_resnet_v1",
    file: "dlib_resnet_v1.onnx",
    sha256: "846546b7f89577bbb04e10ec56214e1eec4081985d11f32a9f2e328f3cd57131",
};

/// Dimension of [`EMBEDDER`]'s descriptor.
pub const EMBEDDING_DIM: usize = 128;

/// The folder holding the model files: `LIKENESS_MODELS_DIR`, else `models/` next to the
/// executable, else the source checkout's `models/` (which `cargo run`, `cargo test` and
/// `cargo install --path .` all keep).
pub fn models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("LIKENESS_MODELS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            let beside = dir.join("models");
            if beside.join(DETECTOR.file).is_file() {
                return beside;
            }
        }
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// Read a model file and check its SHA-256; a missing or corrupt file is a clear error.
pub fn load_verified(spec: &ModelSpec, dir: &Path) -> Result<Arc<[u8]>> {
    let path = dir.join(spec.file);
    let bytes = std::fs::read(&path).map_err(|e| Error::Model {
        id: spec.id.into(),
        message: format!(
            "cannot read {}: {e} (set LIKENESS_MODELS_DIR to the folder holding {})",
            path.display(),
            spec.file
        ),
    })?;
    let digest = hex(&Sha256::digest(&bytes));
    if digest != spec.sha256 {
        return Err(Error::Model {
            id: spec.id.into(),
            message: format!(
                "{} is corrupt or not the expected model: SHA-256 {digest}, expected {}; restore it from the repository",
                path.display(),
                spec.sha256
            ),
        });
    }
    Ok(bytes.into())
}

/// Lower-case hex of a byte string.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_model_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(DETECTOR.file), b"not a model").unwrap();
        let err = load_verified(&DETECTOR, dir.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("corrupt"), "{err}");
        assert!(err.contains(DETECTOR.file), "{err}");
    }

    #[test]
    fn missing_model_names_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_verified(&EMBEDDER, dir.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("LIKENESS_MODELS_DIR"), "{err}");
    }

    #[test]
    fn shipped_models_match_their_checksums() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        load_verified(&DETECTOR, &dir).unwrap();
        load_verified(&EMBEDDER, &dir).unwrap();
        load_verified(&FACE_CHECK, &dir).unwrap();
    }
}
