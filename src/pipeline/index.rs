//! The scan: walk → skip unchanged → read, fingerprint and decode (rayon) → detect, align and
//! embed (N inference threads, each owning its sessions) → one writer committing batches.
//!
//! Resumable by construction: a photo's row, faces, thumbnails and embeddings are committed in
//! the same transaction, so after a kill every photo is either fully stored or not at all, and
//! the next scan picks up the rest.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::library::decode::{self, Decoded};
use crate::library::sidecar;
use crate::library::walk::{self, FileEntry};
use crate::people::regions::NamedRegion;
use crate::progress::{CancelToken, Progress, Stage};
use crate::settings;
use crate::store::{FaceSource, InFlight, NewFace, PhotoFacts, PhotoStatus, Store, Writer};
use crate::vision::{detect, Detection, Models};

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Folders to scan, recursively.
    pub roots: Vec<PathBuf>,
    /// Single photo files to scan as well (no missing-file detection applies to these).
    pub files: Vec<PathBuf>,
    /// Inference threads (each with its own detector and embedder sessions).
    pub inference_threads: usize,
    /// Decoding threads.
    pub decode_threads: usize,
    /// Read face regions other programs wrote (XMP sidecars and embedded XMP); `--no-xmp`
    /// turns it off.
    pub read_xmp: bool,
    /// Search unchanged photos again whose faces an older detection found (`--redetect`): the
    /// faces it missed are added, boxes it found twice become one, and every face the user
    /// decided anything about stays.
    pub redetect: bool,
    /// How faces are searched for: today's detection; an older one only where a test makes a
    /// library as an older release did.
    pub detection: &'static detect::Plan,
}

impl ScanOptions {
    /// Default threading for `roots`.
    pub fn new(roots: Vec<PathBuf>) -> Self {
        let n = settings::default_inference_threads();
        Self {
            roots,
            files: Vec::new(),
            inference_threads: n,
            decode_threads: n,
            read_xmp: true,
            redetect: false,
            detection: &detect::DETECTION,
        }
    }
}

/// A photo that could not be indexed, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Failure {
    pub path: String,
    pub reason: String,
}

/// The kind of a failure reason, for grouping: its text before the first detail (`:` or ` (`),
/// so "too large: 20000x20000 = …" and "too large: 9000x9000 = …" are one kind.
pub fn reason_kind(reason: &str) -> &str {
    let end = [reason.find(':'), reason.find(" (")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(reason.len());
    reason[..end].trim()
}

/// Failures counted by [`reason_kind`].
pub fn by_reason<'a>(
    reasons: impl IntoIterator<Item = &'a str>,
) -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    for r in reasons {
        *out.entry(reason_kind(r).to_string()).or_default() += 1;
    }
    out
}

/// Thread-seconds spent in each stage (summed over threads).
#[derive(Debug, Clone, Default, Serialize)]
pub struct StageTiming {
    pub read_s: f64,
    pub decode_s: f64,
    pub detect_s: f64,
    pub align_s: f64,
    pub embed_s: f64,
    pub thumb_s: f64,
    pub write_s: f64,
}

/// The summary of a scan (field names are a command-line contract).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanOutcome {
    pub photos_seen: u64,
    pub photos_indexed: u64,
    pub photos_unchanged: u64,
    pub photos_failed: u64,
    pub photos_missing: u64,
    pub photos_moved: u64,
    pub faces_found: u64,
    pub seconds: f64,
    pub cancelled: bool,
    /// Failures of this run (`likeness scan --failed` lists all stored ones).
    pub failures: Vec<Failure>,
    /// This run's failures counted by kind of reason ([`reason_kind`]).
    pub failures_by_reason: std::collections::BTreeMap<String, u64>,
    /// RAW files linked in this run to the JPEG of the same shot (indexed once, there).
    pub photos_linked: u64,
    pub timing: StageTiming,
    /// Execution provider of each model, e.g. `retinaface_mnet025: CPU`.
    pub providers: Vec<String>,
    /// Named face regions (XMP) whose name is now on their face.
    pub regions_imported: u64,
    /// Face regions without a name that became faces (the detector had missed them).
    pub region_faces_added: u64,
    /// Named regions not applied because the user decided otherwise in Likeness (or no face
    /// could be had there), and sidecars that could not be read: listed, never resolved
    /// silently (all of them: `Store::region_conflicts`).
    pub region_conflicts: Vec<crate::store::RegionConflict>,
    /// Unchanged photos searched again because an older detection had found their faces
    /// (`--redetect`; they count in `photos_indexed` too).
    pub photos_redetected: u64,
    /// Faces that re-processed photos no longer have (an older detection's second box on one
    /// face, or a face edited out of the file), none that the user decided anything about.
    pub faces_removed: u64,
}

#[derive(Default)]
pub(crate) struct Timers {
    read: AtomicU64,
    decode: AtomicU64,
    detect: AtomicU64,
    align: AtomicU64,
    embed: AtomicU64,
    thumb: AtomicU64,
    write: AtomicU64,
}

fn timed<T>(counter: &AtomicU64, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    counter.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
    out
}

fn secs(c: &AtomicU64) -> f64 {
    c.load(Ordering::Relaxed) as f64 / 1e9
}

