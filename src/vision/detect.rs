//! RetinaFace pre- and post-processing (priors, box and landmark decoding, NMS) as pure
//! functions, and the detector that runs them around the model.

use image::RgbImage;

use super::align;
use super::models::AlignSpec;
use super::runtime::{OnnxModel, Provider};
use crate::error::Result;
use crate::settings;

/// One detected face in image pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// `[x1, y1, x2, y2]`.
    pub bbox: [f32; 4],
    /// Left eye, right eye, nose, left mouth corner, right mouth corner (image left/right).
    pub landmarks: [[f32; 2]; 5],
    /// Detector confidence in 0..1.
    pub score: f32,
}

impl Detection {
    /// Width and height of the box.
    pub fn size(&self) -> (f32, f32) {
        (self.bbox[2] - self.bbox[0], self.bbox[3] - self.bbox[1])
    }
    /// Centre of the box.
    pub fn centre(&self) -> (f32, f32) {
        (
            (self.bbox[0] + self.bbox[2]) / 2.0,
            (self.bbox[1] + self.bbox[3]) / 2.0,
        )
    }
    /// The same detection with every coordinate multiplied by `k`.
    pub fn scaled(&self, k: f32) -> Detection {
        let mut d = *self;
        d.bbox.iter_mut().for_each(|v| *v *= k);
        d.landmarks.iter_mut().flatten().for_each(|v| *v *= k);
        d
    }

    /// The same detection moved by `(dx, dy)`.
    pub fn shifted(&self, dx: f32, dy: f32) -> Detection {
        let mut d = *self;
        for (i, v) in d.bbox.iter_mut().enumerate() {
            *v += if i % 2 == 0 { dx } else { dy };
        }
        for p in d.landmarks.iter_mut() {
            p[0] += dx;
            p[1] += dy;
        }
        d
    }

    /// A face known only by its box (drawn by the user, or a region another program wrote, where
    /// the detector finds nothing): the five points where they sit on average in a detector box
    /// ([`settings::LANDMARKS_IN_BOX`]), score 0. Alignment from them is rougher than from
    /// detected points, but the face gets a chip, an embedding and a thumbnail.
    pub fn from_box(bbox: [f32; 4]) -> Detection {
        let (w, h) = (bbox[2] - bbox[0], bbox[3] - bbox[1]);
        let mut landmarks = [[0.0f32; 2]; 5];
        for (p, rel) in landmarks.iter_mut().zip(settings::LANDMARKS_IN_BOX) {
            *p = [bbox[0] + rel[0] * w, bbox[1] + rel[1] * h];
        }
        Detection {
            bbox,
            landmarks,
            score: 0.0,
        }
    }
}

/// Of `dets`, the one that is the face the box `bbox` was drawn around: the largest overlap
/// with it, at least [`settings::BOX_MATCH_IOU`].
pub fn best_in_box(dets: &[Detection], bbox: &[f32; 4]) -> Option<Detection> {
    dets.iter()
        .map(|d| (iou(&d.bbox, bbox), d))
        .filter(|(v, _)| *v >= settings::BOX_MATCH_IOU)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, d)| *d)
}

/// How RetinaFace is run over a photo: which passes, and which boxes are one face. Data with a
/// version, which every photo records (`photos.detector`): a photo that records another one was
/// searched by another detection, and `scan --redetect` searches it again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    pub version: &'static str,
    /// Shorter side of the coarse pass's image; `None`: one pass.
    pub coarse_short_side: Option<f32>,
    /// Largest face (longer box side, detector pixels) the first pass keeps when a coarse
    /// pass runs.
    pub fine_max_face: f32,
    /// See [`Plan::suppress`]; `None`: the upstream NMS alone.
    pub nest_ios: Option<f32>,
    /// See [`Plan::suppress`].
    pub covered: Option<f32>,
}

/// Today's detection: a coarse pass for the faces too large for RetinaFace's anchors, one box
/// per face. Each value with its measurement in `settings.rs`.
pub const DETECTION: Plan = Plan {
    version: "retinaface_mnet025/2",
    coarse_short_side: Some(settings::DETECT_COARSE_SHORT_SIDE),
    fine_max_face: settings::DETECT_FINE_MAX_FACE,
    nest_ios: Some(settings::DETECT_NEST_IOS),
    covered: Some(settings::DETECT_COVERED),
};

