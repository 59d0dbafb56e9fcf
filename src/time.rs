//! Deadlines and sleeping: [`timeout()`], [`timeout_at()`], [`sleep()`],
//! [`sleep_until()`], and per-item timeouts for streams
//! ([`TimeoutStreamExt::timeout_each`]), on the timers of the clock seam
//! (`utils::clock`): async-io's, tokio's under tokio, or a virtual clock.
//!
//! The rules every type here follows are documented for users on
//! [`Timeout`] (this module is private, so its docs never render).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::{FusedFuture, FusedStream, Stream};
use pin_project_lite::pin_project;

use crate::utils::clock::{self, Clock, Instant, Timer};

/// The deadline half of [`Timeout`], [`Sleep`] and [`TimeoutEach`].
///
/// The timer is created by the first poll that has to wait for it, so a
/// future that is ready at once never builds, registers or drops one, and
/// the ready path of a relative deadline never reads the clock either.
/// Invariant: while the state is `At(at)` and the timer exists, the timer is
/// set to `at`.
struct Alarm {
    state: State,
    /// `ManuallyDrop` so that `Alarm` has no drop glue of its own: its
    /// `Drop` checks for a timer inline and drops one out of line. With the
    /// field's own glue (large with the `tokio` feature), the drop of every
    /// `Timeout` was a call, and the ready path of `timeout` cost 1.33x a
    /// hand-written lazy wrapper's instead of 1.00x (`paired_ready` in
    /// benches/time.rs). Never assigned over: only `insert` into `None`.
    timer: Option<ManuallyDrop<Timer>>,
}

impl Drop for Alarm {
    #[inline]
    fn drop(&mut self) {
        if let Some(timer) = self.timer.take() {
            drop_timer(ManuallyDrop::into_inner(timer));
        }
    }
}

#[cold]
#[inline(never)]
fn drop_timer(timer: Timer) {
    drop(timer);
}

#[derive(Clone, Copy, Debug)]
enum State {
    /// Relative deadline; the clock has not started.
    After(Duration),
    /// The deadline is this instant (the timer, once made, is set to it).
    At(Instant),
    /// The deadline has passed (the timer fired).
    Fired(Instant),
    /// No deadline.
    Never,
}

impl Alarm {
    /// A deadline `duration` after the first poll that needs it.
    #[inline]
    fn after(duration: Duration) -> Self {
        Self {
            state: State::After(duration),
            timer: None,
        }
    }

    /// A deadline `duration` from now (one clock read).
    #[inline]
    fn from_now(duration: Duration) -> Self {
        match clock::now().checked_add(duration) {
            Some(at) => Self::at(at),
            None => Self {
                state: State::Never,
                timer: None,
            },
        }
    }

    #[inline]
    fn at(deadline: Instant) -> Self {
        Self {
            state: State::At(deadline),
            timer: None,
        }
    }

    fn deadline(&self) -> Option<Instant> {
        match self.state {
            State::At(at) | State::Fired(at) => Some(at),
            State::After(_) | State::Never => None,
        }
    }

    fn set(&mut self, deadline: Option<Instant>) {
        match deadline {
            Some(at) => {
                self.state = State::At(at);
                // Re-registers at once with the last waker if the timer was
                // registered, so an earlier deadline still wakes the task.
                if let Some(timer) = &mut self.timer {
                    timer.set_at(at);
                }
            }
            None => {
                self.state = State::Never;
                if let Some(timer) = &mut self.timer {
                    timer.clear();
                }
            }
        }
    }

    /// Back to a relative deadline whose clock has not started.
    fn restart(&mut self, duration: Duration) {
        if let State::After(_) = self.state {
            return;
        }
        self.state = State::After(duration);
        if let Some(timer) = &mut self.timer {
            // Deregisters only if it was registered.
            timer.clear();
        }
    }

