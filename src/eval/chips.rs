//! `likeness bench chips LIST OUT.npy`: the aligned chips the embedder sees, for the photos of a
//! list (one path a line), as a float32 `.npy` `[N, 3, S, S]` (RGB, 0..255, CHW). The face is
//! the one nearest the photo's centre (LFW's convention); a photo without a face gives a zero
//! chip and is listed in the report. `tools/mobilefacenet_int8.py` calibrates and scores graph
//! variants on these, so every variant sees exactly the pipeline's alignment.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::pipeline::photo;
use crate::progress::{CancelToken, Progress};
use crate::vision::Models;

/// What `bench chips` wrote.
#[derive(Debug, Serialize)]
pub struct ChipsReport {
    pub out: PathBuf,
    pub photos: usize,
    pub chip_size: usize,
    pub model: String,
    /// Line numbers (from 0) of photos without a face or that failed: their chips are zero.
    pub no_face: Vec<usize>,
}

/// Write the chips of the photos listed in `list` to `out`.
pub fn write(
    models: &Models,
    list: &Path,
    out: &Path,
    threads: usize,
    cancel: &CancelToken,
    progress: &Progress,
) -> Result<ChipsReport> {
    let text = std::fs::read_to_string(list).map_err(|e| Error::io(list, e))?;
    let base = list.parent().unwrap_or(Path::new("."));
    let paths: Vec<PathBuf> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| base.join(l))
        .collect();
    let size = models.embedder_spec().align.size;
    let chips = photo::map_photos(models, &paths, threads, cancel, progress, |engine, path| {
        let (d, dets) = photo::detect(engine, path)?;
        let (cx, cy) = (d.image.width() as f32 / 2.0, d.image.height() as f32 / 2.0);
        let centre = dets.iter().min_by(|a, b| {
            let dist = |f: &crate::vision::Detection| {
                let (x, y) = f.centre();
                (x - cx).powi(2) + (y - cy).powi(2)
            };
            dist(a).total_cmp(&dist(b))
        });
        Ok(centre.map(|det| engine.chips(&d.image, [det.landmarks]).remove(0)))
    })?;
    let mut no_face = Vec::new();
    let mut data: Vec<u8> = Vec::with_capacity(paths.len() * 3 * size * size * 4);
    for (i, c) in chips.into_iter().enumerate() {
        let chip = match c {
            Ok(Some(c)) => c,
            Ok(None) => {
                no_face.push(i);
                vec![0.0; 3 * size * size]
            }
            Err(e) => {
                tracing::warn!("{e}");
                no_face.push(i);
                vec![0.0; 3 * size * size]
            }
        };
        data.extend(chip.iter().flat_map(|v| v.to_le_bytes()));
    }
    write_npy_f32(out, &[paths.len(), 3, size, size], &data)?;
    Ok(ChipsReport {
        out: out.to_path_buf(),
        photos: paths.len(),
        chip_size: size,
        model: models.embedder_spec().id().to_string(),
        no_face,
    })
}

/// A little-endian float32 C-order `.npy` (format 1.0) from raw bytes.
fn write_npy_f32(path: &Path, shape: &[usize], data: &[u8]) -> Result<()> {
    let dims = shape
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims},), }}");
    // Magic (6) + version (2) + length (2) + header + newline, padded to 64 bytes.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut f =
        std::io::BufWriter::new(std::fs::File::create(path).map_err(|e| Error::io(path, e))?);
    let mut head = b"\x93NUMPY\x01\x00".to_vec();
    head.extend((header.len() as u16).to_le_bytes());
    head.extend(header.as_bytes());
    f.write_all(&head)
        .and_then(|_| f.write_all(data))
        .and_then(|_| f.flush())
        .map_err(|e| Error::io(path, e))
}
