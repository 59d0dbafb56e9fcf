//! The synchronization primitives of the wake set and the semaphore: std's in
//! every build, loom's in the loom models
//! (`RUSTFLAGS="--cfg aiokit_loom" cargo test --release --lib loom`), so the
//! models explore the very code the crate runs.

#[cfg(not(all(test, aiokit_loom)))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
#[cfg(not(all(test, aiokit_loom)))]
pub(crate) use std::sync::{Mutex, MutexGuard};

#[cfg(all(test, aiokit_loom))]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
#[cfg(all(test, aiokit_loom))]
pub(crate) use loom::sync::{Mutex, MutexGuard};

use std::sync::PoisonError;
use std::task::Waker;

/// The parent task's waker: stored (under a lock) when the parent is polled
/// with a waker that would wake another task, cloned and woken by whichever
/// child wake finds the queue empty. It stays stored after a wake, so a
/// parent polled again with the same waker touches no lock and no count.
#[derive(Default)]
pub(crate) struct ParentWaker {
    slot: Mutex<Option<Waker>>,
}

impl ParentWaker {
    /// Stores `waker`.
    #[inline]
    pub(crate) fn register(&self, waker: &Waker) {
        let waker = waker.clone();
        let old = self
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(waker);
        // Dropped outside the lock.
        drop(old);
    }

    /// Wakes the stored waker, if any (a clone, woken outside the lock in
    /// case it polls the parent inline).
    #[inline]
    pub(crate) fn wake(&self) {
        let waker = self
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Runs `f` under loom and prints how many interleavings it explored: the
/// driver of every loom model.
#[cfg(all(test, aiokit_loom))]
pub(crate) fn loom_model(f: impl Fn() + Sync + Send + 'static) {
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    let mut builder = loom::model::Builder::new();
    // Bounded like tokio's models unless LOOM_MAX_PREEMPTIONS says
    // otherwise: every interleaving with up to 3 preemptions.
    builder.preemption_bound = builder.preemption_bound.or(Some(3));
    builder.check(move || {
        counted.fetch_add(1, Relaxed);
        f();
    });
    let name = std::thread::current().name().unwrap_or("?").to_owned();
    eprintln!(
        "loom: {name}: {} interleavings explored",
        count.load(Relaxed)
    );
}
