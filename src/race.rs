//! The first to finish: [`race()`] and [`race_ok()`].

use std::cell::Cell;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::ops::ControlFlow;

use crate::utils::engine::{ChildResult, Step};
use crate::utils::outputs::Outputs;
use crate::utils::set::set_future;
use crate::utils::set::{Set, Sink};
use crate::utils::source::{Iter, Peeked};
use crate::{Panic, ResultOutput};

mod tuple;
pub use tuple::*;

type Out<I> = <<I as Iterator>::Item as IntoFuture>::Output;

thread_local! {
    /// The rotation source: every race, of any form, takes the next ticket of
    /// the thread that creates it, and polls child `ticket % n` first. One
    /// counter per thread: no cache line shared by every race in the process.
    static TICKETS: Cell<usize> = const { Cell::new(0) };
}

fn ticket() -> usize {
    TICKETS.with(|tickets| {
        let ticket = tickets.get();
        tickets.set(ticket.wrapping_add(1));
        ticket
    })
}

/// Runs all `futures` concurrently and resolves to the output of the first one
/// to complete, dropping all the others at once, like `Promise.race` or
/// `asyncio.wait(aws, return_when=FIRST_COMPLETED)`.
///
/// The children are polled inside the task that awaits the `Race`; nothing is
/// spawned. The first child to complete wins, whatever its output: for
/// `Result` outputs an `Err` wins just like an `Ok` (as a rejection settles
/// `Promise.race`); use [`race_ok()`] to wait for the first `Ok` instead.
/// Only the winner's output is returned, not its index; map the children to
/// `(index, output)` if you need to know who won.
///
/// `Promise.race` and `asyncio.wait` leave the losers running (asyncio hands
/// them back in its `pending` set); here they are dropped, that is cancelled,
/// before the `Race` returns the winner's output. Children need not be
/// `Unpin`.
///
/// After a child wakes, the next poll of the `Race` polls only the children
/// that were woken, so a wake costs the same whether there are ten children or
/// a million.
///
/// # Fairness
///
/// No child is favoured for long, and no random number generator is used.
/// Every race (`race`, [`race_ok()`], and the [`RaceExt`] methods) takes a
/// ticket `t` from a counter of the thread that creates it. With `n`
/// children, its first poll visits child `t % n` first, then the next ones in
/// input order, wrapping around to child 0; the first child found ready
/// wins. Later polls visit only the children woken since, in the order their
/// wakes arrived, so the first child to be woken ready wins. So when races
/// over the same `n` always-ready children are
/// created in a loop on one thread, with no other race created there in
/// between, each child wins exactly one race in `n`.
///
/// # Cancellation
///
/// Dropping the `Race` drops every child, in input order. When a child wins,
/// every other child is dropped the same way before its output is returned.
/// A loser is dropped at whatever `.await` it was waiting on: work it had
/// half done (bytes read, an item taken from a queue) is lost with it.
///
/// # Panics
///
/// At once, at the call, if `futures` is empty: an empty race could never
/// finish (`Promise.race([])` stays pending forever). To check, `race` reads
/// the iterator's size hint and, only when the hint cannot tell (a lower
/// bound of 0), pulls the first input; the rest are pulled on the first
/// poll.
///
/// If a child panics before any child has completed, the panic ends the race:
/// every other child is dropped first, then the panic resumes in the task
/// awaiting the `Race`.
///
/// # Examples
///
/// ```
/// use smol::future::yield_now;
///
/// # smol::block_on(async {
/// // Child `i` takes `3 - i` steps: the last one finishes first.
/// let winner = aiokit::race((0..3).map(|i| async move {
///     for _ in 0..(3 - i) {
///         yield_now().await;
///     }
///     i
/// }))
/// .await;
/// assert_eq!(winner, 2);
///
/// // A child that never finishes is dropped when another one wins.
/// let first = aiokit::race([
///     Box::pin(std::future::pending()) as std::pin::Pin<Box<dyn Future<Output = &str>>>,
///     Box::pin(async { "done" }),
/// ])
/// .await;
/// assert_eq!(first, "done");
/// # });
/// ```
#[doc(alias = "select")]
#[doc(alias = "select_all")]
#[doc(alias = "FIRST_COMPLETED")]
#[track_caller]
pub fn race<I>(futures: I) -> Race<I::IntoIter>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    Race::new(futures.into_iter(), "aiokit::race")
}

