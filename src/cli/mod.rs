//! Shared plumbing of the command-line handlers: output mode, database path, Ctrl-C, progress.

pub mod engine;
pub mod models;
pub mod people;
pub mod regions;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use likeness::progress::{CancelToken, Progress};
use likeness::store;

/// What every command gets from the global flags.
pub struct Ctx {
    /// `--db`, if given.
    pub db: Option<PathBuf>,
    /// `--json`: one JSON object on stdout and nothing else there.
    pub json: bool,
}

impl Ctx {
    /// The library database: `--db` or the platform default.
    pub fn db_path(&self) -> PathBuf {
        self.db.clone().unwrap_or_else(store::default_db_path)
    }

    /// The embedder for a command: `--model ID`, else the library's active one (when the
    /// library exists), else the catalogue default.
    pub fn embedder(&self, model: Option<&str>) -> Result<&'static likeness::vision::EmbedderSpec> {
        if let Some(id) = model {
            return Ok(likeness::vision::models::embedder(id)?);
        }
        let path = self.db_path();
        if path.exists() {
            let store = store::Store::open(&path)?;
            return Ok(likeness::pipeline::library_embedder(&store)?);
        }
        Ok(likeness::vision::models::DEFAULT_EMBEDDER)
    }

    /// Print the result: the JSON object with `--json`, else the human text.
    pub fn emit(&self, value: serde_json::Value, human: impl FnOnce() -> String) {
        // A closed pipe (`likeness people | head`) is the reader's choice, not an error: write
        // without println!'s panic and ignore the failure.
        use std::io::Write;
        let text = if self.json {
            value.to_string()
        } else {
            human()
        };
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }
}

/// A cancel token that the first Ctrl-C sets; the second quits at once.
pub fn cancel_on_ctrl_c() -> Result<CancelToken> {
    let cancel = CancelToken::new();
    let c = cancel.clone();
    ctrlc::set_handler(move || {
        if c.is_cancelled() {
            std::process::exit(130);
        }
        eprintln!("\nstopping: finishing the current batch (Ctrl-C again to quit at once)");
        c.cancel();
    })
    .context("installing the Ctrl-C handler")?;
    Ok(cancel)
}

/// A running progress bar; `finish` removes it.
pub struct Bar {
    stop: Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Bar {
    /// Stop and clear the bar.
    pub fn finish(mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A progress bar on stderr that samples the job's counters every 200 ms.
pub fn spawn_bar(progress: Arc<Progress>, unit: &'static str) -> Bar {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = stop.clone();
    let handle = std::thread::Builder::new()
        .name("likeness-progress".into())
        .spawn(move || {
            let pb = indicatif::ProgressBar::new(0);
            pb.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let started = std::time::Instant::now();
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                let snap = progress.snapshot();
                pb.set_length(snap.total);
                pb.set_position(snap.done);
                let rate = snap.done as f64 / started.elapsed().as_secs_f64().max(1e-3);
                pb.set_message(format!(
                    "{unit} | {rate:.1}/s | {} faces | {} failed | {}",
                    snap.faces,
                    snap.failed,
                    snap.stage.label()
                ));
                std::thread::sleep(Duration::from_millis(200));
            }
            pb.finish_and_clear();
        })
        .ok();
    Bar { stop, handle }
}
