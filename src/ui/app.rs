//! The app: saved state, runtime state, the per-frame loop (drain worker events, draw the
//! navigation, the status bar and the current view, then apply the views' commands).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{bounded, Receiver};
use egui::{Context, Ui};

use super::commands::Command;
use super::context::{
    DrawState, Message, PhotoOnScreen, RunningScan, Snapshots, ViewCtx, ViewState,
};
use super::state::{Saved, ScanResult, View};
use super::textures::ThumbCache;
use super::views;
use super::worker::{Event, Job, PhotoSlot, WorkerHandle};
use crate::progress::{CancelToken, Progress};

/// Everything that exists only while the app runs.
pub struct Runtime {
    worker: WorkerHandle,
    /// What the worker sent back; views read it through [`ViewCtx`].
    pub data: Snapshots,
    pub thumbs: ThumbCache,
    pub shown: HashMap<PhotoSlot, PhotoOnScreen>,
    pub views: ViewState,
    pub commands: Vec<Command>,
    dialog: Option<Receiver<(DialogKind, Option<PathBuf>)>>,
    /// Frames drawn (for tests and benchmarks).
    pub frames: u64,
    /// When the library snapshot was last asked for (refreshed every few seconds in a scan).
    last_refresh: Instant,
}

#[derive(Debug, Clone, Copy)]
enum DialogKind {
    Folder,
    Photo(PhotoSlot),
}

impl Runtime {
    fn start(db: &Path, ctx: &Context, saved: &Saved) -> Self {
        let worker = WorkerHandle::start(db, ctx);
        Self {
            worker,
            data: Snapshots {
                db: db.to_path_buf(),
                ..Default::default()
            },
            thumbs: ThumbCache::new(db, ctx),
            shown: HashMap::new(),
            views: ViewState {
                threshold: saved.cluster_adjust,
                min_face_px: saved.min_face_px,
                db_field: db.to_string_lossy().into_owned(),
                ..Default::default()
            },
            commands: vec![Command::Ask(Job::Refresh)],
            dialog: None,
            frames: 0,
            last_refresh: Instant::now(),
        }
    }

