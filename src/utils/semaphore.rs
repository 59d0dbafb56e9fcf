//! A small fair (FIFO) async semaphore for [`ThreadLimiter`](crate::ThreadLimiter).
//!
//! Written here because the library may depend only on futures-core,
//! futures-util, pin-project-lite, async-io and blocking: async-lock and
//! event-listener are not among them, and futures-util has no semaphore.
//!
//! Design: one `Mutex` around the free count and a queue of waiters in arrival
//! order. A released permit is handed directly to the oldest waiter (never put
//! back while someone waits), so a newcomer cannot overtake the queue and the
//! order is strictly first come, first served. A waiter dropped while queued
//! removes itself; a waiter dropped after being handed a permit but before
//! taking it passes the permit on, so no permit leaks and no wake-up is lost.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::utils::sync::{Mutex, MutexGuard};

/// A cloneable handle to a shared fair semaphore.
#[derive(Clone)]
pub(crate) struct Semaphore {
    shared: Arc<Mutex<State>>,
}

struct State {
    /// The configured number of permits.
    capacity: usize,
    /// Permits nobody holds or has been handed.
    free: usize,
    /// Waiters in arrival order; ids increase from front to back.
    queue: VecDeque<Waiter>,
    /// Ids of waiters that were handed a permit but have not taken it yet.
    granted: Vec<u64>,
    next_id: u64,
}

struct Waiter {
    id: u64,
    waker: Option<Waker>,
}

impl State {
    /// Gives one permit to the oldest waiter, or back to the pool. Returns the
    /// waker to call once the lock is released.
    fn release_one(&mut self) -> Option<Waker> {
        match self.queue.pop_front() {
            Some(waiter) => {
                self.granted.push(waiter.id);
                waiter.waker
            }
            None => {
                self.free += 1;
                debug_assert!(self.free <= self.capacity);
                None
            }
        }
    }
}

