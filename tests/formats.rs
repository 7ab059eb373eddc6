//! Photos phones write: HEIC through libheif (fetched, hash-pinned, at build time), with the
//! container's and EXIF's orientation applied exactly once; AVIF reported with a reason.

mod common;

use std::path::{Path, PathBuf};

use likeness::library::decode;
use likeness::pipeline::photo;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats")
        .join(name)
}

fn boxes(path: &Path) -> (u32, u32, Vec<[f32; 4]>) {
    let models = likeness::vision::Models::load_default().unwrap();
    let mut engine = models.engine().unwrap();
    let f = photo::analyze(&mut engine, path, false).unwrap();
    (
        f.width,
        f.height,
        f.faces.iter().map(|x| x.detection.bbox).collect(),
    )
}

#[test]
fn heic_finds_the_faces_of_the_same_jpeg_upright() {
    let (jw, jh, jpeg) = boxes(&fixture("astronaut.jpg"));
    assert_eq!(jpeg.len(), 1, "{jpeg:?}");
    // The same picture as HEIC, and stored sideways with EXIF orientation 6.
    for name in ["astronaut.heic", "astronaut_exif6.heic"] {
        let (w, h, heic) = boxes(&fixture(name));
        assert_eq!((w, h), (jw, jh), "{name}");
        assert_eq!(heic.len(), 1, "{name}: {heic:?}");
        for (a, b) in heic[0].iter().zip(jpeg[0].iter()) {
            assert!(
                (a - b).abs() <= 2.0,
                "{name}: {:?} vs {:?}",
                heic[0],
                jpeg[0]
            );
        }
    }
}

#[test]
fn a_real_iphone_heic_decodes_upright_with_its_date() {
    let Some(data) = common::shared_data("a_real_iphone_heic_decodes_upright_with_its_date") else {
        return;
    };
    let bytes = std::fs::read(data.join("dev/formats/heic/iphone_7.heic")).unwrap();
    let d = decode::decode(&bytes, 1024).unwrap();
    // Stored 4032×3024 with EXIF orientation 6 and no irot: portrait once turned.
    assert_eq!((d.width, d.height), (3024, 4032));
    assert_eq!(d.image.height(), 1024);
    assert!(d.taken_at.is_some(), "no date taken");
}

#[test]
fn avif_is_reported_with_a_reason_not_misread() {
    let Some(data) = common::shared_data("avif_is_reported_with_a_reason_not_misread") else {
        return;
    };
    let bytes = std::fs::read(data.join("dev/formats/avif/rot0mir0.avif")).unwrap();
    let e = decode::decode(&bytes, 1024).unwrap_err();
    assert!(e.contains("AVIF"), "{e}");
}
