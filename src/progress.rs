//! Cancellation and progress reporting for long jobs. Knows nothing of any UI: workers bump
//! atomic counters, and whoever shows progress samples them.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

/// A cheap, clonable flag that asks a long job to stop at its next check.
#[derive(Clone, Default, Debug)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }
    /// Ask the job to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Whether stopping was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The stage a scan is in, for display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Stage {
    Idle = 0,
    Walking = 1,
    Indexing = 2,
    Finishing = 3,
    Clustering = 4,
    Done = 5,
    Reembedding = 6,
    Exporting = 7,
}

impl Stage {
    fn from_u8(v: u8) -> Stage {
        match v {
            1 => Stage::Walking,
            2 => Stage::Indexing,
            3 => Stage::Finishing,
            4 => Stage::Clustering,
            5 => Stage::Done,
            6 => Stage::Reembedding,
            7 => Stage::Exporting,
            _ => Stage::Idle,
        }
    }
    /// Human-readable name of the stage.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Idle => "idle",
            Stage::Walking => "finding photos",
            Stage::Indexing => "detecting faces",
            Stage::Finishing => "finishing",
            Stage::Clustering => "grouping people",
            Stage::Done => "done",
            Stage::Reembedding => "re-embedding faces",
            Stage::Exporting => "writing XMP sidecars",
        }
    }
}

/// Counters a job updates and any observer reads. Shared by `Arc`.
#[derive(Default, Debug)]
pub struct Progress {
    stage: AtomicU8,
    /// Photos found by the walk.
    pub total: AtomicU64,
    /// Photos finished (indexed, unchanged, moved or failed).
    pub done: AtomicU64,
    /// Faces found so far.
    pub faces: AtomicU64,
    /// Photos that failed so far.
    pub failed: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgressSnapshot {
    pub stage: Stage,
    pub total: u64,
    pub done: u64,
    pub faces: u64,
    pub failed: u64,
}

impl Progress {
    /// Fresh counters behind an `Arc`.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }
    /// Enter a stage.
    pub fn set_stage(&self, stage: Stage) {
        self.stage.store(stage as u8, Ordering::Relaxed);
    }
    /// Add to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
    /// Read all counters.
    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot {
            stage: Stage::from_u8(self.stage.load(Ordering::Relaxed)),
            total: self.total.load(Ordering::Relaxed),
            done: self.done.load(Ordering::Relaxed),
            faces: self.faces.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }
}
