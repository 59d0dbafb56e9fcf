//! Waiting on many futures at once: [`gather()`], [`try_gather()`],
//! [`gather_settled()`] and [`as_completed()`].

use std::any::Any;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::{FusedFuture, FusedStream, Stream, TryFuture};

use crate::utils::engine::{ChildResult, Engine};

mod tuple;
pub use tuple::*;

type Out<I> = <<I as Iterator>::Item as IntoFuture>::Output;

/// Outputs collected in input order. While children complete in input order
/// (always the case for children that are ready on their first poll) each
/// output is pushed straight into the result; the first completion out of
/// order switches to one slot per input, filled as outputs arrive.
enum Outputs<T> {
    InOrder(Vec<T>),
    Slots(Vec<Option<T>>),
}

impl<T> Outputs<T> {
    fn new() -> Self {
        Outputs::InOrder(Vec::new())
    }

    /// Reserves room for `additional` outputs, once.
    fn reserve(&mut self, additional: usize) {
        if let Outputs::InOrder(outputs) = self {
            if outputs.capacity() == 0 {
                outputs.reserve_exact(additional);
            }
        }
    }

    /// Stores the output of input `index` (each index once).
    #[inline]
    fn store(&mut self, index: usize, value: T) {
        match self {
            Outputs::InOrder(outputs) if index == outputs.len() => outputs.push(value),
            _ => self.store_out_of_order(index, value),
        }
    }

    #[cold]
    #[inline(never)]
    fn store_out_of_order(&mut self, index: usize, value: T) {
        if let Outputs::InOrder(outputs) = self {
            // Sized from the length: a `Vec` of a zero-sized type reports an
            // unbounded capacity.
            let mut slots = Vec::with_capacity(outputs.len().max(index + 1));
            slots.extend(std::mem::take(outputs).into_iter().map(Some));
            *self = Outputs::Slots(slots);
        }
        let Outputs::Slots(slots) = self else {
            unreachable!("switched above")
        };
        match slots.get_mut(index) {
            Some(slot) => *slot = Some(value),
            None => {
                // Inputs are pulled lazily with a limit: grow as needed.
                slots.resize_with(index, || None);
                slots.push(Some(value));
            }
        }
    }

    /// Every output, in input order.
    fn into_vec(self) -> Vec<T> {
        match self {
            Outputs::InOrder(outputs) => outputs,
            Outputs::Slots(slots) => slots
                .into_iter()
                .map(|o| o.expect("every input completed"))
                .collect(),
        }
    }
}

/// Runs all `futures` concurrently and resolves to their outputs in input
/// order, like `asyncio.gather(*aws)` or `Promise.all(promises)`.
///
/// The children are polled inside the task that awaits the `Gather`: nothing
/// is spawned and no runtime is needed. Each child is dropped as soon as it
/// completes. Empty input resolves at once to an empty `Vec`.
///
/// After a child wakes, the next poll of the `Gather` polls only the children
/// that were woken, so a wake costs the same whether there are ten children or
/// a million. Besides the first poll's pass over every child, one poll of the
/// `Gather` polls at most as many children as it holds, and stops early,
/// waking its task, once two children have woken themselves while being
/// polled: a child that always wakes itself cannot starve its siblings or the
/// executor (this holds for every combinator of the crate that takes many
/// futures). [`Gather::limit`] bounds how many children exist at once and pulls
/// the input iterator lazily.
///
/// For outputs that are `Result`s and should stop at the first error, use
/// [`try_gather()`]; to keep every outcome, panics included, use
/// [`gather_settled()`].
///
/// # Cancellation
///
/// Dropping the `Gather` drops every child that has not completed yet, in input
/// order, and the inputs not yet pulled from the iterator. (In asyncio,
/// cancelling the gather cancels its children too, but they keep running until
/// they next yield; here the drop is immediate.)
///
/// # Panics
///
/// If a child panics, every other child is dropped first, then the panic
/// resumes in the task awaiting the `Gather`.
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// let squares = aiokit::gather((1..=4).map(|n| async move { n * n })).await;
/// assert_eq!(squares, [1, 4, 9, 16]);
///
/// // Anything `IntoIterator` of `IntoFuture` works, empty input included.
/// let none: Vec<u8> = aiokit::gather(Vec::<std::future::Ready<u8>>::new()).await;
/// assert!(none.is_empty());
/// # });
/// ```
#[doc(alias = "join_all")]
#[doc(alias = "all")]
pub fn gather<I>(futures: I) -> Gather<I::IntoIter>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    Gather {
        engine: Engine::new(futures.into_iter()),
        outputs: Outputs::new(),
    }
}

