//! The app's worker: one named thread that owns the read-write database connection and the
//! models, takes jobs from a bounded channel and sends events back; scans run on their own named
//! thread with their own connection, so browsing and deciding go on while photos are indexed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use egui::{ColorImage, Context};

use super::backend::{self, PhotoCard, Suggestion, UncertainPair};
use super::state::{FaceCard, Library, ScanResult};
use crate::pipeline::{self, photo, ScanOptions};
use crate::progress::{CancelToken, Progress};
use crate::store::Store;
use crate::vision::{FaceEngine, Models};
use crate::{library, settings, verify};

/// Ungrouped faces listed at once (newest photos first); the view says how many there are.
const UNGROUPED_SHOWN: usize = 5000;

/// Longest side of a photo decoded for display.
const DISPLAY_MAX_SIDE: u32 = 1280;

/// Where a decoded photo goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhotoSlot {
    /// The photo of the face clicked in the person view.
    Person,
    /// Left / right of the two-photo check.
    A,
    B,
    /// Left / right of the uncertain pair.
    PairA,
    PairB,
    /// The photo opened in the photos view (where a missed face can be drawn).
    Photo,
}

/// Work for the worker. Views ask for most of these as they are (`Command::Ask`); the scan,
/// the upgrade, a person's faces, a photo and decisions go through the app, which owns their
/// progress, cancel token and what they make stale.
#[derive(Debug, Clone)]
pub enum Job {
    Refresh,
    AddFolder(PathBuf),
    RemoveFolder(i64),
    Scan {
        threads: usize,
        /// Clustering threshold and minimum face size for grouping the new faces.
        cluster: (f32, f32),
        /// See `ScanOptions::redetect`.
        redetect: bool,
        progress: Arc<Progress>,
        cancel: CancelToken,
    },
    PersonFaces(i64),
    People(crate::people::Act),
    Suggestions,
    UncertainPairs,
    PhotosWith(Vec<i64>),
    Photo {
        slot: PhotoSlot,
        photo_id: i64,
        boxes: Vec<[f32; 4]>,
    },
    VerifyPhotos(PathBuf, PathBuf),
    EngineInfo,
    Preview {
        threshold: f32,
        min_face_px: f32,
    },
    Recluster {
        threshold: f32,
        min_face_px: f32,
    },
    Upgrade {
        model: String,
        threads: usize,
        progress: Arc<Progress>,
        cancel: CancelToken,
    },
    InstallModel {
        id: String,
        from: Option<PathBuf>,
    },
    Forget(crate::people::Forget),
    /// Show a library photo with all its faces in `PhotoSlot::Photo`.
    OpenPhoto(i64),
    /// The faces in nobody, for the ungrouped view.
    Ungrouped,
    /// A face drawn on a library photo (oriented pixels), for a person.
    AddFace {
        photo_id: i64,
        bbox: [f32; 4],
        who: crate::people::Who,
    },
    /// Write the named faces into XMP sidecars (on a thread of its own).
    ExportXmp(crate::pipeline::export::ExportOptions),
}

/// A decoded photo ready to become a texture, with the boxes to draw on it.
pub struct ShownPhoto {
    pub image: ColorImage,
    /// Display pixels per original pixel.
    pub scale: f32,
    pub boxes: Vec<[f32; 4]>,
    pub path: String,
    pub taken_at: Option<String>,
    /// The library photo shown, when it is one.
    pub photo_id: Option<i64>,
}

/// The outcome of comparing two photos the user picked.
pub struct PhotoVerdict {
    pub a: PathBuf,
    pub b: PathBuf,
    pub faces_a: usize,
    pub faces_b: usize,
    pub verdict: verify::Verdict,
}

