//! `likeness bench cluster EMBEDDINGS.npy`: the clustering of `likeness cluster` on a float32
//! `[N, D]` NumPy file (each row its own photo, none weak), timed, with peak memory.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use std::collections::HashMap;

use super::{assign, cluster, ClusterSettings, Input, Points};
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

/// A `.npy` file's element type (`descr`), shape and data bytes (C order only).
fn read_npy_raw(path: &Path) -> Result<(String, Vec<usize>, Vec<u8>)> {
    let mut bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
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
    if header.contains("'fortran_order': True") {
        return Err(bad("expected a C-order array"));
    }
    let descr = header
        .split("'descr':")
        .nth(1)
        .and_then(|s| s.split('\'').nth(1))
        .ok_or_else(|| bad("no descr"))?
        .to_string();
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
    bytes.drain(..start + hlen);
    Ok((descr, dims, bytes))
}

/// Read a little-endian float32, C-order, 2-D `.npy` file.
pub fn read_npy(path: &Path) -> Result<Points> {
    let (descr, dims, data) = read_npy_raw(path)?;
    let bad = |m: &str| Error::Invalid(format!("{}: {m}", path.display()));
    if descr != "<f4" {
        return Err(bad("expected a little-endian float32 C-order array"));
    }
    let [n, d] = dims[..] else {
        return Err(bad("expected a 2-D array"));
    };
    if data.len() != n * d * 4 {
        return Err(bad("data size does not match the shape"));
    }
    let v = data
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Points::new(d, v)
}

/// Read a little-endian int64, 1-D `.npy` file (labels).
pub fn read_npy_labels(path: &Path) -> Result<Vec<i64>> {
    let (descr, dims, data) = read_npy_raw(path)?;
    if descr != "<i8" || dims.len() != 1 || data.len() != dims[0] * 8 {
        return Err(Error::Invalid(format!(
            "{}: expected a 1-D little-endian int64 array",
            path.display()
        )));
    }
    Ok(data
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect())
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

/// Settings for vectors of unknown origin: those of the catalogue model of their dimension.
pub fn settings_for(points: &Points) -> ClusterSettings {
    use crate::vision::models;
    let spec = models::EMBEDDERS
        .iter()
        .find(|e| e.dims == points.dim())
        .unwrap_or(models::DEFAULT_EMBEDDER);
    ClusterSettings::for_model(spec)
}

/// [`cluster`] with each point its own photo, none weak, no user decisions: the benchmarks'
/// vectors stand for faces of a library nobody has touched yet.
fn cluster_each_own_photo(
    points: &Points,
    s: &ClusterSettings,
    cancel: &CancelToken,
) -> Result<super::Clustering> {
    let n = points.len();
    let photo: Vec<i64> = (0..n as i64).collect();
    cluster(
        Input {
            points,
            photo: &photo,
            weak: &vec![false; n],
            must: &[],
            cannot: &[],
            owner: &[],
            forbidden: &[],
        },
        s,
        cancel,
        &Progress::default(),
    )
}

/// Cluster `points` as `likeness cluster` would (each point its own photo) and time it.
pub fn bench(points: &Points, s: &ClusterSettings, cancel: &CancelToken) -> Result<BenchReport> {
    let n = points.len();
    let t = Instant::now();
    let c = cluster_each_own_photo(points, s, cancel)?;
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

/// `likeness bench assign` (field names are a command-line contract).
#[derive(Debug, Clone, Serialize)]
pub struct AssignReport {
    /// Faces the library already had, and its people (labels with 2+ faces).
    pub faces: usize,
    pub people: usize,
    /// Faces added.
    pub new: usize,
    /// All of it: person means, matching, local clustering (the vectors already in memory).
    pub seconds: f64,
    pub seconds_means: f64,
    pub seconds_match: f64,
    pub seconds_cluster: f64,
    /// New faces that joined an existing person, and of those, the person of their label.
    pub matched: usize,
    pub matched_correct: usize,
    /// Faces given to the local clustering, and the groups it made that hold a new face.
    pub reclustered: usize,
    pub new_groups: usize,
    /// New faces still in nobody.
    pub unassigned: usize,
    pub peak_rss_mb: f64,
}

/// A library whose people are the labels of all but the last `new` rows (labels with fewer
/// than the settings' `min_person_faces` faces are unplaced faces) receives the last `new`
/// rows, as an incremental `cluster` would place them (each face its own photo).
pub fn bench_assign(
    points: &Points,
    labels: &[i64],
    new: usize,
    s: &ClusterSettings,
    cancel: &CancelToken,
) -> Result<AssignReport> {
    let n = points.len();
    if labels.len() != n || new > n {
        return Err(Error::Invalid(format!(
            "{n} vectors, {} labels, {new} new: the labels must be one per vector",
            labels.len()
        )));
    }
    let known = n - new;
    let mut members: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, &l) in labels[..known].iter().enumerate() {
        members.entry(l).or_default().push(i);
    }
    members.retain(|_, m| m.len() >= s.min_person_faces.max(2));
    let mut person: Vec<Option<i64>> = vec![None; n];
    for (p, m) in &members {
        for &i in m {
            person[i] = Some(*p);
        }
    }
    let t0 = Instant::now();
    let people = assign::People::new(points, &members)?;
    let seconds_means = t0.elapsed().as_secs_f64();
    let rows: Vec<usize> = (known..n).collect();
    let t = s.match_distance.min(s.linkage_threshold.max(0.0));
    let offers = people.offers(&points.subset(&rows), t, cancel)?;
    let (mut matched, mut matched_correct) = (0, 0);
    for (_, q, p) in offers {
        person[rows[q]] = Some(p);
        matched += 1;
        matched_correct += usize::from(labels[rows[q]] == p);
    }
    let seconds_match = t0.elapsed().as_secs_f64() - seconds_means;
    let left: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&i| person[i].is_none())
        .collect();
    let free: Vec<usize> = (0..n).filter(|&i| person[i].is_none()).collect();
    let radius = s.eps.max(s.linkage_threshold);
    let local = assign::neighbourhood(points, &left, &free, radius, 1, cancel)?;
    let c = cluster_each_own_photo(&points.subset(&local), s, cancel)?;
    let mut groups = std::collections::HashSet::new();
    let mut unassigned = 0;
    for (k, &i) in local.iter().enumerate() {
        if i >= known {
            match c.labels[k] {
                Some(g) => {
                    groups.insert(g);
                }
                None => unassigned += 1,
            }
        }
    }
    let seconds = t0.elapsed().as_secs_f64();
    Ok(AssignReport {
        faces: known,
        people: members.len(),
        new,
        seconds,
        seconds_means,
        seconds_match,
        seconds_cluster: seconds - seconds_means - seconds_match,
        matched,
        matched_correct,
        reclustered: local.len(),
        new_groups: groups.len(),
        unassigned,
        peak_rss_mb: peak_rss_mb(),
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