/// Future for the [`gather()`] function.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Gather<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    engine: Engine<I>,
    outputs: Outputs<Out<I>>,
}

// Children are pinned in their own allocation, never inside `Gather`.
impl<I> Unpin for Gather<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
}

impl<I> Gather<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    /// Runs at most `limit` children at once, like p-map's `concurrency` or an
    /// `asyncio.Semaphore` around each call.
    ///
    /// The input iterator is pulled only when a child completes, so gathering
    /// ten million futures with a limit of 64 holds at most 64 of them (plus
    /// the outputs). Outputs stay in input order.
    ///
    /// # Panics
    ///
    /// If `limit` is 0 (no child could ever run), or if the `Gather` was
    /// already polled.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let pages = aiokit::gather((0..100).map(|n| async move { n })).limit(8).await;
    /// assert_eq!(pages.len(), 100);
    /// assert_eq!(pages[99], 99);
    /// # });
    /// ```
    #[track_caller]
    pub fn limit(mut self, limit: usize) -> Self {
        self.engine.set_limit(limit, "aiokit::Gather::limit");
        self
    }
}

impl<I> Future for Gather<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    type Output = Vec<Out<I>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.engine.is_done(), "`Gather` polled after completion");
        this.outputs.reserve(this.engine.size_hint());
        let outputs = &mut this.outputs;
        let mut panicked = None;
        let flow = ready!(this.engine.poll_each(cx, |index, result| match result {
            Ok(value) => {
                outputs.store(index, value);
                ControlFlow::Continue(())
            }
            Err(panic) => {
                panicked = Some(panic);
                ControlFlow::Break(())
            }
        }));
        // Done, or a child panicked: either way drop whatever is left.
        this.engine.clear();
        if let (ControlFlow::Break(()), Some(panic)) = (flow, panicked) {
            panic.resume();
        }
        Poll::Ready(std::mem::replace(&mut this.outputs, Outputs::new()).into_vec())
    }
}

impl<I> FusedFuture for Gather<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    fn is_terminated(&self) -> bool {
        self.engine.is_done()
    }
}

impl<I> fmt::Debug for Gather<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gather")
            .field("pulled", &self.engine.pulled())
            .field("done", &self.engine.is_done())
            .finish_non_exhaustive()
    }
}

/// Runs all `futures` concurrently and resolves to `Ok` with their outputs in
/// input order, or to the first `Err` **in completion order**, like
/// `Promise.all` over promises that may reject.
///
/// The moment a child returns `Err`, every other child is dropped (cancelled)
/// and the error is returned: a slow or never-ending sibling cannot delay it.
/// Empty input resolves at once to `Ok(vec![])`.
///
/// Differences from its neighbours: `asyncio.gather` also raises the first
/// exception at once but leaves the other tasks running, orphaned; futures'
/// `try_join_all` above 30 inputs reports errors in input order, so a fast
/// error waits for every slower sibling before it.
///
/// # Cancellation
///
/// Dropping the `TryGather` drops every child that has not completed and the
/// inputs not yet pulled. On the first error the same happens before the error
/// is returned.
///
/// # Panics
///
/// If a child panics, every other child is dropped first, then the panic
/// resumes in the task awaiting the `TryGather`.
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// let ok = aiokit::try_gather((1..=3).map(|n| async move { Ok::<_, String>(n) })).await;
/// assert_eq!(ok, Ok(vec![1, 2, 3]));
///
/// let failed = aiokit::try_gather([
///     Box::pin(async { Ok(1) }) as std::pin::Pin<Box<dyn Future<Output = Result<i32, &str>>>>,
///     Box::pin(async { Err("no") }),
///     Box::pin(std::future::pending()), // dropped when the error arrives
/// ])
/// .await;
/// assert_eq!(failed, Err("no"));
/// # });
/// ```
#[doc(alias = "try_join_all")]
pub fn try_gather<I>(futures: I) -> TryGather<I::IntoIter>
where
    I: IntoIterator,
    I::Item: IntoFuture,
    <I::Item as IntoFuture>::IntoFuture: TryFuture,
{
    TryGather::new(futures.into_iter())
}

