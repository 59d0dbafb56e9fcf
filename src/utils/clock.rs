//! The clock seam: every timer of the crate (the deadlines of `time.rs`, the
//! backoff and rate limit of `paginate`) is a [`Timer`] from here, and every
//! clock read is [`now()`].
//!
//! The backend is chosen where a timer is first armed, in this order:
//!
//! 1. a virtual clock made current on this thread by [`enter`] (the public
//!    `VirtualClock` does so around each poll of the future it runs);
//! 2. with the `tokio` feature, the time driver of the tokio runtime this
//!    thread is in (`Handle::try_current()`);
//! 3. async-io's timers otherwise; on the JavaScript host
//!    (`wasm32-unknown-unknown`: browsers, node, workers), the host's
//!    `setTimeout`, through gloo-timers.
//!
//! A timer keeps its backend for life: re-arming it ([`Timer::set_at`])
//! moves its deadline on the same clock, and its clock reads
//! ([`Timer::now`]) come from that clock too.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
use std::future::Future;
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

pub(crate) use self::instant::Instant;

mod instant {
    // std's `Instant::now()` panics on the JavaScript host; web-time's reads
    // `performance.now()` there, and is std's own elsewhere.
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    pub(crate) use std::time::Instant;
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    pub(crate) use web_time::Instant;
}

/// The current time on the clock that a timer armed here and now would use.
#[inline]
pub(crate) fn now() -> Instant {
    Clock::current().now()
}

/// The clock a timer armed here and now would use: found once, then read
/// and armed on, so that arming a timer looks the runtime up only once.
pub(crate) enum Clock {
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    AsyncIo,
    /// This thread is in a tokio runtime's context.
    #[cfg(all(
        feature = "tokio",
        not(all(target_arch = "wasm32", target_os = "unknown"))
    ))]
    Tokio,
    Virtual(Arc<VirtualCore>),
    /// The JavaScript host's `setTimeout`.
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    Web,
}

impl Clock {
    /// The clock of this thread (see the module docs for the order).
    #[inline]
    pub(crate) fn current() -> Self {
        if let Some(core) = with_current(Arc::clone) {
            return Clock::Virtual(core);
        }
        #[cfg(all(
            feature = "tokio",
            not(all(target_arch = "wasm32", target_os = "unknown"))
        ))]
        if tokio::runtime::Handle::try_current().is_ok() {
            return Clock::Tokio;
        }
        #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
        return Clock::AsyncIo;
        #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
        return Clock::Web;
    }

    #[inline]
    pub(crate) fn now(&self) -> Instant {
        match self {
            #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
            Clock::AsyncIo => Instant::now(),
            #[cfg(all(
                feature = "tokio",
                not(all(target_arch = "wasm32", target_os = "unknown"))
            ))]
            Clock::Tokio => tokio::time::Instant::now().into_std(),
            Clock::Virtual(core) => core.now(),
            #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
            Clock::Web => Instant::now(),
        }
    }

    /// A timer at `deadline` on this clock.
    pub(crate) fn timer_at(self, deadline: Instant) -> Timer {
        let backend = match self {
            #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
            Clock::AsyncIo => Backend::AsyncIo(async_io::Timer::at(deadline)),
            // Still in the runtime's context (a `Clock` is used where it is
            // found), so `sleep_until` finds the runtime. It panics with
            // tokio's message, which names `enable_time`, if the runtime
            // was built without its time driver.
            #[cfg(all(
                feature = "tokio",
                not(all(target_arch = "wasm32", target_os = "unknown"))
            ))]
            Clock::Tokio => Backend::Tokio(Box::pin(tokio::time::sleep_until(
                tokio::time::Instant::from_std(deadline),
            ))),
            Clock::Virtual(core) => Backend::Virtual(VirtualTimer::new(core, deadline)),
            #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
            Clock::Web => Backend::Web(web::WebTimer::new(deadline)),
        };
        Timer { backend }
    }
}

/// A timer at one deadline on one clock, re-armable.
pub(crate) struct Timer {
    backend: Backend,
}

