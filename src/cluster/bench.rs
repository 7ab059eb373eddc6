//! `likeness bench cluster EMBEDDINGS.npy`: the clustering of `likeness cluster` on a float32
//! `[N, D]` NumPy file (each row its own photo, none weak), timed, with peak memory.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::{cluster, ClusterSettings, Input, Points};
use crate::error::{Error, Result};
use crate::progress::{CancelToken, Progress};

/// The benchmark result (field names are a command-line contract).
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub n: usize,
    pub dim: usize,
    /// Clustering time (the file read excluded).
    pub seconds: f64,
    /// Groups (people-to-be).
    pub clusters: usize,
    /// Points in no group.
    pub noise: usize,
    /// Peak resident memory of the process, MB (Linux `VmHWM`; 0 where unknown).
    pub peak_rss_mb: f64,
    pub dbscan_clusters: usize,
    pub dbscan_noise: usize,
    pub eps: f32,
    pub min_points: usize,
}

/// Read a little-endian float32, C-order, 2-D `.npy` file.
pub fn read_npy(path: &Path) -> Result<Points> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |m: &str| Error::Invalid(format!("{}: {m}", path.display()));
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("not a .npy file"));
    }
    let (hlen, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err(bad("unknown .npy version")),
    };
    let header = std::str::from_utf8(bytes.get(start..start + hlen).ok_or_else(|| bad("short"))?)
        .map_err(|_| bad("header is not text"))?;
    if !header.contains("'descr': '<f4'") || header.contains("'fortran_order': True") {
        return Err(bad("expected a little-endian float32 C-order array"));
    }
    let shape = header
        .split("'shape':")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .map(|s| s.trim().trim_start_matches('('))
        .ok_or_else(|| bad("no shape"))?;
    let dims: Vec<usize> = shape
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.parse().map_err(|_| bad("bad shape")))
        .collect::<Result<_>>()?;
    let [n, d] = dims[..] else {
        return Err(bad("expected a 2-D array"));
    };
    let data = &bytes[start + hlen..];
    if data.len() != n * d * 4 {
        return Err(bad("data size does not match the shape"));
    }
    let v = data
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Points::new(d, v)
}

/// Peak resident memory of this process in MB (0 where the platform does not say).
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Cluster `points` as `likeness cluster` would (each point its own photo) and time it.
pub fn bench(points: &Points, s: &ClusterSettings, cancel: &CancelToken) -> Result<BenchReport> {
    let n = points.len();
    let photo: Vec<i64> = (0..n as i64).collect();
    let weak = vec![false; n];
    let t = Instant::now();
    let c = cluster(
        Input {
            points,
            photo: &photo,
            weak: &weak,
            must: &[],
            cannot: &[],
            owner: &[],
            forbidden: &[],
        },
        s,
        cancel,
        &Progress::default(),
    )?;
    Ok(BenchReport {
        n,
        dim: points.dim(),
        seconds: t.elapsed().as_secs_f64(),
        clusters: c.groups,
        noise: c.labels.iter().filter(|l| l.is_none()).count(),
        peak_rss_mb: peak_rss_mb(),
        dbscan_clusters: c.dbscan_clusters,
        dbscan_noise: c.dbscan_noise,
        eps: s.eps,
        min_points: s.min_points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.npy");
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        let mut h = header.to_string();
        while !(10 + h.len() + 1).is_multiple_of(64) {
            h.push(' ');
        }
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend((h.len() as u16).to_le_bytes());
        b.extend(h.as_bytes());
        for x in [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0] {
            b.extend(x.to_le_bytes());
        }
        std::fs::write(&p, &b).unwrap();
        let pts = read_npy(&p).unwrap();
        assert_eq!((pts.len(), pts.dim()), (2, 3));
        assert_eq!(pts.row(1), &[4.0, 5.0, 6.0]);
    }
}
