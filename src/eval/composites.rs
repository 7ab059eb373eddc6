//! Full-size benchmark photos made from LFW faces: a 12 or 48 MP canvas (a smooth gradient with
//! grain, so JPEG sizes are realistic) with several LFW photos pasted at phone-photo scales (the
//! face in them `min_face_px`–400 px), encoded as JPEG, with `faces.tsv` saying where each was
//! pasted. Deterministic for a seed; the inputs of the full-size benchmarks
//! (`benches/embedders.sh`, `benches/formats.sh`) and of [`recall`], never test fixtures.

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
    /// Where they went: `file, x, y, side, face_px` per line.
    pub truth: PathBuf,
}

/// The name of the file beside the photos that says where the faces were pasted.
pub const TRUTH_FILE: &str = "faces.tsv";

/// LFW's main face spans about this fraction of its 250 px photo (deep-funneled crops).
const LFW_FACE_FRACTION: f64 = 0.45;

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
    min_face_px: f64,
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
    let mut truth = String::from("file\tx\ty\tside\tface_px\n");
    let min_face_px = min_face_px.clamp(8.0, 400.0);
    for i in 0..count {
        let name = format!("composite_{:.0}mp_{i:03}.jpg", megapixels);
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
            // Scale so the face is min_face_px–400 px, small faces commoner (as in group shots).
            let face_px = min_face_px + rng.next().powi(2) * (400.0 - min_face_px);
            let side = ((face_px / LFW_FACE_FRACTION) as u32)
                .min(cell_w.min(cell_h))
                .max(16);
            let small = imageops::resize(&img, side, side, imageops::FilterType::Triangle);
            let (cx, cy) = (k % cols, k / cols);
            let x = cx * cell_w + (rng.next() * (cell_w - side) as f64) as u32;
            let y = cy * cell_h + (rng.next() * (cell_h - side) as f64) as u32;
            imageops::overlay(&mut canvas, &small, x as i64, y as i64);
            truth.push_str(&format!(
                "{name}\t{x}\t{y}\t{side}\t{:.1}\n",
                side as f64 * LFW_FACE_FRACTION
            ));
            pasted += 1;
        }
        let path = out.join(&name);
        let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut w = std::io::BufWriter::new(file);
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut w, 90)
            .encode_image(&canvas)
            .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
        photos.push(path);
    }
    let truth_path = out.join(TRUTH_FILE);
    std::fs::write(&truth_path, truth).map_err(|e| Error::io(&truth_path, e))?;
    Ok(Composites {
        photos,
        width,
        height,
        faces_pasted: pasted,
        truth: truth_path,
    })
}

/// One pasted face.
#[derive(Debug, Clone, PartialEq)]
pub struct Pasted {
    pub file: String,
    pub x: f32,
    pub y: f32,
    pub side: f32,
    pub face_px: f32,
}

/// Read a folder's `faces.tsv`.
pub fn read_truth(dir: &Path) -> Result<Vec<Pasted>> {
    let path = dir.join(TRUTH_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let num = |k: usize| -> Result<f32> {
            f.get(k).and_then(|v| v.parse().ok()).ok_or_else(|| {
                Error::Invalid(format!("{}: line {} is malformed", path.display(), n + 1))
            })
        };
        out.push(Pasted {
            file: f[0].to_string(),
            x: num(1)?,
            y: num(2)?,
            side: num(3)?,
            face_px: num(4)?,
        });
    }
    Ok(out)
}

/// Does a detected box (original photo pixels) show the main face of `p`? Its centre lies near
/// the centre of the pasted photo (LFW crops centre their face) and its size is a face's in it.
pub fn matches(p: &Pasted, bbox: &[f32; 4]) -> bool {
    let (cx, cy) = ((bbox[0] + bbox[2]) / 2.0, (bbox[1] + bbox[3]) / 2.0);
    let (px, py) = (p.x + p.side / 2.0, p.y + p.side / 2.0);
    let near = (cx - px).abs() <= 0.15 * p.side && (cy - py).abs() <= 0.15 * p.side;
    let w = (bbox[2] - bbox[0]).min(bbox[3] - bbox[1]);
    near && w >= 0.2 * p.side && w <= 0.9 * p.side
}

/// Size classes the recall is reported in (face_px lower bounds).
pub const RECALL_BUCKETS: [f32; 5] = [0.0, 30.0, 40.0, 60.0, 100.0];

/// Recall within one face size class `[from_px, to_px)` (`to_px` absent: no upper bound).
#[derive(Debug, Clone, serde::Serialize)]
pub struct RecallBucket {
    pub from_px: f32,
    pub to_px: Option<f32>,
    pub pasted: usize,
    pub found: usize,
    pub recall: f64,
}

