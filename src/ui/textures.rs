//! Face thumbnails for the grids: JPEGs from the store, decoded on a loader thread, uploaded as
//! textures lazily on the UI thread, kept in a bounded cache that evicts the least recently drawn.
//!
//! Only faces drawn in the current frame are asked for: each frame replaces the loader's queue
//! with what is visible now, so scrolling fast never builds a backlog of faces long gone.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};

use crossbeam_channel::{bounded, Receiver, Sender};
use egui::{ColorImage, Context, TextureHandle, TextureOptions};

use crate::store::Store;

/// Textures kept at most (160 px thumbnails: ~100 KB each on the GPU).
pub const CACHE_CAPACITY: usize = 768;
/// Decoded thumbnails uploaded per frame at most, so a burst never stalls a frame.
const UPLOADS_PER_FRAME: usize = 48;
/// Frames after which a face asked for but not delivered is asked for again.
const RETRY_FRAMES: u64 = 60;

#[derive(Default)]
struct Queue {
    ids: Vec<i64>,
    quit: bool,
}

type Shared = Arc<(Mutex<Queue>, Condvar)>;

/// The bounded texture cache of face thumbnails, with its loader thread.
pub struct ThumbCache {
    textures: HashMap<i64, (TextureHandle, u64)>,
    missing: HashSet<i64>,
    asked: HashMap<i64, u64>,
    wanted: Vec<i64>,
    frame: u64,
    queue: Shared,
    rx: Receiver<(i64, Option<ColorImage>)>,
    /// Textures uploaded since the cache was made (for tests and benchmarks).
    pub uploads: u64,
}

impl ThumbCache {
    /// Start a loader reading `db` (read-only) that wakes `ctx` when a thumbnail is ready.
    pub fn new(db: &Path, ctx: &Context) -> Self {
        let queue: Shared = Arc::new((Mutex::new(Queue::default()), Condvar::new()));
        let (tx, rx) = bounded(64);
        let (q, db, ctx) = (queue.clone(), db.to_path_buf(), ctx.clone());
        let spawned = std::thread::Builder::new()
            .name("likeness-thumbs".into())
            .spawn(move || loader(&db, &q, &tx, &ctx));
        if let Err(e) = spawned {
            tracing::error!("cannot start the thumbnail loader: {e}");
        }
        Self {
            textures: HashMap::new(),
            missing: HashSet::new(),
            asked: HashMap::new(),
            wanted: Vec::new(),
            frame: 0,
            queue,
            rx,
            uploads: 0,
        }
    }

    /// The texture of `face` if loaded; otherwise it is queued and `None` comes back.
    pub fn get(&mut self, face: i64) -> Option<&TextureHandle> {
        let frame = self.frame;
        if let Some((_, used)) = self.textures.get_mut(&face) {
            *used = frame;
        } else {
            if !self.missing.contains(&face)
                && self
                    .asked
                    .get(&face)
                    .is_none_or(|&at| frame > at + RETRY_FRAMES)
            {
                self.wanted.push(face);
            }
            return None;
        }
        self.textures.get(&face).map(|(t, _)| t)
    }

    /// Whether the face has no thumbnail in the store.
    pub fn is_missing(&self, face: i64) -> bool {
        self.missing.contains(&face)
    }

    /// Upload what the loader finished; call once per frame before drawing.
    pub fn begin_frame(&mut self, ctx: &Context) {
        self.frame += 1;
        let mut n = 0;
        while n < UPLOADS_PER_FRAME {
            let Ok((face, image)) = self.rx.try_recv() else {
                break;
            };
            self.asked.remove(&face);
            match image {
                Some(img) => {
                    let tex = ctx.load_texture(format!("face-{face}"), img, TextureOptions::LINEAR);
                    self.textures.insert(face, (tex, self.frame));
                    self.uploads += 1;
                }
                None => {
                    self.missing.insert(face);
                }
            }
            n += 1;
        }
        if n == UPLOADS_PER_FRAME {
            ctx.request_repaint();
        }
        self.evict();
    }

    /// Hand this frame's missing faces to the loader (replacing what it had not started).
    pub fn end_frame(&mut self) {
        if self.wanted.is_empty() {
            return;
        }
        let frame = self.frame;
        let (lock, cv) = &*self.queue;
        if let Ok(mut q) = lock.lock() {
            for id in q.ids.drain(..) {
                self.asked.remove(&id);
            }
            for &id in &self.wanted {
                self.asked.insert(id, frame);
            }
            q.ids = std::mem::take(&mut self.wanted);
            // The loader pops from the end: keep the top of the screen first.
            q.ids.reverse();
            cv.notify_one();
        }
        self.wanted.clear();
    }

    /// Textures held now.
    pub fn len(&self) -> usize {
        self.textures.len()
    }

    /// Whether no texture is held.
    pub fn is_empty(&self) -> bool {
        self.textures.is_empty()
    }

    /// Forget everything (another database was opened, or faces changed).
    pub fn clear(&mut self) {
        self.textures.clear();
        self.missing.clear();
    }

    fn evict(&mut self) {
        if self.textures.len() <= CACHE_CAPACITY {
            return;
        }
        let mut by_age: Vec<(u64, i64)> = self.textures.iter().map(|(&k, v)| (v.1, k)).collect();
        by_age.sort_unstable();
        let excess = self.textures.len() - CACHE_CAPACITY * 3 / 4;
        for (used, id) in by_age.into_iter().take(excess) {
            if used == self.frame {
                break;
            }
            self.textures.remove(&id);
        }
    }
}

impl Drop for ThumbCache {
    fn drop(&mut self) {
        let (lock, cv) = &*self.queue;
        if let Ok(mut q) = lock.lock() {
            q.quit = true;
            cv.notify_all();
        }
    }
}

/// Decode a JPEG thumbnail into an egui image.
pub fn decode_thumb(jpeg: &[u8]) -> Option<ColorImage> {
    let img = image::load_from_memory(jpeg).ok()?.to_rgb8();
    Some(ColorImage::from_rgb(
        [img.width() as usize, img.height() as usize],
        img.as_raw(),
    ))
}

fn loader(db: &Path, queue: &Shared, tx: &Sender<(i64, Option<ColorImage>)>, ctx: &Context) {
    let mut store: Option<Store> = None;
    let (lock, cv) = &**queue;
    loop {
        let id = {
            let Ok(mut q) = lock.lock() else { return };
            loop {
                if q.quit {
                    return;
                }
                if let Some(id) = q.ids.pop() {
                    break id;
                }
                q = match cv.wait(q) {
                    Ok(q) => q,
                    Err(_) => return,
                };
            }
        };
        if store.is_none() {
            store = Store::open_readonly(db)
                .map_err(|e| tracing::warn!("thumbnails: {e}"))
                .ok();
        }
        let image = store
            .as_ref()
            .and_then(|s| s.face_thumb(id).ok().flatten())
            .and_then(|jpeg| decode_thumb(&jpeg));
        if tx.send((id, image)).is_err() {
            return;
        }
        ctx.request_repaint();
    }
}