/// What the worker reports.
pub enum Event {
    Library(Box<Library>),
    Error(String),
    Notice(String),
    /// Boxed: a scan's outcome is far larger than the other events.
    ScanDone(Box<ScanResult>),
    PersonFaces(i64, Vec<FaceCard>),
    /// The people closest to a person, with the average distance between their faces.
    ClosestPeople(i64, Vec<(i64, f32)>),
    Suggestions(Vec<Suggestion>),
    Pairs(Vec<UncertainPair>),
    Photos(Vec<i64>, Vec<PhotoCard>),
    Ungrouped(Vec<crate::store::UngroupedFace>, u64),
    Photo(PhotoSlot, Box<ShownPhoto>),
    Verified(Box<PhotoVerdict>),
    Engine(Vec<String>),
    Preview(String),
}

/// The UI's end of the worker.
pub struct WorkerHandle {
    tx: Sender<Job>,
    /// Events from the worker and the scan thread.
    pub rx: Receiver<Event>,
}

impl WorkerHandle {
    /// Start a worker on the database at `db`.
    pub fn start(db: &Path, ctx: &Context) -> Self {
        let (tx, jobs) = bounded::<Job>(64);
        let (events, rx) = bounded::<Event>(64);
        let (db, ctx) = (db.to_path_buf(), ctx.clone());
        let spawned = std::thread::Builder::new()
            .name("likeness-worker".into())
            .spawn(move || {
                let mut w = Worker {
                    db,
                    store: None,
                    models: None,
                    engine: None,
                    events,
                    ctx,
                    exporting: Default::default(),
                };
                for job in jobs {
                    w.run(job);
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start the worker: {e}");
        }
        Self { tx, rx }
    }

    /// Queue a job; says why when the worker is gone or swamped.
    pub fn send(&self, job: Job) -> Result<(), String> {
        match self.tx.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err("busy: too many requests queued, try again".into()),
            Err(TrySendError::Disconnected(_)) => Err("the worker thread stopped".into()),
        }
    }
}

struct Worker {
    db: PathBuf,
    store: Option<Store>,
    models: Option<Models>,
    engine: Option<FaceEngine>,
    events: Sender<Event>,
    ctx: Context,
    /// An export thread is running (one at a time: they would write the same sidecars).
    exporting: Arc<std::sync::atomic::AtomicBool>,
}

fn send(events: &Sender<Event>, ctx: &Context, e: Event) {
    // Blocks only while the UI has 64 unread events, which it drains every frame.
    let _ = events.send_timeout(e, Duration::from_secs(5));
    ctx.request_repaint();
}

impl Worker {
    fn emit(&self, e: Event) {
        send(&self.events, &self.ctx, e);
    }

    fn store(&mut self) -> Result<&mut Store, String> {
        if self.store.is_none() {
            self.store = Some(Store::open(&self.db).map_err(|e| e.to_string())?);
        }
        self.store.as_mut().ok_or_else(|| "no database".to_string())
    }

    /// The models of the library's active embedder (reloaded after an upgrade).
    fn models(&mut self) -> Result<Models, String> {
        let spec = pipeline::library_embedder(self.store()?).map_err(|e| e.to_string())?;
        if self.models.as_ref().map(|m| m.embedder_spec().id()) != Some(spec.id()) {
            self.models = Some(Models::load_for(spec).map_err(|e| e.to_string())?);
        }
        self.models.clone().ok_or_else(|| "no models".to_string())
    }

    /// The engine for photos outside the library ("Any two photos"): the catalogue default
    /// embedder, whatever the library uses.
    fn engine(&mut self) -> Result<&mut FaceEngine, String> {
        if self.engine.is_none() {
            let m = Models::load_default().map_err(|e| e.to_string())?;
            self.engine = Some(m.engine().map_err(|e| e.to_string())?);
        }
        self.engine.as_mut().ok_or_else(|| "no engine".to_string())
    }

