//! Running blocking code off the async threads: [`to_thread()`],
//! [`to_thread_cancellable()`], [`ThreadLimiter`] and [`Unblock`], on the
//! `blocking` crate's thread pool.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use blocking::Task;
use futures_core::FusedFuture;

use crate::utils::semaphore::{Acquire, Permit, Semaphore};

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
/// To bound how many closures run at once (the pool itself grows up to 500
/// threads), use a [`ThreadLimiter`]. For a closure that should stop early
/// when its caller goes away, use [`to_thread_cancellable()`].
///
/// # Cancellation
///
/// Dropping the `ToThread` before the closure has started means it never
/// runs: never polled, waiting for a [`ThreadLimiter`] slot (the closure is
/// dropped at once), or still queued in a saturated pool (the pool drops it
/// when a thread reaches it). Dropping it
/// while the closure is running does **not** stop the closure (a thread cannot
/// be interrupted): it runs to the end on its pool thread and its return value
/// is dropped there. asyncio behaves the same way (cancelling or timing out a
/// `to_thread` await leaves the thread running); trio's default instead makes
/// the cancelled caller wait. To tell the closure to stop, use
/// [`to_thread_cancellable()`].
///
/// # Idle threads
///
/// The pool starts threads on demand and, in `blocking` 1.6, retires a thread
/// after 500 ms idle. `blocking` 1.7.0 (the newest release, and what Cargo
/// picks for aiokit's `blocking = "1.6"` requirement) no longer retires idle
/// threads below its limit of 500: measured after a burst of 64 calls that
/// each block for 50 ms, the process keeps 64 extra idle threads at 1, 3 and
/// 6 s, where 1.6.2 is back to zero extra threads at 1 s (numbers in
/// BENCHMARKS.md, `cargo run --release --example idle_threads`). Each idle
/// thread keeps its stack and wakes every 500 ms to look for work. aiokit keeps
/// accepting both versions; if the parked threads matter to you, pin
/// `blocking = "~1.6"` in your application, or cap the pool with
/// `blocking::set_max_blocking_threads(n)` (1.7), which bounds both the
/// threads running and the threads kept.
///
/// # Panics
///
/// Resumes the closure's panic, as described above. Polling the `ToThread`
/// after it completed panics.
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
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
pub fn to_thread<F, T>(f: F) -> ToThread<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    ToThread {
        job: Job::new(f, None),
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
/// Dropping the future before the closure starts: the closure never runs.
/// Dropping it while the closure runs: the token is cancelled and the
/// closure's return value is dropped on its pool thread. Dropping it after it
/// completed does not touch the token.
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
/// use futures_lite::future;
///
/// # futures_lite::future::block_on(async {
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
/// let outcome = future::or(async { search.await; "finished" }, async {
///     async_io::Timer::after(Duration::from_millis(20)).await;
///     "timed out"
/// })
/// .await;
/// assert_eq!(outcome, "timed out");
/// assert!(stopped_rx.recv().unwrap() > 0);
/// # });
/// ```
pub fn to_thread_cancellable<F, T>(f: F) -> ToThreadCancellable<F, T>
where
    F: FnOnce(CancelToken) -> T + Send + 'static,
    T: Send + 'static,
{
    ToThreadCancellable {
        job: Job::new(f, None),
        token: CancelToken::new(),
    }
}

/// The state shared by both futures: the closure until it is started (after
/// the limiter's permit, if any), then the pool's task.
struct Job<F, T> {
    f: Option<F>,
    acquire: Option<Acquire>,
    task: Option<Task<T>>,
}

impl<F, T> Job<F, T> {
    fn new(f: F, limiter: Option<&ThreadLimiter>) -> Self {
        Self {
            f: Some(f),
            acquire: limiter.map(|l| l.semaphore.acquire()),
            task: None,
        }
    }

    /// Whether the closure still has to start, is started, or is done.
    fn state(&self) -> &'static str {
        match (&self.f, &self.acquire, &self.task) {
            (Some(_), Some(a), _) if a.is_queued() => "waiting for the limiter",
            (Some(_), _, _) => "not started",
            (None, _, Some(_)) => "running",
            (None, _, None) => "done",
        }
    }

    fn is_done(&self) -> bool {
        self.f.is_none() && self.task.is_none()
    }

    fn poll_with(
        &mut self,
        cx: &mut Context<'_>,
        name: &str,
        start: impl FnOnce(F, Option<Permit>) -> Task<T>,
    ) -> Poll<T> {
        if self.task.is_none() {
            let permit = match &mut self.acquire {
                Some(acquire) => Some(ready!(Pin::new(acquire).poll(cx))),
                None => None,
            };
            self.acquire = None;
            let Some(f) = self.f.take() else {
                panic!("`{name}` polled after completion")
            };
            self.task = Some(start(f, permit));
        }
        let task = self.task.as_mut().expect("started above");
        let value = ready!(Pin::new(task).poll(cx));
        self.task = None;
        Poll::Ready(value)
    }
}

