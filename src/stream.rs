//! The gather family over a `Stream` of futures: [`GatherStreamExt`].

use std::collections::VecDeque;
use std::fmt;
use std::future::IntoFuture;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::{FusedStream, Stream};

use crate::utils::batch::{Batched, Order};
use crate::utils::engine::{ChildResult, Engine};
use crate::utils::outputs::Reorder;
use crate::utils::source::Streamed;
use crate::{ResultOutput, Settled};

type Out<S> = <<S as Stream>::Item as IntoFuture>::Output;

/// In input order, the inputs started but not yet handed out span at most
/// this many times the limit: the children running plus the outputs that
/// finished ahead of an earlier one.
pub(crate) const WINDOW: usize = 4;

/// The most entries a limit reserves in a stream's output buffers up front.
const RESERVE: usize = 256;

/// Concurrency over a stream: runs the futures a stream yields, at most
/// [`limit`](GatherStream::limit) at a time, and yields their outputs as a
/// stream, like p-map over an async iterable or `asyncio.as_completed` fed
/// from an async generator.
///
/// Implemented for every [`Stream`] whose items are futures (anything
/// [`IntoFuture`]). The input may be endless: outputs flow while the input is
/// still being read. Four forms, one per member of the gather family:
///
/// | method | items | order | on `Err` | on panic |
/// |---|---|---|---|---|
/// | [`gather_stream`](Self::gather_stream) | output | input | (no errors) | resumes once the outputs ready before it are yielded; the rest dropped first |
/// | [`as_completed_stream`](Self::as_completed_stream) | `(index, output)` | completion | (no errors) | resumes once the outputs ready before it are yielded; the rest dropped first |
/// | [`try_gather_stream`](Self::try_gather_stream) | `Result<T, E>` | input | yielded once the outputs ready before it are; the rest dropped; the stream ends | resumes once the outputs ready before it are yielded; the rest dropped first |
/// | [`gather_settled_stream`](Self::gather_settled_stream) | `(index, Settled<T, E>)` | input, or completion with [`completion_order`](GatherSettledStream::completion_order) | recorded | recorded as [`Settled::Panicked`] |
///
/// `index` counts the input stream's items from 0.
///
/// Each stream type is named after the future or stream of the same member
/// over an iterator, with `Stream` appended: [`gather()`](crate::gather())
/// returns a [`Gather`](crate::Gather) and `gather_stream()` a
/// [`GatherStream`]; [`as_completed()`](crate::as_completed()) an
/// [`AsCompleted`](crate::AsCompleted) and `as_completed_stream()` an
/// [`AsCompletedStream`]. The two forms that can yield in either order,
/// `try_gather_stream` and `gather_settled_stream`, switch with
/// `completion_order()`; `gather_stream`'s form in completion order is
/// `as_completed_stream`.
///
/// "Ready before it": an `Err` that ends the stream, or a panic, waits only
/// for the outputs that had already completed and come before it in the
/// stream's order; it never waits for a running child, and outputs held
/// behind one are dropped with the rest.
///
/// # How inputs are started
///
/// - **Refill at once.** When a child completes, its slot is refilled from
///   the input stream in the same poll, so `n` children run whenever the
///   input has them (an output waiting to be read does not hold a slot).
/// - **Lazy input.** The input stream is polled only when there is room for
///   another child, and never again after it ended. Its wake-ups are handled
///   like a child's: a pending input never holds back the outputs of running
///   children, and a woken input is polled at the next poll.
/// - **Bounded reorder buffer (input order).** An output that finishes before
///   an earlier one waits for it. The inputs started but not yet handed out
///   span at most 4 × `limit` (the children running plus those waiting), so
///   at most 4 × `limit` − 1 outputs wait; when the window is full, only the
///   earliest running child (the head of the line) holds back new starts.
///   Without a limit there is no window.
/// - Without a limit, every input the stream has ready is started, taking a
///   bounded number per poll and coming back for the rest after other tasks
///   ran: use [`limit`](GatherStream::limit) for an endless input.
///
/// Each child is dropped as soon as it completes. A child that always wakes
/// itself cannot starve the others or the executor (the cooperative rule of
/// [`gather()`](crate::gather())).
///
/// # Cancellation
///
/// Dropping the stream drops the children still running (in input order),
/// then the input stream, and the outputs waiting in the reorder buffer.
///
/// # Panics
///
/// `limit(0)` panics, naming the method. A child's panic: see the table.
///
/// # Examples
///
/// Pages of ids from a paginated API, and for each id a detail request, at
/// most 4 in flight, while later pages are still being fetched:
///
/// ```
/// use aiokit::Page;
/// use aiokit::prelude::*;
///
/// async fn fetch_detail(id: u32) -> Result<String, std::io::Error> {
///     Ok(format!("detail of {id}"))
/// }
///
/// # smol::block_on(async {
/// let ids = aiokit::paginate(0u32, |page| async move {
///     let ids = vec![page * 2, page * 2 + 1];
///     Ok::<_, std::io::Error>(if page < 2 { Page::next(ids, page + 1) } else { Page::last(ids) })
/// });
/// let details: Vec<_> = ids
///     .map(|id| async move { fetch_detail(id.map_err(std::io::Error::other)?).await })
///     .gather_settled_stream()
///     .limit(4)
///     .collect()
///     .await;
/// assert_eq!(details.len(), 6);
/// assert_eq!(details[5].0, 5);
/// assert_eq!(details[5].1.ok().map(String::as_str), Some("detail of 5"));
/// # });
/// ```
pub trait GatherStreamExt: Stream {
    /// Runs the stream's futures concurrently and yields their outputs in
    /// input order (p-map with `preserveOrder`, `asyncio.gather` as a
    /// stream).
    ///
    /// See the [trait docs](GatherStreamExt) for how inputs are started.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// let squares: Vec<u64> = stream_iter(1..=4u64)
    ///     .map(|n| async move { n * n })
    ///     .gather_stream()
    ///     .limit(2)
    ///     .collect()
    ///     .await;
    /// assert_eq!(squares, [1, 4, 9, 16]);
    /// # });
    /// ```
    fn gather_stream(self) -> GatherStream<Self>
    where
        Self: Sized,
        Self::Item: IntoFuture,
    {
        GatherStream {
            inner: Ordered::new(self, true),
        }
    }