    /// Starts the clock if needed and polls the timer.
    #[inline(never)]
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let timer = match (self.state, &mut self.timer) {
            (State::Fired(_), _) => return Poll::Ready(()),
            (State::Never, _) => return Poll::Pending,
            (State::At(_), Some(timer)) => timer,
            // A timer stays on the clock it was armed on: its clock starts
            // the new deadline.
            (State::After(duration), Some(timer)) => match timer.now().checked_add(duration) {
                Some(at) => {
                    self.state = State::At(at);
                    timer.set_at(at);
                    timer
                }
                None => {
                    self.state = State::Never;
                    return Poll::Pending;
                }
            },
            // The first timer: the clock is looked up once, to read it and
            // to arm on it.
            (State::At(_) | State::After(_), None) => {
                let clock = Clock::current();
                let now = clock.now();
                let at = match self.state {
                    State::After(duration) => match now.checked_add(duration) {
                        Some(at) => at,
                        None => {
                            self.state = State::Never;
                            return Poll::Pending;
                        }
                    },
                    State::At(at) => at,
                    State::Fired(_) | State::Never => unreachable!("matched above"),
                };
                self.state = State::At(at);
                // A deadline that has passed fires without a timer (tokio's
                // timers, which round up to the next millisecond, would
                // make it wait for the next tick).
                if at <= now {
                    self.state = State::Fired(at);
                    return Poll::Ready(());
                }
                self.timer.insert(ManuallyDrop::new(clock.timer_at(at)))
            }
        };
        match timer.poll(cx) {
            Poll::Ready(()) => {
                if let State::At(at) = self.state {
                    self.state = State::Fired(at);
                }
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl fmt::Debug for Alarm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.state {
            State::After(duration) => write!(f, "after first poll + {duration:?}"),
            State::At(at) => write!(f, "at {at:?}"),
            State::Fired(at) => write!(f, "elapsed at {at:?}"),
            State::Never => f.write_str("never"),
        }
    }
}

/// The error of a [`Timeout`] (and the error items of [`TimeoutEach`]): the
/// deadline passed before the future completed.
///
/// It is the `TimeoutError` of `asyncio.timeout` / `asyncio.wait_for`, as a
/// plain value: nothing was thrown into the future. It implements
/// [`std::error::Error`] and converts into an [`std::io::Error`] of kind
/// [`TimedOut`](std::io::ErrorKind::TimedOut), so `?` works in functions
/// that return `io::Result`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// # smol::block_on(async {
/// async fn read_config() -> std::io::Result<String> {
///     let never = std::future::pending::<String>();
///     let text = aiokit::timeout(Duration::from_millis(1), never).await?;
///     Ok(text)
/// }
/// let error = read_config().await.unwrap_err();
/// assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
/// assert_eq!(error.to_string(), "deadline elapsed");
/// # });
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "time")))]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Elapsed(());

impl Elapsed {
    /// A new `Elapsed`, for code that reports its own timeouts the same way.
    ///
    /// # Examples
    ///
    /// ```
    /// let error = aiokit::Elapsed::new();
    /// assert_eq!(error.to_string(), "deadline elapsed");
    /// ```
    pub fn new() -> Self {
        Elapsed(())
    }
}

impl Default for Elapsed {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Elapsed")
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    /// An error of kind [`TimedOut`](std::io::ErrorKind::TimedOut) that
    /// wraps the `Elapsed`.
    fn from(elapsed: Elapsed) -> Self {
        std::io::Error::new(std::io::ErrorKind::TimedOut, elapsed)
    }
}