    /// What the views get for one frame.
    fn view_ctx(&mut self) -> ViewCtx<'_> {
        ViewCtx::new(
            &self.data,
            &mut self.thumbs,
            &mut self.shown,
            &mut self.views,
            &mut self.commands,
        )
    }

    /// Whether a scan is running.
    pub fn scanning(&self) -> bool {
        self.data.scanning()
    }

    /// Show an error in the status area.
    pub fn error(&mut self, text: impl Into<String>) {
        self.push(text.into(), true);
    }

    /// Show a notice in the status area.
    pub fn notice(&mut self, text: impl Into<String>) {
        self.push(text.into(), false);
    }

    fn push(&mut self, text: String, error: bool) {
        if text.is_empty() {
            return;
        }
        if error {
            tracing::warn!("{text}");
        }
        self.data.messages.push(Message { text, error });
        let n = self.data.messages.len();
        if n > 4 {
            self.data.messages.drain(..n - 4);
        }
    }

    fn send(&mut self, job: Job) {
        if let Err(e) = self.worker.send(job) {
            self.error(e);
        }
    }

    fn drain(&mut self, saved: &mut Saved) {
        while let Ok(ev) = self.worker.rx.try_recv() {
            match ev {
                Event::Library(lib) => {
                    if saved.view == View::Person {
                        if let Some(p) = saved.person {
                            if lib.people.iter().any(|c| c.id == p) {
                                self.send(Job::PersonFaces(p));
                            } else {
                                saved.view = View::People;
                            }
                        }
                    }
                    // A library that has people opens on them (Library is for setting up),
                    // including one scanned from the command line.
                    if self.data.library.is_none()
                        && saved.view == View::Library
                        && self.data.scan.is_none()
                        && !lib.people.is_empty()
                    {
                        saved.view = View::People;
                    }
                    self.data.library = Some(*lib);
                    self.data.generation += 1;
                }
                Event::Error(e) => {
                    self.data.verifying = false;
                    self.error(e);
                }
                Event::Notice(m) => self.notice(m),
                Event::ScanDone(r) => {
                    let r = *r;
                    self.data.scan = None;
                    if let ScanResult::Failed(e) = &r {
                        self.error(format!("scan failed: {e}"));
                    }
                    if let ScanResult::Upgraded(o) = &r {
                        if !o.cancelled {
                            // The people grid is in the new model's space now.
                            self.data.person_faces = None;
                        }
                    }
                    self.data.last_scan = Some(r);
                    self.thumbs.clear();
                    self.data.suggestions = None;
                    self.data.pairs = None;
                    self.send(Job::Refresh);
                    // The scan's re-grouping changed who is ungrouped: a stale pick would move
                    // faces out of the people they just joined.
                    if self.data.ungrouped.is_some() {
                        self.views.ungrouped_selected.clear();
                        self.send(Job::Ungrouped);
                    }
                }
                Event::PersonFaces(id, faces) => self.data.person_faces = Some((id, faces)),
                Event::ClosestPeople(id, near) => self.data.closest = Some((id, near)),
                Event::Suggestions(s) => {
                    self.views.suggestion_index = 0;
                    self.data.suggestions = Some(s);
                }
                Event::Pairs(p) => {
                    self.views.pair_index = 0;
                    self.data.pairs = Some(p);
                }
                Event::Photos(people, p) => self.data.photos = Some((people, p)),
                Event::Ungrouped(faces, total) => {
                    // Faces that left the list leave the selection too.
                    let ids: std::collections::HashSet<i64> =
                        faces.iter().map(|f| f.face_id).collect();
                    self.views.ungrouped_selected.retain(|f| ids.contains(f));
                    self.data.ungrouped = Some(std::sync::Arc::new((faces, total)));
                }
                Event::Photo(slot, p) => {
                    self.shown.insert(
                        slot,
                        PhotoOnScreen {
                            info: *p,
                            texture: None,
                        },
                    );
                }
                Event::Verified(v) => {
                    self.data.verifying = false;
                    self.data.verdict = Some(*v);
                }
                Event::Engine(p) => self.data.engine = Some(p),
                Event::Preview(p) => self.data.preview = Some(p),
            }
        }
        if let Some(rx) = &self.dialog {
            if let Ok((kind, path)) = rx.try_recv() {
                self.dialog = None;
                match (kind, path) {
                    (DialogKind::Folder, Some(p)) => {
                        saved.typed_folder = p.to_string_lossy().into_owned();
                        self.commands.push(Command::Ask(Job::AddFolder(p)));
                    }
                    (DialogKind::Photo(slot), Some(p)) => {
                        let s = p.to_string_lossy().into_owned();
                        match slot {
                            PhotoSlot::B => self.views.path_b = s,
                            _ => self.views.path_a = s,
                        }
                    }
                    (_, None) => {
                        if no_dialog_available() {
                            self.notice(
                                "No file dialog can open here (no desktop portal and no zenity): type the path instead.",
                            );
                        }
                    }
                }
            }
        }
    }

    fn open_dialog(&mut self, ctx: &Context, kind: DialogKind) {
        if self.dialog.is_some() {
            return;
        }
        let (tx, rx) = bounded(1);
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("likeness-dialog".into())
            .spawn(move || {
                let path = match kind {
                    DialogKind::Folder => rfd::FileDialog::new()
                        .set_title("Add a folder of photos")
                        .pick_folder(),
                    DialogKind::Photo(_) => rfd::FileDialog::new()
                        .set_title("Choose a photo")
                        .add_filter(
                            "Photos",
                            &["jpg", "jpeg", "png", "webp", "tif", "tiff", "bmp", "gif"],
                        )
                        .pick_file(),
                };
                let _ = tx.send((kind, path));
                ctx.request_repaint();
            });
        match spawned {
            Ok(_) => self.dialog = Some(rx),
            Err(e) => self.error(format!("cannot open a dialog: {e}")),
        }
    }
}

/// Whether rfd has nothing to show a dialog with (see GUI.md: it then returns `None` at once).
fn no_dialog_available() -> bool {
    let portal = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some();
    let zenity = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("zenity").is_file()))
        .unwrap_or(false);
    !portal && !zenity
}

/// The Likeness desktop app.
pub struct App {
    /// Saved UI state.
    pub saved: Saved,
    db: PathBuf,
    rt: Option<Runtime>,
}

impl App {
    /// An app on the database at `db`; threads and textures start on the first frame.
    pub fn new(db: PathBuf, saved: Saved) -> Self {
        Self {
            saved,
            db,
            rt: None,
        }
    }

    /// Runtime state (after the first frame).
    pub fn runtime(&self) -> Option<&Runtime> {
        self.rt.as_ref()
    }

    /// Runtime state, mutable (tests issue commands through it).
    pub fn runtime_mut(&mut self) -> Option<&mut Runtime> {
        self.rt.as_mut()
    }

    /// Queue a command as if a view had sent it.
    pub fn command(&mut self, c: Command) {
        if let Some(rt) = &mut self.rt {
            rt.commands.push(c);
        }
    }

