//! What views ask for. Views push commands; [`super::app::App`] applies them once per frame.

use std::path::PathBuf;

use super::state::{FaceCard, View};
use super::worker::PhotoSlot;

/// A request from a view.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub enum Command {
    Show(View),
    OpenPerson(i64),
    /// Open a folder dialog (off the UI thread); falls back to the typed path.
    PickFolder,
    AddFolder(PathBuf),
    RemoveFolder(i64),
    Scan,
    CancelScan,
    Refresh,
    /// A decision (one undo step).
    People(crate::people::Act),
    /// An answer in the review or verify view: the view steps to the next item itself.
    Answer(crate::people::Act),
    LoadSuggestions,
    LoadPairs,
    /// Show the photo of a face with its box in a slot.
    ShowFacePhoto(PhotoSlot, FaceCard),
    /// Open a file dialog for one side of the verify view.
    PickPhoto(PhotoSlot),
    VerifyPhotos(PathBuf, PathBuf),
    PhotosWith(Vec<i64>),
    /// Open a file in the system viewer.
    OpenFile(String),
    Preview {
        threshold: f32,
        min_face_px: f32,
    },
    Recluster {
        threshold: f32,
        min_face_px: f32,
    },
    OpenDb(PathBuf),
    LoadEngineInfo,
    /// Re-embed the library with this embedder and make it active (runs like a scan).
    Upgrade(String),
    /// Install a user-installable embedder from a folder (or download it: `None`).
    InstallModel {
        id: String,
        from: Option<PathBuf>,
    },
    /// Forget face data for good, after the view showed what goes and the user confirmed.
    Forget(crate::people::Forget),
    /// Open a library photo in the photos view, with all its faces.
    OpenPhoto(i64),
    /// Add a face drawn on a library photo (oriented pixels) for a person.
    AddFace {
        photo_id: i64,
        bbox: [f32; 4],
        who: crate::people::Who,
    },
    /// Write the named faces into XMP sidecars (`None`: each photo's existing sidecar, else
    /// photo.ext.xmp).
    ExportXmp(Option<crate::library::sidecar::SidecarName>),
    /// The "better model available" notice for this embedder was answered.
    ModelNoticeSeen(String),
    DismissMessages,
}