/// Awaits `future` for at most `duration`, like `asyncio.timeout(d)`,
/// `asyncio.wait_for(aw, d)` or `Promise.race([p, timer])`.
///
/// Resolves to `Ok(output)` if the future completes in time, and to
/// `Err(`[`Elapsed`]`)` once `duration` has passed while it is still pending.
///
/// **The clock starts at the first poll that finds the future pending**: the
/// first poll polls the future, and only if it is not ready reads the clock
/// and sets the deadline to that instant plus `duration`. Creating a
/// `Timeout` and awaiting it later does not eat into its time; and a future
/// that is ready on its first poll costs no clock read and no timer. (This
/// differs from [`sleep()`], whose deadline is fixed when it is made, like
/// `setTimeout`; the rules shared by every deadline are listed on
/// [`Timeout`].) For a deadline fixed at a given instant, use
/// [`timeout_at()`]. A `duration` so large that the deadline would overflow
/// [`Instant`] (such as [`Duration::MAX`]) means no deadline.
///
/// The future is polled before the timer on every poll, so a future that is
/// ready when the deadline passes wins. `timeout(Duration::ZERO, fut)` polls
/// `fut` once: `Ok` if it is ready, `Err(Elapsed)` if not. (asyncio's
/// `timeout(0)` fails even for a ready awaitable, and since Python 3.12
/// `wait_for` gives the deadline the win on a tie, dropping the result.)
///
/// Nested timeouts are independent: each wraps its own future. When an outer
/// and an inner timeout have the same deadline, the **inner** one reports it,
/// because the outer polls the inner first: the outer resolves to
/// `Ok(Err(Elapsed))`. (asyncio attributes that case to the outer scope.)
///
/// See the [`Timeout`] methods to read the deadline, move it while pending
/// ([`Timeout::reschedule`]) or take the future back
/// ([`Timeout::into_inner`]). The same future is available as a method:
/// [`TimeoutExt::timeout`].
///
/// # Timers
///
/// The timer runs on the clock of the runtime it is armed in (see the crate
/// docs' `# Timers`): tokio's own time driver inside a tokio runtime with the
/// `tokio` feature, a [`VirtualClock`](crate::clock::VirtualClock) under its
/// `run`, and async-io's timers everywhere else. With async-io, under
/// `smol::block_on` or `async_io::block_on` the blocking thread fires the
/// timer while it waits; under any other executor, async-io's helper thread
/// (named `async-io`, started on the first timer) fires it and wakes the
/// task. The clock is chosen at the first pending poll and the timer stays
/// on it; deadlines are compared with that clock's time, which
/// [`clock::now()`](crate::clock::now) reads.
///
/// A timer never fires early. How late it fires depends on the machine and
/// on the clock (tokio's rounds deadlines up to the next millisecond); the
/// figures measured under each executor are in the repository's
/// [BENCHMARKS.md](https://github.com/aiokit/aiokit/blob/main/BENCHMARKS.md#time).
/// The operating system's timer granularity applies (coarse on Windows).
///
/// # Cancellation
///
/// The future lives inside the `Timeout`: it is dropped when the `Timeout`
/// is dropped, which for `.await` is as soon as the result (`Ok` or `Err`)
/// is returned. Nothing is cancelled in place, so a future cannot swallow its
/// cancellation. Polled by reference instead (`(&mut t).await` on an `Unpin`
/// `Timeout`), the future survives an `Err(Elapsed)` and
/// [`into_inner`](Timeout::into_inner) gives it back to await further.
///
/// # Panics
///
/// A panic of the future propagates to the caller. Arming the timer panics
/// only inside a tokio runtime built without its time driver, with the
/// `tokio` feature (tokio's message names the fix: `enable_time`), or if
/// async-io cannot start its reactor (the OS refuses a poller or a thread).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use aiokit::Elapsed;
///
/// # smol::block_on(async {
/// let quick = async { 42 };
/// assert_eq!(aiokit::timeout(Duration::from_secs(1), quick).await, Ok(42));
///
/// let stuck = std::future::pending::<u8>();
/// assert_eq!(aiokit::timeout(Duration::from_millis(10), stuck).await, Err(Elapsed::new()));
///
/// // A ready future wins even against a zero duration.
/// assert_eq!(aiokit::timeout(Duration::ZERO, async { 7 }).await, Ok(7));
/// # });
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "time")))]
#[doc(alias = "wait_for")]
pub fn timeout<F>(duration: Duration, future: F) -> Timeout<F::IntoFuture>
where
    F: IntoFuture,
{
    Timeout {
        future: future.into_future(),
        alarm: Alarm::after(duration),
    }
}

/// Awaits `future` until the instant `deadline` at most, like
/// `asyncio.timeout_at(when)`.
///
/// Like [`timeout()`], but the deadline is absolute and known from the start
/// ([`Timeout::deadline`] returns it at once). A deadline that has already
/// passed still polls the future once: `Ok` if it is ready, `Err(Elapsed)`
/// if not. A far-future instant is a deadline that is never reached.
///
/// # Cancellation
///
/// As for [`timeout()`]: the future is dropped with the `Timeout`.
///
/// # Panics
///
/// A panic of the future propagates to the caller. Arming the timer panics
/// only as for [`timeout()`]: a tokio runtime without its time driver, or
/// async-io unable to start its reactor.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// # smol::block_on(async {
/// let deadline = Instant::now() + Duration::from_millis(50);
/// let first = aiokit::timeout_at(deadline, async { "first" }).await;
/// let second = aiokit::timeout_at(deadline, std::future::pending::<&str>()).await;
/// assert_eq!(first, Ok("first"));
/// assert!(second.is_err());
/// assert!(Instant::now() >= deadline);
/// # });
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "time")))]
pub fn timeout_at<F>(deadline: Instant, future: F) -> Timeout<F::IntoFuture>
where
    F: IntoFuture,
{
    Timeout {
        future: future.into_future(),
        alarm: Alarm::at(deadline),
    }
}

