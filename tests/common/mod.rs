//! Shared test helpers: the executor matrix, drop guards, wake counters.
//!
//! Every scenario is written once as an `async` block factory and run by
//! [`matrix`] under each executor in [`EXECUTORS`]. Adding an executor is one
//! line in that table.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures::FutureExt as _;

/// A boxed, `Send` test body.
pub type Body = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// An executor: runs a body to completion on the calling thread's behalf,
/// resuming any panic of the body.
pub type Executor = fn(Body);

/// Every executor the suite runs under.
pub const EXECUTORS: &[(&str, Executor)] = &[
    ("smol::block_on", |body| smol::block_on(body)),
    ("async_io::block_on", |body| async_io::block_on(body)),
    ("smol::Executor x2 threads", smol_executor),
    ("futures::executor::block_on", |body| {
        futures::executor::block_on(body)
    }),
    ("tokio current_thread", tokio_current_thread),
    ("tokio multi_thread x2", tokio_multi_thread),
];

/// How long one run may take before the watchdog declares a hang.
pub const HANG: Duration = Duration::from_secs(60);

fn smol_executor(body: Body) {
    let ex = Arc::new(smol::Executor::new());
    let (stop, stopped) = smol::channel::bounded::<()>(1);
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let ex = ex.clone();
            let stopped = stopped.clone();
            std::thread::spawn(move || smol::block_on(ex.run(stopped.recv())))
        })
        .collect();
    // Catch the body's panic inside the task so it reaches this thread.
    let task = ex.spawn(AssertUnwindSafe(body).catch_unwind());
    let outcome = smol::block_on(task);
    drop(stop);
    for thread in threads {
        let _ = thread.join();
    }
    if let Err(payload) = outcome {
        resume_unwind(payload);
    }
}

fn tokio_current_thread(body: Body) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(body);
}

fn tokio_multi_thread(body: Body) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    // Spawned, so the body really runs on the worker threads.
    let outcome = rt.block_on(rt.spawn(body));
    if let Err(error) = outcome {
        resume_unwind(error.into_panic());
    }
}

/// Runs the body made by `make` once under every executor in [`EXECUTORS`].
///
/// A failure names the executor. A run that takes longer than [`HANG`] aborts
/// the test process with a message, so a hang can never stall the suite.
#[track_caller]
pub fn matrix<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    for (name, run) in EXECUTORS {
        on_executor(name, *run, make());
    }
}

/// Runs one body under one named executor, with the hang watchdog.
#[track_caller]
pub fn on_executor<Fut>(name: &str, run: Executor, body: Fut)
where
    Fut: Future<Output = ()> + Send + 'static,
{
    let (done, watchdog) = std::sync::mpsc::channel::<()>();
    let label = name.to_owned();
    let test = std::thread::current().name().unwrap_or("?").to_owned();
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = watchdog.recv_timeout(HANG) {
            eprintln!("test {test} hung for {HANG:?} under {label}: aborting");
            std::process::abort();
        }
    });
    let outcome = catch_unwind(AssertUnwindSafe(|| run(Box::pin(body))));
    let _ = done.send(());
    if let Err(payload) = outcome {
        eprintln!("failed under executor: {name}");
        resume_unwind(payload);
    }
}

/// Counts how many times a value was dropped.
#[derive(Clone, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

impl DropCounter {
    pub fn new() -> Self {
        Self::default()
    }

