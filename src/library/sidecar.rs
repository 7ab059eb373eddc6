//! Where a photo's face regions live outside Likeness: XMP sidecar files beside it (both naming
//! conventions) and the XMP packet inside the photo. Reads only; the one write is
//! [`write_atomic`] for a sidecar, never a photo.
//!
//! Names: digiKam and darktable write `photo.jpg.xmp`; Lightroom writes `photo.xmp` (for RAW
//! files) and darktable and Immich read it too. Reading takes `photo.jpg.xmp` first, then
//! `photo.xmp` (a RAW and the JPEG of the same shot share `photo.xmp`, so the longer name is the
//! more specific one); a sidecar with face regions wins over the photo's embedded XMP, as in
//! digiKam and Immich.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::xmp::{self, Regions};

/// The two sidecar naming conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SidecarName {
    /// `photo.jpg.xmp` (digiKam, darktable, Immich): one sidecar per file, even for a RAW and
    /// a JPEG of the same shot. The default.
    PhotoExt,
    /// `photo.xmp` (Lightroom, digiKam's "compatible with commercial programs").
    Photo,
}

impl SidecarName {
    /// Parse the command line's spelling: `photo.ext.xmp` or `photo.xmp`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "photo.ext.xmp" | "photo.jpg.xmp" => Some(Self::PhotoExt),
            "photo.xmp" => Some(Self::Photo),
            _ => None,
        }
    }

    /// The sidecar of `photo` under this convention.
    pub fn path_for(self, photo: &Path) -> PathBuf {
        match self {
            Self::PhotoExt => {
                let mut s = photo.as_os_str().to_owned();
                s.push(".xmp");
                PathBuf::from(s)
            }
            Self::Photo => photo.with_extension("xmp"),
        }
    }
}

/// Sidecar paths of `photo` in reading order.
pub fn candidates(photo: &Path) -> [PathBuf; 2] {
    [
        SidecarName::PhotoExt.path_for(photo),
        SidecarName::Photo.path_for(photo),
    ]
}

/// What the sidecars of `photo` look like now (paths, sizes, times), so a scan can tell that
/// someone edited them since the last one; `""` when there is none.
pub fn signature(photo: &Path) -> String {
    let mut sig = String::new();
    for p in candidates(photo) {
        if let Ok(md) = std::fs::metadata(&p) {
            let e = super::walk::file_entry(p.clone(), &md);
            if !sig.is_empty() {
                sig.push('|');
            }
            sig.push_str(&format!("{}:{}:{}", p.display(), e.size, e.mtime_ns));
        }
    }
    sig
}

/// Face regions found for a photo, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The sidecar's path, or "embedded".
    pub from: String,
    pub regions: Regions,
}

/// The face regions of `photo` (whose bytes are `bytes`): the first sidecar that has some,
/// else the photo's own XMP. A sidecar that cannot be read or parsed is reported in the error
/// (the scan lists it; the photo is still indexed).
pub fn read(photo: &Path, bytes: &[u8]) -> Result<Option<Found>, String> {
    for p in candidates(photo) {
        let data = match std::fs::read(&p) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("cannot read sidecar {}: {e}", p.display())),
        };
        match xmp::parse(&data) {
            Ok(Some(regions)) => {
                return Ok(Some(Found {
                    from: p.display().to_string(),
                    regions,
                }))
            }
            Ok(None) => {}
            Err(e) => return Err(format!("sidecar {} is not readable XMP: {e}", p.display())),
        }
    }
    let Some(packet) = embedded(bytes) else {
        return Ok(None);
    };
    Ok(xmp::parse(&packet)
        .map_err(|e| format!("the photo's XMP is not readable: {e}"))?
        .map(|regions| Found {
            from: "embedded".into(),
            regions,
        }))
}

/// The first bytes of a file: enough for a JPEG's metadata segments (APP1 XMP is at most 64 KB,
/// after EXIF with its thumbnail), so looking for regions need not read the whole photo.
pub fn head(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut head = Vec::with_capacity(256 << 10);
    std::fs::File::open(path)?
        .take(256 << 10)
        .read_to_end(&mut head)?;
    Ok(head)
}

/// Whether [`head`] holds all the XMP a photo can have (a JPEG's is in its first segments;
/// other formats may keep it anywhere).
pub fn head_is_enough(head: &[u8]) -> bool {
    head.starts_with(&[0xFF, 0xD8])
}