/// The detection of every release before [`DETECTION`] (one pass, upstream NMS; photos of that
/// time record the bare model id). Kept to measure against (`bench sizes --detection 1`) and for
/// tests that make a library as an older release did.
pub const DETECTION_1: Plan = Plan {
    version: "retinaface_mnet025",
    coarse_short_side: None,
    fine_max_face: f32::INFINITY,
    nest_ios: None,
    covered: None,
};

/// A detection plan by its number (1, or 2 = [`DETECTION`]), for benchmarks.
pub fn plan(n: u32) -> Result<&'static Plan> {
    match n {
        1 => Ok(&DETECTION_1),
        2 => Ok(&DETECTION),
        _ => Err(crate::error::Error::Invalid(format!(
            "no detection {n}: there are 1 (before close-ups) and 2 (today's)"
        ))),
    }
}

const STEPS: [usize; 3] = [8, 16, 32];
const SIZES: [[f32; 2]; 3] = [[16.0, 32.0], [64.0, 128.0], [256.0, 512.0]];
const VARIANCE: [f32; 2] = [0.1, 0.2];
const MEAN_BGR: [f32; 3] = [104.0, 117.0, 123.0];

/// RetinaFace priors `[cx, cy, w, h]` (normalised) for an input of `w`×`h`, in the model's order.
pub fn priors(w: usize, h: usize) -> Vec<[f32; 4]> {
    let mut out = Vec::new();
    for (step, sizes) in STEPS.iter().zip(SIZES.iter()) {
        let rows = h.div_ceil(*step);
        let cols = w.div_ceil(*step);
        for i in 0..rows {
            for j in 0..cols {
                for s in sizes {
                    out.push([
                        (j as f32 + 0.5) * *step as f32 / w as f32,
                        (i as f32 + 0.5) * *step as f32 / h as f32,
                        s / w as f32,
                        s / h as f32,
                    ]);
                }
            }
        }
    }
    out
}

/// Decode the raw outputs (`loc [A,4]`, `conf [A,2]`, `landmarks [A,10]`) into detections above
/// `threshold`, in pixels of the `w`×`h` input.
pub fn decode(
    loc: &[f32],
    conf: &[f32],
    landm: &[f32],
    priors: &[[f32; 4]],
    w: usize,
    h: usize,
    threshold: f32,
) -> Vec<Detection> {
    let (wf, hf) = (w as f32, h as f32);
    let mut out = Vec::new();
    for (a, p) in priors.iter().enumerate() {
        let score = conf[a * 2 + 1];
        if score < threshold {
            continue;
        }
        let l = &loc[a * 4..a * 4 + 4];
        let cx = p[0] + l[0] * VARIANCE[0] * p[2];
        let cy = p[1] + l[1] * VARIANCE[0] * p[3];
        let bw = p[2] * (l[2] * VARIANCE[1]).exp();
        let bh = p[3] * (l[3] * VARIANCE[1]).exp();
        let bbox = [
            (cx - bw / 2.0) * wf,
            (cy - bh / 2.0) * hf,
            (cx + bw / 2.0) * wf,
            (cy + bh / 2.0) * hf,
        ];
        let lm = &landm[a * 10..a * 10 + 10];
        let mut landmarks = [[0.0f32; 2]; 5];
        for (k, pt) in landmarks.iter_mut().enumerate() {
            pt[0] = (p[0] + lm[2 * k] * VARIANCE[0] * p[2]) * wf;
            pt[1] = (p[1] + lm[2 * k + 1] * VARIANCE[0] * p[3]) * hf;
        }
        out.push(Detection {
            bbox,
            landmarks,
            score,
        });
    }
    out
}

/// Intersection over union of two `[x1, y1, x2, y2]` boxes.
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

/// Greedy non-maximum suppression: keep the best-scoring box, drop those overlapping it more
/// than `threshold`, repeat. Output is sorted by score, best first.
pub fn nms(mut dets: Vec<Detection>, threshold: f32) -> Vec<Detection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut keep: Vec<Detection> = Vec::new();
    for d in dets {
        if keep.iter().all(|k| iou(&k.bbox, &d.bbox) <= threshold) {
            keep.push(d);
        }
    }
    keep
}

/// One RetinaFace run of a detection: the detector's image scaled by `scale`, keeping the
/// detections whose longer side is within `min_px..=max_px` of that run's pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pass {
    pub scale: f32,
    pub min_px: f32,
    pub max_px: f32,
}

