//! The one spelling of a user decision. The command line parses into an [`Act`], the app sends
//! one, and [`apply`] runs it — one transaction, one decision, one undo step, however many faces
//! it names — and says what happened in a sentence both can show.

use crate::error::Result;
use crate::store::Store;

use super::decisions;

/// A decision about people and faces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    /// Name or rename a person (`None` or blank removes the name).
    Name {
        person: i64,
        name: Option<String>,
    },
    /// `from` is the same person as `into`.
    Merge {
        into: i64,
        from: i64,
    },
    /// These faces are `person`.
    Move {
        faces: Vec<i64>,
        person: i64,
    },
    /// "Not this person": the faces leave their people and never return to them.
    Reject {
        faces: Vec<i64>,
    },
    /// "This face is not `person`" (a No in the review of suggestions).
    RejectFrom {
        face: i64,
        person: i64,
    },
    /// The faces become a new person, named or not.
    Split {
        faces: Vec<i64>,
        name: Option<String>,
    },
    Hide {
        person: i64,
        hidden: bool,
    },
    /// Two faces are the same person (`same`) or different people.
    Pair {
        a: i64,
        b: i64,
        same: bool,
    },
    /// "Not a face / a stranger, never show again" (`ignored`), or shown again.
    Ignore {
        faces: Vec<i64>,
        ignored: bool,
    },
    /// Undo the newest decision.
    Undo,
}

/// What applying an act did.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The decision recorded (or undone); `None` when there was nothing to undo.
    pub decision: Option<i64>,
    /// A person the act made (split).
    pub person: Option<i64>,
    /// What happened, in words.
    pub message: String,
}

/// Apply `act`.
pub fn apply(store: &mut Store, act: &Act) -> Result<Applied> {
    let done = |decision: i64, message: String| Applied {
        decision: Some(decision),
        person: None,
        message,
    };
    Ok(match act {
        Act::Name { person, name } => {
            let name = name.as_deref().map(str::trim).filter(|n| !n.is_empty());
            let id = decisions::name(store, *person, name)?;
            done(
                id,
                match name {
                    Some(n) => format!("person {person} is now named {n:?}"),
                    None => format!("person {person} has no name now"),
                },
            )
        }
        Act::Merge { into, from } => done(
            decisions::merge(store, *into, *from)?,
            format!("person {from} merged into person {into}"),
        ),
        Act::Move { faces, person } if faces.len() == 1 => done(
            decisions::move_face(store, faces[0], *person)?,
            format!("face {} moved to person {person}", faces[0]),
        ),
        Act::Move { faces, person } => done(
            decisions::move_faces(store, faces, *person)?,
            format!("{} faces moved to person {person}", faces.len()),
        ),
        Act::Reject { faces } if faces.len() == 1 => done(
            decisions::reject(store, faces[0])?,
            format!(
                "face {} removed from its person; it will not return to it",
                faces[0]
            ),
        ),
        Act::Reject { faces } => done(
            decisions::reject_faces(store, faces)?,
            format!(
                "{} faces removed from their people; they will not return to them",
                faces.len()
            ),
        ),
        Act::RejectFrom { face, person } => done(
            decisions::reject_from(store, *face, *person)?,
            format!("face {face} is not person {person}"),
        ),
        Act::Split { faces, name } => {
            let (id, person) = decisions::split_as(store, faces, name.as_deref())?;
            Applied {
                decision: Some(id),
                person: Some(person),
                message: match name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                    Some(n) => format!("{} face(s) are now {n} (person {person})", faces.len()),
                    None => format!("{} face(s) split off as person {person}", faces.len()),
                },
            }
        }
        Act::Hide { person, hidden } => done(
            decisions::hide(store, *person, *hidden)?,
            format!(
                "person {person} {}",
                if *hidden { "hidden" } else { "shown" }
            ),
        ),
        Act::Pair { a, b, same } => done(
            decisions::pair(store, *a, *b, *same)?,
            format!(
                "faces {a} and {b} are {}",
                if *same {
                    "the same person"
                } else {
                    "different people"
                }
            ),
        ),
        Act::Ignore { faces, ignored } => done(
            decisions::ignore(store, faces, *ignored)?,
            if *ignored {
                format!(
                    "{} face(s) ignored: never grouped or shown again",
                    faces.len()
                )
            } else {
                format!("{} face(s) shown again", faces.len())
            },
        ),
        Act::Undo => match decisions::undo(store)? {
            Some((id, d)) => done(id, format!("undone: {}", d.describe())),
            None => Applied {
                decision: None,
                person: None,
                message: "nothing to undo".into(),
            },
        },
    })
}