    /// A guard that bumps the counter when dropped.
    pub fn guard(&self) -> DropGuard {
        DropGuard(self.0.clone())
    }

    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Bumps its [`DropCounter`] on drop.
pub struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future that never completes and bumps `counter` when dropped.
pub async fn pending_guarded<T>(guard: DropGuard) -> T {
    let _guard = guard;
    std::future::pending().await
}

/// A waker that counts its wakes.
#[derive(Default)]
pub struct CountingWaker(AtomicUsize);

impl CountingWaker {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls `fut` once with `waker`.
pub fn poll_once<F: Future + Unpin>(fut: &mut F, waker: &Arc<CountingWaker>) -> Poll<F::Output> {
    let waker = Waker::from(waker.clone());
    Pin::new(fut).poll(&mut Context::from_waker(&waker))
}

/// Yields to the executor once (pending once, waking itself).
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// Asserts a panic payload carries `expected` in its message.
#[track_caller]
pub fn assert_panic_message(payload: &(dyn std::any::Any + Send), expected: &str) {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("<non-string payload>");
    assert!(
        message.contains(expected),
        "panic message {message:?} does not contain {expected:?}"
    );
}

/// A boxed, `Send` future.
pub type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Children that complete in the given order: child `i` waits on its own
/// channel, and a driver sends on them in `order`, yielding between sends.
/// A send to a child that was already dropped is ignored.
pub fn staged<T: Send + 'static>(
    values: Vec<T>,
    order: Vec<usize>,
) -> (Vec<BoxFut<T>>, BoxFut<()>) {
    let (senders, receivers): (Vec<_>, Vec<_>) = values
        .iter()
        .map(|_| futures::channel::oneshot::channel())
        .unzip();
    let mut values: Vec<Option<T>> = values.into_iter().map(Some).collect();
    let mut senders: Vec<Option<futures::channel::oneshot::Sender<T>>> =
        senders.into_iter().map(Some).collect();
    let children = receivers
        .into_iter()
        .map(|rx| {
            Box::pin(async move { rx.await.expect("the driver sends before dropping") })
                as BoxFut<T>
        })
        .collect();
    let driver = Box::pin(async move {
        for i in order {
            yield_now().await;
            let _ = senders[i].take().unwrap().send(values[i].take().unwrap());
        }
    });
    (children, driver)
}

/// Polls `fut` by hand, each poll inside `catch_unwind`, until one panics, and
/// returns the payload. `fut` itself stays alive, so a caller can check what
/// the panicking poll dropped before the panic left it.
#[track_caller]
pub fn poll_until_panic<F: Future + Unpin>(fut: &mut F) -> Box<dyn std::any::Any + Send> {
    let waker = CountingWaker::new();
    for _ in 0..16 {
        match catch_unwind(AssertUnwindSafe(|| poll_once(fut, &waker))) {
            Err(payload) => return payload,
            Ok(Poll::Ready(_)) => panic!("completed instead of panicking"),
            Ok(Poll::Pending) => {}
        }
    }
    panic!("no panic after 16 polls")
}

/// The executors of [`EXECUTORS`] with a virtual clock: the body runs under
/// `aiokit::clock::VirtualClock::new().run(..)`, so its timers wait for
/// virtual time only.
#[cfg(feature = "time")]
pub const VIRTUAL_EXECUTORS: &[(&str, Executor)] = &[
    ("virtual clock, smol::block_on", |body| {
        smol::block_on(aiokit::clock::VirtualClock::new().run(body))
    }),
    ("virtual clock, futures::executor::block_on", |body| {
        futures::executor::block_on(aiokit::clock::VirtualClock::new().run(body))
    }),
    ("virtual clock, smol::Executor x2 threads", |body| {
        smol_executor(Box::pin(aiokit::clock::VirtualClock::new().run(body)))
    }),
    ("virtual clock, tokio multi_thread x2", |body| {
        tokio_multi_thread(Box::pin(aiokit::clock::VirtualClock::new().run(body)))
    }),
];

/// Runs the body made by `make` under every executor on the virtual clock
/// ([`VIRTUAL_EXECUTORS`]): for tests of logic that waits on timers.
#[cfg(feature = "time")]
#[track_caller]
pub fn virtual_matrix<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    for (name, run) in VIRTUAL_EXECUTORS {
        on_executor(name, *run, make());
    }
}

