//! The size sweep (`likeness bench sizes`): photos whose faces range from 20 px to the whole
//! width of the frame, made from LFW, and the detector's report on them — per size band, how many
//! faces were found exactly once, missed, or found more than once.
//!
//! Each face is an LFW photo scaled so that its face has the wanted width and pasted on a plain
//! background (small faces several to a photo, in a grid; large ones alone, the LFW photo cropped
//! by the frame as a close-up is). Where the face is in the photo is known exactly: the detector
//! runs once on the 250 px LFW original, where its face is at a size RetinaFace sees best, and
//! that box is carried through the paste. Some photos hold two faces touching cheek to cheek
//! (the second one smaller, a parent and child): both must be found. Deterministic for a seed;
//! benchmark input, never a test fixture.

use std::path::{Path, PathBuf};

use image::{imageops, RgbImage};

use crate::error::{Error, Result};
use crate::vision::detect::ios;
use crate::vision::{Detection, FaceEngine, Models};

/// The file beside the photos saying where each face is.
pub const TRUTH_FILE: &str = "sizes.tsv";

/// Band edges (face box width, photo pixels) below the frame-relative bands.
const EDGES_PX: [f32; 12] = [
    20.0, 30.0, 40.0, 60.0, 100.0, 160.0, 250.0, 400.0, 630.0, 1000.0, 1600.0, 2500.0,
];

/// The last bands are a share of the frame width: 60–80% and 80–100% (the close-up, the selfie).
const WIDE_FRACTIONS: [f32; 3] = [0.6, 0.8, 1.0];

/// A face band: `[from, to)` pixels of face width (the last one includes `to`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Band {
    pub from_px: f32,
    pub to_px: f32,
    /// The label shown: pixels, or a share of the width for the frame-relative bands.
    #[serde(skip)]
    pub relative: bool,
}

impl Band {
    pub fn label(&self, width: u32) -> String {
        if self.relative {
            format!(
                "{:.0}-{:.0}% of width",
                100.0 * self.from_px / width as f32,
                100.0 * self.to_px / width as f32
            )
        } else {
            format!("{:.0}-{:.0} px", self.from_px, self.to_px)
        }
    }
}

/// The bands of a frame `width` pixels wide: the pixel bands that end below 60% of it, then the
/// frame-relative ones.
pub fn bands(width: u32) -> Vec<Band> {
    let w = width as f32;
    let first_wide = WIDE_FRACTIONS[0] * w;
    let mut out = Vec::new();
    for pair in EDGES_PX.windows(2) {
        if pair[1] <= first_wide {
            out.push(Band {
                from_px: pair[0],
                to_px: pair[1],
                relative: false,
            });
        } else {
            break;
        }
    }
    let last = out.last().map_or(EDGES_PX[0], |b| b.to_px);
    if last < first_wide {
        out.push(Band {
            from_px: last,
            to_px: first_wide,
            relative: false,
        });
    }
    for pair in WIDE_FRACTIONS.windows(2) {
        out.push(Band {
            from_px: pair[0] * w,
            to_px: pair[1] * w,
            relative: true,
        });
    }
    out
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) as f32
    }
    fn below(&mut self, n: usize) -> usize {
        ((self.next() * n as f32) as usize).min(n.saturating_sub(1))
    }
}

/// One face of the sweep, as written to [`TRUTH_FILE`].
#[derive(Debug, Clone, PartialEq)]
pub struct Truth {
    pub file: String,
    /// Index into [`bands`] of the photo's width, by the face's width.
    pub band: usize,
    /// `single`, `touching`, or `background` (a face behind the pasted one, in its LFW photo:
    /// found or not, it counts neither way).
    pub kind: String,
    /// The face's box in the photo's pixels.
    pub bbox: [f32; 4],
}

/// What [`make`] wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Made {
    pub photos: usize,
    pub faces: usize,
    pub width: u32,
    pub height: u32,
    pub truth: PathBuf,
}

