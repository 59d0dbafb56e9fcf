//! Running blocking code off the async threads: [`to_thread()`],
//! [`to_thread_cancellable()`] and [`ThreadLimiter`], on the `blocking`
//! crate's thread pool.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use blocking::Task;
use futures_core::FusedFuture;

use crate::utils::semaphore::{Acquire, Semaphore};

/// Runs the blocking closure `f` on a thread pool and resolves to its return
/// value, like `asyncio.to_thread(f)` or `trio.to_thread.run_sync(f)`.
///
/// The closure runs on the process-wide pool of the `blocking` crate, so the
/// awaiting task (and its executor thread) stays free while it blocks. Any
/// executor can await the result.
///
/// Like the coroutine `asyncio.to_thread` returns, the future is lazy: the
/// closure is sent to the pool on the first poll, not when `to_thread` is
/// called. A `ToThread` dropped before its first poll never runs its closure.
/// To run a closure alongside other work, gather them:
/// `(to_thread(f), other).gather().await`.
///
/// If `f` panics, the panic is resumed in the task that awaits the
/// `ToThread`, with the closure's own payload, as asyncio re-raises the
/// thread's exception; so [`gather_settled()`](crate::gather_settled) over
/// `to_thread` calls reports it as [`Settled::Panicked`](crate::Settled)
/// with its message. The pool thread survives the panic.
///
/// The returned [`ToThread<T>`] names only the output type (the closure is
/// boxed once, when the future is made), so it can be stored in a struct
/// field or returned from a function.
///
/// To bound how many closures run at once (the pool itself grows up to its
/// own large thread cap), use a [`ThreadLimiter`]. For a closure that should
/// stop early when its caller goes away, use [`to_thread_cancellable()`].
///
/// # Idle threads
///
/// The pool starts threads on demand and keeps finished ones idle for reuse;
/// whether and when it retires them is the `blocking` crate's policy, which
/// changed between releases: 1.6 retires a thread after a short idle time,
/// while 1.7 keeps idle threads below its thread cap alive (Cargo picks the
/// newest release that aiokit's `blocking = "1.6"` requirement allows). The
/// counts measured after a burst are in the repository's
/// [BENCHMARKS.md](https://github.com/aiokit/aiokit/blob/main/BENCHMARKS.md#thread)
/// (`cargo run --release --example idle_threads`). An idle thread keeps its
/// stack and wakes now and then to look for work. aiokit keeps accepting
/// both versions; if the parked threads matter to you, pin
/// `blocking = "~1.6"` in your application, or cap the pool with
/// `blocking::set_max_blocking_threads(n)` (1.7), which bounds both the
/// threads running and the threads kept.
///
/// # Cancellation
///
/// Dropping the `ToThread` before the closure has started means it never
/// runs, and the closure is dropped: never polled (dropped with the future),
/// waiting for a [`ThreadLimiter`] slot (dropped with the future; its place
/// in the queue, or a slot just granted to it, passes to the next caller), or
/// still queued in a saturated pool (the pool drops it when a thread reaches
/// it). Dropping it while the closure is running does **not** stop the
/// closure (a thread cannot be interrupted): it runs to the end on its pool
/// thread, its return value is dropped there, and a [`ThreadLimiter`] slot it
/// holds is freed only then. asyncio behaves the same way (cancelling or
/// timing out a `to_thread` await leaves the thread running); trio's default
/// instead makes the cancelled caller wait. To tell the closure to stop, use
/// [`to_thread_cancellable()`].
///
/// A drop never interrupts a closure or stops a pool thread: the thread that
/// runs an abandoned closure finishes it, then serves the pool like any other.
///
/// # Panics
///
/// Resumes the closure's panic, as described above. Polling the `ToThread`
/// after it completed panics.
///
/// # Examples
///
/// ```
/// # smol::block_on(async {
/// let sum = aiokit::to_thread(|| (1..=1_000u64).sum::<u64>()).await;
/// assert_eq!(sum, 500_500);
///
/// // Many at once: they block on different threads.
/// let sizes = aiokit::gather((0..4).map(|i| {
///     aiokit::to_thread(move || {
///         std::thread::sleep(std::time::Duration::from_millis(10));
///         i * 10
///     })
/// }))
/// .await;
/// assert_eq!(sizes, [0, 10, 20, 30]);
///
/// // A panic in the closure is reported like any other panic.
/// let outcomes = aiokit::gather_settled((0..2).map(|i| {
///     aiokit::to_thread(move || if i == 1 { panic!("disk on fire") } else { Ok::<_, ()>(i) })
/// }))
/// .await;
/// assert_eq!(outcomes[1].panic().unwrap().message(), Some("disk on fire"));
/// # });
/// ```
#[doc(alias = "spawn_blocking")]
#[doc(alias = "unblock")]
#[doc(alias = "run_in_executor")]
pub fn to_thread<F, T>(f: F) -> ToThread<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    ToThread {
        job: Job::new(Box::new(f), None),
    }
}

