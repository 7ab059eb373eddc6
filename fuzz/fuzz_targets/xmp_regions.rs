//! The XMP region reader (`xmp::parse`) on any bytes, and on the packet `sidecar::embedded`
//! finds inside any photo container. Whatever it reads must be sane, and must write back.
#![no_main]
use libfuzzer_sys::fuzz_target;
use likeness::library::{sidecar, xmp};

fn check(packet: &[u8]) {
    let Ok(Some(r)) = xmp::parse(packet) else { return };
    assert!(!r.faces.is_empty(), "Some(regions) with no face");
    assert!(r.source == "mwg" || r.source == "mp");
    if r.source == "mp" {
        assert_eq!(r.applied_to, None);
    }
    if let Some((w, h)) = r.applied_to {
        assert!(w > 0 && h > 0);
    }
    for f in &r.faces {
        let NormRect { x, y, w, h } = f.rect;
        assert!([x, y, w, h].iter().all(|v| v.is_finite()), "{:?}", f.rect);
        assert!(x >= 0.0 && y >= 0.0 && w > 0.0 && h > 0.0, "{:?}", f.rect);
        assert!(x + w <= 1.0 + 1e-9 && y + h <= 1.0 + 1e-9, "{:?}", f.rect);
        if let Some(n) = &f.name {
            assert!(!n.is_empty() && n.trim() == n, "{n:?}");
        }
    }
    // What was read from a packet can be written back into it (the export does exactly this).
    let applied = r.applied_to.unwrap_or((0, 0));
    if let Err(e) = xmp::write_sidecar(Some(packet), &r.faces, applied) {
        panic!("regions read from the packet cannot be written back into it: {e}");
    }
}
use xmp::NormRect;

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Some(packet) = sidecar::embedded(data) {
        check(&packet);
    }
});
