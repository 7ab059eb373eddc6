//! People: the API the app and the command line share. Pure library code, no UI.
//!
//! **Model.** Faces (of the active embedding model, the library's, `pipeline::library_embedder`) are
//! grouped into people by [`crate::cluster`]. A person has a stable id, an optional name and a
//! hidden flag. Each face's link to its person says who made it: the machine (clustering, may
//! change on the next re-cluster) or the user (*pinned*: never changed by clustering). User
//! decisions are facts stored in `decisions` and applied on top of any clustering; `undo`
//! reverts the newest one. They attach to face ids, so re-embedding with another model keeps them.
//!
//! **Reading** (cheap; call from a read-only `Store` while a job writes):
//! - [`list`] → every person with at least one face or a name: id, name, face count, hidden,
//!   representative face id (for the thumbnail: `Store::face_thumb`).
//! - [`faces`] → the faces of one person (face id, photo, box, score, who assigned it).
//!
//! **Decisions** (each one transaction; each returns the decision id) — [`decisions`]:
//! [`name`] (rename; `None` clears), [`merge`], [`move_face`], [`split`] (faces → new person),
//! [`reject`] ("not this person": never returns to it), [`hide`] (and un-hide), [`same`] /
//! [`different`] for two faces, [`undo`] (newest decision). Impossible requests (e.g. merging two
//! people with confirmed faces in one photo) return `Error::Invalid` with a sentence for the user.
//!
//! **Jobs** (take `&CancelToken, &Progress`; cancelling writes nothing) — [`recluster`]:
//! [`recluster()`] with [`Mode::Incremental`] (after a scan) or [`Mode::Full`];
//! [`preview`] says how many people some [`ClusterSettings`] would give, without writing.
//!
//! **Suggestions** (read-only) — [`suggest`]: [`faces_for_person`] (unassigned faces ranked for
//! a person), [`similar_people`] (pairs that might be one person), [`uncertain_pairs`] (face
//! pairs for the side-by-side verify view, most uncertain first).
//!
//! Guarantees, whatever the clustering: two faces of one photo are never in one person; a
//! rejected face never returns to that person; "different" faces never share a person; "same"
//! faces share one; names, merges and pinned faces survive incremental and full re-clusters.

pub mod act;
pub mod decisions;
pub mod forget;
pub mod recluster;
pub mod regions;
pub mod suggest;

use std::collections::HashMap;

use serde::Serialize;

pub use crate::cluster::ClusterSettings;
pub use act::{apply, Act, Applied};
pub use decisions::{
    add_face, hide, ignore, merge, move_face, move_faces, name, reject, reject_faces, reject_from,
    split, undo, Decision, Who,
};
pub use forget::{forget, Forget};
pub use recluster::{preview, recluster, Mode, ReclusterOutcome};
pub use suggest::{
    closest_people, faces_for_people, faces_for_person, similar_people, uncertain_pairs,
};

use crate::error::Result;
use crate::store::{PersonFace, Store};

/// A person as the app lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Person {
    pub id: i64,
    /// `None` while unnamed.
    pub name: Option<String>,
    /// Faces in indexed photos.
    pub faces: u64,
    pub hidden: bool,
    /// The face to show for this person.
    pub representative: Option<i64>,
}

/// Every person with faces or a name, most faces first (named before unnamed on ties).
pub fn list(store: &Store) -> Result<Vec<Person>> {
    let reps: HashMap<i64, i64> = store.representative_faces()?.into_iter().collect();
    let mut out: Vec<Person> = store
        .people()?
        .into_iter()
        .filter(|p| p.faces > 0 || p.name.is_some())
        .map(|p| Person {
            representative: reps.get(&p.id).copied(),
            id: p.id,
            name: p.name,
            faces: p.faces,
            hidden: p.hidden,
        })
        .collect();
    out.sort_by(|a, b| {
        b.faces
            .cmp(&a.faces)
            .then(b.name.is_some().cmp(&a.name.is_some()))
            .then(a.id.cmp(&b.id))
    });
    Ok(out)
}

/// The faces of one person, by face id.
pub fn faces(store: &Store, person: i64) -> Result<Vec<PersonFace>> {
    store.person_faces(person)
}

/// "These two faces are the same person" (see [`decisions::pair`]).
pub fn same(store: &mut Store, a: i64, b: i64) -> Result<i64> {
    decisions::pair(store, a, b, true)
}

/// "These two faces are different people" (see [`decisions::pair`]).
pub fn different(store: &mut Store, a: i64, b: i64) -> Result<i64> {
    decisions::pair(store, a, b, false)
}