/// An LFW photo with its face box (found on the original) and the other faces in it (people
/// behind: real faces, which a detector may find).
struct Source {
    img: RgbImage,
    face: [f32; 4],
    background: Vec<[f32; 4]>,
}

/// Write the sweep into `out`: for every band, `per_band` single faces and about a fifth as
/// many touching pairs (where two fit side by side), on `width`×`height` photos.
pub fn make(
    engine: &mut FaceEngine,
    labels: &Path,
    out: &Path,
    width: u32,
    height: u32,
    per_band: usize,
    seed: u64,
) -> Result<Made> {
    let paths: Vec<PathBuf> = super::clusters::read_labels(labels)?
        .into_iter()
        .map(|l| l.0)
        .collect();
    if paths.is_empty() {
        return Err(Error::Invalid(format!(
            "{} lists no photos",
            labels.display()
        )));
    }
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut rng = Rng(seed ^ 0x051c_e5ee_d0dd_ba11);
    let mut source = |rng: &mut Rng| -> Result<Source> {
        loop {
            let p = &paths[rng.below(paths.len())];
            let img = image::open(p)
                .map_err(|e| Error::Invalid(format!("{}: {e}", p.display())))?
                .to_rgb8();
            // At twice the size, so that the faces behind (small, often half hidden) are found.
            let big = crate::resize::rgb(&img, img.width() * 2, img.height() * 2);
            let dets: Vec<Detection> = engine
                .detector
                .detect(&big, 0.0)?
                .into_iter()
                .map(|d| d.scaled(0.5))
                .collect();
            let (cx, cy) = (img.width() as f32 / 2.0, img.height() as f32 / 2.0);
            let centre = dets.iter().min_by(|a, b| {
                let d = |d: &Detection| {
                    let (x, y) = d.centre();
                    (x - cx).powi(2) + (y - cy).powi(2)
                };
                d(a).total_cmp(&d(b))
            });
            if let Some(c) = centre {
                let background = dets
                    .iter()
                    .filter(|d| d.bbox != c.bbox)
                    .map(|d| d.bbox)
                    .collect();
                return Ok(Source {
                    img,
                    face: c.bbox,
                    background,
                });
            }
        }
    };
    let bands = bands(width);
    let mut truth = String::from("file\tband\tkind\tx1\ty1\tx2\ty2\n");
    let (mut photos, mut faces) = (0usize, 0usize);
    let mut write = |name: &str, canvas: &RgbImage, placed: &[([f32; 4], &str)]| {
        let path = out.join(name);
        let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut w = std::io::BufWriter::new(file);
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut w, 90)
            .encode_image(canvas)
            .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
        for (b, kind) in placed {
            let Some(band) = band_of(&bands, b[2] - b[0]) else {
                continue;
            };
            truth.push_str(&format!(
                "{name}\t{band}\t{kind}\t{:.1}\t{:.1}\t{:.1}\t{:.1}\n",
                b[0], b[1], b[2], b[3]
            ));
        }
        photos += 1;
        faces += placed.iter().filter(|p| p.1 != "background").count();
        Ok::<(), Error>(())
    };
    for (bi, band) in bands.iter().enumerate() {
        // Single faces: as many to a photo as fit in a grid of their LFW photos (at most 12).
        let mut left = per_band;
        let mut n = 0;
        while left > 0 {
            let mut canvas = background(width, height, &mut rng);
            let fw = log_uniform(band, &mut rng);
            let mut placed = Vec::new();
            // A grid cell holds the LFW photo of the band's largest face (its face box is at
            // least a third of the photo's width), so no photo covers another's face.
            let cell = band.to_px * 3.0;
            let (cols, rows) = (
                (width as f32 / cell).floor() as usize,
                (height as f32 / cell).floor() as usize,
            );
            let slots = (cols * rows).clamp(1, 12).min(left);
            for k in 0..slots {
                let src = source(&mut rng)?;
                let fw = if k == 0 {
                    fw
                } else {
                    log_uniform(band, &mut rng)
                };
                let src_w = src.img.width().max(src.img.height()) as f32;
                let b = if cols * rows >= 2 {
                    // Its whole LFW photo in a grid cell, somewhere inside it.
                    let k_scale = (fw / (src.face[2] - src.face[0])).min(cell / src_w);
                    let s = src_w * k_scale;
                    let x = (k % cols) as f32 * cell + rng.next() * (cell - s).max(0.0);
                    let y = (k / cols) as f32 * cell + rng.next() * (cell - s).max(0.0);
                    paste(&mut canvas, &src, k_scale, x, y, 0.0)
                } else {
                    // A close-up: the face somewhere the frame holds it (a face taller than the
                    // frame is cut at the bottom, as in a selfie).
                    let k_scale = fw / (src.face[2] - src.face[0]);
                    let (fw, fh) = (fw, (src.face[3] - src.face[1]) * k_scale);
                    let fx = rng.next() * (width as f32 - fw).max(0.0);
                    let fy = rng.next() * (height as f32 - fh).max(0.0);
                    let x = fx - src.face[0] * k_scale;
                    let y = fy - src.face[1] * k_scale;
                    paste(&mut canvas, &src, k_scale, x, y, 0.0)
                };
                placed.push((b.0, "single"));
                placed.extend(b.1.into_iter().map(|bg| (bg, "background")));
            }
            left -= slots;
            write(&format!("sizes_b{bi:02}_{n:03}.jpg"), &canvas, &placed)?;
            n += 1;
        }
        // Touching pairs: the second face 0.5–1× the first, cheek to cheek.
        let widest_pair = 0.95 * width as f32 / 2.0;
        if band.from_px > widest_pair {
            continue;
        }
        for n in 0..per_band.div_ceil(5) {
            let mut canvas = background(width, height, &mut rng);
            let (a, b) = (source(&mut rng)?, source(&mut rng)?);
            let fw_a = log_uniform(band, &mut rng).min(widest_pair);
            let fw_b = (fw_a * (0.5 + 0.5 * rng.next())).max(EDGES_PX[0]);
            let (ka, kb) = (
                fw_a / (a.face[2] - a.face[0]),
                fw_b / (b.face[2] - b.face[0]),
            );
            let (ha, hb) = ((a.face[3] - a.face[1]) * ka, (b.face[3] - b.face[1]) * kb);
            // The boxes meet within ±5% of the first face's width.
            let gap = (rng.next() - 0.5) * 0.1 * fw_a;
            let total = fw_a + fw_b + gap;
            let x0 = rng.next() * (width as f32 - total).max(0.0);
            let y0 = rng.next() * (height as f32 - ha.max(hb) * 1.3).max(0.0);
            let ya = y0 + rng.next() * 0.3 * ha;
            let yb = y0 + rng.next() * 0.3 * hb;
            let ba = paste(
                &mut canvas,
                &a,
                ka,
                x0 - a.face[0] * ka,
                ya - a.face[1] * ka,
                0.0,
            );
            // The second photo is pasted only right of the middle of the seam, so neither face
            // covers the other.
            let seam = x0 + fw_a + gap / 2.0;
            let bb = paste(
                &mut canvas,
                &b,
                kb,
                x0 + fw_a + gap - b.face[0] * kb,
                yb - b.face[1] * kb,
                seam,
            );
            let mut placed = vec![(ba.0, "touching"), (bb.0, "touching")];
            placed.extend(ba.1.into_iter().chain(bb.1).map(|bg| (bg, "background")));
            write(&format!("sizes_b{bi:02}_pair{n:03}.jpg"), &canvas, &placed)?;
        }
    }
    let truth_path = out.join(TRUTH_FILE);
    std::fs::write(&truth_path, truth).map_err(|e| Error::io(&truth_path, e))?;
    Ok(Made {
        photos,
        faces,
        width,
        height,
        truth: truth_path,
    })
}