/// A file to (re)process; `existing` is the row id when the path is already known.
#[derive(Debug, Clone)]
struct Work {
    entry: FileEntry,
    existing: Option<i64>,
    /// The photo is unchanged; only its face regions are to be read (new or edited sidecar,
    /// or never read). Its faces are not detected again: regions meet the stored faces, and
    /// only regions no face covers become new faces. Without regions it is left as it is.
    regions_only: bool,
    /// The stored faces of a known photo (id, box, source), for regions to meet when regions
    /// are read: all of them for `regions_only`, the drawn and imported ones otherwise (the
    /// detected ones are found again).
    stored: Vec<(i64, [f32; 4], FaceSource)>,
}

impl Work {
    fn new(entry: FileEntry, existing: Option<i64>) -> Self {
        Self {
            entry,
            existing,
            regions_only: false,
            stored: Vec::new(),
        }
    }
}

/// A face a region names: one of the photo's faces of this run, or a stored one.
#[derive(Debug, Clone, Copy, PartialEq)]
enum FaceRef {
    New(usize),
    Stored(i64),
}

/// A photo's face regions as read (before they meet its faces).
struct RegionsIn {
    sig: String,
    found: Option<sidecar::Found>,
    error: Option<String>,
}

impl RegionsIn {
    fn read(photo: &Path, bytes: &[u8]) -> Self {
        let sig = sidecar::signature(photo);
        match sidecar::read(photo, bytes) {
            Ok(found) => Self {
                sig,
                found,
                error: None,
            },
            Err(e) => Self {
                sig,
                found: None,
                error: Some(e),
            },
        }
    }
}

/// A photo's face regions after they met its faces: per region, the index of its face in the
/// photo's face list (`None`: no face there) and its name.
struct RegionsOut {
    sig: String,
    from: String,
    links: Vec<(Option<FaceRef>, Option<String>)>,
    /// How many faces were made from regions (the last ones of the photo's face list).
    made: usize,
    error: Option<String>,
}

/// A decoded photo on its way to inference.
struct Ready {
    work: Work,
    hash: String,
    decoded: Decoded,
    regions: Option<RegionsIn>,
}

