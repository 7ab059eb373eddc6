//! Likeness: find the people in a photo library. The library holds everything; `main.rs` only
//! parses the command line.

pub mod cluster;
pub mod error;
pub mod eval;
pub mod harmonic;
pub mod library;
pub mod memory;
pub mod people;
pub mod pipeline;
pub mod progress;
pub mod resize;
pub mod settings;
pub mod store;
pub mod ui;
pub mod verify;
pub mod vision;
pub mod wheel_fetch;

pub use error::{Error, Result};