/// The band a face of width `w` falls in (the last one takes what is wider still); none below
/// the first.
fn band_of(bands: &[Band], w: f32) -> Option<usize> {
    bands.iter().rposition(|b| w >= b.from_px)
}

fn log_uniform(band: &Band, rng: &mut Rng) -> f32 {
    let (a, b) = (band.from_px.ln(), band.to_px.ln());
    (a + rng.next() * (b - a)).exp().min(band.to_px)
}

/// A smooth gradient with grain (realistic JPEG sizes, nothing face-like).
fn background(width: u32, height: u32, rng: &mut Rng) -> RgbImage {
    let (r0, g0, b0) = (rng.next() * 200.0, rng.next() * 200.0, rng.next() * 200.0);
    RgbImage::from_fn(width, height, |x, y| {
        let t = (x as f32 / width as f32 + y as f32 / height as f32) / 2.0;
        let n = ((x.wrapping_mul(2654435761) ^ y.wrapping_mul(40503)) % 17) as f32;
        let c = |base: f32| (base * (1.0 - t) + 40.0 * t + n).clamp(0.0, 255.0) as u8;
        image::Rgb([c(r0), c(g0), c(b0)])
    })
}

/// Paste `src` scaled by `k` with its top-left corner at `(x, y)` (photo pixels, may be outside
/// the frame), only right of `min_x`; only the part inside the frame is resized. Returns the
/// face's box in the photo, and the boxes of the faces behind it.
fn paste(
    canvas: &mut RgbImage,
    src: &Source,
    k: f32,
    x: f32,
    y: f32,
    min_x: f32,
) -> ([f32; 4], Vec<[f32; 4]>) {
    let (w, h) = (canvas.width() as f32, canvas.height() as f32);
    let (sw, sh) = (src.img.width() as f32, src.img.height() as f32);
    // The destination rectangle, clipped to the frame, in whole pixels.
    let dx0 = x.max(0.0).max(min_x).ceil();
    let dy0 = y.max(0.0).ceil();
    let dx1 = (x + sw * k).min(w).floor();
    let dy1 = (y + sh * k).min(h).floor();
    if dx1 > dx0 && dy1 > dy0 {
        // The source rectangle it shows.
        let (sx0, sy0) = ((dx0 - x) / k, (dy0 - y) / k);
        let (sx1, sy1) = ((dx1 - x) / k, (dy1 - y) / k);
        let crop = imageops::crop_imm(
            &src.img,
            sx0.floor() as u32,
            sy0.floor() as u32,
            ((sx1.ceil() - sx0.floor()) as u32).max(1),
            ((sy1.ceil() - sy0.floor()) as u32).max(1),
        )
        .to_image();
        // Resize the whole source pixels covered, then cut the exact destination out of it.
        let (cw, ch) = (
            ((crop.width() as f32) * k).round().max(1.0) as u32,
            ((crop.height() as f32) * k).round().max(1.0) as u32,
        );
        let big = crate::resize::rgb(&crop, cw, ch);
        let ox = ((sx0 - sx0.floor()) * k).round() as u32;
        let oy = ((sy0 - sy0.floor()) * k).round() as u32;
        let (ow, oh) = ((dx1 - dx0) as u32, (dy1 - dy0) as u32);
        let part = imageops::crop_imm(
            &big,
            ox.min(cw.saturating_sub(1)),
            oy.min(ch.saturating_sub(1)),
            ow.min(cw - ox.min(cw.saturating_sub(1))),
            oh.min(ch - oy.min(ch.saturating_sub(1))),
        )
        .to_image();
        imageops::replace(canvas, &part, dx0 as i64, dy0 as i64);
    }
    let place = |b: &[f32; 4]| [x + b[0] * k, y + b[1] * k, x + b[2] * k, y + b[3] * k];
    (place(&src.face), src.background.iter().map(place).collect())
}