/// Future for the [`to_thread()`] function and the [`ThreadLimiter::run`]
/// method.
///
/// It resolves to the closure's return value. `F` is the closure's type; to
/// store a `ToThread` in a field, box the closure:
/// `ToThread<Box<dyn FnOnce() -> T + Send>, T>`.
///
/// # Examples
///
/// ```
/// use aiokit::ToThread;
///
/// struct Loader {
///     pending: ToThread<Box<dyn FnOnce() -> String + Send>, String>,
/// }
///
/// # futures_lite::future::block_on(async {
/// let loader = Loader { pending: aiokit::to_thread(Box::new(|| "config".to_string())) };
/// assert_eq!(loader.pending.await, "config");
/// # });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ToThread<F, T> {
    job: Job<F, T>,
}

// The closure is moved, never pinned; the task handle is `Unpin`.
impl<F, T> Unpin for ToThread<F, T> {}

impl<F, T> Future for ToThread<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        self.get_mut()
            .job
            .poll_with(cx, "ToThread", |f, permit| match permit {
                None => blocking::unblock(f),
                Some(permit) => blocking::unblock(move || {
                    // Released when `f` returns or unwinds, on the pool thread.
                    let _permit = permit;
                    f()
                }),
            })
    }
}

impl<F, T> FusedFuture for ToThread<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn is_terminated(&self) -> bool {
        self.job.is_done()
    }
}

impl<F, T> fmt::Debug for ToThread<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToThread")
            .field("state", &self.job.state())
            .finish_non_exhaustive()
    }
}

/// Future for the [`to_thread_cancellable()`] function and the
/// [`ThreadLimiter::run_cancellable`] method.
///
/// Dropping it before it completes cancels the closure's [`CancelToken`].
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// let job = aiokit::to_thread_cancellable(|token| token.is_cancelled());
/// assert!(!job.await, "not cancelled while awaited");
/// # });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ToThreadCancellable<F, T> {
    job: Job<F, T>,
    token: CancelToken,
}

impl<F, T> Unpin for ToThreadCancellable<F, T> {}

impl<F, T> ToThreadCancellable<F, T> {
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
    /// use futures_lite::future;
    ///
    /// # futures_lite::future::block_on(async {
    /// let mut search = aiokit::to_thread_cancellable(|token| {
    ///     let mut checked = 0u64;
    ///     while !token.is_cancelled() {
    ///         checked += 1;
    ///     }
    ///     checked // partial progress
    /// });
    /// let first = future::or(async { Some((&mut search).await) }, async {
    ///     async_io::Timer::after(Duration::from_millis(20)).await;
    ///     None
    /// })
    /// .await;
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

impl<F, T> Future for ToThreadCancellable<F, T>
where
    F: FnOnce(CancelToken) -> T + Send + 'static,
    T: Send + 'static,
{
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.get_mut();
        let token = &this.token;
        this.job.poll_with(cx, "ToThreadCancellable", |f, permit| {
            let token = token.clone();
            blocking::unblock(move || {
                let _permit = permit;
                f(token)
            })
        })
    }
}

impl<F, T> Drop for ToThreadCancellable<F, T> {
    fn drop(&mut self) {
        // Only a closure that is running (or about to run) can observe it.
        if self.job.task.is_some() {
            self.token.cancel();
        }
    }
}

impl<F, T> FusedFuture for ToThreadCancellable<F, T>
where
    F: FnOnce(CancelToken) -> T + Send + 'static,
    T: Send + 'static,
{
    fn is_terminated(&self) -> bool {
        self.job.is_done()
    }
}

