//! Queries for faces that travel: region conflicts found while importing XMP, the named faces
//! an export writes, and savepoints for an import step that may be refused.

use rusqlite::{params, OptionalExtension};

use super::{now, Store, Writer};
use crate::error::Result;

/// How a region's name is compared with people's names and remembered: trimmed, any case.
pub fn region_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// A region name from another program that Likeness did not apply, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RegionConflict {
    pub photo: String,
    /// The face the region matched, when it matched one.
    pub face_id: Option<i64>,
    pub name: String,
    pub reason: String,
}

/// A face with a name, for export.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedFace {
    pub photo_id: i64,
    pub face_id: i64,
    /// `[x1, y1, x2, y2]` in the photo's oriented pixels.
    pub bbox: [f32; 4],
    pub person_id: i64,
    pub name: String,
}

impl Store {
    /// Every region conflict, by photo path.
    pub fn region_conflicts(&self) -> Result<Vec<RegionConflict>> {
        let mut st = self.conn().prepare(
            "SELECT p.path, c.face_id, c.name, c.reason FROM region_conflicts c
             JOIN photos p ON p.id = c.photo_id ORDER BY p.path, c.id",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok(RegionConflict {
                    photo: r.get(0)?,
                    face_id: r.get(1)?,
                    name: r.get(2)?,
                    reason: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The named faces of indexed photos, by photo then face. With `person`, only the photos
    /// where that person appears, but every named face of those photos (a sidecar holds all of
    /// a photo's regions, so writing one person's alone would drop the others').
    pub fn named_faces(&self, person: Option<i64>) -> Result<Vec<NamedFace>> {
        let mut st = self.conn().prepare(
            "SELECT f.photo_id, f.id, f.x1, f.y1, f.x2, f.y2, pe.id, pe.name
             FROM faces f JOIN people pe ON pe.id = f.person_id
             JOIN photos ph ON ph.id = f.photo_id
             WHERE pe.name IS NOT NULL AND pe.merged_into IS NULL AND ph.status = 'indexed'
               AND (?1 IS NULL OR f.photo_id IN (SELECT photo_id FROM faces WHERE person_id = ?1))
             ORDER BY f.photo_id, f.id",
        )?;
        let rows = st
            .query_map([person], |r| {
                Ok(NamedFace {
                    photo_id: r.get(0)?,
                    face_id: r.get(1)?,
                    bbox: [
                        r.get::<_, f64>(2)? as f32,
                        r.get::<_, f64>(3)? as f32,
                        r.get::<_, f64>(4)? as f32,
                        r.get::<_, f64>(5)? as f32,
                    ],
                    person_id: r.get(6)?,
                    name: r.get(7)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

impl Writer<'_> {
    /// Run `f` inside a savepoint: if it fails, what it wrote is rolled back and the rest of
    /// the transaction goes on (an import step that would override the user is refused, the
    /// others still apply).
    pub fn attempt<T>(&self, f: impl FnOnce(&Writer<'_>) -> Result<T>) -> Result<T> {
        self.tx.execute_batch("SAVEPOINT attempt")?;
        match f(self) {
            Ok(v) => {
                self.tx.execute_batch("RELEASE attempt")?;
                Ok(v)
            }
            Err(e) => {
                self.tx
                    .execute_batch("ROLLBACK TO attempt; RELEASE attempt")?;
                Err(e)
            }
        }
    }

    /// Forget the conflicts of a photo's region called `name` ("" for unreadable sidecars),
    /// about to be looked at again.
    pub fn clear_region_conflicts(&self, photo_id: i64, name: &str) -> Result<()> {
        self.tx.execute(
            "DELETE FROM region_conflicts WHERE photo_id = ?1 AND name = ?2",
            params![photo_id, name],
        )?;
        Ok(())
    }

    /// The region names already taken from a photo (lower case).
    pub fn region_names(&self, photo_id: i64) -> Result<std::collections::HashSet<String>> {
        let mut st = self
            .tx
            .prepare("SELECT name FROM region_names WHERE photo_id = ?1")?;
        let rows = st
            .query_map([photo_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Remember that a photo's region named `key` (lower case) was taken.
    pub fn add_region_name(&self, photo_id: i64, key: &str) -> Result<()> {
        self.tx.execute(
            "INSERT OR IGNORE INTO region_names (photo_id, name) VALUES (?1, ?2)",
            params![photo_id, key],
        )?;
        Ok(())
    }

    /// Record a region name that was not applied.
    pub fn add_region_conflict(
        &self,
        photo_id: i64,
        face_id: Option<i64>,
        name: &str,
        reason: &str,
    ) -> Result<()> {
        self.tx.execute(
            "INSERT INTO region_conflicts (photo_id, face_id, name, reason, found_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![photo_id, face_id, name, reason, now()],
        )?;
        Ok(())
    }

    /// The photo a face belongs to, with the face row.
    pub fn face(&self, face_id: i64) -> Result<Option<super::FaceRow>> {
        Ok(self
            .tx
            .query_row(
                &format!(
                    "SELECT {} FROM faces WHERE id = ?1",
                    super::faces::FACE_COLS
                ),
                [face_id],
                super::faces::face_row,
            )
            .optional()?)
    }
}