/// Read a sweep's [`TRUTH_FILE`].
pub fn read_truth(dir: &Path) -> Result<Vec<Truth>> {
    let path = dir.join(TRUTH_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let bad = || Error::Invalid(format!("{}: line {} is malformed", path.display(), n + 1));
        if f.len() < 7 {
            return Err(bad());
        }
        let num = |k: usize| f[k].parse::<f32>().map_err(|_| bad());
        out.push(Truth {
            file: f[0].to_string(),
            band: f[1].parse().map_err(|_| bad())?,
            kind: f[2].to_string(),
            bbox: [num(3)?, num(4)?, num(5)?, num(6)?],
        });
    }
    Ok(out)
}

/// What happened to one face: how many detections fell on it and how well the best fits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// Detections whose box is this face's (IoU ≥ [`MATCH_IOU`]) or lies mostly on it.
    pub on_it: usize,
    /// The best IoU of a detection with the face.
    pub best_iou: f32,
}

impl Outcome {
    pub fn found_once(&self) -> bool {
        self.on_it == 1 && self.best_iou >= MATCH_IOU
    }
    pub fn missed(&self) -> bool {
        self.best_iou < MATCH_IOU
    }
}

/// A detection is the face when they overlap this much (as `tests/engine_scan.rs` counts the
/// labelled dev faces).
pub const MATCH_IOU: f32 = 0.4;

