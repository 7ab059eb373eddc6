//! The EXIF orientation/date reader: `read_exif` on any container (JPEG, TIFF, PNG, WebP, HEIF)
//! and `read_raw_exif` on a raw EXIF block (what HEIF/AVIF and RAW files hand over).
#![no_main]
use libfuzzer_sys::fuzz_target;
use likeness::library::decode::{read_exif, read_raw_exif, ExifInfo};

fn check(i: &ExifInfo) {
    assert!((1..=8).contains(&i.orientation), "orientation {}", i.orientation);
    if let Some(t) = &i.taken_at {
        let b = t.as_bytes();
        let shape = b.len() == 19
            && b.iter().enumerate().all(|(k, &c)| match k {
                4 | 7 => c == b'-',
                10 => c == b' ',
                13 | 16 => c == b':',
                _ => c.is_ascii_digit(),
            });
        assert!(shape, "date {t:?}");
        let month: u32 = t[5..7].parse().unwrap();
        assert!((1..=12).contains(&month), "date {t:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    check(&read_exif(data));
    check(&read_raw_exif(data));
});