    /// Runs the stream's futures concurrently and yields `(index, output)`
    /// as each completes (`asyncio.as_completed`, p-map with
    /// `preserveOrder: false`).
    ///
    /// See the [trait docs](GatherStreamExt) for how inputs are started.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::prelude::*;
    /// use smol::future::yield_now;
    ///
    /// # smol::block_on(async {
    /// // Input `n` takes `3 - n` steps: the last one finishes first.
    /// let done: Vec<(usize, u32)> = stream_iter(0..3u32)
    ///     .map(|n| async move {
    ///         for _ in n..3 {
    ///             yield_now().await;
    ///         }
    ///         n
    ///     })
    ///     .as_completed_stream()
    ///     .collect()
    ///     .await;
    /// assert_eq!(done, [(2, 2), (1, 1), (0, 0)]);
    /// # });
    /// ```
    // Named after `as_completed`, not an `as_` conversion.
    #[allow(clippy::wrong_self_convention)]
    fn as_completed_stream(self) -> AsCompletedStream<Self>
    where
        Self: Sized,
        Self::Item: IntoFuture,
    {
        AsCompletedStream {
            inner: Ordered::new(self, false),
        }
    }

    /// Runs the stream's futures, which resolve to `Result`s, concurrently
    /// and yields their `Ok` outputs in input order. The first `Err` in
    /// completion order ends it: the outputs that completed before the `Err`
    /// and can be handed out in input order come first, then the `Err`, then
    /// the stream ends; earlier inputs still running, and outputs waiting
    /// behind them, are dropped (like [`try_gather()`](crate::try_gather()),
    /// a slow sibling never delays the error).
    ///
    /// See the [trait docs](GatherStreamExt) for how inputs are started.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// let items: Vec<Result<u8, String>> = stream_iter([1u8, 2, 0, 4])
    ///     .map(|n| async move { if n == 0 { Err(format!("bad input")) } else { Ok(n) } })
    ///     .try_gather_stream()
    ///     .collect()
    ///     .await;
    /// assert_eq!(items, [Ok(1), Ok(2), Err("bad input".to_string())]);
    /// # });
    /// ```
    fn try_gather_stream(self) -> TryGatherStream<Self>
    where
        Self: Sized,
        Self::Item: IntoFuture,
        Out<Self>: ResultOutput,
    {
        let mut inner = Ordered::new(self, true);
        // A panic, or the `Err` that ends the stream.
        inner.urgent =
            |result| result.as_ref().is_ok_and(|output| !output.is_ok()) || result.is_err();
        TryGatherStream { inner }
    }

