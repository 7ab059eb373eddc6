//! The app: saved state, runtime state, the per-frame loop (drain worker events, draw the
//! navigation, the status bar and the current view, then apply the views' commands).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{bounded, Receiver};
use egui::{Context, TextureHandle, TextureOptions, Ui};

use super::backend::{PhotoCard, Suggestion, UncertainPair};
use super::commands::Command;
use super::state::{FaceCard, Library, Saved, ScanResult, View};
use super::textures::ThumbCache;
use super::views;
use super::worker::{Event, Job, PhotoSlot, PhotoVerdict, ShownPhoto, WorkerHandle};
use crate::progress::{CancelToken, Progress};

/// A message in the status area.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub error: bool,
}

/// A scan in progress.
pub struct RunningScan {
    /// What runs, for the progress line ("Scanning", "Upgrading to MobileFaceNet").
    pub title: String,
    pub progress: Arc<Progress>,
    pub cancel: CancelToken,
    pub started: Instant,
}

/// A photo on screen: the decoded image until the first draw turns it into a texture.
pub struct PhotoOnScreen {
    pub info: ShownPhoto,
    pub texture: Option<TextureHandle>,
}

impl PhotoOnScreen {
    /// The texture, created on first use.
    pub fn texture(&mut self, ctx: &Context, name: &str) -> TextureHandle {
        if let Some(t) = &self.texture {
            return t.clone();
        }
        let img = std::mem::take(&mut self.info.image);
        let t = ctx.load_texture(name, img, TextureOptions::LINEAR);
        self.texture = Some(t.clone());
        t
    }
}

/// Per-view UI state that is not worth saving.
#[derive(Default)]
pub struct ViewState {
    pub selected: std::collections::BTreeSet<i64>,
    pub rename: String,
    pub rename_for: Option<i64>,
    pub merge_search: String,
    pub path_a: String,
    pub path_b: String,
    pub threshold: f32,
    pub min_face_px: f32,
    pub db_field: String,
    /// A forget the user asked for and has not confirmed yet.
    pub confirm_forget: Option<crate::people::Forget>,
    /// Folder typed to install a model from.
    pub model_folder: String,
    /// Position in the uncertain pairs and in the suggestions.
    pub pair_index: usize,
    pub suggestion_index: usize,
    pub photos_search: String,
    /// The people grid's filtered rows: (filter, show hidden, generation) → indices.
    pub people_rows: Option<((String, bool, u64), Vec<usize>)>,
    /// Keyboard cursor in the people grid.
    pub cursor: usize,
    /// Faces skipped in the review view (asked again after a reload only).
    pub skipped: std::collections::HashSet<i64>,
    /// The library photo open in the photos view.
    pub open_photo: Option<i64>,
    /// Faces picked in the ungrouped view, the name typed for them, the people filter.
    pub ungrouped_selected: std::collections::BTreeSet<i64>,
    pub ungrouped_name: String,
    pub ungrouped_search: String,
    /// Drawing a missed face on it.
    pub draw: DrawState,
    /// The sidecar name chosen for export (`None`: each photo's existing one, else
    /// photo.ext.xmp).
    pub sidecar: Option<crate::library::sidecar::SidecarName>,
}

/// Drawing a face box on the open photo.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DrawState {
    /// The drawing tool is on (a drag draws instead of nothing).
    pub on: bool,
    /// Where the drag started, in photo pixels.
    pub start: Option<[f32; 2]>,
    /// The box drawn, waiting for its person.
    pub pending: Option<[f32; 4]>,
    pub search: String,
    pub new_name: String,
}

/// Everything that exists only while the app runs.
pub struct Runtime {
    pub db: PathBuf,
    worker: WorkerHandle,
    pub thumbs: ThumbCache,
    pub library: Option<Library>,
    pub scan: Option<RunningScan>,
    pub last_scan: Option<ScanResult>,
    pub messages: Vec<Message>,
    pub commands: Vec<Command>,
    pub person_faces: Option<(i64, Vec<FaceCard>)>,
    /// The merge candidates of the person shown: people closest first, with the distance.
    pub closest: Option<(i64, Vec<(i64, f32)>)>,
    pub suggestions: Option<Vec<Suggestion>>,
    pub pairs: Option<Vec<UncertainPair>>,
    pub photos: Option<(Vec<i64>, Vec<PhotoCard>)>,
    /// The faces in nobody (the first ones, newest photos first) and how many there are.
    /// Shared, so that drawing the view each frame does not copy the list.
    pub ungrouped: Option<std::sync::Arc<(Vec<crate::store::UngroupedFace>, u64)>>,
    pub shown: HashMap<PhotoSlot, PhotoOnScreen>,
    /// The face whose photo was last asked for, per slot.
    pub photo_wanted: HashMap<PhotoSlot, i64>,
    pub verdict: Option<PhotoVerdict>,
    pub verifying: bool,
    pub engine: Option<Vec<String>>,
    pub preview: Option<String>,
    pub views: ViewState,
    dialog: Option<Receiver<(DialogKind, Option<PathBuf>)>>,
    /// Frames drawn (for tests and benchmarks).
    pub frames: u64,
    /// Bumped whenever a new library snapshot arrives (views cache derived lists on it).
    pub generation: u64,
    /// When the library snapshot was last asked for (refreshed every few seconds in a scan).
    last_refresh: Instant,
}

