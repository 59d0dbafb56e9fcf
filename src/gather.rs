//! Waiting on many futures at once: [`gather()`], [`try_gather()`],
//! [`gather_settled()`] and [`as_completed()`].
//!
//! Each is a sink over the shared engine (`utils::engine`): what a child's
//! completion does to the result.

use std::collections::VecDeque;
use std::future::{Future, IntoFuture};
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::utils::batch::Batched;
use crate::utils::engine::{ChildResult, Engine, Step};
use crate::utils::outputs::Outputs;
use crate::utils::set::set_future;
use crate::utils::set::{Set, Sink};
use crate::utils::source::Iter;
use crate::{Panic, ResultOutput, Settled};

mod tuple;
pub use tuple::*;

type Out<I> = <<I as Iterator>::Item as IntoFuture>::Output;

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
/// # smol::block_on(async {
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
        set: Set::new(Iter::new(futures.into_iter()), GatherSink::new(), "Gather"),
    }
}

/// Stores every output by index; a panic stops the set and resumes.
pub(crate) struct GatherSink<T> {
    outputs: Outputs<T>,
    panic: Option<Panic>,
}

impl<T> GatherSink<T> {
    pub(crate) const fn new() -> Self {
        Self {
            outputs: Outputs::new(),
            panic: None,
        }
    }
}

impl<T> Sink<T> for GatherSink<T> {
    type Output = Vec<T>;

    #[inline]
    fn reserve(&mut self, additional: usize) {
        self.outputs.reserve(additional);
    }

    #[inline]
    fn complete(&mut self, index: usize, result: ChildResult<T>) -> Step {
        match result {
            Ok(value) => {
                self.outputs.store(index, value);
                Step::Continue
            }
            Err(panic) => {
                self.panic = Some(panic);
                Step::Break
            }
        }
    }

    fn finish(&mut self, _: ControlFlow<()>) -> Vec<T> {
        if let Some(panic) = self.panic.take() {
            self.outputs = Outputs::new();
            panic.resume();
        }
        self.outputs.take()
    }
}