enum Backend {
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    AsyncIo(async_io::Timer),
    // Boxed: tokio's `Sleep` is `!Unpin`, and aiokit's `Sleep` and
    // `Timeout<F: Unpin>` stay `Unpin` whatever the backend.
    #[cfg(all(
        feature = "tokio",
        not(all(target_arch = "wasm32", target_os = "unknown"))
    ))]
    Tokio(Pin<Box<tokio::time::Sleep>>),
    Virtual(VirtualTimer),
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    Web(web::WebTimer),
}

impl Timer {
    /// A timer at `deadline` on the current clock (see the module docs).
    pub(crate) fn at(deadline: Instant) -> Self {
        Clock::current().timer_at(deadline)
    }

    /// The current time on this timer's clock.
    pub(crate) fn now(&self) -> Instant {
        match &self.backend {
            #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
            Backend::AsyncIo(_) => Instant::now(),
            #[cfg(all(
                feature = "tokio",
                not(all(target_arch = "wasm32", target_os = "unknown"))
            ))]
            Backend::Tokio(_) => tokio::time::Instant::now().into_std(),
            Backend::Virtual(timer) => timer.core.now(),
            #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
            Backend::Web(_) => Instant::now(),
        }
    }

    /// Moves the deadline. A timer that was polled keeps its waker: it wakes
    /// that task at the new deadline without another poll.
    pub(crate) fn set_at(&mut self, deadline: Instant) {
        match &mut self.backend {
            #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
            Backend::AsyncIo(timer) => timer.set_at(deadline),
            #[cfg(all(
                feature = "tokio",
                not(all(target_arch = "wasm32", target_os = "unknown"))
            ))]
            Backend::Tokio(sleep) => sleep
                .as_mut()
                .reset(tokio::time::Instant::from_std(deadline)),
            Backend::Virtual(timer) => timer.set_at(deadline),
            #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
            Backend::Web(timer) => timer.set_at(deadline),
        }
    }

    /// Disarms the timer until the next [`set_at`](Self::set_at), as far as
    /// the backend allows: async-io's and the virtual clock's deregister it.
    /// A tokio timer stays registered (tokio has no way to disarm one short
    /// of a re-registration at a far deadline, which costs more than the one
    /// spurious wake it can cause); every caller re-arms before it polls
    /// again, so the worst case is a wake that finds nothing to do.
    pub(crate) fn clear(&mut self) {
        match &mut self.backend {
            #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
            Backend::AsyncIo(timer) => timer.clear(),
            #[cfg(all(
                feature = "tokio",
                not(all(target_arch = "wasm32", target_os = "unknown"))
            ))]
            Backend::Tokio(_) => {}
            Backend::Virtual(timer) => timer.clear(),
            #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
            Backend::Web(timer) => timer.clear(),
        }
    }

    /// Ready once the deadline has passed (and on every poll after that,
    /// until [`set_at`](Self::set_at) moves it).
    #[inline]
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.backend {
            #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
            Backend::AsyncIo(timer) => Pin::new(timer).poll(cx).map(drop),
            #[cfg(all(
                feature = "tokio",
                not(all(target_arch = "wasm32", target_os = "unknown"))
            ))]
            Backend::Tokio(sleep) => sleep.as_mut().poll(cx),
            Backend::Virtual(timer) => timer.poll(cx),
            #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
            Backend::Web(timer) => timer.poll(cx),
        }
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let backend = match &self.backend {
            #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
            Backend::AsyncIo(_) => "async-io",
            #[cfg(all(
                feature = "tokio",
                not(all(target_arch = "wasm32", target_os = "unknown"))
            ))]
            Backend::Tokio(_) => "tokio",
            Backend::Virtual(_) => "virtual",
            #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
            Backend::Web(_) => "setTimeout",
        };
        f.debug_struct("Timer").field("clock", &backend).finish()
    }
}

// The virtual clock.

thread_local! {
    /// The virtual clock of the future being polled on this thread, if any.
    static CURRENT: RefCell<Option<Arc<VirtualCore>>> = const { RefCell::new(None) };
}

fn with_current<R>(f: impl FnOnce(&Arc<VirtualCore>) -> R) -> Option<R> {
    CURRENT.with(|current| current.borrow().as_ref().map(f))
}