    fn run(&mut self, job: Job) {
        let refresh_after = matches!(
            job,
            Job::AddFolder(_)
                | Job::RemoveFolder(_)
                | Job::People(_)
                | Job::Recluster { .. }
                | Job::Forget(_)
                | Job::AddFace { .. }
        );
        if let Err(e) = self.job(job) {
            self.emit(Event::Error(e));
        }
        if refresh_after {
            if let Err(e) = self.job(Job::Refresh) {
                self.emit(Event::Error(e));
            }
        }
    }

    fn job(&mut self, job: Job) -> Result<(), String> {
        match job {
            Job::Refresh => {
                // Libraries scanned from the command line before scans recorded their folders.
                let adopted = self
                    .store()?
                    .adopt_photo_folders()
                    .map_err(|e| e.to_string())?;
                if !adopted.is_empty() {
                    tracing::info!("folders adopted from the photos' paths: {adopted:?}");
                }
                let lib = load_library(self.store()?)?;
                self.emit(Event::Library(Box::new(lib)));
            }
            Job::AddFolder(path) => {
                if path.as_os_str().is_empty() {
                    return Err("type a folder path first".into());
                }
                let canon = std::fs::canonicalize(&path)
                    .map_err(|e| format!("cannot add {}: {e}", path.display()))?;
                if !canon.is_dir() {
                    return Err(format!("{} is not a folder", path.display()));
                }
                self.store()?
                    .add_folder(&canon.to_string_lossy())
                    .map_err(|e| e.to_string())?;
            }
            Job::RemoveFolder(id) => {
                self.store()?.remove_folder(id).map_err(|e| e.to_string())?;
            }
            Job::Forget(what) => {
                let n = crate::people::forget(self.store()?, what).map_err(|e| e.to_string())?;
                self.emit(Event::Notice(format!(
                    "{n} faces forgotten; the library file keeps no trace of them."
                )));
            }
            Job::Scan {
                threads,
                cluster,
                redetect,
                progress,
                cancel,
            } => self.scan(threads, cluster, redetect, progress, cancel)?,
            Job::PersonFaces(id) => {
                let faces = backend::person_faces(self.store()?, id)?;
                self.emit(Event::PersonFaces(id, faces));
                // After the faces, so that the view fills first: this reads every vector.
                let near = backend::closest_people(self.store()?, id)?;
                self.emit(Event::ClosestPeople(id, near));
            }
            Job::People(op) => {
                let msg = backend::apply(self.store()?, &op)?;
                if let Some(m) = msg {
                    self.emit(Event::Notice(m));
                }
            }
            Job::Suggestions => {
                let s = backend::suggestions(self.store()?)?;
                self.emit(Event::Suggestions(s));
            }
            Job::UncertainPairs => {
                let p = backend::uncertain_pairs(self.store()?)?;
                self.emit(Event::Pairs(p));
            }
            Job::PhotosWith(people) => {
                let p = backend::photos_with(self.store()?, &people)?;
                self.emit(Event::Photos(people, p));
            }
            Job::Photo {
                slot,
                photo_id,
                boxes,
            } => {
                let path = self
                    .store()?
                    .photo_path(photo_id)
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("photo {photo_id} is no longer in the library"))?;
                let shown = load_photo(Path::new(&path), boxes)?;
                self.emit(Event::Photo(slot, Box::new(shown)));
            }
            Job::VerifyPhotos(a, b) => {
                let v = self.verify_photos(&a, &b)?;
                self.emit(Event::Verified(Box::new(v)));
            }
            Job::EngineInfo => {
                let p = self.engine()?.providers();
                self.emit(Event::Engine(p));
            }
            Job::Preview {
                threshold,
                min_face_px,
            } => {
                let s = backend::preview(self.store()?, threshold, min_face_px)?;
                self.emit(Event::Preview(s));
            }
            Job::Upgrade {
                model,
                threads,
                progress,
                cancel,
            } => self.upgrade(&model, threads, progress, cancel)?,
            Job::InstallModel { id, from } => {
                let spec = crate::vision::models::embedder(&id).map_err(|e| e.to_string())?;
                let r = crate::vision::install::install(
                    spec,
                    from.as_deref(),
                    &crate::vision::models::user_models_dir(),
                )
                .map_err(|e| e.to_string())?;
                self.emit(Event::Notice(format!(
                    "{} is installed; Upgrade re-embeds your faces with it",
                    spec.name
                )));
                tracing::info!("installed {}", r.path.display());
            }
            Job::OpenPhoto(photo_id) => self.open_photo(photo_id)?,
            Job::Ungrouped => {
                let (faces, total) = self
                    .store()?
                    .unassigned_faces(UNGROUPED_SHOWN)
                    .map_err(|e| e.to_string())?;
                self.emit(Event::Ungrouped(faces, total));
            }
            Job::AddFace {
                photo_id,
                bbox,
                who,
            } => {
                let path = self.photo_path(photo_id)?;
                let models = self.models()?;
                let added =
                    pipeline::drawn::add_face(self.store()?, &models, Path::new(&path), bbox, &who)
                        .map_err(|e| e.to_string())?;
                let name = self
                    .store()?
                    .person(added.person_id)
                    .map_err(|e| e.to_string())?
                    .and_then(|p| p.name)
                    .unwrap_or_else(|| format!("a new person ({})", added.person_id));
                self.emit(Event::Notice(format!(
                    "Face added to {name}{}; Undo takes it back.",
                    if added.landmarks_found {
                        ""
                    } else {
                        " (aligned from the box: no face was detected inside it)"
                    }
                )));
                self.open_photo(photo_id)?;
            }
            Job::ExportXmp(opts) => self.export_xmp(opts)?,
            Job::Recluster {
                threshold,
                min_face_px,
            } => {
                let s = backend::recluster(
                    self.store()?,
                    (threshold, min_face_px),
                    true,
                    &CancelToken::new(),
                    &Progress::default(),
                )?;
                self.emit(Event::Notice(s));
            }
        }
        Ok(())
    }

