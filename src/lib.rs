//! The asyncio and JavaScript `Promise` toolbox for Rust, on any executor.
//!
//! aiokit brings the async tools Python and JavaScript developers reach for
//! every day to any Rust executor (smol, async-io, tokio, `futures::executor`,
//! or your own): `gather`, `try_gather`, `gather_settled`, `as_completed` and
//! concurrency limits, `race` and `race_ok`, `timeout` and `sleep`, `paginate`
//! for paginated APIs, and `to_thread` for blocking calls. Every combinator
//! polls its children inside the task that awaits it; nothing is spawned.
//!
//! | Python / JavaScript | aiokit |
//! |---|---|
//! | `asyncio.gather(*aws)` / `Promise.all` | [`gather()`] (and [`try_gather()`] for `Result`s) |
//! | `gather(..., return_exceptions=True)` / `Promise.allSettled` | [`gather_settled()`] |
//! | `asyncio.as_completed(aws)` | [`as_completed()`] |
//! | `asyncio.Semaphore(n)` around each call / p-map `concurrency` | `.limit(n)` on any of the above |
//! | `a, b = await asyncio.gather(fa(), fb())` | `(fa(), fb()).gather().await` ([`GatherExt`]) |
//! | `asyncio.timeout(d)` / `asyncio.wait_for(aw, d)` / `Promise.race([p, timer])` | [`timeout(d, fut)`](timeout()) / `fut.timeout(d)` ([`TimeoutExt`]) |
//! | `asyncio.timeout_at(when)` | [`timeout_at(when, fut)`](timeout_at()) / `fut.timeout_at(when)` |
//! | `Timeout.reschedule(when)` / `Timeout.when()` | [`Timeout::reschedule`] / [`Timeout::deadline`] |
//! | `asyncio.sleep(d)` / `setTimeout` | [`sleep(d)`](sleep()) / [`sleep_until(when)`](sleep_until()) |
//! | a timeout per item of an async iterator | `stream.timeout_each(d)` ([`TimeoutStreamExt`]) |
//! | `await asyncio.to_thread(f)` / `trio.to_thread.run_sync(f)` | `to_thread(f).await` |
//! | trio/anyio `CapacityLimiter(n)` + `run_sync(f, limiter=...)` | `ThreadLimiter::new(n)` + `limiter.run(f).await` |
//! | anyio `from_thread.check_cancelled()` in a thread / JS `AbortSignal` | `to_thread_cancellable(\|token\| ...)`, `token.is_cancelled()` |
//! | `Promise.race` / `asyncio.wait(aws, return_when=FIRST_COMPLETED)` | [`race()`], or `(fa(), fb()).first_completed()` ([`RaceExt`]); the losers are dropped |
//! | `Promise.any` | [`race_ok()`], or `(fa(), fb()).first_ok()` ([`RaceExt`]) |
//! | an `async def` generator over pages / Octokit `paginate.iterator` | [`paginate()`] (cursor, token, next URL), [`paginate_numbered()`] (page number, offset) |
//! | `for page in paginator.paginate()` (boto3) | [`Paginate::pages`] |
//! | prefetching the next page / fetching pages concurrently | `.prefetch(k)` on either |
//!
//! # Semantics at a glance
//!
//! | | waits for | on `Err` | on panic | empty input |
//! |---|---|---|---|---|
//! | [`gather()`] | all | (no errors) | siblings dropped, panic resumes | `vec![]` |
//! | [`try_gather()`] | all, or the first `Err` | first `Err` in completion order; siblings dropped | siblings dropped, panic resumes | `Ok(vec![])` |
//! | [`gather_settled()`] | all | recorded | recorded as [`Settled::Panicked`] | `vec![]` |
//! | [`as_completed()`] | each in turn | (items are outputs) | siblings dropped, panic resumes | empty stream |
//! | [`race()`] | the first to complete; the rest are dropped | an `Err` wins like an `Ok` | siblings dropped, panic resumes | panics at the call |
//! | [`race_ok()`] | the first `Ok`, or all | recorded; if all fail, [`AllFailed`] with every error in input order | siblings dropped, panic resumes | `Err(AllFailed)`, empty |
//!
//! Cancellation is dropping: dropping any of these drops every child that has
//! not completed, synchronously. Each child is dropped as soon as it completes.
//!
//! # Examples
//!
//! ```
//! use aiokit::{GatherExt, Settled};
//!
//! # futures_lite::future::block_on(async {
//! async fn fetch_user(id: u32) -> String { format!("user {id}") }
//! async fn fetch_posts(id: u32) -> Vec<String> { vec![format!("post by {id}")] }
//!
//! // Different types: a tuple.
//! let (user, posts) = (fetch_user(1), fetch_posts(1)).gather().await;
//! assert_eq!(user, "user 1");
//! assert_eq!(posts.len(), 1);
//!
//! // Many of one type, at most 4 at a time, outputs in input order.
//! let users = aiokit::gather((1..=10).map(fetch_user)).limit(4).await;
//! assert_eq!(users[9], "user 10");
//!
//! // Keep every outcome.
//! let outcomes = aiokit::gather_settled([1, 0, 2].map(|d| async move {
//!     if d == 0 { Err("division by zero") } else { Ok(10 / d) }
//! }))
//! .await;
//! let (ok, failed) = Settled::split(outcomes);
//! assert_eq!((ok, failed.len()), (vec![10, 5], 1));
//! # });
//! ```
//!
//! # Blocking code: `to_thread`
//!
//! `to_thread(f)` runs a blocking closure on the `blocking` crate's thread pool and
//! resolves to its return value; its panic resumes in the awaiting task.
//! Dropping the future does not stop a closure that is already running (as in
//! asyncio); `to_thread_cancellable` hands the closure a `CancelToken` that turns
//! cancelled when the future is dropped or times out. `ThreadLimiter::new(n)`
//! keeps at most `n` closures running, first come first served, and `Unblock`
//! turns an `Iterator`, `Read` or `Write` into a `Stream`, `AsyncRead` or
//! `AsyncWrite`. Note: `blocking` 1.7.0 keeps idle pool threads alive (1.6.2
//! retired them after 500 ms); see the `to_thread` docs.
//!
//! # Paginating an API
//!
//! `paginate` turns "request a page, yield its items, follow the cursor" into a
//! `Stream` (lazy, fused, every `StreamExt` combinator works). Errors carry the
//! cursor of the failed page for resuming; repeated cursors end the stream instead
//! of looping; `.prefetch(k)`, `.max_items(n)`, `.retry(..)`, `.min_interval(d)`
//! are one call each. `cargo run --example paginate_http` runs it against a real
//! JSON HTTP server on 127.0.0.1.
//!
//! ```
//! use aiokit::Page;
//! use futures_lite::StreamExt;
//!
//! # futures_lite::future::block_on(async {
//! // GET /items?cursor=... -> {"items": [...], "next": "..."}
//! let items = aiokit::paginate(0u32, |cursor| async move {
//!     let items = vec![cursor * 2, cursor * 2 + 1];
//!     Ok::<_, std::io::Error>(if cursor < 2 { Page::next(items, cursor + 1) } else { Page::last(items) })
//! })
//! .prefetch(1);
//! let all: Vec<u32> = items.map(Result::unwrap).collect().await;
//! assert_eq!(all, [0, 1, 2, 3, 4, 5]);
//! # });
//! ```
//!
//! # Runtime support
//!
//! The combinators need only the `futures` traits. The test suite runs every
//! behaviour under `smol::block_on`, `async_io::block_on`, a multi-threaded
//! `smol::Executor`, `futures::executor::block_on`, and tokio's
//! current-thread and multi-thread runtimes.
//!
//! # Timers
//!
//! [`timeout()`], [`sleep()`] and the other deadlines of the `time` feature run
//! on async-io's timers and need no particular runtime. Under `smol::block_on`
//! or `async_io::block_on` the blocking thread fires them while it waits; under
//! tokio, `futures::executor` or any other executor, async-io's own helper
//! thread (named `async-io`, started on the first timer registration) fires
//! them and wakes the task. The median overshoot of a 10 ms sleep measured
//! 75-110 µs under every executor of the test matrix, tokio included
//! (`tokio::time::sleep`: about 1.1 ms); details under
//! [`timeout()`](timeout()#timers) and in BENCHMARKS.md. A future that is
//! ready on its first poll pays neither a clock read nor a timer: wrapping it
//! in a `timeout` costs about 2 ns.
//!
//! # Performance
//!
//! Every claim here comes from `cargo bench` runs with the other crates measured
//! in the same run, side by side; BENCHMARKS.md (in the repository) has the tables,
//! the commands and the machine. In short (2 vCPUs, per child, medians):
//!
//! - `gather` over children woken one at a time: 192–267 ns, at or below the best
//!   of futures, futures-concurrency and futures-buffered at every size from 10
//!   to 100,000 children; a wake polls only the woken child.
//! - `gather` over ready children: 3–4 ns from 100 children up (futures-buffered
//!   28–32 ns, futures' `join_all` 75–83 ns); at 10 children, 9 ns against
//!   futures' `join_all` at 4 ns.
//! - `try_gather` returns the first error 4–17× sooner than futures-concurrency's
//!   `TryJoin`.
//! - `timeout` adds about 2 ns to a future that is ready at once (12× less than
//!   `or` with an async-io `Timer`, 14× less than tokio's `timeout`).
//! - `race` with losers that keep waking: 10–26× faster than futures'
//!   `select_all` and futures-concurrency's `race`.
//! - `paginate` costs 1.05× a hand-written loop; `.prefetch(1)` halves the wall
//!   time of a fetch-then-process loop (1.96×).
//! - `to_thread` costs the same as calling `blocking::unblock` directly (0.97–1.02×).
//!
//! # Feature flags
//!
//! - `time` (default): timers on async-io.
//! - `thread` (default): the blocking thread pool.
//!
//! With `default-features = false`, aiokit depends only on futures-core,
//! futures-util and pin-project-lite.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod gather;
mod paginate;
pub mod prelude;
mod race;
#[cfg(feature = "thread")]
mod thread;
#[cfg(feature = "time")]
mod time;
mod utils;