impl Semaphore {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            shared: Arc::new(Mutex::new(State {
                capacity,
                free: capacity,
                queue: VecDeque::new(),
                granted: Vec::new(),
                next_id: 0,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No code panics while holding the lock, but never propagate poison.
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A future resolving to a permit. It joins the queue on its first poll.
    pub(crate) fn acquire(&self) -> Acquire {
        Acquire {
            semaphore: self.clone(),
            id: None,
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.lock().capacity
    }

    /// Permits currently held or handed out.
    pub(crate) fn in_use(&self) -> usize {
        let state = self.lock();
        state.capacity - state.free
    }

    /// Callers waiting in the queue.
    pub(crate) fn waiting(&self) -> usize {
        self.lock().queue.len()
    }

    fn release(&self) {
        let waker = self.lock().release_one();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Semaphore")
            .field("capacity", &state.capacity)
            .field("in_use", &(state.capacity - state.free))
            .field("waiting", &state.queue.len())
            .finish()
    }
}

/// One permit; released (handed to the oldest waiter) when dropped.
pub(crate) struct Permit {
    semaphore: Semaphore,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.semaphore.release();
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

/// Future for [`Semaphore::acquire`].
pub(crate) struct Acquire {
    semaphore: Semaphore,
    /// `Some` once queued (or granted and not yet taken).
    id: Option<u64>,
}

impl Acquire {
    pub(crate) fn is_queued(&self) -> bool {
        self.id.is_some()
    }
}

impl Future for Acquire {
    type Output = Permit;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit> {
        let this = &mut *self;
        let mut state = this.semaphore.lock();
        match this.id {
            None => {
                if state.queue.is_empty() && state.free > 0 {
                    state.free -= 1;
                } else {
                    let id = state.next_id;
                    state.next_id += 1;
                    state.queue.push_back(Waiter {
                        id,
                        waker: Some(cx.waker().clone()),
                    });
                    this.id = Some(id);
                    return Poll::Pending;
                }
            }
            Some(id) => {
                if let Some(at) = state.granted.iter().position(|&g| g == id) {
                    state.granted.swap_remove(at);
                    this.id = None;
                } else {
                    let at = state
                        .queue
                        .binary_search_by_key(&id, |w| w.id)
                        .expect("a waiter that was not granted is queued");
                    let waiter = &mut state.queue[at];
                    match &mut waiter.waker {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        slot => *slot = Some(cx.waker().clone()),
                    }
                    return Poll::Pending;
                }
            }
        }
        drop(state);
        Poll::Ready(Permit {
            semaphore: this.semaphore.clone(),
        })
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        let Some(id) = self.id else { return };
        let mut state = self.semaphore.lock();
        if let Some(at) = state.granted.iter().position(|&g| g == id) {
            // Handed a permit that was never taken: pass it on.
            state.granted.swap_remove(at);
            let waker = state.release_one();
            drop(state);
            if let Some(waker) = waker {
                waker.wake();
            }
        } else if let Ok(at) = state.queue.binary_search_by_key(&id, |w| w.id) {
            state.queue.remove(at);
        }
    }
}

impl fmt::Debug for Acquire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("queued", &self.id.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    fn poll(acquire: &mut Acquire, waker: &Waker) -> Poll<Permit> {
        Pin::new(acquire).poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn immediate_while_free() {
        let sem = Semaphore::new(2);
        let (_, w) = waker();
        let a = poll(&mut sem.acquire(), &w);
        let b = poll(&mut sem.acquire(), &w);
        assert!(a.is_ready() && b.is_ready());
        assert_eq!(sem.in_use(), 2);
        let mut c = sem.acquire();
        assert!(poll(&mut c, &w).is_pending());
        assert!(c.is_queued());
        assert_eq!(sem.waiting(), 1);
        drop(a);
        let c = poll(&mut c, &w);
        assert!(c.is_ready());
        drop(b);
        assert_eq!(sem.in_use(), 1);
        drop(c);
        assert_eq!(sem.in_use(), 0);
    }

    #[test]
    fn fifo_hand_off_and_no_barging() {
        let sem = Semaphore::new(1);
        let (count, w) = waker();
        let held = poll(&mut sem.acquire(), &w);
        let mut queued: Vec<Acquire> = (0..5).map(|_| sem.acquire()).collect();
        for q in &mut queued {
            assert!(poll(q, &w).is_pending());
        }
        let mut order = Vec::new();
        let Poll::Ready(mut current) = held else {
            panic!("free permit")
        };
        for _ in 0..5 {
            drop(current);
            // A newcomer arriving after a release must not take the permit.
            let mut newcomer = sem.acquire();
            assert!(poll(&mut newcomer, &w).is_pending());
            drop(newcomer);
            let ready: Vec<usize> = (0..queued.len())
                .filter(|&i| queued[i].is_queued())
                .collect();
            let mut got = None;
            for i in ready {
                if let Poll::Ready(p) = poll(&mut queued[i], &w) {
                    assert!(got.is_none(), "two waiters got the single permit");
                    got = Some((i, p));
                }
            }
            let (i, p) = got.expect("the oldest waiter was handed the permit");
            order.push(i);
            current = p;
        }
        assert_eq!(order, [0, 1, 2, 3, 4]);
        assert_eq!(count.0.load(Ordering::SeqCst), 5);
        drop(current);
        assert_eq!(sem.in_use(), 0);
    }

    #[test]
    fn dropped_waiters_leak_nothing() {
        let sem = Semaphore::new(1);
        let (_, w) = waker();
        let held = poll(&mut sem.acquire(), &w);
        let mut a = sem.acquire();
        let mut b = sem.acquire();
        let mut c = sem.acquire();
        assert!(poll(&mut a, &w).is_pending());
        assert!(poll(&mut b, &w).is_pending());
        assert!(poll(&mut c, &w).is_pending());
        // `a` is dropped while queued: it leaves the queue.
        drop(a);
        assert_eq!(sem.waiting(), 2);
        // The permit goes to `b`, which is dropped before taking it: it moves
        // on to `c` (and `c` is woken).
        let (count, wc) = waker();
        assert!(poll(&mut c, &wc).is_pending());
        drop(held);
        drop(b);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        let permit = poll(&mut c, &wc);
        assert!(permit.is_ready());
        drop(permit);
        assert_eq!((sem.in_use(), sem.waiting()), (0, 0));
        // Everything is back: the full capacity is available again.
        assert!(poll(&mut sem.acquire(), &w).is_ready());
    }

    #[test]
    fn dropping_a_granted_waiter_with_nobody_behind_frees_the_permit() {
        let sem = Semaphore::new(1);
        let (_, w) = waker();
        let held = poll(&mut sem.acquire(), &w);
        let mut a = sem.acquire();
        assert!(poll(&mut a, &w).is_pending());
        drop(held);
        drop(a);
        assert_eq!(sem.in_use(), 0);
        assert_eq!(sem.capacity(), 1);
    }

    #[test]
    fn threads_never_exceed_capacity() {
        const CAP: usize = 3;
        let sem = Semaphore::new(CAP);
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let sem = sem.clone();
                let running = running.clone();
                let peak = peak.clone();
                std::thread::spawn(move || {
                    for _ in 0..if cfg!(miri) { 5 } else { 200 } {
                        let permit = block(sem.acquire());
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        running.fetch_sub(1, Ordering::SeqCst);
                        drop(permit);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= CAP);
        assert_eq!(sem.in_use(), 0);
    }

    /// Blocks the thread on `fut`, parking between wakes.
    fn block(mut fut: Acquire) -> Permit {
        struct Unpark(std::thread::Thread);
        impl Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        loop {
            if let Poll::Ready(p) = poll(&mut fut, &waker) {
                return p;
            }
            std::thread::park();
        }
    }

    #[cfg(not(miri))]
    #[derive(Debug, Clone)]
    enum Op {
        New,
        PollAll,
        DropWaiter(usize),
        Release(usize),
    }

    #[cfg(not(miri))]
    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            3 => Just(Op::New),
            2 => Just(Op::PollAll),
            1 => any::<usize>().prop_map(Op::DropWaiter),
            2 => any::<usize>().prop_map(Op::Release),
        ]
    }

    #[cfg(not(miri))]
    proptest::proptest! {
        /// Random acquires, polls, cancellations and releases against the
        /// model: never more than `cap` holders, nobody is overtaken by a
        /// younger caller, and after polling everyone no waiter sleeps while a permit
        /// is free.
        #[test]
        fn model(cap in 1_usize..4, ops in proptest::collection::vec(op(), 1..80)) {
            let sem = Semaphore::new(cap);
            let (_, w) = waker();
            let mut next_seq = 0_usize;
            let mut waiting: Vec<(usize, Acquire)> = Vec::new();
            let mut held: Vec<Permit> = Vec::new();
            // The youngest caller that got a permit. A caller still pending
            // after everyone was polled must be younger than it: otherwise
            // someone overtook it.
            let mut youngest: Option<usize> = None;
            for op in ops {
                match op {
                    Op::New => {
                        let seq = next_seq;
                        next_seq += 1;
                        let mut a = sem.acquire();
                        match poll(&mut a, &w) {
                            Poll::Ready(p) => { youngest = youngest.max(Some(seq)); held.push(p) }
                            Poll::Pending => waiting.push((seq, a)),
                        }
                    }
                    Op::PollAll => {
                        let mut still = Vec::new();
                        for (seq, mut a) in waiting.drain(..) {
                            match poll(&mut a, &w) {
                                Poll::Ready(p) => { youngest = youngest.max(Some(seq)); held.push(p) }
                                Poll::Pending => still.push((seq, a)),
                            }
                        }
                        waiting = still;
                        for (seq, _) in &waiting {
                            assert!(Some(*seq) > youngest, "{seq} was overtaken by {youngest:?}");
                        }
                        assert!(held.len() == cap || waiting.is_empty(), "a waiter sleeps beside a free permit");
                    }
                    Op::DropWaiter(k) if !waiting.is_empty() => { waiting.remove(k % waiting.len()); }
                    Op::Release(k) if !held.is_empty() => { held.remove(k % held.len()); }
                    _ => {}
                }
                assert!(held.len() <= cap);
                assert!(sem.in_use() >= held.len());
                assert_eq!(sem.waiting() + (sem.in_use() - held.len()), waiting.len());
            }
            drop(waiting);
            drop(held);
            assert_eq!((sem.in_use(), sem.waiting()), (0, 0));
        }
    }
}

/// loom models of the hand-off, run with
/// `RUSTFLAGS="--cfg aiokit_loom" cargo test --release --lib loom` (the state's lock
/// is loom's there, see `utils::sync`).
///
/// What they prove, for every interleaving loom explores (all of them with up
/// to 3 preemptions; `LOOM_MAX_PREEMPTIONS` changes the bound):
///
/// * `loom_release_races_a_cancelled_waiter`: a permit released while the
///   oldest waiter is dropped (before or after it was handed the permit)
///   reaches the next waiter, which is woken (`block_on` would report a
///   deadlock), and afterwards every permit is back.
/// * `loom_two_releases_two_waiters`: two permits released from two threads
///   to two waiters, one of them cancelled concurrently: the other gets one,
///   and no permit is lost or counted twice.
#[cfg(all(test, aiokit_loom))]
mod loom_models {
    use super::*;
    use loom::thread;

    use crate::utils::sync::loom_model as model;

    fn poll_noop(acquire: &mut Acquire) -> Poll<Permit> {
        Pin::new(acquire).poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn loom_release_races_a_cancelled_waiter() {
        model(|| {
            let sem = Semaphore::new(1);
            let Poll::Ready(held) = poll_noop(&mut sem.acquire()) else {
                panic!("a free permit")
            };
            let mut first = sem.acquire();
            let mut second = sem.acquire();
            assert!(poll_noop(&mut first).is_pending());
            assert!(poll_noop(&mut second).is_pending());
            let cancel = thread::spawn(move || drop(first));
            let release = thread::spawn(move || drop(held));
            let permit = loom::future::block_on(second);
            cancel.join().unwrap();
            release.join().unwrap();
            assert_eq!((sem.in_use(), sem.waiting()), (1, 0));
            drop(permit);
            assert_eq!(sem.in_use(), 0);
        });
    }

    #[test]
    fn loom_two_releases_two_waiters() {
        model(|| {
            let sem = Semaphore::new(2);
            let Poll::Ready(a) = poll_noop(&mut sem.acquire()) else {
                panic!("a free permit")
            };
            let Poll::Ready(b) = poll_noop(&mut sem.acquire()) else {
                panic!("a free permit")
            };
            let mut first = sem.acquire();
            let mut second = sem.acquire();
            assert!(poll_noop(&mut first).is_pending());
            assert!(poll_noop(&mut second).is_pending());
            let release_a = thread::spawn(move || drop(a));
            let cancel = thread::spawn(move || drop(first));
            drop(b);
            let permit = loom::future::block_on(second);
            release_a.join().unwrap();
            cancel.join().unwrap();
            assert_eq!((sem.in_use(), sem.waiting()), (1, 0));
            drop(permit);
            assert_eq!(sem.in_use(), 0);
        });
    }
}