enum Op {
    Indexed {
        work: Work,
        hash: String,
        width: u32,
        height: u32,
        taken_at: Option<String>,
        orientation: u8,
        faces: Vec<NewFace>,
        regions: Option<RegionsOut>,
    },
    /// An unchanged photo whose regions were read: there were none (or they were unreadable,
    /// or the photo could not be decoded: then `sig` is `None`, to try again next time).
    RegionsRead {
        photo_id: i64,
        path: String,
        sig: Option<String>,
        error: Option<String>,
    },
    /// An unchanged photo's regions met its stored faces: `faces` are the new ones made from
    /// regions no face covered.
    RegionsAdded {
        photo_id: i64,
        path: String,
        orientation: u8,
        faces: Vec<NewFace>,
        regions: RegionsOut,
    },
    Failed {
        work: Work,
        hash: Option<String>,
        reason: String,
    },
    Moved {
        photo_id: i64,
        entry: FileEntry,
    },
    /// Not indexed itself: the same shot is indexed as `to` (`pairs`).
    Linked {
        work: Work,
        to: String,
    },
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Folders the walk never enters: the app's own data and caches.
fn own_dirs() -> Vec<PathBuf> {
    directories::ProjectDirs::from("org", "Likeness", "likeness")
        .map(|d| vec![d.data_dir().to_path_buf(), d.cache_dir().to_path_buf()])
        .unwrap_or_default()
}

/// Scan `opts.roots` into `store`. Per-photo problems are recorded and counted, never fatal.
pub fn index(
    store: &mut Store,
    models: &Models,
    opts: &ScanOptions,
    cancel: &CancelToken,
    progress: &Progress,
) -> Result<ScanOutcome> {
    let started = Instant::now();
    let _memory = crate::memory::hold_for_job();
    let mut roots = Vec::new();
    for r in &opts.roots {
        let c = std::fs::canonicalize(r).map_err(|e| Error::io(r, e))?;
        if !c.is_dir() {
            return Err(Error::Invalid(format!("{} is not a folder", r.display())));
        }
        roots.push(c);
    }
    // Build the sessions before touching anything, so a model problem fails the scan cleanly.
    let threads = opts.inference_threads.max(1);
    let mut engines = Vec::with_capacity(threads);
    for _ in 0..threads {
        engines.push(models.engine()?);
    }
    let providers = engines[0].providers();
    // A library holds vectors of one active model: never add another model's to it.
    let model_id = models.embedder_spec().id();
    match store.active_embedder()? {
        Some(active) if active != model_id => {
            return Err(Error::Invalid(format!(
                "this library uses the {active} embedder, not {model_id}; scan with its own model (or upgrade it with `likeness upgrade --model {model_id}`)"
            )))
        }
        Some(_) => {}
        None => store.write(|w| w.set_active_embedder(model_id))?,
    }
    // The folders scanned are the library's folders, whoever scanned them (CLI or app).
    store.add_scanned_folders(&roots)?;

    progress.set_stage(Stage::Walking);
    let mut found = walk::walk(&roots, &own_dirs(), cancel);
    for f in &opts.files {
        let md = std::fs::metadata(f).map_err(|e| Error::io(f, e))?;
        let entry = walk::file_entry(std::fs::canonicalize(f).map_err(|e| Error::io(f, e))?, &md);
        match walk::classify(&entry.path) {
            Err(why) => found.unsupported.push((entry, why.to_string())),
            Ok(_) if !found.photos.iter().any(|p| p.path == entry.path) => found.photos.push(entry),
            Ok(_) => {}
        }
    }
    let mut out = ScanOutcome {
        photos_seen: (found.photos.len() + found.unsupported.len()) as u64,
        providers,
        ..Default::default()
    };
    Progress::add(&progress.total, out.photos_seen);
    for (path, why) in &found.errors {
        tracing::warn!("{}: {why}", path.display());
    }

    let known: HashMap<String, crate::store::PhotoRow> = store
        .photos()?
        .into_iter()
        .map(|r| (r.path.clone(), r))
        .collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut work = Vec::new();
    let mut restored = Vec::new();
    let mut unsupported_ops = Vec::new();
    let unchanged = |row: &crate::store::PhotoRow, e: &FileEntry| {
        row.size == e.size && row.mtime_ns == e.mtime_ns
    };
    // RAW + JPEG of one shot: index one, link the other.
    let links: HashMap<String, String> = {
        let paths: Vec<&Path> = found.photos.iter().map(|e| e.path.as_path()).collect();
        let is_raw = |p: &Path| {
            p.extension()
                .and_then(|e| e.to_str())
                .and_then(crate::library::formats::by_extension)
                .is_some_and(|f| f.decoder == crate::library::formats::Decoder::RawPreview)
        };
        let has_faces = |p: &Path| {
            known.contains_key(&path_str(p))
                && store.face_count_at(&path_str(p)).map_or(true, |n| n > 0)
        };
        super::pairs::links(&paths, is_raw, has_faces)
            .into_iter()
            .map(|(a, b)| (path_str(&a), path_str(&b)))
            .collect()
    };
    for e in &found.photos {
        let p = path_str(&e.path);
        seen.insert(p.clone());
        if let Some(to) = links.get(&p) {
            match known.get(&p) {
                Some(row)
                    if unchanged(row, e)
                        && row.status == PhotoStatus::Indexed
                        && row.linked_to.as_ref() == Some(to) =>
                {
                    out.photos_unchanged += 1
                }
                row => unsupported_ops.push(Op::Linked {
                    work: Work::new(e.clone(), row.map(|r| r.id)),
                    to: to.clone(),
                }),
            }
            continue;
        }
        match known.get(&p) {
            // A file linked to a sibling that is gone is read for itself.
            Some(row) if row.linked_to.is_some() => work.push(Work::new(e.clone(), Some(row.id))),
            Some(row)
                if unchanged(row, e)
                    && row.status == PhotoStatus::Indexed
                    && opts.read_xmp
                    && regions_unread(row, &e.path) =>
            {
                work.push(Work {
                    regions_only: true,
                    ..Work::new(e.clone(), Some(row.id))
                })
            }
            Some(row)
                if unchanged(row, e)
                    && opts.redetect
                    && row.status == PhotoStatus::Indexed
                    && row.detector.as_deref() != Some(opts.detection.version) =>
            {
                out.photos_redetected += 1;
                work.push(Work::new(e.clone(), Some(row.id)))
            }
            Some(row) if unchanged(row, e) && row.status != PhotoStatus::Missing => {
                out.photos_unchanged += 1
            }
            // The same file is back where it was (a drive plugged in again): just restore it.
            Some(row) if unchanged(row, e) && row.content_hash.is_some() => {
                restored.push(row.clone());
                out.photos_unchanged += 1;
            }
            Some(row) => work.push(Work::new(e.clone(), Some(row.id))),
            None => work.push(Work::new(e.clone(), None)),
        }
    }
    for (e, why) in &found.unsupported {
        let p = path_str(&e.path);
        seen.insert(p.clone());
        match known.get(&p) {
            Some(row) if unchanged(row, e) => out.photos_unchanged += 1,
            row => unsupported_ops.push(Op::Failed {
                work: Work::new(e.clone(), row.map(|r| r.id)),
                hash: None,
                reason: why.clone(),
            }),
        }
    }
    // A photo whose decoding a process started and never ended, DECODE_INTERRUPTED_MAX times in
    // a row for the file as it is, is failed instead of decoded again.
    let interrupted = store.interrupted_decodes()?;
    work.retain(|w| {
        let p = path_str(&w.entry.path);
        match interrupted.get(&p) {
            Some(i)
                if i.starts >= settings::DECODE_INTERRUPTED_MAX
                    && i.size == w.entry.size
                    && i.mtime_ns == w.entry.mtime_ns =>
            {
                unsupported_ops.push(Op::Failed {
                    work: w.clone(),
                    hash: None,
                    reason: format!(
                        "decoding never finished: the app ended {} times while reading this \
                         photo (a decoder that hangs or crashes the computer); not tried again",
                        i.starts
                    ),
                });
                false
            }
            _ => true,
        }
    });
    if opts.read_xmp {
        for w in work.iter_mut() {
            if let Some(id) = w.existing {
                w.stored = store
                    .faces_of_photo(id)?
                    .into_iter()
                    .map(|f| (f.id, f.bbox, f.source))
                    .collect();
            }
        }
    }
    Progress::add(&progress.done, out.photos_unchanged);
    // Rows under the roots that the walk did not see are gone or moved; rows already missing
    // anywhere may be the source of a move into the roots.
    let unreadable: HashSet<String> = found.errors.iter().map(|(p, _)| path_str(p)).collect();
    let vanished: Vec<i64> = known
        .values()
        .filter(|r| {
            r.status != PhotoStatus::Missing
                && !seen.contains(&r.path)
                && roots
                    .iter()
                    .any(|root| Path::new(&r.path).starts_with(root))
                && !unreadable.iter().any(|u| Path::new(&r.path).starts_with(u))
        })
        .map(|r| r.id)
        .collect();
    let mut movable: HashMap<String, Vec<i64>> = HashMap::new();
    let vanished_set: HashSet<i64> = vanished.iter().copied().collect();
    for r in known.values() {
        if let Some(h) = &r.content_hash {
            if vanished_set.contains(&r.id)
                || (r.status == PhotoStatus::Missing && !Path::new(&r.path).exists())
            {
                movable.entry(h.clone()).or_default().push(r.id);
            }
        }
    }
    let movable = Mutex::new(movable);
    let journal = InFlight::open(store.path())
        .map_err(|e| tracing::warn!("decodes in flight are not recorded: {e}"))
        .ok();

    progress.set_stage(Stage::Indexing);
    let timers = Timers::default();
    let (decoded_tx, decoded_rx) = bounded::<Ready>(threads * 2);
    let read_xmp = opts.read_xmp;
    let (op_tx, op_rx) = bounded::<Op>(256);
    let mut failures = Vec::new();
    let mut moved_ids: HashSet<i64> = HashSet::new();

    std::thread::scope(|s| -> Result<()> {
        let decode_pool = rayon::ThreadPoolBuilder::new()
            .num_threads(opts.decode_threads.max(1))
            .thread_name(|i| format!("likeness-decode-{i}"))
            .build()
            .map_err(|e| Error::Invalid(format!("cannot start decoding threads: {e}")))?;
        let (work_ref, timers_ref, movable_ref) = (&work, &timers, &movable);
        let journal_ref = journal.as_ref();
        let op_tx_dec = op_tx.clone();
        std::thread::Builder::new()
            .name("likeness-read".into())
            .spawn_scoped(s, move || {
                decode_pool.install(|| {
                    work_ref.par_iter().for_each(|w| {
                        if cancel.is_cancelled() {
                            return;
                        }
                        let op = crate::library::isolate::cancellable(cancel, || {
                            read_and_decode(w, timers_ref, movable_ref, journal_ref, read_xmp)
                        });
                        // A decode cut short by the cancel is no result: the photo waits for
                        // the next scan.
                        if cancel.is_cancelled() {
                            return;
                        }
                        let sent = match op {
                            Ok(d) => decoded_tx.send(d).is_ok(),
                            Err(op) => op_tx_dec.send(*op).is_ok(),
                        };
                        if !sent {
                            cancel.cancel();
                        }
                    })
                });
                drop(decoded_tx);
            })
            .map_err(|e| Error::Invalid(format!("cannot start a thread: {e}")))?;
        let detection = opts.detection;
        for (i, mut engine) in engines.drain(..).enumerate() {
            engine.detector.set_plan(detection);
            let rx = decoded_rx.clone();
            let tx = op_tx.clone();
            let timers = &timers;
            std::thread::Builder::new()
                .name(format!("likeness-infer-{i}"))
                .spawn_scoped(s, move || infer_loop(&mut engine, rx, tx, timers, cancel))
                .map_err(|e| Error::Invalid(format!("cannot start a thread: {e}")))?;
        }
        drop(decoded_rx);
        for op in unsupported_ops.drain(..) {
            let _ = op_tx.send(op);
        }
        drop(op_tx);
        if !restored.is_empty() {
            store.write(|w| {
                restored
                    .iter()
                    .try_for_each(|r| w.move_photo(r.id, &r.path, r.size, r.mtime_ns))
            })?;
        }
        write_loop(
            store,
            model_id,
            detection.version,
            op_rx,
            &timers,
            progress,
            &mut out,
            &mut failures,
            &mut moved_ids,
        )
    })?;

    out.cancelled = cancel.is_cancelled();
    progress.set_stage(Stage::Finishing);
    if !out.cancelled {
        let gone: Vec<i64> = vanished
            .into_iter()
            .filter(|id| !moved_ids.contains(id))
            .collect();
        store.write(|w| w.mark_missing(&gone))?;
    }
    out.photos_missing = store
        .photos()?
        .iter()
        .filter(|r| {
            r.status == PhotoStatus::Missing
                && roots
                    .iter()
                    .any(|root| Path::new(&r.path).starts_with(root))
        })
        .count() as u64;
    out.failures_by_reason = by_reason(failures.iter().map(|f| f.reason.as_str()));
    out.failures = failures;
    out.timing = StageTiming {
        read_s: secs(&timers.read),
        decode_s: secs(&timers.decode),
        detect_s: secs(&timers.detect),
        align_s: secs(&timers.align),
        embed_s: secs(&timers.embed),
        thumb_s: secs(&timers.thumb),
        write_s: secs(&timers.write),
    };
    out.seconds = started.elapsed().as_secs_f64();
    progress.set_stage(Stage::Done);
    Ok(out)
}

/// Read, fingerprint and decode one file. `Err` carries the op to write instead (a failure or
/// a move); `Ok` hands the decoded photo on to inference.
fn read_and_decode(
    w: &Work,
    timers: &Timers,
    movable: &Mutex<HashMap<String, Vec<i64>>>,
    journal: Option<&InFlight>,
    read_xmp: bool,
) -> std::result::Result<Ready, Box<Op>> {
    // Every decode is journalled while it runs (`store::inflight`); a journal that cannot be
    // written costs that protection, not the photo.
    let decode_journalled = |bytes: &[u8]| {
        let p = path_str(&w.entry.path);
        if let Some(j) = journal {
            if let Err(e) = j.begin(&p, w.entry.size, w.entry.mtime_ns) {
                tracing::warn!("{p}: decode not journalled: {e}");
            }
        }
        let d = timed(&timers.decode, || {
            decode::decode_guarded(&w.entry.path, bytes, settings::WORK_MAX_SIDE)
        });
        if let Some(j) = journal {
            if let Err(e) = j.end(&p) {
                tracing::warn!("{p}: decode journal not cleared: {e}");
            }
        }
        d
    };
    let fail = |reason: String, hash: Option<String>| {
        Box::new(Op::Failed {
            work: w.clone(),
            hash,
            reason,
        })
    };
    if w.entry.size > settings::MAX_FILE_BYTES {
        return Err(fail(
            format!("file too large ({} MB) to be a photo", w.entry.size >> 20),
            None,
        ));
    }
    if let (true, Some(photo_id)) = (w.regions_only, w.existing) {
        // An unchanged photo: its regions are all that is wanted. A JPEG keeps its XMP in the
        // first segments, so only they are read unless there are regions to place.
        let unread = |error: String| {
            Box::new(Op::RegionsRead {
                photo_id,
                path: path_str(&w.entry.path),
                sig: None,
                error: Some(format!("face regions not read: {error}")),
            })
        };
        let none_found = |r: RegionsIn| {
            Box::new(Op::RegionsRead {
                photo_id,
                path: path_str(&w.entry.path),
                sig: Some(r.sig),
                error: r.error,
            })
        };
        let head = timed(&timers.read, || sidecar::head(&w.entry.path))
            .map_err(|e| unread(e.to_string()))?;
        let mut from_head = sidecar::head_is_enough(&head)
            .then(|| timed(&timers.read, || RegionsIn::read(&w.entry.path, &head)));
        if let Some(r) = from_head.take_if(|r| r.found.is_none()) {
            return Err(none_found(r));
        }
        let bytes = timed(&timers.read, || std::fs::read(&w.entry.path))
            .map_err(|e| unread(e.to_string()))?;
        let r = match from_head {
            Some(r) => r,
            None => timed(&timers.read, || RegionsIn::read(&w.entry.path, &bytes)),
        };
        if r.found.is_none() {
            return Err(none_found(r));
        }
        let decoded = decode_journalled(&bytes).map_err(unread)?;
        return Ok(Ready {
            work: w.clone(),
            hash: String::new(),
            decoded,
            regions: Some(r),
        });
    }
    let bytes = timed(&timers.read, || std::fs::read(&w.entry.path))
        .map_err(|e| fail(format!("cannot read: {e}"), None))?;
    let hash = timed(&timers.read, || crate::library::content_hash(&bytes));
    let regions = read_xmp.then(|| timed(&timers.read, || RegionsIn::read(&w.entry.path, &bytes)));
    if w.existing.is_none() {
        let claimed = movable
            .lock()
            .ok()
            .and_then(|mut m| m.get_mut(&hash).and_then(|ids| ids.pop()));
        if let Some(photo_id) = claimed {
            return Err(Box::new(Op::Moved {
                photo_id,
                entry: w.entry.clone(),
            }));
        }
    }
    // A malformed file must never take the scan down: decoders are third-party code.
    let decoded = decode_journalled(&bytes);
    match decoded {
        Ok(decoded) => Ok(Ready {
            work: w.clone(),
            hash,
            decoded,
            regions,
        }),
        Err(reason) => Err(fail(reason, Some(hash))),
    }
}

fn infer_loop(
    engine: &mut crate::vision::FaceEngine,
    rx: Receiver<Ready>,
    tx: Sender<Op>,
    timers: &Timers,
    cancel: &CancelToken,
) {
    for Ready {
        work,
        hash,
        decoded: d,
        regions,
    } in rx
    {
        if cancel.is_cancelled() {
            continue;
        }
        if work.regions_only {
            let stored: Vec<(i64, [f32; 4])> =
                work.stored.iter().map(|(id, b, _)| (*id, *b)).collect();
            let path = path_str(&work.entry.path);
            let photo_id = work.existing.unwrap_or_default();
            let op = match with_regions(engine, &d, Vec::new(), &stored, regions, timers) {
                Ok((faces, Some(regions))) => Op::RegionsAdded {
                    photo_id,
                    path,
                    orientation: d.orientation,
                    faces,
                    regions,
                },
                Ok((_, None)) => Op::RegionsRead {
                    photo_id,
                    path,
                    sig: None,
                    error: None,
                },
                Err(e) => Op::RegionsRead {
                    photo_id,
                    path,
                    sig: None,
                    error: Some(format!("face regions not read: {e}")),
                },
            };
            if tx.send(op).is_err() {
                return;
            }
            continue;
        }
        // Drawn and imported faces are not found by the detector: regions meet them as stored.
        let kept: Vec<(i64, [f32; 4])> = work
            .stored
            .iter()
            .filter(|(_, _, src)| *src != FaceSource::Detected)
            .map(|(id, b, _)| (*id, *b))
            .collect();
        let found = faces_of(engine, &d, timers)
            .and_then(|faces| with_regions(engine, &d, faces, &kept, regions, timers));
        let op = match found {
            Ok((faces, regions)) => Op::Indexed {
                work,
                hash,
                width: d.width,
                height: d.height,
                taken_at: d.taken_at,
                orientation: d.orientation,
                faces,
                regions,
            },
            Err(e) => Op::Failed {
                work,
                hash: Some(hash),
                reason: format!("face detection failed: {e}"),
            },
        };
        if tx.send(op).is_err() {
            return;
        }
    }
}

/// Detect, align, embed and thumbnail every face of a decoded photo; coordinates are mapped back
/// to the original photo's pixels.
fn faces_of(
    engine: &mut crate::vision::FaceEngine,
    d: &Decoded,
    timers: &Timers,
) -> Result<Vec<NewFace>> {
    let min_face = settings::MIN_FACE_PX * d.scale;
    let dets = timed(&timers.detect, || {
        engine.detector.detect(&d.image, min_face)
    })?;
    embed_faces(engine, d, &dets, FaceSource::Detected, timers)
}

/// Align, embed and thumbnail faces found in `d.image` (working pixels); the stored faces are
/// in the original photo's oriented pixels.
pub(crate) fn embed_faces(
    engine: &mut crate::vision::FaceEngine,
    d: &Decoded,
    dets: &[Detection],
    source: FaceSource,
    timers: &Timers,
) -> Result<Vec<NewFace>> {
    if dets.is_empty() {
        return Ok(Vec::new());
    }
    let chips = timed(&timers.align, || {
        engine.chips(&d.image, dets.iter().map(|det| det.landmarks))
    });
    let embs = timed(&timers.embed, || engine.embedder.embed(&chips))?;
    let back = 1.0 / d.scale;
    Ok(timed(&timers.thumb, || {
        dets.iter()
            .zip(embs)
            .map(|(det, embedding)| {
                let thumb = decode::face_thumbnail(
                    &d.image,
                    &det.bbox,
                    settings::THUMB_SIDE,
                    settings::THUMB_QUALITY,
                );
                let orig = det.scaled(back);
                NewFace {
                    bbox: orig.bbox,
                    landmarks: orig.landmarks,
                    score: det.score,
                    thumb,
                    embedding,
                    source,
                }
            })
            .collect()
    }))
}

/// Meet a photo's face regions with its detected `faces`: regions that cover a detected face
/// name it; the others become faces of their own (source `imported`), found inside the
/// region's box or aligned from it. Regions smaller than the smallest face kept are left out.
fn with_regions(
    engine: &mut crate::vision::FaceEngine,
    d: &Decoded,
    mut faces: Vec<NewFace>,
    stored: &[(i64, [f32; 4])],
    regions: Option<RegionsIn>,
    timers: &Timers,
) -> Result<(Vec<NewFace>, Option<RegionsOut>)> {
    let Some(r) = regions else {
        return Ok((faces, None));
    };
    let Some(found) = r.found else {
        return Ok((
            faces,
            Some(RegionsOut {
                sig: r.sig,
                from: String::new(),
                links: Vec::new(),
                made: 0,
                error: r.error,
            }),
        ));
    };
    // The faces a region may name: this run's, then the stored ones that stay.
    let known: Vec<[f32; 4]> = faces
        .iter()
        .map(|f| f.bbox)
        .chain(stored.iter().map(|s| s.1))
        .collect();
    let n_new = faces.len();
    let placed = super::regions::place(&found.regions, d.orientation, d.width, d.height, &known);
    let boxes: Vec<[f32; 4]> = placed.boxes.iter().map(|b| b.0).collect();
    let matched = super::regions::match_faces(&boxes, &known);
    let mut links = Vec::with_capacity(boxes.len());
    let mut dets: Vec<Detection> = Vec::new();
    let mut made_boxes: Vec<[f32; 4]> = Vec::new();
    for ((bbox, name), m) in placed.boxes.into_iter().zip(matched) {
        let small = (bbox[2] - bbox[0]).min(bbox[3] - bbox[1]) < settings::MIN_FACE_PX;
        let link = match m {
            Some(j) if j < n_new => Some(FaceRef::New(j)),
            Some(j) => Some(FaceRef::Stored(stored[j - n_new].0)),
            None if small => None,
            None => {
                let work_box = bbox.map(|v| v * d.scale);
                let found = timed(&timers.detect, || {
                    engine.detector.find_in_box(&d.image, &work_box)
                })?;
                // A name is the other program's word that a face is there: aligned from the box
                // if need be. A region without one is only a hint: a face if the detector agrees.
                match (found, name.is_some()) {
                    (Some(det), _) => Some(det),
                    (None, true) => Some(Detection::from_box(work_box)),
                    (None, false) => None,
                }
                .map(|det| {
                    dets.push(det);
                    made_boxes.push(bbox);
                    FaceRef::New(n_new + dets.len() - 1)
                })
            }
        };
        links.push((link, name));
    }
    let made_count = dets.len();
    if !dets.is_empty() {
        let mut new = embed_faces(engine, d, &dets, FaceSource::Imported, timers)?;
        // The face is where the other program said it is; the detector only gave landmarks.
        for (f, bbox) in new.iter_mut().zip(&made_boxes) {
            f.bbox = *bbox;
        }
        faces.extend(new);
    }
    Ok((
        faces,
        Some(RegionsOut {
            sig: r.sig,
            from: found.from,
            links,
            made: made_count,
            error: r.error,
        }),
    ))
}

#[allow(clippy::too_many_arguments)]
fn write_loop(
    store: &mut Store,
    model_id: &str,
    detector: &str,
    rx: Receiver<Op>,
    timers: &Timers,
    progress: &Progress,
    out: &mut ScanOutcome,
    failures: &mut Vec<Failure>,
    moved_ids: &mut HashSet<i64>,
) -> Result<()> {
    let mut batch: Vec<Op> = Vec::new();
    let mut oldest: Option<Instant> = None;
    let max_delay = Duration::from_millis(settings::WRITE_MAX_DELAY_MS);
    loop {
        let wait = oldest.map_or(max_delay, |t| max_delay.saturating_sub(t.elapsed()));
        let (flush, done) = match rx.recv_timeout(wait) {
            Ok(op) => {
                oldest.get_or_insert_with(Instant::now);
                batch.push(op);
                (batch.len() >= settings::WRITE_BATCH, false)
            }
            Err(RecvTimeoutError::Timeout) => (true, false),
            Err(RecvTimeoutError::Disconnected) => (true, true),
        };
        if flush && !batch.is_empty() {
            let ops = std::mem::take(&mut batch);
            let mut tally = RegionTally::default();
            timed(&timers.write, || {
                store.write(|w| apply(w, model_id, detector, &ops, &mut tally))
            })?;
            out.regions_imported += tally.imported;
            out.faces_removed += tally.faces_removed;
            out.region_faces_added += tally.faces_added;
            out.region_conflicts.extend(tally.conflicts);
            oldest = None;
            for op in &ops {
                match op {
                    Op::Indexed { faces, .. } => {
                        out.photos_indexed += 1;
                        out.faces_found += faces.len() as u64;
                        Progress::add(&progress.faces, faces.len() as u64);
                    }
                    Op::Failed { work, reason, .. } => {
                        out.photos_failed += 1;
                        Progress::add(&progress.failed, 1);
                        failures.push(Failure {
                            path: path_str(&work.entry.path),
                            reason: reason.clone(),
                        });
                    }
                    Op::Linked { .. } => {
                        out.photos_linked += 1;
                    }
                    Op::RegionsRead { .. } => {
                        out.photos_unchanged += 1;
                    }
                    Op::RegionsAdded { faces, .. } => {
                        out.photos_unchanged += 1;
                        out.faces_found += faces.len() as u64;
                        Progress::add(&progress.faces, faces.len() as u64);
                    }
                    Op::Moved { photo_id, .. } => {
                        out.photos_moved += 1;
                        moved_ids.insert(*photo_id);
                    }
                }
            }
            Progress::add(&progress.done, ops.len() as u64);
        }
        if done {
            return Ok(());
        }
    }
}

/// What one batch's region imports did.
#[derive(Default)]
struct RegionTally {
    /// Old faces a re-processed photo no longer has (not region-related, tallied alongside).
    faces_removed: u64,
    imported: u64,
    faces_added: u64,
    conflicts: Vec<crate::store::RegionConflict>,
}

fn apply(
    w: &Writer<'_>,
    model_id: &str,
    detector: &str,
    ops: &[Op],
    tally: &mut RegionTally,
) -> Result<()> {
    for op in ops {
        match op {
            Op::Indexed {
                work,
                hash,
                width,
                height,
                taken_at,
                orientation,
                faces,
                regions,
            } => {
                let path = path_str(&work.entry.path);
                let id = w.upsert_photo(&PhotoFacts {
                    path: &path,
                    size: work.entry.size,
                    mtime_ns: work.entry.mtime_ns,
                    content_hash: Some(hash),
                    width: Some(*width),
                    height: Some(*height),
                    taken_at: taken_at.as_deref(),
                    status: PhotoStatus::Indexed,
                    error: None,
                    detector: Some(detector),
                    linked_to: None,
                    orientation: Some(*orientation),
                    // `None` (not read: `--no-xmp`) makes the next scan that reads them do so.
                    xmp_sig: regions.as_ref().map(|r| r.sig.as_str()),
                })?;
                let ids = replace_faces(w, model_id, id, faces, &mut tally.faces_removed)?;
                if let Some(r) = regions {
                    import_regions(w, id, &path, r, &ids, tally)?;
                }
            }
            Op::RegionsRead {
                photo_id,
                path,
                sig,
                error,
            } => {
                if let Some(sig) = sig {
                    w.set_xmp_sig(*photo_id, sig)?;
                }
                w.clear_region_conflicts(*photo_id, "")?;
                if let Some(e) = error {
                    region_error(w, *photo_id, path, e, tally)?;
                }
            }
            Op::RegionsAdded {
                photo_id,
                path,
                orientation,
                faces,
                regions,
            } => {
                w.set_xmp_sig(*photo_id, &regions.sig)?;
                w.set_orientation(*photo_id, *orientation)?;
                let ids = faces
                    .iter()
                    .map(|f| w.insert_face(*photo_id, f, model_id))
                    .collect::<Result<Vec<_>>>()?;
                import_regions(w, *photo_id, path, regions, &ids, tally)?;
            }
            Op::Failed { work, hash, reason } => {
                let path = path_str(&work.entry.path);
                w.clear_decoding(&path)?;
                w.upsert_photo(&PhotoFacts {
                    path: &path,
                    size: work.entry.size,
                    mtime_ns: work.entry.mtime_ns,
                    content_hash: hash.as_deref(),
                    width: None,
                    height: None,
                    taken_at: None,
                    status: PhotoStatus::Failed,
                    error: Some(reason),
                    detector: None,
                    linked_to: None,
                    orientation: None,
                    xmp_sig: None,
                })?;
            }
            Op::Linked { work, to } => {
                let path = path_str(&work.entry.path);
                w.upsert_photo(&PhotoFacts {
                    path: &path,
                    size: work.entry.size,
                    mtime_ns: work.entry.mtime_ns,
                    content_hash: None,
                    width: None,
                    height: None,
                    taken_at: None,
                    status: PhotoStatus::Indexed,
                    error: None,
                    detector: None,
                    linked_to: Some(to),
                    orientation: None,
                    xmp_sig: None,
                })?;
            }
            Op::Moved { photo_id, entry } => {
                w.move_photo(
                    *photo_id,
                    &path_str(&entry.path),
                    entry.size,
                    entry.mtime_ns,
                )?;
            }
        }
    }
    Ok(())
}

/// Apply the names of a photo's regions (see `people::regions`) and list what was not applied.
fn import_regions(
    w: &Writer<'_>,
    photo_id: i64,
    path: &str,
    r: &RegionsOut,
    ids: &[i64],
    tally: &mut RegionTally,
) -> Result<()> {
    let named: Vec<NamedRegion> = r
        .links
        .iter()
        .filter_map(|(face, name)| {
            name.as_ref().map(|n| NamedRegion {
                face: face.and_then(|f| match f {
                    FaceRef::New(i) => ids.get(i).copied(),
                    FaceRef::Stored(id) => Some(id),
                }),
                name: n.clone(),
            })
        })
        .collect();
    let done = crate::people::regions::import(w, photo_id, &r.from, &named)?;
    tally.imported += done.applied;
    tally.faces_added += r.made as u64;
    tally.conflicts.extend(
        done.conflicts
            .into_iter()
            .map(|c| crate::store::RegionConflict {
                photo: path.to_string(),
                face_id: c.face_id,
                name: c.name,
                reason: c.reason,
            }),
    );
    w.clear_region_conflicts(photo_id, "")?;
    if let Some(e) = &r.error {
        region_error(w, photo_id, path, e, tally)?;
    }
    Ok(())
}

/// A sidecar or embedded packet that could not be read: listed with the conflicts.
fn region_error(
    w: &Writer<'_>,
    photo_id: i64,
    path: &str,
    error: &str,
    tally: &mut RegionTally,
) -> Result<()> {
    w.add_region_conflict(photo_id, None, "", error)?;
    tally.conflicts.push(crate::store::RegionConflict {
        photo: path.to_string(),
        face_id: None,
        name: String::new(),
        reason: error.to_string(),
    });
    Ok(())
}

/// Whether the face regions of an unchanged, indexed photo are to be read: never read yet
/// (indexed before Likeness read them, or with `--no-xmp`), or a sidecar appeared or changed.
fn regions_unread(row: &crate::store::PhotoRow, photo: &Path) -> bool {
    match &row.xmp_sig {
        None => true,
        Some(old) => {
            let now = sidecar::signature(photo);
            !now.is_empty() && &now != old
        }
    }
}

/// Store the faces of a (re)processed photo. Faces that overlap an existing face of the photo
/// keep that face's id, so names and decisions attached to it survive an edit of the file or a
/// new detection; where several old faces overlap one new face (an older detection found it
/// twice), the one the user decided about, else the one in a person, keeps its id. Faces the
/// user drew or made a decision about, or another program named, stay even when nothing matches
/// them now; other old faces that nothing matches are removed (`removed` counts them).
/// Returns the id of each of `faces`.
fn replace_faces(
    w: &Writer<'_>,
    model_id: &str,
    photo_id: i64,
    faces: &[NewFace],
    removed: &mut u64,
) -> Result<Vec<i64>> {
    let old = w.faces_of_photo(photo_id)?;
    let ties = old
        .iter()
        .map(|o| w.face_ties(o.id))
        .collect::<Result<Vec<_>>>()?;
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    for (i, n) in faces.iter().enumerate() {
        for (j, o) in old.iter().enumerate() {
            let v = detect::iou(&n.bbox, &o.bbox);
            if v >= settings::DRAWN_SAME_FACE_IOU {
                pairs.push((v, i, j));
            }
        }
    }
    // What an old face carries first, then how well it overlaps.
    let weight = |j: usize| (ties[j].user, ties[j].in_person);
    pairs.sort_by(|a, b| weight(b.2).cmp(&weight(a.2)).then(b.0.total_cmp(&a.0)));
    let mut ids: Vec<Option<i64>> = vec![None; faces.len()];
    let mut old_used = vec![false; old.len()];
    for (_, i, j) in pairs {
        if ids[i].is_none() && !old_used[j] {
            old_used[j] = true;
            ids[i] = Some(old[j].id);
            w.update_face(old[j].id, &faces[i], model_id)?;
        }
    }
    let mut out = Vec::with_capacity(faces.len());
    for (f, id) in faces.iter().zip(ids) {
        out.push(match id {
            Some(id) => id,
            None => w.insert_face(photo_id, f, model_id)?,
        });
    }
    // A face the user placed in a person stays too (its box may be off after the edit; its
    // decision is not lost silently).
    let mut stale = Vec::new();
    for ((o, used), tie) in old.iter().zip(&old_used).zip(&ties) {
        if !used && o.source == FaceSource::Detected && !tie.user {
            stale.push(o.id);
        }
    }
    *removed += stale.len() as u64;
    w.delete_faces(&stale)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_group_by_the_reason_before_its_details() {
        assert_eq!(
            reason_kind("too large: 9000x9000 = 81 megapixels"),
            "too large"
        );
        assert_eq!(
            reason_kind("the decoder crashed on this file (index out of bounds: 3)"),
            "the decoder crashed on this file"
        );
        assert_eq!(reason_kind("empty file (0 bytes)"), "empty file");
        assert_eq!(reason_kind("no colon"), "no colon");
        let g = by_reason(["too large: a", "too large: b", "empty file (0 bytes)"]);
        assert_eq!(g.get("too large"), Some(&2));
        assert_eq!(g.get("empty file"), Some(&1));
    }
}