/// Recall and cost of the detector at one working size.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RecallRow {
    pub detect_max_side: u32,
    /// Pasted faces found / pasted, per face size class.
    pub recall: Vec<RecallBucket>,
    pub found: usize,
    pub pasted: usize,
    /// Faces ≥ 40 px found / pasted (what the full-size speed target keeps).
    pub recall_40: f64,
    /// Detections that are no pasted main face (background faces in LFW crops, misses).
    pub other_detections: usize,
    /// Thread-seconds in the detector (resize, RetinaFace, O-Net) for all photos.
    pub detect_s: f64,
}

/// Detect the faces of every composite in `dir` at each working size in `sides` (with the
/// scan's decode), and report the recall of the pasted faces per size class.
pub fn recall(
    engine: &mut crate::vision::FaceEngine,
    dir: &Path,
    sides: &[u32],
) -> Result<Vec<RecallRow>> {
    let truth = read_truth(dir)?;
    let mut files: Vec<&str> = truth.iter().map(|p| p.file.as_str()).collect();
    files.dedup();
    let mut rows: Vec<RecallRow> = sides
        .iter()
        .map(|s| RecallRow {
            detect_max_side: *s,
            recall: Default::default(),
            found: 0,
            pasted: 0,
            recall_40: 0.0,
            other_detections: 0,
            detect_s: 0.0,
        })
        .collect();
    // [side][bucket] → (found, pasted)
    let mut counts = vec![[(0usize, 0usize); RECALL_BUCKETS.len()]; sides.len()];
    let (mut found40, mut pasted40) = (vec![0usize; sides.len()], 0usize);
    for file in files {
        let path = dir.join(file);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let d =
            crate::library::decode::decode_guarded(&path, &bytes, crate::settings::WORK_MAX_SIDE)
                .map_err(|message| Error::Photo {
                path: path.clone(),
                message,
            })?;
        let pasted: Vec<&Pasted> = truth.iter().filter(|p| p.file == file).collect();
        pasted40 += pasted.iter().filter(|p| p.face_px >= 40.0).count();
        for (si, side) in sides.iter().enumerate() {
            let t = std::time::Instant::now();
            let dets = engine.detector.detect_at(
                &d.image,
                crate::settings::MIN_FACE_PX * d.scale,
                *side,
            )?;
            rows[si].detect_s += t.elapsed().as_secs_f64();
            let boxes: Vec<[f32; 4]> = dets.iter().map(|x| x.scaled(1.0 / d.scale).bbox).collect();
            let mut used = vec![false; boxes.len()];
            for p in &pasted {
                let hit = boxes
                    .iter()
                    .enumerate()
                    .find(|(k, b)| !used[*k] && matches(p, b))
                    .map(|(k, _)| k);
                if let Some(k) = hit {
                    used[k] = true;
                }
                let b = RECALL_BUCKETS
                    .iter()
                    .rposition(|lo| p.face_px >= *lo)
                    .unwrap_or(0);
                counts[si][b].1 += 1;
                if hit.is_some() {
                    counts[si][b].0 += 1;
                    rows[si].found += 1;
                    if p.face_px >= 40.0 {
                        found40[si] += 1;
                    }
                }
                rows[si].pasted += 1;
            }
            rows[si].other_detections += used.iter().filter(|u| !**u).count();
        }
    }
    for (si, row) in rows.iter_mut().enumerate() {
        for (b, lo) in RECALL_BUCKETS.iter().enumerate() {
            let (f, n) = counts[si][b];
            if n > 0 {
                row.recall.push(RecallBucket {
                    from_px: *lo,
                    to_px: RECALL_BUCKETS.get(b + 1).copied(),
                    pasted: n,
                    found: f,
                    recall: f as f64 / n as f64,
                });
            }
        }
        row.recall_40 = found40[si] as f64 / pasted40.max(1) as f64;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detection_matches_the_face_of_its_paste_only() {
        let p = Pasted {
            file: "a.jpg".into(),
            x: 100.0,
            y: 200.0,
            side: 200.0,
            face_px: 90.0,
        };
        // The face in the middle of the pasted photo.
        assert!(matches(&p, &[155.0, 250.0, 245.0, 350.0]));
        // A small background face in the corner of the same paste.
        assert!(!matches(&p, &[105.0, 205.0, 135.0, 235.0]));
        // A face elsewhere of the right size.
        assert!(!matches(&p, &[555.0, 250.0, 645.0, 350.0]));
    }
}