/// Future for the [`try_gather()`] function.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct TryGather<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    engine: Engine<I>,
    outputs: Outputs<Out<I>>,
}

impl<I> Unpin for TryGather<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
}

impl<I> TryGather<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    pub(crate) fn new(iter: I) -> Self {
        Self {
            engine: Engine::new(iter),
            outputs: Outputs::new(),
        }
    }

    /// Runs at most `limit` children at once; see [`Gather::limit`].
    ///
    /// # Panics
    ///
    /// If `limit` is 0, or if the `TryGather` was already polled.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let all = aiokit::try_gather((0..10).map(|n| async move { Ok::<_, ()>(n) }))
    ///     .limit(2)
    ///     .await;
    /// assert_eq!(all.unwrap().len(), 10);
    /// # });
    /// ```
    #[track_caller]
    pub fn limit(mut self, limit: usize) -> Self {
        self.engine.set_limit(limit, "aiokit::TryGather::limit");
        self
    }
}

impl<I, T, E> Future for TryGather<I>
where
    I: Iterator,
    I::Item: IntoFuture<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(
            !this.engine.is_done(),
            "`TryGather` polled after completion"
        );
        this.outputs.reserve(this.engine.size_hint());
        let outputs = &mut this.outputs;
        let mut failed = None;
        let flow = ready!(this.engine.poll_each(cx, |index, result| match result {
            Ok(Ok(value)) => {
                outputs.store(index, Ok(value));
                ControlFlow::Continue(())
            }
            failure => {
                failed = Some(failure);
                ControlFlow::Break(())
            }
        }));
        // Done, failed or panicked: either way drop whatever is left.
        this.engine.clear();
        match (flow, failed) {
            (ControlFlow::Break(()), Some(Ok(Err(error)))) => {
                this.outputs = Outputs::new();
                Poll::Ready(Err(error))
            }
            (ControlFlow::Break(()), Some(Err(panic))) => panic.resume(),
            _ => {
                let outputs = std::mem::replace(&mut this.outputs, Outputs::new()).into_vec();
                Poll::Ready(Ok(outputs
                    .into_iter()
                    .map(|o| match o {
                        Ok(value) => value,
                        Err(_) => unreachable!("every input completed with `Ok`"),
                    })
                    .collect()))
            }
        }
    }
}

impl<I, T, E> FusedFuture for TryGather<I>
where
    I: Iterator,
    I::Item: IntoFuture<Output = Result<T, E>>,
{
    fn is_terminated(&self) -> bool {
        self.engine.is_done()
    }
}

impl<I> fmt::Debug for TryGather<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryGather")
            .field("pulled", &self.engine.pulled())
            .field("done", &self.engine.is_done())
            .finish_non_exhaustive()
    }
}

