//! Schema migrations, applied in order inside one transaction each; `PRAGMA user_version` records
//! how many have run. Never edit a released migration: add a new one.

use rusqlite::Connection;

use crate::error::{Error, Result};

/// Each entry upgrades the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: the engine — photos, faces, embeddings, thumbnails, library folders.
    r#"
    CREATE TABLE folders (
        id        INTEGER PRIMARY KEY,
        path      TEXT NOT NULL UNIQUE,
        added_at  INTEGER NOT NULL
    );
    CREATE TABLE photos (
        id           INTEGER PRIMARY KEY,
        path         TEXT NOT NULL UNIQUE,
        size         INTEGER NOT NULL,
        mtime_ns     INTEGER NOT NULL,
        content_hash TEXT,
        width        INTEGER,
        height       INTEGER,
        taken_at     TEXT,
        status       TEXT NOT NULL CHECK (status IN ('indexed', 'failed', 'missing')),
        error        TEXT,
        detector     TEXT,
        indexed_at   INTEGER NOT NULL
    );
    CREATE INDEX photos_hash ON photos(content_hash);
    CREATE INDEX photos_status ON photos(status);
    CREATE TABLE faces (
        id         INTEGER PRIMARY KEY,
        photo_id   INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,
        landmarks  BLOB NOT NULL,
        score      REAL NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX faces_photo ON faces(photo_id);
    CREATE TABLE face_thumbs (
        face_id INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
        jpeg    BLOB NOT NULL
    );
    CREATE TABLE embeddings (
        face_id  INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
        model_id TEXT NOT NULL,
        vector   BLOB NOT NULL,
        PRIMARY KEY (face_id, model_id)
    ) WITHOUT ROWID;
    CREATE INDEX embeddings_model ON embeddings(model_id);
    "#,
    // 2: people and the user's decisions, which clustering must never overwrite.
    r#"
    CREATE TABLE people (
        id           INTEGER PRIMARY KEY,
        name         TEXT,
        hidden       INTEGER NOT NULL DEFAULT 0,
        created_by   TEXT NOT NULL CHECK (created_by IN ('machine', 'user')),
        merged_into  INTEGER REFERENCES people(id),
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL
    );
    ALTER TABLE faces ADD COLUMN person_id INTEGER REFERENCES people(id) ON DELETE SET NULL;
    ALTER TABLE faces ADD COLUMN assigned_by TEXT CHECK (assigned_by IN ('machine', 'user'));
    CREATE INDEX faces_person ON faces(person_id);
    -- A user decision: `payload` is JSON holding the facts and what they replaced, so that
    -- `undo` can restore the previous state exactly; undone rows stay as history.
    CREATE TABLE decisions (
        id         INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL,
        payload    TEXT NOT NULL,
        actor      TEXT NOT NULL DEFAULT 'user',
        created_at INTEGER NOT NULL,
        undone_at  INTEGER
    );
    CREATE INDEX decisions_open ON decisions(undone_at, id);
    CREATE TABLE face_rejections (
        face_id     INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
        person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        decision_id INTEGER REFERENCES decisions(id),
        PRIMARY KEY (face_id, person_id)
    );
    CREATE TABLE face_pairs (
        face_a      INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
        face_b      INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
        same        INTEGER NOT NULL,
        decision_id INTEGER REFERENCES decisions(id),
        PRIMARY KEY (face_a, face_b),
        CHECK (face_a < face_b)
    );
    "#,
];

/// The schema version this build writes.
pub fn latest() -> u32 {
    MIGRATIONS.len() as u32
}

/// Bring `conn` to the latest schema. Each step runs in its own transaction: a failure rolls
/// that step back and leaves the database at the previous, working version.
pub fn migrate(conn: &mut Connection, path: &std::path::Path) -> Result<u32> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > latest() {
        return Err(Error::SchemaTooNew {
            path: path.to_path_buf(),
            found: current,
            supported: latest(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i as u32 + 1;
        let step = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version)?;
            tx.commit()
        };
        step(conn).map_err(|cause| Error::Migration { version, cause })?;
        tracing::info!("database {} migrated to schema {version}", path.display());
    }
    Ok(latest())
}
