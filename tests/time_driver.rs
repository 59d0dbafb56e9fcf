//! Who fires the timers. Under tokio with the `tokio` feature, tokio's own
//! time driver (no `async-io` thread ever starts); under tokio without it,
//! and under runtimes that never block on async-io's reactor, async-io's
//! helper thread, named `async-io`.
//!
//! One test in its own binary, so that no other test's `async_io::block_on`
//! thread can drive the reactor or start async-io meanwhile. CI runs it with
//! and without the `tokio` feature.

mod common;

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};
use std::time::{Duration, Instant};

use aiokit::{Elapsed, TimeoutStreamExt, sleep, timeout};
use common::*;
use futures::StreamExt as _;

/// Forwards wakes to `inner`, noting the name of each waking thread.
struct Recorder {
    inner: Waker,
    wakers: Arc<Mutex<Vec<String>>>,
}

impl Wake for Recorder {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let name = std::thread::current()
            .name()
            .unwrap_or("<unnamed>")
            .to_owned();
        self.wakers.lock().unwrap().push(name);
        self.inner.wake_by_ref();
    }
}

/// Runs `fut`, recording which threads wake it.
async fn recorded<F: Future>(fut: F, wakers: Arc<Mutex<Vec<String>>>) -> F::Output {
    let mut fut = pin!(fut);
    poll_fn(|cx| {
        let waker = Waker::from(Arc::new(Recorder {
            inner: cx.waker().clone(),
            wakers: wakers.clone(),
        }));
        fut.as_mut().poll(&mut Context::from_waker(&waker))
    })
    .await
}

/// The names of this process's threads (Linux; empty elsewhere).
fn thread_names() -> Vec<String> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_owned())
        .collect()
}

/// Arms a firing timeout, a sleep and a per-item timeout under `name`, and
/// returns the names of the threads that woke them.
fn fire_three_timers(name: &str, run: Executor) -> Vec<String> {
    let wakers = Arc::new(Mutex::new(Vec::new()));
    let seen = wakers.clone();
    on_executor(name, run, async move {
        let start = Instant::now();
        let stuck = std::future::pending::<()>();
        let out = recorded(timeout(Duration::from_millis(20), stuck), seen.clone()).await;
        assert_eq!(out, Err(Elapsed::new()));
        assert!(start.elapsed() >= Duration::from_millis(20));
        recorded(sleep(Duration::from_millis(5)), seen.clone()).await;
        let mut items = futures::stream::pending::<()>().timeout_each(Duration::from_millis(5));
        assert_eq!(
            recorded(items.next(), seen).await,
            Some(Err(Elapsed::new()))
        );
    });
    let wakers = wakers.lock().unwrap().clone();
    assert_eq!(
        wakers.len(),
        3,
        "{name}: one wake per timer, got {wakers:?}"
    );
    wakers
}

/// One test, in this order: nothing may start async-io's thread before the
/// tokio part checks that it does not exist.
#[test]
fn timers_fire_on_the_clock_of_the_runtime() {
    for (name, run) in EXECUTORS.iter().filter(|(n, _)| n.starts_with("tokio")) {
        let wakers = fire_three_timers(name, *run);
        if cfg!(feature = "tokio") {
            // tokio's own timers: woken by tokio's threads, and async-io
            // never starts.
            assert!(
                wakers.iter().all(|w| w != "async-io"),
                "{name}: woken by {wakers:?}"
            );
            if cfg!(target_os = "linux") {
                let threads = thread_names();
                assert!(
                    !threads.iter().any(|t| t == "async-io"),
                    "{name}: async-io started: {threads:?}"
                );
            }
        } else {
            assert!(
                wakers.iter().all(|w| w == "async-io"),
                "{name}: woken by {wakers:?}"
            );
        }
    }
    // Outside any runtime, the same binary uses async-io's thread.
    let (name, run) = EXECUTORS
        .iter()
        .find(|(n, _)| n.starts_with("futures"))
        .unwrap();
    let wakers = fire_three_timers(name, *run);
    assert!(
        wakers.iter().all(|w| w == "async-io"),
        "{name}: woken by {wakers:?}"
    );
    if cfg!(target_os = "linux") {
        assert!(thread_names().iter().any(|t| t == "async-io"));
    }
}
