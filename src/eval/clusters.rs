//! `likeness eval clusters LABELS.tsv`: scan labelled images into a temporary database, cluster
//! them with the default settings, and score the people against the labels (pairwise and BCubed
//! precision, recall and F1). The labelled face of an image is the one nearest its centre; other
//! faces take part in clustering but are not scored. Unassigned faces, and images where no face
//! was found, count as singletons.

use std::collections::HashMap;
use std::hash::Hash;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::people::{self, ClusterSettings, Mode};
use crate::pipeline::{self, ScanOptions};
use crate::progress::{CancelToken, Progress};
use crate::store::Store;
use crate::vision::Models;

/// Precision, recall and F1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

fn prf(p: f64, r: f64) -> Prf {
    Prf {
        precision: p,
        recall: r,
        f1: if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        },
    }
}

fn pairs(n: usize) -> f64 {
    (n * n.saturating_sub(1) / 2) as f64
}

fn counts<K: Hash + Eq + Clone>(xs: impl Iterator<Item = K>) -> HashMap<K, usize> {
    let mut m = HashMap::new();
    for x in xs {
        *m.entry(x).or_insert(0) += 1;
    }
    m
}

/// Pairwise scores: of the item pairs put together, the share that truly belong together
/// (precision), and of the true pairs, the share put together (recall). `pred[i]` and
/// `truth[i]` are the cluster and label of item `i`; give singletons unique cluster ids.
pub fn pairwise<C: Hash + Eq + Clone, L: Hash + Eq + Clone>(pred: &[C], truth: &[L]) -> Prf {
    let joint = counts(pred.iter().cloned().zip(truth.iter().cloned()));
    let tp: f64 = joint.values().map(|&n| pairs(n)).sum();
    let pp: f64 = counts(pred.iter().cloned())
        .values()
        .map(|&n| pairs(n))
        .sum();
    let ap: f64 = counts(truth.iter().cloned())
        .values()
        .map(|&n| pairs(n))
        .sum();
    prf(
        if pp > 0.0 { tp / pp } else { 1.0 },
        if ap > 0.0 { tp / ap } else { 1.0 },
    )
}

/// BCubed scores: per item, the share of its cluster with its label (precision) and the share
/// of its label in its cluster (recall), averaged over items.
pub fn bcubed<C: Hash + Eq + Clone, L: Hash + Eq + Clone>(pred: &[C], truth: &[L]) -> Prf {
    let n = pred.len().max(1) as f64;
    let joint = counts(pred.iter().cloned().zip(truth.iter().cloned()));
    let pc = counts(pred.iter().cloned());
    let lc = counts(truth.iter().cloned());
    let (mut p, mut r) = (0.0, 0.0);
    for (c, l) in pred.iter().zip(truth) {
        let j = joint[&(c.clone(), l.clone())] as f64;
        p += j / pc[c] as f64;
        r += j / lc[l] as f64;
    }
    prf(p / n, r / n)
}

/// The report (field names are a command-line contract).
#[derive(Debug, Clone, Serialize)]
pub struct ClusterReport {
    pub pairwise_precision: f64,
    pub pairwise_recall: f64,
    pub pairwise_f1: f64,
    pub bcubed_precision: f64,
    pub bcubed_recall: f64,
    pub bcubed_f1: f64,
    /// People found (groups of faces).
    pub people: usize,
    /// Faces (of all faces, labelled or not) in no person.
    pub unassigned: usize,
    pub images: usize,
    /// Images where no face was found (scored as singletons).
    pub no_face: usize,
    /// Labelled faces in no person.
    pub labelled_unassigned: usize,
    pub identities: usize,
    pub faces: usize,
    pub cluster_seconds: f64,
    pub settings: ClusterSettings,
    /// The embedder evaluated.
    pub model: String,
    /// With several `--eps`/`--cut` values: one report per combination (same scan), in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grid: Vec<ClusterReport>,
}

/// Read a `path<TAB>identity` TSV with a header; paths relative to its folder.
pub fn read_labels(tsv: &Path) -> Result<Vec<(PathBuf, String)>> {
    let text = std::fs::read_to_string(tsv).map_err(|e| Error::io(tsv, e))?;
    let base = tsv.parent().unwrap_or(Path::new("."));
    let mut lines = text.lines();
    match lines.next().map(|h| h.split('\t').collect::<Vec<_>>()) {
        Some(h) if h.len() >= 2 && h[0] == "path" && h[1] == "identity" => {}
        _ => {
            return Err(Error::Invalid(format!(
                "{}: the first line must be `path<TAB>identity`",
                tsv.display()
            )))
        }
    }
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| match l.split('\t').collect::<Vec<_>>().as_slice() {
            [p, id, ..] => Ok((base.join(p), id.to_string())),
            _ => Err(Error::Invalid(format!("{}: bad line `{l}`", tsv.display()))),
        })
        .collect()
}