/// Keeps the first completion and stops the set.
struct FirstSink<T> {
    first: Option<ChildResult<T>>,
}

impl<T> Sink<T> for FirstSink<T> {
    type Output = T;

    #[inline]
    fn complete(&mut self, _: usize, result: ChildResult<T>) -> Step {
        self.first = Some(result);
        Step::Break
    }

    fn finish(&mut self, _: ControlFlow<()>) -> T {
        match self.first.take() {
            Some(Ok(value)) => value,
            Some(Err(panic)) => panic.resume(),
            None => unreachable!("a race has at least one child"),
        }
    }
}

set_future! {
    /// Future for the [`race()`] function.
    Race: Peeked, FirstSink, Out<I>;
}

impl<I> Race<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    /// `name` is the public function or method, for the panic message.
    #[track_caller]
    pub(crate) fn new(iter: I, name: &str) -> Self {
        let Some(source) = Peeked::new(iter) else {
            panic!(
                "{name}: no futures to race; an empty race could never finish \
                 (`Promise.race([])` would stay pending forever)"
            );
        };
        let mut set = Set::new(source, FirstSink { first: None }, "Race");
        set.engine.set_start(ticket());
        set.engine.keep_wake_order();
        Self { set }
    }
}

/// Runs all `futures` concurrently and resolves to the first `Ok`, dropping
/// all the others at once; if every one fails, resolves to [`AllFailed`]
/// holding **every** error in input order. Like `Promise.any`.
///
/// A child that returns `Err` is dropped and its error kept; the others go
/// on. The first `Ok` in completion order wins. Only when all have failed does
/// the `RaceOk` resolve, to `Err(AllFailed)` with the errors in input order
/// whatever order they arrived in (as `AggregateError.errors` does). Empty
/// input resolves at once to `Err` with no errors, as `Promise.any([])`
/// rejects at once.
///
/// `Promise.any` leaves the other promises running after the first
/// fulfilment; here they are dropped (cancelled). Children need not be
/// `Unpin`, and after a wake only the woken children are polled, as in
/// [`race()`]. The first poll visits the children in the rotated order
/// described under [`race()`]'s Fairness.
///
/// # Cancellation
///
/// Dropping the `RaceOk` drops every child that has not completed, in input
/// order, and the errors collected so far. When a child returns `Ok`, every
/// other child is dropped the same way before the value is returned.
///
/// # Panics
///
/// If a child panics before an `Ok` arrives, every other child is dropped
/// first, then the panic resumes in the task awaiting the `RaceOk`.
///
/// # Examples
///
/// ```
/// use smol::future::yield_now;
///
/// # smol::block_on(async {
/// // Mirrors: the first two fail, the third answers after a while.
/// let fetched = aiokit::race_ok((0..3).map(|i| async move {
///     yield_now().await;
///     if i < 2 { Err(format!("mirror {i} is down")) } else { Ok("page") }
/// }))
/// .await;
/// assert_eq!(fetched, Ok("page"));
///
/// // All fail: every error, in input order.
/// let failed = aiokit::race_ok([1, 2, 3].map(|i| async move { Err::<(), _>(i) })).await;
/// assert_eq!(failed.unwrap_err().into_errors(), [1, 2, 3]);
///
/// // Nothing to try: at once, with no errors.
/// let none = aiokit::race_ok(Vec::<std::future::Ready<Result<u8, ()>>>::new()).await;
/// assert!(none.unwrap_err().errors().is_empty());
/// # });
/// ```
#[doc(alias = "any")]
#[doc(alias = "select_ok")]
pub fn race_ok<I>(futures: I) -> RaceOk<I::IntoIter>
where
    I: IntoIterator,
    I::Item: IntoFuture,
    <I::Item as IntoFuture>::Output: ResultOutput,
{
    RaceOk::new(futures.into_iter())
}

/// Keeps the errors by index until the first `Ok`, which stops the set.
/// Generic over the whole output, so that `RaceOk` needs no `Result` bound to
/// be named; the outputs it stores are always `Err`.
struct FirstOkSink<O> {
    errors: Outputs<O>,
    winner: Option<O>,
    panic: Option<Panic>,
}

impl<O: ResultOutput> Sink<O> for FirstOkSink<O> {
    type Output = Result<O::Ok, AllFailed<O::Err>>;

