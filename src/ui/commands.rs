//! What views ask for. Views push commands; [`super::app::App`] applies them once per frame.
//!
//! A command is either something only the app can do (change view, open a dialog, start a
//! scan with its progress and cancel token) or a decision, or it hands the worker a
//! [`Job`] as it is: the request is spelled once, as the job, and the app only notes what
//! the job makes stale before sending it (`App::ask`).

use std::path::PathBuf;

use super::state::{FaceCard, View};
use super::worker::{Job, PhotoSlot};

/// A request from a view.
#[derive(Debug, Clone)]
#[must_use]
pub enum Command {
    Show(View),
    OpenPerson(i64),
    /// Open a folder dialog (off the UI thread); falls back to the typed path.
    PickFolder,
    Scan,
    /// A scan that also searches again the photos an older detector searched (`--redetect`).
    Redetect,
    CancelScan,
    /// A decision (one undo step); the lists it may change are reloaded.
    People(crate::people::Act),
    /// An answer in the review or verify view: the view steps to the next item itself, so
    /// nothing is reloaded.
    Answer(crate::people::Act),
    /// Show the photo of a face with its box in a slot.
    ShowFacePhoto(PhotoSlot, FaceCard),
    /// Open a file dialog for one side of the verify view.
    PickPhoto(PhotoSlot),
    /// Open a file in the system viewer.
    OpenFile(String),
    OpenDb(PathBuf),
    /// Re-embed the library with this embedder and make it active (runs like a scan).
    Upgrade(String),
    /// The "better model available" notice for this embedder was answered.
    ModelNoticeSeen(String),
    DismissMessages,
    /// Work for the worker, as it is.
    Ask(Job),
}
