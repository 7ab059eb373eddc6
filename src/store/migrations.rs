//! Schema migrations, applied in order inside one transaction each; `PRAGMA user_version` records
//! how many have run. Never edit a released migration: add a new one.

use rusqlite::{params, Connection, Transaction};

use crate::error::{Error, Result};

/// One schema step: plain SQL, or SQL followed by a Rust data conversion (same transaction).
pub enum Step {
    Sql(&'static str),
    SqlThen(&'static str, fn(&Transaction<'_>) -> rusqlite::Result<()>),
}

impl Step {
    /// The step's SQL.
    pub fn sql(&self) -> &'static str {
        match self {
            Step::Sql(s) | Step::SqlThen(s, _) => s,
        }
    }
}

/// Each entry upgrades the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[Step] = &[
    // 1: the engine — photos, faces, embeddings, thumbnails, library folders.
    Step::Sql(
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
    ),
    // 2: people and the user's decisions, which clustering must never overwrite.
    Step::Sql(
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
    ),
    // 3: models as a library property. The active embedder is recorded (libraries before this
    // step were made with the one model their embeddings name); vectors are stored at one byte
    // per dimension with a per-vector scale (`quantize_embeddings`), and say whether they came
    // from the model or from the harmonic map of another model's vector; maps are kept.
    Step::SqlThen(
        r#"
    CREATE TABLE library_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    INSERT INTO library_meta (key, value)
        SELECT 'active_embedder', model_id FROM embeddings
        GROUP BY model_id ORDER BY count(*) DESC LIMIT 1;
    CREATE TABLE embeddings_v3 (
        face_id  INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
        model_id TEXT NOT NULL,
        vector   BLOB NOT NULL,
        scale    REAL NOT NULL,
        origin   TEXT NOT NULL DEFAULT 'model' CHECK (origin IN ('model', 'mapped')),
        PRIMARY KEY (face_id, model_id)
    ) WITHOUT ROWID;
    CREATE TABLE model_maps (
        from_model TEXT NOT NULL,
        to_model   TEXT NOT NULL,
        rows       INTEGER NOT NULL,
        cols       INTEGER NOT NULL,
        matrix     BLOB NOT NULL,
        fitted_on  INTEGER NOT NULL,
        accuracy   REAL NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (from_model, to_model)
    );
    "#,
        quantize_embeddings,
    ),
    // 4: a camera RAW beside the JPEG (or HEIC) of the same shot is indexed once: the file
    // not indexed names the one that was (`linked_to`, a path) and has no faces of its own.
    Step::Sql("ALTER TABLE photos ADD COLUMN linked_to TEXT;"),
    // 5: faces that travel. A face is found by the detector, drawn by the user, or made from a
    // named region another program wrote (XMP); a photo records the orientation its faces are
    // relative to and which sidecar its regions were last read from; region names that could
    // not be applied without overriding the user are kept as conflicts to show, not applied;
    // the names a photo's regions gave (lower case) are remembered, so reading the sidecar
    // again never brings back a name the user undid or changed.
    Step::Sql(
        r#"
    ALTER TABLE faces ADD COLUMN source TEXT NOT NULL DEFAULT 'detected'
        CHECK (source IN ('detected', 'drawn', 'imported'));
    ALTER TABLE photos ADD COLUMN orientation INTEGER;
    ALTER TABLE photos ADD COLUMN xmp_sig TEXT;
    CREATE TABLE region_conflicts (
        id       INTEGER PRIMARY KEY,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        face_id  INTEGER REFERENCES faces(id) ON DELETE SET NULL,
        name     TEXT NOT NULL,
        reason   TEXT NOT NULL,
        found_at INTEGER NOT NULL
    );
    CREATE INDEX region_conflicts_photo ON region_conflicts(photo_id);
    CREATE TABLE region_names (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        name     TEXT NOT NULL,
        PRIMARY KEY (photo_id, name)
    ) WITHOUT ROWID;
    "#,
    ),
    // 6: "not a face / a stranger, never show again": an ignored face belongs to no one, is
    // never clustered, suggested or listed as ungrouped, and keeps the mark through re-scans.
    Step::Sql("ALTER TABLE faces ADD COLUMN ignored INTEGER NOT NULL DEFAULT 0;"),
    // 7: faces clustering has already considered. An incremental `cluster` offers only the
    // others (new faces, and faces that left a person, whatever took them out: a trigger) to
    // people, and re-clusters them with the unplaced faces around them, instead of every
    // unplaced face of the library (at 1M faces that was 32 s). Faces in nobody today are
    // offered once more.
    // Also a log of the faces whose row, photo status or vectors changed (ids only; a store
    // keeping a vector matrix reads what changed since, instead of every face: see
    // `store::vectors`). Written by triggers, so no write path can forget it; pruned on open.
    Step::Sql(
        "ALTER TABLE faces ADD COLUMN clustered INTEGER NOT NULL DEFAULT 0;
         UPDATE faces SET clustered = 1 WHERE person_id IS NOT NULL;
         CREATE TRIGGER face_left_person AFTER UPDATE OF person_id ON faces
           WHEN new.person_id IS NULL AND old.person_id IS NOT NULL
           BEGIN UPDATE faces SET clustered = 0 WHERE id = new.id; END;
         CREATE TABLE face_changes (
             seq     INTEGER PRIMARY KEY AUTOINCREMENT,
             face_id INTEGER NOT NULL
         );
         CREATE TRIGGER face_added AFTER INSERT ON faces
           BEGIN INSERT INTO face_changes (face_id) VALUES (new.id); END;
         CREATE TRIGGER face_changed AFTER UPDATE ON faces
           BEGIN INSERT INTO face_changes (face_id) VALUES (new.id); END;
         CREATE TRIGGER face_removed AFTER DELETE ON faces
           BEGIN INSERT INTO face_changes (face_id) VALUES (old.id); END;
         CREATE TRIGGER photo_status AFTER UPDATE OF status ON photos
           BEGIN INSERT INTO face_changes (face_id) SELECT id FROM faces WHERE photo_id = new.id; END;
         CREATE TRIGGER vector_added AFTER INSERT ON embeddings
           BEGIN INSERT INTO face_changes (face_id) VALUES (new.face_id); END;
         CREATE TRIGGER vector_changed AFTER UPDATE ON embeddings
           BEGIN INSERT INTO face_changes (face_id) VALUES (new.face_id); END;
         CREATE TRIGGER vector_removed AFTER DELETE ON embeddings
           BEGIN INSERT INTO face_changes (face_id) VALUES (old.face_id); END;",
    ),
    // Decodes in flight (`store::inflight`): a photo whose decoding the process never finished,
    // counted per start, so that a file that hangs or takes the machine down is not retried
    // forever.
    Step::Sql(
        "CREATE TABLE decoding (
             path     TEXT PRIMARY KEY,
             size     INTEGER NOT NULL,
             mtime_ns INTEGER NOT NULL,
             starts   INTEGER NOT NULL
         );",
    ),
];