pub use crate::gather::{
    AsCompleted, Failure, Gather, GatherExt, GatherSettled, Panic, Settled, TryGather,
    as_completed, gather, gather_settled, try_gather,
};
#[cfg(feature = "time")]
pub use crate::paginate::Retry;
pub use crate::paginate::{
    OnRepeat, Page, PageError, Pages, Paginate, PaginateNumbered, paginate, paginate_numbered,
};
pub use crate::race::{AllFailed, Race, RaceExt, RaceOk, race, race_ok};

#[cfg(feature = "time")]
pub use crate::time::{
    Elapsed, Sleep, Timeout, TimeoutEach, TimeoutExt, TimeoutStreamExt, sleep, sleep_until,
    timeout, timeout_at,
};

#[cfg(feature = "thread")]
#[cfg_attr(docsrs, doc(cfg(feature = "thread")))]
pub use crate::thread::{
    CancelToken, ThreadLimiter, ToThread, ToThreadCancellable, Unblock, to_thread,
    to_thread_cancellable,
};

/// The futures returned by [`GatherExt`] and [`RaceExt`] for tuples and arrays.
pub mod tuple {
    #[doc(hidden)]
    pub use crate::gather::GatherTuple;
    pub use crate::gather::{
        Gather1, Gather2, Gather3, Gather4, Gather5, Gather6, Gather7, Gather8, Gather9, Gather10,
        Gather11, Gather12, GatherArray, GatherSettled1, GatherSettled2, GatherSettled3,
        GatherSettled4, GatherSettled5, GatherSettled6, GatherSettled7, GatherSettled8,
        GatherSettled9, GatherSettled10, GatherSettled11, GatherSettled12, GatherSettledArray,
        TryGather1, TryGather2, TryGather3, TryGather4, TryGather5, TryGather6, TryGather7,
        TryGather8, TryGather9, TryGather10, TryGather11, TryGather12, TryGatherArray,
    };
    #[doc(hidden)]
    pub use crate::race::RaceTuple;
    pub use crate::race::{
        FirstCompleted1, FirstCompleted2, FirstCompleted3, FirstCompleted4, FirstCompleted5,
        FirstCompleted6, FirstCompleted7, FirstCompleted8, FirstCompleted9, FirstCompleted10,
        FirstCompleted11, FirstCompleted12, FirstCompletedArray, FirstOk1, FirstOk2, FirstOk3,
        FirstOk4, FirstOk5, FirstOk6, FirstOk7, FirstOk8, FirstOk9, FirstOk10, FirstOk11,
        FirstOk12, FirstOkArray,
    };
}

// The README documents the default build (`time` and `thread` on).
#[cfg(all(doctest, feature = "time", feature = "thread"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
