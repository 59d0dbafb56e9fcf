//! The children and the harness of the gather benchmark (`benches/gather.rs`),
//! shared with the instruction counts (`benches/instructions.rs`).

#![allow(dead_code)] // each bench uses a part

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};

use futures::channel::oneshot;

/// Drives `fut` to completion by polling it in a loop with the task's waker
/// ([`task_waker`](crate::task_waker::task_waker)), which nothing wakes.
///
/// Every workload below makes progress on every poll (the driver yields by
/// waking itself), so no wake is ever needed to make progress.
pub(crate) fn run<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(crate::task_waker::task_waker());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// Returns `Pending` once (waking itself), then `Ready`.
pub(crate) struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

pub(crate) fn yield_now() -> YieldNow {
    YieldNow(false)
}

/// A fixed permutation of `0..n` (xorshift64 Fisher-Yates, fixed seed).
pub(crate) fn shuffled(n: usize) -> Vec<usize> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        order.swap(i, (state % (i as u64 + 1)) as usize);
    }
    order
}

// ---------------------------------------------------------------- sparse ----

pub(crate) type Rx = oneshot::Receiver<u32>;

/// Receivers in input order, senders in the (shuffled) order they fire.
pub(crate) fn sparse_input(n: usize) -> (Vec<Rx>, Vec<(u32, oneshot::Sender<u32>)>) {
    let mut senders: Vec<Option<oneshot::Sender<u32>>> = Vec::with_capacity(n);
    let mut receivers = Vec::with_capacity(n);
    for _ in 0..n {
        let (tx, rx) = oneshot::channel();
        senders.push(Some(tx));
        receivers.push(rx);
    }
    let order = shuffled(n)
        .into_iter()
        .map(|i| (i as u32, senders[i].take().expect("a permutation")))
        .collect();
    (receivers, order)
}

pub(crate) async fn driver(order: Vec<(u32, oneshot::Sender<u32>)>) {
    for (value, tx) in order {
        tx.send(value).expect("the receiver is alive");
        yield_now().await;
    }
}

/// Joins `joined` with the driver, on the shared harness.
pub(crate) fn sparse<J: Future>(order: Vec<(u32, oneshot::Sender<u32>)>, joined: J) -> J::Output {
    run(futures::future::join(joined, driver(order))).0
}

// ------------------------------------------------------------- try_error ----

/// Fails on its first poll, or waits on a `futures::channel::oneshot`
/// receiver whose sender is kept alive (registering its waker there, as a
/// real pending child does).
pub(crate) enum TryChild {
    Fail(u32),
    Wait(Rx),
}

impl Future for TryChild {
    type Output = Result<u32, u32>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<u32, u32>> {
        match self.get_mut() {
            TryChild::Fail(index) => Poll::Ready(Err(*index)),
            TryChild::Wait(rx) => match Pin::new(rx).poll(cx) {
                Poll::Ready(Ok(v)) => Poll::Ready(Ok(v)),
                Poll::Ready(Err(_)) => unreachable!("the senders outlive the run"),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

pub(crate) type Senders = Vec<oneshot::Sender<u32>>;

/// The children (the one at `n / 2` fails) and the senders of the others,
/// which are dropped only after the clock stops.
pub(crate) fn try_input(n: usize) -> (Vec<TryChild>, Senders) {
    let mut senders = Vec::with_capacity(n);
    let children = (0..n as u32)
        .map(|index| {
            if index as usize == n / 2 {
                TryChild::Fail(index)
            } else {
                let (tx, rx) = oneshot::channel();
                senders.push(tx);
                TryChild::Wait(rx)
            }
        })
        .collect();
    (children, senders)
}

pub(crate) fn ready_input(n: usize) -> Vec<impl Future<Output = u32>> {
    (0..n as u32).map(|i| async move { i }).collect()
}
