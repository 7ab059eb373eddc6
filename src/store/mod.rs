//! SQLite storage: opening (pragmas), migrations, and typed queries per table. The only module
//! that writes SQL; it holds no business rules.

mod embeddings;
mod faces;
mod folders;
mod inflight;
pub mod migrations;
mod people;
mod photos;
mod privacy;
mod regions;
mod vectors;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use embeddings::{FacePhoto, FaceToEmbed, ModelCount, ModelMap, Origin, PhotoToEmbed};
pub use faces::{EmbeddingRow, FaceRow, FaceSource, NewFace};
pub use folders::FolderRow;
pub use inflight::{InFlight, Interrupted};
pub use people::{
    Assigner, ClusterFace, DecisionRow, FaceState, FaceTies, PersonFace, PersonRow, UngroupedFace,
};
pub use photos::{PhotoFacts, PhotoGeometry, PhotoRow, PhotoStatus, Stats};
pub use privacy::{prepare_dir, protect_files, ForgetPreview};
pub use regions::{region_key, NamedFace, RegionConflict};
pub use vectors::Matrix;

use crate::error::{Error, Result};

/// The default library database: `<platform data dir>/likeness.db`.
pub fn default_db_path() -> PathBuf {
    directories::ProjectDirs::from("org", "Likeness", "likeness")
        .map(|d| d.data_dir().join("likeness.db"))
        .unwrap_or_else(|| PathBuf::from("likeness.db"))
}

/// Seconds since the Unix epoch, for `*_at` columns.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// An open library database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// The vectors last read (`Store::cluster_matrix`).
    kept: vectors::Kept,
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

impl Store {
    /// Open (creating if needed) the database at `path` and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // The data folder Likeness owns is always owner-only; a folder the user chose is
            // only made so when Likeness creates it.
            let ours = default_db_path().parent() == Some(dir);
            privacy::prepare_dir(dir, ours)?;
        }
        privacy::protect_files(path)?;
        let db_err = |cause| Error::Database {
            path: path.to_path_buf(),
            cause,
        };
        let mut conn = Connection::open(path).map_err(db_err)?;
        // WAL lets the app read while a scan writes; it is a property of the file.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err)?;
        configure(&conn).map_err(db_err)?;
        let ok: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(db_err)?;
        if ok != "ok" {
            return Err(Error::Invalid(format!(
                "database {} is damaged ({ok}); restore a backup or start a new one with --db",
                path.display()
            )));
        }
        migrations::migrate(&mut conn, path)?;
        // The change log only needs to reach back as far as a store kept open may lag.
        conn.execute(
            "DELETE FROM face_changes WHERE seq <= (SELECT max(seq) FROM face_changes) - ?1",
            [vectors::LOG_KEPT],
        )
        .map_err(db_err)?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            kept: Default::default(),
        })
    }

    /// Open an existing database read-only (for views and reports while a scan writes).
    pub fn open_readonly(path: &Path) -> Result<Self> {
        let db_err = |cause| Error::Database {
            path: path.to_path_buf(),
            cause,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db_err)?;
        configure(&conn).map_err(db_err)?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            kept: Default::default(),
        })
    }

    /// Where this database lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, for the typed query modules.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Run `f` in one transaction: everything or nothing is written.
    pub fn write<T>(&mut self, f: impl FnOnce(&Writer<'_>) -> Result<T>) -> Result<T> {
        let tx = self.conn.transaction()?;
        let out = f(&Writer { tx: &tx })?;
        tx.commit()?;
        Ok(out)
    }

    /// `PRAGMA integrity_check` result ("ok" when healthy).
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<u32> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }
}

/// Writes inside one transaction (see [`Store::write`]).
pub struct Writer<'a> {
    tx: &'a rusqlite::Transaction<'a>,
}

/// Little-endian `f32` BLOB encoding for embeddings and landmarks.
pub fn f32s_to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Inverse of [`f32s_to_blob`].
pub fn blob_to_f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_roundtrip_is_little_endian() {
        let v = [1.0f32, -2.5, 3.25e-3];
        let b = f32s_to_blob(&v);
        assert_eq!(&b[..4], &1.0f32.to_le_bytes());
        assert_eq!(blob_to_f32s(&b), v);
    }

    #[test]
    fn open_sets_pragmas_and_latest_schema() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("sub/l.db")).unwrap();
        assert_eq!(s.schema_version().unwrap(), migrations::latest());
        let fk: i64 = s
            .conn()
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        let jm: String = s
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(jm, "wal");
        assert_eq!(s.integrity_check().unwrap(), "ok");
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.db");
        {
            let c = Connection::open(&p).unwrap();
            c.pragma_update(None, "user_version", 99).unwrap();
        }
        let e = Store::open(&p).err().unwrap().to_string();
        assert!(e.contains("newer"), "{e}");
    }

    #[test]
    fn failed_migration_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.db");
        {
            // A v1 database where the table v2 creates already exists: step 2 must fail and
            // leave the file at v1 with its data.
            let mut c = Connection::open(&p).unwrap();
            c.execute_batch(migrations::MIGRATIONS[0].sql()).unwrap();
            c.pragma_update(None, "user_version", 1).unwrap();
            c.execute_batch(
                "CREATE TABLE decisions (x); INSERT INTO folders(path, added_at) VALUES ('/p', 1);",
            )
            .unwrap();
            let _ = &mut c;
        }
        let e = Store::open(&p).err().unwrap().to_string();
        assert!(e.contains("version 2"), "{e}");
        let c = Connection::open(&p).unwrap();
        let v: u32 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 1);
        let n: i64 = c
            .query_row("SELECT count(*) FROM folders", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        let people: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'people'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(people, 0, "half-applied migration");
    }
}