impl Plan {
    /// The runs that find every face of a `w`×`h` detector image, from the smallest RetinaFace
    /// sees to one that fills the frame: the image itself, and where a face could be too large
    /// for its anchors there (the shorter side more than [`settings::DETECT_COARSE_MIN_GAIN`]
    /// times the coarse side), a copy with the coarse shorter side, which takes over the faces
    /// the first run sees larger than `fine_max_face`; each run also keeps the faces of the
    /// other's range near the hand-over (from half of it), and [`Plan::suppress`] keeps one box
    /// of each.
    pub fn passes(&self, w: u32, h: u32) -> Vec<Pass> {
        let short = w.min(h) as f32;
        let whole = Pass {
            scale: 1.0,
            min_px: 0.0,
            max_px: f32::INFINITY,
        };
        let Some(coarse_short) = self.coarse_short_side else {
            return vec![whole];
        };
        if short <= coarse_short * settings::DETECT_COARSE_MIN_GAIN {
            return vec![whole];
        }
        let scale = coarse_short / short;
        vec![
            Pass {
                max_px: self.fine_max_face,
                ..whole
            },
            Pass {
                scale,
                min_px: self.fine_max_face * scale * 0.5,
                max_px: f32::INFINITY,
            },
        ]
    }

    /// One face, one box: greedy suppression over every pass's detections, best score first. A
    /// box goes when it overlaps a kept one by more than [`settings::DETECT_NMS_IOU`] (the
    /// upstream rule); under the plans that say so, also when most of the smaller of the two
    /// lies inside the other (`nest_ios`: a part of a face found again, or the same face seen by
    /// two passes), and when the boxes kept before it cover most of it together (`covered`: a
    /// box straddling two faces that touch).
    pub fn suppress(&self, mut dets: Vec<Detection>) -> Vec<Detection> {
        dets.sort_by(|a, b| b.score.total_cmp(&a.score));
        let mut keep: Vec<Detection> = Vec::new();
        for d in dets {
            let alone = keep.iter().all(|k| {
                iou(&k.bbox, &d.bbox) <= settings::DETECT_NMS_IOU
                    && self.nest_ios.is_none_or(|t| ios(&k.bbox, &d.bbox) <= t)
            });
            let straddles = self
                .covered
                .is_some_and(|t| covered(&d.bbox, keep.iter().map(|k| &k.bbox)) > t);
            if alone && !straddles {
                keep.push(d);
            }
        }
        keep
    }
}

/// Overlap of two boxes over the smaller one's area: 1 for a box nested in another.
pub fn ios(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let small = area(a).min(area(b));
    if small <= 0.0 {
        0.0
    } else {
        iw * ih / small
    }
}

/// How much of `b` the `others` cover together (their intersections with it summed, at most 1:
/// the faces kept overlap each other little). A box straddling two faces that touch is mostly
/// covered by them.
pub fn covered<'a>(b: &[f32; 4], others: impl Iterator<Item = &'a [f32; 4]>) -> f32 {
    let area = (b[2] - b[0]).max(0.0) * (b[3] - b[1]).max(0.0);
    if area <= 0.0 {
        return 0.0;
    }
    let inter: f32 = others
        .map(|o| {
            let iw = (b[2].min(o[2]) - b[0].max(o[0])).max(0.0);
            let ih = (b[3].min(o[3]) - b[1].max(o[1])).max(0.0);
            iw * ih
        })
        .sum();
    (inter / area).min(1.0)
}

/// Convert an RGB image into the detector's input: NCHW, BGR, mean-subtracted, unscaled.
pub fn to_input(img: &RgbImage) -> Vec<f32> {
    let mut out = Vec::new();
    fill_input(img, &mut out);
    out
}

/// [`to_input`] into a buffer that is reused from photo to photo: at 3200 px the input is 92 MB,
/// and a fresh one per photo cost more in page zeroing than the conversion itself.
pub fn fill_input(img: &RgbImage, out: &mut Vec<f32>) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let plane = w * h;
    out.resize(3 * plane, 0.0);
    for (i, px) in img.pixels().enumerate() {
        // BGR order: channel 0 is blue.
        out[i] = px[2] as f32 - MEAN_BGR[0];
        out[plane + i] = px[1] as f32 - MEAN_BGR[1];
        out[2 * plane + i] = px[0] as f32 - MEAN_BGR[2];
    }
}

