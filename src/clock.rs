//! The clock behind aiokit's timers, and a virtual clock for tests.
//!
//! aiokit's timers run on the clock of the runtime they are armed in:
//! tokio's own inside a tokio runtime (with the `tokio` feature), async-io's
//! elsewhere. [`now()`] reads that clock.
//!
//! For tests, a [`VirtualClock`] makes every aiokit timer under its
//! [`run()`](VirtualClock::run) wait for virtual time, which jumps to the
//! next deadline whenever the code under test is idle: a timeout of half an
//! hour, an exponential backoff or a rate limit over a hundred pages finish
//! at once, with the same outcome on every run, on any executor. (Under
//! tokio with the `tokio` feature, tokio's own paused clock,
//! `start_paused(true)`, drives aiokit's timers too.)
//!
//! ```
//! use std::time::Duration;
//! use aiokit::clock::{self, VirtualClock};
//!
//! async fn poll_status(attempts: u32) -> Duration {
//!     let start = clock::now();
//!     for _ in 0..attempts {
//!         aiokit::sleep(Duration::from_secs(30)).await; // waits for the clock
//!     }
//!     clock::now() - start
//! }
//!
//! let test_clock = VirtualClock::new();
//! let waited = smol::block_on(test_clock.run(poll_status(120)));
//! assert_eq!(waited, Duration::from_secs(3600)); // in no real time
//! ```

use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use crate::utils::clock::{self as seam, VirtualCore};

/// The instant type of aiokit's deadlines ([`timeout_at()`],
/// [`sleep_until()`], [`Timeout::reschedule`], [`now()`], [`VirtualClock`]):
/// [`std::time::Instant`] itself, except on `wasm32-unknown-unknown`
/// (browsers, node, workers), where std's `Instant::now()` panics and this is
/// web-time's `Instant`, which reads the host's `performance.now()`. Code
/// meant for both names it `aiokit::clock::Instant`.
///
/// [`timeout_at()`]: crate::timeout_at
/// [`sleep_until()`]: crate::sleep_until
/// [`Timeout::reschedule`]: crate::Timeout::reschedule
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub use std::time::Instant;
/// The instant type of aiokit's deadlines: on `wasm32-unknown-unknown`,
/// web-time's `Instant`, which reads the host's `performance.now()` (std's
/// `Instant::now()` panics there); [`std::time::Instant`] elsewhere.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
pub use web_time::Instant;

/// The current time on the clock that aiokit's timers use here: the time
/// source to read when you compute deadlines for [`timeout_at()`],
/// [`sleep_until()`] or [`Timeout::reschedule`].
///
/// - Inside a future run by [`VirtualClock::run`], the virtual clock's time.
/// - With the `tokio` feature, inside a tokio runtime: tokio's
///   `Instant::now()`, which follows tokio's paused clock
///   (`start_paused`, `tokio::time::advance`) in tests.
/// - Anywhere else, [`Instant::now()`](std::time::Instant::now).
///
/// A virtual clock does not change what `std::time::Instant::now()` returns:
/// code under a virtual clock that measures time should read this function.
///
/// [`timeout_at()`]: crate::timeout_at
/// [`sleep_until()`]: crate::sleep_until
/// [`Timeout::reschedule`]: crate::Timeout::reschedule
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use aiokit::clock::{self, VirtualClock};
///
/// let virtual_clock = VirtualClock::new();
/// let waited = smol::block_on(virtual_clock.run(async {
///     let start = clock::now();
///     aiokit::sleep(Duration::from_secs(3600)).await; // no real wait
///     clock::now() - start
/// }));
/// assert_eq!(waited, Duration::from_secs(3600));
/// ```
pub fn now() -> Instant {
    seam::now()
}

