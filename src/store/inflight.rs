//! Photos being decoded right now, on disk. A decoder that hangs the whole app (until the user
//! ends it) or takes the machine down leaves its photo's row behind; each scan that finds the
//! row counts one more interrupted start, and after `settings::DECODE_INTERRUPTED_MAX` in a row
//! the scan fails the photo instead of trying it again. A decode that ends, either way, removes
//! its row; a changed file starts counting afresh.
//!
//! The rows are written on a connection of their own, one small transaction each, before the
//! decoder sees a byte: a mark that only reached the disk with the scan's next batch would be
//! lost with the very process it is meant to outlive.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection};

use super::{configure, Store, Writer};
use crate::error::{Error, Result};

/// A photo whose decoding was started and never ended: how many times, for the file as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted {
    pub starts: u32,
    pub size: u64,
    pub mtime_ns: i64,
}

/// The journal of decodes in flight (one per scan, shared by its decoding threads).
pub struct InFlight {
    conn: Mutex<Connection>,
}

impl InFlight {
    /// A second connection to the library at `path` (open it with [`Store::open`] first).
    pub fn open(path: &Path) -> Result<Self> {
        let db_err = |cause| Error::Database {
            path: path.to_path_buf(),
            cause,
        };
        let conn = Connection::open(path).map_err(db_err)?;
        configure(&conn).map_err(db_err)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// Decoding of `path` (as it is now: `size`, `mtime_ns`) starts.
    pub fn begin(&self, path: &str, size: u64, mtime_ns: i64) -> Result<()> {
        let conn = self.conn.lock().map_err(|_| poisoned())?;
        conn.execute(
            "INSERT INTO decoding (path, size, mtime_ns, starts) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (path) DO UPDATE SET
               starts = CASE WHEN size = excluded.size AND mtime_ns = excluded.mtime_ns
                             THEN starts + 1 ELSE 1 END,
               size = excluded.size, mtime_ns = excluded.mtime_ns",
            params![path, size as i64, mtime_ns],
        )?;
        Ok(())
    }

    /// Decoding of `path` ended (decoded or failed with a reason).
    pub fn end(&self, path: &str) -> Result<()> {
        let conn = self.conn.lock().map_err(|_| poisoned())?;
        conn.execute("DELETE FROM decoding WHERE path = ?1", [path])?;
        Ok(())
    }
}

fn poisoned() -> Error {
    Error::Invalid("the decode journal's lock was poisoned".into())
}

impl Store {
    /// Decodes a previous process started and never ended, by path.
    pub fn interrupted_decodes(&self) -> Result<HashMap<String, Interrupted>> {
        let mut st = self
            .conn()
            .prepare("SELECT path, starts, size, mtime_ns FROM decoding")?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Interrupted {
                    starts: r.get::<_, i64>(1)? as u32,
                    size: r.get::<_, i64>(2)? as u64,
                    mtime_ns: r.get(3)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl Writer<'_> {
    /// The photo at `path` is settled (failed for good): its journal row goes.
    pub fn clear_decoding(&self, path: &str) -> Result<()> {
        self.tx
            .execute("DELETE FROM decoding WHERE path = ?1", [path])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_count_until_ended_and_restart_for_a_changed_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("l.db");
        let store = Store::open(&db).unwrap();
        let j = InFlight::open(&db).unwrap();
        j.begin("/p/a.heic", 10, 5).unwrap();
        j.begin("/p/a.heic", 10, 5).unwrap();
        j.begin("/p/b.heic", 20, 6).unwrap();
        j.end("/p/b.heic").unwrap();
        let got = store.interrupted_decodes().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            got["/p/a.heic"],
            Interrupted {
                starts: 2,
                size: 10,
                mtime_ns: 5
            }
        );
        // The file changed: counting starts again.
        j.begin("/p/a.heic", 11, 7).unwrap();
        assert_eq!(store.interrupted_decodes().unwrap()["/p/a.heic"].starts, 1);
    }
}