/// Side of the crop MTCNN's O-Net classifies.
pub const ONET_SIDE: u32 = 48;

/// The O-Net input for a detection: the box squared around its centre (as MTCNN does), cropped
/// with black outside the image, resized to 48×48, RGB, `(x − 127.5) / 128`, CHW.
pub fn onet_input(img: &RgbImage, d: &Detection) -> Vec<f32> {
    let (w, h) = d.size();
    let side = w.max(h).max(1.0);
    let (cx, cy) = d.centre();
    let (x0, y0) = (
        (cx - side / 2.0).round() as i64,
        (cy - side / 2.0).round() as i64,
    );
    let s = side.round().max(1.0) as u32;
    let mut crop = RgbImage::new(s, s);
    for y in 0..s {
        let iy = y0 + y as i64;
        if iy < 0 || iy >= img.height() as i64 {
            continue;
        }
        for x in 0..s {
            let ix = x0 + x as i64;
            if ix >= 0 && ix < img.width() as i64 {
                crop.put_pixel(x, y, *img.get_pixel(ix as u32, iy as u32));
            }
        }
    }
    let small = image::imageops::resize(
        &crop,
        ONET_SIDE,
        ONET_SIDE,
        image::imageops::FilterType::Triangle,
    );
    let plane = (ONET_SIDE * ONET_SIDE) as usize;
    let mut out = vec![0.0f32; 3 * plane];
    for (i, px) in small.pixels().enumerate() {
        for c in 0..3 {
            out[c * plane + i] = (px[c] as f32 - 127.5) * 0.0078125;
        }
    }
    out
}

/// The face detector: RetinaFace proposes, MTCNN's O-Net confirms. One thread owns it.
pub struct Detector {
    model: OnnxModel,
    onet: OnnxModel,
    /// The RetinaFace input of the last photo, kept for the next (see [`fill_input`]).
    scratch: Vec<f32>,
    /// The RetinaFace input of the last coarse pass (its own buffer, like `canvas`).
    coarse: Vec<f32>,
    /// The RetinaFace input of the last refinement canvas (its own buffer, so that photos of
    /// one size keep reusing `scratch` without zero-filling it again).
    canvas: Vec<f32>,
    /// The anchors of the refinement canvas (always the same size): computed once.
    canvas_priors: Option<Vec<[f32; 4]>>,
    /// How it runs over a photo.
    plan: &'static Plan,
}

impl Detector {
    /// Build the detector from verified model bytes.
    pub fn new(bytes: &[u8], onet: &[u8], provider: Provider) -> Result<Self> {
        Ok(Self {
            model: OnnxModel::new(super::models::DETECTOR.id, bytes, provider)?,
            onet: OnnxModel::new(super::models::FACE_CHECK.id, onet, provider)?,
            scratch: Vec::new(),
            coarse: Vec::new(),
            canvas: Vec::new(),
            canvas_priors: None,
            plan: &DETECTION,
        })
    }

    /// Run another detection plan than today's (benchmarks, and tests that make a library as an
    /// older release did).
    pub fn set_plan(&mut self, plan: &'static Plan) {
        self.plan = plan;
    }