    /// One frame of the app, drawn into `ui` (the eframe window, or a test harness).
    pub fn show(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        let rt = self
            .rt
            .get_or_insert_with(|| Runtime::start(&self.db, &ctx, &self.saved));
        let saved = &mut self.saved;
        rt.frames += 1;
        rt.drain(saved);
        rt.thumbs.begin_frame(&ctx);
        if rt.scanning() {
            // Progress is sampled, not messaged: repaint a few times a second while it runs,
            // and reload the totals every few seconds.
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
            if rt.last_refresh.elapsed() > std::time::Duration::from_secs(3) {
                rt.commands.push(Command::Ask(Job::Refresh));
            }
        }
        let cx = &mut rt.view_ctx();
        views::chrome::shortcuts(&ctx, saved, cx);
        egui::Panel::top("nav").show(ui, |ui| views::chrome::nav_bar(ui, saved, cx));
        egui::Panel::bottom("status").show(ui, |ui| views::chrome::status_bar(ui, cx));
        egui::CentralPanel::default().show(ui, |ui| match saved.view {
            View::Library => views::library::show(ui, saved, cx),
            View::People => views::people::show(ui, saved, cx),
            View::Person => views::person::show(ui, saved, cx),
            View::Review => views::review::show(ui, cx),
            View::Verify => views::verify::show(ui, cx),
            View::Photos => views::photos::show(ui, saved, cx),
            View::Settings => views::settings::show(ui, saved, cx),
            View::Ungrouped => views::ungrouped::show(ui, cx),
        });
        rt.thumbs.end_frame();
        self.apply(&ctx);
    }

    /// Apply the commands the views sent this frame.
    fn apply(&mut self, ctx: &Context) {
        let Some(rt) = &mut self.rt else { return };
        let saved = &mut self.saved;
        let commands = std::mem::take(&mut rt.commands);
        let mut reopen = None;
        for c in commands {
            match c {
                Command::Show(v) => {
                    saved.view = v;
                    match v {
                        View::Review if rt.data.suggestions.is_none() => rt.send(Job::Suggestions),
                        View::Verify if rt.data.pairs.is_none() => rt.send(Job::UncertainPairs),
                        View::Settings if rt.data.engine.is_none() => rt.send(Job::EngineInfo),
                        View::Ungrouped => rt.send(Job::Ungrouped),
                        _ => {}
                    }
                }
                Command::OpenPerson(id) => {
                    saved.person = Some(id);
                    saved.view = View::Person;
                    rt.views.selected.clear();
                    rt.views.rename_for = None;
                    rt.shown.remove(&PhotoSlot::Person);
                    if rt.data.person_faces.as_ref().is_none_or(|(p, _)| *p != id) {
                        rt.data.person_faces = None;
                    }
                    rt.send(Job::PersonFaces(id));
                }
                Command::PickFolder => rt.open_dialog(ctx, DialogKind::Folder),
                Command::PickPhoto(slot) => rt.open_dialog(ctx, DialogKind::Photo(slot)),
                Command::Scan | Command::Redetect => {
                    if !rt.scanning() {
                        let redetect = matches!(c, Command::Redetect);
                        let title = if redetect {
                            "Finding missed faces"
                        } else {
                            "Scanning"
                        };
                        let (progress, cancel) = rt.start_running(title.into());
                        rt.send(Job::Scan {
                            threads: saved.inference_threads,
                            cluster: (saved.cluster_adjust, saved.min_face_px),
                            redetect,
                            progress,
                            cancel,
                        });
                    }
                }
                Command::Upgrade(model) => {
                    if !rt.scanning() {
                        let name = crate::vision::models::embedder(&model)
                            .map_or(model.as_str(), |m| m.name);
                        let (progress, cancel) = rt.start_running(format!("Upgrading to {name}"));
                        rt.send(Job::Upgrade {
                            model,
                            threads: saved.inference_threads,
                            progress,
                            cancel,
                        });
                    }
                }
                Command::CancelScan => {
                    if let Some(s) = &rt.data.scan {
                        s.cancel.cancel();
                    }
                }
                Command::People(act) => {
                    // Any decision may change everything: reload the lists that depend on it.
                    rt.data.suggestions = None;
                    rt.data.pairs = None;
                    let undo = act == crate::people::Act::Undo;
                    rt.send(Job::People(act));
                    match saved.view {
                        View::Review => rt.send(Job::Suggestions),
                        View::Verify => rt.send(Job::UncertainPairs),
                        View::Photos if !saved.photos_people.is_empty() => {
                            rt.send(Job::PhotosWith(saved.photos_people.clone()))
                        }
                        View::Ungrouped => rt.send(Job::Ungrouped),
                        _ => {}
                    }
                    // The open photo shows its faces as they are now (an undone drawn face goes).
                    if let (View::Photos, Some(id)) = (saved.view, rt.views.open_photo) {
                        rt.send(Job::OpenPhoto(id));
                    }
                    if undo {
                        rt.thumbs.clear();
                    }
                }
                // Answers advance locally (the views step to the next item).
                Command::Answer(act) => rt.send(Job::People(act)),
                Command::ShowFacePhoto(slot, f) => {
                    rt.data.photo_wanted.insert(slot, f.id);
                    rt.send(Job::Photo {
                        slot,
                        photo_id: f.photo_id,
                        boxes: vec![f.bbox],
                    });
                }
                Command::OpenFile(p) => {
                    if let Err(e) = open_in_system_viewer(&p) {
                        rt.error(e);
                    }
                }
                Command::OpenDb(p) => reopen = Some(p),
                Command::ModelNoticeSeen(id) => {
                    if !saved.model_notice_seen.contains(&id) {
                        saved.model_notice_seen.push(id);
                    }
                }
                Command::DismissMessages => rt.data.messages.clear(),
                Command::Ask(job) => rt.ask(job, saved),
            }
        }
        if let Some(p) = reopen {
            if self.rt.as_ref().is_some_and(Runtime::scanning) {
                if let Some(rt) = &mut self.rt {
                    rt.error(
                        "wait for the scan to finish (or cancel it) before opening another library",
                    );
                }
            } else {
                self.saved.person = None;
                self.saved.photos_people.clear();
                self.db = p;
                self.rt = None;
                ctx.request_repaint();
            }
        }
    }
}

