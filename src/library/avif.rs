//! AVIF photos through libavif (dav1d inside), loaded at run time from the hash-pinned Pillow
//! wheel (`wheel_fetch::AVIF_WHEEL`, BSD-2-Clause). Where the library cannot be had, AVIF files
//! are reported with that reason and everything else goes on.
//!
//! libavif reports the container's `irot`/`imir` but does not apply them: they are turned into
//! the equivalent EXIF orientation here (checked on every rotation/mirror pair of the dev set),
//! and EXIF orientation itself applies only when the container has neither.
//!
//! The structs below mirror libavif 1.4.2's public ABI, pinned by the wheel's hash: `avifImage`
//! up to `exif` (stable since 1.0.0), the head of `avifDecoder`, and `avifRGBImage` (given a
//! larger zeroed buffer, so a field added after `rowBytes` cannot overrun it).

use std::ffi::{c_char, c_int, CStr};
use std::sync::OnceLock;

use image::RgbImage;

use super::decode::ContainerPhoto;
use crate::wheel_fetch::{AVIF_LIB_NAME, AVIF_WHEEL};

#[repr(C)]
struct RwData {
    data: *mut u8,
    size: usize,
}

#[repr(C)]
struct AvifImage {
    width: u32,
    height: u32,
    depth: u32,
    yuv_format: c_int,
    yuv_range: c_int,
    yuv_chroma_sample_position: c_int,
    yuv_planes: [*mut u8; 3],
    yuv_row_bytes: [u32; 3],
    image_owns_yuv_planes: c_int,
    alpha_plane: *mut u8,
    alpha_row_bytes: u32,
    image_owns_alpha_plane: c_int,
    alpha_premultiplied: c_int,
    icc: RwData,
    color_primaries: u16,
    transfer_characteristics: u16,
    matrix_coefficients: u16,
    clli: [u16; 2],
    transform_flags: u32,
    pasp: [u32; 2],
    clap: [u32; 8],
    irot_angle: u8,
    imir_axis: u8,
    exif: RwData,
}

#[repr(C)]
struct DecoderHead {
    codec_choice: c_int,
    max_threads: c_int,
    requested_source: c_int,
    allow_progressive: c_int,
    allow_incremental: c_int,
    ignore_exif: c_int,
    ignore_xmp: c_int,
    image_size_limit: u32,
    image_dimension_limit: u32,
    image_count_limit: u32,
    strict_flags: u32,
}

#[repr(C)]
struct RgbHead {
    width: u32,
    height: u32,
    depth: u32,
    format: c_int,
    chroma_upsampling: c_int,
    chroma_downsampling: c_int,
    avoid_libyuv: c_int,
    ignore_alpha: c_int,
    alpha_premultiplied: c_int,
    is_float: c_int,
    max_threads: c_int,
    pixels: *mut u8,
    row_bytes: u32,
}

const TRANSFORM_IROT: u32 = 1 << 2;
const TRANSFORM_IMIR: u32 = 1 << 3;
const RGB_FORMAT_RGB: c_int = 0;

struct Api {
    version: unsafe extern "C" fn() -> *const c_char,
    result_to_string: unsafe extern "C" fn(c_int) -> *const c_char,
    decoder_create: unsafe extern "C" fn() -> *mut DecoderHead,
    decoder_destroy: unsafe extern "C" fn(*mut DecoderHead),
    image_create_empty: unsafe extern "C" fn() -> *mut AvifImage,
    image_destroy: unsafe extern "C" fn(*mut AvifImage),
    read_memory: unsafe extern "C" fn(*mut DecoderHead, *mut AvifImage, *const u8, usize) -> c_int,
    rgb_set_defaults: unsafe extern "C" fn(*mut RgbHead, *const AvifImage),
    rgb_allocate: unsafe extern "C" fn(*mut RgbHead) -> c_int,
    rgb_free: unsafe extern "C" fn(*mut RgbHead),
    yuv_to_rgb: unsafe extern "C" fn(*const AvifImage, *mut RgbHead) -> c_int,
    _lib: libloading::Library,
}

static API: OnceLock<Result<Api, String>> = OnceLock::new();