/// A detection lies on a face (a duplicate or a part of it) when this much of the smaller of the
/// two boxes is inside the other.
pub const ON_FACE_IOS: f32 = 0.5;

/// Each detection goes to the face it overlaps best (IoU, over `faces` and `background`), or,
/// overlapping none by [`MATCH_IOU`], to the face it lies on most ([`ON_FACE_IOS`]); the rest
/// are other detections. Returns each of `faces`' outcome and the number of other detections.
pub fn score(
    faces: &[[f32; 4]],
    background: &[[f32; 4]],
    dets: &[[f32; 4]],
) -> (Vec<Outcome>, usize) {
    let mut out = vec![
        Outcome {
            on_it: 0,
            best_iou: 0.0,
        };
        faces.len()
    ];
    let best = |boxes: &[[f32; 4]], d: &[f32; 4], f: fn(&[f32; 4], &[f32; 4]) -> f32| {
        boxes
            .iter()
            .enumerate()
            .map(|(i, b)| (f(b, d), i))
            .max_by(|a, b| a.0.total_cmp(&b.0))
    };
    let mut other = 0;
    for d in dets {
        let face = best(faces, d, crate::vision::detect::iou);
        let behind = best(background, d, crate::vision::detect::iou);
        let to = match (face, behind) {
            (Some((v, i)), b) if v >= MATCH_IOU && b.is_none_or(|b| b.0 <= v) => Some(i),
            (_, Some((v, _))) if v >= MATCH_IOU => continue,
            _ => match best(faces, d, ios) {
                Some((v, i)) if v >= ON_FACE_IOS => Some(i),
                _ if best(background, d, ios).is_some_and(|b| b.0 >= ON_FACE_IOS) => continue,
                _ => None,
            },
        };
        match to {
            Some(i) => {
                out[i].on_it += 1;
                let v = crate::vision::detect::iou(&faces[i], d);
                out[i].best_iou = out[i].best_iou.max(v);
            }
            None => other += 1,
        }
    }
    (out, other)
}

/// One band's line of the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BandRow {
    pub band: String,
    pub from_px: f32,
    pub to_px: f32,
    pub faces: usize,
    pub found_once: usize,
    pub missed: usize,
    /// Faces with more than one detection on them.
    pub duplicated: usize,
    /// Detections beyond the first on a face.
    pub extra_boxes: usize,
    pub found_once_rate: f64,
    /// Faces of touching pairs in the band, and of them found exactly once.
    pub touching: usize,
    pub touching_found_once: usize,
}