    /// The detection plan in use.
    pub fn plan(&self) -> &'static Plan {
        self.plan
    }

    /// The execution provider in use.
    pub fn provider(&self) -> &'static str {
        self.model.provider()
    }

    /// The execution provider of the O-Net face check.
    pub fn face_check_provider(&self) -> &'static str {
        self.onet.provider()
    }

    /// Detect faces in `img`; coordinates are in `img`'s pixels. Applies the score threshold,
    /// NMS, the minimum size (given in `img` pixels) and the O-Net face check.
    pub fn detect(&mut self, img: &RgbImage, min_face: f32) -> Result<Vec<Detection>> {
        self.detect_at(img, min_face, settings::DETECT_MAX_SIDE)
    }

    /// [`Detector::detect`] with the detector's working size given: RetinaFace sees `img`
    /// shrunk to at most `max_side` (its cost grows with the pixels), and once more shrunk
    /// further for the faces too large for its anchors there ([`passes`]); the O-Net check and
    /// the returned coordinates use `img` itself.
    pub fn detect_at(
        &mut self,
        img: &RgbImage,
        min_face: f32,
        max_side: u32,
    ) -> Result<Vec<Detection>> {
        if img.width() < 8 || img.height() < 8 {
            return Ok(Vec::new());
        }
        let mut all = Vec::new();
        let fine = crate::resize::shrunk(img, max_side);
        let (seen, back) = match &fine {
            Some((s, k)) => (s, 1.0 / k),
            None => (img, 1.0),
        };
        let plan = self.plan;
        for pass in plan.passes(seen.width(), seen.height()) {
            let coarse;
            let (input, k, buf) = if pass.scale < 1.0 {
                let w = ((seen.width() as f32 * pass.scale).round() as u32).max(1);
                let h = ((seen.height() as f32 * pass.scale).round() as u32).max(1);
                coarse = crate::resize::rgb(seen, w, h);
                let k = coarse.width() as f32 / seen.width() as f32;
                (&coarse, k, &mut self.coarse)
            } else {
                (seen, 1.0, &mut self.scratch)
            };
            let (w, h) = (input.width() as usize, input.height() as usize);
            fill_input(input, buf);
            let out = self
                .model
                .run(&[1, 3, h, w], buf, &["loc", "conf", "landmarks"])?;
            let pri = priors(w, h);
            let dets = decode(
                &out[0].data,
                &out[1].data,
                &out[2].data,
                &pri,
                w,
                h,
                settings::DETECT_SCORE_THRESHOLD,
            );
            all.extend(
                dets.into_iter()
                    .filter(|d| {
                        let (bw, bh) = d.size();
                        let side = bw.max(bh);
                        side >= pass.min_px && side <= pass.max_px
                    })
                    .map(|d| d.scaled(back / k)),
            );
        }
        let kept: Vec<Detection> = plan
            .suppress(all)
            .into_iter()
            .filter(|d| {
                let (bw, bh) = d.size();
                bw.min(bh) >= min_face
            })
            .collect();
        let probs = self.face_probability(img, &kept)?;
        Ok(kept
            .into_iter()
            .zip(probs)
            .filter(|(_, p)| *p >= settings::FACE_CHECK_THRESHOLD)
            .map(|(d, _)| d)
            .collect())
    }

    /// The face inside `bbox` (in `img` pixels): the detector runs on the box with a margin
    /// around it (a small box enlarged so the face is big enough for RetinaFace), and the
    /// detection that best fills the box gives the landmarks. `None` when it finds no such face.
    pub fn find_in_box(&mut self, img: &RgbImage, bbox: &[f32; 4]) -> Result<Option<Detection>> {
        let (w, h) = (bbox[2] - bbox[0], bbox[3] - bbox[1]);
        if !(w >= 1.0 && h >= 1.0) {
            return Ok(None);
        }
        let margin = w.max(h) * 0.5;
        let x0 = (bbox[0] - margin).max(0.0).floor() as u32;
        let y0 = (bbox[1] - margin).max(0.0).floor() as u32;
        let x1 = ((bbox[2] + margin).ceil() as u32).min(img.width());
        let y1 = ((bbox[3] + margin).ceil() as u32).min(img.height());
        if x1 <= x0 + 8 || y1 <= y0 + 8 {
            return Ok(None);
        }
        let crop = image::imageops::crop_imm(img, x0, y0, x1 - x0, y1 - y0).to_image();
        // RetinaFace's smallest anchors are 16 px: a face drawn around 30 px is seen at ~100.
        let k = (settings::BOX_DETECT_MIN_SIDE as f32 / crop.width().max(crop.height()) as f32)
            .max(1.0);
        let seen = if k > 1.0 {
            image::imageops::resize(
                &crop,
                (crop.width() as f32 * k).round() as u32,
                (crop.height() as f32 * k).round() as u32,
                image::imageops::FilterType::Triangle,
            )
        } else {
            crop
        };
        let dets: Vec<Detection> = self
            .detect(&seen, 0.0)?
            .into_iter()
            .map(|d| d.scaled(1.0 / k).shifted(x0 as f32, y0 as f32))
            .collect();
        Ok(best_in_box(&dets, bbox))
    }

    /// The landmarks of the face at `landmarks`, refined for an embedder whose alignment asks
    /// for it (`AlignSpec::refine_landmarks`): RetinaFace runs again on a canvas where the face
    /// has the chip's scale ([`align::refine_canvas`]), and the result is the average of its
    /// landmarks and the given ones. Where it finds no face there, the given landmarks.
    pub fn refine_landmarks(
        &mut self,
        img: &RgbImage,
        landmarks: &[[f32; 2]; 5],
        spec: &AlignSpec,
    ) -> Result<[[f32; 2]; 5]> {
        let side = settings::REFINE_CANVAS;
        let tr = align::refine_canvas(landmarks, spec, side);
        let canvas = align::warp(img, tr, side, 2.0);
        // CHW RGB 0..255 → CHW BGR minus the means, from whole pixel values as a photo's.
        let plane = side * side;
        self.canvas.clear();
        for c in 0..3 {
            let rgb = &canvas[(2 - c) * plane..(3 - c) * plane];
            self.canvas
                .extend(rgb.iter().map(|v| v.round() - MEAN_BGR[c]));
        }
        let out = self.model.run(
            &[1, 3, side, side],
            &self.canvas,
            &["loc", "conf", "landmarks"],
        )?;
        let dets = decode(
            &out[0].data,
            &out[1].data,
            &out[2].data,
            self.canvas_priors.get_or_insert_with(|| priors(side, side)),
            side,
            side,
            settings::REFINE_SCORE_THRESHOLD,
        );
        let c = side as f32 / 2.0;
        let Some(best) = nms(dets, settings::DETECT_NMS_IOU)
            .into_iter()
            .min_by(|a, b| {
                let d = |d: &Detection| {
                    let (x, y) = d.centre();
                    (x - c).powi(2) + (y - c).powi(2)
                };
                d(a).total_cmp(&d(b))
            })
        else {
            return Ok(*landmarks);
        };
        // RetinaFace's points are in pixel-corner coordinates (pixel k spans k..k+1: its priors
        // sit at (j + 0.5)·step, and `detect_at` rescales by plain multiplication); the canvas
        // warp samples pixel centres (canvas pixel u shows image point tr(u)). Mapping back
        // in the detector's own convention keeps small and large faces unbiased.
        let back = best
            .landmarks
            .map(|q| tr.apply([q[0] - 0.5, q[1] - 0.5]).map(|v| v + 0.5));
        // A guard for rough landmarks (a drawn or imported box): the canvas face must be the
        // face the landmarks are on, not a neighbour that came nearer the centre.
        let (a, b) = (align::centroid(landmarks), align::centroid(&back));
        let eyes = (landmarks[1][0] - landmarks[0][0]).hypot(landmarks[1][1] - landmarks[0][1]);
        if (a[0] - b[0]).hypot(a[1] - b[1]) > settings::REFINE_MAX_SHIFT * eyes {
            return Ok(*landmarks);
        }
        let mut out = *landmarks;
        for (o, p) in out.iter_mut().zip(back) {
            *o = [(o[0] + p[0]) / 2.0, (o[1] + p[1]) / 2.0];
        }
        Ok(out)
    }

    /// O-Net's probability that each detection is a human face. RetinaFace gives animal faces
    /// high scores (dogs at 0.99); O-Net, trained as the last stage of a face cascade, does not.
    pub fn face_probability(&mut self, img: &RgbImage, dets: &[Detection]) -> Result<Vec<f32>> {
        if dets.is_empty() {
            return Ok(Vec::new());
        }
        let input: Vec<f32> = dets.iter().flat_map(|d| onet_input(img, d)).collect();
        let side = ONET_SIDE as usize;
        let out = self
            .onet
            .run(&[dets.len(), 3, side, side], &input, &["prob"])?;
        Ok(out[0].data.chunks(2).map(|p| p[1]).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_alone_places_the_points_inside_it_eyes_above_mouth() {
        let d = Detection::from_box([100.0, 200.0, 200.0, 340.0]);
        assert_eq!(d.score, 0.0);
        for p in d.landmarks {
            assert!(p[0] > 100.0 && p[0] < 200.0 && p[1] > 200.0 && p[1] < 340.0);
        }
        let [le, re, nose, lm, rm] = d.landmarks;
        assert!(le[0] < re[0] && lm[0] < rm[0]);
        assert!(le[1] < nose[1] && nose[1] < lm[1]);
        let moved = d.shifted(10.0, -5.0);
        assert_eq!(moved.bbox, [110.0, 195.0, 210.0, 335.0]);
        assert_eq!(moved.landmarks[2], [nose[0] + 10.0, nose[1] - 5.0]);
    }

    #[test]
    fn the_face_in_a_box_is_the_detection_that_fills_it() {
        let d = |b: [f32; 4]| Detection {
            bbox: b,
            landmarks: [[0.0; 2]; 5],
            score: 0.9,
        };
        let dets = [d([0.0, 0.0, 10.0, 10.0]), d([48.0, 50.0, 98.0, 110.0])];
        let drawn = [45.0, 45.0, 100.0, 105.0];
        assert_eq!(best_in_box(&dets, &drawn), Some(dets[1]));
        // A face beside the box is not the face in it.
        assert_eq!(best_in_box(&dets, &[200.0, 200.0, 250.0, 260.0]), None);
    }

    #[test]
    fn prior_count_and_order_follow_the_contract() {
        let p = priors(64, 32);
        // step 8: 4x8 cells, step 16: 2x4, step 32: 1x2; two sizes each.
        assert_eq!(p.len(), (32 + 8 + 2) * 2);
        assert_eq!(p[0], [4.0 / 64.0, 4.0 / 32.0, 16.0 / 64.0, 16.0 / 32.0]);
        assert_eq!(p[1][2], 32.0 / 64.0);
        // second cell of the first row moves along x
        assert_eq!(p[2][0], 12.0 / 64.0);
        // first prior of the step-16 level
        assert_eq!(p[64], [8.0 / 64.0, 8.0 / 32.0, 64.0 / 64.0, 64.0 / 32.0]);
    }

    #[test]
    fn zero_regression_decodes_to_the_prior() {
        let pri = priors(32, 32);
        let n = pri.len();
        let loc = vec![0.0; n * 4];
        let mut conf = vec![0.0; n * 2];
        conf[1] = 0.95;
        let landm = vec![0.0; n * 10];
        let d = decode(&loc, &conf, &landm, &pri, 32, 32, 0.5);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].bbox, [-4.0, -4.0, 12.0, 12.0]);
        assert_eq!(d[0].landmarks[0], [4.0, 4.0]);
    }

    #[test]
    fn regression_moves_and_scales_the_box() {
        let pri = vec![[0.5, 0.5, 0.25, 0.25]];
        let loc = vec![1.0, 0.0, 0.0, (2.0f32).ln() / 0.2];
        let conf = vec![0.0, 1.0];
        let landm = vec![0.0; 10];
        let d = decode(&loc, &conf, &landm, &pri, 100, 100, 0.5);
        let b = d[0].bbox;
        // centre x moved by 0.1 * 0.25 * 100 = 2.5 px; height doubled to 50 px.
        assert!((b[0] - (52.5 - 12.5)).abs() < 1e-4);
        assert!((b[3] - b[1] - 50.0).abs() < 1e-3);
    }

    #[test]
    fn iou_of_known_boxes() {
        assert_eq!(iou(&[0.0, 0.0, 10.0, 10.0], &[0.0, 0.0, 10.0, 10.0]), 1.0);
        assert_eq!(iou(&[0.0, 0.0, 10.0, 10.0], &[20.0, 0.0, 30.0, 10.0]), 0.0);
        let v = iou(&[0.0, 0.0, 10.0, 10.0], &[5.0, 0.0, 15.0, 10.0]);
        assert!((v - 50.0 / 150.0).abs() < 1e-6);
    }

    fn det(b: [f32; 4], score: f32) -> Detection {
        Detection {
            bbox: b,
            landmarks: [[0.0; 2]; 5],
            score,
        }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let kept = nms(
            vec![
                det([0.0, 0.0, 10.0, 10.0], 0.8),
                det([1.0, 0.0, 11.0, 10.0], 0.9),
                det([50.0, 50.0, 60.0, 60.0], 0.7),
            ],
            0.4,
        );
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].score, 0.9);
        assert_eq!(kept[1].score, 0.7);
    }

    #[test]
    fn a_coarse_pass_runs_where_a_face_can_outgrow_the_anchors() {
        // A 12 MP photo at the detector's 3200 px: the coarse copy has a 480 px shorter side and
        // takes over above 400 px, both passes keeping the faces near the hand-over.
        let p = DETECTION.passes(2400, 3200);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].scale, p[0].min_px, p[0].max_px), (1.0, 0.0, 400.0));
        assert!((p[1].scale - 0.2).abs() < 1e-6);
        assert!(p[1].min_px < 400.0 * p[1].scale && p[1].max_px.is_infinite());
        // Under 1 MP too (a 756 px wide face does not fit the 512 px anchors).
        assert_eq!(DETECTION.passes(756, 1008).len(), 2);
        // LFW's 250 px photos, or a 600 px one: a face there fits the anchors; one pass.
        assert_eq!(DETECTION.passes(250, 250).len(), 1);
        assert_eq!(DETECTION.passes(600, 800).len(), 1);
        assert!(DETECTION.passes(600, 800)[0].max_px.is_infinite());
        // The older detection never had a second pass.
        assert_eq!(DETECTION_1.passes(2400, 3200).len(), 1);
    }

    #[test]
    fn one_face_one_box_and_touching_faces_both_stay() {
        let face = det([100.0, 100.0, 300.0, 340.0], 0.99);
        // A part of the face found again (nested), and the same face from the other pass.
        let part = det([150.0, 160.0, 260.0, 280.0], 0.97);
        let other_pass = det([90.0, 80.0, 320.0, 360.0], 0.9);
        let kept = DETECTION.suppress(vec![part, face, other_pass]);
        assert_eq!(kept, vec![face]);
        // The upstream NMS alone keeps the nested part (IoU 0.28): the older detection's double.
        assert_eq!(DETECTION_1.suppress(vec![part, face]).len(), 2);
        // Cheek to cheek, a smaller face beside (a parent and child): both stay.
        let child = det([295.0, 150.0, 440.0, 320.0], 0.95);
        assert_eq!(DETECTION.suppress(vec![face, child]).len(), 2);
        // A box straddling the two, covered by them, goes.
        let straddle = det([200.0, 120.0, 380.0, 330.0], 0.9);
        assert!(covered(&straddle.bbox, [face.bbox, child.bbox].iter()) > 0.8);
        assert_eq!(
            DETECTION.suppress(vec![face, child, straddle]),
            vec![face, child]
        );
        // Order of the input does not matter: best score first.
        assert_eq!(
            DETECTION.suppress(vec![straddle, child, face]),
            vec![face, child]
        );
    }

    #[test]
    fn overlap_over_the_smaller_box() {
        let big = [0.0, 0.0, 100.0, 100.0];
        assert_eq!(ios(&big, &[10.0, 10.0, 30.0, 30.0]), 1.0);
        assert_eq!(ios(&big, &[200.0, 0.0, 230.0, 30.0]), 0.0);
        assert!((ios(&big, &[80.0, 0.0, 120.0, 40.0]) - 0.5).abs() < 1e-6);
        assert_eq!(covered(&[0.0, 0.0, 10.0, 10.0], std::iter::empty()), 0.0);
        assert!(
            (covered(
                &[0.0, 0.0, 10.0, 10.0],
                [[-5.0, 0.0, 5.0, 10.0], [5.0, 0.0, 20.0, 10.0]].iter()
            ) - 1.0)
                .abs()
                < 1e-6
        );
    }

    #[test]
    fn onet_input_squares_and_pads() {
        let img = RgbImage::from_pixel(100, 100, image::Rgb([255, 255, 255]));
        // A tall box at the left edge: the square crop reaches outside the image (black).
        let d = Detection {
            bbox: [0.0, 20.0, 20.0, 60.0],
            landmarks: [[0.0; 2]; 5],
            score: 1.0,
        };
        let v = onet_input(&img, &d);
        assert_eq!(v.len(), 3 * 48 * 48);
        assert!(
            (v[20 * 48] + 127.5 / 128.0).abs() < 1e-3,
            "left edge is black"
        );
        assert!(
            (v[20 * 48 + 47] - 127.5 / 128.0).abs() < 1e-3,
            "right edge is white"
        );
    }

    #[test]
    fn input_is_bgr_minus_mean() {
        let img = RgbImage::from_pixel(2, 1, image::Rgb([10, 20, 30]));
        let v = to_input(&img);
        assert_eq!(
            v,
            vec![
                30.0 - 104.0,
                30.0 - 104.0,
                20.0 - 117.0,
                20.0 - 117.0,
                10.0 - 123.0,
                10.0 - 123.0
            ]
        );
    }
}