fn load() -> Result<Api, String> {
    let dir = super::native::wheel_dir(
        &AVIF_WHEEL,
        "LIKENESS_AVIF_DIR",
        env!("LIKENESS_BUILD_AVIF_DIR"),
    )
    .map_err(|e| format!("libavif {e}"))?;
    // SAFETY: the pinned, hash-checked library; the signatures follow libavif 1.4.2's avif.h.
    unsafe {
        let lib = libloading::Library::new(dir.join(AVIF_LIB_NAME))
            .map_err(|e| format!("cannot load libavif: {e}"))?;
        macro_rules! sym {
            ($name:literal) => {
                *lib.get($name)
                    .map_err(|e| format!("libavif lacks {}: {e}", stringify!($name)))?
            };
        }
        Ok(Api {
            version: sym!(b"avifVersion\0"),
            result_to_string: sym!(b"avifResultToString\0"),
            decoder_create: sym!(b"avifDecoderCreate\0"),
            decoder_destroy: sym!(b"avifDecoderDestroy\0"),
            image_create_empty: sym!(b"avifImageCreateEmpty\0"),
            image_destroy: sym!(b"avifImageDestroy\0"),
            read_memory: sym!(b"avifDecoderReadMemory\0"),
            rgb_set_defaults: sym!(b"avifRGBImageSetDefaults\0"),
            rgb_allocate: sym!(b"avifRGBImageAllocatePixels\0"),
            rgb_free: sym!(b"avifRGBImageFreePixels\0"),
            yuv_to_rgb: sym!(b"avifImageYUVToRGB\0"),
            _lib: lib,
        })
    }
}

fn api() -> Result<&'static Api, String> {
    API.get_or_init(load).as_ref().map_err(Clone::clone)
}

/// Whether AVIF decoding is available here, and libavif's version or why not.
pub fn availability() -> Result<String, String> {
    let api = api()?;
    // SAFETY: a static string.
    let v = unsafe { CStr::from_ptr((api.version)()) };
    Ok(format!("libavif {}", v.to_string_lossy()))
}

/// The EXIF orientation (1..=8) equivalent to `irot` (`angle` × 90° anti-clockwise) followed
/// by `imir` (`axis` 0: top↔bottom, 1: left↔right), as MIAF orders them.
pub fn orientation_of(irot: Option<u8>, imir: Option<u8>) -> u8 {
    match (irot.unwrap_or(0) % 4, imir) {
        (0, None) => 1,
        (0, Some(0)) => 4,
        (0, Some(_)) => 2,
        (1, None) => 8,
        (1, Some(0)) => 5,
        (1, Some(_)) => 7,
        (2, None) => 3,
        (2, Some(0)) => 2,
        (2, Some(_)) => 4,
        (_, None) => 6,
        (_, Some(0)) => 7,
        (_, Some(_)) => 5,
    }
}

struct Guard<'a> {
    api: &'a Api,
    decoder: *mut DecoderHead,
    image: *mut AvifImage,
    rgb: Option<*mut RgbHead>,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        // SAFETY: each pointer came from libavif and is released once.
        unsafe {
            if let Some(rgb) = self.rgb {
                (self.api.rgb_free)(rgb);
            }
            if !self.image.is_null() {
                (self.api.image_destroy)(self.image);
            }
            if !self.decoder.is_null() {
                (self.api.decoder_destroy)(self.decoder);
            }
        }
    }
}

fn result(api: &Api, r: c_int) -> String {
    // SAFETY: static strings.
    unsafe { CStr::from_ptr((api.result_to_string)(r)) }
        .to_string_lossy()
        .into_owned()
}

/// Decode the primary image of an AVIF file. `max_pixels` bounds what libavif will decode. A
/// file whose EXIF libavif rejects is decoded again without it (the pixels are what matter).
pub fn decode(bytes: &[u8], max_pixels: u64) -> Result<ContainerPhoto, String> {
    decode_once(bytes, max_pixels, false)
        .or_else(|e| decode_once(bytes, max_pixels, true).map_err(|_| e))
}