pin_project! {
    /// Future for the [`timeout()`] and [`timeout_at()`] functions and the
    /// [`TimeoutExt`] methods.
    ///
    /// Resolves to `Result<F::Output, Elapsed>`. See [`timeout()`] for the
    /// semantics of one call; the rules below hold for every deadline of
    /// aiokit ([`Timeout`], [`Sleep`], [`TimeoutEach`]):
    ///
    /// - **The inner future is polled before the timer, on every poll.** A
    ///   future that is ready when the deadline passes wins: you get its
    ///   output, never a timeout thrown over a finished result. An
    ///   already-expired deadline still polls the future once and returns
    ///   `Ok` if it is ready then.
    /// - **Nothing is paid on the ready path.** A `timeout` whose future
    ///   completes on its first poll never reads the clock and never creates
    ///   or registers a timer.
    /// - **When the clock starts.** The relative deadline of [`timeout()`]
    ///   (and of each item of [`TimeoutEach`]) starts counting at the first
    ///   poll that finds the future pending, not when the `Timeout` is
    ///   created: Rust futures are lazy, and so is this clock. [`sleep()`]
    ///   instead fixes its deadline when it is made, like `setTimeout`, so a
    ///   sleep made early and awaited late ends on time. Absolute deadlines
    ///   ([`timeout_at()`], [`sleep_until()`]) are what they say.
    /// - **Too large means never.** A `Duration` whose deadline would
    ///   overflow [`Instant`] (such as [`Duration::MAX`]) means "no
    ///   deadline": no timer is registered and the future is simply awaited.
    ///   A far-future `Instant` is registered as given, and is never reached.
    /// - **Any executor, the runtime's clock.** The timers are tokio's own
    ///   inside a tokio runtime (with the `tokio` feature), a virtual
    ///   clock's under [`VirtualClock::run`](crate::clock::VirtualClock::run),
    ///   async-io's elsewhere; see the `# Timers` section of [`timeout()`].
    ///   A timer stays on the clock it was first armed on, including through
    ///   [`reschedule`](Timeout::reschedule).
    ///
    /// # Cancellation
    ///
    /// Dropping a `Timeout` drops its future and deregisters its timer, if
    /// one was registered.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use aiokit::Timeout;
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// let t: Timeout<_> = async { 1 }.timeout(Duration::from_secs(1));
    /// assert_eq!(t.await, Ok(1));
    /// # });
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        alarm: Alarm,
    }
}

