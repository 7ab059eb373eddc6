//! Queries on `people`, the person columns of `faces`, `decisions`, `face_rejections` and
//! `face_pairs`. Typed reads and writes only; the rules live in `crate::people`.

use rusqlite::{params, OptionalExtension};

use super::{now, Store, Writer};
use crate::error::Result;

/// Who put a face in a person (or created a person).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Assigner {
    /// Clustering or incremental matching: may be changed by the next re-cluster.
    Machine,
    /// A user decision: clustering never changes it.
    User,
}

impl Assigner {
    /// The column value.
    pub fn as_str(self) -> &'static str {
        match self {
            Assigner::Machine => "machine",
            Assigner::User => "user",
        }
    }
    pub(super) fn parse(s: Option<String>) -> Option<Assigner> {
        match s.as_deref() {
            Some("user") => Some(Assigner::User),
            Some("machine") => Some(Assigner::Machine),
            _ => None,
        }
    }
}

/// A person as stored, with its face count.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonRow {
    pub id: i64,
    pub name: Option<String>,
    pub hidden: bool,
    pub created_by: Assigner,
    /// Set when the person was merged into another (kept so that `undo` can restore it).
    pub merged_into: Option<i64>,
    pub faces: u64,
}

/// A face as clustering sees it: where it is, how good it is, whom it belongs to (its vector
/// is the same row of [`super::Matrix::points`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusterFace {
    pub face_id: i64,
    pub photo_id: i64,
    /// Shorter side of the face box, photo pixels.
    pub min_side: f32,
    /// Detector score.
    pub score: f32,
    pub person_id: Option<i64>,
    pub assigned_by: Option<Assigner>,
    /// The vector came through a harmonic map (the photo could not be re-embedded).
    pub mapped: bool,
    /// A clustering pass has considered this face since it was found or left a person.
    pub clustered: bool,
}

/// A face of a person, for listing.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonFace {
    pub face_id: i64,
    pub photo_id: i64,
    pub path: String,
    pub bbox: [f32; 4],
    pub score: f32,
    pub assigned_by: Option<Assigner>,
}

/// A stored decision.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRow {
    pub id: i64,
    pub kind: String,
    /// JSON: the facts and what they replaced.
    pub payload: String,
    pub actor: String,
    pub created_at: i64,
    pub undone_at: Option<i64>,
}

/// A face in nobody (the ungrouped faces).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UngroupedFace {
    pub face_id: i64,
    pub photo_id: i64,
    pub photo: String,
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
}

/// Where one face stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceState {
    pub face_id: i64,
    pub photo_id: i64,
    pub person_id: Option<i64>,
    pub assigned_by: Option<Assigner>,
    /// Marked "not a face / a stranger" by the user.
    pub ignored: bool,
}

/// See [`Writer::face_ties`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaceTies {
    pub user: bool,
    pub in_person: bool,
}

fn person_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PersonRow> {
    Ok(PersonRow {
        id: r.get(0)?,
        name: r.get(1)?,
        hidden: r.get::<_, i64>(2)? != 0,
        created_by: Assigner::parse(r.get(3)?).unwrap_or(Assigner::Machine),
        merged_into: r.get(4)?,
        faces: r.get::<_, i64>(5)? as u64,
    })
}

// Faces of photos that are not indexed (missing, failed) keep their person but are not counted.
const PERSON_SQL: &str = "SELECT p.id, p.name, p.hidden, p.created_by, p.merged_into,
       (SELECT count(*) FROM faces f JOIN photos ph ON ph.id = f.photo_id
         WHERE f.person_id = p.id AND ph.status = 'indexed')
     FROM people p";

fn decision_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DecisionRow> {
    Ok(DecisionRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        payload: r.get(2)?,
        actor: r.get(3)?,
        created_at: r.get(4)?,
        undone_at: r.get(5)?,
    })
}

fn face_state(r: &rusqlite::Row<'_>) -> rusqlite::Result<FaceState> {
    Ok(FaceState {
        face_id: r.get(0)?,
        photo_id: r.get(1)?,
        person_id: r.get(2)?,
        assigned_by: Assigner::parse(r.get(3)?),
        ignored: r.get::<_, i64>(4)? != 0,
    })
}