/// Runs all `futures` to the end and reports every outcome in input order,
/// panics included, like `Promise.allSettled` or
/// `asyncio.gather(*aws, return_exceptions=True)`.
///
/// Each child resolves to a `Result`; its slot in the output is
/// [`Settled::Ok`] or [`Settled::Err`]. A child that panics while being polled
/// is caught, dropped, and reported as [`Settled::Panicked`] while the others go
/// on. Nothing short-circuits. Empty input resolves at once to an empty `Vec`.
///
/// # Cancellation
///
/// Dropping the `GatherSettled` drops every child that has not completed and
/// discards the outcomes collected so far (asyncio does the same when the
/// gather itself is cancelled).
///
/// # Panics
///
/// Never because of a child: a child's panic is captured in its slot. The
/// panic hook still runs (and prints) when the child panics.
///
/// # Examples
///
/// ```
/// use aiokit::Settled;
///
/// # futures_lite::future::block_on(async {
/// let outcomes = aiokit::gather_settled((0..3).map(|n| async move {
///     match n {
///         0 => Ok(n),
///         1 => Err(format!("{n} failed")),
///         _ => panic!("{n} panicked"),
///     }
/// }))
/// .await;
///
/// assert_eq!(outcomes[0].value(), Some(&0));
/// assert_eq!(outcomes[1].error().map(String::as_str), Some("1 failed"));
/// assert_eq!(outcomes[2].panic().and_then(|p| p.message()), Some("2 panicked"));
///
/// let (ok, failed) = Settled::split(outcomes);
/// assert_eq!((ok, failed.len()), (vec![0], 2));
/// # });
/// ```
#[doc(alias = "allSettled")]
#[doc(alias = "return_exceptions")]
pub fn gather_settled<I>(futures: I) -> GatherSettled<I::IntoIter>
where
    I: IntoIterator,
    I::Item: IntoFuture,
    <I::Item as IntoFuture>::IntoFuture: TryFuture,
{
    GatherSettled::new(futures.into_iter())
}

/// Future for the [`gather_settled()`] function.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct GatherSettled<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    engine: Engine<I>,
    outputs: Outputs<ChildResult<Out<I>>>,
}

impl<I> Unpin for GatherSettled<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
}

impl<I> GatherSettled<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    pub(crate) fn new(iter: I) -> Self {
        Self {
            engine: Engine::new(iter),
            outputs: Outputs::new(),
        }
    }

    /// Runs at most `limit` children at once; see [`Gather::limit`].
    ///
    /// # Panics
    ///
    /// If `limit` is 0, or if the `GatherSettled` was already polled.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let all = aiokit::gather_settled((0..10).map(|n| async move { Ok::<_, ()>(n) }))
    ///     .limit(3)
    ///     .await;
    /// assert!(all.iter().all(aiokit::Settled::is_ok));
    /// # });
    /// ```
    #[track_caller]
    pub fn limit(mut self, limit: usize) -> Self {
        self.engine.set_limit(limit, "aiokit::GatherSettled::limit");
        self
    }
}

impl<I, T, E> Future for GatherSettled<I>
where
    I: Iterator,
    I::Item: IntoFuture<Output = Result<T, E>>,
{
    type Output = Vec<Settled<T, E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(
            !this.engine.is_done(),
            "`GatherSettled` polled after completion"
        );
        this.outputs.reserve(this.engine.size_hint());
        let outputs = &mut this.outputs;
        let _done: ControlFlow<()> = ready!(this.engine.poll_each(cx, |index, outcome| {
            outputs.store(index, outcome);
            ControlFlow::Continue(())
        }));
        this.engine.clear();
        let outputs = std::mem::replace(&mut this.outputs, Outputs::new()).into_vec();
        Poll::Ready(outputs.into_iter().map(Settled::from_child).collect())
    }
}

impl<I, T, E> FusedFuture for GatherSettled<I>
where
    I: Iterator,
    I::Item: IntoFuture<Output = Result<T, E>>,
{
    fn is_terminated(&self) -> bool {
        self.engine.is_done()
    }
}

impl<I> fmt::Debug for GatherSettled<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherSettled")
            .field("pulled", &self.engine.pulled())
            .field("done", &self.engine.is_done())
            .finish_non_exhaustive()
    }
}