impl<F> Timeout<F> {
    /// The instant at which this timeout fires, if a timer is running.
    ///
    /// `None` means nothing can fire yet: either there is no deadline (an
    /// overflowing duration, or [`reschedule(None)`](Timeout::reschedule)),
    /// or the `Timeout` was made by [`timeout()`] and its clock has not
    /// started, because it was never polled or its future was ready on every
    /// poll. From [`timeout_at()`] or after a reschedule to an instant, it is
    /// that instant. It keeps its value after the deadline passes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::pin;
    /// use std::time::{Duration, Instant};
    ///
    /// # smol::block_on(async {
    /// let at = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(aiokit::timeout_at(at, async {}).deadline(), Some(at));
    ///
    /// // A relative timeout learns its deadline on its first pending poll.
    /// let mut t = pin!(aiokit::timeout(Duration::from_millis(10), std::future::pending::<()>()));
    /// assert_eq!(t.deadline(), None);
    /// assert_eq!(smol::future::poll_once(t.as_mut()).await, None);
    /// assert!(t.deadline().is_some());
    ///
    /// // No deadline at all.
    /// assert_eq!(aiokit::timeout(Duration::MAX, async {}).deadline(), None);
    /// # });
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.alarm.deadline()
    }

    /// Moves the deadline, like asyncio's `Timeout.reschedule(when)`:
    /// to `deadline`, or to no deadline at all with `None`.
    ///
    /// Works at any time. While the `Timeout` is pending, its timer is
    /// re-registered at once, so a deadline moved earlier (even into the
    /// past) wakes the task and the next poll reports it (after polling the
    /// future one more time). Before the first poll, it replaces a relative
    /// deadline that has not started. After an `Err(Elapsed)`, a later
    /// deadline lets the `Timeout` be polled again and wait until then.
    /// One exception: a `Timeout` that had no deadline at all when it was last
    /// polled (an overflowing duration, or `reschedule(None)` before its
    /// first pending poll) registered no timer, so no waker is known; a
    /// deadline set on it is watched from its next poll, which comes when
    /// the future wakes the task or the task polls it again.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::pin;
    /// use std::time::{Duration, Instant};
    ///
    /// # smol::block_on(async {
    /// let work = aiokit::sleep(Duration::from_millis(30));
    /// let mut t = pin!(aiokit::timeout(Duration::from_millis(5), work));
    /// // Give it more time before it runs out.
    /// t.as_mut().reschedule(Instant::now() + Duration::from_secs(5));
    /// assert_eq!(t.as_mut().await, Ok(()));
    ///
    /// let mut t = pin!(aiokit::timeout(Duration::from_secs(60), std::future::pending::<()>()));
    /// t.as_mut().reschedule(Instant::now()); // fire now
    /// assert!(t.as_mut().await.is_err());
    /// # });
    /// ```
    pub fn reschedule<D>(self: Pin<&mut Self>, deadline: D)
    where
        D: Into<Option<Instant>>,
    {
        self.project().alarm.set(deadline.into());
    }

    /// The future, borrowed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let t = aiokit::timeout(Duration::from_secs(1), std::future::ready(3));
    /// assert!(format!("{:?}", t.get_ref()).contains("Ready"));
    /// ```
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// The future, mutably borrowed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # smol::block_on(async {
    /// let mut t = aiokit::timeout(Duration::from_secs(1), std::future::ready(3));
    /// t.get_mut(); // any `&mut F` access
    /// assert_eq!(t.await, Ok(3));
    /// # });
    /// ```
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.future
    }

    /// The future, pinned.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::pin;
    /// use std::time::Duration;
    ///
    /// # smol::block_on(async {
    /// let mut t = pin!(aiokit::timeout(Duration::from_secs(1), async { 5 }));
    /// // Finish the future directly, without the deadline.
    /// assert_eq!(t.as_mut().get_pin_mut().await, 5);
    /// # });
    /// ```
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut F> {
        self.project().future
    }

    /// Gives the future back, dropping the deadline (and deregistering its
    /// timer).
    ///
    /// After an `Err(Elapsed)` the future is untouched: it can be awaited
    /// further, for instance after logging a warning.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # smol::block_on(async {
    /// let slow = Box::pin(async {
    ///     aiokit::sleep(Duration::from_millis(20)).await;
    ///     "done"
    /// });
    /// let mut t = aiokit::timeout(Duration::from_millis(1), slow);
    /// assert!((&mut t).await.is_err()); // too slow for the first deadline...
    /// assert_eq!(t.into_inner().await, "done"); // ...but not given up on
    /// # });
    /// ```
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        // The future first: a ready output always wins over the deadline,
        // and the ready path touches neither the clock nor the timer.
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match this.alarm.poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed::new())),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Terminated when the future is: after an `Err(Elapsed)` the future is
/// still there, and a poll polls it (then reports the deadline again).
impl<F: FusedFuture> FusedFuture for Timeout<F> {
    fn is_terminated(&self) -> bool {
        self.future.is_terminated()
    }
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("deadline", &self.alarm)
            .finish_non_exhaustive()
    }
}

/// Deadlines as methods on any future (anything [`IntoFuture`]):
/// `fut.timeout(d)` and `fut.timeout_at(instant)`.
///
/// The names are chosen so that this trait can be imported beside the
/// preludes of futures, futures-lite and futures-concurrency, none of which
/// has a `timeout` or `timeout_at` method.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use aiokit::prelude::*;
///
/// # smol::block_on(async {
/// assert_eq!(async { 1 }.timeout(Duration::from_secs(1)).await, Ok(1));
/// let deadline = Instant::now() + Duration::from_millis(5);
/// assert!(std::future::pending::<()>().timeout_at(deadline).await.is_err());
/// # });
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "time")))]
pub trait TimeoutExt: IntoFuture + Sized {
    /// Awaits `self` for at most `duration`: [`timeout(duration, self)`](timeout()).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// let page = async { "page" }.timeout(Duration::from_secs(10)).await;
    /// assert_eq!(page, Ok("page"));
    /// # });
    /// ```
    fn timeout(self, duration: Duration) -> Timeout<Self::IntoFuture> {
        timeout(duration, self)
    }