impl Runtime {
    /// A scan-like job starts: its progress line and Cancel.
    fn start_running(&mut self, title: String) -> (Arc<Progress>, CancelToken) {
        let progress = Progress::new();
        let cancel = CancelToken::new();
        self.data.scan = Some(RunningScan {
            title,
            progress: progress.clone(),
            cancel: cancel.clone(),
            started: Instant::now(),
        });
        self.data.last_scan = None;
        (progress, cancel)
    }

    /// Send a view's job to the worker, first dropping or marking what it will replace.
    fn ask(&mut self, job: Job, saved: &mut Saved) {
        match &job {
            Job::Refresh => self.last_refresh = Instant::now(),
            Job::PhotosWith(people) => {
                saved.photos_people = people.clone();
                // Asked once: the view sees these people as on their way.
                if self
                    .data
                    .photos
                    .as_ref()
                    .is_none_or(|(who, _)| who != people)
                {
                    self.data.photos = Some((people.clone(), Vec::new()));
                }
            }
            Job::Preview { .. } => self.data.preview = Some("computing…".into()),
            Job::Recluster {
                threshold,
                min_face_px,
            } => {
                saved.cluster_adjust = *threshold;
                saved.min_face_px = *min_face_px;
                self.thumbs.clear();
            }
            Job::VerifyPhotos(..) => {
                self.data.verifying = true;
                self.data.verdict = None;
                self.shown.remove(&PhotoSlot::A);
                self.shown.remove(&PhotoSlot::B);
            }
            Job::OpenPhoto(id) => {
                self.views.open_photo = Some(*id);
                self.views.draw = DrawState::default();
                self.shown.remove(&PhotoSlot::Photo);
            }
            Job::AddFace { .. } => self.views.draw = DrawState::default(),
            Job::ExportXmp(_) => self.notice("Writing XMP sidecars…"),
            Job::InstallModel { .. } => {
                self.notice("Installing the model… (converting Intel's files can take a minute)")
            }
            Job::Forget(what) => {
                self.views.confirm_forget = None;
                self.thumbs.clear();
                self.data.suggestions = None;
                self.data.pairs = None;
                self.data.person_faces = None;
                if let crate::people::Forget::Person(_) = what {
                    saved.view = View::People;
                }
            }
            _ => {}
        }
        self.send(job);
    }
}

fn open_in_system_viewer(path: &str) -> Result<(), String> {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(path)
        .spawn()
        .map(|_| ())
        .map_err(|e| format!("cannot open {path} with {opener}: {e}"))
}

impl eframe::App for App {
    fn logic(&mut self, _ctx: &Context, _frame: &mut eframe::Frame) {
        // Also runs while the window is hidden: keep the worker's channel drained.
        if let Some(rt) = &mut self.rt {
            rt.drain(&mut self.saved);
        }
    }

    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.saved);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        if let Some(s) = self.rt.as_ref().and_then(|rt| rt.data.scan.as_ref()) {
            // Finished batches are committed; the next scan resumes from there.
            s.cancel.cancel();
        }
    }
}
