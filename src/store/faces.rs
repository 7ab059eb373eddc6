//! Queries on `faces`, `face_thumbs` and `embeddings`.

use rusqlite::{params, OptionalExtension};

use super::{blob_to_f32s, f32s_to_blob, now, Store, Writer};
use crate::error::Result;

/// Where a face came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaceSource {
    /// Found by the detector.
    #[default]
    Detected,
    /// Drawn by the user where the detector found nothing.
    Drawn,
    /// Made from a face region another program wrote into the photo's XMP.
    Imported,
}

impl FaceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            FaceSource::Detected => "detected",
            FaceSource::Drawn => "drawn",
            FaceSource::Imported => "imported",
        }
    }
    fn parse(s: &str) -> FaceSource {
        match s {
            "drawn" => FaceSource::Drawn,
            "imported" => FaceSource::Imported,
            _ => FaceSource::Detected,
        }
    }
}

/// A face to store, with its thumbnail and embedding.
#[derive(Debug, Clone)]
pub struct NewFace {
    /// `[x1, y1, x2, y2]` in the photo's oriented pixels.
    pub bbox: [f32; 4],
    pub landmarks: [[f32; 2]; 5],
    pub score: f32,
    /// JPEG thumbnail.
    pub thumb: Vec<u8>,
    pub embedding: Vec<f32>,
    pub source: FaceSource,
}

/// A stored face.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceRow {
    pub id: i64,
    pub photo_id: i64,
    pub bbox: [f32; 4],
    pub landmarks: [[f32; 2]; 5],
    pub score: f32,
    pub source: FaceSource,
}

pub(super) fn face_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FaceRow> {
    let lm = blob_to_f32s(&r.get::<_, Vec<u8>>(6)?);
    let mut landmarks = [[0.0f32; 2]; 5];
    for (i, p) in landmarks.iter_mut().enumerate() {
        *p = [
            lm.get(2 * i).copied().unwrap_or(0.0),
            lm.get(2 * i + 1).copied().unwrap_or(0.0),
        ];
    }
    Ok(FaceRow {
        id: r.get(0)?,
        photo_id: r.get(1)?,
        bbox: [
            r.get::<_, f64>(2)? as f32,
            r.get::<_, f64>(3)? as f32,
            r.get::<_, f64>(4)? as f32,
            r.get::<_, f64>(5)? as f32,
        ],
        landmarks,
        score: r.get::<_, f64>(7)? as f32,
        source: FaceSource::parse(&r.get::<_, String>(8)?),
    })
}

pub(super) const FACE_COLS: &str = "id, photo_id, x1, y1, x2, y2, landmarks, score, source";

/// An embedding with the face and photo it belongs to.
#[derive(Debug, Clone)]
pub struct EmbeddingRow {
    pub face_id: i64,
    pub photo_id: i64,
    pub vector: Vec<f32>,
}

impl Store {
    /// Faces of one photo.
    pub fn faces_of_photo(&self, photo_id: i64) -> Result<Vec<FaceRow>> {
        let mut st = self.conn().prepare(&format!(
            "SELECT {FACE_COLS} FROM faces WHERE photo_id = ?1 ORDER BY id"
        ))?;
        let rows = st
            .query_map([photo_id], face_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Every face of indexed photos, by id.
    pub fn all_faces(&self) -> Result<Vec<FaceRow>> {
        let mut st = self.conn().prepare(&format!(
            "SELECT {FACE_COLS} FROM faces WHERE photo_id IN (SELECT id FROM photos WHERE status = 'indexed') ORDER BY id"
        ))?;
        let rows = st
            .query_map([], face_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Embeddings of `model_id` for faces of indexed photos, by face id.
    pub fn embeddings(&self, model_id: &str) -> Result<Vec<super::faces::EmbeddingRow>> {
        let mut st = self.conn().prepare(
            "SELECT e.face_id, f.photo_id, e.vector, e.scale FROM embeddings e
             JOIN faces f ON f.id = e.face_id JOIN photos p ON p.id = f.photo_id
             WHERE e.model_id = ?1 AND p.status = 'indexed' ORDER BY e.face_id",
        )?;
        let rows = st
            .query_map([model_id], |r| {
                Ok(EmbeddingRow {
                    face_id: r.get(0)?,
                    photo_id: r.get(1)?,
                    vector: super::embeddings::vector(&r.get::<_, Vec<u8>>(2)?, r.get(3)?),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The JPEG thumbnail of a face.
    pub fn face_thumb(&self, face_id: i64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT jpeg FROM face_thumbs WHERE face_id = ?1",
                [face_id],
                |r| r.get(0),
            )
            .optional()?)
    }
}

impl Writer<'_> {
    /// Faces of one photo, inside the transaction.
    pub fn faces_of_photo(&self, photo_id: i64) -> Result<Vec<FaceRow>> {
        let mut st = self.tx.prepare(&format!(
            "SELECT {FACE_COLS} FROM faces WHERE photo_id = ?1 ORDER BY id"
        ))?;
        let rows = st
            .query_map([photo_id], face_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Add a face with its thumbnail and embedding; returns the face id.
    pub fn insert_face(&self, photo_id: i64, face: &NewFace, model_id: &str) -> Result<i64> {
        let lm: Vec<f32> = face.landmarks.iter().flatten().copied().collect();
        let id: i64 = self.tx.query_row(
            "INSERT INTO faces (photo_id, x1, y1, x2, y2, landmarks, score, created_at, source)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
            params![
                photo_id,
                face.bbox[0],
                face.bbox[1],
                face.bbox[2],
                face.bbox[3],
                f32s_to_blob(&lm),
                face.score,
                now(),
                face.source.as_str()
            ],
            |r| r.get(0),
        )?;
        self.set_face_data(id, face, model_id)?;
        Ok(id)
    }

    /// Replace the geometry, thumbnail and embedding of an existing face (same person, same
    /// decisions: the photo was re-processed and this face matched the old one).
    pub fn update_face(&self, face_id: i64, face: &NewFace, model_id: &str) -> Result<()> {
        let lm: Vec<f32> = face.landmarks.iter().flatten().copied().collect();
        self.tx.execute(
            "UPDATE faces SET x1 = ?2, y1 = ?3, x2 = ?4, y2 = ?5, landmarks = ?6, score = ?7 WHERE id = ?1",
            params![
                face_id,
                face.bbox[0],
                face.bbox[1],
                face.bbox[2],
                face.bbox[3],
                f32s_to_blob(&lm),
                face.score
            ],
        )?;
        self.set_face_data(face_id, face, model_id)
    }

    fn set_face_data(&self, face_id: i64, face: &NewFace, model_id: &str) -> Result<()> {
        self.tx.execute(
            "INSERT OR REPLACE INTO face_thumbs (face_id, jpeg) VALUES (?1, ?2)",
            params![face_id, face.thumb],
        )?;
        // New pixels: vectors of other models (and mapped ones) no longer describe this face.
        self.tx.execute(
            "DELETE FROM embeddings WHERE face_id = ?1 AND model_id != ?2",
            params![face_id, model_id],
        )?;
        self.put_embedding(face_id, model_id, &face.embedding, super::Origin::Model)
    }

    /// Delete faces (and, by cascade, their thumbnails and embeddings).
    pub fn delete_faces(&self, ids: &[i64]) -> Result<()> {
        let mut st = self.tx.prepare("DELETE FROM faces WHERE id = ?1")?;
        for id in ids {
            st.execute([id])?;
        }
        Ok(())
    }
}
