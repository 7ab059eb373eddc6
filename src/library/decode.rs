//! Decoding a photo for face detection: format sniffing (misnamed files still decode), size
//! limits against decompression bombs, EXIF orientation and date, reduced-scale JPEG decoding for
//! large photos, and the downscale to the detector's working resolution.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

use crate::settings;

/// A photo ready for detection.
#[derive(Debug)]
pub struct Decoded {
    /// The oriented photo at working resolution (longest side at most the requested maximum).
    pub image: RgbImage,
    /// Oriented size of the original photo.
    pub width: u32,
    /// See `width`.
    pub height: u32,
    /// `image` pixels per original pixel (1.0 when the photo was small enough).
    pub scale: f32,
    /// EXIF DateTimeOriginal (or DateTime) as `YYYY-MM-DD HH:MM:SS`, if present.
    pub taken_at: Option<String>,
    /// The EXIF orientation (1..=8) that was applied to the stored pixels (1 for HEIF files
    /// whose container transforms libheif applied).
    pub orientation: u8,
}

/// What EXIF told us.
#[derive(Debug, Clone, PartialEq)]
pub struct ExifInfo {
    /// EXIF orientation 1..=8 (1 when absent or unreadable).
    pub orientation: u8,
    /// Date taken.
    pub taken_at: Option<String>,
}

impl Default for ExifInfo {
    /// No EXIF: as stored, no date.
    fn default() -> Self {
        Self {
            orientation: 1,
            taken_at: None,
        }
    }
}

/// Read orientation and date from any container kamadak-exif knows (JPEG, TIFF, PNG, WebP).
/// Broken EXIF is ignored: the photo is still worth indexing.
pub fn read_exif(bytes: &[u8]) -> ExifInfo {
    match exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) {
        Ok(exif) => exif_info(&exif),
        Err(_) => ExifInfo::default(),
    }
}

/// Orientation and date from a raw EXIF block (TIFF header first, or `Exif\0\0` + TIFF).
pub fn read_raw_exif(raw: &[u8]) -> ExifInfo {
    let tiff = tiff_start(raw);
    match exif::Reader::new().read_raw(tiff.to_vec()) {
        Ok(exif) => exif_info(&exif),
        Err(_) => ExifInfo::default(),
    }
}

fn exif_info(exif: &exif::Exif) -> ExifInfo {
    let mut info = ExifInfo::default();
    if let Some(f) = exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY) {
        if let Some(v) = f.value.get_uint(0).filter(|v| (1..=8).contains(v)) {
            info.orientation = v as u8;
        }
    }
    for tag in [exif::Tag::DateTimeOriginal, exif::Tag::DateTime] {
        let field = exif
            .get_field(tag, exif::In::PRIMARY)
            .or_else(|| exif.fields().find(|f| f.tag == tag));
        if let Some(exif::Value::Ascii(ref v)) = field.map(|f| &f.value) {
            if let Some(dt) = v.first().and_then(|b| exif::DateTime::from_ascii(b).ok()) {
                if dt.year > 0 && (1..=12).contains(&dt.month) {
                    info.taken_at = Some(format!(
                        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                        dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second
                    ));
                    break;
                }
            }
        }
    }
    info
}

fn too_large(w: u32, h: u32) -> Option<String> {
    let px = w as u64 * h as u64;
    (px > settings::MAX_PIXELS).then(|| {
        format!(
            "too large: {w}x{h} = {:.0} megapixels exceeds the {} megapixel limit (decompression bomb guard)",
            px as f64 / 1e6,
            settings::MAX_PIXELS / 1_000_000
        )
    })
}

/// A HEIF/AVIF file whose container claims a picture beyond the limit: refused before any C
/// decoder reads it (`bmff`).
fn container_too_large(bytes: &[u8]) -> Option<String> {
    if !(super::heif::is_heif(bytes) || super::heif::is_avif(bytes)) {
        return None;
    }
    let (w, h) = super::bmff::largest_claim(bytes)?;
    too_large(w, h)
}

