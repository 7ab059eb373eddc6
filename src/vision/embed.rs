//! The face embedder: aligned chips in, vectors out, for any embedder of the catalogue (its
//! [`EmbedderSpec`] says the chip, colour order, scaling, output and metric). Cosine models'
//! vectors come out at unit length, so Euclidean distance is the one distance everywhere.
//! Also the one-byte-per-dimension storage form ([`Quantized`]).

use image::RgbImage;

use super::align;
use super::models::{Channels, EmbedderSpec, Metric};
use super::runtime::{OnnxModel, Provider};
use crate::error::{Error, Result};
use crate::settings;

/// A face vector of one embedder: the raw output for Euclidean models, unit length for cosine.
pub type Embedding = Vec<f32>;

/// The embedder: one ONNX session, owned by one thread.
pub struct Embedder {
    model: OnnxModel,
    spec: &'static EmbedderSpec,
}

impl Embedder {
    /// Build the embedder from verified model bytes.
    pub fn new(spec: &'static EmbedderSpec, bytes: &[u8], provider: Provider) -> Result<Self> {
        Ok(Self {
            model: OnnxModel::new(spec.id(), bytes, provider)?,
            spec,
        })
    }

    /// The catalogue entry this embedder runs.
    pub fn spec(&self) -> &'static EmbedderSpec {
        self.spec
    }

    /// The execution provider in use.
    pub fn provider(&self) -> &'static str {
        self.model.provider()
    }

    /// The aligned chip of one face (CHW RGB 0..255), in this embedder's template. Callers go
    /// through `FaceEngine::chips`, which refines the landmarks where the embedder asks for it.
    pub(crate) fn chip(&self, img: &RgbImage, landmarks: &[[f32; 2]; 5]) -> Vec<f32> {
        align::extract_chip(img, landmarks, &self.spec.align)
    }

    /// Embed chips (from [`Embedder::chip`]), in batches. With `mirror` in the spec each chip's
    /// mirror image rides in the same batch and the two vectors are averaged.
    pub fn embed(&mut self, chips: &[Vec<f32>]) -> Result<Vec<Embedding>> {
        let spec = self.spec;
        let n = spec.align.size;
        let per = if spec.mirror { 2 } else { 1 };
        let mut out = Vec::with_capacity(chips.len());
        for batch in chips.chunks(settings::EMBED_BATCH) {
            let mut input: Vec<f32> = Vec::with_capacity(batch.len() * per * 3 * n * n);
            for c in batch {
                prepare(spec, c, &mut input);
                if spec.mirror {
                    prepare(spec, &align::mirror_chip(c, n), &mut input);
                }
            }
            let rows = batch.len() * per;
            let res = self
                .model
                .run(&[rows, 3, n, n], &input, &[spec.output_name])?;
            let t = &res[0];
            if t.data.len() != rows * spec.dims || t.shape.first() != Some(&rows) {
                return Err(Error::Inference {
                    model: spec.id().into(),
                    message: format!("unexpected output shape {:?}", t.shape),
                });
            }
            for face in t.data.chunks(spec.dims * per) {
                let mut v: Vec<f32> = face[..spec.dims].to_vec();
                if spec.mirror {
                    for (x, y) in v.iter_mut().zip(&face[spec.dims..]) {
                        *x = (*x + y) / 2.0;
                    }
                }
                out.push(finish(spec, v));
            }
        }
        Ok(out)
    }
}

/// Append a chip in the network's input form: colour order and `(v − mean) · scale`.
fn prepare(spec: &EmbedderSpec, chip: &[f32], out: &mut Vec<f32>) {
    let plane = spec.align.size * spec.align.size;
    let order: [usize; 3] = match spec.channels {
        Channels::Rgb => [0, 1, 2],
        Channels::Bgr => [2, 1, 0],
    };
    for c in order {
        out.extend(
            chip[c * plane..(c + 1) * plane]
                .iter()
                .map(|v| (v - spec.mean) * spec.scale),
        );
    }
}

/// The stored form of a network output: unit length for cosine models.
fn finish(spec: &EmbedderSpec, mut v: Vec<f32>) -> Embedding {
    if spec.metric == Metric::Cosine {
        normalize(&mut v);
    }
    v
}

/// Scale to unit length (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// Euclidean distance between two stored vectors (for cosine models, on unit vectors).
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

/// A vector at one byte per dimension: `v[i] ≈ q[i] · scale`, with `scale = max|v| / 127`.
/// 128 bytes for a dlib face, 192 for MobileFaceNet, 256 for 0095 (the scale is one `f32`).
#[derive(Debug, Clone, PartialEq)]
pub struct Quantized {
    pub q: Vec<i8>,
    pub scale: f32,
}

impl Quantized {
    /// Quantise (round to nearest; the largest component maps to ±127 exactly).
    pub fn new(v: &[f32]) -> Self {
        let m = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let scale = if m > 0.0 { m / 127.0 } else { 1.0 };
        Self {
            q: v.iter()
                .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8)
                .collect(),
            scale,
        }
    }

    /// Back to `f32`.
    pub fn dequantize(&self) -> Vec<f32> {
        self.q.iter().map(|&x| x as f32 * self.scale).collect()
    }

    /// The stored bytes (two's complement, one per dimension).
    pub fn bytes(&self) -> Vec<u8> {
        self.q.iter().map(|&x| x as u8).collect()
    }

    /// From stored bytes and scale.
    pub fn from_bytes(b: &[u8], scale: f32) -> Self {
        Self {
            q: b.iter().map(|&x| x as i8).collect(),
            scale,
        }
    }
}

/// What a vector becomes once stored: quantised and read back.
pub fn stored_form(v: &[f32]) -> Vec<f32> {
    Quantized::new(v).dequantize()
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

    #[test]
    fn quantisation_is_one_byte_per_dimension_and_close() {
        let v: Vec<f32> = (0..128)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 80.0)
            .collect();
        let q = Quantized::new(&v);
        assert_eq!(q.bytes().len(), 128);
        let back = Quantized::from_bytes(&q.bytes(), q.scale).dequantize();
        let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        for (a, b) in v.iter().zip(&back) {
            assert!((a - b).abs() <= max / 254.0 + 1e-6, "{a} vs {b}");
        }
        // Extremes are exact and zero stays zero.
        assert!(q.q.iter().any(|&x| x.abs() == 127));
        assert!(Quantized::new(&[0.0; 4])
            .dequantize()
            .iter()
            .all(|&x| x == 0.0));
    }

    #[test]
    fn unit_vectors_turn_cosine_into_euclidean() {
        let (mut a, mut b) = (vec![3.0, 4.0, 0.0], vec![1.0, 0.0, 1.0]);
        let c = cosine_distance(&a, &b);
        normalize(&mut a);
        normalize(&mut b);
        assert!((distance(&a, &b) - (2.0 * c).sqrt()).abs() < 1e-6);
    }
}
