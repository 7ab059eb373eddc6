//! Camera RAW files (DNG, CR2, CR3, NEF, ARW, ORF, RAF, RW2, PEF, SRW): Likeness reads the
//! full-size JPEG preview almost every camera embeds, not the sensor data. Every container
//! stores that preview as a plain baseline JPEG somewhere in the file (TIFF IFDs, CR3's ISO
//! boxes, RAF's header), so the largest one that parses as a colour baseline or progressive
//! JPEG is taken; the sensor data itself is lossless JPEG or proprietary, and never qualifies.
//! The orientation and date are the RAW's own (its TIFF IFD0) where it has them, else the
//! preview's (`decode`).

use std::io::Cursor;

/// Candidate previews looked at, at most: a 50 MB RAW has a handful; this bounds a hostile file.
const MAX_CANDIDATES: usize = 4096;

/// An embedded preview: its bytes (from the JPEG's start to the end of the file; the decoder
/// stops at its end marker) and size.
pub struct Preview<'a> {
    pub jpeg: &'a [u8],
    pub width: u16,
    pub height: u16,
}

/// How far past a candidate's start its headers are looked for: a real preview's frame header
/// comes within its first few hundred kilobytes (after EXIF and thumbnails); a stray marker in
/// sensor data must not make the parser read the rest of a 50 MB file.
const HEADER_WINDOW: usize = 4 << 20;

/// The colour JPEGs embedded in `bytes`, largest first (the caller decodes the first that
/// works: a stray start marker in sensor data can parse as a bogus large frame), or why there
/// is none.
pub fn previews(bytes: &[u8]) -> Result<Vec<Preview<'_>>, String> {
    let mut found: Vec<Preview<'_>> = Vec::new();
    let mut seen = 0usize;
    let mut at = 0usize;
    while let Some(k) = find_soi(&bytes[at..]) {
        let start = at + k;
        at = start + 3;
        seen += 1;
        if seen > MAX_CANDIDATES {
            break;
        }
        let window = &bytes[start..bytes.len().min(start + HEADER_WINDOW)];
        let mut dec = jpeg_decoder::Decoder::new(Cursor::new(window));
        if dec.read_info().is_err() {
            continue;
        }
        let Some(info) = dec.info() else { continue };
        if info.coding_process != jpeg_decoder::CodingProcess::Lossless
            && info.pixel_format == jpeg_decoder::PixelFormat::RGB24
        {
            found.push(Preview {
                jpeg: &bytes[start..],
                width: info.width,
                height: info.height,
            });
        }
    }
    if found.is_empty() {
        return Err("camera RAW without a usable embedded JPEG preview".into());
    }
    found.sort_by_key(|p| std::cmp::Reverse(p.width as u32 * p.height as u32));
    Ok(found)
}

/// A JPEG start: SOI followed by a marker a real JPEG begins with (APPn, DQT, DHT, SOF0-2,
/// DRI, COM), which rules out most chance `FF D8 FF` in sensor data.
fn is_jpeg_start(w: &[u8]) -> bool {
    w[0] == 0xFF
        && w[1] == 0xD8
        && w[2] == 0xFF
        && matches!(w[3], 0xE0..=0xEF | 0xDB | 0xC4 | 0xC0..=0xC2 | 0xDD | 0xFE)
}

fn find_soi(b: &[u8]) -> Option<usize> {
    b.windows(4).position(is_jpeg_start)
}

/// Whether the RAW is TIFF-based (DNG, CR2, NEF, ARW, PEF, SRW), so its IFD0 carries the
/// camera's orientation and date; ORF, RW2, RAF and CR3 use other containers.
pub fn is_tiff(bytes: &[u8]) -> bool {
    matches!(bytes.get(..4), Some(b"II*\0") | Some(b"MM\0*"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([120, 80, 40]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
            .encode_image(&img)
            .unwrap();
        out
    }

    #[test]
    fn the_largest_embedded_colour_jpeg_is_the_preview() {
        // A fake container: junk, a thumbnail, junk with a stray marker, the big preview.
        let mut f = b"II*\0junk".to_vec();
        f.extend(jpeg(160, 120));
        f.extend([0xFF, 0xD8, 0xFF, 0x00, 1, 2, 3]);
        let big_at = f.len();
        f.extend(jpeg(640, 480));
        f.extend(b"trailing sensor data");
        let p = previews(&f).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].width, p[0].height), (640, 480));
        assert_eq!(p[0].jpeg.as_ptr(), f[big_at..].as_ptr());
        assert_eq!((p[1].width, p[1].height), (160, 120));
        assert!(previews(b"II*\0 nothing here").is_err());
    }
}
