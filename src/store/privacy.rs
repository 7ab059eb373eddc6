//! Privacy of the library file: who may read it (owner only), and forgetting face data for good.
//!
//! Face embeddings are biometric data. The database and its `-wal`/`-shm` companions are made
//! 0600 (SQLite gives the companions the main file's mode), the folder Likeness creates for it
//! 0700; libraries made before this are tightened when opened. Forgetting deletes with
//! `secure_delete` on (freed pages are overwritten with zeros), then checkpoints and truncates
//! the WAL and rebuilds the file with VACUUM, so no vector or thumbnail byte survives anywhere.

use std::path::Path;

use rusqlite::OptionalExtension;

use super::{Store, Writer};
use crate::error::{Error, Result};

/// Person ?1 and everyone merged into it, directly or through others, as `merged(id)`: what
/// forgetting a person removes.
const MERGED: &str = "WITH RECURSIVE merged(id) AS (
    SELECT ?1 UNION SELECT p.id FROM people p JOIN merged m ON p.merged_into = m.id)";

/// Owner read/write only.
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;
/// Owner only.
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;

/// Create `dir` (and its parents) for a library, owner-only on Unix. An existing folder is left
/// as it is unless `tighten_existing`: the user may keep a library in a shared folder of their
/// own choosing (`--db`), but the platform data folder Likeness owns is always tightened.
pub fn prepare_dir(dir: &Path, tighten_existing: bool) -> Result<()> {
    let existed = dir.is_dir();
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    #[cfg(unix)]
    if !existed || tighten_existing {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))
            .map_err(|e| Error::io(dir, e))?;
    }
    let _ = (existed, tighten_existing);
    Ok(())
}

/// Make the database file exist with owner-only permissions before SQLite opens it, and tighten
/// the file and its `-wal`/`-shm`/`-journal` companions when they are already there.
pub fn protect_files(db: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if !db.exists() {
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(FILE_MODE)
                .open(db)
                .map_err(|e| Error::io(db, e))?;
        }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            let p = std::path::PathBuf::from(name);
            if let Ok(meta) = std::fs::metadata(&p) {
                if meta.permissions().mode() & 0o777 != FILE_MODE {
                    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(FILE_MODE))
                        .map_err(|e| Error::io(&p, e))?;
                }
            }
        }
    }
    let _ = db;
    Ok(())
}

