//! Shrinking RGB images, the one door to `fast_image_resize`.
//!
//! Why not `image::imageops::resize`: on a 12 MP photo its float Triangle filter took most of
//! the 2.1 thread-seconds the decode stage spent per photo (`benches/formats.sh`, before this
//! module); the SIMD convolution here does the same bilinear filter in a few tens of ms.

use fast_image_resize::{images::Image, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;

/// `img` resized to `w`×`h` with a bilinear (triangle) filter, as the detector and the
/// thumbnails were measured with. Sizes of 0 become 1.
pub fn rgb(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    let (w, h) = (w.max(1), h.max(1));
    if img.dimensions() == (w, h) {
        return img.clone();
    }
    let fast = || -> Option<RgbImage> {
        let src = fast_image_resize::images::ImageRef::new(
            img.width(),
            img.height(),
            img.as_raw(),
            PixelType::U8x3,
        )
        .ok()?;
        let mut dst = Image::new(w, h, PixelType::U8x3);
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
        Resizer::new().resize(&src, &mut dst, &options).ok()?;
        RgbImage::from_raw(w, h, dst.into_vec())
    };
    // The fast path only fails on an empty source; the slow one handles every case.
    fast().unwrap_or_else(|| {
        image::imageops::resize(img, w, h, image::imageops::FilterType::Triangle)
    })
}

/// `img` shrunk so that its longer side is at most `max_side` (aspect kept), and the factor
/// applied (new pixels per old pixel, 1.0 when it was small enough and is returned as is).
pub fn fit(img: RgbImage, max_side: u32) -> (RgbImage, f32) {
    match shrunk(&img, max_side) {
        Some(r) => r,
        None => (img, 1.0),
    }
}

/// A copy of `img` with its longer side `max_side`, and the factor applied; `None` when `img`
/// is no larger than that already.
pub fn shrunk(img: &RgbImage, max_side: u32) -> Option<(RgbImage, f32)> {
    let long = img.width().max(img.height());
    if long <= max_side || long == 0 {
        return None;
    }
    let k = max_side as f32 / long as f32;
    let (w, h) = (
        ((img.width() as f32 * k).round() as u32).max(1),
        ((img.height() as f32 * k).round() as u32).max(1),
    );
    let out = rgb(img, w, h);
    let actual = out.width().max(out.height()) as f32 / long as f32;
    Some((out, actual))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_aspect_and_reports_the_factor() {
        let img = RgbImage::from_pixel(4000, 3000, image::Rgb([10, 200, 30]));
        let (small, k) = fit(img, 2000);
        assert_eq!(small.dimensions(), (2000, 1500));
        assert!((k - 0.5).abs() < 1e-6);
        // A flat colour stays that colour (no ringing, no channel swap).
        assert_eq!(small.get_pixel(1000, 700), &image::Rgb([10, 200, 30]));
    }

    #[test]
    fn small_images_are_returned_untouched() {
        let img = RgbImage::from_pixel(300, 200, image::Rgb([1, 2, 3]));
        let (same, k) = fit(img.clone(), 2000);
        assert_eq!(same, img);
        assert_eq!(k, 1.0);
    }

    #[test]
    fn a_gradient_is_resampled_not_shifted() {
        // A horizontal ramp halved: each output pixel is near the mean of its two sources.
        let img = RgbImage::from_fn(256, 4, |x, _| image::Rgb([x as u8, x as u8, x as u8]));
        let out = rgb(&img, 128, 2);
        for x in 0..128u32 {
            let v = out.get_pixel(x, 0)[0] as i32;
            assert!((v - (2 * x as i32) - 1).abs() <= 1, "x {x}: {v}");
        }
    }
}