thread_local! {
    /// Set while a decoder runs under [`guarded`]: its panics are expected and reported.
    static QUIET_PANICS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run third-party decoding code so that a panic costs one photo, not the scan: the panic
/// becomes a failure reason, and its message goes to the debug log instead of stderr (a caught
/// decoder bug is not a crash, and must not look like one in the terminal or under the app).
pub fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET_PANICS.with(std::cell::Cell::get) {
                tracing::debug!("decoder panicked (caught, the photo is reported): {info}");
            } else {
                previous(info);
            }
        }));
    });
    let was = QUIET_PANICS.with(|q| q.replace(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET_PANICS.with(|q| q.set(was));
    r.unwrap_or_else(|payload| {
        let why = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(if why.is_empty() {
            "the decoder crashed on this file".into()
        } else {
            format!("the decoder crashed on this file ({why})")
        })
    })
}

/// [`decode_file`] under [`guarded`], HEIC and AVIF in a confined worker process
/// ([`super::isolate`]): what the scan, the upgrade, one-photo analysis and the app's photo view
/// call.
pub fn decode_guarded(
    path: &std::path::Path,
    bytes: &[u8],
    max_side: u32,
) -> Result<Decoded, String> {
    if let Some(reason) = container_too_large(bytes) {
        return Err(reason);
    }
    if let Some(r) = super::isolate::decode(path, bytes, max_side) {
        return r;
    }
    guarded(|| decode_file(path, bytes, max_side))
}

/// Decode a file's bytes: camera RAW (by extension: its content is TIFF or a vendor container)
/// through its embedded preview, everything else by content ([`decode`]).
pub fn decode_file(path: &std::path::Path, bytes: &[u8], max_side: u32) -> Result<Decoded, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    match super::formats::by_extension(ext).map(|f| f.decoder) {
        Some(super::formats::Decoder::RawPreview) => decode_raw(bytes, max_side),
        _ => decode(bytes, max_side),
    }
}

/// A camera RAW through its full-size JPEG preview, oriented and dated by the RAW's own EXIF
/// where it has one (previews often carry none).
fn decode_raw(bytes: &[u8], max_side: u32) -> Result<Decoded, String> {
    if bytes.is_empty() {
        return Err("empty file (0 bytes)".into());
    }
    let tiff = super::raw::is_tiff(bytes);
    // The RAW's own orientation where its IFD0 has the tag, else the preview's.
    let orientation = tiff.then(|| orientation_from_raw_exif(bytes)).flatten();
    let mut last = String::new();
    for p in super::raw::previews(bytes)? {
        match decode_with(p.jpeg, max_side, orientation) {
            Ok(mut d) => {
                if let Some(t) = tiff.then(|| read_raw_exif(bytes).taken_at).flatten() {
                    d.taken_at = Some(t);
                }
                return Ok(d);
            }
            Err(e) => last = e,
        }
    }
    Err(format!("camera RAW preview unreadable: {last}"))
}

/// Decode `bytes` into a [`Decoded`] whose longest side is at most `max_side`. Errors are
/// human-readable reasons, recorded with the photo.
pub fn decode(bytes: &[u8], max_side: u32) -> Result<Decoded, String> {
    decode_with(bytes, max_side, None)
}

/// [`decode`], with the orientation given by the caller (a RAW's own) instead of the image's.
fn decode_with(bytes: &[u8], max_side: u32, orientation: Option<u8>) -> Result<Decoded, String> {
    if bytes.is_empty() {
        return Err("empty file (0 bytes)".into());
    }
    if let Some(reason) = container_too_large(bytes) {
        return Err(reason);
    }
    if super::heif::is_avif(bytes) {
        return decode_container(super::avif::decode(bytes, settings::MAX_PIXELS), max_side);
    }
    if super::heif::is_heif(bytes) {
        return decode_container(super::heif::decode(bytes, settings::MAX_PIXELS), max_side);
    }
    let format = image::guess_format(bytes)
        .map_err(|_| "not an image: the content is no format Likeness reads".to_string())?;
    let mut exif = read_exif(bytes);
    if let Some(o) = orientation {
        exif.orientation = o;
    }
    let raw = if format == ImageFormat::Jpeg {
        decode_jpeg_scaled(bytes, max_side)?
    } else {
        None
    };
    let (img, orig_w, orig_h, orientation) = match raw {
        Some((img, w, h)) => (img, w, h, exif.orientation),
        None => decode_generic(bytes, format, exif.orientation)?,
    };
    Ok(finish(
        img,
        (orig_w, orig_h),
        orientation,
        exif.taken_at,
        max_side,
    ))
}

