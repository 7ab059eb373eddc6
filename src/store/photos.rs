//! Queries on `photos`.

use std::path::Path;

use rusqlite::{params, OptionalExtension};

use super::{now, Store, Writer};
use crate::error::Result;

/// Where a photo stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoStatus {
    Indexed,
    Failed,
    Missing,
}

impl PhotoStatus {
    fn as_str(self) -> &'static str {
        match self {
            PhotoStatus::Indexed => "indexed",
            PhotoStatus::Failed => "failed",
            PhotoStatus::Missing => "missing",
        }
    }
    fn parse(s: &str) -> PhotoStatus {
        match s {
            "indexed" => PhotoStatus::Indexed,
            "failed" => PhotoStatus::Failed,
            _ => PhotoStatus::Missing,
        }
    }
}

/// What the scanner needs to know about a stored photo.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoRow {
    pub id: i64,
    pub path: String,
    pub size: u64,
    pub mtime_ns: i64,
    pub content_hash: Option<String>,
    pub status: PhotoStatus,
    /// For a RAW indexed through its sibling: that sibling's path.
    pub linked_to: Option<String>,
    /// Which XMP sidecar the photo's face regions were last read from (see
    /// `library::sidecar::Sidecar::signature`); `None` when never read.
    pub xmp_sig: Option<String>,
    /// How its faces were found (`vision::detect::DETECTION`); `None` for photos that were not
    /// searched for faces (failed, linked) and for libraries from before this was recorded.
    pub detector: Option<String>,
}

/// A photo's size and orientation, for face regions.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoGeometry {
    pub id: i64,
    pub path: String,
    /// Oriented (as shown) size.
    pub width: u32,
    pub height: u32,
    pub orientation: Option<u8>,
    /// See [`PhotoRow::xmp_sig`].
    pub xmp_sig: Option<String>,
}

fn geometry(r: &rusqlite::Row<'_>) -> rusqlite::Result<PhotoGeometry> {
    Ok(PhotoGeometry {
        id: r.get(0)?,
        path: r.get(1)?,
        width: r.get(2)?,
        height: r.get(3)?,
        orientation: r.get(4)?,
        xmp_sig: r.get(5)?,
    })
}

/// Library totals.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    pub photos: u64,
    pub faces: u64,
    pub photos_failed: u64,
    pub photos_missing: u64,
    /// Faces the user marked "not a face / a stranger".
    pub ignored: u64,
    /// `(model id, embeddings)` for every model with stored embeddings.
    pub models: Vec<(String, u64)>,
}

/// Facts about a photo to record.
#[derive(Debug, Clone)]
pub struct PhotoFacts<'a> {
    pub path: &'a str,
    pub size: u64,
    pub mtime_ns: i64,
    pub content_hash: Option<&'a str>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub taken_at: Option<&'a str>,
    pub status: PhotoStatus,
    pub error: Option<&'a str>,
    pub detector: Option<&'a str>,
    /// The photo indexed instead of this one (a RAW beside its JPEG), by path.
    pub linked_to: Option<&'a str>,
    /// The EXIF orientation (1..=8) applied to the stored pixels to show the photo: face boxes
    /// are relative to the shown photo, XMP regions to the stored pixels.
    pub orientation: Option<u8>,
    /// See [`PhotoRow::xmp_sig`].
    pub xmp_sig: Option<&'a str>,
}

