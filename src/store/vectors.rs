//! One model's vectors as one matrix, kept with the connection between reads: clustering,
//! suggestions, merge candidates and uncertain pairs all read it, and a store held open (the
//! app's worker) reads from SQLite only what changed since. Whether anything changed is
//! SQLite's own count (`PRAGMA data_version` for other connections, `total_changes` for this
//! one); what changed is found from the face rows without their vectors, a vector being
//! re-read only for a face that is new or whose stored scale differs (re-embedded).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::people::{Assigner, ClusterFace};
use super::Store;
use crate::cluster::Points;
use crate::error::Result;

/// The faces of one model (indexed photos, not ignored, in face-id order) and their vectors:
/// row `k` of `points` is `faces[k]`.
#[derive(Debug)]
pub struct Matrix {
    pub model: String,
    pub faces: Vec<ClusterFace>,
    pub points: Arc<Points>,
}

/// The matrix last read, and what it was read at.
#[derive(Default)]
pub(super) struct Kept(Mutex<Option<KeptMatrix>>);

struct KeptMatrix {
    stamp: (i64, u64),
    matrix: Arc<Matrix>,
    /// Each row's stored scale: a re-embedded face has a new one.
    scales: Vec<f64>,
}

/// Above this share of rows to read again, one full read is cheaper than that many lookups
/// (a lookup by key costs several times a row of the sequential read).
const REREAD_ALL_SHARE: f64 = 0.25;

impl Store {
    /// Where the library stands: changes committed by other connections, and by this one.
    fn change_stamp(&self) -> Result<(i64, u64)> {
        let v: i64 = self
            .conn()
            .query_row("PRAGMA data_version", [], |r| r.get(0))?;
        Ok((v, self.conn().total_changes()))
    }

    /// The vectors of `model_id` as they are now (see the module doc): the kept matrix when
    /// nothing changed, else the face rows again and only new or re-embedded vectors.
    pub fn cluster_matrix(&self, model_id: &str) -> Result<Arc<Matrix>> {
        let stamp = self.change_stamp()?;
        let mut kept = self.kept.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = kept.as_ref() {
            if k.stamp == stamp && k.matrix.model == model_id {
                return Ok(k.matrix.clone());
            }
        }
        // One snapshot for the rows and the vectors (a scan may be writing meanwhile).
        let snapshot = self.conn().unchecked_transaction()?;
        let (faces, scales) = self.cluster_rows(model_id)?;
        let old = kept.take().filter(|k| k.matrix.model == model_id);
        let points = match &old {
            Some(k) => self.refreshed(k, &faces, &scales, model_id)?,
            None => None,
        };
        let points = match points {
            Some(p) => p,
            None => Arc::new(self.all_vectors(model_id, &faces)?),
        };
        snapshot.finish()?;
        let matrix = Arc::new(Matrix {
            model: model_id.to_string(),
            faces,
            points,
        });
        *kept = Some(KeptMatrix {
            stamp,
            matrix: matrix.clone(),
            scales,
        });
        Ok(matrix)
    }

    /// The rows of `faces` built from the kept matrix plus the vectors it lacks; `None` when
    /// so much changed that one full read is cheaper.
    fn refreshed(
        &self,
        k: &KeptMatrix,
        faces: &[ClusterFace],
        scales: &[f64],
        model_id: &str,
    ) -> Result<Option<Arc<Points>>> {
        let before: HashMap<i64, usize> = k
            .matrix
            .faces
            .iter()
            .enumerate()
            .map(|(r, f)| (f.face_id, r))
            .collect();
        let source: Vec<Option<usize>> = faces
            .iter()
            .zip(scales)
            .map(|(f, s)| {
                before
                    .get(&f.face_id)
                    .copied()
                    .filter(|&r| k.scales[r] == *s)
            })
            .collect();
        let missing = source.iter().filter(|s| s.is_none()).count();
        if missing as f64 > REREAD_ALL_SHARE * faces.len() as f64 {
            return Ok(None);
        }
        let old = &k.matrix.points;
        let same_rows = missing == 0
            && faces.len() == old.len()
            && source.iter().enumerate().all(|(r, s)| *s == Some(r));
        if same_rows {
            return Ok(Some(old.clone()));
        }
        let dim = old.dim();
        let mut data = Vec::with_capacity(faces.len() * dim);
        let mut st = self.conn().prepare_cached(
            "SELECT vector, scale FROM embeddings WHERE face_id = ?1 AND model_id = ?2",
        )?;
        for (f, s) in faces.iter().zip(&source) {
            match s {
                Some(r) => data.extend_from_slice(old.row(*r)),
                None => {
                    let v: Vec<f32> =
                        st.query_row(rusqlite::params![f.face_id, model_id], |r| {
                            Ok(super::embeddings::vector(
                                &r.get::<_, Vec<u8>>(0)?,
                                r.get(1)?,
                            ))
                        })?;
                    if v.len() != dim {
                        return Ok(None);
                    }
                    data.extend_from_slice(&v);
                }
            }
        }
        Ok(Some(Arc::new(Points::new(dim, data)?)))
    }