/// The whole report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// The detection plan's version.
    pub detection: &'static str,
    pub width: u32,
    pub height: u32,
    pub photos: usize,
    pub faces: usize,
    pub found_once: usize,
    pub missed: usize,
    pub duplicated: usize,
    pub duplicate_rate: f64,
    /// Detections on no face (a background face of an LFW photo, or a false one).
    pub other_detections: usize,
    /// Thread-seconds in the detector.
    pub detect_s: f64,
    pub bands: Vec<BandRow>,
}

/// Detect the faces of every photo of the sweep in `dir` as a scan does (its decode, its
/// detector) on `threads` threads, and report per band.
pub fn report(
    models: &Models,
    dir: &Path,
    threads: usize,
    plan: &'static crate::vision::detect::Plan,
) -> Result<Report> {
    let truth = read_truth(dir)?;
    let mut files: Vec<String> = truth.iter().map(|t| t.file.clone()).collect();
    files.dedup();
    let next = std::sync::atomic::AtomicUsize::new(0);
    type PhotoResult = Result<(Vec<[f32; 4]>, f64, u32, u32)>;
    let results: std::sync::Mutex<Vec<Option<PhotoResult>>> =
        std::sync::Mutex::new((0..files.len()).map(|_| None).collect());
    let mut engines = Vec::new();
    for _ in 0..threads.max(1) {
        let mut e = models.engine()?;
        e.detector.set_plan(plan);
        engines.push(e);
    }
    std::thread::scope(|s| {
        for mut engine in engines {
            let (next, results, files) = (&next, &results, &files);
            s.spawn(move || loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if k >= files.len() {
                    return;
                }
                let r = detect_photo(&mut engine, &dir.join(&files[k]));
                if let Ok(mut v) = results.lock() {
                    v[k] = Some(r);
                }
            });
        }
    });
    let results = results
        .into_inner()
        .map_err(|_| Error::Invalid("a detection thread panicked".into()))?;
    let mut rep = Report {
        detection: plan.version,
        width: 0,
        height: 0,
        photos: files.len(),
        faces: 0,
        found_once: 0,
        missed: 0,
        duplicated: 0,
        duplicate_rate: 0.0,
        other_detections: 0,
        detect_s: 0.0,
        bands: Vec::new(),
    };
    let mut outcomes: Vec<(usize, bool, Outcome)> = Vec::new();
    for (file, r) in files.iter().zip(results) {
        let (dets, secs, w, h) = r.ok_or_else(|| Error::Invalid(format!("{file}: not run")))??;
        rep.width = w;
        rep.height = h;
        rep.detect_s += secs;
        let faces: Vec<&Truth> = truth
            .iter()
            .filter(|t| &t.file == file && t.kind != "background")
            .collect();
        let boxes: Vec<[f32; 4]> = faces.iter().map(|t| t.bbox).collect();
        let behind: Vec<[f32; 4]> = truth
            .iter()
            .filter(|t| &t.file == file && t.kind == "background")
            .map(|t| t.bbox)
            .collect();
        let (o, other) = score(&boxes, &behind, &dets);
        rep.other_detections += other;
        for (t, o) in faces.iter().zip(o) {
            if std::env::var_os("LIKENESS_SIZES_VERBOSE").is_some() && !o.found_once() {
                eprintln!(
                    "{file}: face {:?} on_it {} iou {:.2}",
                    t.bbox, o.on_it, o.best_iou
                );
            }
            outcomes.push((t.band, t.kind == "touching", o));
        }
    }
    for (bi, band) in bands(rep.width).iter().enumerate() {
        let mine: Vec<&(usize, bool, Outcome)> =
            outcomes.iter().filter(|(b, ..)| *b == bi).collect();
        if mine.is_empty() {
            continue;
        }
        let once = mine.iter().filter(|(.., o)| o.found_once()).count();
        let row = BandRow {
            band: band.label(rep.width),
            from_px: band.from_px,
            to_px: band.to_px,
            faces: mine.len(),
            found_once: once,
            missed: mine.iter().filter(|(.., o)| o.missed()).count(),
            duplicated: mine.iter().filter(|(.., o)| o.on_it > 1).count(),
            extra_boxes: mine.iter().map(|(.., o)| o.on_it.saturating_sub(1)).sum(),
            found_once_rate: once as f64 / mine.len() as f64,
            touching: mine.iter().filter(|(_, t, _)| *t).count(),
            touching_found_once: mine.iter().filter(|(_, t, o)| *t && o.found_once()).count(),
        };
        rep.faces += row.faces;
        rep.found_once += row.found_once;
        rep.missed += row.missed;
        rep.duplicated += row.duplicated;
        rep.bands.push(row);
    }
    rep.duplicate_rate = rep.duplicated as f64 / rep.faces.max(1) as f64;
    Ok(rep)
}