/// [`read`] for a photo on disk, reading only what its XMP needs.
pub fn read_file(photo: &Path) -> Result<Option<Found>, String> {
    let head =
        head(photo).map_err(|e| format!("cannot read the photo {}: {e}", photo.display()))?;
    if head_is_enough(&head) {
        return read(photo, &head);
    }
    let bytes = std::fs::read(photo)
        .map_err(|e| format!("cannot read the photo {}: {e}", photo.display()))?;
    read(photo, &bytes)
}

/// The XMP packet inside a photo: through `image`'s decoders for JPEG (APP1), PNG (iTXt),
/// TIFF (tag 700) and WebP ("XMP " chunk); for HEIF/AVIF and anything else by scanning for
/// the packet (the XMP specification's fallback: HEIF stores it uncompressed as a `mime`
/// item). Only headers are read; no pixels are decoded.
pub fn embedded(bytes: &[u8]) -> Option<Vec<u8>> {
    use image::ImageDecoder;
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()?;
    match reader.format() {
        Some(
            image::ImageFormat::Jpeg
            | image::ImageFormat::Png
            | image::ImageFormat::Tiff
            | image::ImageFormat::WebP,
        ) => reader.into_decoder().ok()?.xmp_metadata().ok().flatten(),
        _ => scan_packet(bytes).map(<[u8]>::to_vec),
    }
}

/// The first `<x:xmpmeta …>…</x:xmpmeta>` in `bytes`.
fn scan_packet(bytes: &[u8]) -> Option<&[u8]> {
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let start = find(bytes, b"<x:xmpmeta")?;
    let end_tag = b"</x:xmpmeta>";
    let end = start + find(&bytes[start..], end_tag)? + end_tag.len();
    Some(&bytes[start..end])
}

/// Write `bytes` to `path` so that a reader sees the old file or the new one, never half of
/// one: a temporary file in the same folder, flushed, then renamed over it. The photo's own
/// permissions are not touched; a new sidecar gets the folder's default.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("sidecar");
    // A name no other writer uses (another process, or another export in this one), created
    // only if it does not exist yet: two writers never share a temporary file.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.likeness-{}-{n}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        if let Ok(md) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, md.permissions())?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sidecar_conventions_are_named_as_other_programs_do() {
        let p = Path::new("/pics/IMG_1.JPG");
        assert_eq!(
            SidecarName::PhotoExt.path_for(p),
            Path::new("/pics/IMG_1.JPG.xmp")
        );
        assert_eq!(SidecarName::Photo.path_for(p), Path::new("/pics/IMG_1.xmp"));
        assert_eq!(SidecarName::parse("photo.xmp"), Some(SidecarName::Photo));
        assert_eq!(
            SidecarName::parse("photo.ext.xmp"),
            Some(SidecarName::PhotoExt)
        );
        assert_eq!(SidecarName::parse("xmp"), None);
    }

    #[test]
    fn a_packet_is_found_inside_any_container() {
        let mut bytes = b"ftypheic....mdat".to_vec();
        bytes.extend_from_slice(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><r/></x:xmpmeta>");
        bytes.extend_from_slice(b"\0\0trailing");
        assert_eq!(
            scan_packet(&bytes),
            Some(&b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><r/></x:xmpmeta>"[..])
        );
        assert_eq!(scan_packet(b"no xmp here"), None);
    }

    #[test]
    fn a_jpegs_packet_is_found_in_its_first_bytes_alone() {
        let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8, y as u8, 90]));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode_image(&img)
            .unwrap();
        let packet = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'/></x:xmpmeta>";
        let header = b"http://ns.adobe.com/xap/1.0/\0";
        let len = (2 + header.len() + packet.len()) as u16;
        let mut with_xmp = jpeg[..2].to_vec();
        with_xmp.extend_from_slice(&[0xFF, 0xE1]);
        with_xmp.extend_from_slice(&len.to_be_bytes());
        with_xmp.extend_from_slice(header);
        with_xmp.extend_from_slice(packet);
        with_xmp.extend_from_slice(&jpeg[2..]);
        assert_eq!(embedded(&with_xmp).as_deref(), Some(&packet[..]));
        // What a scan reads of an unchanged photo: the headers, and the image data cut short.
        let cut = with_xmp.len() - 200;
        assert_eq!(embedded(&with_xmp[..cut]).as_deref(), Some(&packet[..]));
        assert_eq!(embedded(&jpeg[..jpeg.len() - 200]), None);
    }

    #[test]
    fn an_atomic_write_replaces_the_file_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jpg.xmp");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // A folder that cannot be written: an error, and nothing left behind.
        assert!(write_atomic(&dir.path().join("no/such/dir/x.xmp"), b"x").is_err());
    }
}