impl Writer<'_> {
    /// Delete every face of `person_id` (and of the people merged into it), with their vectors,
    /// thumbnails, rejections and pair answers, and the people themselves. Returns the faces.
    pub fn forget_person(&self, person_id: i64) -> Result<u64> {
        let ids: Vec<i64> = {
            let mut st = self
                .tx
                .prepare(&format!("{MERGED} SELECT id FROM merged"))?;
            let rows = st.query_map([person_id], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut faces = 0;
        for id in &ids {
            // Region names that were not applied name this person too.
            self.tx.execute(
                "DELETE FROM region_conflicts WHERE face_id IN
                   (SELECT id FROM faces WHERE person_id = ?1)
                 OR name = (SELECT name FROM people WHERE id = ?1)",
                [id],
            )?;
            let name: Option<String> = self
                .tx
                .query_row("SELECT name FROM people WHERE id = ?1", [id], |r| r.get(0))
                .optional()?
                .flatten();
            if let Some(n) = name {
                self.tx.execute(
                    "DELETE FROM region_names WHERE name = ?1",
                    [super::regions::region_key(&n)],
                )?;
            }
            faces += self
                .tx
                .execute("DELETE FROM faces WHERE person_id = ?1", [id])?
                as u64;
        }
        for id in ids.iter().rev() {
            self.tx.execute(
                "UPDATE people SET merged_into = NULL WHERE merged_into = ?1",
                [id],
            )?;
            self.tx.execute("DELETE FROM people WHERE id = ?1", [id])?;
        }
        self.forget_history()?;
        Ok(faces)
    }

    /// Delete every face, vector, thumbnail, person, answer and harmonic map. Photos and folders
    /// stay (an unchanged photo is not read again, so its faces do not come back by themselves).
    pub fn forget_all(&self) -> Result<u64> {
        let faces = self.tx.execute("DELETE FROM faces", [])? as u64;
        self.tx.execute_batch(
            "DELETE FROM face_rejections; DELETE FROM face_pairs;
             UPDATE people SET merged_into = NULL; DELETE FROM people; DELETE FROM model_maps;
             DELETE FROM region_conflicts; DELETE FROM region_names;",
        )?;
        self.forget_history()?;
        Ok(faces)
    }

    /// The undo history names faces and people that no longer exist: it goes too (forgetting
    /// is not undoable, and the app says so before it starts), and so does the change log of
    /// face ids (a store kept open then reads its vectors afresh).
    fn forget_history(&self) -> Result<()> {
        self.tx.execute_batch(
            "UPDATE face_rejections SET decision_id = NULL;
             UPDATE face_pairs SET decision_id = NULL;
             DELETE FROM decisions; DELETE FROM face_changes;",
        )?;
        Ok(())
    }
}

impl Store {
    /// The photos (id, path) whose faces `forget_person(person)` (`None`: `forget_all`) removes.
    pub fn forget_photos(&self, person: Option<i64>) -> Result<Vec<(i64, String)>> {
        let sql = match person {
            Some(_) => format!(
                "{MERGED} SELECT DISTINCT ph.id, ph.path FROM photos ph JOIN faces f
                   ON f.photo_id = ph.id WHERE f.person_id IN (SELECT id FROM merged)"
            ),
            None => "SELECT id, path FROM photos WHERE ?1 IS NULL".to_string(),
        };
        let mut st = self.conn().prepare(&sql)?;
        let rows = st
            .query_map([person], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Run `f` (a forget) with `secure_delete` on, then leave no trace of the deleted bytes:
    /// checkpoint and truncate the WAL, rebuild the file, checkpoint again.
    pub fn forget<T>(&mut self, f: impl FnOnce(&Writer<'_>) -> Result<T>) -> Result<T> {
        self.conn.pragma_update(None, "secure_delete", "ON")?;
        let out = self.write(f);
        let scrub = (|| -> Result<()> {
            self.conn
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")?;
            self.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            Ok(())
        })();
        self.conn.pragma_update(None, "secure_delete", "OFF")?;
        let out = out?;
        scrub?;
        Ok(out)
    }
}

/// What a forget would remove, for the confirmation the user sees first.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ForgetPreview {
    pub faces: u64,
    pub people: u64,
    /// The person's name (forgetting one person).
    pub name: Option<String>,
}

impl Store {
    /// Count what `forget_person(person)` (or, for `None`, `forget_all`) would delete. `None`
    /// when the person does not exist.
    pub fn forget_preview(&self, person: Option<i64>) -> Result<Option<ForgetPreview>> {
        let c = self.conn();
        let Some(id) = person else {
            let faces: i64 = c.query_row("SELECT count(*) FROM faces", [], |r| r.get(0))?;
            let people: i64 = c.query_row(
                "SELECT count(*) FROM people WHERE merged_into IS NULL",
                [],
                |r| r.get(0),
            )?;
            return Ok(Some(ForgetPreview {
                faces: faces as u64,
                people: people as u64,
                name: None,
            }));
        };
        let Some(name) = c
            .query_row("SELECT name FROM people WHERE id = ?1", [id], |r| {
                r.get::<_, Option<String>>(0)
            })
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })?
        else {
            return Ok(None);
        };
        let faces: i64 = c.query_row(
            &format!(
                "{MERGED} SELECT count(*) FROM faces WHERE person_id IN (SELECT id FROM merged)"
            ),
            [id],
            |r| r.get(0),
        )?;
        Ok(Some(ForgetPreview {
            faces: faces as u64,
            people: 1,
            name,
        }))
    }
}
