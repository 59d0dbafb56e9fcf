// The crate docs open with the README (what aiokit is, the Cargo lines, a
// first program, the translation table), then the guide. The README's
// programs need the default features.
#![cfg_attr(
    all(feature = "time", feature = "thread", feature = "queue"),
    doc = include_str!("../README.md")
)]
#![cfg_attr(
    not(all(feature = "time", feature = "thread", feature = "queue")),
    doc = "# aiokit\n\nThe asyncio and JavaScript `Promise` toolbox for Rust, on any executor. \
           (The introduction and its programs are built with the default features.)"
)]
//!
//! # The guide
//!
//! `use aiokit::prelude::*;` brings every extension trait of the crate and
//! what reading its streams needs; the [`prelude`] docs list each item and
//! how the prelude sits beside those of futures, smol and tokio-stream.
//!
//! ## Which half is whose: executors and IO libraries
//!
//! aiokit's combinators need no particular runtime: they poll the futures you
//! give them, and its timers run on async-io, which works under any executor. The
//! futures you give them are another matter: they need whatever their own library
//! needs. reqwest, hyper, tonic, sqlx, `tokio::net` and `tokio::fs` need a tokio
//! runtime around them; under `smol::block_on` reqwest panics with "there is no
//! reactor running, must be called from the context of a Tokio 1.x runtime".
//! Pick one of:
//!
//! | Your IO library | Run it |
//! |---|---|
//! | tokio-based (reqwest, hyper, tonic, sqlx, `tokio::net`) | under tokio: `#[tokio::main]`, and aiokit inside it (`cargo run -p aiokit-tokio-reqwest`, in `examples/tokio_reqwest/`) |
//! | tokio-based, but your program runs on smol | wrap each tokio future in async-compat's `Compat::new(fut)`, which provides a tokio runtime for it |
//! | smol-based (async-net, async-fs, async-process) | under smol, `async_io::block_on`, tokio or any executor |
//! | blocking (ureq, std::fs, a database driver, CPU work) | through [`aiokit::to_thread(move \|\| ...)`][to_thread] on any executor (the `tutorial_*` examples, with ureq) |
//!
//! ## More from asyncio and JavaScript
//!
//! | Python / JavaScript | aiokit |
//! |---|---|
//! | `a, b = await asyncio.gather(fa(), fb())` | `(fa(), fb()).gather().await` ([`GatherExt`]) |
//! | producers and a consumer started with `create_task` | `(producer(), consumer()).gather().await` in the task: no `'static`, no spawn |
//! | one `asyncio.Semaphore(n)` shared by unrelated tasks | async-lock's `Semaphore` (aiokit's `.limit(n)` bounds one group; [`ThreadLimiter`][ThreadLimiter] bounds threads) |
//! | work that must run on another core, or outlive the caller | spawn it with the executor: nothing in aiokit runs on another core (`to_thread`'s closures run on a thread pool) |
//! | `asyncio.timeout_at(when)` / an absolute deadline | [`timeout_at(when, fut)`][timeout_at] / `fut.timeout_at(when)` |
//! | `Timeout.reschedule(when)` / `Timeout.when()` | [`Timeout::reschedule`][Timeout::reschedule] / [`Timeout::deadline`][Timeout::deadline] |
//! | `setTimeout(f, ms)` | `sleep(d).await` then `f()`: the deadline is fixed when `sleep(d)` is called, not when it is first awaited |
//! | a timeout per item of an async iterator | `stream.timeout_each(d)` ([`TimeoutStreamExt`][TimeoutStreamExt]) |
//! | trio/anyio `CapacityLimiter(n)` + `run_sync(f, limiter=...)` | [`ThreadLimiter::new(n)`][ThreadLimiter] + `limiter.run(f).await` |
//! | anyio `from_thread.check_cancelled()` in a thread / JS `AbortSignal` | [`to_thread_cancellable(\|token\| ...)`][to_thread_cancellable], `token.is_cancelled()` |
//! | `asyncio.timeout` with the clock started at the first wait | the clock of [`timeout`][timeout] starts at the first poll that finds `fut` pending |
//! | `for page in paginator.paginate()` (boto3) | [`Paginate::pages`] |
//! | prefetching the next page / fetching pages concurrently | `.prefetch(k)` on either paginator |
//! | `asyncio.Queue`'s `task_done` | dropping the guard that `Queue::get` returns |
//!
//! ## Semantics at a glance
//!
//! | | waits for | on `Err` | on panic | empty input |
//! |---|---|---|---|---|
//! | [`gather()`] | all | (no errors) | siblings dropped, panic resumes | `vec![]` |
//! | [`try_gather()`] | all, or the first `Err` | first `Err` in completion order; siblings dropped | siblings dropped, panic resumes | `Ok(vec![])` |
//! | [`gather_settled()`] | all | recorded | recorded as [`Settled::Panicked`] | `vec![]` |
//! | [`as_completed()`] | each in turn | (items are outputs) | siblings dropped, panic resumes | empty stream |
//! | [`race()`] | the first to complete; the rest are dropped | an `Err` wins like an `Ok` | siblings dropped, panic resumes | panics at the call |
//! | [`race_ok()`] | the first `Ok`, or all | recorded; if all fail, [`AllFailed`] with every error in input order | siblings dropped, panic resumes | `Err(AllFailed)`, empty |
//! | [`gather_stream`](GatherStreamExt::gather_stream) / [`as_completed_stream`](GatherStreamExt::as_completed_stream) | each in turn, as the input stream yields | (items are outputs) | resumes once the outputs ready before it are yielded; the rest dropped first | empty stream |
//! | [`try_gather_stream`](GatherStreamExt::try_gather_stream) | each in turn, until the first `Err` | the `Err` is yielded once the outputs ready before it are, the rest dropped, the stream ends | resumes once the outputs ready before it are yielded; the rest dropped first | empty stream |
//! | [`gather_settled_stream`](GatherStreamExt::gather_settled_stream) | each in turn | recorded, with its index | recorded as [`Settled::Panicked`] | empty stream |
//! | [`TaskGroup`] | each in turn, pushes included, until idle with no handle left | yielded; `fail_fast` drops the rest, `drain_on_error` lets the running finish | outputs completed before it yielded, then the rest dropped and the panic resumed (`drain_on_error`: after the running finish) | empty stream |
//!
//! Cancellation is dropping: dropping any of these drops every child that has not
//! completed, synchronously. Each child is dropped as soon as it completes.
//!
//! Tuples hold 1 to 12 futures; for more, nest tuples, or use an array or
//! [`gather()`] over an iterator.
//!
//! ## Examples
//!
//! ```rust
//! use aiokit::Settled;
//! use aiokit::prelude::*;
//!
//! async fn fetch_user(id: u32) -> String {
//!     format!("user {id}")
//! }
//!
//! async fn fetch_posts(id: u32) -> Vec<String> {
//!     vec![format!("post by {id}")]
//! }
//!
//! fn main() {
//!     smol::block_on(async {
//!         // Different types: a tuple.
//!         let (user, posts) = (fetch_user(1), fetch_posts(1)).gather().await;
//!         assert_eq!(user, "user 1");
//!         assert_eq!(posts.len(), 1);
//!
//!         // Many of one type, at most 4 at a time, outputs in input order.
//!         let users = aiokit::gather((1..=10).map(fetch_user)).limit(4).await;
//!         assert_eq!(users[9], "user 10");
//!
//!         // Keep every outcome.
//!         let outcomes = aiokit::gather_settled([1, 0, 2].map(|d| async move {
//!             if d == 0 { Err("division by zero") } else { Ok(10 / d) }
//!         }))
//!         .await;
//!         for outcome in &outcomes {
//!             match outcome {
//!                 Settled::Ok(n) => println!("ok: {n}"),
//!                 Settled::Err(error) => println!("failed: {error}"),
//!                 Settled::Panicked(panic) => println!("{panic}"),
//!             }
//!         }
//!         assert!(outcomes[0].is_ok() && outcomes[1].is_err());
//!     });
//! }
//! ```
//!
//! ## Concurrency over a stream
//!
//! `GatherStreamExt` gives every `Stream` of futures the gather family: the
//! futures run at most `n` at a time, their outputs come out as a stream while the
//! input is still being read, and a finished child's slot is refilled in the same
//! poll. `gather_stream` keeps input order (p-map with `preserveOrder`),
//! `as_completed_stream` yields `(index, output)` as each completes,
//! `try_gather_stream` ends at the first `Err`, and `gather_settled_stream` keeps
//! every outcome with its index. The input is read only when there is room, so it
//! may be endless. `cargo run --example pipeline_http` runs this pipeline against
//! a real HTTP server on 127.0.0.1.
//!
//! ```rust
//! use aiokit::prelude::*;
//! use aiokit::Page;
//!
//! async fn fetch_detail(id: u32) -> Result<String, std::io::Error> {
//!     Ok(format!("detail of item {id}"))
//! }
//!
//! fn main() {
//!     smol::block_on(async {
//!         // GET /items?page=N -> ids; then GET /items/{id} for each, 4 at a time.
//!         let ids = aiokit::paginate(0u32, |page| async move {
//!             let ids = vec![page * 10, page * 10 + 1];
//!             Ok::<_, std::io::Error>(if page < 2 { Page::next(ids, page + 1) } else { Page::last(ids) })
//!         });
//!         let mut details = ids
//!             .map(|id| async move { fetch_detail(id.map_err(std::io::Error::other)?).await })
//!             .gather_settled_stream()
//!             .limit(4);
//!         while let Some((index, outcome)) = details.next().await {
//!             println!("item {index}: {outcome}");
//!         }
//!     });
//! }
//! ```
//!
//! ## Task groups
//!
//! `TaskGroup` is asyncio's `TaskGroup` (a trio nursery) polled inside your task:
//! push futures while it runs, also from its own children through a cloneable
//! `GroupHandle`, and read `(index, output)` as they complete. `.limit(n)` bounds
//! how many run; `.fail_fast()` drops the rest at the first `Err`, and
//! `.drain_on_error()` starts nothing new but lets the running ones finish.
//! Dropping the group drops every child.
//!
//! The task group at the top of this page shows children that borrow shared
//! state and handle refused pushes; [`TaskGroup`] has the rules in full.
//!
//! ## Queues
//!
//! `Queue` is `asyncio.Queue`: `put` waits while a bounded queue is full, `get`
//! returns a guard whose drop marks the item done (so `task_done` cannot be
//! forgotten), `join` waits until every item put is done, and `shutdown` wakes
//! every waiter. Producers and consumers can run in one task with no spawning:
//!
#![cfg_attr(all(feature = "queue", feature = "time"), doc = "```rust")]
#![cfg_attr(not(all(feature = "queue", feature = "time")), doc = "```rust,ignore")]
//! use std::time::Duration;
//!
//! use aiokit::Queue;
//! use aiokit::prelude::*;
//!
//! fn main() {
//!     smol::block_on(async {
//!         let queue = Queue::bounded(4); // asyncio.Queue(maxsize=4)
//!         let producer = async {
//!             for n in 1..=6 {
//!                 queue.put(n).await.unwrap(); // waits while the queue is full
//!             }
//!             queue.join().await; // every item taken and done
//!             queue.shutdown(); // the consumers' get() fails once the queue is empty
//!         };
//!         let consumer = |name: &'static str| {
//!             let queue = &queue;
//!             async move {
//!                 while let Ok(n) = queue.get().await {
//!                     aiokit::sleep(Duration::from_millis(10)).await; // work on it
//!                     println!("{name}: {n} squared is {}", *n * *n);
//!                 } // the guard `n` is dropped here: that item is done (task_done)
//!             }
//!         };
//!         // create_task without spawning: all three run concurrently in this task.
//!         let ((), (), ()) = (producer, consumer("a"), consumer("b")).gather().await;
//!     });
//! }
//! ```
//!
//! ## Retrying
//!
//! aiokit has no retry framework: use the `backon` crate with `aiokit::sleep` as
//! its sleeper, on any executor (`cargo run --example retry_backon`).
//!
#![cfg_attr(feature = "time", doc = "```rust")]
#![cfg_attr(not(feature = "time"), doc = "```rust,ignore")]
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use std::time::Duration;
//!
//! use backon::{ExponentialBuilder, Retryable};
//!
//! static CALLS: AtomicU32 = AtomicU32::new(0);
//!
//! /// Stands for any flaky async call: fails twice, then answers.
//! async fn fetch() -> std::io::Result<String> {
//!     let call = CALLS.fetch_add(1, Ordering::SeqCst) + 1;
//!     aiokit::sleep(Duration::from_millis(5)).await;
//!     if call < 3 {
//!         Err(std::io::Error::other(format!("attempt {call} failed")))
//!     } else {
//!         Ok(format!("answered on attempt {call}"))
//!     }
//! }
//!
//! fn main() {
//!     let backoff = ExponentialBuilder::default()
//!         .with_min_delay(Duration::from_millis(10))
//!         .with_max_times(5);
//!     let answer = smol::block_on(
//!         fetch
//!             .retry(backoff)
//!             .sleep(aiokit::sleep) // aiokit's timers: works under any executor
//!             .notify(|error, delay| eprintln!("{error}; retrying in {delay:?}")),
//!     );
//!     assert_eq!(answer.unwrap(), "answered on attempt 3");
//! }
//! ```
//!
//!
//! ## Blocking code: `to_thread`
//!
//! [`to_thread(f)`][to_thread] runs a blocking closure on the `blocking` crate's
//! thread pool and resolves to its return value; its panic resumes in the
//! awaiting task. Dropping the future does not stop a closure that is already
//! running (as in asyncio); [`to_thread_cancellable`][to_thread_cancellable]
//! hands the closure a `CancelToken` that turns cancelled when the future is
//! dropped or times out. [`ThreadLimiter::new(n)`][ThreadLimiter] keeps at most
//! `n` closures running, first come first served.
//! How long idle pool threads live depends on the `blocking` version; see the
//! [`to_thread`][to_thread] docs.
//!
#![cfg_attr(feature = "thread", doc = "```rust")]
#![cfg_attr(not(feature = "thread"), doc = "```rust,ignore")]
//! fn main() -> std::io::Result<()> {
//!     smol::block_on(async {
//!         // A blocking call; the executor's thread stays free meanwhile.
//!         let manifest = aiokit::to_thread(|| std::fs::read_to_string("Cargo.toml")).await?;
//!         println!("{} lines", manifest.lines().count());
//!         Ok(())
//!     })
//! }
//! ```
//!
//! ## Paginating an API
//!
//! [`paginate()`] turns "request a page, yield its items, follow the cursor" into
//! a `Stream` (lazy, fused, every `StreamExt` combinator works). Errors carry the
//! cursor of the failed page for resuming; repeated cursors end the stream instead
//! of looping; `.prefetch(k)`, `.max_items(n)`, `.retry(..)`, `.min_interval(d)`
//! are one call each. The fetch closure is called once per page: if it uses a
//! client, borrow it (or clone it) in the closure and move what the request needs
//! into the `async move` block. Name the error type once, with `Ok::<_, E>`.
//!
//! ```rust
//! use aiokit::Page;
//! use aiokit::prelude::*;
//!
//! fn main() {
//!     smol::block_on(async {
//!         // GET /items?cursor=... -> {"items": [...], "next": "..."}
//!         let mut items = aiokit::paginate(0u32, |cursor| async move {
//!             let items = vec![cursor * 2, cursor * 2 + 1];
//!             Ok::<_, std::io::Error>(if cursor < 2 {
//!                 Page::next(items, cursor + 1)
//!             } else {
//!                 Page::last(items)
//!             })
//!         })
//!         .prefetch(1);
//!         let mut all = Vec::new();
//!         while let Some(item) = items.try_next().await.expect("no fetch fails here") {
//!             all.push(item);
//!         }
//!         assert_eq!(all, [0, 1, 2, 3, 4, 5]);
//!     });
//! }
//! ```
//!
//! The repository's examples `tutorial_paginate` and `paginate_http` run it
//! against a real JSON HTTP server on 127.0.0.1.
//!
//! ## Timers
//!
//! [`timeout()`][timeout], [`sleep()`][sleep] and the other deadlines of the
//! `time` feature run on the clock of the runtime they are polled in:
//!
//! - **Under tokio, with the `tokio` feature**: tokio's own timers (its time
//!   driver), so they cost what `tokio::time` costs, follow tokio's paused
//!   clock in tests (`start_paused`, `tokio::time::advance`), and start no
//!   thread. The runtime must have its time driver (`enable_time()` or
//!   `enable_all()` on the builder); without it the first timer panics with
//!   tokio's message, which says so.
//! - **Everywhere else** (smol, async-io, `futures::executor`, tokio without
//!   the feature): async-io's timers. Under `smol::block_on` or
//!   `async_io::block_on` the blocking thread fires them while it waits;
//!   under other executors async-io's own helper thread (named `async-io`,
//!   started on the first timer) fires them and wakes the task.
//! - **Under a virtual clock** ([`clock::VirtualClock`][VirtualClock]), in
//!   tests: time moves only when the code under it is idle, or by hand, so an
//!   hour of sleeps, a retry backoff or a rate limit take no real time and
//!   come out the same on every run, on any executor.
//!
//! The clock is chosen when a timer is first armed, and a timer stays on it.
//! [`clock::now()`][now] reads the same clock the timers use. The future is
//! always polled before the timer, so a result that is ready at the deadline
//! is never thrown away, and a future that is ready on its first poll pays
//! neither a clock read nor a timer. The rules in full are under
//! [`timeout()`][timeout].
//!
#![cfg_attr(feature = "time", doc = "```rust")]
#![cfg_attr(not(feature = "time"), doc = "```rust,ignore")]
//! use std::time::Duration;
//!
//! use aiokit::Elapsed;
//! use aiokit::prelude::*;
//!
//! fn main() {
//!     smol::block_on(async {
//!         let quick = async { "page" }.timeout(Duration::from_secs(5)).await;
//!         assert_eq!(quick, Ok("page"));
//!         let stuck = aiokit::timeout(Duration::from_millis(5), std::future::pending::<()>()).await;
//!         assert_eq!(stuck, Err(Elapsed::new()));
//!     });
//! }
//! ```
//!
//! Performance is measured, side by side with futures, futures-concurrency
//! and futures-buffered, in the repository's
//! [BENCHMARKS.md](https://github.com/aiokit/aiokit/blob/main/BENCHMARKS.md).
//!
//! ## WebAssembly: browsers, node and workers
//!
//! aiokit builds for `wasm32-unknown-unknown` with the same Cargo line,
//! `aiokit = "0.1"`, and the same code runs there: the gather family with
//! limits, the stream forms, `TaskGroup`, `race` / `race_ok`, `Queue`,
//! `paginate` (prefetch, retry, `min_interval`), [`sleep()`][sleep],
//! [`timeout()`][timeout] and the rest of the `time` feature, and the
//! virtual test clock. Run the futures with the host's executor
//! (`wasm_bindgen_futures::spawn_local`, or the framework's own).
//!
//! - **Timers** are the host's `setTimeout` (through gloo-timers), woken
//!   from the JavaScript event loop; the clock is `performance.now()`.
//!   [`clock::Instant`][Instant] is web-time's `Instant` there, because
//!   std's `Instant::now()` panics on that target; it is std's `Instant`
//!   everywhere else, so code written with `aiokit::clock::Instant` builds
//!   on both. On the host, the timer futures are not `Send` (a JavaScript
//!   timer belongs to its thread); elsewhere they are.
//! - **`thread`** compiles to nothing: the host has no threads to offload
//!   to, so [`to_thread()`][to_thread] and `ThreadLimiter` do not exist
//!   there (the feature may stay on). The `tokio` feature has no effect.
//! - **Panics abort.** The target builds with `panic = "abort"`, so a panic
//!   is not caught: `gather_settled` never reports `Settled::Panicked`
//!   there, and a panicking child stops the whole instance (the host sees a
//!   `RuntimeError: unreachable`) instead of resuming in the awaiting task.
//!
//! The repository's `examples/wasm-demo` is a page that walks a paginated
//! JSON API and fetches every item with at most 4 requests in flight and a
//! timeout each, rendering the outcomes as they arrive.
//!
//! ## Feature flags
//!
//! - `time` (default): timers ([`timeout()`][timeout], [`sleep()`][sleep],
//!   paginate's backoff and rate limit) and the virtual test clock, on
//!   async-io.
//! - `tokio`: inside a tokio runtime, the timers are tokio's own instead
//!   (implies `time`; depends on tokio with its `rt` and `time` features
//!   only, `rt` to find the runtime).
//! - `thread` (default): the blocking thread pool.
//! - `queue` (default): `Queue`, on async-channel and event-listener.
//!
//! With `default-features = false`, aiokit depends only on futures-core,
//! futures-util, pin-project-lite and async-channel (which `TaskGroup`'s
//! handles use).
//!
//! aiokit needs `std` in every build, `no_std` targets included in none.
//! What ties the pure core to `std` today: `std::sync::Mutex` in the wake
//! set of the engine (the ready queue and the parent's waker) and in the
//! semaphore; `catch_unwind`, which `gather_settled` and the group's panic
//! rules use; a thread-local counter that gives each `race` its first child;
//! and async-channel (the `TaskGroup` handles), which needs `std`. A
//! `no_std` + `alloc` build would need a lock that does not come from the
//! OS (a spin lock or `critical-section`), `Settled::Panicked` and the panic
//! rules gone (no unwinding to catch), a global atomic ticket for `race`,
//! and a handle channel of its own; the `time` feature would need a timer
//! backend from the platform, as the JavaScript host's is.
//!
//! ## Toolchains
//!
//! - The library builds with Rust 1.85 (its `rust-version`, edition 2024), with
//!   default features and with `default-features = false`.
//! - The repository's test suite, examples and benches need Rust 1.86 or newer:
//!   they build the dev-dependencies, and criterion 0.8 needs 1.86.
//!
//!
//! <!-- Links to items of the `time` and `thread` features: to the items when
//! the feature is on, to the feature flags otherwise. -->
#![cfg_attr(feature = "time", doc = "[timeout]: crate::timeout()")]
#![cfg_attr(not(feature = "time"), doc = "[timeout]: #feature-flags")]
#![cfg_attr(feature = "time", doc = "[timeout_at]: crate::timeout_at()")]
#![cfg_attr(not(feature = "time"), doc = "[timeout_at]: #feature-flags")]
#![cfg_attr(feature = "time", doc = "[sleep]: crate::sleep()")]
#![cfg_attr(not(feature = "time"), doc = "[sleep]: #feature-flags")]
#![cfg_attr(feature = "time", doc = "[VirtualClock]: crate::clock::VirtualClock")]
#![cfg_attr(not(feature = "time"), doc = "[VirtualClock]: #feature-flags")]
#![cfg_attr(feature = "time", doc = "[now]: crate::clock::now")]
#![cfg_attr(feature = "time", doc = "[Instant]: crate::clock::Instant")]
#![cfg_attr(not(feature = "time"), doc = "[Instant]: #feature-flags")]
#![cfg_attr(not(feature = "time"), doc = "[now]: #feature-flags")]
#![cfg_attr(feature = "time", doc = "[sleep_until]: crate::sleep_until()")]
#![cfg_attr(not(feature = "time"), doc = "[sleep_until]: #feature-flags")]
#![cfg_attr(feature = "time", doc = "[TimeoutExt]: crate::TimeoutExt")]
#![cfg_attr(not(feature = "time"), doc = "[TimeoutExt]: #feature-flags")]
#![cfg_attr(feature = "time", doc = "[TimeoutStreamExt]: crate::TimeoutStreamExt")]
#![cfg_attr(not(feature = "time"), doc = "[TimeoutStreamExt]: #feature-flags")]
#![cfg_attr(
    feature = "time",
    doc = "[Timeout::reschedule]: crate::Timeout::reschedule"
)]
#![cfg_attr(not(feature = "time"), doc = "[Timeout::reschedule]: #feature-flags")]
#![cfg_attr(
    feature = "time",
    doc = "[Timeout::deadline]: crate::Timeout::deadline"
)]
#![cfg_attr(not(feature = "time"), doc = "[Timeout::deadline]: #feature-flags")]
#![cfg_attr(feature = "thread", doc = "[to_thread]: crate::to_thread()")]
#![cfg_attr(not(feature = "thread"), doc = "[to_thread]: #feature-flags")]
#![cfg_attr(
    feature = "thread",
    doc = "[to_thread_cancellable]: crate::to_thread_cancellable()"
)]
#![cfg_attr(
    not(feature = "thread"),
    doc = "[to_thread_cancellable]: #feature-flags"
)]
#![cfg_attr(feature = "thread", doc = "[ThreadLimiter]: crate::ThreadLimiter")]
#![cfg_attr(not(feature = "thread"), doc = "[ThreadLimiter]: #feature-flags")]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "time")]
#[cfg_attr(docsrs, doc(cfg(feature = "time")))]
pub mod clock;
mod gather;
mod group;
mod paginate;
mod panic;
pub mod prelude;
#[cfg(feature = "queue")]
#[cfg_attr(docsrs, doc(cfg(feature = "queue")))]
pub mod queue;
mod race;
mod settled;
mod stream;
// The JavaScript host has no threads: `thread` compiles to nothing there.
#[cfg(all(
    feature = "thread",
    not(all(target_arch = "wasm32", target_os = "unknown"))
))]
mod thread;
#[cfg(feature = "time")]
mod time;
mod utils;

