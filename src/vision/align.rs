//! Five-point face alignment to an embedder's chip (its [`AlignSpec`]): a least-squares
//! similarity transform (Umeyama) from the template to the detected landmarks, box-filter
//! halving for large faces, and bilinear sampling; dlib's pixel convention for the dlib chip.
//! Pure functions, no model.

use image::RgbImage;

use super::models::AlignSpec;

/// `p ↦ A·p + t`, with `A = [[a, -b], [b, a]]` (rotation and uniform scale, no reflection).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    pub a: f32,
    pub b: f32,
    pub t: [f32; 2],
}

impl Similarity {
    /// Apply to a point.
    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        [
            self.a * p[0] - self.b * p[1] + self.t[0],
            self.b * p[0] + self.a * p[1] + self.t[1],
        ]
    }
    /// The uniform scale factor.
    pub fn scale(&self) -> f32 {
        (self.a * self.a + self.b * self.b).sqrt()
    }
}

/// Least-squares similarity (Umeyama, 1991) mapping `src` onto `dst`. In 2-D without reflection
/// this is complex linear regression of the centred points.
pub fn umeyama(src: &[[f32; 2]], dst: &[[f32; 2]]) -> Similarity {
    let n = src.len().min(dst.len()) as f64;
    let mean = |pts: &[[f32; 2]]| {
        let (sx, sy) = pts.iter().fold((0.0f64, 0.0f64), |(x, y), p| {
            (x + p[0] as f64, y + p[1] as f64)
        });
        (sx / n, sy / n)
    };
    let (msx, msy) = mean(src);
    let (mdx, mdy) = mean(dst);
    let (mut re, mut im, mut var) = (0.0f64, 0.0f64, 0.0f64);
    for (s, d) in src.iter().zip(dst) {
        let (sx, sy) = (s[0] as f64 - msx, s[1] as f64 - msy);
        let (dx, dy) = (d[0] as f64 - mdx, d[1] as f64 - mdy);
        // conj(s) * d
        re += sx * dx + sy * dy;
        im += sx * dy - sy * dx;
        var += sx * sx + sy * sy;
    }
    let (a, b) = if var > 0.0 {
        (re / var, im / var)
    } else {
        (1.0, 0.0)
    };
    Similarity {
        a: a as f32,
        b: b as f32,
        t: [
            (mdx - (a * msx - b * msy)) as f32,
            (mdy - (b * msx + a * msy)) as f32,
        ],
    }
}

/// The chip-to-image transform for five detected landmarks. With dlib's pixel convention:
/// `c = A·(n/2,n/2) + t`, `A' = A·n/(n−1)`, `t' = c − A'·((n−1)/2,(n−1)/2)`.
pub fn chip_transform(landmarks: &[[f32; 2]; 5], spec: &AlignSpec) -> Similarity {
    let s = umeyama(&spec.template, landmarks);
    if !spec.dlib_convention {
        return s;
    }
    let n = spec.size as f32;
    let c = s.apply([n / 2.0, n / 2.0]);
    let k = n / (n - 1.0);
    let (a, b) = (s.a * k, s.b * k);
    let m = (n - 1.0) / 2.0;
    Similarity {
        a,
        b,
        t: [c[0] - (a * m - b * m), c[1] - (b * m + a * m)],
    }
}

/// Halve an image with a 2×2 box filter (odd last row/column dropped).
pub fn halve(img: &RgbImage) -> RgbImage {
    let (w, h) = (img.width() / 2, img.height() / 2);
    RgbImage::from_fn(w.max(1), h.max(1), |x, y| {
        let (x0, y0) = ((2 * x).min(img.width() - 1), (2 * y).min(img.height() - 1));
        let (x1, y1) = (
            (x0 + 1).min(img.width() - 1),
            (y0 + 1).min(img.height() - 1),
        );
        let mut px = [0u8; 3];
        for (c, v) in px.iter_mut().enumerate() {
            let s = img.get_pixel(x0, y0)[c] as u32
                + img.get_pixel(x1, y0)[c] as u32
                + img.get_pixel(x0, y1)[c] as u32
                + img.get_pixel(x1, y1)[c] as u32;
            *v = ((s + 2) / 4) as u8;
        }
        image::Rgb(px)
    })
}

