//! What the app keeps: the saved UI state (persisted by eframe) and the snapshots the worker
//! sends back (runtime only, never saved).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::pipeline::ScanOutcome;
use crate::store::{FolderRow, Stats};

/// The app's views, in the order of the navigation bar (Ctrl+1 … Ctrl+7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum View {
    #[default]
    Library,
    People,
    Person,
    Review,
    Verify,
    Photos,
    Settings,
    /// Faces in nobody: name, add to someone, or ignore them.
    Ungrouped,
}

impl View {
    /// Views reachable from the navigation bar.
    pub const NAV: [View; 7] = [
        View::Library,
        View::People,
        View::Ungrouped,
        View::Review,
        View::Verify,
        View::Photos,
        View::Settings,
    ];

    /// The navigation label.
    pub fn label(self) -> &'static str {
        match self {
            View::Library => "Library",
            View::People => "People",
            View::Person => "Person",
            View::Review => "Review",
            View::Verify => "Verify",
            View::Photos => "Photos",
            View::Settings => "Settings",
            View::Ungrouped => "Ungrouped",
        }
    }
}

/// UI state that survives a restart (eframe persistence). Runtime state lives elsewhere.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Saved {
    /// The view shown last.
    pub view: View,
    /// The person shown last in the person view.
    pub person: Option<i64>,
    /// Filter of the people grid (matches names).
    pub people_filter: String,
    /// Whether the people grid shows hidden people.
    pub show_hidden: bool,
    /// People chosen in the photos view.
    pub photos_people: Vec<i64>,
    /// Inference threads for scans (0: one per core).
    pub inference_threads: usize,
    /// The folder path typed in the library view.
    pub typed_folder: String,
    /// Clustering: added to the active model's linkage cut (its catalogue value) after scans;
    /// negative splits people more, positive merges more. Relative, so it means the same for
    /// every model.
    pub cluster_adjust: f32,
    /// Embedders whose "a better model is available" notice the user has answered, and
    /// detection versions whose "faces an older detector missed" notice they answered.
    pub model_notice_seen: Vec<String>,
    /// Clustering: faces smaller than this (pixels) may join a person but never start one.
    pub min_face_px: f32,
}

impl Default for Saved {
    fn default() -> Self {
        Self {
            view: View::Library,
            person: None,
            people_filter: String::new(),
            show_hidden: false,
            photos_people: Vec::new(),
            inference_threads: 0,
            typed_folder: String::new(),
            cluster_adjust: 0.0,
            model_notice_seen: Vec::new(),
            min_face_px: crate::settings::CLUSTER_WEAK_MIN_PX,
        }
    }
}

/// One person as the grid shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonCard {
    pub id: i64,
    pub name: Option<String>,
    pub faces: u64,
    /// The face whose thumbnail stands for the person.
    pub face: Option<i64>,
    pub hidden: bool,
}

impl PersonCard {
    /// The name, or "Unnamed".
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or("Unnamed")
    }
}

/// One face as the person view shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceCard {
    pub id: i64,
    pub photo_id: i64,
    pub bbox: [f32; 4],
}

/// Everything the library and people views show, loaded by the worker in one go.
#[derive(Debug, Clone)]
pub struct Library {
    pub db: PathBuf,
    pub folders: Vec<FolderRow>,
    pub stats: Stats,
    /// Failed photos under the library's folders, with their reasons.
    pub failures: Vec<(String, String)>,
    /// Named people first (by name), then unnamed by size.
    pub people: Vec<PersonCard>,
    /// Faces that belong to nobody yet.
    pub unassigned: u64,
    /// Undoable decisions.
    pub can_undo: bool,
    /// Names in other programs' face regions that were not applied, and why.
    pub region_conflicts: Vec<crate::store::RegionConflict>,
    /// The library's embedder.
    pub model: &'static crate::vision::EmbedderSpec,
    /// A better embedder this installation can upgrade to (the catalogue default, when the
    /// library uses another one).
    pub better_model: Option<&'static crate::vision::EmbedderSpec>,
    /// Every embedder with whether it is installed and how many vectors the library keeps.
    pub models: Vec<ModelInfo>,
    /// Photos whose faces an older version of the detector found (it missed close-ups).
    pub older_detection: u64,
}

/// One catalogue embedder as the settings view shows it.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub spec: &'static crate::vision::EmbedderSpec,
    pub installed: bool,
    pub vectors: u64,
}

/// The last scan, for the summary.
#[derive(Debug, Clone)]
pub enum ScanResult {
    Finished(ScanOutcome),
    /// A model upgrade (it runs like a scan: progress, Cancel, resumable).
    Upgraded(crate::pipeline::UpgradeOutcome),
    Failed(String),
}