/// Makes `core` the current clock of this thread until the guard drops,
/// restoring the previous one then (also on a panic).
pub(crate) fn enter(core: &Arc<VirtualCore>) -> EnterGuard {
    let previous = CURRENT.with(|current| current.replace(Some(core.clone())));
    EnterGuard { previous }
}

pub(crate) struct EnterGuard {
    previous: Option<Arc<VirtualCore>>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

/// A clock that moves only when told to: the shared state of a
/// `VirtualClock` and of every timer armed on it.
pub(crate) struct VirtualCore {
    /// A real instant taken when the clock was made: virtual time is this
    /// plus `State::elapsed`, so virtual instants are ordinary `Instant`s.
    origin: Instant,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    elapsed: Duration,
    /// Armed timers by deadline, then arming order (unique ids), with the
    /// waker of their last pending poll. A timer leaves the table when it
    /// fires or drops; re-arming puts it back.
    timers: BTreeMap<(Instant, u64), Option<Waker>>,
    next_id: u64,
    /// Work outside the clock's reach that is still running (a `to_thread`
    /// call): while any is, the clock does not jump by itself.
    holds: usize,
}

impl VirtualCore {
    pub(crate) fn new() -> Self {
        Self {
            origin: Instant::now(),
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn now(&self) -> Instant {
        self.origin + self.lock().elapsed
    }

    /// The real instant at which the clock was made (its time zero).
    pub(crate) fn origin(&self) -> Instant {
        self.origin
    }

    /// The latest deadline of an armed timer.
    pub(crate) fn last_deadline(&self) -> Option<Instant> {
        self.lock().timers.keys().next_back().map(|(at, _)| *at)
    }

    /// The earliest deadline of an armed timer.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.lock().timers.keys().next().map(|(at, _)| *at)
    }

    /// How many timers are armed and not yet fired.
    pub(crate) fn armed(&self) -> usize {
        self.lock().timers.len()
    }

    /// Moves the clock to `to` (never backwards) and wakes every timer due
    /// by then. Returns how many fired.
    pub(crate) fn advance_to(&self, to: Instant) -> usize {
        let due = {
            let mut state = self.lock();
            let elapsed = to.saturating_duration_since(self.origin);
            if elapsed > state.elapsed {
                state.elapsed = elapsed;
            }
            let now = self.origin + state.elapsed;
            let mut due = Vec::new();
            while let Some(entry) = state.timers.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                due.push(entry.remove());
            }
            due
        };
        let fired = due.len();
        // Woken outside the lock: a waker may poll its task inline.
        for waker in due.into_iter().flatten() {
            waker.wake();
        }
        fired
    }

    /// Jumps to the next deadline and fires the timers due then, unless work
    /// outside the clock holds it. Returns how many fired.
    pub(crate) fn jump(&self) -> usize {
        let next = {
            let state = self.lock();
            if state.holds > 0 {
                return 0;
            }
            match state.timers.keys().next() {
                Some((at, _)) => *at,
                None => return 0,
            }
        };
        self.advance_to(next)
    }

    /// Holds the clock while the returned guard lives (see `State::holds`).
    pub(crate) fn hold(self: &Arc<Self>) -> Hold {
        self.lock().holds += 1;
        Hold { core: self.clone() }
    }
}

/// Keeps a virtual clock from jumping by itself while it lives.
pub(crate) struct Hold {
    core: Arc<VirtualCore>,
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.core.lock().holds -= 1;
    }
}

impl fmt::Debug for Hold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hold")
    }
}

/// A hold on the current virtual clock, if this thread has one: for work
/// that runs outside the clock's reach (another thread) and must finish
/// before the clock jumps past it.
#[cfg_attr(
    not(all(
        feature = "thread",
        not(all(target_arch = "wasm32", target_os = "unknown"))
    )),
    allow(dead_code)
)]
pub(crate) fn hold_current() -> Option<Hold> {
    with_current(|core| core.hold())
}

struct VirtualTimer {
    core: Arc<VirtualCore>,
    deadline: Instant,
    id: u64,
}

