//! The standard LFW 10-fold verification protocol on all 6,000 pairs of `pairs.txt`: the
//! threshold is chosen on 9 folds and tested on the 10th; the face nearest the image centre is
//! used; a pair with an image where no face was found counts as a wrong answer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::pipeline::photo;
use crate::progress::{CancelToken, Progress};
use crate::vision::{embed, Models};

/// One protocol pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub fold: usize,
    pub same: bool,
    pub a: PathBuf,
    pub b: PathBuf,
}

/// Parse `pairs.txt` (first line `folds n`; then `name i j` same pairs and `n1 i n2 j`
/// different pairs, `n` of each per fold) into pairs with image paths under `images`.
pub fn parse_pairs(text: &str, images: &Path) -> Result<Vec<Pair>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let head: Vec<usize> = lines
        .next()
        .ok_or_else(|| Error::Invalid("pairs.txt is empty".into()))?
        .split_whitespace()
        .map(|t| {
            t.parse()
                .map_err(|_| Error::Invalid(format!("bad pairs.txt header `{t}`")))
        })
        .collect::<Result<_>>()?;
    let (folds, per) = match head.as_slice() {
        [f, n] => (*f, *n),
        _ => return Err(Error::Invalid("pairs.txt header must be `folds n`".into())),
    };
    let img = |name: &str, n: &str| -> Result<PathBuf> {
        let n: u32 = n
            .parse()
            .map_err(|_| Error::Invalid(format!("bad image number `{n}` in pairs.txt")))?;
        Ok(images.join(name).join(format!("{name}_{n:04}.jpg")))
    };
    let mut out = Vec::with_capacity(folds * per * 2);
    for (i, line) in lines.enumerate() {
        let t: Vec<&str> = line.split_whitespace().collect();
        let fold = i / (2 * per);
        let pair = match t.as_slice() {
            [name, a, b] => Pair {
                fold,
                same: true,
                a: img(name, a)?,
                b: img(name, b)?,
            },
            [n1, a, n2, b] => Pair {
                fold,
                same: false,
                a: img(n1, a)?,
                b: img(n2, b)?,
            },
            _ => return Err(Error::Invalid(format!("bad pairs.txt line `{line}`"))),
        };
        out.push(pair);
    }
    if out.len() != folds * per * 2 {
        return Err(Error::Invalid(format!(
            "pairs.txt promises {} pairs but holds {}",
            folds * per * 2,
            out.len()
        )));
    }
    Ok(out)
}

/// The threshold that maximises accuracy on `(distance, same)` samples, and that accuracy.
/// Candidates are midpoints between consecutive sorted distances.
pub fn best_threshold(samples: &[(f32, bool)]) -> (f32, f64) {
    let mut s: Vec<(f32, bool)> = samples.to_vec();
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = s.len();
    let total_diff = s.iter().filter(|x| !x.1).count();
    // Threshold below everything: every pair called different.
    let (mut best_t, mut best_correct) = (s.first().map_or(0.0, |x| x.0 - 1e-3), total_diff);
    let mut same_below = 0;
    for i in 0..n {
        if s[i].1 {
            same_below += 1;
        }
        let diff_below = i + 1 - same_below;
        let correct = same_below + (total_diff - diff_below);
        let t = if i + 1 < n {
            (s[i].0 + s[i + 1].0) / 2.0
        } else {
            s[i].0 + 1e-3
        };
        if correct > best_correct {
            best_correct = correct;
            best_t = t;
        }
    }
    (best_t, best_correct as f64 / n.max(1) as f64)
}

