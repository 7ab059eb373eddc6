//! Long jobs as plain functions with the signature `(input, &CancelToken, &Progress) -> Result`.

pub mod drawn;
pub mod export;
pub mod index;
mod pairs;
pub mod photo;
pub mod regions;
pub mod upgrade;

pub use index::{by_reason, index, reason_kind, ScanOptions, ScanOutcome};
pub use upgrade::{upgrade, UpgradeOutcome};

use crate::error::Result;
use crate::store::Store;
use crate::vision::models::{self, EmbedderSpec};

/// The embedder a library clusters and compares with: the one it records, or for a library
/// that has none yet (new), the catalogue default.
pub fn library_embedder(store: &Store) -> Result<&'static EmbedderSpec> {
    match store.active_embedder()? {
        Some(id) => models::embedder(&id),
        None => Ok(models::DEFAULT_EMBEDDER),
    }
}
