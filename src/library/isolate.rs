//! The C decoders out of process: HEIC (libheif + libde265) and AVIF (libavif + dav1d) are
//! decoded by worker processes — the same binary, run as `likeness decode-worker` — so that a
//! segfault, an abort, an endless loop or a runaway allocation in C code costs one photo, never
//! the scan or the app.
//!
//! - The scan (and every other caller of [`super::decode::decode_guarded`]) sends the file's
//!   bytes over the worker's stdin and reads the decoded working image back from its stdout,
//!   under a deadline (`settings::DECODE_TIMEOUT_S`). A worker that dies, breaks the protocol or
//!   misses the deadline is killed and reaped; that photo is failed with the reason ("the HEIC
//!   decoder crashed (signal 11, SIGSEGV)", "… took longer than 30 s", "… needed more than 4
//!   GB") and the next photo gets a fresh worker.
//! - A worker is confined before it reads anything (Linux): its address space is limited
//!   (`settings::DECODE_MEMORY_LIMIT`), no core files; Landlock takes every file-system and TCP
//!   right (it never opens a file: the bytes arrive on a pipe) and signals outside itself;
//!   seccomp refuses sockets, exec, new processes and opening anything for writing. What the
//!   kernel granted is reported by the worker's hello and logged.
//! - A worker dies with its parent (`PR_SET_PDEATHSIG`, set from one long-lived spawner thread,
//!   because the signal follows the thread that forked).
//! - Only the binary turns this on ([`use_worker_program`]); library code run from elsewhere
//!   (tests, benchmarks) decodes in process, as does a machine where no worker can be started
//!   (said once in the log).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::decode::Decoded;

/// Which C decoder reads `bytes`, by content (as [`super::decode::decode`] chooses), if any.
pub fn c_decoder(bytes: &[u8]) -> Option<&'static str> {
    if super::heif::is_avif(bytes) {
        Some("AVIF")
    } else if super::heif::is_heif(bytes) {
        Some("HEIC")
    } else {
        None
    }
}

static PROGRAM: OnceLock<PathBuf> = OnceLock::new();

/// Decode C-decoded formats in worker processes started from `exe` (the running `likeness`
/// binary). Called once by `main`.
/// `LIKENESS_DECODE_IN_PROCESS=1` keeps decoding inside the app (the benchmark's baseline, and a
/// way out where workers cannot run).
pub fn use_worker_program(exe: PathBuf) {
    if in_process_asked() {
        return;
    }
    let _ = PROGRAM.set(exe);
}

fn in_process_asked() -> bool {
    std::env::var_os("LIKENESS_DECODE_IN_PROCESS").is_some_and(|v| v == "1")
}

/// The per-photo deadline: `settings::DECODE_TIMEOUT_S`, or `LIKENESS_DECODE_TIMEOUT_S` (seconds)
/// where set (tests, and users with very large photos on slow machines).
pub fn timeout() -> std::time::Duration {
    let s = std::env::var("LIKENESS_DECODE_TIMEOUT_S")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(crate::settings::DECODE_TIMEOUT_S);
    std::time::Duration::from_secs_f64(s)
}

/// A worker's address-space limit: `settings::DECODE_MEMORY_LIMIT`, or
/// `LIKENESS_DECODE_MEMORY_MB` where set (tests; machines that must allow more).
pub fn memory_limit() -> u64 {
    std::env::var("LIKENESS_DECODE_MEMORY_MB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|mb| *mb > 0)
        .map_or(crate::settings::DECODE_MEMORY_LIMIT, |mb| mb << 20)
}

/// Whether a decoder's error (or its last words on stderr) says an allocation failed.
fn mentions_memory(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "memory allocation",
        "out of memory",
        "bad_alloc",
        "insufficient memory",
    ]
    .iter()
    .any(|m| t.contains(m))
}

/// "4 GB", "300 MB": a limit in words.
fn in_words(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.0} GB", bytes as f64 / (1u64 << 30) as f64)
    } else {
        format!("{} MB", bytes >> 20)
    }
}

/// Decode `bytes` in a worker when a C library would read them and workers are on; `None` when
/// the caller should decode in process.
pub(crate) fn decode(path: &Path, bytes: &[u8], max_side: u32) -> Option<Result<Decoded, String>> {
    let kind = c_decoder(bytes)?;
    imp::decode(kind, path, bytes, max_side)
}

thread_local! {
    /// The job a decode on this thread belongs to ([`cancellable`]).
    static CANCEL: std::cell::RefCell<Option<crate::progress::CancelToken>> =
        const { std::cell::RefCell::new(None) };
}