/// Extract the aligned chip for `landmarks` from `img`, as CHW RGB `f32` in 0..255. Pixels
/// outside the image are black.
pub fn extract_chip(img: &RgbImage, landmarks: &[[f32; 2]; 5], spec: &AlignSpec) -> Vec<f32> {
    // dlib halves while the face is larger than the chip (its published recipe). The others
    // were measured with a plain bilinear warp, which stays faithful up to 2 photo pixels per
    // chip pixel; beyond that, halving keeps large faces from aliasing.
    let max_scale = if spec.dlib_convention { 1.0 } else { 2.0 };
    warp(img, chip_transform(landmarks, spec), spec.size, max_scale)
}

/// The canvas the landmarks are refined on (`spec.refine_landmarks`): `side` × `side` pixels
/// whose centre is the landmarks' centre, at the scale the chip will have, not rotated (the
/// detector sees the face as the photo shows it). Canvas-to-image transform.
pub fn refine_canvas(landmarks: &[[f32; 2]; 5], spec: &AlignSpec, side: usize) -> Similarity {
    let s = umeyama(&spec.template, landmarks).scale();
    // Only the scale comes from the template: the canvas centre shows the landmarks' centre.
    let (m, c) = (centroid(landmarks), side as f32 / 2.0);
    Similarity {
        a: s,
        b: 0.0,
        t: [m[0] - s * c, m[1] - s * c],
    }
}

/// The mean of five landmarks.
pub fn centroid(landmarks: &[[f32; 2]; 5]) -> [f32; 2] {
    let (x, y) = landmarks
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
    [x / 5.0, y / 5.0]
}

/// Sample `img` through `tr` (output pixel → image point) into an `n` × `n` CHW RGB `f32`
/// image in 0..255, black outside; box-halving first while `tr` spans more than `max_scale`
/// image pixels per output pixel.
pub fn warp(img: &RgbImage, mut tr: Similarity, n: usize, max_scale: f32) -> Vec<f32> {
    let e = (n - 1) as f32;
    // Work on a crop around the chip's footprint so halving large faces stays cheap.
    let corners = [[0.0, 0.0], [e, 0.0], [0.0, e], [e, e]].map(|p| tr.apply(p));
    let lo = |i: usize| corners.iter().map(|p| p[i]).fold(f32::INFINITY, f32::min);
    let hi = |i: usize| {
        corners
            .iter()
            .map(|p| p[i])
            .fold(f32::NEG_INFINITY, f32::max)
    };
    let x0 = (lo(0).floor() - 2.0).clamp(0.0, img.width() as f32) as u32;
    let y0 = (lo(1).floor() - 2.0).clamp(0.0, img.height() as f32) as u32;
    let x1 = (hi(0).ceil() + 2.0).clamp(0.0, img.width() as f32) as u32;
    let y1 = (hi(1).ceil() + 2.0).clamp(0.0, img.height() as f32) as u32;
    let mut out = vec![0.0f32; 3 * n * n];
    if x1 <= x0 || y1 <= y0 {
        return out;
    }
    let mut src = image::imageops::crop_imm(img, x0, y0, x1 - x0, y1 - y0).to_image();
    tr.t = [tr.t[0] - x0 as f32, tr.t[1] - y0 as f32];
    while tr.scale() > max_scale && src.width() >= 2 && src.height() >= 2 {
        src = halve(&src);
        // New pixel i covers old pixels 2i and 2i+1: old = 2·new + 0.5.
        tr = Similarity {
            a: tr.a / 2.0,
            b: tr.b / 2.0,
            t: [(tr.t[0] - 0.5) / 2.0, (tr.t[1] - 0.5) / 2.0],
        };
    }
    sample_bilinear(&src, &tr, n, &mut out);
    out
}

