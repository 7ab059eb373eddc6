//! Forgetting face data for good (`likeness forget`, the app's Forget buttons): faces, their
//! vectors and thumbnails, the people they made and the undo history, with nothing left in the
//! file (see `store::privacy`). Photos and folders stay, and names in their XMP face regions are
//! not read again until another program changes them. Not a decision: it cannot be undone.

use std::path::Path;

use crate::error::{Error, Result};
use crate::store::{ForgetPreview, Store};

/// Whom to forget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forget {
    Person(i64),
    All,
}

impl Forget {
    fn person(self) -> Option<i64> {
        match self {
            Forget::Person(id) => Some(id),
            Forget::All => None,
        }
    }
}

/// What [`forget`] would remove, in numbers and in the sentence the user confirms.
pub fn preview(store: &Store, what: Forget) -> Result<(ForgetPreview, String)> {
    let p = store
        .forget_preview(what.person())?
        .ok_or_else(|| Error::Invalid(format!("no person {}", what.person().unwrap_or(0))))?;
    let text = what_goes(what, &p);
    Ok((p, text))
}

/// The sentence saying what forgetting `what` removes (the CLI asks with it, the app shows it
/// from its own counts).
pub fn what_goes(what: Forget, p: &ForgetPreview) -> String {
    match what {
        Forget::All => format!(
            "Forget all face data: {} faces of {} people, with their face vectors, thumbnails and \
             names, and the undo history. Photos and folders stay. This cannot be undone.",
            p.faces, p.people
        ),
        Forget::Person(id) => format!(
            "Forget {}: {} faces with their face vectors and thumbnails, the name, and the undo \
             history. The photos stay. This cannot be undone.",
            p.name.clone().unwrap_or_else(|| format!("person {id}")),
            p.faces
        ),
    }
}

/// Forget `what`; returns the number of faces removed.
pub fn forget(store: &mut Store, what: Forget) -> Result<u64> {
    if let Forget::Person(id) = what {
        if store.forget_preview(Some(id))?.is_none() {
            return Err(Error::Invalid(format!("no person {id}")));
        }
    }
    let photos = store.forget_photos(what.person())?;
    let n = store.forget(|w| match what {
        Forget::Person(id) => w.forget_person(id),
        Forget::All => w.forget_all(),
    })?;
    // Their face regions (XMP) count as read: a scan must not bring the names back from
    // sidecars nobody changed. A sidecar edited later is read again, like any new fact.
    store.write(|w| {
        photos.iter().try_for_each(|(id, path)| {
            w.set_xmp_sig(*id, &crate::library::sidecar::signature(Path::new(path)))
        })
    })?;
    Ok(n)
}