#[derive(Debug, Clone, Copy)]
enum DialogKind {
    Folder,
    Photo(PhotoSlot),
}

impl Runtime {
    /// The library's embedder (the catalogue default until the library is loaded).
    pub fn model(&self) -> &'static crate::vision::EmbedderSpec {
        self.library
            .as_ref()
            .map_or(crate::vision::models::DEFAULT_EMBEDDER, |l| l.model)
    }

    fn start(db: &Path, ctx: &Context, saved: &Saved) -> Self {
        let worker = WorkerHandle::start(db, ctx);
        Self {
            db: db.to_path_buf(),
            worker,
            thumbs: ThumbCache::new(db, ctx),
            library: None,
            scan: None,
            last_scan: None,
            messages: Vec::new(),
            commands: vec![Command::Refresh],
            person_faces: None,
            closest: None,
            suggestions: None,
            pairs: None,
            photos: None,
            ungrouped: None,
            shown: HashMap::new(),
            photo_wanted: HashMap::new(),
            verdict: None,
            verifying: false,
            engine: None,
            preview: None,
            views: ViewState {
                threshold: saved.cluster_adjust,
                min_face_px: saved.min_face_px,
                db_field: db.to_string_lossy().into_owned(),
                ..Default::default()
            },
            dialog: None,
            frames: 0,
            generation: 0,
            last_refresh: Instant::now(),
        }
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
        self.messages.push(Message { text, error });
        let n = self.messages.len();
        if n > 4 {
            self.messages.drain(..n - 4);
        }
    }

    fn send(&mut self, job: Job) {
        if let Err(e) = self.worker.send(job) {
            self.error(e);
        }
    }

    /// Whether a scan is running.
    pub fn scanning(&self) -> bool {
        self.scan.is_some()
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
                    if self.library.is_none()
                        && saved.view == View::Library
                        && self.scan.is_none()
                        && !lib.people.is_empty()
                    {
                        saved.view = View::People;
                    }
                    self.library = Some(*lib);
                    self.generation += 1;
                }
                Event::Error(e) => {
                    self.verifying = false;
                    self.error(e);
                }
                Event::Notice(m) => self.notice(m),
                Event::ScanDone(r) => {
                    self.scan = None;
                    if let ScanResult::Failed(e) = &r {
                        self.error(format!("scan failed: {e}"));
                    }
                    if let ScanResult::Upgraded(o) = &r {
                        if !o.cancelled {
                            // The people grid is in the new model's space now.
                            self.person_faces = None;
                        }
                    }
                    self.last_scan = Some(r);
                    self.thumbs.clear();
                    self.suggestions = None;
                    self.pairs = None;
                    self.send(Job::Refresh);
                    // The scan's re-grouping changed who is ungrouped: a stale pick would move
                    // faces out of the people they just joined.
                    if self.ungrouped.is_some() {
                        self.views.ungrouped_selected.clear();
                        self.send(Job::Ungrouped);
                    }
                }
                Event::PersonFaces(id, faces) => self.person_faces = Some((id, faces)),
                Event::ClosestPeople(id, near) => self.closest = Some((id, near)),
                Event::Suggestions(s) => {
                    self.views.suggestion_index = 0;
                    self.suggestions = Some(s);
                }
                Event::Pairs(p) => {
                    self.views.pair_index = 0;
                    self.pairs = Some(p);
                }
                Event::Photos(people, p) => self.photos = Some((people, p)),
                Event::Ungrouped(faces, total) => {
                    // Faces that left the list leave the selection too.
                    let ids: std::collections::HashSet<i64> =
                        faces.iter().map(|f| f.face_id).collect();
                    self.views.ungrouped_selected.retain(|f| ids.contains(f));
                    self.ungrouped = Some(std::sync::Arc::new((faces, total)));
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
                    self.verifying = false;
                    self.verdict = Some(*v);
                }
                Event::Engine(p) => self.engine = Some(p),
                Event::Preview(p) => self.preview = Some(p),
            }
        }
        if let Some(rx) = &self.dialog {
            if let Ok((kind, path)) = rx.try_recv() {
                self.dialog = None;
                match (kind, path) {
                    (DialogKind::Folder, Some(p)) => {
                        saved.typed_folder = p.to_string_lossy().into_owned();
                        self.commands.push(Command::AddFolder(p));
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
        if rt.scan.is_some() {
            // Progress is sampled, not messaged: repaint a few times a second while it runs,
            // and reload the totals every few seconds.
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
            if rt.last_refresh.elapsed() > std::time::Duration::from_secs(3) {
                rt.commands.push(Command::Refresh);
            }
        }
        views::chrome::shortcuts(&ctx, saved, rt);

        egui::Panel::top("nav").show(ui, |ui| views::chrome::nav_bar(ui, saved, rt));
        egui::Panel::bottom("status").show(ui, |ui| views::chrome::status_bar(ui, rt));
        egui::CentralPanel::default().show(ui, |ui| match saved.view {
            View::Library => views::library::show(ui, saved, rt),
            View::People => views::people::show(ui, saved, rt),
            View::Person => views::person::show(ui, saved, rt),
            View::Review => views::review::show(ui, saved, rt),
            View::Verify => views::verify::show(ui, saved, rt),
            View::Photos => views::photos::show(ui, saved, rt),
            View::Settings => views::settings::show(ui, saved, rt),
            View::Ungrouped => views::ungrouped::show(ui, rt),
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
                        View::Review if rt.suggestions.is_none() => rt.send(Job::Suggestions),
                        View::Verify if rt.pairs.is_none() => rt.send(Job::UncertainPairs),
                        View::Settings if rt.engine.is_none() => rt.send(Job::EngineInfo),
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
                    if rt.person_faces.as_ref().is_none_or(|(p, _)| *p != id) {
                        rt.person_faces = None;
                    }
                    rt.send(Job::PersonFaces(id));
                }
                Command::PickFolder => rt.open_dialog(ctx, DialogKind::Folder),
                Command::PickPhoto(slot) => rt.open_dialog(ctx, DialogKind::Photo(slot)),
                Command::AddFolder(p) => {
                    if p.as_os_str().is_empty() {
                        rt.error("type a folder path first");
                    } else {
                        rt.send(Job::AddFolder(p));
                    }
                }
                Command::RemoveFolder(id) => rt.send(Job::RemoveFolder(id)),
                Command::Scan => {
                    if rt.scan.is_none() {
                        let progress = Progress::new();
                        let cancel = CancelToken::new();
                        rt.scan = Some(RunningScan {
                            title: "Scanning".into(),
                            progress: progress.clone(),
                            cancel: cancel.clone(),
                            started: Instant::now(),
                        });
                        rt.last_scan = None;
                        rt.send(Job::Scan {
                            threads: saved.inference_threads,
                            cluster: (saved.cluster_adjust, saved.min_face_px),
                            progress,
                            cancel,
                        });
                    }
                }
                Command::CancelScan => {
                    if let Some(s) = &rt.scan {
                        s.cancel.cancel();
                    }
                }
                Command::Refresh => {
                    rt.last_refresh = Instant::now();
                    rt.send(Job::Refresh);
                }
                Command::People(_) | Command::Answer(_) => {
                    // Answers advance locally (the views step to the next item); any other
                    // decision may change everything: reload the lists that depend on it.
                    let (op, answer) = match c {
                        Command::Answer(op) => (op, true),
                        Command::People(op) => (op, false),
                        _ => unreachable!("matched above"),
                    };
                    if !answer {
                        rt.suggestions = None;
                        rt.pairs = None;
                    }
                    let reload_review = !answer && saved.view == View::Review;
                    let reload_verify = !answer && saved.view == View::Verify;
                    let undo = op == crate::people::Act::Undo;
                    rt.send(Job::People(op));
                    if reload_review {
                        rt.send(Job::Suggestions);
                    }
                    if reload_verify {
                        rt.send(Job::UncertainPairs);
                    }
                    if undo {
                        rt.thumbs.clear();
                    }
                    if saved.view == View::Photos && !saved.photos_people.is_empty() {
                        rt.send(Job::PhotosWith(saved.photos_people.clone()));
                    }
                    if saved.view == View::Ungrouped {
                        rt.send(Job::Ungrouped);
                    }
                    // The open photo shows its faces as they are now (an undone drawn face goes).
                    if let (View::Photos, Some(id)) = (saved.view, rt.views.open_photo) {
                        rt.send(Job::OpenPhoto(id));
                    }
                }
                Command::LoadSuggestions => rt.send(Job::Suggestions),
                Command::LoadPairs => rt.send(Job::UncertainPairs),
                Command::ShowFacePhoto(slot, f) => {
                    rt.photo_wanted.insert(slot, f.id);
                    rt.send(Job::Photo {
                        slot,
                        photo_id: f.photo_id,
                        boxes: vec![f.bbox],
                    });
                }
                Command::VerifyPhotos(a, b) => {
                    rt.verifying = true;
                    rt.verdict = None;
                    rt.shown.remove(&PhotoSlot::A);
                    rt.shown.remove(&PhotoSlot::B);
                    rt.send(Job::VerifyPhotos(a, b));
                }
                Command::PhotosWith(people) => {
                    saved.photos_people = people.clone();
                    rt.send(Job::PhotosWith(people));
                }
                Command::OpenFile(p) => {
                    if let Err(e) = open_in_system_viewer(&p) {
                        rt.error(e);
                    }
                }
                Command::Preview {
                    threshold,
                    min_face_px,
                } => {
                    rt.preview = Some("computing…".into());
                    rt.send(Job::Preview {
                        threshold,
                        min_face_px,
                    });
                }
                Command::Recluster {
                    threshold,
                    min_face_px,
                } => {
                    saved.cluster_adjust = threshold;
                    saved.min_face_px = min_face_px;
                    rt.thumbs.clear();
                    rt.send(Job::Recluster {
                        threshold,
                        min_face_px,
                    });
                }
                Command::OpenDb(p) => reopen = Some(p),
                Command::LoadEngineInfo => rt.send(Job::EngineInfo),
                Command::Upgrade(model) => {
                    if rt.scan.is_none() {
                        let progress = Progress::new();
                        let cancel = CancelToken::new();
                        let name = crate::vision::models::embedder(&model)
                            .map_or(model.as_str(), |m| m.name);
                        rt.scan = Some(RunningScan {
                            title: format!("Upgrading to {name}"),
                            progress: progress.clone(),
                            cancel: cancel.clone(),
                            started: Instant::now(),
                        });
                        rt.last_scan = None;
                        rt.send(Job::Upgrade {
                            model,
                            threads: saved.inference_threads,
                            progress,
                            cancel,
                        });
                    }
                }
                Command::OpenPhoto(id) => {
                    rt.views.open_photo = Some(id);
                    rt.views.draw = DrawState::default();
                    rt.shown.remove(&PhotoSlot::Photo);
                    rt.send(Job::OpenPhoto(id));
                }
                Command::AddFace {
                    photo_id,
                    bbox,
                    who,
                } => {
                    rt.views.draw = DrawState::default();
                    rt.send(Job::AddFace {
                        photo_id,
                        bbox,
                        who,
                    });
                }
                Command::ExportXmp(sidecar) => {
                    rt.notice("Writing XMP sidecars…");
                    rt.send(Job::ExportXmp(crate::pipeline::export::ExportOptions {
                        person: None,
                        sidecar,
                    }));
                }
                Command::Forget(what) => {
                    rt.views.confirm_forget = None;
                    rt.thumbs.clear();
                    rt.suggestions = None;
                    rt.pairs = None;
                    rt.person_faces = None;
                    if let crate::people::Forget::Person(_) = what {
                        rt.commands.push(Command::Show(super::state::View::People));
                    }
                    rt.send(Job::Forget(what));
                }
                Command::InstallModel { id, from } => {
                    rt.notice("Installing the model… (converting Intel's files can take a minute)");
                    rt.send(Job::InstallModel { id, from });
                }
                Command::ModelNoticeSeen(id) => {
                    if !saved.model_notice_seen.contains(&id) {
                        saved.model_notice_seen.push(id);
                    }
                }
                Command::DismissMessages => rt.messages.clear(),
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
        if let Some(s) = self.rt.as_ref().and_then(|rt| rt.scan.as_ref()) {
            // Finished batches are committed; the next scan resumes from there.
            s.cancel.cancel();
        }
    }
}