impl<'a> PhotoFacts<'a> {
    /// An indexed photo known only by its path and pixel size (no file facts, no hash): the
    /// photos of libraries built in tests and benchmarks.
    pub fn indexed(path: &'a str, width: u32, height: u32) -> Self {
        Self {
            path,
            size: 1,
            mtime_ns: 1,
            content_hash: None,
            width: Some(width),
            height: Some(height),
            taken_at: None,
            status: PhotoStatus::Indexed,
            error: None,
            detector: None,
            linked_to: None,
            orientation: None,
            xmp_sig: None,
        }
    }
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PhotoRow> {
    Ok(PhotoRow {
        id: r.get(0)?,
        path: r.get(1)?,
        size: r.get::<_, i64>(2)? as u64,
        mtime_ns: r.get(3)?,
        content_hash: r.get(4)?,
        status: PhotoStatus::parse(&r.get::<_, String>(5)?),
        linked_to: r.get(6)?,
        xmp_sig: r.get(7)?,
        detector: r.get(8)?,
    })
}

const COLS: &str = "id, path, size, mtime_ns, content_hash, status, linked_to, xmp_sig, detector";

impl Store {
    /// Every stored photo.
    pub fn photos(&self) -> Result<Vec<PhotoRow>> {
        let mut st = self.conn().prepare(&format!("SELECT {COLS} FROM photos"))?;
        let rows = st
            .query_map([], row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// How many faces the photo stored under `path` has (0 when it is not stored).
    pub fn face_count_at(&self, path: &str) -> Result<u64> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM faces f JOIN photos p ON p.id = f.photo_id WHERE p.path = ?1",
            [path],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// The photo stored under `path`, if any.
    pub fn photo_by_path(&self, path: &str) -> Result<Option<PhotoRow>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLS} FROM photos WHERE path = ?1"),
                [path],
                row,
            )
            .optional()?)
    }

    /// What placing face regions on photo `id` needs: path, oriented size, orientation
    /// (`None` for photos indexed before the library recorded it).
    pub fn photo_geometry(&self, id: i64) -> Result<Option<PhotoGeometry>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, path, width, height, orientation, xmp_sig FROM photos
                 WHERE id = ?1 AND status = 'indexed' AND width IS NOT NULL",
                [id],
                geometry,
            )
            .optional()?)
    }

    /// Indexed photos (not linked to a sibling) whose faces were found by a detection other than
    /// `current`: what `scan --redetect` searches again.
    pub fn photos_detected_otherwise(&self, current: &str) -> Result<u64> {
        let n: i64 = self.conn().query_row(
            "SELECT count(*) FROM photos WHERE status = 'indexed' AND linked_to IS NULL
               AND coalesce(detector, '') != ?1",
            [current],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Indexed photos with faces whose regions were last read from a sidecar.
    pub fn photos_with_sidecars(&self) -> Result<Vec<i64>> {
        let mut st = self.conn().prepare(
            "SELECT id FROM photos WHERE status = 'indexed' AND coalesce(xmp_sig, '') != ''
               AND EXISTS (SELECT 1 FROM faces f WHERE f.photo_id = photos.id) ORDER BY id",
        )?;
        let rows = st
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Path of photo `id`.
    pub fn photo_path(&self, id: i64) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row("SELECT path FROM photos WHERE id = ?1", [id], |r| r.get(0))
            .optional()?)
    }

    /// Failed photos under any of `roots` (all when empty), with their reasons, by path.
    pub fn failed_photos(&self, roots: &[&Path]) -> Result<Vec<(String, String)>> {
        let mut st = self.conn().prepare(
            "SELECT path, coalesce(error, '') FROM photos WHERE status = 'failed' ORDER BY path",
        )?;
        let all = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(all
            .into_iter()
            .filter(|(p, _)| roots.is_empty() || roots.iter().any(|r| Path::new(p).starts_with(r)))
            .collect())
    }

    /// Library totals.
    pub fn stats(&self) -> Result<Stats> {
        let c = self.conn();
        let count =
            |sql: &str| -> Result<u64> { Ok(c.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64) };
        let mut st = c.prepare(
            "SELECT model_id, count(*) FROM embeddings GROUP BY model_id ORDER BY model_id",
        )?;
        let models = st
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Stats {
            photos: count("SELECT count(*) FROM photos WHERE status = 'indexed'")?,
            faces: count(
                "SELECT count(*) FROM faces f JOIN photos p ON p.id = f.photo_id WHERE p.status = 'indexed'",
            )?,
            photos_failed: count("SELECT count(*) FROM photos WHERE status = 'failed'")?,
            photos_missing: count("SELECT count(*) FROM photos WHERE status = 'missing'")?,
            ignored: count(
                "SELECT count(*) FROM faces f JOIN photos p ON p.id = f.photo_id
                 WHERE p.status = 'indexed' AND f.ignored = 1",
            )?,
            models,
        })
    }
}

impl Writer<'_> {
    /// Insert or update the photo at `facts.path`; returns its id.
    pub fn upsert_photo(&self, facts: &PhotoFacts<'_>) -> Result<i64> {
        let id = self.tx.query_row(
            "INSERT INTO photos (path, size, mtime_ns, content_hash, width, height, taken_at,
                                 status, error, detector, indexed_at, linked_to, orientation,
                                 xmp_sig)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT(path) DO UPDATE SET
                size = excluded.size, mtime_ns = excluded.mtime_ns,
                content_hash = excluded.content_hash, width = excluded.width,
                height = excluded.height, taken_at = excluded.taken_at,
                status = excluded.status, error = excluded.error,
                detector = excluded.detector, indexed_at = excluded.indexed_at,
                linked_to = excluded.linked_to,
                orientation = coalesce(excluded.orientation, orientation),
                xmp_sig = excluded.xmp_sig
             RETURNING id",
            params![
                facts.path,
                facts.size as i64,
                facts.mtime_ns,
                facts.content_hash,
                facts.width,
                facts.height,
                facts.taken_at,
                facts.status.as_str(),
                facts.error,
                facts.detector,
                now(),
                facts.linked_to,
                facts.orientation,
                facts.xmp_sig
            ],
            |r| r.get(0),
        )?;
        Ok(id)
    }

    /// A photo moved: give row `id` its new path and file facts; its faces stay attached.
    /// A stale row already at the new path (a missing or failed entry) gives way.
    pub fn move_photo(&self, id: i64, path: &str, size: u64, mtime_ns: i64) -> Result<()> {
        self.tx.execute(
            "DELETE FROM photos WHERE path = ?1 AND id != ?2",
            params![path, id],
        )?;
        self.tx.execute(
            "UPDATE photos SET path = ?2, size = ?3, mtime_ns = ?4, status = 'indexed', error = NULL
             WHERE id = ?1",
            params![id, path, size as i64, mtime_ns],
        )?;
        Ok(())
    }

    /// Record which sidecar a photo's regions were read from (see [`PhotoRow::xmp_sig`]).
    pub fn set_xmp_sig(&self, id: i64, sig: &str) -> Result<()> {
        self.tx.execute(
            "UPDATE photos SET xmp_sig = ?2 WHERE id = ?1",
            params![id, sig],
        )?;
        Ok(())
    }

    /// Record the orientation of a photo indexed before Likeness kept it.
    pub fn set_orientation(&self, id: i64, orientation: u8) -> Result<()> {
        self.tx.execute(
            "UPDATE photos SET orientation = ?2 WHERE id = ?1",
            params![id, orientation],
        )?;
        Ok(())
    }

    /// Mark photos missing (their faces and everything attached to them are kept).
    pub fn mark_missing(&self, ids: &[i64]) -> Result<()> {
        let mut st = self
            .tx
            .prepare("UPDATE photos SET status = 'missing' WHERE id = ?1")?;
        for id in ids {
            st.execute([id])?;
        }
        Ok(())
    }
}
