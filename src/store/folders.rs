//! Queries on `folders`: the folders the user added to the library.

use rusqlite::params;

use super::{now, Store};
use crate::error::Result;

/// A library folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderRow {
    pub id: i64,
    pub path: String,
    /// Seconds since the Unix epoch.
    pub added_at: i64,
}

impl Store {
    /// The library's folders, by path.
    pub fn folders(&self) -> Result<Vec<FolderRow>> {
        let mut st = self
            .conn()
            .prepare("SELECT id, path, added_at FROM folders ORDER BY path")?;
        let rows = st
            .query_map([], |r| {
                Ok(FolderRow {
                    id: r.get(0)?,
                    path: r.get(1)?,
                    added_at: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Add a folder (no-op if it is already there); returns its id.
    pub fn add_folder(&mut self, path: &str) -> Result<i64> {
        self.conn().execute(
            "INSERT INTO folders (path, added_at) VALUES (?1, ?2) ON CONFLICT(path) DO NOTHING",
            params![path, now()],
        )?;
        Ok(self
            .conn()
            .query_row("SELECT id FROM folders WHERE path = ?1", [path], |r| {
                r.get(0)
            })?)
    }

    /// Forget a folder. Its photos and faces stay in the database (and with them every name and
    /// decision), so adding it back costs no rescan.
    pub fn remove_folder(&mut self, id: i64) -> Result<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM folders WHERE id = ?1", [id])?
            > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_list_remove() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("l.db")).unwrap();
        assert!(s.folders().unwrap().is_empty());
        let b = s.add_folder("/photos/b").unwrap();
        let a = s.add_folder("/photos/a").unwrap();
        assert_eq!(
            s.add_folder("/photos/b").unwrap(),
            b,
            "adding twice is a no-op"
        );
        let got: Vec<_> = s.folders().unwrap().into_iter().map(|f| f.path).collect();
        assert_eq!(got, ["/photos/a", "/photos/b"]);
        assert!(s.remove_folder(a).unwrap());
        assert!(!s.remove_folder(a).unwrap());
        assert_eq!(s.folders().unwrap().len(), 1);
    }
}
