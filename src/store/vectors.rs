//! One model's vectors as one matrix, kept with the connection between reads: clustering,
//! suggestions, merge candidates and uncertain pairs all read it, and a store held open (the
//! app's worker) reads from SQLite only what changed since. Whether anything changed is
//! SQLite's own count (`PRAGMA data_version` for other connections, `total_changes` for this
//! one); which faces changed is the `face_changes` log that triggers write (schema 7), so
//! after a decision or a scan batch only those faces' rows and vectors are read again.

use std::sync::{Arc, Mutex};

use rusqlite::OptionalExtension;

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
    /// The change log's position the matrix reflects.
    seq: i64,
    matrix: Arc<Matrix>,
}

/// Above this share of faces changed (and 1,000 faces), one full read is cheaper than that many
/// lookups (a lookup by key costs several times a row of the sequential read).
const REREAD_ALL_SHARE: f64 = 0.25;

/// Log entries kept when a library is opened: enough for any store kept open meanwhile to
/// follow a large scan batch; one that fell further behind reads everything once.
pub(super) const LOG_KEPT: i64 = 200_000;

/// The rows of a model's faces, with or without the vector (the same filter and order).
const ROWS: &str = "SELECT f.id, f.photo_id, min(f.x2 - f.x1, f.y2 - f.y1), f.score, f.person_id,
        f.assigned_by, e.origin = 'mapped', f.clustered, e.vector, e.scale
     FROM embeddings e JOIN faces f ON f.id = e.face_id
     JOIN photos p ON p.id = f.photo_id
     WHERE e.model_id = ?1 AND p.status = 'indexed' AND f.ignored = 0";

fn cluster_face(r: &rusqlite::Row<'_>) -> rusqlite::Result<(ClusterFace, Vec<f32>)> {
    Ok((
        ClusterFace {
            face_id: r.get(0)?,
            photo_id: r.get(1)?,
            min_side: r.get::<_, f64>(2)? as f32,
            score: r.get::<_, f64>(3)? as f32,
            person_id: r.get(4)?,
            assigned_by: Assigner::parse(r.get(5)?),
            mapped: r.get(6)?,
            clustered: r.get(7)?,
        },
        super::embeddings::vector(&r.get::<_, Vec<u8>>(8)?, r.get(9)?),
    ))
}

impl Store {
    /// Where the library stands: changes committed by other connections, and by this one.
    fn change_stamp(&self) -> Result<(i64, u64)> {
        let v: i64 = self
            .conn()
            .query_row("PRAGMA data_version", [], |r| r.get(0))?;
        Ok((v, self.conn().total_changes()))
    }

