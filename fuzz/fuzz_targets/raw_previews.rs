//! The RAW preview finder (`raw::previews`) and the RAW decode around it (`decode_file` for a
//! `.dng`, under `decode::guarded` as the scan runs it: a panic there is reported, not a crash).
#![no_main]
use libfuzzer_sys::fuzz_target;
use likeness::library::{decode, raw};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let _ = raw::is_tiff(data);
    let Ok(found) = raw::previews(data) else { return };
    assert!(!found.is_empty());
    let range = data.as_ptr_range();
    for w in found.windows(2) {
        let area = |p: &raw::Preview| u32::from(p.width) * u32::from(p.height);
        assert!(area(&w[0]) >= area(&w[1]), "not largest first");
    }
    for p in &found {
        // A suffix of the file, starting at a JPEG start marker.
        assert!(p.jpeg.as_ptr() >= range.start && p.jpeg.as_ptr_range().end == range.end);
        assert!(p.jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
    }
    // The full RAW decode, bounded so that one input stays fast (a real preview is a few MP).
    if u32::from(found[0].width) * u32::from(found[0].height) <= 1 << 22 {
        if let Ok(d) = decode::decode_guarded(Path::new("fuzz.dng"), data, 64) {
            assert!(d.image.width().max(d.image.height()) <= 64);
            assert!((1..=8).contains(&d.orientation));
        }
    }
});
