//! Face regions of one photo meet its detected faces: each region is placed on the photo as
//! shown (EXIF orientation), matched to the detected face it covers, or else made a face of
//! its own from its box (the detector run inside it for landmarks, else the box alone; a region
//! without a name only when the detector finds a face inside it).
//!
//! Frames: the MWG specification puts regions on the *stored* pixels (orientation still to be
//! applied), and digiKam, Lightroom and Immich follow it; some writers put them on the photo as
//! shown. For a rotated or mirrored photo both readings are tried and the one whose regions
//! cover more of the detected faces wins; with no difference, a hint from
//! `AppliedToDimensions` (stored or shown aspect) decides, else the specification.

use crate::library::xmp::{self, NormRect, Regions};
use crate::settings;
use crate::vision::detect;

/// Regions placed on the photo as shown: `[x1, y1, x2, y2]` in oriented pixels, with names.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    pub boxes: Vec<([f32; 4], Option<String>)>,
    /// Whether the shown-photo reading was chosen over the specification's stored-pixel one.
    pub as_shown: bool,
}

fn to_box(r: NormRect, w: u32, h: u32) -> [f32; 4] {
    let (w, h) = (w as f64, h as f64);
    [
        (r.x * w) as f32,
        (r.y * h) as f32,
        ((r.x + r.w) * w) as f32,
        ((r.y + r.h) * h) as f32,
    ]
}

/// Place `regions` on a photo shown `width`×`height` after EXIF `orientation`, knowing the
/// boxes of its detected faces (same pixels).
pub fn place(
    regions: &Regions,
    orientation: u8,
    width: u32,
    height: u32,
    detected: &[[f32; 4]],
) -> Placed {
    let reading = |as_shown: bool| -> Vec<([f32; 4], Option<String>)> {
        regions
            .faces
            .iter()
            .map(|r| {
                let rect = if as_shown {
                    r.rect
                } else {
                    xmp::stored_to_display(r.rect, orientation)
                };
                (to_box(rect, width, height), r.name.clone())
            })
            .collect()
    };
    let spec = reading(false);
    if !(2..=8).contains(&orientation) {
        return Placed {
            boxes: spec,
            as_shown: false,
        };
    }
    let shown = reading(true);
    let covered = |boxes: &[([f32; 4], Option<String>)]| {
        boxes
            .iter()
            .filter(|(b, _)| {
                detected
                    .iter()
                    .any(|d| detect::iou(b, d) >= settings::BOX_MATCH_IOU)
            })
            .count()
    };
    let (by_spec, by_shown) = (covered(&spec), covered(&shown));
    let as_shown = if by_spec != by_shown {
        by_shown > by_spec
    } else {
        applied_to_is_shown(regions.applied_to, orientation, width, height)
    };
    Placed {
        boxes: if as_shown { shown } else { spec },
        as_shown,
    }
}

/// `AppliedToDimensions` says the writer meant the photo as shown when, for a photo turned a
/// quarter, it has the shown aspect and not the stored one.
fn applied_to_is_shown(applied: Option<(u32, u32)>, orientation: u8, w: u32, h: u32) -> bool {
    let Some((aw, ah)) = applied else {
        return false;
    };
    if orientation < 5 || w == h || aw == 0 || ah == 0 {
        return false;
    }
    let aspect = aw as f64 / ah as f64;
    let shown = w as f64 / h as f64;
    (aspect - shown).abs() < (aspect - 1.0 / shown).abs()
}

/// Pair regions with detected faces: each region with the detected face it overlaps most
/// (at least [`settings::BOX_MATCH_IOU`]), each face at most once, best overlaps first.
/// Returns, per region, the index of its detected face.
pub fn match_faces(regions: &[[f32; 4]], detected: &[[f32; 4]]) -> Vec<Option<usize>> {
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    for (i, r) in regions.iter().enumerate() {
        for (j, d) in detected.iter().enumerate() {
            let v = detect::iou(r, d);
            if v >= settings::BOX_MATCH_IOU {
                pairs.push((v, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut out = vec![None; regions.len()];
    let mut used = vec![false; detected.len()];
    for (_, i, j) in pairs {
        if out[i].is_none() && !used[j] {
            out[i] = Some(j);
            used[j] = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::xmp::Region;

    fn regions(rects: &[NormRect], applied_to: Option<(u32, u32)>) -> Regions {
        Regions {
            applied_to,
            faces: rects
                .iter()
                .map(|&rect| Region {
                    name: Some("A".into()),
                    rect,
                })
                .collect(),
            source: "mwg",
        }
    }

    #[test]
    fn regions_of_an_upright_photo_are_placed_as_written() {
        let r = regions(
            &[NormRect {
                x: 0.1,
                y: 0.2,
                w: 0.3,
                h: 0.4,
            }],
            None,
        );
        let p = place(&r, 1, 1000, 500, &[]);
        assert!(!p.as_shown);
        assert_eq!(p.boxes[0].0, [100.0, 100.0, 400.0, 300.0]);
    }

    #[test]
    fn the_reading_that_covers_the_detected_faces_wins_for_a_turned_photo() {
        // Shown 600x800 (stored 800x600, orientation 6); the face is shown at top-left.
        let face = [60.0, 80.0, 180.0, 240.0];
        let shown_rect = NormRect {
            x: 0.1,
            y: 0.1,
            w: 0.2,
            h: 0.2,
        };
        // A writer following the specification stores it on the stored pixels…
        let spec = regions(&[xmp::display_to_stored(shown_rect, 6)], Some((800, 600)));
        let p = place(&spec, 6, 600, 800, &[face]);
        assert!(!p.as_shown);
        assert!(detect::iou(&p.boxes[0].0, &face) > 0.9);
        // …one that does not, on the photo as shown: both land on the face.
        let naive = regions(&[shown_rect], Some((600, 800)));
        let p = place(&naive, 6, 600, 800, &[face]);
        assert!(p.as_shown);
        assert!(detect::iou(&p.boxes[0].0, &face) > 0.9);
        // With no detected face to tell, the dimensions hint decides, else the specification.
        assert!(place(&naive, 6, 600, 800, &[]).as_shown);
        assert!(!place(&regions(&[shown_rect], None), 6, 600, 800, &[]).as_shown);
    }

    #[test]
    fn each_region_takes_the_face_it_overlaps_most_and_no_face_twice() {
        let detected = [[0.0, 0.0, 100.0, 100.0], [200.0, 0.0, 300.0, 100.0]];
        let regions = [
            [210.0, 5.0, 305.0, 110.0],
            [-10.0, -10.0, 95.0, 105.0],
            [0.0, 0.0, 60.0, 60.0],
            [500.0, 500.0, 600.0, 600.0],
        ];
        assert_eq!(
            match_faces(&regions, &detected),
            vec![Some(1), Some(0), None, None]
        );
    }
}