/// Runs `f` on a thread pool, handing it a [`CancelToken`] that becomes
/// cancelled when the returned future is dropped before completing (for
/// instance by a timeout) or when [`ToThreadCancellable::cancel`] is called.
///
/// Everything else is as for [`to_thread()`]: lazy start, the closure's panic
/// resumed in the awaiting task, a closure not yet started never runs once the
/// future is dropped. The closure decides how often it checks
/// [`CancelToken::is_cancelled`] and what it returns when it stops early.
///
/// This is trio/anyio's `to_thread.run_sync` with the thread able to see its
/// caller's cancellation (anyio's `from_thread.check_cancelled`), with both
/// of its `abandon_on_cancel` choices:
///
/// - **Abandon** (dropping the future): the caller moves on at once; the
///   token tells the closure to stop, and its return value is dropped. The
///   thread is released as soon as the closure next checks the token.
/// - **Wait** (trio's default): call [`ToThreadCancellable::cancel`], then
///   keep awaiting the same future: it resolves to whatever the closure
///   returns after seeing the token, so no work outlives the caller and
///   partial results are not lost. See the method's example, which does this
///   after a timeout.
///
/// A drop cannot wait (Rust has no async drop), which is why waiting is an
/// explicit step.
///
/// # Cancellation
///
/// Dropping the future before the closure starts (never polled, queued for
/// a [`ThreadLimiter`] slot or just granted one, or queued in a saturated
/// pool): the closure never runs and is dropped, as for [`to_thread()`].
/// Dropping it while the closure runs: the token is cancelled, the closure
/// goes on until it next checks the token (or to its end), and its return
/// value is dropped on its pool thread; a [`ThreadLimiter`] slot is freed
/// when it returns. Dropping it after it completed does not touch the token.
///
/// # Panics
///
/// Resumes the closure's panic in the awaiting task. Polling after completion
/// panics.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use aiokit::prelude::*;
///
/// # smol::block_on(async {
/// let (stopped_tx, stopped_rx) = std::sync::mpsc::channel();
/// let search = aiokit::to_thread_cancellable(move |token| {
///     let mut n = 0u64;
///     while !token.is_cancelled() {
///         n += 1; // a long computation, one step at a time
///     }
///     stopped_tx.send(n).unwrap();
/// });
/// // Give up after 20 ms: the timer wins the race, `search` is dropped, and
/// // the closure sees its token cancelled at the next check.
/// let timer = async {
///     smol::Timer::after(Duration::from_millis(20)).await;
///     "timed out"
/// };
/// let outcome = (async { search.await; "finished" }, timer).first_completed().await;
/// assert_eq!(outcome, "timed out");
/// assert!(stopped_rx.recv().unwrap() > 0);
/// # });
/// ```
pub fn to_thread_cancellable<F, T>(f: F) -> ToThreadCancellable<T>
where
    F: FnOnce(CancelToken) -> T + Send + 'static,
    T: Send + 'static,
{
    cancellable(f, None)
}

/// A closure for the pool, boxed once so the futures' types do not carry
/// it. The `Mutex` is never locked (the closure is only reached through
/// `&mut` or by value); it keeps the futures `Sync` without requiring the
/// closure to be.
type Closure<T> = Mutex<Box<dyn FnOnce() -> T + Send>>;

