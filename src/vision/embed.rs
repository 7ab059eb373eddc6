//! The face embedder: batches of aligned chips in, raw 128-d dlib descriptors out.

use super::align::CHIP;
use super::models::{EMBEDDER, EMBEDDING_DIM};
use super::runtime::{OnnxModel, Provider};
use crate::error::{Error, Result};
use crate::settings;

/// A face descriptor. The raw dlib output (norm ~1.3-1.6) is kept: Euclidean distance on it is
/// what the model was trained for.
pub type Embedding = Vec<f32>;

/// The embedder: one ONNX session, owned by one thread.
pub struct Embedder {
    model: OnnxModel,
}

impl Embedder {
    /// Build the embedder from verified model bytes.
    pub fn new(bytes: &[u8], provider: Provider) -> Result<Self> {
        Ok(Self {
            model: OnnxModel::new(EMBEDDER.id, bytes, provider)?,
        })
    }

    /// The execution provider in use.
    pub fn provider(&self) -> &'static str {
        self.model.provider()
    }

    /// Embed chips (each `3×150×150` CHW RGB 0..255, concatenated), in batches.
    pub fn embed(&mut self, chips: &[Vec<f32>]) -> Result<Vec<Embedding>> {
        let mut out = Vec::with_capacity(chips.len());
        for batch in chips.chunks(settings::EMBED_BATCH) {
            let input: Vec<f32> = batch.iter().flat_map(|c| c.iter().copied()).collect();
            let res = self
                .model
                .run(&[batch.len(), 3, CHIP, CHIP], &input, &["embedding"])?;
            let t = &res[0];
            if t.shape != [batch.len(), EMBEDDING_DIM] {
                return Err(Error::Inference {
                    model: EMBEDDER.id.into(),
                    message: format!("unexpected output shape {:?}", t.shape),
                });
            }
            out.extend(t.data.chunks(EMBEDDING_DIM).map(|v| v.to_vec()));
        }
        Ok(out)
    }
}

/// Euclidean distance between two descriptors.
pub fn distance(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f32>()
        .sqrt()
}

/// Cosine distance (1 − cos) between two descriptors.
pub fn cosine_distance(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        1.0
    } else {
        1.0 - dot / (na * nb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance(&[0.0, 3.0], &[4.0, 0.0]), 5.0);
        assert!((cosine_distance(&[1.0, 0.0], &[0.0, 2.0]) - 1.0).abs() < 1e-6);
        assert!(cosine_distance(&[1.0, 1.0], &[2.0, 2.0]).abs() < 1e-6);
    }
}
