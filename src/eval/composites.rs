//! Full-size benchmark photos made from LFW faces: a 12 or 48 MP canvas (a smooth gradient with
//! grain, so JPEG sizes are realistic) with several LFW photos pasted at phone-photo scales (the
//! face in them 40–400 px), encoded as JPEG. Deterministic for a seed; the inputs of the
//! full-size throughput benchmark (`benches/embedders.sh`), never test fixtures.

use std::path::{Path, PathBuf};

use image::{imageops, RgbImage};

use crate::error::{Error, Result};

/// What was written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Composites {
    pub photos: Vec<PathBuf>,
    pub width: u32,
    pub height: u32,
    /// LFW photos pasted in all (each shows one main face).
    pub faces_pasted: usize,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Write `count` photos of about `megapixels` MP (4:3) into `out`, pasting LFW photos listed in
/// `labels` (a `path<TAB>identity` TSV such as `identities_min5.tsv`).
pub fn make(
    labels: &Path,
    out: &Path,
    count: usize,
    megapixels: f64,
    seed: u64,
) -> Result<Composites> {
    let faces: Vec<PathBuf> = super::clusters::read_labels(labels)?
        .into_iter()
        .map(|l| l.0)
        .collect();
    if faces.is_empty() {
        return Err(Error::Invalid(format!(
            "{} lists no photos",
            labels.display()
        )));
    }
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let height = ((megapixels * 1e6 * 3.0 / 4.0).sqrt()).round() as u32;
    let width = height * 4 / 3;
    let mut rng = Rng(seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut photos = Vec::with_capacity(count);
    let mut pasted = 0;
    for i in 0..count {
        let (r0, g0, b0) = (rng.next() * 200.0, rng.next() * 200.0, rng.next() * 200.0);
        let mut canvas = RgbImage::from_fn(width, height, |x, y| {
            let t = (x as f64 / width as f64 + y as f64 / height as f64) / 2.0;
            let n = ((x.wrapping_mul(2654435761) ^ y.wrapping_mul(40503)) % 17) as f64;
            let c = |base: f64| (base * (1.0 - t) + 40.0 * t + n).clamp(0.0, 255.0) as u8;
            image::Rgb([c(r0), c(g0), c(b0)])
        });
        // A grid of slots, some filled: a group photo's worth of people.
        let people = 2 + (rng.next() * 6.0) as u32;
        let cols = people.div_ceil(2).max(1);
        let (cell_w, cell_h) = (width / cols, height / 2);
        for k in 0..people {
            let src = &faces[(rng.next() * faces.len() as f64) as usize % faces.len()];
            let img = image::open(src)
                .map_err(|e| Error::Invalid(format!("{}: {e}", src.display())))?
                .to_rgb8();
            // LFW's face spans ~45% of its 250 px: scale so the face is 40–400 px.
            let face_px = 40.0 + rng.next().powi(2) * 360.0;
            let side = ((face_px / 0.45) as u32).min(cell_w.min(cell_h)).max(32);
            let small = imageops::resize(&img, side, side, imageops::FilterType::Triangle);
            let (cx, cy) = (k % cols, k / cols);
            let x = cx * cell_w + (rng.next() * (cell_w - side) as f64) as u32;
            let y = cy * cell_h + (rng.next() * (cell_h - side) as f64) as u32;
            imageops::overlay(&mut canvas, &small, x as i64, y as i64);
            pasted += 1;
        }
        let path = out.join(format!("composite_{:.0}mp_{i:03}.jpg", megapixels));
        let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut w = std::io::BufWriter::new(file);
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut w, 90)
            .encode_image(&canvas)
            .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
        photos.push(path);
    }
    Ok(Composites {
        photos,
        width,
        height,
        faces_pasted: pasted,
    })
}
