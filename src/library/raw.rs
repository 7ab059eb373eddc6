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

/// The embedded preview: its bytes (from the JPEG's start to the end of the file; the decoder
/// stops at its end marker) and size.
pub struct Preview<'a> {
    pub jpeg: &'a [u8],
    pub width: u16,
    pub height: u16,
}

/// The largest colour JPEG embedded in `bytes`, or why there is none.
pub fn preview(bytes: &[u8]) -> Result<Preview<'_>, String> {
    let mut best: Option<(u32, usize, u16, u16)> = None;
    let mut seen = 0usize;
    let mut at = 0usize;
    while let Some(k) = find_soi(&bytes[at..]) {
        let start = at + k;
        at = start + 3;
        seen += 1;
        if seen > MAX_CANDIDATES {
            break;
        }
        let mut dec = jpeg_decoder::Decoder::new(Cursor::new(&bytes[start..]));
        if dec.read_info().is_err() {
            continue;
        }
        let Some(info) = dec.info() else { continue };
        let usable = info.coding_process != jpeg_decoder::CodingProcess::Lossless
            && info.pixel_format == jpeg_decoder::PixelFormat::RGB24;
        let area = info.width as u32 * info.height as u32;
        if usable && best.is_none_or(|b| area > b.0) {
            best = Some((area, start, info.width, info.height));
        }
    }
    let (_, start, width, height) =
        best.ok_or("camera RAW without a usable embedded JPEG preview")?;
    Ok(Preview {
        jpeg: &bytes[start..],
        width,
        height,
    })
}

fn find_soi(b: &[u8]) -> Option<usize> {
    b.windows(3).position(|w| w == [0xFF, 0xD8, 0xFF])
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
        let p = preview(&f).unwrap();
        assert_eq!((p.width, p.height), (640, 480));
        assert_eq!(p.jpeg.as_ptr(), f[big_at..].as_ptr());
        assert!(preview(b"II*\0 nothing here").is_err());
    }
}