/// The result of the protocol (field names are a command-line contract).
#[derive(Debug, Clone, Serialize)]
pub struct LfwReport {
    pub accuracy_mean: f64,
    pub accuracy_std: f64,
    pub folds: Vec<f64>,
    pub threshold_mean: f64,
    pub pairs: usize,
    pub no_face: usize,
    /// The distance measured: `euclidean_raw` (dlib) or `cosine` (Euclidean on unit vectors,
    /// a monotone function of cosine).
    pub metric: &'static str,
    /// The same protocol with cosine distance, for comparison.
    pub cosine_accuracy_mean: f64,
    pub images: usize,
    pub seconds: f64,
    /// The embedder evaluated. `accuracy_mean` is on the stored (one byte per dimension)
    /// vectors; `float_accuracy_mean` on the network's `f32` output.
    pub model: String,
    pub float_accuracy_mean: f64,
    pub mirror: bool,
    /// `[low, high]`: pairs closer than `low` are the same person 99% of the time, pairs
    /// farther than `high` different people 99% of the time (all 6,000 pairs, stored vectors):
    /// the measured "uncertain" band of the catalogue.
    pub uncertain_band: [f32; 2],
    /// With `--map-from`: a map from that model fitted on 9 folds' images; the 10th fold's
    /// pairs scored with their first image mapped and the second real (10-fold protocol).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapped: Option<MappedReport>,
}

/// Accuracy with one side of every pair mapped from another model.
#[derive(Debug, Clone, Serialize)]
pub struct MappedReport {
    pub from_model: String,
    pub accuracy_mean: f64,
    pub accuracy_std: f64,
    pub folds: Vec<f64>,
}

/// 10-fold accuracy of `(fold, distance or None, same)`: None counts as a wrong answer.
pub fn ten_fold(pairs: &[(usize, Option<f32>, bool)]) -> (Vec<f64>, Vec<f32>) {
    let folds = pairs.iter().map(|p| p.0).max().map_or(0, |m| m + 1);
    let mut accs = Vec::new();
    let mut thresholds = Vec::new();
    for k in 0..folds {
        let train: Vec<(f32, bool)> = pairs
            .iter()
            .filter(|p| p.0 != k)
            .filter_map(|p| p.1.map(|d| (d, p.2)))
            .collect();
        let (t, _) = best_threshold(&train);
        let test: Vec<&(usize, Option<f32>, bool)> = pairs.iter().filter(|p| p.0 == k).collect();
        let correct = test
            .iter()
            .filter(|p| p.1.is_some_and(|d| (d < t) == p.2))
            .count();
        accs.push(correct as f64 / test.len().max(1) as f64);
        thresholds.push(t);
    }
    (accs, thresholds)
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n;
    (m, var.sqrt())
}

/// The stored-form vector of the face nearest the centre of each image (`None`: no face).
fn centre_vectors(
    images: &[PathBuf],
    models: &Models,
    threads: usize,
    cancel: &CancelToken,
    progress: &Progress,
) -> Result<Vec<Option<Vec<f32>>>> {
    let results = photo::analyze_many(models, images, threads, cancel, progress)?;
    Ok(results
        .iter()
        .map(|r| match r {
            Ok(f) => f.nearest_centre().map(|face| face.embedding.clone()),
            Err(e) => {
                tracing::warn!("{e}");
                None
            }
        })
        .collect())
}

