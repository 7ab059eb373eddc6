//! Error types of the library. `main.rs` wraps them in anyhow; the UI shows their text.
//! Variants with a `source` leave it out of their own message: `{:#}` (anyhow) or
//! [`Error::full`] print the chain once.

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
    #[error("database {path}")]
    Database {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database")]
    Sql(#[from] rusqlite::Error),
    #[error("database migration to version {version} failed (rolled back)")]
    Migration {
        version: u32,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database {path} has schema version {found}, newer than this Likeness understands ({supported}); upgrade Likeness")]
    SchemaTooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("cancelled")]
    Cancelled,
}

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The message with its chain of causes, `a: b: c`.
    pub fn full(&self) -> String {
        let mut s = self.to_string();
        let mut cur = std::error::Error::source(self);
        while let Some(e) = cur {
            s.push_str(": ");
            s.push_str(&e.to_string());
            cur = e.source();
        }
        s
    }

    /// An I/O error that names the file it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
