//! Our glue around libheif and libavif (loaded at run time, in this process): the brand sniffing
//! (`heif::is_heif`, `heif::is_avif`), `heif::decode` / `avif::decode` with a pixel limit, and
//! the whole `decode::decode` route (EXIF from the container, orientation, shrink) when the
//! photo is small. A crash inside the C libraries themselves is theirs, not ours: see run.sh.
#![no_main]
use libfuzzer_sys::fuzz_target;
use likeness::library::{avif, decode, heif};

/// Pixel limit for one fuzz input: keeps each run short and its memory small.
const MAX_PIXELS: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    // Fuzzing nothing because a library is missing must not look like a pass.
    static LOADED: std::sync::Once = std::sync::Once::new();
    LOADED.call_once(|| {
        eprintln!("{}", heif::availability().expect("libheif must load"));
        eprintln!("{}", avif::availability().expect("libavif must load"));
    });
    let is_avif = heif::is_avif(data);
    let is_heif = heif::is_heif(data);
    // The same routing as decode::decode: AVIF first.
    let r = if is_avif {
        avif::decode(data, MAX_PIXELS)
    } else if is_heif {
        heif::decode(data, MAX_PIXELS)
    } else {
        return;
    };
    let Ok(p) = r else { return };
    let (w, h) = p.image.dimensions();
    assert!(w > 0 && h > 0);
    assert!(u64::from(w) * u64::from(h) <= MAX_PIXELS, "{w}x{h} passed the pixel limit");
    if let Some(o) = p.container_orientation {
        assert!((1..=8).contains(&o), "container orientation {o}");
    }
    if let Some(exif) = &p.exif {
        assert!((1..=8).contains(&decode::read_raw_exif(exif).orientation));
    }
    // The app's own route for the same bytes (decode_container + finish).
    let d = decode::decode(data, 64).expect("decode::decode fails where the library decoded");
    assert!(d.image.width().max(d.image.height()) <= 64);
    let (ow, oh) = if d.orientation >= 5 { (h, w) } else { (w, h) };
    assert_eq!((d.width, d.height), (ow, oh));
});