/// Runs all `futures` concurrently and yields `(index, output)` as each one
/// completes, like `asyncio.as_completed` (which yields awaitables, without
/// the index) or JavaScript's `for await` over settled promises.
///
/// `index` is the child's position in the input. The stream ends once every
/// child has completed; it is empty for empty input. Each child is dropped as
/// soon as it completes. [`AsCompleted::limit`] bounds how many run at once.
///
/// # Cancellation
///
/// Dropping the stream drops every child still running and the inputs not yet
/// pulled; outputs already yielded are the caller's.
///
/// # Panics
///
/// If a child panics, every other child is dropped first, then the panic
/// resumes in the task polling the stream.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futures_lite::StreamExt;
///
/// # futures_lite::future::block_on(async {
/// let mut done = aiokit::as_completed([60, 5].map(|ms| async move {
///     async_io::Timer::after(Duration::from_millis(ms)).await;
///     ms
/// }));
/// assert_eq!(done.next().await, Some((1, 5)));
/// assert_eq!(done.next().await, Some((0, 60)));
/// assert_eq!(done.next().await, None);
/// # });
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<I::IntoIter>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    AsCompleted {
        engine: Engine::new(futures.into_iter()),
    }
}

/// Stream for the [`as_completed()`] function.
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    engine: Engine<I>,
}

impl<I> Unpin for AsCompleted<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
}

impl<I> AsCompleted<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    /// Runs at most `limit` children at once; see [`Gather::limit`].
    ///
    /// # Panics
    ///
    /// If `limit` is 0, or if the stream was already polled.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    ///
    /// # futures_lite::future::block_on(async {
    /// let total: usize = aiokit::as_completed((0..10).map(|n| async move { n }))
    ///     .limit(4)
    ///     .map(|(_, n)| n)
    ///     .fold(0, |a, b| a + b)
    ///     .await;
    /// assert_eq!(total, 45);
    /// # });
    /// ```
    #[track_caller]
    pub fn limit(mut self, limit: usize) -> Self {
        self.engine.set_limit(limit, "aiokit::AsCompleted::limit");
        self
    }
}

impl<I> Stream for AsCompleted<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    type Item = (usize, Out<I>);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.engine.poll_next(cx) {
            Poll::Ready(Some((index, Ok(value)))) => Poll::Ready(Some((index, value))),
            Poll::Ready(Some((_, Err(panic)))) => {
                this.engine.clear();
                panic.resume()
            }
            Poll::Ready(None) => {
                this.engine.clear();
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.engine.size_hint() {
            0 if self.engine.is_done() => (0, Some(0)),
            n => (n, None),
        }
    }
}

impl<I> FusedStream for AsCompleted<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    fn is_terminated(&self) -> bool {
        self.engine.is_done()
    }
}

impl<I> fmt::Debug for AsCompleted<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("pulled", &self.engine.pulled())
            .field("done", &self.engine.is_done())
            .finish_non_exhaustive()
    }
}

/// The outcome of one child of [`gather_settled()`]: what
/// `Promise.allSettled` reports as `{status, value | reason}`, with panics
/// as a third case.
///
/// # Examples
///
/// ```
/// use aiokit::Settled;
///
/// let ok: Settled<u8, &str> = Settled::Ok(1);
/// assert!(ok.is_ok());
/// assert_eq!(ok.ok(), Some(1));
/// assert_eq!(Settled::<u8, &str>::Err("bad").into_result().unwrap_err().err(), Some("bad"));
/// ```
#[derive(Debug)]
pub enum Settled<T, E> {
    /// The child resolved to `Ok`.
    Ok(T),
    /// The child resolved to `Err`.
    Err(E),
    /// The child panicked while being polled.
    Panicked(Panic),
}

impl<T, E> Settled<T, E> {
    /// Whether the child resolved to `Ok`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(aiokit::Settled::<_, ()>::Ok(1).is_ok());
    /// ```
    pub fn is_ok(&self) -> bool {
        matches!(self, Settled::Ok(_))
    }