    #[inline]
    fn complete(&mut self, index: usize, result: ChildResult<O>) -> Step {
        match result {
            Ok(output) if output.is_ok() => self.winner = Some(output),
            Ok(error) => {
                self.errors.store(index, error);
                return Step::Continue;
            }
            Err(panic) => self.panic = Some(panic),
        }
        Step::Break
    }

    fn finish(&mut self, _: ControlFlow<()>) -> Self::Output {
        if let Some(panic) = self.panic.take() {
            self.errors = Outputs::new();
            panic.resume();
        }
        if let Some(Ok(value)) = self.winner.take().map(ResultOutput::into_result) {
            self.errors = Outputs::new();
            return Ok(value);
        }
        // Every child failed: every index is filled.
        let errors = self.errors.take().into_iter();
        Err(AllFailed {
            errors: errors.filter_map(|e| e.into_result().err()).collect(),
        })
    }
}

type OkOf<I> = <Out<I> as ResultOutput>::Ok;
type ErrOf<I> = <Out<I> as ResultOutput>::Err;

set_future! {
    /// Future for the [`race_ok()`] function.
    RaceOk: Iter, FirstOkSink, Result<OkOf<I>, AllFailed<ErrOf<I>>>, where Out<I>: ResultOutput;
}

impl<I> RaceOk<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    pub(crate) fn new(iter: I) -> Self {
        let sink = FirstOkSink {
            errors: Outputs::new(),
            winner: None,
            panic: None,
        };
        let mut set = Set::new(Iter::new(iter), sink, "RaceOk");
        set.engine.set_start(ticket());
        set.engine.keep_wake_order();
        Self { set }
    }
}

/// The error of [`race_ok()`] (and [`RaceExt::first_ok`]) when no child
/// succeeded: every child's error, in input order, like JavaScript's
/// `AggregateError.errors`.
///
/// It is empty when there were no children. `Display` gives the count;
/// [`source`](std::error::Error::source) is the first error. Two accessors
/// reach the errors: [`errors`](AllFailed::errors) borrows them as a slice
/// (`len`, `is_empty` and `iter` are the slice's), and
/// [`into_errors`](AllFailed::into_errors) takes them.
///
/// # Examples
///
/// ```
/// # smol::block_on(async {
/// let failed = aiokit::race_ok(
///     ["dns", "tls"].map(|m| async move { Err::<(), _>(std::io::Error::other(m)) }),
/// )
/// .await
/// .unwrap_err();
///
/// assert_eq!(failed.to_string(), "all 2 futures failed");
/// let messages: Vec<String> = failed.errors().iter().map(|e| e.to_string()).collect();
/// assert_eq!(messages, ["dns", "tls"]);
/// let source = std::error::Error::source(&failed).unwrap();
/// assert_eq!(source.to_string(), "dns");
/// # });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllFailed<E> {
    errors: Vec<E>,
}

impl<E> AllFailed<E> {
    /// The errors, in input order (empty when there were no children).
    ///
    /// # Examples
    ///
    /// ```
    /// # smol::block_on(async {
    /// let failed = aiokit::race_ok([async { Err::<(), _>('a') }]).await.unwrap_err();
    /// assert_eq!(failed.errors(), ['a']);
    /// let none: Vec<std::future::Ready<Result<(), ()>>> = Vec::new();
    /// assert!(aiokit::race_ok(none).await.unwrap_err().errors().is_empty());
    /// # });
    /// ```
    pub fn errors(&self) -> &[E] {
        &self.errors
    }

    /// The errors, in input order, by value.
    ///
    /// # Examples
    ///
    /// ```
    /// # smol::block_on(async {
    /// let failed = aiokit::race_ok([async { Err::<(), _>(String::from("x")) }]).await;
    /// assert_eq!(failed.unwrap_err().into_errors(), ["x"]);
    /// # });
    /// ```
    pub fn into_errors(self) -> Vec<E> {
        self.errors
    }
}

impl<E> fmt::Display for AllFailed<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errors.len() {
            0 => f.write_str("no futures to race, so none succeeded"),
            1 => f.write_str("the only future failed"),
            n => write!(f, "all {n} futures failed"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for AllFailed<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.errors
            .first()
            .map(|error| error as &(dyn std::error::Error + 'static))
    }
}
