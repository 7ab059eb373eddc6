//! How Likeness holds memory: mimalloc for every allocation in the process (Rust's, and through
//! its `override` feature ONNX Runtime's and libheif's too), told to keep freed memory while a
//! long job runs and to give it back when the job ends.
//!
//! Why: a 12 MP photo passes ~230 MB of short-lived buffers (decoded pixels, the 3200 px
//! detector input, RetinaFace's activations). With glibc's malloc each of them came fresh from
//! the kernel and was zeroed page by page: 27% of all CPU time in `clear_page_erms`, a third of
//! the scan's time in the kernel (`perf`, `benches/formats.sh`). Kept for reuse, the same 20
//! photos scanned in 10.0 s instead of 14.5 s, with a lower peak (1.7 GB instead of 2.3 GB).

use std::sync::atomic::{AtomicUsize, Ordering};

/// mimalloc's `mi_option_purge_delay` (milliseconds; -1 never purges).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
/// mimalloc's default purge delay, restored when no job runs.
const PURGE_DELAY_IDLE_MS: std::os::raw::c_long = 10;

static JOBS: AtomicUsize = AtomicUsize::new(0);

/// Held for the length of a scan or an upgrade: freed memory is kept for the next photo.
pub struct JobMemory(());

/// Start holding freed memory until the returned guard (and every other one) is dropped.
pub fn hold_for_job() -> JobMemory {
    if JOBS.fetch_add(1, Ordering::SeqCst) == 0 {
        // SAFETY: setting an option is thread-safe in mimalloc; the value is read at each purge.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) };
    }
    JobMemory(())
}

impl Drop for JobMemory {
    fn drop(&mut self) {
        if JOBS.fetch_sub(1, Ordering::SeqCst) == 1 {
            // SAFETY: as above; `mi_collect` may be called from any thread at any time.
            unsafe {
                libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_DELAY_IDLE_MS);
                libmimalloc_sys::mi_collect(true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_jobs_restore_the_idle_delay_only_at_the_end() {
        // No other unit test runs a scan or an upgrade, so this test owns the counter.
        let get = || unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        let a = hold_for_job();
        let b = hold_for_job();
        assert_eq!(get(), -1);
        drop(a);
        assert_eq!(get(), -1, "one job still runs");
        drop(b);
        assert_eq!(get(), PURGE_DELAY_IDLE_MS);
    }
}
