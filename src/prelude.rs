//! Every extension trait of the crate, and what reading its streams needs:
//! `use aiokit::prelude::*;`.
//!
//! The glob brings, by name:
//!
//! - [`GatherExt`] (`gather` / `try_gather` / `gather_settled` on tuples and
//!   arrays), [`RaceExt`] (`first_completed` / `first_ok`) and
//!   [`GatherStreamExt`] (`gather_stream`, `as_completed_stream`,
//!   `try_gather_stream`, `gather_settled_stream` on streams of futures);
//! - with the `time` feature, [`TimeoutExt`] (`timeout` / `timeout_at` on any
//!   future) and [`TimeoutStreamExt`] (`timeout_each` on any stream);
//! - [`Stream`], the trait itself, from futures-core, so that you can name it
//!   in signatures (`fn ids() -> impl Stream<Item = u32>`);
//! - [`StreamExt`] and [`TryStreamExt`], from futures-util: `next`,
//!   `try_next`, `map`, `collect`, `try_collect` and the rest on the streams of
//!   [`paginate()`](crate::paginate()), [`as_completed()`](crate::as_completed())
//!   and every other `Stream`;
//! - [`stream_iter`], futures-util's `stream::iter` under a name that says
//!   what it does: an iterator as a `Stream`, to feed
//!   [`GatherStreamExt`] from a `Vec` or a range.
//!
//! The last four come from other crates, and are part of aiokit's API on
//! purpose: every stream aiokit takes or returns is a futures-core `Stream`,
//! and without them a program needs a second dependency (and the right
//! version of it) just to read one. They are the very items that the
//! `futures` crate re-exports (`futures::Stream`, `futures::StreamExt`,
//! `futures::stream::iter`), so the two crates mix freely. aiokit follows
//! futures-util's 0.3 series; a new major version of it would be a new major
//! version of aiokit.
//!
//! # Beside other preludes
//!
//! aiokit's method names (`gather`, `try_gather`, `gather_settled`,
//! `first_completed`, `first_ok`, `gather_stream`, `timeout`, `timeout_at`,
//! `timeout_each`, ...) appear in no trait of futures, futures-lite, smol or
//! futures-concurrency, so they never clash. The stream methods are another
//! matter:
//!
//! - `futures::prelude::*`: the same `Stream`, `StreamExt` and
//!   `TryStreamExt`, no clash.
//! - `smol::prelude::*`, futures-lite's prelude or `StreamExt`, tokio-stream's
//!   `StreamExt`: traits of their own with the same method names (`next`,
//!   `map`, `try_next`, `try_collect`, ...). With two such traits in scope,
//!   `stream.next()` is ambiguous (E0034), whichever preludes they came from
//!   (futures' and futures-lite's preludes clash the same way). The fix: use
//!   this prelude and not the other one (`smol::block_on` and `smol::spawn`
//!   need no prelude), or keep your crate's prelude and import aiokit's
//!   traits by name instead of this prelude:
//!   `use aiokit::{GatherExt, GatherStreamExt, RaceExt, TimeoutExt, TimeoutStreamExt};`.
//! - `futures_concurrency::prelude::*`: its `StreamExt` shares `zip` and `chain`
//!   with futures-util's (as it does with `futures::prelude::*`); call those two
//!   by path, e.g. `futures_concurrency::stream::StreamExt::zip(a, b)`.
//!
//! The two stream traits are exported by name, not as `_`, so that you can
//! call them by path (`StreamExt::next(&mut stream)`), and so that an import
//! by name of another crate's `StreamExt` shadows this one.
//!
//! # Examples
//!
//! With only aiokit and an executor as dependencies:
//!
#![cfg_attr(feature = "time", doc = "```")]
#![cfg_attr(not(feature = "time"), doc = "```ignore")]
//! use aiokit::prelude::*;
//! use aiokit::Page;
//! use std::time::Duration;
//!
//! # smol::block_on(async {
//! let mut items = aiokit::paginate(0u32, |page| async move {
//!     let items = vec![page * 10, page * 10 + 1];
//!     Ok::<_, std::io::Error>(if page < 2 { Page::next(items, page + 1) } else { Page::last(items) })
//! });
//! assert_eq!(items.next().await.transpose()?, Some(0)); // StreamExt::next
//! assert_eq!(items.try_next().await?, Some(1)); // TryStreamExt::try_next
//! let rest: Vec<u32> = items.try_collect().await?; // TryStreamExt::try_collect
//! assert_eq!(rest, [10, 11, 20, 21]);
//!
//! let (a, b) = (async { 1 }, async { "two" }).gather().await; // GatherExt
//! assert_eq!((a, b), (1, "two"));
//! let quick = async { 3 }.timeout(Duration::from_secs(1)).await; // TimeoutExt
//! assert_eq!(quick, Ok(3));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! A stream made from an iterator, and the `Stream` trait in a signature:
//!
//! ```
//! use aiokit::prelude::*;
//!
//! fn squares(ns: Vec<u64>) -> impl Stream<Item = u64> {
//!     stream_iter(ns).map(|n| async move { n * n }).gather_stream().limit(2)
//! }
//!
//! # smol::block_on(async {
//! assert_eq!(squares(vec![1, 2, 3]).collect::<Vec<_>>().await, [1, 4, 9]);
//! # });
//! ```
//!
//! smol's prelude with aiokit's traits by name:
//!
//! ```
//! use aiokit::GatherExt;
//! use smol::prelude::*;
//!
//! # smol::block_on(async {
//! let mut done = aiokit::as_completed([async { 1 }]);
//! assert_eq!(done.next().await, Some((0, 1))); // smol's (futures-lite's) StreamExt::next
//! assert_eq!((async { 2 }, async { 3 }).gather().await, (2, 3));
//! # });
//! ```
//!
//! Both preludes glob-imported, smol's and this one, make the shared stream
//! methods ambiguous:
//!
//! ```compile_fail,E0034
//! use aiokit::prelude::*;
//! use smol::prelude::*;
//!
//! # smol::block_on(async {
//! let mut done = aiokit::as_completed([async { 1 }]);
//! let _ = done.next().await;
//! # });
//! ```
//!
//! <!-- Links to items of the `time` feature: to the feature flags without it. -->
#![cfg_attr(feature = "time", doc = "[`TimeoutExt`]: crate::TimeoutExt")]
#![cfg_attr(not(feature = "time"), doc = "[`TimeoutExt`]: crate#feature-flags")]
#![cfg_attr(
    feature = "time",
    doc = "[`TimeoutStreamExt`]: crate::TimeoutStreamExt"
)]
#![cfg_attr(
    not(feature = "time"),
    doc = "[`TimeoutStreamExt`]: crate#feature-flags"
)]

pub use crate::{GatherExt, GatherStreamExt, RaceExt};
#[cfg(feature = "time")]
pub use crate::{TimeoutExt, TimeoutStreamExt};

pub use futures_core::Stream;
pub use futures_util::stream::{StreamExt, TryStreamExt};

/// An iterator as a [`Stream`] that yields its items one by one, each at
/// once: futures-util's `stream::iter` (the same function as
/// `futures::stream::iter`), under a name that reads well after a glob import.
///
/// # Examples
///
/// ```
/// use aiokit::prelude::*;
///
/// # smol::block_on(async {
/// let pages: Vec<String> = stream_iter(1..=3)
///     .map(|n| async move { format!("page {n}") })
///     .gather_stream()
///     .limit(2)
///     .collect()
///     .await;
/// assert_eq!(pages, ["page 1", "page 2", "page 3"]);
/// # });
/// ```
#[doc(inline)]
pub use futures_util::stream::iter as stream_iter;
