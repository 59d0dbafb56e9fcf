//! A deterministic "step" child shared by the stream and group benches.
//!
//! A [`Clock`] counts driver steps. A [`Step`] child, on its first poll,
//! parks its waker in the clock's slab to be woken `delay` steps later (1 to
//! 4, fixed per index, so completion order differs from input order) and
//! returns `Pending`; once the clock has reached its due step it returns
//! `Ready(index)`. Polled early, it refreshes its parked waker as a real
//! leaf future does. The clock also keeps a live count of children started
//! and not yet finished, sampled at every driver step, which gives the mean
//! number of children in flight.

#![allow(dead_code)] // each bench uses a part

use std::cell::RefCell;
use std::future::Future;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// Longest delay, in driver steps.
const MAX_DELAY: u64 = 4;
/// Wheel slots: more than `MAX_DELAY`, a power of two.
const WHEEL: usize = 8;

#[derive(Default)]
struct Inner {
    now: u64,
    /// Parked wakers, by slab key.
    slab: Vec<Option<Waker>>,
    free: Vec<usize>,
    /// Slab keys due at each step, modulo `WHEEL`.
    wheel: [Vec<usize>; WHEEL],
    /// Children made so far, to bound the number of steps.
    created: u64,
    in_flight: u64,
    in_flight_sum: u64,
    steps: u64,
}

/// Shared driver state; cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Clock(Rc<RefCell<Inner>>);

impl Clock {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The child with input index `index`.
    pub(crate) fn child(&self, index: u32) -> Step {
        self.0.borrow_mut().created += 1;
        Step {
            clock: self.clone(),
            index,
            delay: delay(index),
            state: State::New,
        }
    }

    /// `n` children, indices `0..n`.
    pub(crate) fn children(&self, n: usize) -> Vec<Step> {
        (0..n as u32).map(|i| self.child(i)).collect()
    }

    /// Advances one step and wakes every child due now.
    pub(crate) fn step(&self) {
        let mut inner = self.0.borrow_mut();
        inner.now += 1;
        inner.steps += 1;
        inner.in_flight_sum += inner.in_flight;
        let slot = (inner.now as usize) % WHEEL;
        let mut due = std::mem::take(&mut inner.wheel[slot]);
        // Wakers only schedule (no combinator polls inside `wake`), so
        // waking under the borrow is fine.
        for &key in &due {
            if let Some(w) = inner.slab[key].take() {
                w.wake();
            }
            inner.free.push(key);
        }
        due.clear();
        inner.wheel[slot] = due;
    }

    /// Mean number of children in flight over the driver steps so far.
    pub(crate) fn mean_in_flight(&self) -> f64 {
        let inner = self.0.borrow();
        inner.in_flight_sum as f64 / inner.steps.max(1) as f64
    }
}

/// 1 to 4 steps, fixed per index (a multiplicative hash).
pub(crate) fn delay(index: u32) -> u64 {
    1 + ((index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 62) % MAX_DELAY
}

enum State {
    New,
    Parked { due: u64, key: usize },
    Done,
}

/// A child that completes `delay` driver steps after its first poll.
pub(crate) struct Step {
    clock: Clock,
    index: u32,
    delay: u64,
    state: State,
}

impl Future for Step {
    type Output = u32;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        let this = &mut *self;
        let mut inner = this.clock.0.borrow_mut();
        match this.state {
            State::New => {
                let due = inner.now + this.delay;
                let key = match inner.free.pop() {
                    Some(key) => {
                        inner.slab[key] = Some(cx.waker().clone());
                        key
                    }
                    None => {
                        inner.slab.push(Some(cx.waker().clone()));
                        inner.slab.len() - 1
                    }
                };
                inner.wheel[(due as usize) % WHEEL].push(key);
                inner.in_flight += 1;
                this.state = State::Parked { due, key };
                Poll::Pending
            }
            State::Parked { due, key } => {
                if inner.now >= due {
                    inner.in_flight -= 1;
                    this.state = State::Done;
                    Poll::Ready(this.index)
                } else {
                    match &mut inner.slab[key] {
                        Some(w) => w.clone_from(cx.waker()),
                        slot => *slot = Some(cx.waker().clone()),
                    }
                    Poll::Pending
                }
            }
            State::Done => panic!("Step polled after completion"),
        }
    }
}

/// Polls `fut` with the task's waker, one driver step between polls, until
/// done.
///
/// The children's wakers are the combinator's own (real) wakers; the
/// top-level waker ([`task_waker`](crate::task_waker::task_waker)) is
/// reference counted like an executor's, and waking it does nothing, since
/// the loop polls again after each step.
pub(crate) fn drive<F: Future>(clock: &Clock, fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(crate::task_waker::task_waker());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        clock.step();
        // Every child finishes within `MAX_DELAY` steps of its first poll,
        // so a run that takes far longer lost a wake: fail, do not hang.
        let inner = clock.0.borrow();
        assert!(
            inner.steps <= (MAX_DELAY + 1) * inner.created + 100,
            "no progress after {} steps: a wake was lost",
            inner.steps
        );
    }
}
