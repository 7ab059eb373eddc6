//! The desktop app (eframe/egui): the only module that knows egui, eframe or rfd.
//!
//! Views send [`Command`]s; [`App`] applies them once per frame; long work runs on named worker
//! threads (`worker.rs`) behind bounded channels; thumbnails load off the UI thread into a
//! bounded texture cache (`textures.rs`).

mod app;
pub mod backend;
mod commands;
mod context;
mod state;
mod textures;
mod views;
mod worker;

use std::path::PathBuf;

pub use app::{App, Runtime};
pub use commands::Command;
pub use context::{Message, Snapshots};
pub use state::{FaceCard, Library, PersonCard, Saved, ScanResult, View};
pub use textures::{decode_thumb, ThumbCache};
pub use worker::{Job, PhotoSlot};

/// Open the app window on the database at `db` (`None`: the default library database).
/// Returns when the window closes.
pub fn run(db: Option<PathBuf>) -> Result<(), String> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Likeness")
            .with_inner_size([1200.0, 780.0])
            .with_min_inner_size([640.0, 420.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "Likeness",
        options,
        Box::new(move |cc| {
            let saved: Saved = cc
                .storage
                .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
                .unwrap_or_default();
            let db = db.unwrap_or_else(crate::store::default_db_path);
            Ok(Box::new(App::new(db, saved)))
        }),
    )
    .map_err(|e| format!("cannot open the window: {e}"))
}