fn read_people(conn: &rusqlite::Connection) -> Result<Vec<PersonRow>> {
    let mut st = conn.prepare(&format!(
        "{PERSON_SQL} WHERE p.merged_into IS NULL ORDER BY p.id"
    ))?;
    let rows = st
        .query_map([], person_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn read_person(conn: &rusqlite::Connection, id: i64) -> Result<Option<PersonRow>> {
    Ok(conn
        .query_row(&format!("{PERSON_SQL} WHERE p.id = ?1"), [id], person_row)
        .optional()?)
}

fn read_face_state(conn: &rusqlite::Connection, face_id: i64) -> Result<Option<FaceState>> {
    Ok(conn
        .query_row(
            "SELECT id, photo_id, person_id, assigned_by, ignored FROM faces WHERE id = ?1",
            [face_id],
            face_state,
        )
        .optional()?)
}

fn read_person_face_states(conn: &rusqlite::Connection, person: i64) -> Result<Vec<FaceState>> {
    let mut st = conn.prepare(
        "SELECT id, photo_id, person_id, assigned_by, ignored FROM faces WHERE person_id = ?1 ORDER BY id",
    )?;
    let rows = st
        .query_map([person], face_state)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn read_pairs(conn: &rusqlite::Connection) -> Result<Vec<(i64, i64, bool)>> {
    let mut st = conn.prepare("SELECT face_a, face_b, same FROM face_pairs")?;
    let rows = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? != 0)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn read_rejections(conn: &rusqlite::Connection) -> Result<Vec<(i64, i64)>> {
    let mut st = conn.prepare("SELECT face_id, person_id FROM face_rejections")?;
    let rows = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

impl Store {
    /// People that exist (not merged away), by id, with face counts.
    pub fn people(&self) -> Result<Vec<PersonRow>> {
        read_people(self.conn())
    }

    /// One person, merged or not.
    pub fn person(&self, id: i64) -> Result<Option<PersonRow>> {
        read_person(self.conn(), id)
    }

    /// Faces of indexed photos assigned to `person`, by face id.
    pub fn person_faces(&self, person: i64) -> Result<Vec<PersonFace>> {
        let mut st = self.conn().prepare(
            "SELECT f.id, f.photo_id, ph.path, f.x1, f.y1, f.x2, f.y2, f.score, f.assigned_by
             FROM faces f JOIN photos ph ON ph.id = f.photo_id
             WHERE f.person_id = ?1 AND ph.status = 'indexed' ORDER BY f.id",
        )?;
        let rows = st
            .query_map([person], |r| {
                Ok(PersonFace {
                    face_id: r.get(0)?,
                    photo_id: r.get(1)?,
                    path: r.get(2)?,
                    bbox: [
                        r.get::<_, f64>(3)? as f32,
                        r.get::<_, f64>(4)? as f32,
                        r.get::<_, f64>(5)? as f32,
                        r.get::<_, f64>(6)? as f32,
                    ],
                    score: r.get::<_, f64>(7)? as f32,
                    assigned_by: Assigner::parse(r.get(8)?),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Where one face stands, if it exists.
    pub fn face_state(&self, face_id: i64) -> Result<Option<FaceState>> {
        read_face_state(self.conn(), face_id)
    }

    /// Faces in nobody and not ignored, of indexed photos, newest photo first (date taken, else
    /// when indexed): up to `limit`, and how many there are.
    pub fn unassigned_faces(&self, limit: usize) -> Result<(Vec<UngroupedFace>, u64)> {
        self.listed_faces("f.person_id IS NULL AND f.ignored = 0", limit)
    }

    /// Faces the user ignored ("not a face / a stranger"), in the same order and form as
    /// [`Store::unassigned_faces`]: the list to take an ignore back from.
    pub fn ignored_faces(&self, limit: usize) -> Result<(Vec<UngroupedFace>, u64)> {
        self.listed_faces("f.ignored = 1", limit)
    }

    /// Faces of indexed photos matching `filter` (a fixed SQL condition on `f`), newest photo
    /// first, up to `limit`, and how many match.
    fn listed_faces(&self, filter: &str, limit: usize) -> Result<(Vec<UngroupedFace>, u64)> {
        let from = format!(
            "FROM faces f JOIN photos p ON p.id = f.photo_id WHERE {filter} AND p.status = 'indexed'"
        );
        let total: i64 = self
            .conn()
            .query_row(&format!("SELECT count(*) {from}"), [], |r| r.get(0))?;
        let mut st = self.conn().prepare(&format!(
            "SELECT f.id, f.photo_id, p.path, f.x1, f.y1, f.x2, f.y2 {from}
             ORDER BY coalesce(p.taken_at, '') DESC, p.indexed_at DESC, f.photo_id DESC, f.id
             LIMIT ?1"
        ))?;
        let rows = st
            .query_map([limit as i64], |r| {
                Ok(UngroupedFace {
                    face_id: r.get(0)?,
                    photo_id: r.get(1)?,
                    photo: r.get(2)?,
                    bbox: [
                        r.get::<_, f64>(3)? as f32,
                        r.get::<_, f64>(4)? as f32,
                        r.get::<_, f64>(5)? as f32,
                        r.get::<_, f64>(6)? as f32,
                    ],
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((rows, total as u64))
    }

    /// Every "same" (`true`) and "different" (`false`) answer as `(face_a, face_b, same)`.
    pub fn face_pairs(&self) -> Result<Vec<(i64, i64, bool)>> {
        read_pairs(self.conn())
    }

    /// Every "not this person" answer as `(face, person)`.
    pub fn rejections(&self) -> Result<Vec<(i64, i64)>> {
        read_rejections(self.conn())
    }

    /// The face that stands for each person (user-confirmed first, then the largest sharp
    /// face), as `(person, face)`.
    pub fn representative_faces(&self) -> Result<Vec<(i64, i64)>> {
        let mut st = self.conn().prepare(
            "SELECT person_id, id FROM (
               SELECT f.person_id, f.id, row_number() OVER (
                 PARTITION BY f.person_id
                 ORDER BY (f.assigned_by = 'user') DESC, min(f.x2 - f.x1, f.y2 - f.y1) * f.score DESC, f.id
               ) AS rn
               FROM faces f JOIN photos p ON p.id = f.photo_id
               WHERE f.person_id IS NOT NULL AND p.status = 'indexed')
             WHERE rn = 1",
        )?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Id and oriented size of the photo stored under `path` (for evaluations that need the
    /// image centre).
    pub fn photo_dims(&self, path: &str) -> Result<Option<(i64, u32, u32)>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, coalesce(width, 0), coalesce(height, 0) FROM photos
                 WHERE path = ?1 AND status = 'indexed'",
                [path],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }

    /// The newest decisions first, undone ones included.
    pub fn decisions(&self, limit: usize) -> Result<Vec<DecisionRow>> {
        let mut st = self.conn().prepare(
            "SELECT id, kind, payload, actor, created_at, undone_at FROM decisions
             ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = st
            .query_map([limit as i64], decision_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

impl Writer<'_> {
    /// See [`Store::people`].
    pub fn people(&self) -> Result<Vec<PersonRow>> {
        read_people(self.tx)
    }

    /// See [`Store::person`].
    pub fn person(&self, id: i64) -> Result<Option<PersonRow>> {
        read_person(self.tx, id)
    }

    /// See [`Store::face_state`].
    pub fn face_state(&self, face_id: i64) -> Result<Option<FaceState>> {
        read_face_state(self.tx, face_id)
    }

    /// What a face carries that a re-detection must not lose: whether the user decided anything
    /// about it (placed it in a person, ignored it, said "not this person", answered "same" or
    /// "different" about it), and whether it is in a person at all.
    pub fn face_ties(&self, face_id: i64) -> Result<FaceTies> {
        Ok(self.tx.query_row(
            "SELECT f.assigned_by = 'user' OR f.ignored != 0
                    OR EXISTS (SELECT 1 FROM face_rejections r WHERE r.face_id = f.id)
                    OR EXISTS (SELECT 1 FROM face_pairs p WHERE p.face_a = f.id OR p.face_b = f.id),
                    f.person_id IS NOT NULL
               FROM faces f WHERE f.id = ?1",
            [face_id],
            |r| {
                Ok(FaceTies {
                    user: r.get::<_, Option<bool>>(0)?.unwrap_or(false),
                    in_person: r.get(1)?,
                })
            },
        )?)
    }

    /// Every face (of any photo status) assigned to `person`.
    pub fn person_face_states(&self, person: i64) -> Result<Vec<FaceState>> {
        read_person_face_states(self.tx, person)
    }

    /// See [`Store::face_pairs`].
    pub fn face_pairs(&self) -> Result<Vec<(i64, i64, bool)>> {
        read_pairs(self.tx)
    }

    /// See [`Store::rejections`].
    pub fn rejections(&self) -> Result<Vec<(i64, i64)>> {
        read_rejections(self.tx)
    }

    /// Whether the user said `face` is not `person`.
    pub fn is_rejected(&self, face: i64, person: i64) -> Result<bool> {
        Ok(self
            .tx
            .query_row(
                "SELECT 1 FROM face_rejections WHERE face_id = ?1 AND person_id = ?2",
                [face, person],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// The faces the user said are not `person`.
    pub fn rejected_from(&self, person: i64) -> Result<Vec<i64>> {
        let mut st = self
            .tx
            .prepare("SELECT face_id FROM face_rejections WHERE person_id = ?1")?;
        let rows = st
            .query_map([person], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The "different people" answers that involve any of `faces`, as `(smaller, larger)`.
    pub fn different_pairs_of(&self, faces: &[i64]) -> Result<Vec<(i64, i64)>> {
        let mut st = self.tx.prepare(
            "SELECT face_a, face_b FROM face_pairs WHERE same = 0 AND (face_a = ?1 OR face_b = ?1)",
        )?;
        let mut out = Vec::new();
        for f in faces {
            for r in st.query_map([f], |r| Ok((r.get(0)?, r.get(1)?)))? {
                out.push(r?);
            }
        }
        Ok(out)
    }

    /// A new person; returns its id.
    pub fn create_person(&self, name: Option<&str>, by: Assigner) -> Result<i64> {
        let t = now();
        Ok(self.tx.query_row(
            "INSERT INTO people (name, hidden, created_by, created_at, updated_at)
             VALUES (?1, 0, ?2, ?3, ?3) RETURNING id",
            params![name, by.as_str(), t],
            |r| r.get(0),
        )?)
    }

    /// Re-create person `id` exactly as it was (used by undo when the row has since gone).
    pub fn restore_person(&self, p: &PersonRow) -> Result<()> {
        let t = now();
        self.tx.execute(
            "INSERT INTO people (id, name, hidden, created_by, merged_into, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, hidden = excluded.hidden,
                merged_into = excluded.merged_into, updated_at = excluded.updated_at",
            params![
                p.id,
                p.name,
                p.hidden as i64,
                p.created_by.as_str(),
                p.merged_into,
                t
            ],
        )?;
        Ok(())
    }

    /// Name (or, with `None`, un-name) a person.
    pub fn set_person_name(&self, id: i64, name: Option<&str>) -> Result<()> {
        self.tx.execute(
            "UPDATE people SET name = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, name, now()],
        )?;
        Ok(())
    }

    /// Hide or show a person.
    pub fn set_person_hidden(&self, id: i64, hidden: bool) -> Result<()> {
        self.tx.execute(
            "UPDATE people SET hidden = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, hidden as i64, now()],
        )?;
        Ok(())
    }

    /// Record that `id` was merged into `into` (or, with `None`, that it exists again).
    pub fn set_person_merged_into(&self, id: i64, into: Option<i64>) -> Result<()> {
        self.tx.execute(
            "UPDATE people SET merged_into = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, into, now()],
        )?;
        Ok(())
    }

    /// Put faces in persons: `(face, person or None, who)`.
    /// A face that leaves every person is new to clustering again (a schema trigger, see
    /// [`Writer::mark_clustered`]): the next incremental pass may offer it to someone else.
    pub fn assign_faces(&self, rows: &[(i64, Option<i64>, Option<Assigner>)]) -> Result<()> {
        let mut st = self
            .tx
            .prepare("UPDATE faces SET person_id = ?2, assigned_by = ?3 WHERE id = ?1")?;
        for (face, person, by) in rows {
            st.execute(params![face, person, by.map(Assigner::as_str)])?;
        }
        Ok(())
    }

    /// A clustering pass has considered these faces (they are no longer new to it).
    pub fn mark_clustered(&self, faces: &[i64]) -> Result<()> {
        let mut st = self
            .tx
            .prepare("UPDATE faces SET clustered = 1 WHERE id = ?1")?;
        for f in faces {
            st.execute([f])?;
        }
        Ok(())
    }

    /// Record "face is not person".
    pub fn add_rejection(&self, face: i64, person: i64, decision: i64) -> Result<()> {
        self.tx.execute(
            "INSERT OR REPLACE INTO face_rejections (face_id, person_id, decision_id)
             VALUES (?1, ?2, ?3)",
            params![face, person, decision],
        )?;
        Ok(())
    }

    /// Forget "face is not person".
    pub fn remove_rejection(&self, face: i64, person: i64) -> Result<()> {
        self.tx.execute(
            "DELETE FROM face_rejections WHERE face_id = ?1 AND person_id = ?2",
            params![face, person],
        )?;
        Ok(())
    }

    /// The answer stored for a face pair, if any.
    pub fn face_pair(&self, a: i64, b: i64) -> Result<Option<bool>> {
        let (a, b) = (a.min(b), a.max(b));
        Ok(self
            .tx
            .query_row(
                "SELECT same FROM face_pairs WHERE face_a = ?1 AND face_b = ?2",
                params![a, b],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(|s| s != 0))
    }

    /// Store (or, with `None`, forget) the answer for a face pair.
    pub fn set_face_pair(&self, a: i64, b: i64, same: Option<bool>, decision: i64) -> Result<()> {
        let (a, b) = (a.min(b), a.max(b));
        match same {
            Some(s) => self.tx.execute(
                "INSERT OR REPLACE INTO face_pairs (face_a, face_b, same, decision_id)
                 VALUES (?1, ?2, ?3, ?4)",
                params![a, b, s as i64, decision],
            )?,
            None => self.tx.execute(
                "DELETE FROM face_pairs WHERE face_a = ?1 AND face_b = ?2",
                params![a, b],
            )?,
        };
        Ok(())
    }

    /// Append a decision; returns its id.
    pub fn insert_decision(&self, kind: &str, payload: &str, actor: &str) -> Result<i64> {
        Ok(self.tx.query_row(
            "INSERT INTO decisions (kind, payload, actor, created_at) VALUES (?1, ?2, ?3, ?4)
             RETURNING id",
            params![kind, payload, actor, now()],
            |r| r.get(0),
        )?)
    }

    /// The newest decision not yet undone.
    pub fn last_open_decision(&self) -> Result<Option<DecisionRow>> {
        Ok(self
            .tx
            .query_row(
                "SELECT id, kind, payload, actor, created_at, undone_at FROM decisions
                 WHERE undone_at IS NULL ORDER BY id DESC LIMIT 1",
                [],
                decision_row,
            )
            .optional()?)
    }

    /// Replace a decision's payload (filled in after rows that refer to its id).
    pub fn set_decision_payload(&self, id: i64, payload: &str) -> Result<()> {
        self.tx.execute(
            "UPDATE decisions SET payload = ?2 WHERE id = ?1",
            params![id, payload],
        )?;
        Ok(())
    }

    /// Mark a decision undone (it stays as history).
    pub fn mark_undone(&self, id: i64) -> Result<()> {
        self.tx.execute(
            "UPDATE decisions SET undone_at = ?2 WHERE id = ?1",
            params![id, now()],
        )?;
        Ok(())
    }

    /// Mark faces ignored ("not a face / a stranger") or not.
    pub fn set_ignored(&self, faces: &[i64], ignored: bool) -> Result<()> {
        let mut st = self
            .tx
            .prepare("UPDATE faces SET ignored = ?2, clustered = 0 WHERE id = ?1")?;
        for f in faces {
            st.execute(rusqlite::params![f, ignored])?;
        }
        Ok(())
    }

    /// Delete one person row (its faces become unassigned; its rejections go with it).
    pub fn delete_person(&self, id: i64) -> Result<()> {
        self.tx.execute(
            "UPDATE faces SET person_id = NULL, assigned_by = NULL WHERE person_id = ?1",
            [id],
        )?;
        self.tx.execute("DELETE FROM people WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Delete machine-made people that nothing refers to any more: no name, not hidden, no
    /// faces, no "not this person" answer, not the target of a merge. Returns how many.
    pub fn delete_unused_machine_people(&self) -> Result<usize> {
        Ok(self.tx.execute(
            "DELETE FROM people WHERE created_by = 'machine' AND name IS NULL AND hidden = 0
               AND merged_into IS NULL
               AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.person_id = people.id)
               AND NOT EXISTS (SELECT 1 FROM face_rejections r WHERE r.person_id = people.id)
               AND NOT EXISTS (SELECT 1 FROM people q WHERE q.merged_into = people.id)",
            [],
        )?)
    }
}
