//! Faces from pixels: detection, alignment, embedding. `runtime` is the only place that knows
//! ONNX Runtime; everything else here is plain Rust.

pub mod align;
pub mod detect;
pub mod embed;
pub mod install;
pub mod models;
pub mod runtime;

use std::path::Path;
use std::sync::Arc;

pub use detect::Detection;
pub use embed::Embedding;
pub use models::EmbedderSpec;
pub use runtime::Provider;

use crate::error::Result;

/// Model bytes, checksum-verified once and shared by every thread's sessions.
#[derive(Clone)]
pub struct Models {
    detector: Arc<[u8]>,
    face_check: Arc<[u8]>,
    embedder: Arc<[u8]>,
    spec: &'static EmbedderSpec,
    provider: Provider,
}

impl Models {
    /// Load and verify the detector and the embedder `spec` (shipped models from `dir`, see
    /// [`models::models_dir`]; installed ones from [`models::user_models_dir`]).
    pub fn load(dir: &Path, provider: Provider, spec: &'static EmbedderSpec) -> Result<Self> {
        runtime::init()?;
        Ok(Self {
            detector: models::load_verified(&models::DETECTOR, dir)?,
            face_check: models::load_verified(&models::FACE_CHECK, dir)?,
            embedder: models::load_embedder(spec, dir)?,
            spec,
            provider,
        })
    }

    /// Load from the default models folder with the catalogue's default embedder.
    pub fn load_default() -> Result<Self> {
        Self::load_for(models::DEFAULT_EMBEDDER)
    }

    /// Load from the default models folder with embedder `spec`.
    pub fn load_for(spec: &'static EmbedderSpec) -> Result<Self> {
        Self::load(&models::models_dir(), Provider::Auto, spec)
    }

    /// As [`Models::load_for`], for an evaluation on `data`: an installable model that is not
    /// installed is read from a `models/` folder beside the data when there is one
    /// ([`models::evaluation_copy`]), so evaluations run without installing it.
    pub fn load_for_evaluation(spec: &'static EmbedderSpec, data: &Path) -> Result<Self> {
        let Some(dir) = models::evaluation_copy(spec, data) else {
            return Self::load_for(spec);
        };
        tracing::info!(
            "{} is not installed: evaluating the copy in {}",
            spec.id(),
            dir.display()
        );
        runtime::init()?;
        let shipped = models::models_dir();
        Ok(Self {
            detector: models::load_verified(&models::DETECTOR, &shipped)?,
            face_check: models::load_verified(&models::FACE_CHECK, &shipped)?,
            embedder: models::load_verified(&spec.model, &dir)?,
            spec,
            provider: Provider::Auto,
        })
    }

    /// The embedder these models embed with.
    pub fn embedder_spec(&self) -> &'static EmbedderSpec {
        self.spec
    }

    /// Build one thread's detector and embedder sessions.
    pub fn engine(&self) -> Result<FaceEngine> {
        Ok(FaceEngine {
            detector: detect::Detector::new(&self.detector, &self.face_check, self.provider)?,
            embedder: self.embedder()?,
        })
    }

    /// One thread's embedder session.
    fn embedder(&self) -> Result<embed::Embedder> {
        embed::Embedder::new(self.spec, &self.embedder, self.provider)
    }
}

/// One thread's face pipeline. Not `Sync`: each inference thread owns one.
pub struct FaceEngine {
    pub detector: detect::Detector,
    pub embedder: embed::Embedder,
}

impl FaceEngine {
    /// The aligned chips of the faces at `landmarks` in `img`, for this engine's embedder; the
    /// landmarks are refined first where its alignment asks for it.
    pub fn chips(
        &mut self,
        img: &image::RgbImage,
        landmarks: impl IntoIterator<Item = [[f32; 2]; 5]>,
    ) -> Vec<Vec<f32>> {
        let align = &self.embedder.spec().align;
        landmarks
            .into_iter()
            .map(|l| {
                // A failed refinement costs the refinement, not the photo.
                let l = if align.refine_landmarks {
                    self.detector
                        .refine_landmarks(img, &l, align)
                        .unwrap_or_else(|e| {
                            tracing::warn!("landmark refinement failed, detector's kept: {e}");
                            l
                        })
                } else {
                    l
                };
                self.embedder.chip(img, &l)
            })
            .collect()
    }

    /// Which execution provider each model runs on, e.g. `["retinaface_mnet025: CPU", ...]`.
    pub fn providers(&self) -> Vec<String> {
        vec![
            format!("{}: {}", models::DETECTOR.id, self.detector.provider()),
            format!(
                "{}: {}",
                models::FACE_CHECK.id,
                self.detector.face_check_provider()
            ),
            format!(
                "{}: {}",
                self.embedder.spec().id(),
                self.embedder.provider()
            ),
        ]
    }
}