/// The scan's decode and detection of one photo: boxes in the photo's pixels, detector seconds,
/// and the photo's size.
fn detect_photo(engine: &mut FaceEngine, path: &Path) -> Result<(Vec<[f32; 4]>, f64, u32, u32)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let d = crate::library::decode::decode_guarded(path, &bytes, crate::settings::WORK_MAX_SIDE)
        .map_err(|message| Error::Photo {
            path: path.to_path_buf(),
            message,
        })?;
    let t = std::time::Instant::now();
    let dets = engine
        .detector
        .detect(&d.image, crate::settings::MIN_FACE_PX * d.scale)?;
    let secs = t.elapsed().as_secs_f64();
    let boxes = dets.iter().map(|x| x.scaled(1.0 / d.scale).bbox).collect();
    Ok((boxes, secs, d.width, d.height))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_run_from_20_px_to_the_whole_width() {
        let b = bands(3024);
        assert_eq!(b[0].from_px, 20.0);
        assert_eq!(b.last().unwrap().to_px, 3024.0);
        for w in b.windows(2) {
            assert_eq!(w[0].to_px, w[1].from_px, "bands are contiguous");
        }
        let small = bands(756);
        assert_eq!(small.last().unwrap().to_px, 756.0);
        assert!(small.iter().all(|b| b.from_px < b.to_px));
        assert_eq!(small[small.len() - 1].label(756), "80-100% of width");
    }

    #[test]
    fn a_face_found_twice_or_in_part_is_no_clean_find() {
        let face = [100.0, 100.0, 300.0, 340.0];
        // The face itself.
        let (o, other) = score(&[face], &[], &[[105.0, 95.0, 298.0, 345.0]]);
        assert!(o[0].found_once() && other == 0);
        // The face and a box nested in it (its eyes and nose).
        let (o, _) = score(
            &[face],
            &[],
            &[[105.0, 95.0, 298.0, 345.0], [150.0, 150.0, 250.0, 260.0]],
        );
        assert_eq!(o[0].on_it, 2);
        assert!(!o[0].found_once() && !o[0].missed());
        // Only the part: missed.
        let (o, _) = score(&[face], &[], &[[150.0, 150.0, 250.0, 260.0]]);
        assert!(o[0].missed());
        // Two touching faces, each found: neither counts against the other.
        let right = [300.0, 110.0, 480.0, 330.0];
        let (o, other) = score(
            &[face, right],
            &[],
            &[[102.0, 100.0, 302.0, 338.0], [298.0, 112.0, 478.0, 333.0]],
        );
        assert!(o.iter().all(|o| o.found_once()) && other == 0);
        // A face behind, found, is neither a duplicate nor another detection.
        let behind = [260.0, 80.0, 380.0, 240.0];
        let (o, other) = score(
            &[face],
            &[behind],
            &[[105.0, 95.0, 298.0, 345.0], [262.0, 82.0, 377.0, 236.0]],
        );
        assert!(o[0].found_once() && other == 0);
        // A box elsewhere is another detection.
        let (_, other) = score(&[face], &[], &[[900.0, 900.0, 950.0, 960.0]]);
        assert_eq!(other, 1);
    }
}