/// A clock that moves only when told to, so that tests of time-dependent
/// code (timeouts, retry backoff, rate limits, sleeps) finish at once and
/// come out the same on every run, on any executor.
///
/// Futures run by [`run()`](Self::run) see this clock: every aiokit timer
/// armed while they are polled ([`sleep()`], [`timeout()`], deadlines of
/// [`timeout_each`], `paginate`'s retry backoff and
/// `min_interval`) waits for virtual time, and [`now()`] reads it. Time
/// moves in two ways:
///
/// - **By itself** ([`VirtualClock::new`]): when the future run by `run()`
///   is waiting and nothing has woken it, it lets the executor run its other
///   ready tasks once, and if it is still idle then, the clock jumps to the
///   earliest deadline of its armed timers and fires the timers due then. A
///   future that has been woken (a child made progress) is polled again
///   first: time never moves while it has work to do.
/// - **By hand** ([`advance()`](Self::advance), [`advance_to()`](Self::advance_to)),
///   on either kind of clock; a [`VirtualClock::manual`] moves only so.
///
/// The virtual time starts at the real [`Instant`] taken when the clock is
/// made, so its instants are ordinary `Instant`s.
///
/// # What it does not cover
///
/// - `std::time::Instant::now()` and `SystemTime::now()` in your code read
///   real time: read [`now()`] instead.
/// - Timers of other libraries (`tokio::time`, `async_io::Timer`,
///   `futures-timer`) keep their own clocks.
/// - Work on other tasks and threads is seen only as far as one turn of the
///   executor goes: a task that needs a real wait (a socket, another thread)
///   before it wakes the future under `run()` does not hold the clock.
///   [`to_thread()`] calls made under `run()` are the exception: the clock
///   does not jump while one runs. Test such code with a
///   [`manual`](Self::manual) clock and `advance`.
/// - A timer belongs to the clock it was armed on: one armed under `run()`
///   stays on the virtual clock if it is later polled elsewhere, and one
///   armed outside (on the real clock) stays real inside `run()`.
///
/// [`sleep()`]: crate::sleep
/// [`timeout()`]: crate::timeout
/// [`timeout_each`]: crate::TimeoutStreamExt::timeout_each
/// [`to_thread()`]: crate::to_thread
///
/// # Examples
///
/// A timeout that fires after 30 virtual minutes, in no real time:
///
/// ```
/// use std::time::Duration;
/// use aiokit::clock::VirtualClock;
///
/// let clock = VirtualClock::new();
/// let never = std::future::pending::<()>();
/// let outcome = smol::block_on(clock.run(aiokit::timeout(Duration::from_secs(1800), never)));
/// assert!(outcome.is_err());
/// assert_eq!(clock.elapsed(), Duration::from_secs(1800));
/// ```
#[derive(Clone)]
pub struct VirtualClock {
    core: Arc<VirtualCore>,
    auto_advance: bool,
}

impl VirtualClock {
    /// A virtual clock that jumps by itself to the next deadline whenever
    /// the future under [`run()`](Self::run) is waiting with nothing to do.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use aiokit::clock::VirtualClock;
    ///
    /// let clock = VirtualClock::new();
    /// smol::block_on(clock.run(async {
    ///     for _ in 0..60 {
    ///         aiokit::sleep(Duration::from_secs(60)).await;
    ///     }
    /// }));
    /// assert_eq!(clock.elapsed(), Duration::from_secs(3600));
    /// ```
    pub fn new() -> Self {
        Self {
            core: Arc::new(VirtualCore::new()),
            auto_advance: true,
        }
    }

    /// A virtual clock that moves only by [`advance()`](Self::advance) and
    /// [`advance_to()`](Self::advance_to).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::Future;
    /// use std::pin::pin;
    /// use std::task::{Context, Poll, Waker};
    /// use std::time::Duration;
    /// use aiokit::clock::VirtualClock;
    ///
    /// let clock = VirtualClock::manual();
    /// // The sleep is made inside, so its deadline is on the virtual clock.
    /// let mut nap = pin!(clock.run(async { aiokit::sleep(Duration::from_secs(10)).await }));
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(nap.as_mut().poll(&mut cx).is_pending());
    /// clock.advance(Duration::from_secs(9));
    /// assert!(nap.as_mut().poll(&mut cx).is_pending());
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(nap.as_mut().poll(&mut cx), Poll::Ready(()));
    /// ```
    pub fn manual() -> Self {
        Self {
            core: Arc::new(VirtualCore::new()),
            auto_advance: false,
        }
    }

