//! Timers fire under runtimes that never block on async-io's reactor.
//!
//! One test in its own binary, so that no other test's `async_io::block_on`
//! thread can drive the reactor meanwhile: the wake must come from async-io's
//! helper thread, named `async-io`.

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

#[test]
fn timers_fire_on_the_async_io_thread_under_tokio_and_futures_executor() {
    let runtimes = EXECUTORS
        .iter()
        .filter(|(name, _)| name.starts_with("tokio") || name.starts_with("futures"));
    for (name, run) in runtimes {
        let wakers = Arc::new(Mutex::new(Vec::new()));
        let seen = wakers.clone();
        on_executor(name, *run, async move {
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
        let wakers = wakers.lock().unwrap();
        assert_eq!(
            wakers.len(),
            3,
            "{name}: one wake per timer, got {wakers:?}"
        );
        assert!(
            wakers.iter().all(|w| w == "async-io"),
            "{name}: woken by {wakers:?}"
        );
    }
}
