//! Retrying a flaky async operation with the `backon` crate, sleeping
//! between attempts on aiokit's timers: `cargo run --example retry_backon`.
//!
//! aiokit has no retry framework of its own. backon takes any
//! `Fn(Duration) -> impl Future` as its sleeper, and `aiokit::sleep` is one,
//! so the same retry loop runs under smol, tokio, `futures::executor` or any
//! other executor, with no runtime feature of backon turned on
//! (`backon = { version = "1", default-features = false, features = ["std"] }`).
//! Each attempt is also bounded by `aiokit::timeout`, whose `Elapsed` error
//! converts into an `io::Error` of kind `TimedOut`.

use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

/// The longest one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);

/// A service that refuses its first `failures` requests, then answers.
pub(crate) struct Flaky {
    failures: u32,
    calls: AtomicU32,
}

impl Flaky {
    pub(crate) fn new(failures: u32) -> Self {
        Self {
            failures,
            calls: AtomicU32::new(0),
        }
    }

    /// One request: a little latency, then an answer or a refusal.
    pub(crate) async fn fetch(&self) -> io::Result<String> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        aiokit::sleep(Duration::from_millis(1)).await;
        if call <= self.failures {
            Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("request {call} refused"),
            ))
        } else {
            Ok(format!("answered on request {call}"))
        }
    }

    /// How many requests were made.
    pub(crate) fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }
}

/// One attempt, bounded by [`ATTEMPT_TIMEOUT`].
async fn attempt(service: &Flaky) -> io::Result<String> {
    aiokit::timeout(ATTEMPT_TIMEOUT, service.fetch()).await?
}

/// Up to 4 retries after the first attempt, waiting 10 ms, then 20, 40 and
/// 80 ms (`aiokit::sleep` is the sleeper); errors other than a refusal or a
/// timeout are returned at once.
pub(crate) async fn fetch_with_retry(service: &Flaky) -> io::Result<String> {
    (|| attempt(service))
        .retry(
            ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(10))
                .with_max_times(4),
        )
        .sleep(aiokit::sleep)
        .when(|error: &io::Error| {
            matches!(
                error.kind(),
                io::ErrorKind::ConnectionRefused | io::ErrorKind::TimedOut
            )
        })
        .notify(|error, delay| eprintln!("{error}; retrying in {delay:?}"))
        .await
}

fn main() {
    let service = Flaky::new(2);
    let answer = smol::block_on(fetch_with_retry(&service));
    println!("{answer:?} after {} requests", service.calls());

    let down = Flaky::new(u32::MAX);
    let error = smol::block_on(fetch_with_retry(&down)).unwrap_err();
    println!("gave up after {} requests: {error}", down.calls());
}