    fn photo_path(&mut self, photo_id: i64) -> Result<String, String> {
        self.store()?
            .photo_path(photo_id)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("photo {photo_id} is no longer in the library"))
    }

    /// Show a library photo with every face it has.
    fn open_photo(&mut self, photo_id: i64) -> Result<(), String> {
        let path = self.photo_path(photo_id)?;
        let boxes = self
            .store()?
            .faces_of_photo(photo_id)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|f| f.bbox)
            .collect();
        let mut shown = load_photo(Path::new(&path), boxes)?;
        shown.photo_id = Some(photo_id);
        self.emit(Event::Photo(PhotoSlot::Photo, Box::new(shown)));
        Ok(())
    }

    /// Export on a thread of its own (it writes a file per photo); reported as a notice.
    fn export_xmp(&mut self, opts: crate::pipeline::export::ExportOptions) -> Result<(), String> {
        use std::sync::atomic::Ordering;
        if self.exporting.swap(true, Ordering::SeqCst) {
            return Err("an export is already running".into());
        }
        let busy = self.exporting.clone();
        let (db, events, ctx) = (self.db.clone(), self.events.clone(), self.ctx.clone());
        std::thread::Builder::new()
            .name("likeness-export".into())
            .spawn(move || {
                let result = Store::open(&db).and_then(|mut store| {
                    crate::pipeline::export::export_xmp(
                        &mut store,
                        &opts,
                        &CancelToken::new(),
                        &Progress::default(),
                    )
                });
                let e = match result {
                    Ok(o) if o.failed.is_empty() => Event::Notice(format!(
                        "{} named faces written into the XMP sidecars of {} photos (the photos \
                         themselves are untouched).",
                        o.faces_written, o.photos_written
                    )),
                    Ok(o) => Event::Error(format!(
                        "{} photos got their sidecar; {} could not: {}",
                        o.photos_written,
                        o.failed.len(),
                        o.failed
                            .iter()
                            .take(3)
                            .map(|f| format!("{} ({})", f.photo, f.reason))
                            .collect::<Vec<_>>()
                            .join("; ")
                    )),
                    Err(e) => Event::Error(format!("export failed: {e}")),
                };
                busy.store(false, Ordering::SeqCst);
                send(&events, &ctx, e);
            })
            .map_err(|e| format!("cannot start the export thread: {e}"))?;
        Ok(())
    }

    fn verify_photos(&mut self, a: &Path, b: &Path) -> Result<PhotoVerdict, String> {
        let engine = self.engine()?;
        let thresholds = engine.embedder.spec().thresholds;
        let fa = photo::analyze(engine, a, true).map_err(|e| e.to_string())?;
        let fb = photo::analyze(engine, b, true).map_err(|e| e.to_string())?;
        let la = fa
            .largest()
            .ok_or_else(|| format!("no face found in {}", a.display()))?;
        let lb = fb
            .largest()
            .ok_or_else(|| format!("no face found in {}", b.display()))?;
        let verdict = verify::verify(&thresholds, &la.embedding, &lb.embedding);
        let (ba, bb) = (la.detection.bbox, lb.detection.bbox);
        for (slot, path, bx) in [(PhotoSlot::A, a, ba), (PhotoSlot::B, b, bb)] {
            match load_photo(path, vec![bx]) {
                Ok(p) => self.emit(Event::Photo(slot, Box::new(p))),
                Err(e) => self.emit(Event::Error(e)),
            }
        }
        Ok(PhotoVerdict {
            a: a.to_path_buf(),
            b: b.to_path_buf(),
            faces_a: fa.faces.len(),
            faces_b: fb.faces.len(),
            verdict,
        })
    }

    fn scan(
        &mut self,
        threads: usize,
        cluster: (f32, f32),
        redetect: bool,
        progress: Arc<Progress>,
        cancel: CancelToken,
    ) -> Result<(), String> {
        let folders = self.store()?.folders().map_err(|e| e.to_string())?;
        let (roots, gone): (Vec<PathBuf>, Vec<PathBuf>) = folders
            .iter()
            .map(|f| PathBuf::from(&f.path))
            .partition(|p| p.is_dir());
        for g in &gone {
            self.emit(Event::Error(format!(
                "{} is not reachable (unplugged or removed?); skipped",
                g.display()
            )));
        }
        if roots.is_empty() {
            self.emit(Event::ScanDone(Box::new(ScanResult::Failed(
                "no folders to scan: add a folder first".into(),
            ))));
            return Ok(());
        }
        let models = match self.models() {
            Ok(m) => m,
            Err(e) => {
                self.emit(Event::ScanDone(Box::new(ScanResult::Failed(e))));
                return Ok(());
            }
        };
        let mut opts = ScanOptions::new(roots);
        opts.redetect = redetect;
        if threads > 0 {
            opts.inference_threads = threads;
        }
        let (db, events, ctx) = (self.db.clone(), self.events.clone(), self.ctx.clone());
        let spawned = std::thread::Builder::new()
            .name("likeness-scan".into())
            .spawn(move || {
                let result = (|| -> Result<_, String> {
                    let mut store = Store::open(&db).map_err(|e| e.to_string())?;
                    let outcome = pipeline::index(&mut store, &models, &opts, &cancel, &progress)
                        .map_err(|e| e.to_string())?;
                    if !outcome.cancelled {
                        progress.set_stage(crate::progress::Stage::Clustering);
                        let msg =
                            backend::recluster(&mut store, cluster, false, &cancel, &progress)?;
                        tracing::info!("{msg}");
                    }
                    progress.set_stage(crate::progress::Stage::Done);
                    Ok(outcome)
                })();
                let r = match result {
                    Ok(o) => ScanResult::Finished(o),
                    Err(e) => ScanResult::Failed(e),
                };
                // Never dropped: the app waits for this one (an error means the app is gone).
                let _ = events.send(Event::ScanDone(Box::new(r)));
                ctx.request_repaint();
            });
        spawned.map_err(|e| format!("cannot start the scan thread: {e}"))?;
        Ok(())
    }
}