    /// Runs `future` on this clock: aiokit's timers armed while it is polled
    /// wait for virtual time, and [`now()`] reads it. Await the returned
    /// future on any executor.
    ///
    /// With a clock from [`new()`](Self::new), each poll that leaves the
    /// future waiting, without a wake that came in meanwhile, moves the clock
    /// to the next deadline (see [`VirtualClock`]). Several `run`s may share
    /// one clock (clones are the same clock).
    ///
    /// Make timers inside the future: a [`sleep()`](crate::sleep) fixes its
    /// deadline when it is made, so the one in `clock.run(sleep(d))` counts
    /// from real time; `clock.run(async { sleep(d).await })` counts on the
    /// virtual clock. (A [`timeout()`](crate::timeout) starts its clock at
    /// its first pending poll, so `clock.run(timeout(d, f))` is virtual.)
    ///
    /// # Cancellation
    ///
    /// Dropping the returned future drops `future`, and with it its timers.
    ///
    /// # Panics
    ///
    /// A panic of `future` propagates; the thread's previous clock is
    /// restored first.
    ///
    /// # Examples
    ///
    /// A paced paginator over 100 pages, one request per virtual second:
    ///
    /// ```
    /// use std::time::Duration;
    /// use aiokit::prelude::*;
    /// use aiokit::{Page, clock::VirtualClock};
    ///
    /// let clock = VirtualClock::new();
    /// let pages = smol::block_on(clock.run(async {
    ///     aiokit::paginate(0u32, |n| async move {
    ///         Ok::<_, ()>(if n < 99 { Page::next([n], n + 1) } else { Page::last([n]) })
    ///     })
    ///     .min_interval(Duration::from_secs(1))
    ///     .try_collect::<Vec<u32>>()
    ///     .await
    /// }));
    /// assert_eq!(pages.unwrap().len(), 100);
    /// assert_eq!(clock.elapsed(), Duration::from_secs(99));
    /// ```
    pub fn run<F: IntoFuture>(&self, future: F) -> Run<F::IntoFuture> {
        Run {
            future: future.into_future(),
            clock: self.clone(),
            wake: None,
            yielded: false,
        }
    }

    /// Makes this the clock of every aiokit timer made or armed on this
    /// thread, and of [`now()`], until the guard drops; it moves only as
    /// [`run()`](Self::run) or [`advance()`](Self::advance) move it.
    ///
    /// For tests that poll by hand: a [`sleep()`](crate::sleep) fixes its
    /// deadline when it is made, so one made outside `run()` (as in
    /// `clock.run(sleep(d))`) counts from real time. Guards must drop in the
    /// reverse order of their making, on the thread that made them.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::Future;
    /// use std::pin::pin;
    /// use std::task::{Context, Poll, Waker};
    /// use std::time::Duration;
    /// use aiokit::clock::{self, VirtualClock};
    ///
    /// let clock = VirtualClock::manual();
    /// let _entered = clock.enter();
    /// assert_eq!(clock::now(), clock.now());
    /// let mut nap = pin!(aiokit::sleep(Duration::from_secs(10)));
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(nap.as_mut().poll(&mut cx).is_pending());
    /// clock.advance(Duration::from_secs(10));
    /// assert_eq!(nap.as_mut().poll(&mut cx), Poll::Ready(()));
    /// ```
    pub fn enter(&self) -> EnterGuard {
        EnterGuard {
            _entered: seam::enter(&self.core),
            _not_send: PhantomData,
        }
    }

    /// The clock's current time.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use aiokit::clock::VirtualClock;
    ///
    /// let clock = VirtualClock::manual();
    /// let start = clock.now();
    /// clock.advance(Duration::from_secs(5));
    /// assert_eq!(clock.now() - start, Duration::from_secs(5));
    /// ```
    pub fn now(&self) -> Instant {
        self.core.now()
    }