set_future! {
    /// Future for the [`gather()`] function.
    Gather: Iter, GatherSink, Vec<Out<I>>;
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
    /// # smol::block_on(async {
    /// let pages = aiokit::gather((0..100).map(|n| async move { n })).limit(8).await;
    /// assert_eq!(pages.len(), 100);
    /// assert_eq!(pages[99], 99);
    /// # });
    /// ```
    fn limit;
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
/// # smol::block_on(async {
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
    <I::Item as IntoFuture>::Output: ResultOutput,
{
    TryGather::new(futures.into_iter())
}

/// Stores `Ok` outputs by index; the first `Err` (or panic) stops the set, or
/// with `drain`, stops new starts and lets the running children finish.
///
/// Generic over the whole output `O` rather than its `T` and `E`, so that the
/// futures holding it need no `Result` bound to be named (the arrays of
/// `GatherExt` name `TryGather` for any output). The outputs it stores are
/// always `Ok`.
pub(crate) struct TryGatherSink<O> {
    outputs: Outputs<O>,
    error: Option<O>,
    panic: Option<Panic>,
    drain: bool,
}

impl<O> TryGatherSink<O> {
    pub(crate) const fn new() -> Self {
        Self {
            outputs: Outputs::new(),
            error: None,
            panic: None,
            drain: false,
        }
    }

    fn failed(&self) -> bool {
        self.error.is_some() || self.panic.is_some()
    }
}

impl<O: ResultOutput> Sink<O> for TryGatherSink<O> {
    type Output = Result<Vec<O::Ok>, O::Err>;

    #[inline]
    fn reserve(&mut self, additional: usize) {
        self.outputs.reserve(additional);
    }

    #[inline]
    fn complete(&mut self, index: usize, result: ChildResult<O>) -> Step {
        let first = !self.failed();
        match result {
            Ok(output) if output.is_ok() => {
                if first {
                    self.outputs.store(index, output);
                }
                return Step::Continue;
            }
            Ok(error) => {
                if first {
                    self.error = Some(error);
                }
            }
            // A panic outranks an error: it resumes in the end.
            Err(panic) => {
                if self.panic.is_none() {
                    self.panic = Some(panic);
                }
            }
        }
        if !self.drain {
            Step::Break
        } else if first {
            self.outputs = Outputs::new();
            Step::Drain
        } else {
            Step::Continue
        }
    }

    fn finish(&mut self, _: ControlFlow<()>) -> Self::Output {
        if let Some(panic) = self.panic.take() {
            self.outputs = Outputs::new();
            panic.resume();
        }
        if let Some(Err(error)) = self.error.take().map(ResultOutput::into_result) {
            self.outputs = Outputs::new();
            return Err(error);
        }
        let outputs = self.outputs.take().into_iter();
        Ok(outputs.filter_map(|ok| ok.into_result().ok()).collect())
    }
}

type OkOf<I> = <Out<I> as ResultOutput>::Ok;
type ErrOf<I> = <Out<I> as ResultOutput>::Err;

set_future! {
    /// Future for the [`try_gather()`] function.
    TryGather: Iter, TryGatherSink, Result<Vec<OkOf<I>>, ErrOf<I>>, where Out<I>: ResultOutput;
    /// Runs at most `limit` children at once; see [`Gather::limit`].
    ///
    /// # Panics
    ///
    /// If `limit` is 0, or if the `TryGather` was already polled.
    ///
    /// # Examples
    ///
    /// ```
    /// # smol::block_on(async {
    /// let all = aiokit::try_gather((0..10).map(|n| async move { Ok::<_, ()>(n) }))
    ///     .limit(2)
    ///     .await;
    /// assert_eq!(all.unwrap().len(), 10);
    /// # });
    /// ```
    fn limit;
}

impl<I> TryGather<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    pub(crate) fn new(iter: I) -> Self {
        Self {
            set: Set::new(Iter::new(iter), TryGatherSink::new(), "TryGather"),
        }
    }

    /// On the first `Err`, starts no new child but lets the running ones
    /// finish, then resolves to that first error: p-map's
    /// `stopOnError: false`, for children that must not be cancelled halfway
    /// (a write, a transaction). Without it, the first `Err` drops the running
    /// children at once.
    ///
    /// The inputs not yet started are dropped unstarted when the first error
    /// arrives; the outputs and later errors of the children that finish
    /// after it are dropped as they complete. A panic is treated the same
    /// way: nothing new starts, the running children finish, then the panic
    /// resumes (a panic outranks an error). Dropping the `TryGather` still
    /// drops everything at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use smol::future::yield_now;
    ///
    /// # smol::block_on(async {
    /// let finished = AtomicUsize::new(0);
    /// let finished = &finished;
    /// let result = aiokit::try_gather((0..10).map(|n| async move {
    ///     for _ in 0..n {
    ///         yield_now().await; // later inputs take longer
    ///     }
    ///     if n == 0 {
    ///         return Err(format!("input {n} failed"));
    ///     }
    ///     finished.fetch_add(1, Ordering::SeqCst);
    ///     Ok(n)
    /// }))
    /// .limit(3)
    /// .drain_on_error()
    /// .await;
    /// assert_eq!(result, Err("input 0 failed".to_string()));
    /// // Inputs 1 and 2 were running when input 0 failed: they finished.
    /// // Inputs 3 to 9 never started.
    /// assert_eq!(finished.load(Ordering::SeqCst), 2);
    /// # });
    /// ```
    pub fn drain_on_error(mut self) -> Self {
        self.set.sink.drain = true;
        self
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
/// # smol::block_on(async {
/// let outcomes = aiokit::gather_settled((0..3).map(|n| async move {
///     match n {
///         0 => Ok(n),
///         1 => Err(format!("{n} failed")),
///         _ => panic!("{n} panicked"),
///     }
/// }))
/// .await;
///
/// assert_eq!(outcomes[0].ok(), Some(&0));
/// assert_eq!(outcomes[1].err().map(String::as_str), Some("1 failed"));
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
    <I::Item as IntoFuture>::Output: ResultOutput,
{
    GatherSettled::new(futures.into_iter())
}

/// Stores every outcome by index; never stops early. Generic over the whole
/// output, as [`TryGatherSink`] is.
pub(crate) struct SettledSink<O> {
    outputs: Outputs<ChildResult<O>>,
}

impl<O> SettledSink<O> {
    pub(crate) const fn new() -> Self {
        Self {
            outputs: Outputs::new(),
        }
    }
}

impl<O: ResultOutput> Sink<O> for SettledSink<O> {
    type Output = Vec<Settled<O::Ok, O::Err>>;

    #[inline]
    fn reserve(&mut self, additional: usize) {
        self.outputs.reserve(additional);
    }

    #[inline]
    fn complete(&mut self, index: usize, result: ChildResult<O>) -> Step {
        self.outputs.store(index, result);
        Step::Continue
    }

    fn finish(&mut self, _: ControlFlow<()>) -> Self::Output {
        let outputs = self.outputs.take().into_iter();
        outputs
            .map(|outcome| Settled::from_child(outcome.map(ResultOutput::into_result)))
            .collect()
    }
}

set_future! {
    /// Future for the [`gather_settled()`] function.
    GatherSettled: Iter, SettledSink, Vec<Settled<OkOf<I>, ErrOf<I>>>, where Out<I>: ResultOutput;
    /// Runs at most `limit` children at once; see [`Gather::limit`].
    ///
    /// # Panics
    ///
    /// If `limit` is 0, or if the `GatherSettled` was already polled.
    ///
    /// # Examples
    ///
    /// ```
    /// # smol::block_on(async {
    /// let all = aiokit::gather_settled((0..10).map(|n| async move { Ok::<_, ()>(n) }))
    ///     .limit(3)
    ///     .await;
    /// assert!(all.iter().all(aiokit::Settled::is_ok));
    /// # });
    /// ```
    fn limit;
}

impl<I> GatherSettled<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    pub(crate) fn new(iter: I) -> Self {
        Self {
            set: Set::new(Iter::new(iter), SettledSink::new(), "GatherSettled"),
        }
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
/// use aiokit::prelude::*;
///
/// # smol::block_on(async {
/// let mut done = aiokit::as_completed([60, 5].map(|ms| async move {
///     smol::Timer::after(Duration::from_millis(ms)).await;
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
    let mut engine = Engine::new(Iter::new(futures.into_iter()));
    // Completion order is the order of the children's wakes.
    engine.keep_wake_order();
    AsCompleted {
        batched: Batched::new(engine, VecDeque::new()),
    }
}

set_future! {
    /// Stream for the [`as_completed()`] function.
    stream AsCompleted;
    /// Runs at most `limit` children at once; see [`Gather::limit`].
    ///
    /// # Panics
    ///
    /// If `limit` is 0, or if the stream was already polled.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// let total: usize = aiokit::as_completed((0..10).map(|n| async move { n }))
    ///     .limit(4)
    ///     .map(|(_, n)| n)
    ///     .fold(0, |a, b| async move { a + b })
    ///     .await;
    /// assert_eq!(total, 45);
    /// # });
    /// ```
    fn limit;
}

impl<I> Stream for AsCompleted<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    type Item = (usize, Out<I>);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.batched.poll_next(cx, Result::is_err) {
            Poll::Ready(Some((index, Ok(value)))) => Poll::Ready(Some((index, value))),
            Poll::Ready(Some((_, Err(panic)))) => {
                // Handed out after the outputs completed before it; the rest
                // is dropped first.
                this.batched.clear();
                panic.resume()
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.batched.size_hint()
    }
}