/// Run the protocol on `dir` (holding `protocol/pairs.txt` and `lfw-deepfunneled/`) with
/// `models`' embedder; with `map_from`, also score a harmonic map from that model's vectors.
pub fn evaluate(
    dir: &Path,
    models: &Models,
    map_from: Option<&Models>,
    threads: usize,
    cancel: &CancelToken,
    progress: &Progress,
) -> Result<LfwReport> {
    let started = std::time::Instant::now();
    let spec = models.embedder_spec();
    let pairs_path = dir.join("protocol/pairs.txt");
    let text = std::fs::read_to_string(&pairs_path).map_err(|e| Error::io(&pairs_path, e))?;
    let pairs = parse_pairs(&text, &dir.join("lfw-deepfunneled"))?;
    let mut images: Vec<PathBuf> = pairs
        .iter()
        .flat_map(|p| [p.a.clone(), p.b.clone()])
        .collect();
    images.sort();
    images.dedup();
    let index: HashMap<&Path, usize> = images
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_path(), i))
        .collect();
    let float = centre_vectors(&images, models, threads, cancel, progress)?;
    let stored: Vec<Option<Vec<f32>>> = float
        .iter()
        .map(|v| v.as_deref().map(embed::stored_form))
        .collect();
    let no_face = float.iter().filter(|v| v.is_none()).count();
    let score = |emb: &[Option<Vec<f32>>], dist: fn(&[f32], &[f32]) -> f32| {
        pairs
            .iter()
            .map(|p| {
                let d = match (&emb[index[p.a.as_path()]], &emb[index[p.b.as_path()]]) {
                    (Some(a), Some(b)) => Some(dist(a, b)),
                    _ => None,
                };
                (p.fold, d, p.same)
            })
            .collect::<Vec<_>>()
    };
    let (folds, thresholds) = ten_fold(&score(&stored, embed::distance));
    let (float_folds, _) = ten_fold(&score(&float, embed::distance));
    let (cos_folds, _) = ten_fold(&score(&stored, embed::cosine_distance));
    let (accuracy_mean, accuracy_std) = mean_std(&folds);
    let uncertain_band = band(&score(&stored, embed::distance), 0.99);
    let mapped = match map_from {
        Some(from) => {
            let old = centre_vectors(&images, from, threads, cancel, progress)?
                .into_iter()
                .map(|v| v.as_deref().map(embed::stored_form))
                .collect::<Vec<_>>();
            Some(mapped_protocol(&pairs, &index, &old, &stored, spec, from)?)
        }
        None => None,
    };
    Ok(LfwReport {
        accuracy_mean,
        accuracy_std,
        threshold_mean: thresholds.iter().map(|&t| t as f64).sum::<f64>()
            / thresholds.len().max(1) as f64,
        folds,
        pairs: pairs.len(),
        no_face,
        metric: match spec.metric {
            crate::vision::models::Metric::Euclidean => "euclidean_raw",
            crate::vision::models::Metric::Cosine => "cosine",
        },
        cosine_accuracy_mean: mean_std(&cos_folds).0,
        images: images.len(),
        seconds: started.elapsed().as_secs_f64(),
        model: spec.id().to_string(),
        float_accuracy_mean: mean_std(&float_folds).0,
        mirror: spec.mirror,
        uncertain_band,
        mapped,
    })
}

/// The distances around the threshold where decisions are unreliable: the largest `low` with
/// at least `purity` of the pairs below it the same person, and the smallest `high` with at
/// least `purity` of the pairs above it different people. With a good model the two regions
/// overlap (`low` > `high`): the band is then the overlap, given low end first.
pub fn band(pairs: &[(usize, Option<f32>, bool)], purity: f64) -> [f32; 2] {
    let mut s: Vec<(f32, bool)> = pairs.iter().filter_map(|p| p.1.map(|d| (d, p.2))).collect();
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut low = s.first().map_or(0.0, |x| x.0);
    let mut same = 0usize;
    for (i, &(d, is_same)) in s.iter().enumerate() {
        if (same as f64) >= purity * i as f64 {
            low = d;
        }
        same += usize::from(is_same);
    }
    let mut high = s.last().map_or(0.0, |x| x.0);
    let mut diff = 0usize;
    for (k, &(d, is_same)) in s.iter().rev().enumerate() {
        if (diff as f64) >= purity * k as f64 {
            high = d;
        }
        diff += usize::from(!is_same);
    }
    [low.min(high), low.max(high)]
}

