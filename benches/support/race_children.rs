//! The children and the driver of the race benchmark (`benches/race.rs`),
//! shared with the instruction counts (`benches/instructions.rs`).

#![allow(dead_code)] // each bench uses a part

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures::task::AtomicWaker;

/// Opened once by the benchmark; the winner waits on it in `woken`.
#[derive(Default)]
pub(crate) struct Gate {
    open: AtomicBool,
    waker: AtomicWaker,
}

impl Gate {
    fn open(&self) {
        self.open.store(true, Ordering::Release);
        self.wake();
    }

    /// Wakes the waiting child without letting it finish.
    fn wake(&self) {
        self.waker.wake();
    }
}

/// Waits until the gate is open.
struct Wait(Arc<Gate>);

impl Future for Wait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.open.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        self.0.waker.register(cx.waker());
        // Checked again after registering, as `AtomicWaker` users must.
        if self.0.open.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

/// What a child does before it returns its index.
enum Kind {
    /// Nothing: ready on its first poll.
    Now,
    /// Waits on its gate.
    Gate(Arc<Gate>),
}

/// One child type (not `Unpin`) for every workload.
async fn child(i: usize, kind: Kind) -> usize {
    match kind {
        Kind::Now => {}
        Kind::Gate(gate) => Wait(gate).await,
    }
    i
}

/// Loser wakes before the winner's gate opens, in `churn`.
const CHURN_WAKES: usize = 100;

#[derive(Clone, Copy)]
pub(crate) enum Workload {
    Ready,
    Woken,
    Churn,
}

/// The children of one race (the winner is child `n / 2`) and every gate.
pub(crate) fn setup(
    n: usize,
    workload: Workload,
) -> (Vec<impl Future<Output = usize>>, Vec<Arc<Gate>>) {
    let winner = n / 2;
    let mut gates = Vec::new();
    let kids = (0..n)
        .map(|i| {
            let kind = match (workload, i == winner) {
                (Workload::Ready, true) => Kind::Now,
                _ => {
                    let gate = Arc::<Gate>::default();
                    gates.push(gate.clone());
                    Kind::Gate(gate)
                }
            };
            child(i, kind)
        })
        .collect();
    (kids, gates)
}

pub(crate) fn poll<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(crate::task_waker::task_waker()))
}

/// Drives one race to its winner: one poll (`ready`); or a poll, the
/// winner's gate, a poll (`woken`); or a poll, `CHURN_WAKES` loser wakes each
/// followed by a poll, the winner's gate, a poll (`churn`).
pub(crate) fn finish<F: Future<Output = usize> + Unpin>(
    mut race: F,
    gates: Vec<Arc<Gate>>,
    workload: Workload,
) -> usize {
    if !matches!(workload, Workload::Ready) {
        assert!(poll(&mut race).is_pending());
        let winner = gates.len() / 2;
        let last = gates.len() - 1;
        if matches!(workload, Workload::Churn) && last > 0 {
            for k in 0..CHURN_WAKES {
                // Every gate but the winner's, round robin.
                let i = (winner + 1 + k % last) % gates.len();
                gates[i].wake();
                assert!(poll(&mut race).is_pending());
            }
        }
        gates[winner].open();
    }
    let out = match poll(&mut race) {
        Poll::Ready(winner) => winner,
        Poll::Pending => panic!("the winner did not win"),
    };
    // The losers' gates go with the race (the children hold the other
    // halves), inside the timed part for every contender alike.
    drop(race);
    drop(gates);
    out
}