    /// Whether the child resolved to `Err`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(aiokit::Settled::<(), _>::Err(1).is_err());
    /// ```
    pub fn is_err(&self) -> bool {
        matches!(self, Settled::Err(_))
    }

    /// Whether the child panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!aiokit::Settled::<(), ()>::Ok(()).is_panicked());
    /// ```
    pub fn is_panicked(&self) -> bool {
        matches!(self, Settled::Panicked(_))
    }

    /// The `Ok` value, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(aiokit::Settled::<_, ()>::Ok(3).ok(), Some(3));
    /// ```
    pub fn ok(self) -> Option<T> {
        match self {
            Settled::Ok(value) => Some(value),
            _ => None,
        }
    }

    /// The `Err` value, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(aiokit::Settled::<(), _>::Err("e").err(), Some("e"));
    /// ```
    pub fn err(self) -> Option<E> {
        match self {
            Settled::Err(error) => Some(error),
            _ => None,
        }
    }

    /// The panic, if the child panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(aiokit::Settled::<(), ()>::Ok(()).panic().is_none());
    /// ```
    pub fn panic(&self) -> Option<&Panic> {
        match self {
            Settled::Panicked(panic) => Some(panic),
            _ => None,
        }
    }

    /// Borrows the `Ok` value, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = aiokit::Settled::<String, ()>::Ok("hi".into());
    /// assert_eq!(s.value().map(String::len), Some(2));
    /// ```
    pub fn value(&self) -> Option<&T> {
        match self {
            Settled::Ok(value) => Some(value),
            _ => None,
        }
    }

    /// Borrows the `Err` value, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(aiokit::Settled::<(), _>::Err(4).error(), Some(&4));
    /// ```
    pub fn error(&self) -> Option<&E> {
        match self {
            Settled::Err(error) => Some(error),
            _ => None,
        }
    }

    /// `Ok(value)`, or the failure (error or panic) as `Err`.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::{Failure, Settled};
    ///
    /// assert_eq!(Settled::<_, ()>::Ok(1).into_result().ok(), Some(1));
    /// assert!(matches!(Settled::<(), _>::Err(2).into_result(), Err(Failure::Err(2))));
    /// ```
    pub fn into_result(self) -> Result<T, Failure<E>> {
        match self {
            Settled::Ok(value) => Ok(value),
            Settled::Err(error) => Err(Failure::Err(error)),
            Settled::Panicked(panic) => Err(Failure::Panicked(panic)),
        }
    }

    /// Splits outcomes into the successes and the failures, each in input
    /// order.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::Settled;
    ///
    /// let all = vec![Settled::Ok(1), Settled::Err("x"), Settled::Ok(3)];
    /// let (ok, failed) = Settled::split(all);
    /// assert_eq!(ok, [1, 3]);
    /// assert_eq!(failed.len(), 1);
    /// ```
    pub fn split(outcomes: impl IntoIterator<Item = Self>) -> (Vec<T>, Vec<Failure<E>>) {
        let mut ok = Vec::new();
        let mut failed = Vec::new();
        for outcome in outcomes {
            match outcome.into_result() {
                Ok(value) => ok.push(value),
                Err(failure) => failed.push(failure),
            }
        }
        (ok, failed)
    }
}

impl<T, E> Settled<T, E> {
    fn from_child(outcome: ChildResult<Result<T, E>>) -> Self {
        match outcome {
            Ok(Ok(value)) => Settled::Ok(value),
            Ok(Err(error)) => Settled::Err(error),
            Err(panic) => Settled::Panicked(panic),
        }
    }
}

impl<T, E> From<Result<T, E>> for Settled<T, E> {
    fn from(result: Result<T, E>) -> Self {
        match result {
            Ok(value) => Settled::Ok(value),
            Err(error) => Settled::Err(error),
        }
    }
}