    /// Runs the stream's futures, which resolve to `Result`s, concurrently
    /// and yields every outcome as `(index, Settled)`, panics included
    /// (`Promise.allSettled`, `return_exceptions=True`), in input order or,
    /// with [`completion_order`](GatherSettledStream::completion_order), as
    /// each completes.
    ///
    /// See the [trait docs](GatherStreamExt) for how inputs are started.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::Settled;
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// let outcomes: Vec<(usize, Settled<u8, &str>)> = stream_iter([1u8, 0, 3])
    ///     .map(|n| async move { if n == 0 { Err("zero") } else { Ok(n) } })
    ///     .gather_settled_stream()
    ///     .limit(2)
    ///     .collect()
    ///     .await;
    /// assert_eq!(outcomes.len(), 3);
    /// assert_eq!(outcomes[1].0, 1);
    /// assert_eq!(outcomes[1].1.err(), Some(&"zero"));
    /// # });
    /// ```
    fn gather_settled_stream(self) -> GatherSettledStream<Self>
    where
        Self: Sized,
        Self::Item: IntoFuture,
        Out<Self>: ResultOutput,
    {
        let mut inner = Ordered::new(self, true);
        // Every outcome, panics included, in its turn.
        inner.urgent = |_| false;
        GatherSettledStream { inner }
    }
}

impl<S: Stream + ?Sized> GatherStreamExt for S {}

/// The engine over a stream, with outputs in input order or completion order.
struct Ordered<S>
where
    S: Stream,
    S::Item: IntoFuture,
{
    batched: Batched<Streamed<S>, Order<ChildResult<Out<S>>>>,
    /// Completions handed out as soon as the outputs already completed ahead
    /// of them are (a panic that resumes, the `Err` that ends
    /// `try_gather_stream`).
    urgent: fn(&ChildResult<Out<S>>) -> bool,
    /// The limit, once set.
    limit: Option<usize>,
}

impl<S> Ordered<S>
where
    S: Stream,
    S::Item: IntoFuture,
{
    fn new(stream: S, in_order: bool) -> Self {
        let order = if in_order {
            Order::Input {
                reorder: Reorder::new(),
                window: usize::MAX,
            }
        } else {
            Order::Completion(VecDeque::new())
        };
        Self {
            batched: Batched::new(Engine::new(Streamed::new(stream)), order),
            urgent: |result| result.is_err(),
            limit: None,
        }
    }

    #[track_caller]
    fn limit(&mut self, limit: usize, name: &str) {
        self.batched.engine.set_limit(limit, name);
        self.limit = Some(limit);
        self.reserve_buffers(limit);
    }

    /// Hands outputs out as they complete: no reorder buffer.
    #[track_caller]
    fn completion_order(&mut self, name: &str) {
        assert!(
            self.batched.engine.is_idle(),
            "{name}: set the order before the first poll"
        );
        self.batched.buffer = Order::Completion(VecDeque::new());
        if let Some(limit) = self.limit {
            // Limited before: the completion queue replaces the ring.
            self.reserve_buffers(limit);
        }
    }

    /// Sets the window under `limit` and allocates the output buffer of this
    /// stream's order at its usual size once (bounded, for huge limits:
    /// beyond, it grows as needed), rather than growing it output by output.
    fn reserve_buffers(&mut self, limit: usize) {
        match &mut self.batched.buffer {
            Order::Input { reorder, window } => {
                *window = limit.saturating_mul(WINDOW);
                reorder.reserve((*window).min(RESERVE));
            }
            Order::Completion(ready) => ready.reserve(limit.min(RESERVE)),
        }
    }

    /// The next completion, in this stream's order.
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, ChildResult<Out<S>>)>> {
        self.batched.poll_next(cx, self.urgent)
    }

    /// The next output in this stream's order; a child's panic drops
    /// everything else first, then resumes.
    fn poll_output(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, Out<S>)>> {
        Poll::Ready(match std::task::ready!(self.poll_next(cx)) {
            Some((index, Ok(value))) => Some((index, value)),
            Some((_, Err(panic))) => {
                self.batched.clear();
                panic.resume()
            }
            None => None,
        })
    }

    fn fmt(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let engine = &self.batched.engine;
        f.debug_struct(name)
            .field("pulled", &engine.pulled())
            .field("running", &engine.live())
            .field("waiting", &self.batched.waiting())
            .field("done", &engine.is_done())
            .finish_non_exhaustive()
    }
}

