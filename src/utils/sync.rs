//! The synchronization primitives of the wake set and the semaphore: std's
//! (and futures-util's `AtomicWaker`) in every build, loom's in the loom
//! models (`RUSTFLAGS="--cfg aiokit_loom" cargo test --release --lib loom`), so the
//! models explore the very code the crate runs.

#[cfg(not(all(test, aiokit_loom)))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64};
#[cfg(not(all(test, aiokit_loom)))]
pub(crate) use std::sync::{Mutex, MutexGuard};

#[cfg(all(test, aiokit_loom))]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64};
#[cfg(all(test, aiokit_loom))]
pub(crate) use loom::sync::{Mutex, MutexGuard};

use std::task::Waker;

/// The parent task's waker: registered at the start of every parent poll,
/// taken and woken by whichever child wake finds the queue empty.
#[derive(Default)]
pub(crate) struct ParentWaker {
    #[cfg(not(all(test, aiokit_loom)))]
    inner: futures_util::task::AtomicWaker,
    #[cfg(all(test, aiokit_loom))]
    inner: loom::future::AtomicWaker,
}

impl ParentWaker {
    /// Stores `waker` (cloning it only when it would wake another task).
    #[inline]
    pub(crate) fn register(&self, waker: &Waker) {
        #[cfg(not(all(test, aiokit_loom)))]
        self.inner.register(waker);
        #[cfg(all(test, aiokit_loom))]
        self.inner.register_by_ref(waker);
    }

    /// Takes the stored waker, if any, and wakes it.
    #[inline]
    pub(crate) fn wake(&self) {
        self.inner.wake();
    }
}