#[cfg(feature = "time")]
type ClockHold = Option<crate::utils::clock::Hold>;
#[cfg(not(feature = "time"))]
type ClockHold = ();

#[cfg(feature = "time")]
fn clock_hold() -> ClockHold {
    crate::utils::clock::hold_current()
}

#[cfg(not(feature = "time"))]
fn clock_hold() -> ClockHold {}

/// The state shared by both futures.
enum Job<T> {
    /// Not started: waiting for its first poll, or for a limiter's slot
    /// (`acquire` is `Some` with a limiter).
    Idle {
        f: Closure<T>,
        acquire: Option<Acquire>,
    },
    /// Handed to the pool: the closure is queued or running there. The hold
    /// keeps a virtual clock, if the call was started under one, from
    /// jumping while the thread works.
    Running(Task<T>, #[allow(dead_code)] ClockHold),
    /// The output was returned.
    Done,
}

impl<T: Send + 'static> Job<T> {
    fn new(f: Box<dyn FnOnce() -> T + Send>, limiter: Option<&ThreadLimiter>) -> Self {
        Job::Idle {
            f: Mutex::new(f),
            acquire: limiter.map(|l| l.semaphore.acquire()),
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>, name: &str) -> Poll<T> {
        loop {
            match self {
                Job::Idle { acquire, .. } => {
                    let permit = match acquire {
                        Some(acquire) => Some(ready!(Pin::new(acquire).poll(cx))),
                        None => None,
                    };
                    let Job::Idle { f, .. } = std::mem::replace(self, Job::Done) else {
                        unreachable!("matched above")
                    };
                    let f = f.into_inner().unwrap_or_else(PoisonError::into_inner);
                    let task = match permit {
                        None => blocking::unblock(f),
                        Some(permit) => blocking::unblock(move || {
                            // Released when `f` returns or unwinds, on the
                            // pool thread.
                            let _permit = permit;
                            f()
                        }),
                    };
                    *self = Job::Running(task, clock_hold());
                }
                Job::Running(task, _) => {
                    let value = ready!(Pin::new(task).poll(cx));
                    *self = Job::Done;
                    return Poll::Ready(value);
                }
                Job::Done => panic!("`{name}` polled after completion"),
            }
        }
    }
}

impl<T> Job<T> {
    fn is_done(&self) -> bool {
        matches!(self, Job::Done)
    }

    fn is_running(&self) -> bool {
        matches!(self, Job::Running(..))
    }
}

impl<T> fmt::Debug for Job<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Job::Idle {
                acquire: Some(acquire),
                ..
            } if acquire.is_queued() => "WaitingForLimiter",
            Job::Idle { .. } => "NotStarted",
            Job::Running(..) => "Running",
            Job::Done => "Done",
        })
    }
}

/// Future for the [`to_thread()`] function and the [`ThreadLimiter::run`]
/// method.
///
/// It resolves to the closure's return value. Its type names only the
/// output, like `blocking::Task<T>` or tokio's `JoinHandle<T>`: the closure
/// is boxed once, when the future is made, so a `ToThread<T>` can be stored
/// in a struct field or returned from a function. It is `Send`, `Sync` and
/// `Unpin` when `T` is `Send`.
///
/// # Cancellation
///
/// See [`to_thread()`]: dropped before its closure started, the closure
/// never runs; dropped while it runs, the closure finishes on its pool
/// thread and its return value is dropped there.
///
/// # Examples
///
/// ```
/// use aiokit::ToThread;
///
/// struct Loader {
///     pending: ToThread<String>,
/// }
///
/// fn load(path: &'static str) -> ToThread<String> {
///     aiokit::to_thread(move || format!("contents of {path}"))
/// }
///
/// # smol::block_on(async {
/// let loader = Loader { pending: load("config.toml") };
/// assert_eq!(loader.pending.await, "contents of config.toml");
/// # });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ToThread<T> {
    job: Job<T>,
}

// Nothing is pinned: the closure is moved, and the task handle is `Unpin`.
impl<T> Unpin for ToThread<T> {}

impl<T: Send + 'static> Future for ToThread<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        self.get_mut().job.poll(cx, "ToThread")
    }
}