/// Mirror a CHW chip left-right (for mirror-averaged embeddings).
pub fn mirror_chip(chip: &[f32], size: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; chip.len()];
    for (row_out, row_in) in out.chunks_exact_mut(size).zip(chip.chunks_exact(size)) {
        for (o, i) in row_out.iter_mut().zip(row_in.iter().rev()) {
            *o = *i;
        }
    }
    out
}

fn sample_bilinear(src: &RgbImage, tr: &Similarity, n: usize, out: &mut [f32]) {
    let (w, h) = (src.width() as i64, src.height() as i64);
    let raw = src.as_raw();
    let plane = n * n;
    let at = |x: i64, y: i64, c: usize| -> f32 {
        if x < 0 || y < 0 || x >= w || y >= h {
            0.0
        } else {
            raw[((y * w + x) * 3) as usize + c] as f32
        }
    };
    for y in 0..n {
        for x in 0..n {
            let p = tr.apply([x as f32, y as f32]);
            let (fx, fy) = (p[0].floor(), p[1].floor());
            let (dx, dy) = (p[0] - fx, p[1] - fy);
            let (ix, iy) = (fx as i64, fy as i64);
            for c in 0..3 {
                let top = at(ix, iy, c) * (1.0 - dx) + at(ix + 1, iy, c) * dx;
                let bottom = at(ix, iy + 1, c) * (1.0 - dx) + at(ix + 1, iy + 1, c) * dx;
                out[c * plane + y * n + x] = top * (1.0 - dy) + bottom * dy;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vision::models::{DLIB, MOBILEFACENET};

    const CHIP: usize = 150;
    const TEMPLATE: [[f32; 2]; 5] = DLIB.align.template;
    const SPEC: &AlignSpec = &DLIB.align;

    fn close(a: [f32; 2], b: [f32; 2], eps: f32) -> bool {
        (a[0] - b[0]).abs() < eps && (a[1] - b[1]).abs() < eps
    }

    #[test]
    fn umeyama_recovers_a_known_similarity() {
        let truth = Similarity {
            a: 1.7 * 0.3f32.cos(),
            b: 1.7 * 0.3f32.sin(),
            t: [12.0, -7.0],
        };
        let dst: Vec<[f32; 2]> = TEMPLATE.iter().map(|p| truth.apply(*p)).collect();
        let fit = umeyama(&TEMPLATE, &dst);
        assert!((fit.a - truth.a).abs() < 1e-4 && (fit.b - truth.b).abs() < 1e-4);
        assert!(close(fit.t, truth.t, 1e-3));
    }

    #[test]
    fn refine_canvas_centres_the_face_at_chip_scale_unrotated() {
        use crate::vision::models::FACE_REID_0095;
        let spec = &FACE_REID_0095.align;
        // The template tilted by 0.4 rad, scaled 2.5x and moved: the canvas keeps the tilt
        // (no rotation), takes the chip's scale, and puts the landmarks' centre in its middle.
        let truth = Similarity {
            a: 2.5 * 0.4f32.cos(),
            b: 2.5 * 0.4f32.sin(),
            t: [300.0, 120.0],
        };
        let lm = spec.template.map(|p| truth.apply(p));
        let tr = refine_canvas(&lm, spec, 256);
        assert_eq!(tr.b, 0.0);
        assert!((tr.scale() - 2.5).abs() < 1e-4);
        let centre = lm
            .iter()
            .fold([0.0, 0.0], |c, p| [c[0] + p[0] / 5.0, c[1] + p[1] / 5.0]);
        assert!(close(tr.apply([128.0, 128.0]), centre, 1e-3));
    }

    #[test]
    fn umeyama_is_least_squares_under_noise() {
        // Symmetric noise on a pure translation leaves the transform a translation.
        let src = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]];
        let dst = [[5.0, 5.5], [15.0, 4.5], [5.0, 15.5], [15.0, 14.5]];
        let fit = umeyama(&src, &dst);
        assert!((fit.scale() - 1.0).abs() < 0.02);
        assert!(close(fit.apply([5.0, 5.0]), [10.0, 10.0], 1e-4));
    }

    #[test]
    fn template_landmarks_map_to_template_points_of_the_chip() {
        // If the detected landmarks are the template itself, chip pixel p samples image point
        // close to p (dlib's 150/149 convention moves it by under a pixel).
        let tr = chip_transform(&TEMPLATE, SPEC);
        assert!((tr.scale() - 150.0 / 149.0).abs() < 1e-4);
        let c = tr.apply([74.5, 74.5]);
        assert!(close(c, [75.0, 75.0], 1e-3));
    }

    #[test]
    fn chip_of_a_translated_pattern_is_the_pattern() {
        // Draw a gradient, place the template 40 px right and 30 px down, extract the chip:
        // it must reproduce the gradient around the template position.
        let img = RgbImage::from_fn(300, 300, |x, y| image::Rgb([x as u8, y as u8, 128]));
        let lm = TEMPLATE.map(|p| [p[0] + 40.0, p[1] + 30.0]);
        let chip = extract_chip(&img, &lm, SPEC);
        let plane = CHIP * CHIP;
        // chip (74, 74) ≈ image (74.5*150/149 - 74.5 + 75 + 40 - 0.5 ...) ≈ (114.5, 104.5)
        let r = chip[74 * CHIP + 74];
        let g = chip[plane + 74 * CHIP + 74];
        assert!((r - 114.0).abs() < 1.0, "r={r}");
        assert!((g - 104.0).abs() < 1.0, "g={g}");
        assert_eq!(chip[2 * plane], 128.0);
    }

    #[test]
    fn large_faces_are_halved_before_sampling() {
        // A face 4x the chip size: the chip still spans the same content (a horizontal ramp).
        let img = RgbImage::from_fn(800, 800, |x, _| image::Rgb([(x / 4) as u8, 0, 0]));
        let lm = TEMPLATE.map(|p| [p[0] * 4.0 + 50.0, p[1] * 4.0 + 50.0]);
        let chip = extract_chip(&img, &lm, SPEC);
        let left = chip[75 * CHIP + 10];
        let right = chip[75 * CHIP + 140];
        // chip x maps to image 350 + 4·(150/149)·(x − 74.5); the ramp is that over 4.
        assert!((left - 22.6).abs() < 2.0, "left={left}");
        assert!((right - 153.4).abs() < 2.0, "right={right}");
    }

    #[test]
    fn outside_the_image_is_black() {
        let img = RgbImage::from_pixel(20, 20, image::Rgb([200, 200, 200]));
        let lm = TEMPLATE.map(|p| [p[0] - 200.0, p[1] - 200.0]);
        assert!(extract_chip(&img, &lm, SPEC).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn plain_warp_puts_the_template_on_itself() {
        // Without dlib's convention, landmarks equal to the template give the identity warp.
        let spec = &MOBILEFACENET.align;
        let tr = chip_transform(&spec.template, spec);
        assert!((tr.scale() - 1.0).abs() < 1e-5 && close(tr.t, [0.0, 0.0], 1e-3));
        let img = RgbImage::from_fn(200, 200, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let chip = extract_chip(&img, &spec.template, spec);
        assert_eq!(chip.len(), 3 * 112 * 112);
        assert!((chip[50 * 112 + 30] - 30.0).abs() < 1e-3);
        assert!((chip[112 * 112 + 50 * 112 + 30] - 50.0).abs() < 1e-3);
        let m = mirror_chip(&chip, 112);
        assert!((m[50 * 112 + (111 - 30)] - 30.0).abs() < 1e-3);
    }

    #[test]
    fn halve_averages_blocks() {
        let img = RgbImage::from_fn(4, 2, |x, _| image::Rgb([(x * 10) as u8, 0, 0]));
        let h = halve(&img);
        assert_eq!((h.width(), h.height()), (2, 1));
        assert_eq!(h.get_pixel(0, 0)[0], 5);
        assert_eq!(h.get_pixel(1, 0)[0], 25);
    }
}
