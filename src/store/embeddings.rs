//! Queries on `embeddings` (one byte per dimension + scale, see `vision::embed::Quantized`),
//! `library_meta` (the active embedder) and `model_maps` (harmonic maps between models).

use rusqlite::{params, OptionalExtension};

use super::{now, Store, Writer};
use crate::error::Result;
use crate::vision::embed::Quantized;

/// `(face id, photo id, vector of model a, vector of model b)`: one face seen by two models.
pub type PairedVectors = (i64, i64, Vec<f32>, Vec<f32>);

/// Where a stored vector came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The model itself, from the face's pixels.
    Model,
    /// Another model's vector through the library's harmonic map (photo unreachable).
    Mapped,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Model => "model",
            Origin::Mapped => "mapped",
        }
    }
}

/// A face whose photo must be read to embed it with a model.
#[derive(Debug, Clone)]
pub struct FaceToEmbed {
    pub face_id: i64,
    pub landmarks: [[f32; 2]; 5],
}

/// A photo with faces lacking a model's own vector.
#[derive(Debug, Clone)]
pub struct PhotoToEmbed {
    pub photo_id: i64,
    pub path: String,
    /// Size and mtime when the faces were found: a file that differs now was edited, and its
    /// stored landmarks no longer describe its pixels.
    pub size: u64,
    pub mtime_ns: i64,
    pub faces: Vec<FaceToEmbed>,
}

/// A face with its photo (any status), for reports and checks.
#[derive(Debug, Clone)]
pub struct FacePhoto {
    pub face_id: i64,
    pub photo_id: i64,
    pub path: String,
    pub width: u32,
    pub height: u32,
    pub bbox: [f32; 4],
}

/// A stored linear map from one model's space into another's.
#[derive(Debug, Clone)]
pub struct ModelMap {
    pub from_model: String,
    pub to_model: String,
    /// Row-major `rows × cols`: `y = [x, 1] · M` (the last row is the bias).
    pub rows: usize,
    pub cols: usize,
    pub matrix: Vec<f32>,
    pub fitted_on: u64,
    /// Verification accuracy with one side mapped, on held-out faces of the library.
    pub accuracy: f64,
}

/// Per-model vector counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelCount {
    pub model_id: String,
    pub vectors: u64,
    pub mapped: u64,
}

pub(crate) fn vector(blob: &[u8], scale: f64) -> Vec<f32> {
    Quantized::from_bytes(blob, scale as f32).dequantize()
}

