//! What a view gets: the worker's snapshots to read, the per-view state and caches it draws
//! with, and the queue it pushes commands into — never the worker, the dialogs or the app.
//! `app.rs` owns all of it and lends it to the views one frame at a time, so the views depend
//! on this module and not on the app (no import circle).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use egui::{Context, TextureHandle, TextureOptions};

use super::backend::{PhotoCard, Suggestion, UncertainPair};
use super::commands::Command;
use super::state::{FaceCard, Library, ScanResult};
use super::textures::ThumbCache;
use super::worker::{PhotoSlot, PhotoVerdict, ShownPhoto};
use crate::progress::{CancelToken, Progress};

/// A message in the status area.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub error: bool,
}

/// A scan in progress.
pub struct RunningScan {
    /// What runs, for the progress line ("Scanning", "Upgrading to MobileFaceNet").
    pub title: String,
    pub progress: Arc<Progress>,
    pub cancel: CancelToken,
    pub started: Instant,
}

/// A photo on screen: the decoded image until the first draw turns it into a texture.
pub struct PhotoOnScreen {
    pub info: ShownPhoto,
    pub texture: Option<TextureHandle>,
}

impl PhotoOnScreen {
    /// The texture, created on first use.
    pub fn texture(&mut self, ctx: &Context, name: &str) -> TextureHandle {
        if let Some(t) = &self.texture {
            return t.clone();
        }
        let img = std::mem::take(&mut self.info.image);
        let t = ctx.load_texture(name, img, TextureOptions::LINEAR);
        self.texture = Some(t.clone());
        t
    }
}

/// What the worker sent back, as the views read it. Only the app writes here (when events
/// arrive and when it starts work); views get it read-only.
#[derive(Default)]
pub struct Snapshots {
    pub db: PathBuf,
    pub library: Option<Library>,
    pub scan: Option<RunningScan>,
    pub last_scan: Option<ScanResult>,
    pub messages: Vec<Message>,
    pub person_faces: Option<(i64, Vec<FaceCard>)>,
    /// The merge candidates of the person shown: people closest first, with the distance.
    pub closest: Option<(i64, Vec<(i64, f32)>)>,
    pub suggestions: Option<Vec<Suggestion>>,
    pub pairs: Option<Vec<UncertainPair>>,
    pub photos: Option<(Vec<i64>, Vec<PhotoCard>)>,
    /// The faces in nobody (the first ones, newest photos first) and how many there are.
    /// Shared, so that drawing the view each frame does not copy the list.
    pub ungrouped: Option<Arc<(Vec<crate::store::UngroupedFace>, u64)>>,
    /// The face whose photo was last asked for, per slot.
    pub photo_wanted: HashMap<PhotoSlot, i64>,
    pub verdict: Option<PhotoVerdict>,
    pub verifying: bool,
    pub engine: Option<Vec<String>>,
    pub preview: Option<String>,
    /// Bumped whenever a new library snapshot arrives (views cache derived lists on it).
    pub generation: u64,
}

impl Snapshots {
    /// The library's embedder (the catalogue default until the library is loaded).
    pub fn model(&self) -> &'static crate::vision::EmbedderSpec {
        self.library
            .as_ref()
            .map_or(crate::vision::models::DEFAULT_EMBEDDER, |l| l.model)
    }

    /// Whether a scan (or an upgrade, which runs like one) is running.
    pub fn scanning(&self) -> bool {
        self.scan.is_some()
    }
}

/// Per-view UI state that is not worth saving.
#[derive(Default)]
pub struct ViewState {
    pub selected: std::collections::BTreeSet<i64>,
    pub rename: String,
    pub rename_for: Option<i64>,
    pub merge_search: String,
    pub path_a: String,
    pub path_b: String,
    pub threshold: f32,
    pub min_face_px: f32,
    pub db_field: String,
    /// A forget the user asked for and has not confirmed yet.
    pub confirm_forget: Option<crate::people::Forget>,
    /// Folder typed to install a model from.
    pub model_folder: String,
    /// Position in the uncertain pairs and in the suggestions.
    pub pair_index: usize,
    pub suggestion_index: usize,
    pub photos_search: String,
    /// The people grid's filtered rows: (filter, show hidden, generation) → indices.
    pub people_rows: Option<((String, bool, u64), Vec<usize>)>,
    /// Keyboard cursor in the people grid.
    pub cursor: usize,
    /// Faces skipped in the review view (asked again after a reload only).
    pub skipped: std::collections::HashSet<i64>,
    /// The library photo open in the photos view.
    pub open_photo: Option<i64>,
    /// Faces picked in the ungrouped view, the name typed for them, the people filter.
    pub ungrouped_selected: std::collections::BTreeSet<i64>,
    pub ungrouped_name: String,
    pub ungrouped_search: String,
    /// Drawing a missed face on it.
    pub draw: DrawState,
    /// The sidecar name chosen for export (`None`: each photo's existing one, else
    /// photo.ext.xmp).
    pub sidecar: Option<crate::library::sidecar::SidecarName>,
}

/// Drawing a face box on the open photo.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DrawState {
    /// The drawing tool is on (a drag draws instead of nothing).
    pub on: bool,
    /// Where the drag started, in photo pixels.
    pub start: Option<[f32; 2]>,
    /// The box drawn, waiting for its person.
    pub pending: Option<[f32; 4]>,
    pub search: String,
    pub new_name: String,
}

/// A view's context for one frame: what it reads, what it draws with, where it asks.
pub struct ViewCtx<'a> {
    /// The worker's snapshots (read-only: a view changes them only by asking).
    pub data: &'a Snapshots,
    pub thumbs: &'a mut ThumbCache,
    /// Decoded photos per slot (mutable: the first draw turns one into a texture).
    pub shown: &'a mut HashMap<PhotoSlot, PhotoOnScreen>,
    pub state: &'a mut ViewState,
    commands: &'a mut Vec<Command>,
}

impl<'a> ViewCtx<'a> {
    /// A context over the app's parts.
    pub fn new(
        data: &'a Snapshots,
        thumbs: &'a mut ThumbCache,
        shown: &'a mut HashMap<PhotoSlot, PhotoOnScreen>,
        state: &'a mut ViewState,
        commands: &'a mut Vec<Command>,
    ) -> Self {
        Self {
            data,
            thumbs,
            shown,
            state,
            commands,
        }
    }

    /// Ask the app for something; it is applied after the frame is drawn.
    pub fn push(&mut self, c: Command) {
        self.commands.push(c);
    }
}
