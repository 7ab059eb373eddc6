//! HEIC/HEIF photos through libheif (with libde265 for HEVC), loaded at run time from the
//! hash-pinned `pi-heif` wheel (`wheel_fetch::HEIF_WHEEL`, LGPL-3.0: never linked, so the user
//! can replace it). Where the library cannot be had, HEIC files are reported with that reason
//! and everything else goes on.
//!
//! Orientation: libheif applies the container's `irot`/`imir`/`clap` itself. When the item has
//! none of them, the EXIF orientation applies instead (an iPhone 7 file in the dev set is stored
//! sideways with only EXIF orientation 6); when it has them, EXIF orientation is informational
//! and must not be applied again.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::OnceLock;

use image::RgbImage;

use super::decode::ContainerPhoto;
use crate::wheel_fetch::{HEIF_DE265_NAME, HEIF_LIB_NAME, HEIF_WHEEL};

/// libheif's error struct, returned by value (code 0: success).
#[repr(C)]
#[derive(Clone, Copy)]
struct HeifError {
    code: c_int,
    subcode: c_int,
    message: *const c_char,
}

const COLORSPACE_RGB: c_int = 1;
const CHROMA_INTERLEAVED_RGB: c_int = 10;
const CHANNEL_INTERLEAVED: c_int = 10;

type Ctx = c_void;
type Handle = c_void;
type Image = c_void;

/// The libheif functions Likeness calls, resolved once.
struct Api {
    get_version: unsafe extern "C" fn() -> *const c_char,
    context_alloc: unsafe extern "C" fn() -> *mut Ctx,
    context_free: unsafe extern "C" fn(*mut Ctx),
    read_from_memory:
        unsafe extern "C" fn(*mut Ctx, *const c_void, usize, *const c_void) -> HeifError,
    primary_handle: unsafe extern "C" fn(*mut Ctx, *mut *mut Handle) -> HeifError,
    handle_release: unsafe extern "C" fn(*const Handle),
    handle_width: unsafe extern "C" fn(*const Handle) -> c_int,
    handle_height: unsafe extern "C" fn(*const Handle) -> c_int,
    handle_item_id: unsafe extern "C" fn(*const Handle) -> u32,
    metadata_ids: unsafe extern "C" fn(*const Handle, *const c_char, *mut u32, c_int) -> c_int,
    metadata_size: unsafe extern "C" fn(*const Handle, u32) -> usize,
    metadata: unsafe extern "C" fn(*const Handle, u32, *mut c_void) -> HeifError,
    transformations: unsafe extern "C" fn(*const Ctx, u32, *mut u32, c_int) -> c_int,
    decode_image: unsafe extern "C" fn(
        *const Handle,
        *mut *mut Image,
        c_int,
        c_int,
        *const c_void,
    ) -> HeifError,
    image_release: unsafe extern "C" fn(*const Image),
    image_width: unsafe extern "C" fn(*const Image, c_int) -> c_int,
    image_height: unsafe extern "C" fn(*const Image, c_int) -> c_int,
    plane: unsafe extern "C" fn(*const Image, c_int, *mut c_int) -> *const u8,
    // Keep the libraries loaded for as long as the function pointers live.
    _heif: libloading::Library,
    _de265: libloading::Library,
}

static API: OnceLock<Result<Api, String>> = OnceLock::new();

fn load() -> Result<Api, String> {
    let dir = super::native::wheel_dir(
        &HEIF_WHEEL,
        "LIKENESS_HEIF_DIR",
        env!("LIKENESS_BUILD_HEIF_DIR"),
    )
    .map_err(|e| format!("libheif {e}"))?;
    // SAFETY: loading the pinned, hash-checked libraries; libde265 first by absolute path, as
    // libheif names it by soname and has no RPATH.
    unsafe {
        let de265 = libloading::Library::new(dir.join(HEIF_DE265_NAME))
            .map_err(|e| format!("cannot load libde265: {e}"))?;
        let heif = libloading::Library::new(dir.join(HEIF_LIB_NAME))
            .map_err(|e| format!("cannot load libheif: {e}"))?;
        macro_rules! sym {
            ($name:literal) => {
                *heif
                    .get($name)
                    .map_err(|e| format!("libheif lacks {}: {e}", stringify!($name)))?
            };
        }
        let init: unsafe extern "C" fn(*const c_void) -> HeifError = sym!(b"heif_init\0");
        let e = init(std::ptr::null());
        if e.code != 0 {
            return Err(format!("libheif did not start: {}", message(&e)));
        }
        Ok(Api {
            get_version: sym!(b"heif_get_version\0"),
            context_alloc: sym!(b"heif_context_alloc\0"),
            context_free: sym!(b"heif_context_free\0"),
            read_from_memory: sym!(b"heif_context_read_from_memory_without_copy\0"),
            primary_handle: sym!(b"heif_context_get_primary_image_handle\0"),
            handle_release: sym!(b"heif_image_handle_release\0"),
            handle_width: sym!(b"heif_image_handle_get_width\0"),
            handle_height: sym!(b"heif_image_handle_get_height\0"),
            handle_item_id: sym!(b"heif_image_handle_get_item_id\0"),
            metadata_ids: sym!(b"heif_image_handle_get_list_of_metadata_block_IDs\0"),
            metadata_size: sym!(b"heif_image_handle_get_metadata_size\0"),
            metadata: sym!(b"heif_image_handle_get_metadata\0"),
            transformations: sym!(b"heif_item_get_transformation_properties\0"),
            decode_image: sym!(b"heif_decode_image\0"),
            image_release: sym!(b"heif_image_release\0"),
            image_width: sym!(b"heif_image_get_width\0"),
            image_height: sym!(b"heif_image_get_height\0"),
            plane: sym!(b"heif_image_get_plane_readonly\0"),
            _heif: heif,
            _de265: de265,
        })
    }
}