/// Step 3's data conversion: every little-endian `f32` vector becomes int8 + scale.
fn quantize_embeddings(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    {
        let mut read = tx.prepare("SELECT face_id, model_id, vector FROM embeddings")?;
        let mut write = tx.prepare(
            "INSERT INTO embeddings_v3 (face_id, model_id, vector, scale) VALUES (?1, ?2, ?3, ?4)",
        )?;
        let mut rows = read.query([])?;
        while let Some(r) = rows.next()? {
            let v = super::blob_to_f32s(&r.get::<_, Vec<u8>>(2)?);
            let q = crate::vision::embed::Quantized::new(&v);
            write.execute(params![
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                q.bytes(),
                q.scale as f64
            ])?;
        }
    }
    tx.execute_batch(
        "DROP TABLE embeddings;
         ALTER TABLE embeddings_v3 RENAME TO embeddings;
         CREATE INDEX embeddings_model ON embeddings(model_id);",
    )
}

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
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i as u32 + 1;
        let step = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            tx.execute_batch(migration.sql())?;
            if let Step::SqlThen(_, convert) = migration {
                convert(&tx)?;
            }
            tx.pragma_update(None, "user_version", version)?;
            tx.commit()
        };
        step(conn).map_err(|cause| Error::Migration { version, cause })?;
        tracing::info!("database {} migrated to schema {version}", path.display());
    }
    Ok(latest())
}