impl VirtualTimer {
    fn new(core: Arc<VirtualCore>, deadline: Instant) -> Self {
        let id = {
            let mut state = core.lock();
            state.next_id += 1;
            state.next_id
        };
        Self { core, deadline, id }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.core.lock();
        let key = (self.deadline, self.id);
        if self.deadline <= self.core.origin + state.elapsed {
            state.timers.remove(&key);
            return Poll::Ready(());
        }
        let slot = state.timers.entry(key).or_insert(None);
        match slot {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    fn set_at(&mut self, deadline: Instant) {
        let woken = {
            let mut state = self.core.lock();
            let waker = state.timers.remove(&(self.deadline, self.id)).flatten();
            self.deadline = deadline;
            if deadline <= self.core.origin + state.elapsed {
                waker
            } else {
                if waker.is_some() {
                    state.timers.insert((deadline, self.id), waker);
                }
                None
            }
        };
        if let Some(waker) = woken {
            waker.wake();
        }
    }
}

impl VirtualTimer {
    fn clear(&mut self) {
        let removed = self.core.lock().timers.remove(&(self.deadline, self.id));
        drop(removed);
    }
}

impl Drop for VirtualTimer {
    fn drop(&mut self) {
        let removed = self.core.lock().timers.remove(&(self.deadline, self.id));
        drop(removed);
    }
}

/// The JavaScript host's timers: `setTimeout` through gloo-timers (which
/// works in browsers, workers and node alike), woken from the host's event
/// loop.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod web {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::task::{Context, Poll, Waker};

    use gloo_timers::callback::Timeout;

    use super::Instant;

    /// `setTimeout` takes a signed 32-bit delay in milliseconds; a longer
    /// wait is armed in steps of this length.
    const MAX_DELAY_MS: u128 = i32::MAX as u128;

    pub(super) struct WebTimer {
        deadline: Instant,
        /// The waker of the last pending poll, and whether the scheduled
        /// callback has run.
        shared: Rc<RefCell<Shared>>,
        /// The scheduled callback; dropping it calls `clearTimeout`.
        scheduled: Option<Timeout>,
    }

    #[derive(Default)]
    struct Shared {
        waker: Option<Waker>,
        ran: bool,
    }

    impl WebTimer {
        pub(super) fn new(deadline: Instant) -> Self {
            Self {
                deadline,
                shared: Rc::default(),
                scheduled: None,
            }
        }

        /// Schedules the callback for the deadline (or the longest delay
        /// the host takes), replacing any scheduled one.
        fn schedule(&mut self, now: Instant) {
            let wait = self.deadline.saturating_duration_since(now);
            // Rounded up: the host may run the callback a little early by
            // `performance.now()`, and a callback that finds the deadline
            // not reached schedules again.
            let ms = wait.as_micros().div_ceil(1000).min(MAX_DELAY_MS) as u32;
            self.shared.borrow_mut().ran = false;
            let shared = self.shared.clone();
            self.scheduled = Some(Timeout::new(ms, move || {
                let waker = {
                    let mut shared = shared.borrow_mut();
                    shared.ran = true;
                    shared.waker.take()
                };
                if let Some(waker) = waker {
                    waker.wake();
                }
            }));
        }

        pub(super) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
            let now = Instant::now();
            if self.deadline <= now {
                self.scheduled = None;
                return Poll::Ready(());
            }
            {
                let mut shared = self.shared.borrow_mut();
                match &shared.waker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    _ => shared.waker = Some(cx.waker().clone()),
                }
            }
            let ran = self.shared.borrow().ran;
            if self.scheduled.is_none() || ran {
                self.schedule(now);
            }
            Poll::Pending
        }

        pub(super) fn set_at(&mut self, deadline: Instant) {
            self.deadline = deadline;
            self.scheduled = None;
            // A timer that was polled keeps waking its task: re-armed now,
            // or woken now if the new deadline has passed.
            if self.shared.borrow().waker.is_some() {
                let now = Instant::now();
                if deadline <= now {
                    let waker = self.shared.borrow_mut().waker.take();
                    if let Some(waker) = waker {
                        waker.wake();
                    }
                } else {
                    self.schedule(now);
                }
            }
        }

        pub(super) fn clear(&mut self) {
            self.scheduled = None;
        }
    }
}