macro_rules! stream_type {
    ($(#[$doc:meta])* $name:ident, $method:literal) => {
        $(#[$doc])*
        #[must_use = "streams do nothing unless polled"]
        pub struct $name<S>
        where
            S: Stream,
            S::Item: IntoFuture,
        {
            inner: Ordered<S>,
        }

        // Children are pinned in their own allocation and the input stream
        // in its own box: nothing is pinned inside the stream itself.
        impl<S> Unpin for $name<S>
        where
            S: Stream,
            S::Item: IntoFuture,
        {
        }

        impl<S> $name<S>
        where
            S: Stream,
            S::Item: IntoFuture,
        {
            /// Runs at most `limit` children at once; the input stream is
            /// polled only when one of them completes. In input order, this
            /// also sets the reorder window to 4 × `limit` (see
            /// [`GatherStreamExt`]).
            ///
            /// # Panics
            ///
            /// If `limit` is 0 (no child could ever run), or if the stream
            /// was already polled.
            ///
            /// # Examples
            ///
            /// ```
            /// use aiokit::prelude::*;
            ///
            /// # smol::block_on(async {
            /// // An endless input, bounded by the limit and by `take`.
            #[doc = concat!("let first = stream_iter(std::iter::repeat(())).map(|()| async { Ok::<u8, ()>(1) }).", $method, "().limit(8);")]
            /// assert_eq!(first.take(100).count().await, 100);
            /// # });
            /// ```
            #[track_caller]
            pub fn limit(mut self, limit: usize) -> Self {
                self.inner
                    .limit(limit, concat!("aiokit::", stringify!($name), "::limit"));
                self
            }
        }

        impl<S> fmt::Debug for $name<S>
        where
            S: Stream,
            S::Item: IntoFuture,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.inner.fmt(stringify!($name), f)
            }
        }
    };
}

stream_type!(
    /// Stream for [`GatherStreamExt::gather_stream`].
    GatherStream,
    "gather_stream"
);
stream_type!(
    /// Stream for [`GatherStreamExt::as_completed_stream`].
    AsCompletedStream,
    "as_completed_stream"
);
stream_type!(
    /// Stream for [`GatherStreamExt::try_gather_stream`].
    TryGatherStream,
    "try_gather_stream"
);
stream_type!(
    /// Stream for [`GatherStreamExt::gather_settled_stream`].
    GatherSettledStream,
    "gather_settled_stream"
);

