//! The top-level waker every bench driver polls with.
//!
//! Executors hand futures reference-counted wakers (tokio's, async-task's
//! under smol, futures' `block_on`'s): cloning one and dropping the clone
//! each cost an atomic operation. `Waker::noop()` costs nothing to clone, so
//! a driver that polls with it undercharges every combinator that stores the
//! task's waker in its children (futures' `join_all`, futures-concurrency's
//! races) against one that gives children wakers of its own. This waker is
//! reference counted like an executor's; waking it does nothing, since the
//! drivers poll again on their own. One per thread, made once, so no run
//! pays for making it.

#![allow(dead_code)] // each bench uses a part

use std::sync::{Arc, OnceLock};
use std::task::{Wake, Waker};

struct TaskWake;

impl Wake for TaskWake {
    fn wake(self: Arc<Self>) {}

    fn wake_by_ref(self: &Arc<Self>) {}
}

/// The waker of the benchmark's "task".
pub(crate) fn task_waker() -> &'static Waker {
    static WAKER: OnceLock<Waker> = OnceLock::new();
    WAKER.get_or_init(|| Waker::from(Arc::new(TaskWake)))
}