    /// Awaits `self` until `deadline` at most: [`timeout_at(deadline, self)`](timeout_at()).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// let deadline = Instant::now() + Duration::from_secs(10);
    /// assert_eq!(async { 2 }.timeout_at(deadline).await, Ok(2));
    /// # });
    /// ```
    fn timeout_at(self, deadline: Instant) -> Timeout<Self::IntoFuture> {
        timeout_at(deadline, self)
    }
}

impl<F: IntoFuture> TimeoutExt for F {}

/// Sleeps for `duration`, like `asyncio.sleep(d)` or a promise around
/// `setTimeout`.
///
/// **The deadline is fixed when the `Sleep` is made**: [`clock::now()`](crate::clock::now)` +
/// duration`, like JavaScript's `setTimeout`, `tokio::time::sleep` and
/// async-io's `Timer::after`. A sleep made, then awaited after other work,
/// ends `duration` after it was made (at once, if that has passed);
/// [`Sleep::deadline`] returns that instant from the start. (A [`timeout()`]
/// instead starts its clock at its first pending poll.)
/// `sleep(Duration::ZERO)` completes on its first poll without yielding to
/// the executor (asyncio's `sleep(0)` yields once: write a yield for that).
/// A duration that overflows [`Instant`] sleeps forever.
///
/// # Cancellation
///
/// Dropping the `Sleep` deregisters its timer.
///
/// # Panics
///
/// Only as for [`timeout()`]: inside a tokio runtime without its time driver
/// (with the `tokio` feature), or if async-io cannot start its reactor.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// # smol::block_on(async {
/// let start = Instant::now();
/// aiokit::sleep(Duration::from_millis(10)).await;
/// assert!(start.elapsed() >= Duration::from_millis(10));
///
/// // The clock runs from the call, as with `setTimeout`.
/// let nap = aiokit::sleep(Duration::from_millis(10));
/// let ends = nap.deadline().unwrap();
/// aiokit::sleep(Duration::from_millis(10)).await; // other work meanwhile
/// nap.await; // already due
/// assert!(Instant::now() >= ends);
/// # });
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "time")))]
#[doc(alias = "setTimeout")]
pub fn sleep(duration: Duration) -> Sleep {
    Sleep {
        alarm: Alarm::from_now(duration),
    }
}

/// Sleeps until the instant `deadline`; at once if it has passed.
///
/// Compute the deadline from [`clock::now()`](crate::clock::now), which follows the clock the
/// timers use (tokio's paused clock, a virtual clock).
///
/// # Cancellation
///
/// Dropping the `Sleep` deregisters its timer.
///
/// # Panics
///
/// Only as for [`timeout()`]: inside a tokio runtime without its time driver
/// (with the `tokio` feature), or if async-io cannot start its reactor.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// # smol::block_on(async {
/// let deadline = Instant::now() + Duration::from_millis(10);
/// aiokit::sleep_until(deadline).await;
/// assert!(Instant::now() >= deadline);
/// # });
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "time")))]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        alarm: Alarm::at(deadline),
    }
}

/// Future for the [`sleep()`] and [`sleep_until()`] functions.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use aiokit::Sleep;
///
/// # smol::block_on(async {
/// let nap: Sleep = aiokit::sleep(Duration::from_millis(1));
/// nap.await;
/// # });
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "time")))]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    alarm: Alarm,
}

impl Sleep {
    /// The instant at which the sleep ends, known from the start; `None` for
    /// a sleep without end (a duration that overflows [`Instant`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let at = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(aiokit::sleep_until(at).deadline(), Some(at));
    /// let before = Instant::now();
    /// let ends = aiokit::sleep(Duration::from_secs(1)).deadline().unwrap();
    /// assert!(ends >= before + Duration::from_secs(1));
    /// assert_eq!(aiokit::sleep(Duration::MAX).deadline(), None);
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.alarm.deadline()
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().alarm.poll(cx)
    }
}