    /// The change log's last position.
    fn change_seq(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'face_changes'",
                [],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    /// The vectors of `model_id` as they are now (see the module doc): the kept matrix when
    /// nothing changed, else the kept one with the changed faces read again.
    pub fn cluster_matrix(&self, model_id: &str) -> Result<Arc<Matrix>> {
        let stamp = self.change_stamp()?;
        let mut kept = self.kept.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = kept.as_ref() {
            if k.stamp == stamp && k.matrix.model == model_id {
                return Ok(k.matrix.clone());
            }
        }
        let t0 = std::time::Instant::now();
        // One snapshot for the log and the rows (a scan may be writing meanwhile).
        let snapshot = self.conn().unchecked_transaction()?;
        let seq = self.change_seq()?;
        let old = kept.take().filter(|k| k.matrix.model == model_id);
        let patched = match old {
            Some(k) => self.patched(k, seq, model_id)?,
            None => None,
        };
        let how = if patched.is_some() {
            "changes read"
        } else {
            "all read"
        };
        let matrix = match patched {
            Some(m) => m,
            None => self.all_rows(model_id)?,
        };
        snapshot.finish()?;
        tracing::debug!(
            "vectors of {model_id}: {} faces ({how}) in {:.2} s",
            matrix.faces.len(),
            t0.elapsed().as_secs_f64()
        );
        let matrix = Arc::new(matrix);
        *kept = Some(KeptMatrix {
            stamp,
            seq,
            matrix: matrix.clone(),
        });
        Ok(matrix)
    }

    /// The kept matrix with the faces logged since it was read, read again; `None` when the
    /// log no longer reaches back to it or so much changed that one full read is cheaper.
    fn patched(&self, k: KeptMatrix, seq: i64, model_id: &str) -> Result<Option<Matrix>> {
        let old = &k.matrix;
        if seq == k.seq {
            return Ok(Some(Matrix {
                model: old.model.clone(),
                faces: old.faces.clone(),
                points: old.points.clone(),
            }));
        }
        let first: Option<i64> = self.conn().query_row(
            "SELECT min(seq) FROM face_changes WHERE seq > ?1",
            [k.seq],
            |r| r.get(0),
        )?;
        if first != Some(k.seq + 1) {
            return Ok(None);
        }
        let mut changed: Vec<i64> = {
            let mut st = self
                .conn()
                .prepare("SELECT DISTINCT face_id FROM face_changes WHERE seq > ?1")?;
            let ids = st
                .query_map([k.seq], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?;
            ids
        };
        if changed.len() > 1000 && changed.len() as f64 > REREAD_ALL_SHARE * old.faces.len() as f64
        {
            return Ok(None);
        }
        changed.sort_unstable();
        let mut st = self
            .conn()
            .prepare_cached(&format!("{ROWS} AND f.id = ?2"))?;
        let mut fresh: Vec<(ClusterFace, Vec<f32>)> = Vec::new();
        for id in &changed {
            if let Some(row) = st
                .query_row(rusqlite::params![model_id, id], cluster_face)
                .optional()?
            {
                fresh.push(row);
            }
        }
        let dim = old.points.dim();
        if fresh.iter().any(|(_, v)| v.len() != dim) {
            return Ok(None);
        }
        // Merge the kept rows (less the changed faces) with the rows read again, by face id.
        let mut faces = Vec::with_capacity(old.faces.len() + fresh.len());
        let mut source: Vec<Result<usize, usize>> = Vec::with_capacity(faces.capacity());
        let (mut i, mut j) = (0, 0);
        while i < old.faces.len() || j < fresh.len() {
            let take_old = j == fresh.len()
                || (i < old.faces.len() && old.faces[i].face_id < fresh[j].0.face_id);
            if take_old {
                if changed.binary_search(&old.faces[i].face_id).is_err() {
                    faces.push(old.faces[i]);
                    source.push(Ok(i));
                }
                i += 1;
            } else {
                faces.push(fresh[j].0);
                source.push(Err(j));
                j += 1;
            }
        }
        // The kept rows keep their places and vectors (only people or marks changed), and
        // any new faces come after them (a scan adds faces with higher ids).
        let kept_prefix = faces.len() >= old.faces.len()
            && source[..old.faces.len()]
                .iter()
                .enumerate()
                .all(|(r, s)| match s {
                    Ok(o) => *o == r,
                    Err(f) => {
                        old.faces[r].face_id == fresh[*f].0.face_id
                            && old.points.row(r) == &fresh[*f].1[..]
                    }
                });
        let points = if kept_prefix {
            let tail: Vec<f32> = source[old.faces.len()..]
                .iter()
                .flat_map(|s| match s {
                    Err(f) => fresh[*f].1.iter().copied(),
                    Ok(_) => unreachable!("rows past the kept ones are new"),
                })
                .collect();
            // Appended in place when nobody else holds the kept matrix, else copied once.
            let mut points = match Arc::try_unwrap(k.matrix) {
                Ok(m) => m.points,
                Err(shared) => shared.points.clone(),
            };
            match Arc::get_mut(&mut points) {
                Some(p) => p.push_rows(&tail)?,
                None if tail.is_empty() => {}
                None => {
                    let mut p = Points::new(dim, points.as_slice().to_vec())?;
                    p.push_rows(&tail)?;
                    points = Arc::new(p);
                }
            }
            points
        } else {
            let mut data = Vec::with_capacity(faces.len() * dim);
            for s in &source {
                match s {
                    Ok(o) => data.extend_from_slice(old.points.row(*o)),
                    Err(f) => data.extend_from_slice(&fresh[*f].1),
                }
            }
            Arc::new(Points::new(dim, data)?)
        };
        Ok(Some(Matrix {
            model: model_id.to_string(),
            faces,
            points,
        }))
    }

    /// Every face of `model_id` with its vector, in one read.
    fn all_rows(&self, model_id: &str) -> Result<Matrix> {
        let mut st = self.conn().prepare(&format!("{ROWS} ORDER BY f.id"))?;
        let mut rows = st.query([model_id])?;
        let mut faces = Vec::new();
        let mut data = Vec::new();
        let mut dim = 0;
        while let Some(r) = rows.next()? {
            let (f, v) = cluster_face(r)?;
            if dim == 0 {
                dim = v.len();
            }
            if v.len() != dim {
                return Err(crate::Error::Invalid(format!(
                    "face {} has a {}-dimensional {model_id} vector, not {dim}",
                    f.face_id,
                    v.len()
                )));
            }
            faces.push(f);
            data.extend_from_slice(&v);
        }
        Ok(Matrix {
            model: model_id.to_string(),
            faces,
            points: Arc::new(Points::new(dim.max(1), data)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewFace, PhotoFacts};

    const MODEL: &str = "dlib_resnet_v1";

    fn add(store: &mut Store, name: &str, x: f32) -> i64 {
        store
            .write(|w| {
                let photo = w.upsert_photo(&PhotoFacts::indexed(name, 100, 100))?;
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
        // The log forgotten (as forgetting does): the kept store notices and reads everything.
        let before = store.cluster_matrix(MODEL).unwrap();
        other
            .write(|w| w.assign_faces(&[(c, Some(p), Some(Assigner::User))]))
            .unwrap();
        other
            .conn()
            .execute("DELETE FROM face_changes", [])
            .unwrap();
        let after = store.cluster_matrix(MODEL).unwrap();
        assert!(!Arc::ptr_eq(&before.points, &after.points), "read afresh");
        assert_eq!(after.faces[1].person_id, Some(p));
        // Nobody holds the matrix any more: a new face is appended in place.
        drop((m1, m2, m3, m4, before, after));
        let d = add(&mut other, "/d.jpg", -0.25);
        let m5 = store.cluster_matrix(MODEL).unwrap();
        assert_eq!(
            m5.faces.iter().map(|f| f.face_id).collect::<Vec<_>>(),
            vec![a, c, d]
        );
        assert_eq!(m5.points.len(), 3);
        assert!((m5.points.row(1)[0] - 0.25).abs() < 0.01);
        assert!((m5.points.row(2)[0] + 0.25).abs() < 0.01);
        // Norms kept right for the appended row.
        let fresh = Points::new(128, m5.points.as_slice().to_vec()).unwrap();
        assert!((0..3).all(|r| (fresh.dist(r, 0) - m5.points.dist(r, 0)).abs() < 1e-6));
    }
}