pub use crate::gather::{
    AsCompleted, Gather, GatherExt, GatherSettled, TryGather, as_completed, gather, gather_settled,
    try_gather,
};
pub use crate::group::{GroupHandle, PushError, TaskGroup};
#[cfg(feature = "time")]
pub use crate::paginate::Retry;
pub use crate::paginate::{
    OnRepeat, Page, PageError, Pages, Paginate, PaginateNumbered, paginate, paginate_numbered,
};
pub use crate::panic::Panic;
#[cfg(feature = "queue")]
#[cfg_attr(docsrs, doc(cfg(feature = "queue")))]
pub use crate::queue::{PutError, Queue, QueueItem, QueueShutdown, TryGetError, TryPutError};
pub use crate::race::{AllFailed, Race, RaceExt, RaceOk, race, race_ok};
pub use crate::settled::{Failure, ResultOutput, Settled};
pub use crate::stream::{
    AsCompletedStream, GatherSettledStream, GatherStream, GatherStreamExt, TryGatherStream,
};

#[cfg(feature = "time")]
pub use crate::time::{
    Elapsed, Sleep, Timeout, TimeoutEach, TimeoutExt, TimeoutStreamExt, sleep, sleep_until,
    timeout, timeout_at,
};

#[cfg(all(
    feature = "thread",
    not(all(target_arch = "wasm32", target_os = "unknown"))
))]
#[cfg_attr(docsrs, doc(cfg(feature = "thread")))]
pub use crate::thread::{
    CancelToken, ThreadLimiter, ToThread, ToThreadCancellable, to_thread, to_thread_cancellable,
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