impl<T: Send + 'static> FusedFuture for ToThread<T> {
    fn is_terminated(&self) -> bool {
        self.job.is_done()
    }
}

impl<T> fmt::Debug for ToThread<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToThread")
            .field("state", &self.job)
            .finish_non_exhaustive()
    }
}

/// Future for the [`to_thread_cancellable()`] function and the
/// [`ThreadLimiter::run_cancellable`] method.
///
/// Like [`ToThread<T>`], its type names only the output (the closure is
/// boxed once), so it can be stored in a struct field or returned.
///
/// # Cancellation
///
/// Dropping it before its closure started: the closure never runs. Dropping
/// it while the closure runs cancels the closure's [`CancelToken`]; the
/// closure's return value is dropped on its pool thread. Dropping it after
/// it completed does not touch the token.
///
/// # Examples
///
/// ```
/// use aiokit::ToThreadCancellable;
///
/// struct Search {
///     job: ToThreadCancellable<bool>,
/// }
///
/// # smol::block_on(async {
/// let search = Search { job: aiokit::to_thread_cancellable(|token| token.is_cancelled()) };
/// assert!(!search.job.await, "not cancelled while awaited");
/// # });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ToThreadCancellable<T> {
    job: Job<T>,
    token: CancelToken,
}

impl<T> Unpin for ToThreadCancellable<T> {}

impl<T> ToThreadCancellable<T> {
    /// Cancels the closure's [`CancelToken`] without dropping the future, so
    /// the caller can keep awaiting it and get what the closure returns after
    /// it stops: trio's default "wait for the thread" cancellation.
    ///
    /// A closure that has not started yet still starts when polled, with its
    /// token already cancelled. Calling `cancel` again does nothing.
    ///
    /// # Examples
    ///
    /// Give a search 20 ms, then ask it to stop and take its partial result.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// let mut search = aiokit::to_thread_cancellable(|token| {
    ///     let mut checked = 0u64;
    ///     while !token.is_cancelled() {
    ///         checked += 1;
    ///     }
    ///     checked // partial progress
    /// });
    /// let timer = async {
    ///     smol::Timer::after(Duration::from_millis(20)).await;
    ///     None
    /// };
    /// let first = (async { Some((&mut search).await) }, timer).first_completed().await;
    /// assert_eq!(first, None, "the endless search did not finish in time");
    /// search.cancel();
    /// let checked = search.await; // waits for the closure to notice
    /// assert!(checked > 0);
    /// # });
    /// ```
    pub fn cancel(&self) {
        self.token.cancel();
    }
}

impl<T: Send + 'static> Future for ToThreadCancellable<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        self.get_mut().job.poll(cx, "ToThreadCancellable")
    }
}

impl<T> Drop for ToThreadCancellable<T> {
    fn drop(&mut self) {
        // Only a closure that is queued in the pool or running can observe it.
        if self.job.is_running() {
            self.token.cancel();
        }
    }
}

impl<T: Send + 'static> FusedFuture for ToThreadCancellable<T> {
    fn is_terminated(&self) -> bool {
        self.job.is_done()
    }
}

impl<T> fmt::Debug for ToThreadCancellable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToThreadCancellable")
            .field("state", &self.job)
            .field("cancelled", &self.token.is_cancelled())
            .finish_non_exhaustive()
    }
}

/// Boxes `f` for a [`ToThreadCancellable`] with a fresh token.
fn cancellable<F, T>(f: F, limiter: Option<&ThreadLimiter>) -> ToThreadCancellable<T>
where
    F: FnOnce(CancelToken) -> T + Send + 'static,
    T: Send + 'static,
{
    let token = CancelToken::new();
    let seen = token.clone();
    ToThreadCancellable {
        job: Job::new(Box::new(move || f(seen)), limiter),
        token,
    }
}