/// Run `f` (which decodes) so that a wait on a worker ends soon after `cancel` is cancelled —
/// a stopped scan does not wait out a hung decoder's deadline. The photo's result is then the
/// reason [`CANCELLED`], which the caller must not record.
pub fn cancellable<T>(cancel: &crate::progress::CancelToken, f: impl FnOnce() -> T) -> T {
    let was = CANCEL.with(|c| c.replace(Some(cancel.clone())));
    let out = f();
    CANCEL.with(|c| *c.borrow_mut() = was);
    out
}

/// The reason a decode gives when its job was cancelled while it waited on a worker.
pub const CANCELLED: &str = "decoding stopped: the job was cancelled";

fn cancelled() -> bool {
    CANCEL.with(|c| c.borrow().as_ref().is_some_and(|t| t.is_cancelled()))
}

/// The worker's side: `likeness decode-worker`. Returns the process exit code.
pub fn serve() -> i32 {
    imp::serve()
}

/// `likeness decode-worker --check`: what a confined worker can and cannot do.
pub fn check() -> i32 {
    imp::check()
}

/// What confinement held in a worker, as it reported it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Confinement {
    pub memory_limit: bool,
    pub seccomp: bool,
    pub landlock_full: bool,
    pub landlock_partial: bool,
}

impl Confinement {
    fn bits(self) -> u8 {
        self.memory_limit as u8
            | (self.seccomp as u8) << 1
            | (self.landlock_full as u8) << 2
            | (self.landlock_partial as u8) << 3
    }

    fn from_bits(b: u8) -> Self {
        Self {
            memory_limit: b & 1 != 0,
            seccomp: b & 2 != 0,
            landlock_full: b & 4 != 0,
            landlock_partial: b & 8 != 0,
        }
    }

    /// In words, for logs and `likeness formats`.
    pub fn describe(self) -> String {
        let mut v = Vec::new();
        if self.memory_limit {
            v.push("memory limit".to_string());
        }
        if self.seccomp {
            v.push("seccomp".to_string());
        }
        if self.landlock_full {
            v.push("Landlock".to_string());
        } else if self.landlock_partial {
            v.push("Landlock (partly: older kernel)".to_string());
        }
        if v.is_empty() {
            "not confined".into()
        } else {
            v.join(", ")
        }
    }
}

/// The wire format, little-endian, one request and one reply at a time:
/// hello   (worker → scan, once): b"LKW1", u8 confinement bits
/// request (scan → worker): u32 max_side, u32 ext length, ext (the file's extension: RAW files
///         are read through their preview), u64 byte count, the file's bytes
/// reply   (worker → scan): u8 0 + u32 width, u32 height (oriented original), f32 scale,
///         u8 orientation, u32 length + taken_at (empty: none), u32 w, u32 h, w·h·3 RGB bytes;
///         or u8 1 + u32 length + the reason
mod wire {
    pub const HELLO: &[u8; 4] = b"LKW1";

