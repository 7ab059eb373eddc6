//! Queries on `folders`: the folders the user added to the library.

use rusqlite::{params, OptionalExtension};

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
        self.mark_folders_recorded()?;
        Ok(self
            .conn()
            .query_row("SELECT id FROM folders WHERE path = ?1", [path], |r| {
                r.get(0)
            })?)
    }

    /// Record the folders a scan walked (`roots`, canonical) as library folders, except those
    /// inside a folder already there (and replacing those inside them): a library scanned from
    /// the command line then shows and rescans its folders in the app.
    pub fn add_scanned_folders(&mut self, roots: &[std::path::PathBuf]) -> Result<()> {
        // A library scanned before scans recorded folders keeps its other folders too.
        self.adopt_photo_folders()?;
        for r in roots {
            let known = self.folders()?;
            if known.iter().any(|k| r.starts_with(&k.path)) {
                continue;
            }
            // A folder inside the new one is covered by it: one walk, not two.
            for k in known
                .iter()
                .filter(|k| std::path::Path::new(&k.path).starts_with(r))
            {
                self.remove_folder(k.id)?;
            }
            self.add_folder(&r.to_string_lossy())?;
        }
        Ok(())
    }

    /// For a library with photos but no folders (scanned from the command line before scans
    /// recorded their folders): adopt the folders its photos came from, and return them.
    /// Once per library: folders the user removes later stay removed.
    pub fn adopt_photo_folders(&mut self) -> Result<Vec<String>> {
        let recorded: Option<String> = self
            .conn()
            .query_row(
                "SELECT value FROM library_meta WHERE key = 'folders_recorded'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if recorded.is_some() || !self.folders()?.is_empty() {
            return Ok(Vec::new());
        }
        let dirs: Vec<std::path::PathBuf> = {
            let mut st = self.conn().prepare("SELECT path FROM photos")?;
            let paths = st
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut dirs: Vec<std::path::PathBuf> = paths
                .iter()
                .filter_map(|p| std::path::Path::new(p).parent().map(|d| d.to_path_buf()))
                .collect();
            dirs.sort();
            dirs.dedup();
            dirs
        };
        let roots = scan_roots(&dirs);
        for r in &roots {
            self.add_folder(r)?;
        }
        self.mark_folders_recorded()?;
        Ok(roots)
    }

    fn mark_folders_recorded(&mut self) -> Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO library_meta (key, value) VALUES ('folders_recorded', '1')",
            [],
        )?;
        Ok(())
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

/// The folders a set of photo directories most likely came from: the common ancestor of the
/// directories that share their first three components (`/home/me/Pictures/2019` and
/// `/home/me/Pictures/2020` give `/home/me/Pictures`; `/media/usb/DCIM/100` stays apart), never
/// a shallower folder than that, so a guess never makes a scan walk a whole home directory.
/// Photos directly in a shallower folder are left out (the user adds that folder if wanted).
fn scan_roots(dirs: &[std::path::PathBuf]) -> Vec<String> {
    use std::collections::BTreeMap;
    use std::path::{Component, PathBuf};
    let mut groups: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    for d in dirs {
        let mut key = PathBuf::new();
        let mut normal = 0;
        for c in d.components() {
            key.push(c.as_os_str());
            if matches!(c, Component::Normal(_)) {
                normal += 1;
                if normal == 3 {
                    break;
                }
            }
        }
        groups
            .entry(key)
            .and_modify(|common| {
                while !d.starts_with(&*common) {
                    if !common.pop() {
                        break;
                    }
                }
            })
            .or_insert_with(|| d.clone());
    }
    // Never a folder shallower than three components (a home directory, a drive's root): the
    // photos right in it are left for the user to add; and no folder inside another.
    let deep = |p: &std::path::Path| {
        p.components()
            .filter(|c| matches!(c, Component::Normal(_)))
            .count()
            >= 3
    };
    let mut roots: Vec<PathBuf> = groups.into_values().filter(|p| deep(p)).collect();
    roots.sort();
    roots.dedup();
    let kept: Vec<PathBuf> = roots
        .iter()
        .filter(|r| !roots.iter().any(|o| o != *r && r.starts_with(o)))
        .cloned()
        .collect();
    kept.iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_roots_are_common_ancestors_never_above_three_levels() {
        let d = |v: &[&str]| -> Vec<std::path::PathBuf> { v.iter().map(Into::into).collect() };
        assert_eq!(
            scan_roots(&d(&["/home/me/Pictures/2019", "/home/me/Pictures/2020/x"])),
            vec!["/home/me/Pictures"]
        );
        assert_eq!(
            scan_roots(&d(&[
                "/home/me/Pictures/a",
                "/home/me/Downloads",
                "/media/usb/DCIM/100"
            ])),
            vec![
                "/home/me/Downloads",
                "/home/me/Pictures/a",
                "/media/usb/DCIM/100"
            ]
        );
        assert_eq!(
            scan_roots(&d(&["/tmp/gui/photos/Ann", "/tmp/gui/photos/Ben"])),
            vec!["/tmp/gui/photos"]
        );
        // A home directory or a drive's root is never guessed; nested roots collapse.
        assert!(scan_roots(&d(&["/photos", "/home/me"])).is_empty());
        assert_eq!(
            scan_roots(&d(&["/home/me", "/home/me/Pictures/a"])),
            vec!["/home/me/Pictures/a"]
        );
        assert!(scan_roots(&[]).is_empty());
    }

    #[test]
    fn a_library_scanned_without_folders_adopts_its_photos_folders_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("l.db")).unwrap();
        for p in [
            "/home/me/Pictures/a/1.jpg",
            "/home/me/Pictures/b/c/2.jpg",
            "/media/usb/DCIM/3.jpg",
        ] {
            s.write(|w| {
                w.upsert_photo(&super::super::PhotoFacts {
                    path: p,
                    size: 1,
                    mtime_ns: 1,
                    content_hash: None,
                    width: None,
                    height: None,
                    taken_at: None,
                    status: super::super::PhotoStatus::Indexed,
                    error: None,
                    detector: None,
                    linked_to: None,
                    orientation: None,
                    xmp_sig: None,
                })
            })
            .unwrap();
        }
        assert_eq!(
            s.adopt_photo_folders().unwrap(),
            vec!["/home/me/Pictures", "/media/usb/DCIM"]
        );
        let got: Vec<_> = s.folders().unwrap().into_iter().map(|f| f.path).collect();
        assert_eq!(got, vec!["/home/me/Pictures", "/media/usb/DCIM"]);
        assert!(s.adopt_photo_folders().unwrap().is_empty());
    }

    #[test]
    fn scans_record_their_folders_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("l.db")).unwrap();
        s.add_scanned_folders(&["/photos/a".into(), "/photos/b".into()])
            .unwrap();
        s.add_scanned_folders(&["/photos/a/sub".into(), "/photos/b".into()])
            .unwrap();
        let got: Vec<_> = s.folders().unwrap().into_iter().map(|f| f.path).collect();
        assert_eq!(got, vec!["/photos/a", "/photos/b"]);
        s.add_scanned_folders(&["/photos".into()]).unwrap();
        let got: Vec<_> = s.folders().unwrap().into_iter().map(|f| f.path).collect();
        assert_eq!(got, vec!["/photos"]);
        // A library with folders adopts nothing, nor one whose folders the user removed.
        assert!(s.adopt_photo_folders().unwrap().is_empty());
        for f in s.folders().unwrap() {
            s.remove_folder(f.id).unwrap();
        }
        assert!(s.adopt_photo_folders().unwrap().is_empty());
    }

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