/// Why a child of [`gather_settled()`] did not succeed.
///
/// # Examples
///
/// ```
/// use aiokit::{Failure, Settled};
///
/// let failure = Settled::<(), _>::Err("gone").into_result().unwrap_err();
/// assert_eq!(failure.to_string(), "gone");
/// assert!(matches!(failure, Failure::Err("gone")));
/// ```
#[derive(Debug)]
pub enum Failure<E> {
    /// The child resolved to `Err`.
    Err(E),
    /// The child panicked.
    Panicked(Panic),
}

impl<E> Failure<E> {
    /// The error, if the child resolved to `Err`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(aiokit::Failure::Err(5).err(), Some(5));
    /// ```
    pub fn err(self) -> Option<E> {
        match self {
            Failure::Err(error) => Some(error),
            Failure::Panicked(_) => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Err(error) => error.fmt(f),
            Failure::Panicked(panic) => panic.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Failure<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Failure::Err(error) => Some(error),
            Failure::Panicked(_) => None,
        }
    }
}

/// A panic caught while polling a child of [`gather_settled()`].
///
/// It keeps the panic's payload: [`message`](Panic::message) reads it when it
/// is a string (as `panic!("...")` makes), and [`resume`](Panic::resume)
/// continues unwinding with it, as if it had never been caught.
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// fn boom(n: u32) -> Result<(), ()> {
///     panic!("boom {n}")
/// }
/// let outcomes = aiokit::gather_settled([async { boom(1) }]).await;
/// let panic = outcomes[0].panic().unwrap();
/// assert_eq!(panic.message(), Some("boom 1"));
/// assert_eq!(panic.to_string(), "panicked: boom 1");
/// # });
/// ```
pub struct Panic {
    payload: Box<dyn Any + Send + 'static>,
}

impl Panic {
    pub(crate) fn new(payload: Box<dyn Any + Send + 'static>) -> Self {
        Self { payload }
    }

    /// The panic message, when the payload is a `&str` or a `String`.
    ///
    /// # Examples
    ///
    /// ```
    /// let caught = std::panic::catch_unwind(|| panic!("oops")).unwrap_err();
    /// let caught = aiokit::Panic::from(caught);
    /// assert_eq!(caught.message(), Some("oops"));
    /// ```
    pub fn message(&self) -> Option<&str> {
        (self.payload.downcast_ref::<&'static str>().copied())
            .or_else(|| self.payload.downcast_ref::<String>().map(String::as_str))
    }

    /// The payload, as `std::panic::catch_unwind` returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// let caught = std::panic::catch_unwind(|| std::panic::panic_any(42_u8)).unwrap_err();
    /// let caught = aiokit::Panic::from(caught);
    /// assert_eq!(caught.message(), None);
    /// assert_eq!(caught.into_payload().downcast_ref::<u8>(), Some(&42));
    /// ```
    pub fn into_payload(self) -> Box<dyn Any + Send + 'static> {
        self.payload
    }

    /// Resumes unwinding with the original payload
    /// (`std::panic::resume_unwind`), as if the panic had not been caught.
    ///
    /// # Examples
    ///
    /// ```should_panic
    /// # futures_lite::future::block_on(async {
    /// fn again() -> Result<(), ()> {
    ///     panic!("again")
    /// }
    /// let mut outcomes = aiokit::gather_settled([async { again() }]).await;
    /// if let aiokit::Settled::Panicked(panic) = outcomes.remove(0) {
    ///     panic.resume();
    /// }
    /// # });
    /// ```
    pub fn resume(self) -> ! {
        std::panic::resume_unwind(self.into_payload())
    }
}

impl From<Box<dyn Any + Send + 'static>> for Panic {
    /// Wraps a payload caught by `std::panic::catch_unwind`.
    fn from(payload: Box<dyn Any + Send + 'static>) -> Self {
        Self::new(payload)
    }
}

impl fmt::Debug for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Panic")
            .field("message", &self.message())
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message() {
            Some(message) => write!(f, "panicked: {message}"),
            None => f.write_str("panicked with a non-string payload"),
        }
    }
}