    pub fn put_u32(out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&v.to_le_bytes());
    }

    pub fn request_head(max_side: u32, ext: &str, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + ext.len());
        put_u32(&mut out, max_side);
        put_u32(&mut out, ext.len() as u32);
        out.extend_from_slice(ext.as_bytes());
        out.extend_from_slice(&(len as u64).to_le_bytes());
        out
    }

    /// The reply's head (everything before the pixels).
    pub fn ok_head(d: &super::Decoded) -> Vec<u8> {
        let mut out = vec![0u8];
        put_u32(&mut out, d.width);
        put_u32(&mut out, d.height);
        out.extend_from_slice(&d.scale.to_le_bytes());
        out.push(d.orientation);
        let t = d.taken_at.as_deref().unwrap_or_default();
        put_u32(&mut out, t.len() as u32);
        out.extend_from_slice(t.as_bytes());
        put_u32(&mut out, d.image.width());
        put_u32(&mut out, d.image.height());
        out
    }

    pub fn err(reason: &str) -> Vec<u8> {
        let mut out = vec![1u8];
        put_u32(&mut out, reason.len() as u32);
        out.extend_from_slice(reason.as_bytes());
        out
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use std::io::{Read, Write};
    use std::os::fd::{AsRawFd, FromRawFd, RawFd};
    use std::os::unix::process::CommandExt;
    use std::path::Path;
    use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
    use std::sync::{mpsc, Arc, Condvar, Mutex, OnceLock};
    use std::time::{Duration, Instant};

    use super::{wire, Confinement, PROGRAM};
    use crate::library::decode::{self, Decoded};
    use crate::settings;

    /// Why talking to a worker stopped.
    enum Fail {
        Timeout,
        /// The job was cancelled while waiting (`super::cancellable`).
        Cancelled,
        /// EOF, a broken pipe or nonsense: the worker is gone or not to be trusted.
        Broken(String),
    }

    struct Worker {
        child: Child,
        to: ChildStdin,
        from: ChildStdout,
        stderr_tail: Arc<Mutex<Vec<u8>>>,
        /// Reads `stderr_tail` until the worker is gone (EOF: it can start no other process).
        stderr_reader: Option<std::thread::JoinHandle<()>>,
    }

    struct Pool {
        state: Mutex<Workers>,
        freed: Condvar,
        cap: usize,
        spawner: Mutex<mpsc::Sender<mpsc::Sender<Result<Worker, String>>>>,
    }

    #[derive(Default)]
    struct Workers {
        idle: Vec<Worker>,
        /// Idle and busy ones (at most `Pool::cap`).
        live: usize,
    }

    static POOL: OnceLock<Option<Pool>> = OnceLock::new();
    static CONFINEMENT: OnceLock<Confinement> = OnceLock::new();

    /// Start a worker (or take an idle one) and give it back: what it reported, or why none
    /// started. `None` when workers are off.
    pub fn probe() -> Option<(usize, Result<Confinement, String>)> {
        let pool = pool()?;
        let got = pool.take().map(|w| {
            pool.put(w);
            CONFINEMENT.get().copied().unwrap_or_default()
        });
        Some((pool.cap, got))
    }

    fn pool() -> Option<&'static Pool> {
        POOL.get_or_init(|| {
            let exe = PROGRAM.get()?.clone();
            let (tx, rx) = mpsc::channel::<mpsc::Sender<Result<Worker, String>>>();
            // Workers are forked from this one thread, which lives as long as the process:
            // PR_SET_PDEATHSIG fires when the forking thread ends, not the process.
            std::thread::Builder::new()
                .name("likeness-decoder-spawner".into())
                .spawn(move || {
                    for reply in rx {
                        let _ = reply.send(spawn(&exe));
                    }
                })
                .ok()?;
            let cap = std::env::var("LIKENESS_DECODE_WORKERS")
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(settings::DECODE_WORKERS)
                .max(1);
            Some(Pool {
                state: Mutex::new(Workers::default()),
                freed: Condvar::new(),
                cap,
                spawner: Mutex::new(tx),
            })
        })
        .as_ref()
    }

    fn spawn(exe: &Path) -> Result<Worker, String> {
        let mut cmd = Command::new(exe);
        cmd.arg("decode-worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_remove("LIKENESS_LOG");
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died before the line above: then nobody reads us.
                if libc::getppid() == 1 {
                    libc::_exit(0);
                }
                // No descriptor of the parent's (the database above all) reaches the worker.
                libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {} decode-worker: {e}", exe.display()))?;
        let (Some(to), Some(mut from), Some(mut err)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err("decode worker without pipes".into());
        };
        let stderr_tail = Arc::new(Mutex::new(Vec::new()));
        let tail = stderr_tail.clone();
        let stderr_reader = std::thread::Builder::new()
            .name("likeness-decoder-stderr".into())
            .spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = err.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    tracing::debug!(
                        "decode worker: {}",
                        String::from_utf8_lossy(&buf[..n]).trim_end()
                    );
                    if let Ok(mut t) = tail.lock() {
                        t.extend_from_slice(&buf[..n]);
                        let over = t.len().saturating_sub(8192);
                        t.drain(..over);
                    }
                }
            })
            .ok();
        set_nonblocking(to.as_raw_fd());
        set_nonblocking(from.as_raw_fd());
        let mut hello = [0u8; 5];
        let deadline = Instant::now() + Duration::from_secs(10);
        if let Err(f) = read_exact_by(&mut from, &mut hello, deadline) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(match f {
                Fail::Timeout | Fail::Cancelled => {
                    "the decode worker did not start within 10 s".into()
                }
                Fail::Broken(e) => format!("the decode worker did not start: {e}"),
            });
        }
        if &hello[..4] != wire::HELLO {
            let _ = child.kill();
            let _ = child.wait();
            return Err("the decode worker answered in another protocol".into());
        }
        let c = Confinement::from_bits(hello[4]);
        if CONFINEMENT.set(c).is_ok() {
            tracing::info!("decode workers confined: {}", c.describe());
        }
        Ok(Worker {
            child,
            to,
            from,
            stderr_tail,
            stderr_reader,
        })
    }

    fn set_nonblocking(fd: RawFd) {
        // SAFETY: fcntl on a descriptor we own.
        unsafe {
            let fl = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
        }
    }

    /// Wait until `fd` is ready for `events`, or the deadline.
    fn ready(fd: RawFd, events: libc::c_short, deadline: Instant) -> Result<(), Fail> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Fail::Timeout);
            }
            if super::cancelled() {
                return Err(Fail::Cancelled);
            }
            // Waits are sliced so that a cancelled job is noticed within 100 ms.
            let left = left.min(Duration::from_millis(100));
            let mut p = libc::pollfd {
                fd,
                events,
                revents: 0,
            };
            let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
            // SAFETY: one valid pollfd.
            let r = unsafe { libc::poll(&mut p, 1, ms) };
            if r > 0 {
                return Ok(());
            }
            if r == 0 {
                continue;
            }
            if r < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(Fail::Broken(format!("poll: {e}")));
                }
            }
        }
    }

    fn read_exact_by(
        r: &mut ChildStdout,
        mut buf: &mut [u8],
        deadline: Instant,
    ) -> Result<(), Fail> {
        while !buf.is_empty() {
            match r.read(buf) {
                Ok(0) => return Err(Fail::Broken("closed".into())),
                Ok(n) => buf = &mut buf[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    ready(r.as_raw_fd(), libc::POLLIN, deadline)?
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Fail::Broken(e.to_string())),
            }
        }
        Ok(())
    }

    fn write_all_by(w: &mut ChildStdin, mut buf: &[u8], deadline: Instant) -> Result<(), Fail> {
        while !buf.is_empty() {
            match w.write(buf) {
                Ok(0) => return Err(Fail::Broken("closed".into())),
                Ok(n) => buf = &buf[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    ready(w.as_raw_fd(), libc::POLLOUT, deadline)?
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Fail::Broken(e.to_string())),
            }
        }
        Ok(())
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    impl Worker {
        /// Alive and able to answer: a worker stopped while idle (SIGSTOP, a debugger) would
        /// make the next photo wait out its deadline and fail for nothing.
        fn usable(&mut self) -> bool {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return false;
            }
            let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()));
            // The state follows the last ')' (the command name may hold any character).
            let state = stat.ok().and_then(|s| {
                let at = s.rfind(')')?;
                s[at + 1..].trim_start().chars().next()
            });
            !matches!(state, Some('T' | 't'))
        }

        /// One request and its reply. `Ok` holds the worker's own answer (a decoded photo or
        /// the decoder's reason).
        fn ask(
            &mut self,
            ext: &str,
            bytes: &[u8],
            max_side: u32,
            deadline: Instant,
        ) -> Result<Result<Decoded, String>, Fail> {
            let head = wire::request_head(max_side, ext, bytes.len());
            write_all_by(&mut self.to, &head, deadline)?;
            write_all_by(&mut self.to, bytes, deadline)?;
            let mut tag = [0u8; 1];
            read_exact_by(&mut self.from, &mut tag, deadline)?;
            let broken = |what: &str| Fail::Broken(format!("bad reply ({what})"));
            match tag[0] {
                0 => {
                    let mut h = [0u8; 17];
                    read_exact_by(&mut self.from, &mut h, deadline)?;
                    let (width, height) = (u32_at(&h, 0), u32_at(&h, 4));
                    let scale = f32::from_le_bytes([h[8], h[9], h[10], h[11]]);
                    let orientation = h[12];
                    let tlen = u32_at(&h, 13) as usize;
                    if tlen > 64 {
                        return Err(broken("date"));
                    }
                    let mut t = vec![0u8; tlen];
                    read_exact_by(&mut self.from, &mut t, deadline)?;
                    let mut wh = [0u8; 8];
                    read_exact_by(&mut self.from, &mut wh, deadline)?;
                    let (w, h) = (u32_at(&wh, 0), u32_at(&wh, 4));
                    // A worker is not trusted with the parent's memory: the image is no larger
                    // than what was asked for.
                    if w == 0 || h == 0 || w.max(h) > max_side {
                        return Err(broken("image size"));
                    }
                    let mut px = vec![0u8; w as usize * h as usize * 3];
                    read_exact_by(&mut self.from, &mut px, deadline)?;
                    let image =
                        image::RgbImage::from_raw(w, h, px).ok_or_else(|| broken("pixels"))?;
                    Ok(Ok(Decoded {
                        image,
                        width,
                        height,
                        scale,
                        taken_at: (tlen > 0).then(|| String::from_utf8_lossy(&t).into_owned()),
                        orientation,
                    }))
                }
                1 => {
                    let mut l = [0u8; 4];
                    read_exact_by(&mut self.from, &mut l, deadline)?;
                    let n = u32_at(&l, 0) as usize;
                    if n > 64 * 1024 {
                        return Err(broken("reason"));
                    }
                    let mut m = vec![0u8; n];
                    read_exact_by(&mut self.from, &mut m, deadline)?;
                    Ok(Err(String::from_utf8_lossy(&m).into_owned()))
                }
                _ => Err(broken("tag")),
            }
        }

        /// Kill and reap; say how the worker ended, for the photo's reason.
        fn end(mut self, kind: &str, fail: Fail) -> String {
            let _ = self.child.kill();
            let status = self.child.wait();
            // The worker's last words: its stderr reader ends at the EOF the death brought.
            if let Some(r) = self.stderr_reader.take() {
                let _ = r.join();
            }
            let tail = self
                .stderr_tail
                .lock()
                .map(|t| String::from_utf8_lossy(&t).into_owned())
                .unwrap_or_default();
            match fail {
                Fail::Timeout => {
                    return format!(
                        "the {kind} decoder took longer than {} s",
                        super::timeout().as_secs_f64()
                    )
                }
                Fail::Cancelled => return super::CANCELLED.to_string(),
                Fail::Broken(_) => {}
            }
            let limit = super::in_words(super::memory_limit());
            if super::mentions_memory(&tail) {
                return format!("the {kind} decoder needed more than {limit}");
            }
            // libheif is C++: an allocation or a thread the address-space limit refused becomes
            // an exception that cannot cross into Rust, and the worker aborts.
            if tail.contains("foreign exception") {
                return format!(
                    "the {kind} decoder failed (an uncaught C++ exception: most likely it \
                     needed more than {limit})"
                );
            }
            use std::os::unix::process::ExitStatusExt;
            match status {
                Ok(s) => match (s.signal(), s.code()) {
                    (Some(sig), _) => format!("the {kind} decoder crashed ({})", signal_name(sig)),
                    (None, Some(code)) => {
                        format!("the {kind} decoder stopped unexpectedly (exit code {code})")
                    }
                    (None, None) => format!("the {kind} decoder stopped unexpectedly"),
                },
                Err(e) => format!("the {kind} decoder stopped unexpectedly ({e})"),
            }
        }
    }

    fn signal_name(sig: i32) -> String {
        let name = match sig {
            libc::SIGSEGV => "SIGSEGV",
            libc::SIGABRT => "SIGABRT",
            libc::SIGBUS => "SIGBUS",
            libc::SIGILL => "SIGILL",
            libc::SIGFPE => "SIGFPE",
            libc::SIGKILL => "SIGKILL",
            libc::SIGSYS => "SIGSYS",
            libc::SIGTERM => "SIGTERM",
            _ => return format!("signal {sig}"),
        };
        format!("signal {sig}, {name}")
    }

    impl Pool {
        /// An idle worker, a new one while fewer than `cap` live, else wait for one.
        fn take(&self) -> Result<Worker, String> {
            let poisoned = || "decoder pool poisoned".to_string();
            let mut st = self.state.lock().map_err(|_| poisoned())?;
            loop {
                if let Some(mut w) = st.idle.pop() {
                    if w.usable() {
                        return Ok(w);
                    }
                    // Died or stopped while idle (from outside): killed, reaped, replaced.
                    let _ = w.child.kill();
                    let _ = w.child.wait();
                    st.live -= 1;
                    continue;
                }
                if st.live < self.cap {
                    st.live += 1;
                    break;
                }
                // Sliced like every other wait here, so that a stopped scan does not wait for
                // a busy worker to finish its photo.
                st = self
                    .freed
                    .wait_timeout(st, Duration::from_millis(100))
                    .map_err(|_| poisoned())?
                    .0;
                if super::cancelled() {
                    return Err(super::CANCELLED.to_string());
                }
            }
            drop(st);
            let spawned = (|| {
                let (tx, rx) = mpsc::channel();
                self.spawner
                    .lock()
                    .map_err(|_| "decoder spawner poisoned".to_string())?
                    .send(tx)
                    .map_err(|_| "decoder spawner gone".to_string())?;
                rx.recv().map_err(|_| "decoder spawner gone".to_string())?
            })();
            if spawned.is_err() {
                self.gone();
            }
            spawned
        }

        fn put(&self, w: Worker) {
            if let Ok(mut st) = self.state.lock() {
                st.idle.push(w);
            }
            self.freed.notify_one();
        }

        /// A worker was killed: room for a new one.
        fn gone(&self) {
            if let Ok(mut st) = self.state.lock() {
                st.live -= 1;
            }
            self.freed.notify_one();
        }
    }

    pub fn decode(
        kind: &str,
        path: &Path,
        bytes: &[u8],
        max_side: u32,
    ) -> Option<Result<Decoded, String>> {
        let pool = pool()?;
        let mut w = match pool.take() {
            Ok(w) => w,
            Err(e) if e == super::CANCELLED => return Some(Err(e)),
            Err(e) => {
                static SAID: std::sync::Once = std::sync::Once::new();
                SAID.call_once(|| {
                    tracing::warn!("{e}; HEIC and AVIF photos are decoded inside the app")
                });
                return None;
            }
        };
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        let deadline = Instant::now() + super::timeout();
        Some(match w.ask(ext, bytes, max_side, deadline) {
            Ok(answer) => {
                pool.put(w);
                answer
            }
            Err(fail) => {
                let why = w.end(kind, fail);
                pool.gone();
                Err(why)
            }
        })
    }

    // ---- the worker's side ----

    pub fn serve() -> i32 {
        // Rust's runtime handles SIGSEGV/SIGBUS to report stack overflows, and a signal it did
        // not expect once goes back to the default instead of ending the process: in a worker,
        // a fault ends it at once, and the scan says so.
        // SAFETY: resetting dispositions before any other thread exists.
        unsafe {
            libc::signal(libc::SIGSEGV, libc::SIG_DFL);
            libc::signal(libc::SIGBUS, libc::SIG_DFL);
        }
        // Load the libraries while files can still be opened.
        let _ = crate::library::heif::availability();
        let _ = crate::library::avif::availability();
        // The protocol gets its own descriptor; fd 1 becomes stderr, so that anything a C
        // library prints cannot corrupt a reply.
        // SAFETY: plain descriptor duplication.
        let proto = unsafe {
            let fd = libc::dup(1);
            libc::dup2(2, 1);
            fd
        };
        if proto < 0 {
            return 3;
        }
        // SAFETY: `proto` is ours alone.
        let mut out = unsafe { std::fs::File::from_raw_fd(proto) };
        let c = confine();
        // An allocation the limit refused is said on stderr, where the scan reads a dead
        // worker's last words: libheif's C++ turns it into an exception that aborts the process.
        unsafe extern "C" fn on_alloc_error(code: libc::c_int, _: *mut libc::c_void) {
            if code == libc::ENOMEM {
                let m = b"decode worker: out of memory\n";
                // SAFETY: write(2) of a static buffer is async-signal-safe.
                unsafe { libc::write(2, m.as_ptr().cast(), m.len()) };
            }
        }
        // SAFETY: registering a callback that only writes to stderr.
        unsafe { libmimalloc_sys::mi_register_error(Some(on_alloc_error), std::ptr::null_mut()) };
        let mut hello = wire::HELLO.to_vec();
        hello.push(c.bits());
        if out.write_all(&hello).is_err() {
            return 0;
        }
        // Freed memory is kept between photos (as the scan keeps its own: `memory.rs`) and
        // given back when no request came for a while.
        let _held = crate::memory::hold_for_job();
        let mut input = std::io::stdin().lock();
        loop {
            if !wait_request(0) {
                // SAFETY: mi_collect may be called at any time.
                unsafe { libmimalloc_sys::mi_collect(true) };
            }
            let mut h = [0u8; 8];
            if input.read_exact(&mut h).is_err() {
                return 0;
            }
            let max_side = u32_at(&h, 0);
            let ext_len = u32_at(&h, 4) as usize;
            if ext_len > 32 {
                return 4;
            }
            let mut ext = vec![0u8; ext_len];
            let mut n = [0u8; 8];
            if input.read_exact(&mut ext).is_err() || input.read_exact(&mut n).is_err() {
                return 0;
            }
            let n = u64::from_le_bytes(n);
            if n > settings::MAX_FILE_BYTES {
                return 4;
            }
            let mut bytes = vec![0u8; n as usize];
            if input.read_exact(&mut bytes).is_err() {
                return 0;
            }
            let name = format!("photo.{}", String::from_utf8_lossy(&ext));
            let r = decode::guarded(|| decode::decode_file(Path::new(&name), &bytes, max_side))
                .map_err(|e| match super::c_decoder(&bytes) {
                    // The decoder's own words for an allocation refused by the limit.
                    Some(kind) if super::mentions_memory(&e) => format!(
                        "the {kind} decoder needed more than {}",
                        super::in_words(super::memory_limit())
                    ),
                    _ => e,
                });
            drop(bytes);
            let sent = match r {
                Ok(d) => out
                    .write_all(&wire::ok_head(&d))
                    .and_then(|_| out.write_all(d.image.as_raw())),
                Err(e) => out.write_all(&wire::err(&e)),
            };
            if sent.and_then(|_| out.flush()).is_err() {
                return 0;
            }
        }
    }

    /// `likeness decode-worker --check`: confine as a worker does, then try what a worker must
    /// not be able to do, one line each (`denied` / `ALLOWED`), and whether threads still start.
    pub fn check() -> i32 {
        let _ = crate::library::heif::availability();
        let c = confine();
        println!("confinement: {}", c.describe());
        let denied = |ok: bool| if ok { "ALLOWED" } else { "denied" };
        let read = std::fs::read("/proc/self/cmdline").is_ok();
        println!("read a file: {}", denied(read));
        let dir = std::env::temp_dir().join(format!("likeness-check-{}", std::process::id()));
        let write = std::fs::write(&dir, b"x").is_ok();
        let _ = std::fs::remove_file(&dir);
        println!("write a file: {}", denied(write));
        // SAFETY: plain syscalls; a descriptor that opens is closed again.
        let socket = unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            if fd >= 0 {
                libc::close(fd);
            }
            fd >= 0
        };
        println!("open a socket: {}", denied(socket));
        // SAFETY: a child that runs would leave at once.
        let fork = unsafe {
            let pid = libc::fork();
            if pid == 0 {
                libc::_exit(0);
            }
            if pid > 0 {
                libc::waitpid(pid, std::ptr::null_mut(), 0);
            }
            pid >= 0
        };
        println!("start a process: {}", denied(fork));
        let exec = std::process::Command::new("/bin/true").status().is_ok();
        println!("run a program: {}", denied(exec));
        let thread = std::thread::spawn(|| 1).join().is_ok();
        println!(
            "start a thread: {}",
            if thread { "allowed" } else { "FAILED" }
        );
        0
    }

    /// Whether a request arrives on stdin within 2 s (then memory stays held).
    fn wait_request(fd: RawFd) -> bool {
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut p, 1, 2000) != 0 }
    }

    /// Limit, then confine, the worker process (the calling thread is its only thread: both
    /// Landlock and seccomp pass to the threads the decoders start later).
    fn confine() -> Confinement {
        let mut c = Confinement::default();
        let lim = libc::rlimit {
            rlim_cur: super::memory_limit(),
            rlim_max: super::memory_limit(),
        };
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit with valid structs.
        unsafe {
            c.memory_limit = libc::setrlimit(libc::RLIMIT_AS, &lim) == 0;
            libc::setrlimit(libc::RLIMIT_CORE, &none);
        }
        match landlock_everything() {
            Ok(landlock::RulesetStatus::FullyEnforced) => c.landlock_full = true,
            Ok(landlock::RulesetStatus::PartiallyEnforced) => c.landlock_partial = true,
            Ok(_) => {}
            Err(e) => eprintln!("landlock: {e}"),
        }
        match seccomp() {
            Ok(()) => c.seccomp = true,
            Err(e) => eprintln!("seccomp: {e}"),
        }
        c
    }

    /// Every file-system right, TCP bind/connect and signals to processes outside the worker:
    /// handled and none granted.
    fn landlock_everything() -> Result<landlock::RulesetStatus, landlock::RulesetError> {
        use landlock::{Access, AccessFs, AccessNet, Ruleset, RulesetAttr, Scope, ABI};
        let abi = ABI::V6;
        let status = Ruleset::default()
            .handle_access(AccessFs::from_all(abi))?
            .handle_access(AccessNet::from_all(abi))?
            .scope(Scope::Signal | Scope::AbstractUnixSocket)?
            .create()?
            .restrict_self()?;
        Ok(status.ruleset)
    }

    /// Refused with EPERM: sockets, exec, new processes (threads stay allowed), tracing other
    /// processes and opening or changing files for writing. clone3 answers ENOSYS, so that
    /// libc falls back to clone, whose flags a filter can read.
    fn seccomp() -> Result<(), String> {
        use seccompiler::{
            SeccompAction, SeccompCmpArgLen as Len, SeccompCmpOp as Op, SeccompCondition as Cond,
            SeccompFilter, SeccompRule,
        };
        use std::collections::BTreeMap;
        let arch: seccompiler::TargetArch = std::env::consts::ARCH
            .try_into()
            .map_err(|e| format!("{e}"))?;
        let rule = |arg: u8, mask: u64, value: u64| {
            Cond::new(arg, Len::Dword, Op::MaskedEq(mask), value)
                .and_then(|c| SeccompRule::new(vec![c]))
                .map_err(|e| e.to_string())
        };
        let mut deny: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
        for s in [
            libc::SYS_socket,
            libc::SYS_socketpair,
            libc::SYS_connect,
            libc::SYS_bind,
            libc::SYS_listen,
            libc::SYS_accept,
            libc::SYS_accept4,
            libc::SYS_execve,
            libc::SYS_execveat,
            libc::SYS_ptrace,
            libc::SYS_process_vm_readv,
            libc::SYS_process_vm_writev,
            libc::SYS_truncate,
            libc::SYS_ftruncate,
            libc::SYS_unlinkat,
            libc::SYS_renameat2,
            libc::SYS_mkdirat,
            libc::SYS_linkat,
            libc::SYS_symlinkat,
            libc::SYS_fchmodat,
            libc::SYS_fchownat,
        ] {
            deny.insert(s, vec![]);
        }
        #[cfg(target_arch = "x86_64")]
        for s in [
            libc::SYS_fork,
            libc::SYS_vfork,
            libc::SYS_creat,
            libc::SYS_unlink,
            libc::SYS_rename,
            libc::SYS_mkdir,
            libc::SYS_rmdir,
            libc::SYS_link,
            libc::SYS_symlink,
            libc::SYS_chmod,
            libc::SYS_chown,
        ] {
            deny.insert(s, vec![]);
        }
        let acc = libc::O_ACCMODE as u64;
        let opens = |arg: u8| -> Result<Vec<SeccompRule>, String> {
            Ok(vec![
                rule(arg, acc, libc::O_WRONLY as u64)?,
                rule(arg, acc, libc::O_RDWR as u64)?,
                rule(arg, libc::O_CREAT as u64, libc::O_CREAT as u64)?,
                rule(arg, libc::O_TRUNC as u64, libc::O_TRUNC as u64)?,
            ])
        };
        deny.insert(libc::SYS_openat, opens(2)?);
        #[cfg(target_arch = "x86_64")]
        deny.insert(libc::SYS_open, opens(1)?);
        // A new process is a clone without CLONE_THREAD.
        deny.insert(
            libc::SYS_clone,
            vec![rule(0, libc::CLONE_THREAD as u64, 0)?],
        );
        let eperm = SeccompFilter::new(
            deny,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EPERM as u32),
            arch,
        )
        .map_err(|e| e.to_string())?;
        let enosys = SeccompFilter::new(
            [(libc::SYS_clone3, vec![])].into_iter().collect(),
            SeccompAction::Allow,
            SeccompAction::Errno(libc::ENOSYS as u32),
            arch,
        )
        .map_err(|e| e.to_string())?;
        for f in [enosys, eperm] {
            let prog: seccompiler::BpfProgram = f.try_into().map_err(|e| format!("{e}"))?;
            seccompiler::apply_filter(&prog).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::Confinement;
    use crate::library::decode::Decoded;
    use std::path::Path;

    pub fn probe() -> Option<(usize, Result<Confinement, String>)> {
        None
    }

    pub fn decode(_: &str, _: &Path, _: &[u8], _: u32) -> Option<Result<Decoded, String>> {
        None
    }

    pub fn serve() -> i32 {
        eprintln!("decode workers run on Linux only");
        2
    }

    pub fn check() -> i32 {
        serve()
    }
}

