//! RAW + JPEG of the same shot (`IMG_1234.CR2` beside `IMG_1234.JPG`): one is indexed, the other
//! linked to it, so the faces are not counted twice. The JPEG (or HEIC) is indexed by default:
//! the camera's own rendering at full size, cheaper to read than the RAW's preview. A file that
//! already has faces is never linked (its faces may carry the user's decisions), so a library
//! that indexed a RAW before its JPEG appeared keeps the RAW and links the JPEG.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `(linked file, the file indexed instead)` for every pair among `paths`. `is_raw` tells RAW
/// files; `has_faces` tells files whose stored record already has faces.
pub fn links(
    paths: &[&Path],
    is_raw: impl Fn(&Path) -> bool,
    has_faces: impl Fn(&Path) -> bool,
) -> Vec<(PathBuf, PathBuf)> {
    let mut shots: BTreeMap<(PathBuf, String), Vec<&Path>> = BTreeMap::new();
    for p in paths {
        let (Some(dir), Some(stem)) = (p.parent(), p.file_stem().and_then(|s| s.to_str())) else {
            continue;
        };
        shots
            .entry((dir.to_path_buf(), stem.to_lowercase()))
            .or_default()
            .push(p);
    }
    let mut out = Vec::new();
    for mut files in shots.into_values() {
        if files.len() < 2 || !files.iter().any(|p| is_raw(p)) || files.iter().all(|p| is_raw(p)) {
            continue;
        }
        files.sort();
        // Indexed: the first file with faces (a non-RAW first), else the first non-RAW.
        let (raws, others): (Vec<&Path>, Vec<&Path>) = files.iter().partition(|p| is_raw(p));
        let target = others
            .iter()
            .chain(raws.iter())
            .find(|p| has_faces(p))
            .or_else(|| others.first())
            .copied();
        let Some(target) = target else { continue };
        for p in &files {
            if *p != target && !has_faces(p) {
                out.push((p.to_path_buf(), target.to_path_buf()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(p: &Path) -> bool {
        matches!(
            p.extension()
                .and_then(|e| e.to_str())
                .map(str::to_lowercase)
                .as_deref(),
            Some("cr2" | "nef" | "dng")
        )
    }

    fn run(paths: &[&str], with_faces: &[&str]) -> Vec<(String, String)> {
        let v: Vec<&Path> = paths.iter().map(Path::new).collect();
        links(&v, raw, |p| with_faces.iter().any(|f| Path::new(f) == p))
            .into_iter()
            .map(|(a, b)| (a.display().to_string(), b.display().to_string()))
            .collect()
    }

    #[test]
    fn the_jpeg_is_indexed_and_the_raw_linked() {
        assert_eq!(
            run(
                &[
                    "/p/IMG_1.CR2",
                    "/p/IMG_1.JPG",
                    "/p/IMG_2.CR2",
                    "/p/IMG_3.jpg"
                ],
                &[]
            ),
            vec![("/p/IMG_1.CR2".into(), "/p/IMG_1.JPG".into())]
        );
        // Other folders, other stems, two JPEGs: nothing to link.
        assert!(run(
            &["/a/IMG_1.CR2", "/b/IMG_1.JPG", "/p/x.jpg", "/p/x.png"],
            &[]
        )
        .is_empty());
    }

    #[test]
    fn files_with_faces_are_never_linked() {
        // The RAW was indexed before its JPEG appeared: the RAW stays, the JPEG is linked.
        assert_eq!(
            run(&["/p/IMG_1.CR2", "/p/IMG_1.JPG"], &["/p/IMG_1.CR2"]),
            vec![("/p/IMG_1.JPG".into(), "/p/IMG_1.CR2".into())]
        );
        // Both indexed by an older version: both stay.
        assert!(run(
            &["/p/IMG_1.CR2", "/p/IMG_1.JPG"],
            &["/p/IMG_1.CR2", "/p/IMG_1.JPG"]
        )
        .is_empty());
    }
}
