//! The sidecar merge writer (`xmp::write_sidecar`): arbitrary existing sidecar bytes plus
//! arbitrary faces. The input's first bytes make the faces, the rest is the existing sidecar.
//! On success the output must parse again, hold exactly the faces written (when they were
//! already clean), and writing the same faces into it again must change nothing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use likeness::library::xmp::{self, NormRect, Region};

/// A coordinate from two bytes: mostly -0.25..1.25, sometimes NaN or infinite.
fn coord(b: [u8; 2]) -> f64 {
    match u16::from_le_bytes(b) {
        0xFFFF => f64::NAN,
        0xFFFE => f64::INFINITY,
        0xFFFD => f64::NEG_INFINITY,
        0xFFFC => 1e-12,
        v => f64::from(v) / 43690.0 - 0.25,
    }
}

fn take<'a>(d: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    (d.len() >= n).then(|| {
        let (a, b) = d.split_at(n);
        *d = b;
        a
    })
}

fn clean(f: &Region) -> bool {
    let NormRect { x, y, w, h } = f.rect;
    let name_ok = f.name.as_deref().is_none_or(|n| {
        !n.is_empty() && n.trim() == n && n.chars().all(|c| c == ' ' || c.is_ascii_graphic())
    });
    [x, y, w, h].iter().all(|v| v.is_finite())
        && x >= 0.0
        && y >= 0.0
        && w >= 1e-6
        && h >= 1e-6
        && x + w <= 1.0
        && y + h <= 1.0
        && name_ok
}

fuzz_target!(|data: &[u8]| {
    let mut d = data;
    let Some(&[flags]) = take(&mut d, 1) else { return };
    let mut faces = Vec::new();
    for _ in 0..flags % 4 {
        let Some(r) = take(&mut d, 9) else { return };
        let c = |i: usize| coord([r[i], r[i + 1]]);
        let name = take(&mut d, usize::from(r[8] % 16))
            .filter(|_| r[8] >= 16)
            .map(|n| String::from_utf8_lossy(n).into_owned());
        faces.push(Region {
            name,
            rect: NormRect { x: c(0), y: c(2), w: c(4), h: c(6) },
        });
    }
    let Some(dims) = take(&mut d, 4) else { return };
    let applied = (
        u32::from(u16::from_le_bytes([dims[0], dims[1]])),
        u32::from(u16::from_le_bytes([dims[2], dims[3]])),
    );
    let existing = (flags & 0x80 == 0).then_some(d);

    let Ok(out) = xmp::write_sidecar(existing, &faces, applied) else {
        assert!(existing.is_some(), "a fresh sidecar must always be written");
        return;
    };
    let back = xmp::parse(&out).expect("the written sidecar parses");
    match &back {
        None => assert!(faces.iter().all(|f| !clean(f)), "clean faces were lost"),
        Some(b) => {
            assert_eq!(b.source, "mwg");
            assert!(b.faces.len() <= faces.len());
            let want = (applied.0 > 0 && applied.1 > 0).then_some(applied);
            assert_eq!(b.applied_to, want);
            if faces.iter().all(clean) {
                assert_eq!(b.faces.len(), faces.len());
                for (a, f) in b.faces.iter().zip(&faces) {
                    assert_eq!(a.name, f.name);
                    let (p, q) = (a.rect, f.rect);
                    let close = (p.x - q.x).abs() < 1e-6
                        && (p.y - q.y).abs() < 1e-6
                        && (p.w - q.w).abs() < 1e-6
                        && (p.h - q.h).abs() < 1e-6;
                    assert!(close, "{p:?} != {q:?}");
                }
            }
        }
    }
    // Writing the same faces again is a fixed point: no piling up, nothing else moves.
    let again = xmp::write_sidecar(Some(&out), &faces, applied).expect("rewriting our own output");
    assert!(again == out, "a second write changed the sidecar");
    // And removing them leaves no region behind.
    let none = xmp::write_sidecar(Some(&out), &[], applied).expect("removing the regions");
    assert_eq!(xmp::parse(&none).expect("parses after removal"), None);
});