impl<S> Stream for GatherStream<S>
where
    S: Stream,
    S::Item: IntoFuture,
{
    type Item = Out<S>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let output = std::task::ready!(self.inner.poll_output(cx));
        Poll::Ready(output.map(|(_, value)| value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.batched.size_hint()
    }
}

impl<S> Stream for AsCompletedStream<S>
where
    S: Stream,
    S::Item: IntoFuture,
{
    type Item = (usize, Out<S>);

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_output(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.batched.size_hint()
    }
}

impl<S> Stream for TryGatherStream<S>
where
    S: Stream,
    S::Item: IntoFuture,
    Out<S>: ResultOutput,
{
    type Item = Result<<Out<S> as ResultOutput>::Ok, <Out<S> as ResultOutput>::Err>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let inner = &mut self.inner;
        if inner.batched.is_done() {
            // Ended, possibly early after an error.
            return Poll::Ready(None);
        }
        Poll::Ready(match std::task::ready!(inner.poll_next(cx)) {
            Some((_, Ok(output))) if output.is_ok() => Some(output.into_result()),
            Some((_, Ok(error))) => {
                // Handed out at once (urgent): the rest is dropped.
                inner.batched.clear();
                Some(error.into_result())
            }
            Some((_, Err(panic))) => {
                inner.batched.clear();
                panic.resume()
            }
            None => None,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (_, high) = self.inner.batched.size_hint();
        (0, high)
    }
}

impl<S> FusedStream for TryGatherStream<S>
where
    S: Stream,
    S::Item: IntoFuture,
    Out<S>: ResultOutput,
{
    fn is_terminated(&self) -> bool {
        self.inner.batched.is_done()
    }
}

impl<S> GatherSettledStream<S>
where
    S: Stream,
    S::Item: IntoFuture,
{
    /// Yields each outcome as soon as it completes, instead of in input
    /// order; there is no reorder buffer then. The same switch as
    /// [`TryGatherStream::completion_order`]; for `gather_stream`, use
    /// [`as_completed_stream`](GatherStreamExt::as_completed_stream).
    ///
    /// # Panics
    ///
    /// If the stream was already polled.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::prelude::*;
    /// use smol::future::yield_now;
    ///
    /// # smol::block_on(async {
    /// let first = stream_iter([3u8, 0])
    ///     .map(|steps| async move {
    ///         for _ in 0..steps {
    ///             yield_now().await;
    ///         }
    ///         Ok::<_, ()>(steps)
    ///     })
    ///     .gather_settled_stream()
    ///     .completion_order()
    ///     .next()
    ///     .await;
    /// assert_eq!(first.map(|(index, _)| index), Some(1));
    /// # });
    /// ```
    #[track_caller]
    pub fn completion_order(mut self) -> Self {
        (self.inner).completion_order("aiokit::GatherSettledStream::completion_order");
        self
    }
}

impl<S> TryGatherStream<S>
where
    S: Stream,
    S::Item: IntoFuture,
{
    /// Yields each output as soon as it completes, instead of in input
    /// order; there is no reorder buffer then. An `Err` is yielded as soon as
    /// it completes and ends the stream, as in input order. The same switch
    /// as [`GatherSettledStream::completion_order`].
    ///
    /// # Panics
    ///
    /// If the stream was already polled.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::prelude::*;
    /// use smol::future::yield_now;
    ///
    /// # smol::block_on(async {
    /// let first = stream_iter([3u8, 0])
    ///     .map(|steps| async move {
    ///         for _ in 0..steps {
    ///             yield_now().await;
    ///         }
    ///         Ok::<_, ()>(steps)
    ///     })
    ///     .try_gather_stream()
    ///     .completion_order()
    ///     .next()
    ///     .await;
    /// assert_eq!(first, Some(Ok(0)));
    /// # });
    /// ```
    #[track_caller]
    pub fn completion_order(mut self) -> Self {
        (self.inner).completion_order("aiokit::TryGatherStream::completion_order");
        self
    }
}

impl<S> Stream for GatherSettledStream<S>
where
    S: Stream,
    S::Item: IntoFuture,
    Out<S>: ResultOutput,
{
    type Item = (
        usize,
        Settled<<Out<S> as ResultOutput>::Ok, <Out<S> as ResultOutput>::Err>,
    );

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let item = std::task::ready!(self.inner.poll_next(cx));
        Poll::Ready(item.map(|(index, outcome)| {
            (
                index,
                Settled::from_child(outcome.map(ResultOutput::into_result)),
            )
        }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.batched.size_hint()
    }
}

macro_rules! fused {
    ($name:ident $(, $bound:path)?) => {
        impl<S> FusedStream for $name<S>
        where
            S: Stream,
            S::Item: IntoFuture,
            $(Out<S>: $bound,)?
        {
            fn is_terminated(&self) -> bool {
                self.inner.batched.is_done()
            }
        }
    };
}

fused!(GatherStream);
fused!(AsCompletedStream);
fused!(GatherSettledStream, ResultOutput);
