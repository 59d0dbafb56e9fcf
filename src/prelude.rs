//! Every extension trait of the crate, and a `StreamExt` / `TryStreamExt` for
//! its streams: `use aiokit::prelude::*;`.
//!
//! The glob brings, by name:
//!
//! - [`GatherExt`] (`gather` / `try_gather` / `gather_settled` on tuples and
//!   arrays) and [`RaceExt`] (`first_completed` / `first_ok`);
//! - with the `time` feature, [`TimeoutExt`] (`timeout` / `timeout_at` on any
//!   future) and [`TimeoutStreamExt`] (`timeout_each` on any stream);
//! - [`StreamExt`] and [`TryStreamExt`], re-exported from futures-util: `next`,
//!   `try_next`, `map`, `collect`, `try_collect` and the rest on the streams of
//!   [`paginate()`](crate::paginate()), [`as_completed()`](crate::as_completed())
//!   and every other `Stream`, with no other dependency than aiokit.
//!
//! These are the same `StreamExt` and `TryStreamExt` traits as those of
//! futures' `futures::prelude` and `futures::StreamExt` (futures re-exports
//! futures-util), so the two preludes can be glob-imported together.
//!
//! # Beside other preludes
//!
//! aiokit's method names (`gather`, `try_gather`, `gather_settled`,
//! `first_completed`, `first_ok`, `timeout`, `timeout_at`, `timeout_each`)
//! appear in no trait of futures, futures-lite or futures-concurrency, so they
//! never clash. The stream methods are another matter:
//!
//! - `futures::prelude::*`: the same `StreamExt` and `TryStreamExt`, no clash.
//! - `futures_concurrency::prelude::*`: its `StreamExt` shares `zip` and `chain`
//!   with futures-util's (as it does with `futures::prelude::*`); call those two
//!   by path, e.g. `futures_concurrency::stream::StreamExt::zip(a, b)`.
//! - futures-lite's prelude or `StreamExt`, tokio-stream's `StreamExt`: traits
//!   of their own with the same method names (`next`, `map`, `try_next`,
//!   `try_collect`, ...). With two such traits in scope, `stream.next()` is
//!   ambiguous (E0034), whichever preludes they came from (futures' and
//!   futures-lite's preludes clash the same way). Keep your crate's trait and
//!   import aiokit's by name instead of this prelude:
//!   `use aiokit::{GatherExt, RaceExt, TimeoutExt, TimeoutStreamExt};`.
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
//! # futures_lite::future::block_on(async {
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
//! futures-lite's prelude with aiokit's traits by name:
//!
//! ```
//! use aiokit::GatherExt;
//! use futures_lite::prelude::*;
//!
//! # futures_lite::future::block_on(async {
//! let mut done = aiokit::as_completed([async { 1 }]);
//! assert_eq!(done.next().await, Some((0, 1))); // futures_lite::StreamExt::next
//! assert_eq!((async { 2 }, async { 3 }).gather().await, (2, 3));
//! # });
//! ```
//!
//! Both preludes glob-imported, futures-lite's and this one, make the shared
//! stream methods ambiguous:
//!
//! ```compile_fail,E0034
//! use aiokit::prelude::*;
//! use futures_lite::prelude::*;
//!
//! # futures_lite::future::block_on(async {
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

pub use crate::GatherStreamExt;
pub use crate::{GatherExt, RaceExt};
#[cfg(feature = "time")]
pub use crate::{TimeoutExt, TimeoutStreamExt};

pub use futures_util::stream::{StreamExt, TryStreamExt};