/// A photo decoded by a run-time library (libheif, libavif), as it comes out of it.
pub struct ContainerPhoto {
    pub image: RgbImage,
    /// The EXIF payload (TIFF header first), if any.
    pub exif: Option<Vec<u8>>,
    /// The orientation still to apply because of the container's own rotation/mirror (`Some(1)`
    /// when the library applied them itself), or `None` when the container has none: then the
    /// EXIF orientation applies.
    pub container_orientation: Option<u8>,
}

/// HEIC/HEIF through libheif, AVIF through libavif; orientation applied once (see `heif`).
fn decode_container(
    decoded: Result<ContainerPhoto, String>,
    max_side: u32,
) -> Result<Decoded, String> {
    let p = decoded?;
    let exif = p.exif.as_deref().map(read_raw_exif).unwrap_or_default();
    let orientation = p.container_orientation.unwrap_or(exif.orientation);
    let (w, h) = p.image.dimensions();
    Ok(finish(
        DynamicImage::ImageRgb8(p.image),
        (w, h),
        orientation,
        exif.taken_at,
        max_side,
    ))
}

/// Orient (EXIF `orientation`, 1 = as stored), convert and shrink to at most `max_side`;
/// `orig` is the stored (unoriented) size of the full photo.
fn finish(
    mut img: DynamicImage,
    (orig_w, orig_h): (u32, u32),
    orientation: u8,
    taken_at: Option<String>,
    max_side: u32,
) -> Decoded {
    if let Some(o) = image::metadata::Orientation::from_exif(orientation) {
        img.apply_orientation(o);
    }
    let (ow, oh) = if orientation >= 5 {
        (orig_h, orig_w)
    } else {
        (orig_w, orig_h)
    };
    let (image, _) = crate::resize::fit(img.into_rgb8(), max_side);
    let scale = image.width().max(image.height()) as f32 / ow.max(oh) as f32;
    Decoded {
        image,
        width: ow,
        height: oh,
        scale,
        taken_at,
        orientation: if (1..=8).contains(&orientation) {
            orientation
        } else {
            1
        },
    }
}

/// Decode with the image crate. When the container parser found no orientation, the decoder's
/// own EXIF chunk is read (WebP files keep it after the image data, where only the decoder looks).
fn decode_generic(
    bytes: &[u8],
    format: ImageFormat,
    exif_orientation: u8,
) -> Result<(DynamicImage, u32, u32, u8), String> {
    let name = format!("{format:?}").to_uppercase();
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(settings::MAX_PIXELS * 4 + (64 << 20));
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| format!("unreadable {name}: {e}"))?;
    let orientation = if exif_orientation != 1 {
        exif_orientation
    } else {
        decoder
            .exif_metadata()
            .ok()
            .flatten()
            .and_then(|raw| orientation_from_raw_exif(&raw))
            .unwrap_or(1)
    };
    let (w, h) = decoder.dimensions();
    if let Some(reason) = too_large(w, h) {
        return Err(reason);
    }
    if w == 0 || h == 0 {
        return Err(format!("broken {name}: zero-sized image"));
    }
    let img = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(l) => format!("too large to decode safely: {l}"),
        e => format!("broken {name}: {e}"),
    })?;
    Ok((img, w, h, orientation))
}

/// An EXIF payload from its TIFF header on: writers put `Exif\0\0` or other bytes before it.
fn tiff_start(raw: &[u8]) -> &[u8] {
    raw.windows(4)
        .take(16)
        .position(|w| w == b"II*\0" || w == b"MM\0*")
        .map_or(raw, |k| &raw[k..])
}