fn api() -> Result<&'static Api, String> {
    API.get_or_init(load).as_ref().map_err(Clone::clone)
}

fn message(e: &HeifError) -> String {
    if e.message.is_null() {
        format!("error {}.{}", e.code, e.subcode)
    } else {
        // SAFETY: a NUL-terminated string owned by libheif (static, or by the context or handle,
        // which every caller keeps alive until this returns).
        unsafe { CStr::from_ptr(e.message) }
            .to_string_lossy()
            .into_owned()
    }
}

/// Whether HEIC decoding is available here, and libheif's version or why not.
pub fn availability() -> Result<String, String> {
    let api = api()?;
    // SAFETY: a static string.
    let v = unsafe { CStr::from_ptr((api.get_version)()) };
    Ok(format!("libheif {}", v.to_string_lossy()))
}

/// Whether `bytes` look like a HEIF container (an `ftyp` box with a HEIF/HEIC brand).
pub fn is_heif(bytes: &[u8]) -> bool {
    if bytes.len() < 12 || &bytes[4..8] != b"ftyp" {
        return false;
    }
    let size = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let end = size.clamp(12, bytes.len());
    let brands = std::iter::once(&bytes[8..12]).chain(bytes[16.min(end)..end].chunks_exact(4));
    let mut heif = false;
    for b in brands {
        match b {
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"hevm" | b"hevs" => {
                return true
            }
            b"mif1" | b"msf1" => heif = true,
            _ => {}
        }
    }
    heif
}

/// Whether `bytes` are an AVIF container: an `avif`/`avis` major brand, or a compatible one
/// with no HEVC brand (`mif1` files may be either).
pub fn is_avif(bytes: &[u8]) -> bool {
    if bytes.len() < 12 || &bytes[4..8] != b"ftyp" {
        return false;
    }
    let size = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let end = size.clamp(12, bytes.len());
    let mut brands = std::iter::once(&bytes[8..12]).chain(bytes[16.min(end)..end].chunks_exact(4));
    let av1 = |b: &[u8]| matches!(b, b"avif" | b"avis");
    let hevc = |b: &[u8]| {
        matches!(
            b,
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"hevm" | b"hevs"
        )
    };
    av1(&bytes[8..12]) || (brands.clone().any(av1) && !brands.any(hevc))
}

/// Frees libheif objects however the decode ends.
struct Guard<'a> {
    api: &'a Api,
    ctx: *mut Ctx,
    handle: *mut Handle,
    image: *mut Image,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        // SAFETY: each pointer was returned by libheif and is released once.
        unsafe {
            if !self.image.is_null() {
                (self.api.image_release)(self.image);
            }
            if !self.handle.is_null() {
                (self.api.handle_release)(self.handle);
            }
            if !self.ctx.is_null() {
                (self.api.context_free)(self.ctx);
            }
        }
    }
}

/// The most luma samples an HEVC picture may have (level 6.2, ITU-T H.265 Table A.8). Images
/// larger than this must be stored as a grid of tiles.
const HEVC_MAX_PICTURE_SAMPLES: u64 = 35_651_584;