impl Store {
    /// The embedder this library clusters and compares with, if one was recorded.
    pub fn active_embedder(&self) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT value FROM library_meta WHERE key = 'active_embedder'",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Stored vectors per model (and how many of them are mapped).
    pub fn model_counts(&self) -> Result<Vec<ModelCount>> {
        let mut st = self.conn().prepare(
            "SELECT model_id, count(*), sum(origin = 'mapped') FROM embeddings
             GROUP BY model_id ORDER BY model_id",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok(ModelCount {
                    model_id: r.get(0)?,
                    vectors: r.get::<_, i64>(1)? as u64,
                    mapped: r.get::<_, Option<i64>>(2)?.unwrap_or(0) as u64,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Photos in `statuses` with faces that have no vector of `model_id` from the model itself
    /// (none at all, or only a mapped one), by photo id, with those faces' landmarks.
    pub fn photos_to_embed(&self, model_id: &str) -> Result<Vec<PhotoToEmbed>> {
        let mut st = self.conn().prepare(
            "SELECT p.id, p.path, f.id, f.landmarks, p.size, p.mtime_ns FROM faces f JOIN photos p ON p.id = f.photo_id
             WHERE p.status = 'indexed' AND NOT EXISTS (
                 SELECT 1 FROM embeddings e WHERE e.face_id = f.id AND e.model_id = ?1
                 AND e.origin = 'model')
             ORDER BY p.id, f.id",
        )?;
        let mut out: Vec<PhotoToEmbed> = Vec::new();
        let mut rows = st.query([model_id])?;
        while let Some(r) = rows.next()? {
            let photo_id: i64 = r.get(0)?;
            let lm = super::blob_to_f32s(&r.get::<_, Vec<u8>>(3)?);
            let mut landmarks = [[0.0f32; 2]; 5];
            for (i, p) in landmarks.iter_mut().enumerate() {
                *p = [
                    lm.get(2 * i).copied().unwrap_or(0.0),
                    lm.get(2 * i + 1).copied().unwrap_or(0.0),
                ];
            }
            let face = FaceToEmbed {
                face_id: r.get(2)?,
                landmarks,
            };
            match out.last_mut() {
                Some(p) if p.photo_id == photo_id => p.faces.push(face),
                _ => out.push(PhotoToEmbed {
                    photo_id,
                    path: r.get(1)?,
                    size: r.get::<_, i64>(4)? as u64,
                    mtime_ns: r.get(5)?,
                    faces: vec![face],
                }),
            }
        }
        Ok(out)
    }

    /// Faces (of any photo status) without a vector of `to` from the model itself, that have
    /// one of `from`: the faces a map from `from` can give a vector. `(face id, from vector)`.
    pub fn faces_without_own_vector(&self, from: &str, to: &str) -> Result<Vec<(i64, Vec<f32>)>> {
        let mut st = self.conn().prepare(
            "SELECT e.face_id, e.vector, e.scale FROM embeddings e
             WHERE e.model_id = ?1 AND e.origin = 'model' AND NOT EXISTS (
                 SELECT 1 FROM embeddings t WHERE t.face_id = e.face_id AND t.model_id = ?2
                 AND t.origin = 'model')
             ORDER BY e.face_id",
        )?;
        let rows = st
            .query_map([from, to], |r| {
                Ok((r.get(0)?, vector(&r.get::<_, Vec<u8>>(1)?, r.get(2)?)))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Faces with model-made vectors of both `a` and `b`: `(face id, photo id, vector a,
    /// vector b)`, by face id (to fit and test a map).
    pub fn paired_vectors(&self, a: &str, b: &str) -> Result<Vec<PairedVectors>> {
        let mut st = self.conn().prepare(
            "SELECT x.face_id, f.photo_id, x.vector, x.scale, y.vector, y.scale
             FROM embeddings x JOIN embeddings y ON y.face_id = x.face_id
             JOIN faces f ON f.id = x.face_id
             WHERE x.model_id = ?1 AND y.model_id = ?2 AND x.origin = 'model' AND y.origin = 'model'
             ORDER BY x.face_id",
        )?;
        let rows = st
            .query_map([a, b], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    vector(&r.get::<_, Vec<u8>>(2)?, r.get(3)?),
                    vector(&r.get::<_, Vec<u8>>(4)?, r.get(5)?),
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Every face with its photo, by face id.
    pub fn face_photos(&self) -> Result<Vec<FacePhoto>> {
        let mut st = self.conn().prepare(
            "SELECT f.id, p.id, p.path, coalesce(p.width, 0), coalesce(p.height, 0),
                    f.x1, f.y1, f.x2, f.y2
             FROM faces f JOIN photos p ON p.id = f.photo_id ORDER BY f.id",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok(FacePhoto {
                    face_id: r.get(0)?,
                    photo_id: r.get(1)?,
                    path: r.get(2)?,
                    width: r.get::<_, i64>(3)? as u32,
                    height: r.get::<_, i64>(4)? as u32,
                    bbox: [
                        r.get::<_, f64>(5)? as f32,
                        r.get::<_, f64>(6)? as f32,
                        r.get::<_, f64>(7)? as f32,
                        r.get::<_, f64>(8)? as f32,
                    ],
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Faces (of any photo status) in the library.
    pub fn face_count(&self) -> Result<u64> {
        Ok(self
            .conn()
            .query_row("SELECT count(*) FROM faces", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Faces (of any photo status) with no vector of `model_id` at all.
    pub fn faces_without_any_vector(&self, model_id: &str) -> Result<u64> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM faces f WHERE NOT EXISTS (
                 SELECT 1 FROM embeddings e WHERE e.face_id = f.id AND e.model_id = ?1)",
            [model_id],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// One face's vector of `model_id`, if stored.
    pub fn face_vector(&self, face_id: i64, model_id: &str) -> Result<Option<Vec<f32>>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT vector, scale FROM embeddings WHERE face_id = ?1 AND model_id = ?2",
                params![face_id, model_id],
                |r| Ok(vector(&r.get::<_, Vec<u8>>(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// The stored map from `from` into `to`.
    pub fn model_map(&self, from: &str, to: &str) -> Result<Option<ModelMap>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT rows, cols, matrix, fitted_on, accuracy FROM model_maps
                 WHERE from_model = ?1 AND to_model = ?2",
                [from, to],
                |r| {
                    Ok(ModelMap {
                        from_model: from.to_string(),
                        to_model: to.to_string(),
                        rows: r.get::<_, i64>(0)? as usize,
                        cols: r.get::<_, i64>(1)? as usize,
                        matrix: super::blob_to_f32s(&r.get::<_, Vec<u8>>(2)?),
                        fitted_on: r.get::<_, i64>(3)? as u64,
                        accuracy: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }
}

impl Writer<'_> {
    /// Record the library's active embedder.
    pub fn set_active_embedder(&self, id: &str) -> Result<()> {
        self.tx.execute(
            "INSERT INTO library_meta (key, value) VALUES ('active_embedder', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [id],
        )?;
        Ok(())
    }

    /// The active embedder, inside the transaction.
    pub fn active_embedder(&self) -> Result<Option<String>> {
        Ok(self
            .tx
            .query_row(
                "SELECT value FROM library_meta WHERE key = 'active_embedder'",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Store (or replace) a face's vector of `model_id`, quantised.
    pub fn put_embedding(
        &self,
        face_id: i64,
        model_id: &str,
        v: &[f32],
        origin: Origin,
    ) -> Result<()> {
        let q = Quantized::new(v);
        self.tx.execute(
            "INSERT OR REPLACE INTO embeddings (face_id, model_id, vector, scale, origin)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                face_id,
                model_id,
                q.bytes(),
                q.scale as f64,
                origin.as_str()
            ],
        )?;
        Ok(())
    }

    /// Remove every vector of `model_id` (and maps from or to it); returns how many vectors.
    pub fn prune_model(&self, model_id: &str) -> Result<usize> {
        let n = self
            .tx
            .execute("DELETE FROM embeddings WHERE model_id = ?1", [model_id])?;
        self.tx.execute(
            "DELETE FROM model_maps WHERE from_model = ?1 OR to_model = ?1",
            [model_id],
        )?;
        Ok(n)
    }

    /// Remove mapped vectors of `model_id` (before a new map is applied).
    pub fn delete_mapped(&self, model_id: &str) -> Result<usize> {
        Ok(self.tx.execute(
            "DELETE FROM embeddings WHERE model_id = ?1 AND origin = 'mapped'",
            [model_id],
        )?)
    }

    /// Store a map (replacing an older one between the same models).
    pub fn save_model_map(&self, m: &ModelMap) -> Result<()> {
        self.tx.execute(
            "INSERT OR REPLACE INTO model_maps
             (from_model, to_model, rows, cols, matrix, fitted_on, accuracy, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                m.from_model,
                m.to_model,
                m.rows as i64,
                m.cols as i64,
                super::f32s_to_blob(&m.matrix),
                m.fitted_on as i64,
                m.accuracy,
                now()
            ],
        )?;
        Ok(())
    }
}