/// Orientation from a raw EXIF block, with or without the `Exif\0\0` prefix some writers keep.
fn orientation_from_raw_exif(raw: &[u8]) -> Option<u8> {
    let tiff = tiff_start(raw);
    let exif = exif::Reader::new().read_raw(tiff.to_vec()).ok()?;
    let v = exif
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)?
        .value
        .get_uint(0)?;
    (1..=8).contains(&v).then_some(v as u8)
}

/// Large JPEGs decode at 1/2, 1/4 or 1/8 scale in the IDCT, far cheaper than decoding every
/// pixel and throwing most away. Returns `None` when no reduction applies (small photo).
fn decode_jpeg_scaled(
    bytes: &[u8],
    max_side: u32,
) -> Result<Option<(DynamicImage, u32, u32)>, String> {
    let mut dec = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    dec.read_info().map_err(|e| format!("broken JPEG: {e}"))?;
    let Some(info) = dec.info() else {
        return Err("broken JPEG: no frame header".into());
    };
    let (w, h) = (info.width as u32, info.height as u32);
    if let Some(reason) = too_large(w, h) {
        return Err(reason);
    }
    // A photo that fits decodes in full. A larger one at the strongest IDCT reduction (1/8, 1/4,
    // 1/2) that still leaves 3/4 of the cap, so the detector (3200 of a 4096 cap) loses nothing:
    // 8064 px → 4032 at 1/2, no resize; 20000 px → 5000 at 1/4, then resized in `finish`. A
    // 6000 px photo (1/2 would give 3000) decodes in full and is resized.
    let long = w.max(h);
    if long <= max_side {
        return Ok(None);
    }
    match [8u32, 4, 2]
        .into_iter()
        .find(|d| long / d >= max_side * 3 / 4)
    {
        Some(denom) => scaled_by(dec, w, h, denom),
        None => Ok(None),
    }
}

/// Decode at 1/`denom` scale in the IDCT; returns the image and the full size.
fn scaled_by(
    mut dec: jpeg_decoder::Decoder<Cursor<&[u8]>>,
    w: u32,
    h: u32,
    denom: u32,
) -> Result<Option<(DynamicImage, u32, u32)>, String> {
    let (rw, rh) = (
        (w.div_ceil(denom) as u16).max(1),
        (h.div_ceil(denom) as u16).max(1),
    );
    let (sw, sh) = dec.scale(rw, rh).map_err(|e| format!("broken JPEG: {e}"))?;
    let pixels = dec.decode().map_err(|e| format!("broken JPEG: {e}"))?;
    let (sw, sh) = (sw as u32, sh as u32);
    let img = match dec.info().map(|i| i.pixel_format) {
        Some(jpeg_decoder::PixelFormat::RGB24) => {
            RgbImage::from_raw(sw, sh, pixels).map(DynamicImage::ImageRgb8)
        }
        Some(jpeg_decoder::PixelFormat::L8) => {
            image::GrayImage::from_raw(sw, sh, pixels).map(DynamicImage::ImageLuma8)
        }
        Some(jpeg_decoder::PixelFormat::L16) => {
            let v: Vec<u16> = pixels
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            image::ImageBuffer::from_raw(sw, sh, v).map(DynamicImage::ImageLuma16)
        }
        Some(jpeg_decoder::PixelFormat::CMYK32) => {
            let rgb: Vec<u8> = pixels
                .chunks_exact(4)
                .flat_map(|c| {
                    let k = 255 - c[3] as u32;
                    [0, 1, 2].map(|i| ((255 - c[i] as u32) * k / 255) as u8)
                })
                .collect();
            RgbImage::from_raw(sw, sh, rgb).map(DynamicImage::ImageRgb8)
        }
        None => None,
    };
    img.map(|i| Some((i, w, h)))
        .ok_or_else(|| "broken JPEG: decoded buffer has the wrong size".into())
}