/// For each fold k: fit the map old → new on the images of the other folds' pairs that are not
/// in fold k, then score fold k's pairs as `distance(map(old[a]), new[b])`; thresholds follow
/// the usual 10-fold rule.
fn mapped_protocol(
    pairs: &[Pair],
    index: &HashMap<&Path, usize>,
    old: &[Option<Vec<f32>>],
    new: &[Option<Vec<f32>>],
    spec: &crate::vision::EmbedderSpec,
    from: &Models,
) -> Result<MappedReport> {
    let folds = pairs.iter().map(|p| p.fold).max().map_or(0, |m| m + 1);
    let mut in_fold: Vec<std::collections::HashSet<usize>> = vec![Default::default(); folds];
    for p in pairs {
        in_fold[p.fold].insert(index[p.a.as_path()]);
        in_fold[p.fold].insert(index[p.b.as_path()]);
    }
    let unit = spec.metric == crate::vision::models::Metric::Cosine;
    let mut scored = Vec::with_capacity(pairs.len());
    for (k, this_fold) in in_fold.iter().enumerate() {
        let train: Vec<usize> = (0..old.len())
            .filter(|i| !this_fold.contains(i))
            .filter(|&i| old[i].is_some() && new[i].is_some())
            .collect();
        let xs: Vec<&[f32]> = train.iter().filter_map(|&i| old[i].as_deref()).collect();
        let ys: Vec<&[f32]> = train.iter().filter_map(|&i| new[i].as_deref()).collect();
        let map = crate::harmonic::LinearMap::fit(&xs, &ys, unit)
            .ok_or_else(|| Error::Invalid(format!("fold {k}: too few faces to fit a map")))?;
        for p in pairs.iter().filter(|p| p.fold == k) {
            let d = match (&old[index[p.a.as_path()]], &new[index[p.b.as_path()]]) {
                (Some(a), Some(b)) => Some(embed::distance(&map.apply(a), b)),
                _ => None,
            };
            scored.push((p.fold, d, p.same));
        }
    }
    let (f, _) = ten_fold(&scored);
    let (m, sd) = mean_std(&f);
    Ok(MappedReport {
        from_model: from.embedder_spec().id().to_string(),
        accuracy_mean: m,
        accuracy_std: sd,
        folds: f,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_same_and_different_pairs() {
        let text = "1 1\nAl_B 1 2\nAl_B 3 Cy_D 12\n";
        let p = parse_pairs(text, Path::new("/x")).unwrap();
        assert_eq!(p.len(), 2);
        assert!(p[0].same && !p[1].same);
        assert_eq!(p[0].b, Path::new("/x/Al_B/Al_B_0002.jpg"));
        assert_eq!(p[1].b, Path::new("/x/Cy_D/Cy_D_0012.jpg"));
        assert!(parse_pairs("1 2\nA 1 2\n", Path::new("/x")).is_err());
    }

    #[test]
    fn best_threshold_separates_separable_data() {
        let s = [(0.2, true), (0.3, true), (0.7, false), (0.9, false)];
        let (t, acc) = best_threshold(&s);
        assert_eq!(acc, 1.0);
        assert!(t > 0.3 && t < 0.7);
    }

    #[test]
    fn band_brackets_the_mixed_region() {
        // Same pairs at 0.1..0.5, different at 0.4..0.9: the mixed region is 0.4..0.5.
        let mut v = Vec::new();
        for i in 0..5 {
            v.push((0, Some(0.1 + i as f32 * 0.1), true));
            v.push((0, Some(0.4 + i as f32 * 0.125), false));
        }
        let [low, high] = band(&v, 0.99);
        assert!((low - 0.4).abs() < 1e-6, "{low}");
        assert!((high - 0.5).abs() < 1e-6, "{high}");
    }

    #[test]
    fn ten_fold_counts_missing_faces_as_wrong() {
        let mut v = Vec::new();
        for fold in 0..2 {
            v.push((fold, Some(0.1), true));
            v.push((fold, Some(0.9), false));
            v.push((fold, None, true));
            v.push((fold, Some(0.8), false));
        }
        let (accs, _) = ten_fold(&v);
        assert_eq!(accs, vec![0.75, 0.75]);
    }
}