impl FusedFuture for Sleep {
    fn is_terminated(&self) -> bool {
        matches!(self.alarm.state, State::Fired(_))
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.alarm)
            .finish_non_exhaustive()
    }
}

/// Per-item timeouts on any [`Stream`]: `stream.timeout_each(d)`.
///
/// Named so that it clashes neither with the `timeout` of tokio-stream's
/// `StreamExt` nor with the stream traits of futures, futures-lite and
/// futures-concurrency.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use aiokit::prelude::*;
///
/// # smol::block_on(async {
/// let items: Vec<_> = stream_iter([1, 2])
///     .timeout_each(Duration::from_secs(1))
///     .collect()
///     .await;
/// assert_eq!(items, [Ok(1), Ok(2)]);
/// # });
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "time")))]
pub trait TimeoutStreamExt: Stream + Sized {
    /// Gives each item at most `duration`; an item that takes longer yields
    /// an `Err(`[`Elapsed`]`)` item, and the stream goes on.
    ///
    /// The timer **restarts for every item**, and each item's clock starts
    /// at the first poll that finds the stream not ready, so time spent by
    /// the consumer between items is not counted. An item that is ready at
    /// once costs no clock read and no timer.
    ///
    /// After an `Err(Elapsed)` item, the next poll waits for the same
    /// underlying item again, with a fresh `duration`: a stuck stream yields
    /// `Err(Elapsed)` every `duration` for as long as it is polled. To stop at
    /// the first timeout, stop polling (for instance with
    /// `take_while(Result::is_ok)`); to treat it as an error, use
    /// `try_next` / `?`. The stream ends when the inner stream ends.
    ///
    /// Works on any stream, [`as_completed()`](crate::as_completed) included.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use aiokit::Elapsed;
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// let calls = aiokit::as_completed([10, 500, 20].map(|ms| async move {
    ///     aiokit::sleep(Duration::from_millis(ms)).await;
    ///     ms
    /// }));
    /// let mut each = calls.timeout_each(Duration::from_millis(100));
    /// assert_eq!(each.next().await, Some(Ok((0, 10))));
    /// assert_eq!(each.next().await, Some(Ok((2, 20))));
    /// // Call 1 needs 500 ms: the next 100 ms go by without an item.
    /// assert_eq!(each.next().await, Some(Err(Elapsed::new())));
    /// # });
    /// ```
    fn timeout_each(self, duration: Duration) -> TimeoutEach<Self> {
        TimeoutEach {
            stream: self,
            duration,
            alarm: Alarm::after(duration),
        }
    }
}

impl<S: Stream> TimeoutStreamExt for S {}

pin_project! {
    /// Stream for the [`TimeoutStreamExt::timeout_each`] method.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use aiokit::TimeoutEach;
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// let mut s: TimeoutEach<_> = smol::stream::pending::<u8>()
    ///     .timeout_each(Duration::from_millis(1));
    /// assert!(s.next().await.unwrap().is_err());
    /// # });
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
    #[must_use = "streams do nothing unless polled"]
    pub struct TimeoutEach<S> {
        #[pin]
        stream: S,
        duration: Duration,
        alarm: Alarm,
    }
}

impl<S> TimeoutEach<S> {
    /// Gives the stream back, dropping the timer.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// let s = stream_iter([1]).timeout_each(Duration::from_secs(1));
    /// assert_eq!(s.into_inner().next().await, Some(1));
    /// # });
    /// ```
    pub fn into_inner(self) -> S {
        self.stream
    }
}

impl<S: Stream> Stream for TimeoutEach<S> {
    type Item = Result<S::Item, Elapsed>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        if let Poll::Ready(item) = this.stream.poll_next(cx) {
            this.alarm.restart(*this.duration);
            return Poll::Ready(item.map(Ok));
        }
        match this.alarm.poll(cx) {
            Poll::Ready(()) => {
                this.alarm.restart(*this.duration);
                Poll::Ready(Some(Err(Elapsed::new())))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // Timeouts may add items; they never remove any.
        (self.stream.size_hint().0, None)
    }
}

impl<S: FusedStream> FusedStream for TimeoutEach<S> {
    fn is_terminated(&self) -> bool {
        self.stream.is_terminated()
    }
}

impl<S> fmt::Debug for TimeoutEach<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimeoutEach")
            .field("duration", &self.duration)
            .field("deadline", &self.alarm)
            .finish_non_exhaustive()
    }
}
