//! The contenders of the stream benchmark (`benches/stream.rs`), shared with
//! the instruction counts (`benches/instructions.rs`): each consumes a vector
//! of [`Step`] children through one bounded-concurrency stream combinator
//! with a limit of [`LIMIT`] and returns a checksum of the outputs.

#![allow(dead_code)] // each bench uses a part

use std::cell::Cell;
use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use aiokit::GatherStreamExt;
use futures::StreamExt;
use futures_buffered::BufferedStreamExt;
use futures_concurrency::concurrent_stream::ConcurrentStream;
use futures_concurrency::stream::StreamExt as _;

use crate::step::{Clock, Step, drive};

pub(crate) const LIMIT: usize = 16;

/// Order-sensitive checksum step.
pub(crate) fn fold_ordered(acc: u64, v: u32) -> u64 {
    acc.wrapping_mul(31).wrapping_add(v as u64)
}

pub(crate) fn expected_ordered(n: usize) -> u64 {
    (0..n as u32).fold(0, fold_ordered)
}

pub(crate) fn expected_sum(n: usize) -> u64 {
    (0..n as u64).sum()
}

/// A contender: consumes the children, returns the checksum.
pub(crate) type Contender = fn(&Clock, Vec<Step>) -> u64;

pub(crate) fn aiokit_ordered(clock: &Clock, children: Vec<Step>) -> u64 {
    let s = futures::stream::iter(children).gather_stream().limit(LIMIT);
    drive(
        clock,
        s.fold(0, |acc, v| async move { fold_ordered(acc, v) }),
    )
}

pub(crate) fn futures_buffered_ordered(clock: &Clock, children: Vec<Step>) -> u64 {
    let s = futures::stream::iter(children).buffered(LIMIT);
    drive(
        clock,
        s.fold(0, |acc, v| async move { fold_ordered(acc, v) }),
    )
}

pub(crate) fn fb_buffered_ordered(clock: &Clock, children: Vec<Step>) -> u64 {
    let s = BufferedStreamExt::buffered_ordered(futures::stream::iter(children), LIMIT);
    drive(
        clock,
        s.fold(0, |acc, v| async move { fold_ordered(acc, v) }),
    )
}

pub(crate) fn aiokit_unordered(clock: &Clock, children: Vec<Step>) -> u64 {
    let s = futures::stream::iter(children)
        .as_completed_stream()
        .limit(LIMIT);
    drive(
        clock,
        s.fold(0, |acc, (_, v)| async move { acc + v as u64 }),
    )
}

pub(crate) fn futures_buffer_unordered(clock: &Clock, children: Vec<Step>) -> u64 {
    let s = futures::stream::iter(children).buffer_unordered(LIMIT);
    drive(clock, s.fold(0, |acc, v| async move { acc + v as u64 }))
}

pub(crate) fn futures_for_each_concurrent(clock: &Clock, children: Vec<Step>) -> u64 {
    let sum = Cell::new(0u64);
    let s = futures::stream::iter(children);
    drive(
        clock,
        StreamExt::for_each_concurrent(s, LIMIT, |child| {
            let sum = &sum;
            async move {
                let v = child.await as u64;
                sum.set(sum.get() + v);
            }
        }),
    );
    sum.get()
}

pub(crate) fn fb_buffered_unordered(clock: &Clock, children: Vec<Step>) -> u64 {
    let s = BufferedStreamExt::buffered_unordered(futures::stream::iter(children), LIMIT);
    drive(clock, s.fold(0, |acc, v| async move { acc + v as u64 }))
}

pub(crate) fn fc_co_limit(clock: &Clock, children: Vec<Step>) -> u64 {
    let sum = Cell::new(0u64);
    let s = futures::stream::iter(children)
        .co()
        .limit(NonZeroUsize::new(LIMIT));
    let sum_ref = &sum;
    drive(
        clock,
        s.for_each(move |child| async move {
            let v = child.await as u64;
            sum_ref.set(sum_ref.get() + v);
        }),
    );
    sum.get()
}

/// Sets its slot's bit in the shared ready mask.
struct SlotWake {
    mask: Arc<AtomicU64>,
    bit: u64,
}

impl Wake for SlotWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.mask.fetch_or(self.bit, Ordering::Release);
    }
}

/// The floor: 16 slots, each with its own waker that marks it ready; each
/// turn polls only the marked slots, and refills a slot from the iterator
/// (polling the new child at once) the moment its child completes.
struct Floor<I: Iterator<Item = Step>> {
    source: I,
    slots: Vec<Option<Step>>,
    wakers: Vec<Waker>,
    mask: Arc<AtomicU64>,
    live: usize,
    sum: u64,
}

impl<I: Iterator<Item = Step>> Floor<I> {
    fn new(mut source: I) -> Self {
        let mask = Arc::new(AtomicU64::new(0));
        let wakers = (0..LIMIT)
            .map(|i| {
                Waker::from(Arc::new(SlotWake {
                    mask: mask.clone(),
                    bit: 1 << i,
                }))
            })
            .collect();
        let slots: Vec<Option<Step>> = (0..LIMIT).map(|_| source.next()).collect();
        let live = slots.iter().filter(|s| s.is_some()).count();
        // Every filled slot starts marked, so it gets its first poll.
        mask.store((1u64 << live) - 1, Ordering::Relaxed);
        Floor {
            source,
            slots,
            wakers,
            mask,
            live,
            sum: 0,
        }
    }
}

impl<I: Iterator<Item = Step> + Unpin> Future for Floor<I> {
    type Output = u64;

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u64> {
        let this = &mut *self;
        let mut ready = this.mask.swap(0, Ordering::Acquire);
        while ready != 0 {
            let i = ready.trailing_zeros() as usize;
            ready &= ready - 1;
            let mut cx = Context::from_waker(&this.wakers[i]);
            while let Some(child) = &mut this.slots[i] {
                match Pin::new(child).poll(&mut cx) {
                    Poll::Ready(v) => {
                        this.sum += v as u64;
                        // Refill in place and poll the new child now.
                        this.slots[i] = this.source.next();
                        if this.slots[i].is_none() {
                            this.live -= 1;
                        }
                    }
                    Poll::Pending => break,
                }
            }
        }
        if this.live == 0 {
            Poll::Ready(this.sum)
        } else {
            Poll::Pending
        }
    }
}

pub(crate) fn floor(clock: &Clock, children: Vec<Step>) -> u64 {
    drive(clock, Floor::new(children.into_iter()))
}

pub(crate) const ORDERED: [(&str, Contender); 4] = [
    ("aiokit::gather_stream", aiokit_ordered),
    ("futures::buffered", futures_buffered_ordered),
    ("futures_buffered::buffered_ordered", fb_buffered_ordered),
    ("floor", floor),
];

pub(crate) const UNORDERED: [(&str, Contender); 6] = [
    ("aiokit::as_completed_stream", aiokit_unordered),
    ("futures::buffer_unordered", futures_buffer_unordered),
    ("futures::for_each_concurrent", futures_for_each_concurrent),
    (
        "futures_buffered::buffered_unordered",
        fb_buffered_unordered,
    ),
    ("futures_concurrency::co_limit", fc_co_limit),
    ("floor", floor),
];