/// Tells a closure run by [`to_thread_cancellable()`] that its caller has
/// gone away (the future was dropped, for instance by a timeout) or asked it
/// to stop ([`ToThreadCancellable::cancel`]).
///
/// A thread cannot be interrupted, so the closure polls
/// [`is_cancelled`](CancelToken::is_cancelled) at points where stopping is
/// safe, e.g. once per loop iteration. A check is one atomic load. Tokens are
/// `Clone` and can be handed to helpers or other threads.
///
/// # Examples
///
/// ```
/// # smol::block_on(async {
/// let lines = aiokit::to_thread_cancellable(|token: aiokit::CancelToken| {
///     let mut out = Vec::new();
///     for line in ["a", "b", "c"] {
///         if token.is_cancelled() {
///             break;
///         }
///         out.push(line.to_uppercase());
///     }
///     out
/// })
/// .await;
/// assert_eq!(lines, ["A", "B", "C"]);
/// # });
/// ```
#[derive(Clone)]
pub struct CancelToken {
    cancelled: Arc<AtomicBool>,
}

impl CancelToken {
    fn new() -> Self {
        Self {
            cancelled: Arc::new(AtomicBool::new(false)),
        }
    }

    fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
    }

    /// Whether the caller dropped its future before it completed, or called
    /// [`ToThreadCancellable::cancel`]. Once `true`, it stays `true`.
    ///
    /// # Examples
    ///
    /// ```
    /// # smol::block_on(async {
    /// let job = aiokit::to_thread_cancellable(|token| token.is_cancelled());
    /// job.cancel();
    /// assert!(job.await);
    /// # });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// Keeps at most `n` of its closures running at once, like anyio's and trio's
/// `CapacityLimiter`; the rest wait their turn, first come first served.
///
/// A `ThreadLimiter` is a cheap handle: clones share the same limit, so one
/// limiter can guard a resource (a database file, a CPU-heavy library, a
/// rate-limited device) across every task of a program. The thread pool
/// itself grows up to its own large thread cap; a limiter keeps a burst of
/// calls from taking that many threads.
///
/// - A caller waits **asynchronously** for its turn and holds no thread while
///   it waits: its closure is handed to the pool only once a slot is free.
/// - Turns are given in the order callers first polled their future; a
///   release hands the slot straight to the oldest waiter, so newcomers never
///   overtake it.
/// - A slot is freed when the closure returns or panics, **not** when its
///   future is dropped: a dropped caller whose closure still runs keeps its
///   slot until the closure ends (as in trio), so the limit holds for threads,
///   not just for awaiting tasks.
///
/// # Cancellation
///
/// What dropping a future of [`run`](ThreadLimiter::run) or
/// [`run_cancellable`](ThreadLimiter::run_cancellable) does, by the point it
/// has reached:
///
/// - **Queued** (polled, waiting for a slot): it leaves the queue and its
///   closure is dropped without running; the callers behind it move up.
/// - **Just granted** (a release handed it the slot, but it has not been
///   polled since): the slot passes straight to the next waiter, which is
///   woken. No slot is lost and no waiter is left asleep.
/// - **Running**: the closure keeps its slot until it returns or panics (for
///   `run_cancellable`, its token is cancelled first), so the limit always
///   counts threads, not awaiting tasks.
///
/// Dropping the `ThreadLimiter` handle itself changes nothing: the futures
/// it made keep their own handle to the shared limit.
///
/// # Panics
///
/// [`ThreadLimiter::new`] panics if `limit` is 0. Any other `limit`, up to
/// `usize::MAX`, is honoured (a limit above the pool's own cap just leaves
/// the cap in charge).
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
/// use std::sync::{Arc, Mutex, PoisonError};
///
/// # smol::block_on(async {
/// let db = aiokit::ThreadLimiter::new(2);
/// let (busy, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
/// let rows = aiokit::gather((0..8).map(|i| {
///     let (busy, peak) = (busy.clone(), peak.clone());
///     db.run(move || {
///         peak.fetch_max(busy.fetch_add(1, SeqCst) + 1, SeqCst);
///         std::thread::sleep(std::time::Duration::from_millis(5));
///         busy.fetch_sub(1, SeqCst);
///         i * i
///     })
/// }))
/// .await;
/// assert_eq!(rows[7], 49);
/// assert!(peak.load(SeqCst) <= 2);
/// # });
/// ```
#[derive(Clone)]
pub struct ThreadLimiter {
    semaphore: Semaphore,
}

