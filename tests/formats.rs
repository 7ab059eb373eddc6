//! Photos phones write: HEIC through libheif and AVIF through libavif (fetched, hash-pinned, at
//! build time), with the container's or EXIF's orientation applied exactly once.

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
fn every_avif_rotation_and_mirror_comes_out_upright_and_identical() {
    let Some(data) =
        common::shared_data("every_avif_rotation_and_mirror_comes_out_upright_and_identical")
    else {
        return;
    };
    let dir = data.join("dev/formats/avif");
    let read = |name: &str| decode::decode(&std::fs::read(dir.join(name)).unwrap(), 4096).unwrap();
    let base = read("rot0mir0.avif");
    assert_eq!((base.width, base.height), (640, 427));
    // Upright in absolute terms too: the picture's sky is at the top, its dark path at the
    // bottom left (this file itself carries a mirror; Pillow's exif_transpose agrees).
    let mean = |x0: u32, y0: u32| -> u32 {
        let (w, h) = (base.image.width() / 2, base.image.height() / 2);
        let mut s = 0u64;
        for y in y0..y0 + h {
            for x in x0..x0 + w {
                s += base
                    .image
                    .get_pixel(x, y)
                    .0
                    .iter()
                    .map(|&v| v as u64)
                    .sum::<u64>();
            }
        }
        (s / (w * h) as u64) as u32
    };
    let (top_left, bottom_left) = (mean(0, 0), mean(0, base.image.height() / 2));
    assert!(top_left > bottom_left + 100, "{top_left} vs {bottom_left}");
    for r in 0..4 {
        for m in 0..2 {
            let name = format!("rot{r}mir{m}.avif");
            let d = read(&name);
            assert_eq!(d.image.dimensions(), base.image.dimensions(), "{name}");
            // Lossy re-encodes of one picture: closer to the upright base than to any turned
            // or mirrored version of it (which have the same size only when flipped).
            let diff = |a: &image::RgbImage, b: &image::RgbImage| -> f64 {
                a.as_raw()
                    .iter()
                    .zip(b.as_raw())
                    .map(|(x, y)| (*x as f64 - *y as f64).abs())
                    .sum::<f64>()
                    / a.as_raw().len() as f64
            };
            let upright = diff(&d.image, &base.image);
            for (what, other) in [
                ("mirrored", image::imageops::flip_horizontal(&base.image)),
                ("upside down", image::imageops::flip_vertical(&base.image)),
                ("turned 180°", image::imageops::rotate180(&base.image)),
            ] {
                let wrong = diff(&d.image, &other);
                assert!(
                    upright * 2.0 < wrong,
                    "{name}: {upright:.1} from upright, {wrong:.1} from {what}"
                );
            }
        }
    }
    // A file missing its pixi box, one with EXIF, one whose XMP claims a rotation (ignored).
    for name in [
        "hopper-missing-pixi.avif",
        "exif.avif",
        "xmp_tags_orientation.avif",
    ] {
        assert!(read(name).image.width() > 0, "{name}");
    }
}

#[test]
fn a_dng_is_read_through_its_embedded_preview() {
    let Some(data) = common::shared_data("a_dng_is_read_through_its_embedded_preview") else {
        return;
    };
    let path = data.join("dev/formats/raw/canon_eos_6d.dng");
    let bytes = std::fs::read(&path).unwrap();
    let d = decode::decode_file(&path, &bytes, 4096).unwrap();
    // Its largest preview (a reduced DNG: 1024×683), not the 256-px thumbnail of IFD0.
    assert_eq!((d.width, d.height), (1024, 683));
    // By content alone (no RAW extension) the same bytes are a TIFF thumbnail or an error,
    // never the preview: the extension decides.
    let as_tiff = decode::decode(&bytes, 4096).map(|d| (d.width, d.height));
    assert_ne!(as_tiff, Ok((1024, 683)));
}

#[test]
fn a_raw_beside_its_jpeg_is_indexed_once_and_every_format_scans() {
    use likeness::progress::{CancelToken, Progress};
    let Some(data) =
        common::shared_data("a_raw_beside_its_jpeg_is_indexed_once_and_every_format_scans")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("photos");
    std::fs::create_dir(&lib).unwrap();
    let copy = |from: &Path, to: &str| std::fs::copy(from, lib.join(to)).unwrap();
    copy(&fixture("astronaut.jpg"), "IMG_1234.JPG");
    copy(
        &data.join("dev/formats/raw/canon_eos_6d.dng"),
        "IMG_1234.DNG",
    );
    copy(&fixture("astronaut_exif6.heic"), "phone.heic");
    copy(&data.join("dev/formats/avif/hopper.avif"), "web.avif");
    copy(&data.join("dev/formats/raw/canon_eos_6d.dng"), "alone.dng");
    let before = common::fingerprint_tree(&lib);
    let mut store = likeness::store::Store::open(&dir.path().join("l.db")).unwrap();
    let models = likeness::vision::Models::load_default().unwrap();
    let opts = likeness::pipeline::ScanOptions::new(vec![lib.clone()]);
    let scan = |store: &mut likeness::store::Store| {
        likeness::pipeline::index(store, &models, &opts, &CancelToken::new(), &Progress::new())
            .unwrap()
    };
    let o = scan(&mut store);
    assert_eq!(o.photos_seen, 5);
    assert_eq!(
        (o.photos_indexed, o.photos_linked, o.photos_failed),
        (4, 1, 0),
        "{o:?}"
    );
    // Faces: the astronaut in the JPEG and the HEIC, Grace Hopper in the AVIF; none twice.
    assert_eq!(o.faces_found, 3, "{o:?}");
    let raw = store
        .photo_by_path(
            &lib.join("IMG_1234.DNG")
                .canonicalize()
                .unwrap()
                .to_string_lossy(),
        )
        .unwrap()
        .unwrap();
    assert!(raw.linked_to.unwrap().ends_with("IMG_1234.JPG"));
    // Nothing changed on disk, and a re-scan has nothing to do.
    assert_eq!(common::fingerprint_tree(&lib), before);
    let again = scan(&mut store);
    assert_eq!(again.photos_unchanged, 5, "{again:?}");
    assert_eq!(again.photos_indexed + again.photos_linked, 0);
}