fn decode_once(bytes: &[u8], max_pixels: u64, ignore_exif: bool) -> Result<ContainerPhoto, String> {
    let api = api().map_err(|e| format!("AVIF cannot be decoded here: {e}"))?;
    // An RGB image struct with room to spare (see the module doc), 8-byte aligned; declared
    // before the guard so that it outlives the guard's release of its pixels.
    let mut rgb_buf = vec![0u64; 32];
    let rgb = rgb_buf.as_mut_ptr().cast::<RgbHead>();
    // SAFETY: plain allocations, released by the guard.
    let mut g = unsafe {
        Guard {
            api,
            decoder: (api.decoder_create)(),
            image: (api.image_create_empty)(),
            rgb: None,
        }
    };
    if g.decoder.is_null() || g.image.is_null() {
        return Err("broken AVIF: libavif could not allocate a decoder".into());
    }
    // SAFETY: the decoder and image are valid; `bytes` outlives the call; `rgb` points into a
    // zeroed 256-byte buffer that outlives the guard's use of it.
    unsafe {
        // Files missing a `pixi` box are common and harmless: decode them (as Pillow does).
        (*g.decoder).strict_flags = 0;
        (*g.decoder).ignore_exif = c_int::from(ignore_exif);
        // libavif refuses limits above its own default (16384²).
        (*g.decoder).image_size_limit = max_pixels.min(16384 * 16384) as u32;
        let r = (api.read_memory)(g.decoder, g.image, bytes.as_ptr(), bytes.len());
        if r != 0 {
            return Err(format!("broken AVIF: {}", result(api, r)));
        }
        let img = &*g.image;
        if img.width == 0 || img.height == 0 {
            return Err("broken AVIF: zero-sized image".into());
        }
        let flags = img.transform_flags;
        let irot = (flags & TRANSFORM_IROT != 0).then_some(img.irot_angle);
        let imir = (flags & TRANSFORM_IMIR != 0).then_some(img.imir_axis);
        let container_orientation =
            (irot.is_some() || imir.is_some()).then(|| orientation_of(irot, imir));
        let exif = (!img.exif.data.is_null() && img.exif.size > 0)
            .then(|| std::slice::from_raw_parts(img.exif.data, img.exif.size).to_vec());
        (api.rgb_set_defaults)(rgb, g.image);
        (*rgb).depth = 8;
        (*rgb).format = RGB_FORMAT_RGB;
        let r = (api.rgb_allocate)(rgb);
        if r != 0 {
            return Err(format!("AVIF too large to convert: {}", result(api, r)));
        }
        g.rgb = Some(rgb);
        let r = (api.yuv_to_rgb)(g.image, rgb);
        if r != 0 {
            return Err(format!("broken AVIF: {}", result(api, r)));
        }
        let (w, h, stride) = (
            (*rgb).width as usize,
            (*rgb).height as usize,
            (*rgb).row_bytes as usize,
        );
        if (*rgb).pixels.is_null() || stride < 3 * w {
            return Err("broken AVIF: no pixels after conversion".into());
        }
        let mut raw = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            raw.extend_from_slice(std::slice::from_raw_parts(
                (*rgb).pixels.add(y * stride),
                3 * w,
            ));
        }
        drop(g);
        let image = RgbImage::from_raw(w as u32, h as u32, raw)
            .ok_or("broken AVIF: pixel buffer size mismatch")?;
        Ok(ContainerPhoto {
            image,
            exif,
            container_orientation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::orientation_of;

    #[test]
    fn container_transforms_map_to_exif_orientations() {
        // The table checked against Pillow on the dev set's rot/mir files.
        assert_eq!(orientation_of(None, None), 1);
        assert_eq!(orientation_of(None, Some(0)), 4);
        assert_eq!(orientation_of(None, Some(1)), 2);
        assert_eq!(orientation_of(Some(1), None), 8);
        assert_eq!(orientation_of(Some(1), Some(0)), 5);
        assert_eq!(orientation_of(Some(1), Some(1)), 7);
        assert_eq!(orientation_of(Some(2), Some(0)), 2);
        assert_eq!(orientation_of(Some(3), None), 6);
        assert_eq!(orientation_of(Some(3), Some(0)), 7);
        assert_eq!(orientation_of(Some(3), Some(1)), 5);
    }
}