    /// How far the clock has moved since it was made.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use aiokit::clock::VirtualClock;
    ///
    /// let clock = VirtualClock::manual();
    /// assert_eq!(clock.elapsed(), Duration::ZERO);
    /// clock.advance(Duration::from_millis(1500));
    /// assert_eq!(clock.elapsed(), Duration::from_millis(1500));
    /// ```
    pub fn elapsed(&self) -> Duration {
        self.core.now() - self.core_origin()
    }

    fn core_origin(&self) -> Instant {
        self.core.origin()
    }

    /// Moves the clock forward by `duration` and wakes every timer due by
    /// then. Returns how many timers fired.
    ///
    /// Timers fire when their task is polled next; several timers due at
    /// once fire in one step, so the tasks see the same `now()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use aiokit::clock::VirtualClock;
    ///
    /// let clock = VirtualClock::manual();
    /// assert_eq!(clock.advance(Duration::from_secs(1)), 0); // nothing armed
    /// ```
    pub fn advance(&self, duration: Duration) -> usize {
        let to = self.core.now().checked_add(duration);
        // A jump past what `Instant` can hold is a jump to the last deadline.
        self.core
            .advance_to(to.unwrap_or_else(|| self.last_instant()))
    }

    fn last_instant(&self) -> Instant {
        self.core.last_deadline().unwrap_or_else(|| self.core.now())
    }

    /// Moves the clock to `instant` (if it is later than now) and wakes
    /// every timer due by then. Returns how many timers fired.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use aiokit::clock::VirtualClock;
    ///
    /// let clock = VirtualClock::manual();
    /// let later = clock.now() + Duration::from_secs(60);
    /// clock.advance_to(later);
    /// assert_eq!(clock.now(), later);
    /// clock.advance_to(later - Duration::from_secs(1)); // never backwards
    /// assert_eq!(clock.now(), later);
    /// ```
    pub fn advance_to(&self, instant: Instant) -> usize {
        self.core.advance_to(instant)
    }

    /// The earliest deadline among the timers waiting on this clock.
    ///
    /// A timer waits from its first pending poll until it fires or drops.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::Future;
    /// use std::pin::pin;
    /// use std::task::{Context, Waker};
    /// use std::time::Duration;
    /// use aiokit::clock::VirtualClock;
    ///
    /// let clock = VirtualClock::manual();
    /// assert_eq!(clock.next_deadline(), None);
    /// let mut nap = pin!(clock.run(async { aiokit::sleep(Duration::from_secs(2)).await }));
    /// let _ = nap.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    /// assert_eq!(clock.next_deadline(), Some(clock.now() + Duration::from_secs(2)));
    /// ```
    pub fn next_deadline(&self) -> Option<Instant> {
        self.core.next_deadline()
    }

    /// How many timers are waiting on this clock.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::clock::VirtualClock;
    ///
    /// assert_eq!(VirtualClock::manual().timers(), 0);
    /// ```
    pub fn timers(&self) -> usize {
        self.core.armed()
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for VirtualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VirtualClock")
            .field("elapsed", &self.elapsed())
            .field("timers", &self.timers())
            .field("auto_advance", &self.auto_advance)
            .finish()
    }
}

/// Guard for the [`VirtualClock::enter`] method: the thread is back on its
/// previous clock when it drops.
///
/// # Examples
///
/// ```
/// use aiokit::clock::{EnterGuard, VirtualClock};
///
/// let clock = VirtualClock::manual();
/// let guard: EnterGuard = clock.enter();
/// drop(guard);
/// ```
#[must_use = "the clock is current only while the guard lives"]
pub struct EnterGuard {
    _entered: seam::EnterGuard,
    // Restores a thread-local: it must drop on the thread that made it.
    _not_send: PhantomData<*const ()>,
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnterGuard")
    }
}

