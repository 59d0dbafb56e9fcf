//! The asyncio and JavaScript `Promise` toolbox for Rust, on any executor.
//!
//! aiokit brings the async tools Python and JavaScript developers reach for
//! every day (`asyncio.gather`, `Promise.allSettled`, `asyncio.as_completed`,
//! bounded concurrency) to any Rust executor: smol, async-io, tokio,
//! `futures::executor`, or your own. Every combinator polls its children
//! inside the task that awaits it; nothing is spawned.
//!
//! | Python / JavaScript | aiokit |
//! |---|---|
//! | `asyncio.gather(*aws)` / `Promise.all` | [`gather()`] (and [`try_gather()`] for `Result`s) |
//! | `gather(..., return_exceptions=True)` / `Promise.allSettled` | [`gather_settled()`] |
//! | `asyncio.as_completed(aws)` | [`as_completed()`] |
//! | `asyncio.Semaphore(n)` around each call / p-map `concurrency` | `.limit(n)` on any of the above |
//! | `a, b = await asyncio.gather(fa(), fb())` | `(fa(), fb()).gather().await` ([`GatherExt`]) |
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
//! # Runtime support
//!
//! The combinators need only the `futures` traits. The test suite runs every
//! behaviour under `smol::block_on`, `async_io::block_on`, a multi-threaded
//! `smol::Executor`, `futures::executor::block_on`, and tokio's
//! current-thread and multi-thread runtimes.
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

/// The futures returned by [`GatherExt`] for tuples and arrays.
pub mod tuple {
    pub use crate::gather::{
        Gather1, Gather2, Gather3, Gather4, Gather5, Gather6, Gather7, Gather8, Gather9, Gather10,
        Gather11, Gather12, GatherArray, GatherSettled1, GatherSettled2, GatherSettled3,
        GatherSettled4, GatherSettled5, GatherSettled6, GatherSettled7, GatherSettled8,
        GatherSettled9, GatherSettled10, GatherSettled11, GatherSettled12, GatherSettledArray,
        TryGather1, TryGather2, TryGather3, TryGather4, TryGather5, TryGather6, TryGather7,
        TryGather8, TryGather9, TryGather10, TryGather11, TryGather12, TryGatherArray,
    };
}

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
