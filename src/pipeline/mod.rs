//! Long jobs as plain functions with the signature `(input, &CancelToken, &Progress) -> Result`.

pub mod index;
pub mod photo;

pub use index::{index, ScanOptions, ScanOutcome};