    /// The face rows of `model_id` without their vectors, with each vector's stored scale.
    fn cluster_rows(&self, model_id: &str) -> Result<(Vec<ClusterFace>, Vec<f64>)> {
        let mut st = self.conn().prepare(
            "SELECT f.id, f.photo_id, min(f.x2 - f.x1, f.y2 - f.y1), f.score, f.person_id,
                    f.assigned_by, e.origin = 'mapped', f.clustered, e.scale
             FROM embeddings e JOIN faces f ON f.id = e.face_id
             JOIN photos p ON p.id = f.photo_id
             WHERE e.model_id = ?1 AND p.status = 'indexed' AND f.ignored = 0 ORDER BY f.id",
        )?;
        let mut faces = Vec::new();
        let mut scales = Vec::new();
        let mut rows = st.query([model_id])?;
        while let Some(r) = rows.next()? {
            faces.push(ClusterFace {
                face_id: r.get(0)?,
                photo_id: r.get(1)?,
                min_side: r.get::<_, f64>(2)? as f32,
                score: r.get::<_, f64>(3)? as f32,
                person_id: r.get(4)?,
                assigned_by: Assigner::parse(r.get(5)?),
                mapped: r.get(6)?,
                clustered: r.get(7)?,
            });
            scales.push(r.get(8)?);
        }
        Ok((faces, scales))
    }

    /// Every vector of `faces` (rows of [`Store::cluster_rows`], same snapshot) in one read.
    fn all_vectors(&self, model_id: &str, faces: &[ClusterFace]) -> Result<Points> {
        let mut st = self.conn().prepare(
            "SELECT f.id, e.vector, e.scale
             FROM embeddings e JOIN faces f ON f.id = e.face_id
             JOIN photos p ON p.id = f.photo_id
             WHERE e.model_id = ?1 AND p.status = 'indexed' AND f.ignored = 0 ORDER BY f.id",
        )?;
        let mut rows = st.query([model_id])?;
        let mut data = Vec::new();
        let mut dim = 0;
        for f in faces {
            let r = rows
                .next()?
                .filter(|r| r.get::<_, i64>(0).ok() == Some(f.face_id));
            let Some(r) = r else {
                return Err(crate::Error::Invalid(format!(
                    "the vectors of {model_id} changed while they were read (face {})",
                    f.face_id
                )));
            };
            let v = super::embeddings::vector(&r.get::<_, Vec<u8>>(1)?, r.get(2)?);
            if dim == 0 {
                dim = v.len();
                data.reserve(faces.len() * dim);
            }
            data.extend_from_slice(&v);
        }
        Points::new(dim.max(1), data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewFace, PhotoFacts, PhotoStatus};

    const MODEL: &str = "dlib_resnet_v1";

    fn add(store: &mut Store, name: &str, x: f32) -> i64 {
        store
            .write(|w| {
                let photo = w.upsert_photo(&PhotoFacts {
                    path: name,
                    size: 1,
                    mtime_ns: 1,
                    content_hash: None,
                    width: Some(100),
                    height: Some(100),
                    taken_at: None,
                    status: PhotoStatus::Indexed,
                    error: None,
                    detector: None,
                    linked_to: None,
                    orientation: None,
                    xmp_sig: None,
                })?;
                let mut embedding = vec![0.0f32; 128];
                embedding[0] = x;
                embedding[1] = 1.0;
                w.insert_face(
                    photo,
                    &NewFace {
                        bbox: [0.0, 0.0, 50.0, 50.0],
                        landmarks: [[0.0; 2]; 5],
                        score: 0.9,
                        thumb: Vec::new(),
                        embedding,
                        source: Default::default(),
                    },
                    MODEL,
                )
            })
            .unwrap()
    }

    #[test]
    fn the_matrix_is_kept_until_something_changes_and_then_follows_it() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("l.db");
        let mut store = Store::open(&path).unwrap();
        let a = add(&mut store, "/a.jpg", 0.5);
        let b = add(&mut store, "/b.jpg", -0.5);
        let m1 = store.cluster_matrix(MODEL).unwrap();
        assert_eq!(m1.faces.len(), 2);
        assert!((m1.points.row(0)[0] - 0.5).abs() < 0.01);
        // Nothing changed: the same matrix.
        assert!(Arc::ptr_eq(&m1, &store.cluster_matrix(MODEL).unwrap()));
        // A decision changes a face's person: new rows, the same vectors (not read again).
        let p = store
            .write(|w| {
                let p = w.create_person(None, Assigner::User)?;
                w.assign_faces(&[(a, Some(p), Some(Assigner::User))])?;
                Ok(p)
            })
            .unwrap();
        let m2 = store.cluster_matrix(MODEL).unwrap();
        assert_eq!(m2.faces[0].person_id, Some(p));
        assert!(Arc::ptr_eq(&m1.points, &m2.points));
        // Another connection adds a face (a scan): it is read, the others are kept.
        let mut other = Store::open(&path).unwrap();
        let c = add(&mut other, "/c.jpg", 0.25);
        let m3 = store.cluster_matrix(MODEL).unwrap();
        assert_eq!(
            m3.faces.iter().map(|f| f.face_id).collect::<Vec<_>>(),
            vec![a, b, c]
        );
        assert!((m3.points.row(2)[0] - 0.25).abs() < 0.01);
        assert!((m3.points.row(1)[0] + 0.5).abs() < 0.01);
        // An ignored face leaves the matrix; another model has a matrix of its own (empty).
        store.write(|w| w.set_ignored(&[b], true)).unwrap();
        let m4 = store.cluster_matrix(MODEL).unwrap();
        assert_eq!(
            m4.faces.iter().map(|f| f.face_id).collect::<Vec<_>>(),
            vec![a, c]
        );
        assert!((m4.points.row(1)[0] - 0.25).abs() < 0.01);
        assert!(store
            .cluster_matrix("mobilefacenet")
            .unwrap()
            .faces
            .is_empty());
    }
}
