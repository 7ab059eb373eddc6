//! Error types of the library. `main.rs` wraps them in anyhow; the UI shows their text.
//! Each message is complete on its own (the UI shows `to_string()`); causes are part of the
//! text rather than a `source()` chain, so anyhow's `{:#}` does not print them twice.

use std::path::PathBuf;

/// Everything that can go wrong in the library, with the path or object it concerns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("ONNX Runtime could not be loaded: {0}")]
    Runtime(String),
    #[error("model {id}: {message}")]
    Model { id: String, message: String },
    #[error("inference failed in {model}: {message}")]
    Inference { model: String, message: String },
    #[error("{path}: {message}")]
    Photo { path: PathBuf, message: String },
    #[error("database {path}: {cause}")]
    Database {
        path: PathBuf,
        cause: rusqlite::Error,
    },
    #[error("database: {0}")]
    Sql(rusqlite::Error),
    #[error("database migration to version {version} failed (rolled back): {cause}")]
    Migration {
        version: u32,
        cause: rusqlite::Error,
    },
    #[error("database {path} has schema version {found}, newer than this Likeness understands ({supported}); upgrade Likeness")]
    SchemaTooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("{path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("cancelled")]
    Cancelled,
}

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error that names the file it happened on.
    pub fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Sql(e)
    }
}