impl ThreadLimiter {
    /// A limiter that lets at most `limit` closures run at once.
    ///
    /// Any `limit` from 1 to `usize::MAX` is accepted; the limiter keeps only
    /// a counter, so a huge limit allocates nothing.
    ///
    /// # Panics
    ///
    /// If `limit` is 0 (no closure could ever run), with a message naming
    /// `aiokit::ThreadLimiter::new`.
    ///
    /// # Examples
    ///
    /// ```
    /// let limiter = aiokit::ThreadLimiter::new(4);
    /// assert_eq!(limiter.limit(), 4);
    /// ```
    #[track_caller]
    pub fn new(limit: usize) -> Self {
        assert!(
            limit > 0,
            "aiokit::ThreadLimiter::new: limit must be at least 1 (with 0 no closure could ever run)"
        );
        Self {
            semaphore: Semaphore::new(limit),
        }
    }

    /// Runs `f` on the thread pool once one of the limiter's slots is free,
    /// resolving to its return value, like `to_thread.run_sync(f,
    /// limiter=limiter)` in trio and anyio.
    ///
    /// Otherwise identical to [`to_thread()`] (lazy, panics resumed, a running
    /// closure is not stopped by a drop). The caller joins the queue on its
    /// first poll.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// let limiter = aiokit::ThreadLimiter::new(1);
    /// let a = limiter.run(|| "first");
    /// let b = limiter.clone().run(|| 2); // clones share the limit
    /// assert_eq!((a, b).gather().await, ("first", 2));
    /// # });
    /// ```
    pub fn run<F, T>(&self, f: F) -> ToThread<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        ToThread {
            job: Job::new(Box::new(f), Some(self)),
        }
    }

    /// [`to_thread_cancellable()`] within this limiter: the closure gets a
    /// [`CancelToken`] and runs once a slot is free.
    ///
    /// # Examples
    ///
    /// ```
    /// # smol::block_on(async {
    /// let limiter = aiokit::ThreadLimiter::new(2);
    /// let n = limiter.run_cancellable(|token| if token.is_cancelled() { 0 } else { 7 }).await;
    /// assert_eq!(n, 7);
    /// # });
    /// ```
    pub fn run_cancellable<F, T>(&self, f: F) -> ToThreadCancellable<T>
    where
        F: FnOnce(CancelToken) -> T + Send + 'static,
        T: Send + 'static,
    {
        cancellable(f, Some(self))
    }

    /// The most closures this limiter lets run at once.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(aiokit::ThreadLimiter::new(3).limit(), 3);
    /// ```
    pub fn limit(&self) -> usize {
        self.semaphore.capacity()
    }

    /// How many slots are taken now: closures running, or handed to the pool
    /// and about to run.
    ///
    /// # Examples
    ///
    /// ```
    /// # smol::block_on(async {
    /// let limiter = aiokit::ThreadLimiter::new(3);
    /// let probe = limiter.clone();
    /// let seen = limiter.run(move || probe.in_use()).await;
    /// assert_eq!(seen, 1); // its own slot
    /// assert_eq!(limiter.in_use(), 0);
    /// # });
    /// ```
    pub fn in_use(&self) -> usize {
        self.semaphore.in_use()
    }

    /// How many callers are queued for a slot.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// let limiter = aiokit::ThreadLimiter::new(1);
    /// let probe = limiter.clone();
    /// let first = limiter.run(move || {
    ///     // Runs until the second call has queued behind it.
    ///     while probe.waiting() == 0 {
    ///         std::thread::yield_now();
    ///     }
    ///     probe.waiting()
    /// });
    /// let second = limiter.run(|| "second");
    /// assert_eq!((first, second).gather().await, (1, "second"));
    /// assert_eq!(limiter.waiting(), 0);
    /// # });
    /// ```
    pub fn waiting(&self) -> usize {
        self.semaphore.waiting()
    }
}

impl fmt::Debug for ThreadLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadLimiter")
            .field("limit", &self.limit())
            .field("in_use", &self.in_use())
            .field("waiting", &self.waiting())
            .finish()
    }
}