/// Run the evaluation (see the module doc) with each of `grid`'s clustering settings (at least
/// one) on one scan; the first is the report, all of them are in `grid` when there are several.
pub fn evaluate(
    tsv: &Path,
    models: &Models,
    threads: usize,
    grid: &[ClusterSettings],
    cancel: &CancelToken,
    progress: &Progress,
) -> Result<ClusterReport> {
    let labels = read_labels(tsv)?;
    let dir = std::env::temp_dir().join(format!(
        "likeness-eval-clusters-{}-{}",
        std::process::id(),
        crate::store::now()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let result = run(
        &dir.join("eval.db"),
        &labels,
        models,
        threads,
        grid,
        cancel,
        progress,
    );
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run(
    db: &Path,
    labels: &[(PathBuf, String)],
    models: &Models,
    threads: usize,
    grid: &[ClusterSettings],
    cancel: &CancelToken,
    progress: &Progress,
) -> Result<ClusterReport> {
    let mut store = Store::open(db)?;
    let mut opts = ScanOptions::new(Vec::new());
    opts.files = labels.iter().map(|l| l.0.clone()).collect();
    opts.inference_threads = threads.max(1);
    let scan = pipeline::index(&mut store, models, &opts, cancel, progress)?;
    if scan.cancelled {
        return Err(Error::Cancelled);
    }
    let mut reports = Vec::with_capacity(grid.len());
    for settings in grid {
        reports.push(score(
            &mut store, labels, models, *settings, cancel, progress,
        )?);
    }
    let mut first = reports
        .first()
        .cloned()
        .ok_or_else(|| Error::Invalid("no clustering settings to evaluate".into()))?;
    if reports.len() > 1 {
        first.grid = reports;
    }
    Ok(first)
}

/// Cluster the scanned library from scratch with `settings` and score it.
fn score(
    store: &mut Store,
    labels: &[(PathBuf, String)],
    models: &Models,
    settings: ClusterSettings,
    cancel: &CancelToken,
    progress: &Progress,
) -> Result<ClusterReport> {
    let model = models.embedder_spec().id();
    // Start from nobody, so each setting is scored on its own.
    store.write(|w| {
        let ids: Vec<i64> = w.people()?.iter().map(|p| p.id).collect();
        ids.iter().try_for_each(|&id| w.delete_person(id))
    })?;
    let outcome = people::recluster(store, model, &settings, Mode::Full, cancel, progress)?;
    let mut pred: Vec<i64> = Vec::with_capacity(labels.len());
    let mut truth: Vec<&str> = Vec::with_capacity(labels.len());
    let (mut no_face, mut labelled_unassigned) = (0, 0);
    // Singletons get negative ids, unique per item.
    let mut singleton = -1i64;
    for (path, identity) in labels {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        let face = match store.photo_dims(&key.to_string_lossy())? {
            Some((photo, w, h)) => {
                let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
                store.faces_of_photo(photo)?.into_iter().min_by(|a, b| {
                    let d = |f: &crate::store::FaceRow| {
                        let (x, y) = ((f.bbox[0] + f.bbox[2]) / 2.0, (f.bbox[1] + f.bbox[3]) / 2.0);
                        (x - cx).powi(2) + (y - cy).powi(2)
                    };
                    d(a).total_cmp(&d(b))
                })
            }
            None => None,
        };
        let person = match &face {
            Some(f) => store.face_state(f.id)?.and_then(|s| s.person_id),
            None => {
                no_face += 1;
                None
            }
        };
        if face.is_some() && person.is_none() {
            labelled_unassigned += 1;
        }
        pred.push(person.unwrap_or_else(|| {
            singleton -= 1;
            singleton
        }));
        truth.push(identity);
    }
    let pw = pairwise(&pred, &truth);
    let bc = bcubed(&pred, &truth);
    Ok(ClusterReport {
        pairwise_precision: pw.precision,
        pairwise_recall: pw.recall,
        pairwise_f1: pw.f1,
        bcubed_precision: bc.precision,
        bcubed_recall: bc.recall,
        bcubed_f1: bc.f1,
        people: outcome.people,
        unassigned: outcome.unassigned,
        images: labels.len(),
        no_face,
        labelled_unassigned,
        identities: counts(truth.iter()).len(),
        faces: outcome.faces,
        cluster_seconds: outcome.seconds,
        settings,
        model: model.to_string(),
        grid: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_clustering_scores_one() {
        let p = pairwise(&[1, 1, 2, 2], &["a", "a", "b", "b"]);
        assert_eq!((p.precision, p.recall), (1.0, 1.0));
        let b = bcubed(&[1, 1, 2, 2], &["a", "a", "b", "b"]);
        assert_eq!((b.precision, b.recall, b.f1), (1.0, 1.0, 1.0));
    }

    #[test]
    fn merging_two_people_costs_precision() {
        // Everything in one cluster: 2 of 6 pairs right; BCubed precision 1/2 per item.
        let p = pairwise(&[1, 1, 1, 1], &["a", "a", "b", "b"]);
        assert!((p.precision - 2.0 / 6.0).abs() < 1e-12);
        assert_eq!(p.recall, 1.0);
        let b = bcubed(&[1, 1, 1, 1], &["a", "a", "b", "b"]);
        assert!((b.precision - 0.5).abs() < 1e-12);
        assert_eq!(b.recall, 1.0);
    }

    #[test]
    fn singletons_cost_recall_only() {
        let p = pairwise(&[-1, -2, 3, 3], &["a", "a", "b", "b"]);
        assert_eq!(p.precision, 1.0);
        assert!((p.recall - 0.5).abs() < 1e-12);
        let b = bcubed(&[-1, -2, 3, 3], &["a", "a", "b", "b"]);
        assert_eq!(b.precision, 1.0);
        assert!((b.recall - 0.75).abs() < 1e-12);
    }

    #[test]
    fn labels_file_needs_its_header() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.tsv");
        std::fs::write(&p, "path\tidentity\nx/a.jpg\tA\n").unwrap();
        let l = read_labels(&p).unwrap();
        assert_eq!(l, vec![(dir.path().join("x/a.jpg"), "A".to_string())]);
        std::fs::write(&p, "x/a.jpg\tA\n").unwrap();
        assert!(read_labels(&p).is_err());
    }
}