/// Decode the primary image of a HEIF file. `max_pixels` guards against decompression bombs
/// before any pixel is decoded.
pub fn decode(bytes: &[u8], max_pixels: u64) -> Result<ContainerPhoto, String> {
    let api = api().map_err(|e| format!("HEIC/HEIF cannot be decoded here: {e}"))?;
    let mut g = Guard {
        api,
        // SAFETY: plain allocation.
        ctx: unsafe { (api.context_alloc)() },
        handle: std::ptr::null_mut(),
        image: std::ptr::null_mut(),
    };
    if g.ctx.is_null() {
        return Err("broken HEIF: libheif could not allocate a context".into());
    }
    // SAFETY: `bytes` outlives the context (freed by the guard before this function returns).
    unsafe {
        let e = (api.read_from_memory)(g.ctx, bytes.as_ptr().cast(), bytes.len(), std::ptr::null());
        if e.code != 0 {
            return Err(format!("broken HEIF: {}", message(&e)));
        }
        let e = (api.primary_handle)(g.ctx, &mut g.handle);
        if e.code != 0 {
            return Err(format!("broken HEIF: {}", message(&e)));
        }
        let (w, h) = ((api.handle_width)(g.handle), (api.handle_height)(g.handle));
        if w <= 0 || h <= 0 {
            return Err("broken HEIF: zero-sized image".into());
        }
        if w as u64 * h as u64 > max_pixels {
            return Err(format!(
                "too large: {w}x{h} = {:.0} megapixels exceeds the {} megapixel limit (decompression bomb guard)",
                (w as f64 * h as f64) / 1e6,
                max_pixels / 1_000_000
            ));
        }
        let item = (api.handle_item_id)(g.handle);
        let mut props = [0u32; 16];
        let transformed = (api.transformations)(g.ctx, item, props.as_mut_ptr(), 16) > 0;
        let mut id = 0u32;
        let exif = if (api.metadata_ids)(g.handle, c"Exif".as_ptr(), &mut id, 1) > 0 {
            let n = (api.metadata_size)(g.handle, id);
            let mut buf = vec![0u8; n];
            let e = (api.metadata)(g.handle, id, buf.as_mut_ptr().cast());
            // The block starts with a big-endian offset to the TIFF header.
            (e.code == 0 && n >= 4)
                .then(|| {
                    let off = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
                    buf.get(4 + off..).map(<[u8]>::to_vec)
                })
                .flatten()
        } else {
            None
        };
        let e = (api.decode_image)(
            g.handle,
            &mut g.image,
            COLORSPACE_RGB,
            CHROMA_INTERLEAVED_RGB,
            std::ptr::null(),
        );
        if e.code != 0 {
            if w as u64 * h as u64 > HEVC_MAX_PICTURE_SAMPLES {
                // Seen with encoders that write one huge picture (pillow-heif at 48 MP): libde265
                // returns no image, and so does every HEVC decoder held to the standard.
                return Err(format!(
                    "unsupported HEIF: one {w}x{h} HEVC picture is larger than HEVC decoders \
                     accept (35.6 megapixels); phones store photos this large as tiles ({})",
                    message(&e)
                ));
            }
            return Err(if e.code == 4 || e.code == 11 {
                format!("unsupported HEIF: {}", message(&e))
            } else {
                format!("broken HEIF: {}", message(&e))
            });
        }
        let (iw, ih) = (
            (api.image_width)(g.image, CHANNEL_INTERLEAVED),
            (api.image_height)(g.image, CHANNEL_INTERLEAVED),
        );
        let mut stride: c_int = 0;
        let plane = (api.plane)(g.image, CHANNEL_INTERLEAVED, &mut stride);
        if plane.is_null() || iw <= 0 || ih <= 0 || (stride as i64) < 3 * iw as i64 {
            return Err("broken HEIF: no RGB plane after decoding".into());
        }
        let (iw, ih, stride) = (iw as usize, ih as usize, stride as usize);
        let mut raw = Vec::with_capacity(iw * ih * 3);
        for y in 0..ih {
            let row = std::slice::from_raw_parts(plane.add(y * stride), iw * 3);
            raw.extend_from_slice(row);
        }
        let image = RgbImage::from_raw(iw as u32, ih as u32, raw)
            .ok_or("broken HEIF: plane size mismatch")?;
        Ok(ContainerPhoto {
            image,
            exif,
            // libheif applied the container's transforms: nothing more to turn.
            container_orientation: transformed.then_some(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compat: &[&[u8; 4]]) -> Vec<u8> {
        let mut b = Vec::new();
        let size = 16 + 4 * compat.len() as u32;
        b.extend_from_slice(&size.to_be_bytes());
        b.extend_from_slice(b"ftyp");
        b.extend_from_slice(major);
        b.extend_from_slice(&[0, 0, 0, 0]);
        for c in compat {
            b.extend_from_slice(*c);
        }
        b.extend_from_slice(&[0; 8]);
        b
    }

    #[test]
    fn brands_tell_heic_from_avif() {
        assert!(is_heif(&ftyp(b"heic", &[b"mif1", b"heic"])));
        assert!(is_heif(&ftyp(b"mif1", &[b"heic"])));
        assert!(is_avif(&ftyp(b"avif", &[b"mif1"])));
        assert!(is_avif(&ftyp(b"mif1", &[b"mif1", b"avif"])));
        assert!(!is_avif(&ftyp(b"mif1", &[b"heic", b"avif"])));
        assert!(!is_avif(&ftyp(b"heic", &[b"mif1"])));
        assert!(!is_heif(&ftyp(b"isom", &[b"mp41"])));
        assert!(!is_heif(b"\xff\xd8\xff\xe0 not a box"));
    }
}