/// How the C decoders run on this machine, for `likeness formats`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Isolation {
    /// Decoded in worker processes (false: inside the app).
    pub isolated: bool,
    /// At most this many workers at a time.
    pub workers: usize,
    pub timeout_s: f64,
    pub memory_limit_bytes: u64,
    /// What a worker reported, in words ("memory limit, seccomp, Landlock").
    pub confinement: Option<String>,
    /// Why decoding is not isolated: turned off, or no worker could start.
    pub reason: Option<String>,
}

impl Isolation {
    /// In words, for `likeness formats`.
    pub fn describe(&self) -> String {
        match (&self.confinement, &self.reason) {
            (Some(c), _) => format!(
                "HEIC and AVIF are decoded in worker processes ({} at a time, {} s and {} a \
                 photo), confined by: {c}",
                self.workers,
                self.timeout_s,
                in_words(self.memory_limit_bytes)
            ),
            (None, Some(why)) => format!("HEIC and AVIF are decoded inside the app: {why}"),
            (None, None) => "HEIC and AVIF are decoded inside the app".to_string(),
        }
    }
}

/// Start a worker if none runs yet, and say how HEIC and AVIF photos are decoded.
pub fn status() -> Isolation {
    let mut st = Isolation {
        isolated: false,
        workers: 0,
        timeout_s: timeout().as_secs_f64(),
        memory_limit_bytes: memory_limit(),
        confinement: None,
        reason: None,
    };
    match imp::probe() {
        Some((cap, Ok(c))) => {
            st.isolated = true;
            st.workers = cap;
            st.confinement = Some(c.describe());
        }
        Some((_, Err(e))) => st.reason = Some(e),
        None if !cfg!(target_os = "linux") => {
            st.reason = Some("decode workers run on Linux only".into())
        }
        None if in_process_asked() => {
            st.reason = Some("turned off by LIKENESS_DECODE_IN_PROCESS=1".into())
        }
        None => st.reason = Some("this program does not start decode workers".into()),
    }
    st
}