pin_project! {
    /// Future for the [`VirtualClock::run`] method.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use aiokit::clock::{Run, VirtualClock};
    ///
    /// let clock = VirtualClock::new();
    /// let nap: Run<aiokit::Sleep> = clock.run(aiokit::sleep(Duration::from_secs(1)));
    /// smol::block_on(nap);
    /// ```
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Run<F> {
        #[pin]
        future: F,
        clock: VirtualClock,
        // The waker the future is polled with: it notes a wake and passes
        // it on to the task's waker (made at the first poll that
        // auto-advances).
        wake: Option<Arc<NoteWake>>,
        // The last poll found the future idle and gave the executor a turn.
        yielded: bool,
    }
}

impl<F> Run<F> {
    /// Gives the future back. Timers it armed under the virtual clock stay
    /// on that clock.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::clock::VirtualClock;
    ///
    /// let run = VirtualClock::new().run(async { 3 });
    /// assert_eq!(smol::block_on(run.into_inner()), 3);
    /// ```
    pub fn into_inner(self) -> F {
        self.future
    }

    /// The future, pinned (to reach its own methods, such as
    /// [`Timeout::reschedule`](crate::Timeout::reschedule)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::pin;
    /// use std::time::Duration;
    /// use aiokit::clock::VirtualClock;
    ///
    /// let clock = VirtualClock::new();
    /// let mut t = pin!(clock.run(aiokit::timeout(Duration::from_secs(60), std::future::pending::<()>())));
    /// let soon = clock.now() + Duration::from_secs(1);
    /// t.as_mut().get_pin_mut().reschedule(soon);
    /// assert!(smol::block_on(t).is_err());
    /// assert_eq!(clock.elapsed(), Duration::from_secs(1));
    /// ```
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut F> {
        self.project().future
    }
}

/// Notes that the future was woken, and wakes the task.
struct NoteWake {
    woken: AtomicBool,
    task: Mutex<Waker>,
}

impl Wake for NoteWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .wake_by_ref();
    }
}

impl<F: Future> Future for Run<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        let _entered = seam::enter(&this.clock.core);
        if !this.clock.auto_advance {
            return this.future.poll(cx);
        }
        let note = this.wake.get_or_insert_with(|| {
            Arc::new(NoteWake {
                woken: AtomicBool::new(false),
                task: Mutex::new(cx.waker().clone()),
            })
        });
        {
            let mut task = note.task.lock().unwrap_or_else(PoisonError::into_inner);
            if !task.will_wake(cx.waker()) {
                task.clone_from(cx.waker());
            }
        }
        let waker = Waker::from(note.clone());
        let mut inner = Context::from_waker(&waker);
        if note.woken.load(Ordering::SeqCst) {
            // Woken since the last poll (another task made progress for it):
            // the turn it was given counts as used, and it gets another one.
            *this.yielded = false;
        }
        loop {
            note.woken.store(false, Ordering::SeqCst);
            if let Poll::Ready(output) = this.future.as_mut().poll(&mut inner) {
                return Poll::Ready(output);
            }
            if note.woken.load(Ordering::SeqCst) {
                // Work to do: poll again before time may move (the wake has
                // reached the task's waker, so the executor polls us again).
                *this.yielded = false;
                return Poll::Pending;
            }
            // Idle. First a turn of the executor, so that other tasks that
            // are ready (and may arm earlier timers or wake this one) run
            // before time moves; idle again after it, jump.
            if !*this.yielded {
                *this.yielded = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            *this.yielded = false;
            if this.clock.core.jump() == 0 {
                // Nothing armed, or a `to_thread` call holds the clock: a
                // wake will come from elsewhere.
                return Poll::Pending;
            }
            if !note.woken.load(Ordering::SeqCst) {
                // The timers that fired belong to other tasks on this clock:
                // let them run before time moves again.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            // One of ours fired: poll again at the new time.
        }
    }
}

impl<F: FusedFuture> FusedFuture for Run<F> {
    fn is_terminated(&self) -> bool {
        self.future.is_terminated()
    }
}

impl<F> fmt::Debug for Run<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}