impl Worker {
    /// Re-embed the library with `model` on its own thread, reported like a scan.
    fn upgrade(
        &mut self,
        model: &str,
        threads: usize,
        progress: Arc<Progress>,
        cancel: CancelToken,
    ) -> Result<(), String> {
        let spec = crate::vision::models::embedder(model).map_err(|e| e.to_string())?;
        let models = match Models::load_for(spec) {
            Ok(m) => m,
            Err(e) => {
                self.emit(Event::ScanDone(Box::new(ScanResult::Failed(e.to_string()))));
                return Ok(());
            }
        };
        let threads = if threads > 0 {
            threads
        } else {
            settings::default_inference_threads()
        };
        let (db, events, ctx) = (self.db.clone(), self.events.clone(), self.ctx.clone());
        // The worker's own connection must not hold a stale active model afterwards.
        self.models = None;
        std::thread::Builder::new()
            .name("likeness-upgrade".into())
            .spawn(move || {
                let result = Store::open(&db).and_then(|mut store| {
                    pipeline::upgrade(&mut store, &models, threads, &cancel, &progress)
                });
                let r = match result {
                    Ok(o) => ScanResult::Upgraded(o),
                    Err(e) => ScanResult::Failed(e.to_string()),
                };
                let _ = events.send(Event::ScanDone(Box::new(r)));
                ctx.request_repaint();
            })
            .map_err(|e| format!("cannot start the upgrade thread: {e}"))?;
        Ok(())
    }
}