/// Runs the body made by `make` under every executor on its real timers
/// ([`EXECUTORS`]: async-io's, or tokio's under tokio with the `tokio`
/// feature) and on the virtual clock ([`VIRTUAL_EXECUTORS`]).
#[cfg(feature = "time")]
#[track_caller]
pub fn time_matrix<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    matrix(&make);
    virtual_matrix(make);
}

/// Runs `f`, which must panic, and returns the panic's location as
/// `file:line`, as the panic hook sees it: with `#[track_caller]` on the
/// panicking function, the caller's line. Only panics of this thread are
/// captured; others go to the previous hook.
pub fn panic_location(f: impl FnOnce()) -> String {
    use std::sync::{Mutex, PoisonError};
    // One capture at a time: the hook is global.
    static HOOK: Mutex<()> = Mutex::new(());
    let _one = HOOK.lock().unwrap_or_else(PoisonError::into_inner);
    let me = std::thread::current().id();
    let seen: Arc<Mutex<Option<String>>> = Arc::default();
    let previous: Arc<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync> =
        Arc::from(std::panic::take_hook());
    {
        let (seen, previous) = (seen.clone(), previous.clone());
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().id() == me {
                *seen.lock().unwrap_or_else(PoisonError::into_inner) = info
                    .location()
                    .map(|at| format!("{}:{}", at.file(), at.line()));
            } else {
                previous(info);
            }
        }));
    }
    let outcome = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(Box::new(move |info| previous(info)));
    assert!(outcome.is_err(), "no panic");
    let seen = seen.lock().unwrap_or_else(PoisonError::into_inner).take();
    seen.expect("the hook saw the panic")
}

/// A paginated source of `0..6`, two items a page.
pub fn numbers()
-> impl futures::Stream<Item = Result<u32, aiokit::PageError<std::io::Error, u32>>> + Send + Unpin {
    aiokit::paginate(0u32, |page| async move {
        let items = vec![page * 2, page * 2 + 1];
        Ok::<_, std::io::Error>(if page < 2 {
            aiokit::Page::next(items, page + 1)
        } else {
            aiokit::Page::last(items)
        })
    })
}

/// Children that log each of their polls, wait until opened (keeping a clone
/// of the last waker they were polled with), then resolve to their number.
pub struct Gates {
    polls: Arc<std::sync::Mutex<Vec<usize>>>,
    open: Vec<Arc<std::sync::atomic::AtomicBool>>,
    wakers: Vec<Arc<std::sync::Mutex<Option<Waker>>>>,
}

impl Gates {
    /// `n` gated children.
    pub fn new(n: usize) -> (Self, Vec<BoxFut<usize>>) {
        let gates = Self {
            polls: Arc::default(),
            open: (0..n).map(|_| Arc::default()).collect(),
            wakers: (0..n).map(|_| Arc::default()).collect(),
        };
        let children = (0..n)
            .map(|i| {
                let (polls, open, waker) = (
                    gates.polls.clone(),
                    gates.open[i].clone(),
                    gates.wakers[i].clone(),
                );
                Box::pin(std::future::poll_fn(move |cx| {
                    polls.lock().unwrap().push(i);
                    if open.load(Ordering::SeqCst) {
                        return Poll::Ready(i);
                    }
                    *waker.lock().unwrap() = Some(cx.waker().clone());
                    Poll::Pending
                })) as BoxFut<usize>
            })
            .collect();
        (gates, children)
    }

    /// Opens child `i` and wakes it.
    pub fn open(&self, i: usize) {
        self.open[i].store(true, Ordering::SeqCst);
        self.wake(i);
    }

    /// Wakes child `i` without opening it.
    pub fn wake(&self, i: usize) {
        if let Some(waker) = self.wakers[i].lock().unwrap().take() {
            waker.wake();
        }
    }

    /// The children polled so far, in order.
    pub fn polls(&self) -> Vec<usize> {
        self.polls.lock().unwrap().clone()
    }
}