impl<F, T> fmt::Debug for ToThreadCancellable<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToThreadCancellable")
            .field("state", &self.job.state())
            .field("cancelled", &self.token.is_cancelled())
            .finish_non_exhaustive()
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
/// # futures_lite::future::block_on(async {
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
    /// # futures_lite::future::block_on(async {
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
/// itself grows up to 500 threads; a limiter keeps a burst of calls from
/// taking that many.
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
/// Dropping a future that is still waiting for its turn removes it from the
/// queue (its closure never runs); if it had just been handed a slot, the slot
/// passes to the next waiter. No slot is lost and no waiter is left asleep.
///
/// # Panics
///
/// [`ThreadLimiter::new`] panics if `limit` is 0.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
/// use std::sync::Arc;
///
/// # futures_lite::future::block_on(async {
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
    /// # Panics
    ///
    /// If `limit` is 0: no closure could ever run.
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
    /// use aiokit::GatherExt;
    ///
    /// # futures_lite::future::block_on(async {
    /// let limiter = aiokit::ThreadLimiter::new(1);
    /// let a = limiter.run(|| "first");
    /// let b = limiter.clone().run(|| 2); // clones share the limit
    /// assert_eq!((a, b).gather().await, ("first", 2));
    /// # });
    /// ```
    pub fn run<F, T>(&self, f: F) -> ToThread<F, T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        ToThread {
            job: Job::new(f, Some(self)),
        }
    }

    /// [`to_thread_cancellable()`] within this limiter: the closure gets a
    /// [`CancelToken`] and runs once a slot is free.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let limiter = aiokit::ThreadLimiter::new(2);
    /// let n = limiter.run_cancellable(|token| if token.is_cancelled() { 0 } else { 7 }).await;
    /// assert_eq!(n, 7);
    /// # });
    /// ```
    pub fn run_cancellable<F, T>(&self, f: F) -> ToThreadCancellable<F, T>
    where
        F: FnOnce(CancelToken) -> T + Send + 'static,
        T: Send + 'static,
    {
        ToThreadCancellable {
            job: Job::new(f, Some(self)),
            token: CancelToken::new(),
        }
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
    /// # futures_lite::future::block_on(async {
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
    /// use aiokit::GatherExt;
    ///
    /// # futures_lite::future::block_on(async {
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

/// Blocking I/O and iterators as async streams, readers and writers: the
/// `blocking` crate's adapter, re-exported as is.
///
/// `Unblock::new(x)` moves `x` to the thread pool and exposes it as
/// [`Stream`](futures_core::Stream) if `x` is an [`Iterator`], `AsyncRead` if
/// it is [`Read`](std::io::Read), `AsyncWrite` if it is
/// [`Write`](std::io::Write) and `AsyncSeek` if it is
/// [`Seek`](std::io::Seek) (the `futures-io` traits, which futures,
/// futures-lite and smol use; tokio users need `tokio-util`'s `compat`).
/// aiokit re-exports it rather than wrapping it: the adapter is already
/// complete, and a wrapper would only rename it.
///
/// Caveats (see the sections below for details): items and bytes are read
/// ahead in the background, up to a buffer (8192 items, 8 MiB of bytes by
/// default; see `Unblock::with_capacity`); **flush (or close) a writer
/// before dropping it**, or buffered bytes may be lost; reading ahead moves a
/// file's cursor past what was read, so relative seeks are unreliable.
///
/// # Examples
///
/// An iterator as a stream, a reader as `AsyncRead`, a writer as `AsyncWrite`:
///
/// ```
/// use aiokit::Unblock;
/// use futures_lite::{AsyncReadExt, AsyncWriteExt, StreamExt};
///
/// # futures_lite::future::block_on(async {
/// // Iterator -> Stream: each `next` runs on the pool.
/// let lines = std::io::BufRead::lines(&b"alpha\nbeta\n"[..]);
/// let lines: Vec<String> = Unblock::new(lines).map(Result::unwrap).collect().await;
/// assert_eq!(lines, ["alpha", "beta"]);
///
/// // Read -> AsyncRead.
/// let mut text = String::new();
/// Unblock::new(std::io::Cursor::new("from a blocking reader"))
///     .read_to_string(&mut text)
///     .await?;
/// assert_eq!(text, "from a blocking reader");
///
/// // Write -> AsyncWrite: flush before dropping, then take the writer back.
/// let mut out = Unblock::new(Vec::<u8>::new());
/// out.write_all(b"to a blocking writer").await?;
/// out.flush().await?;
/// assert_eq!(out.into_inner().await, b"to a blocking writer");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[doc(inline)]
pub use blocking::Unblock;