fn load_library(store: &Store) -> Result<Library, String> {
    let e = |e: crate::Error| e.to_string();
    let folders = store.folders().map_err(e)?;
    let roots: Vec<PathBuf> = folders.iter().map(|f| PathBuf::from(&f.path)).collect();
    let failures = if roots.is_empty() {
        Vec::new()
    } else {
        let r: Vec<&Path> = roots.iter().map(PathBuf::as_path).collect();
        store.failed_photos(&r).map_err(e)?
    };
    let people = backend::people(store)?;
    let model = pipeline::library_embedder(store).map_err(e)?;
    let counts = store.model_counts().map_err(e)?;
    let models = crate::vision::models::EMBEDDERS
        .iter()
        .map(|spec| super::state::ModelInfo {
            spec,
            installed: crate::vision::models::is_installed(spec),
            vectors: counts
                .iter()
                .find(|c| c.model_id == spec.id())
                .map_or(0, |c| c.vectors),
        })
        .collect();
    Ok(Library {
        model,
        better_model: crate::vision::models::upgrade_offer(model),
        models,
        db: store.path().to_path_buf(),
        folders,
        stats: store.stats().map_err(e)?,
        failures,
        people: people.people,
        unassigned: people.unassigned,
        can_undo: people.can_undo,
        region_conflicts: store.region_conflicts().map_err(e)?,
        older_detection: store
            .photos_detected_otherwise(crate::vision::detect::DETECTION.version)
            .map_err(e)?,
    })
}

/// Decode a photo for display, longest side at most [`DISPLAY_MAX_SIDE`].
pub fn load_photo(path: &Path, boxes: Vec<[f32; 4]>) -> Result<ShownPhoto, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let d = library::decode::decode_guarded(path, &bytes, DISPLAY_MAX_SIDE)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let image = ColorImage::from_rgb(
        [d.image.width() as usize, d.image.height() as usize],
        d.image.as_raw(),
    );
    Ok(ShownPhoto {
        image,
        scale: d.scale,
        boxes,
        path: path.to_string_lossy().into_owned(),
        taken_at: d.taken_at,
        photo_id: None,
    })
}

/// The default inference threads, for the settings view.
pub fn default_threads() -> usize {
    settings::default_inference_threads()
}