/// A square JPEG thumbnail of the face with box `bbox` (in `img` pixels), `side` pixels wide.
pub fn face_thumbnail(img: &RgbImage, bbox: &[f32; 4], side: u32, quality: u8) -> Vec<u8> {
    let (cx, cy) = ((bbox[0] + bbox[2]) / 2.0, (bbox[1] + bbox[3]) / 2.0);
    let half = (bbox[2] - bbox[0]).max(bbox[3] - bbox[1]) * (0.5 + settings::THUMB_MARGIN);
    let half = half.max(1.0);
    let x0 = (cx - half).max(0.0) as u32;
    let y0 = (cy - half).max(0.0) as u32;
    let x1 = ((cx + half).ceil() as u32).min(img.width());
    let y1 = ((cy + half).ceil() as u32).min(img.height());
    let (w, h) = (x1.saturating_sub(x0).max(1), y1.saturating_sub(y0).max(1));
    let crop =
        image::imageops::crop_imm(img, x0.min(img.width() - 1), y0.min(img.height() - 1), w, h)
            .to_image();
    let k = side as f32 / w.max(h) as f32;
    let (tw, th) = (
        ((w as f32 * k).round() as u32).clamp(1, side),
        ((h as f32 * k).round() as u32).clamp(1, side),
    );
    let thumb = image::imageops::resize(&crop, tw, th, image::imageops::FilterType::Triangle);
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    // Encoding an in-memory RGB buffer cannot fail except on zero size, excluded above.
    let _ = thumb.write_with_encoder(enc);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decoder_panic_is_a_reason_not_a_crash() {
        let r: Result<(), String> = guarded(|| panic!("index out of bounds"));
        assert_eq!(
            r.unwrap_err(),
            "the decoder crashed on this file (index out of bounds)"
        );
        // Outside `guarded` the flag is off again (panics elsewhere still print).
        assert!(!QUIET_PANICS.with(std::cell::Cell::get));
        assert_eq!(guarded(|| Ok::<_, String>(3)), Ok(3));
    }

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 0])
        });
        let mut out = Vec::new();
        img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut out, 90,
        ))
        .unwrap();
        out
    }

    #[test]
    fn empty_and_garbage_are_reasons() {
        assert!(decode(&[], 100).unwrap_err().contains("empty"));
        assert!(decode(b"hello, not an image", 100)
            .unwrap_err()
            .contains("not an image"));
    }

    #[test]
    fn truncated_jpeg_is_an_error_not_a_panic() {
        let j = jpeg(64, 64);
        let r = decode(&j[..j.len() / 3], 100);
        // Either a clear error or a (partially grey) image; never a panic.
        if let Err(e) = r {
            assert!(e.contains("JPEG"), "{e}");
        }
    }

    #[test]
    fn large_jpeg_decodes_at_reduced_scale() {
        let j = jpeg(1000, 600);
        let d = decode(&j, 200).unwrap();
        assert_eq!((d.width, d.height), (1000, 600));
        assert_eq!(d.image.width(), 200);
        assert_eq!(d.image.height(), 120);
        assert!((d.scale - 0.2).abs() < 1e-6);
    }

    #[test]
    fn idct_reduction_keeps_three_quarters_of_the_cap() {
        // 2x the cap: 1/2 in the IDCT, exactly the cap (48 MP → 4032 of 4096).
        let d = decode(&jpeg(400, 300), 200).unwrap();
        assert_eq!((d.image.width(), d.image.height()), (200, 150));
        // 1.4x the cap: 1/2 would leave 140 of 200, less than 3/4: full decode, then resized.
        let d = decode(&jpeg(280, 224), 200).unwrap();
        assert_eq!((d.image.width(), d.image.height()), (200, 160));
    }

    #[test]
    fn small_photo_keeps_full_resolution() {
        let d = decode(&jpeg(120, 80), 200).unwrap();
        assert_eq!((d.image.width(), d.image.height(), d.scale), (120, 80, 1.0));
    }

    #[test]
    fn thumbnail_is_a_jpeg_of_the_requested_side() {
        let img = RgbImage::from_pixel(400, 300, image::Rgb([50, 60, 70]));
        let t = face_thumbnail(&img, &[100.0, 100.0, 180.0, 200.0], 160, 85);
        let back = image::load_from_memory(&t).unwrap();
        assert_eq!(back.width().max(back.height()), 160);
    }
}
