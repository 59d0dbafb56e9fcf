//! Benchmarks for `GatherStreamExt` with a limit, against the usual bounded
//! stream combinators.
//!
//! Workload, at N = 100, 1,000, 10,000 and 100,000 children: a
//! `futures::stream::iter` over N [`Step`](support::step::Step) children,
//! each completing 1 to 4 driver steps after its first poll (fixed per index,
//! so completion order differs from input order) and registering its waker
//! with the driver as a real leaf future does. Every contender runs with a
//! limit of 16, on the same harness (`support::step::drive`): poll the
//! consumer with a no-op waker, advance the driver one step, repeat. The
//! children are woken through the combinator's own wakers.
//!
//! * input order: `aiokit` `gather_stream().limit(16)`, futures
//!   `buffered(16)`, futures-buffered `buffered_ordered(16)`;
//! * completion order: `aiokit` `as_completed_stream().limit(16)`, futures
//!   `buffer_unordered(16)` and `for_each_concurrent(16)`, futures-buffered
//!   `buffered_unordered(16)`, futures-concurrency `co().limit(16)`;
//! * floor: a hand-written loop that keeps 16 slots, each with its own waker
//!   (an `Arc` that sets the slot's bit in a ready mask), polls only the
//!   marked slots on each turn and refills a slot from the iterator the
//!   moment its child completes, polling the new child at once. It does not
//!   reorder, so it is the floor for both orders.
//!
//! Timed: building the combinator, driving it to the end (folding the
//! outputs into a checksum that depends on their order), dropping it. Not
//! timed: creating the children. Results are per child. Before the timed
//! runs each contender runs once to check its output and print the mean
//! number of children in flight (the limit, 16, means it was always full).
//!
//! Run with `cargo bench --bench stream`; `BENCHMARKS.md` has the numbers.

#[path = "support/step.rs"]
mod step;

use std::cell::Cell;
use std::future::Future;
use std::hint::black_box;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use aiokit::GatherStreamExt;
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use futures::StreamExt;
use futures_buffered::BufferedStreamExt;
use futures_concurrency::concurrent_stream::ConcurrentStream;
use futures_concurrency::stream::StreamExt as _;
use step::{Clock, Step, drive};

const SIZES: [usize; 4] = [100, 1_000, 10_000, 100_000];
const LIMIT: usize = 16;

/// Order-sensitive checksum step.
fn fold_ordered(acc: u64, v: u32) -> u64 {
    acc.wrapping_mul(31).wrapping_add(v as u64)
}

fn expected_ordered(n: usize) -> u64 {
    (0..n as u32).fold(0, fold_ordered)
}

fn expected_sum(n: usize) -> u64 {
    (0..n as u64).sum()
}

/// A contender: consumes the children, returns the checksum.
type Contender = fn(&Clock, Vec<Step>) -> u64;

fn aiokit_ordered(clock: &Clock, children: Vec<Step>) -> u64 {
    let s = futures::stream::iter(children).gather_stream().limit(LIMIT);
    drive(
        clock,
        s.fold(0, |acc, v| async move { fold_ordered(acc, v) }),
    )
}

fn futures_buffered_ordered(clock: &Clock, children: Vec<Step>) -> u64 {
    let s = futures::stream::iter(children).buffered(LIMIT);
    drive(
        clock,
        s.fold(0, |acc, v| async move { fold_ordered(acc, v) }),
    )
}

fn fb_buffered_ordered(clock: &Clock, children: Vec<Step>) -> u64 {
    let s = BufferedStreamExt::buffered_ordered(futures::stream::iter(children), LIMIT);
    drive(
        clock,
        s.fold(0, |acc, v| async move { fold_ordered(acc, v) }),
    )
}

fn aiokit_unordered(clock: &Clock, children: Vec<Step>) -> u64 {
    let s = futures::stream::iter(children)
        .as_completed_stream()
        .limit(LIMIT);
    drive(
        clock,
        s.fold(0, |acc, (_, v)| async move { acc + v as u64 }),
    )
}

fn futures_buffer_unordered(clock: &Clock, children: Vec<Step>) -> u64 {
    let s = futures::stream::iter(children).buffer_unordered(LIMIT);
    drive(clock, s.fold(0, |acc, v| async move { acc + v as u64 }))
}

fn futures_for_each_concurrent(clock: &Clock, children: Vec<Step>) -> u64 {
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

fn fb_buffered_unordered(clock: &Clock, children: Vec<Step>) -> u64 {
    let s = BufferedStreamExt::buffered_unordered(futures::stream::iter(children), LIMIT);
    drive(clock, s.fold(0, |acc, v| async move { acc + v as u64 }))
}

fn fc_co_limit(clock: &Clock, children: Vec<Step>) -> u64 {
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

fn floor(clock: &Clock, children: Vec<Step>) -> u64 {
    drive(clock, Floor::new(children.into_iter()))
}

const ORDERED: [(&str, Contender); 4] = [
    ("aiokit::gather_stream", aiokit_ordered),
    ("futures::buffered", futures_buffered_ordered),
    ("futures_buffered::buffered_ordered", fb_buffered_ordered),
    ("floor", floor),
];

const UNORDERED: [(&str, Contender); 6] = [
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

/// Times `iters` runs, each on fresh children made before the clock starts.
fn timed(iters: u64, n: usize, f: Contender) -> Duration {
    const CHUNK: usize = 20_000;
    let per_chunk = (CHUNK / n).max(1) as u64;
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let k = left.min(per_chunk);
        let inputs: Vec<(Clock, Vec<Step>)> = (0..k)
            .map(|_| {
                let clock = Clock::new();
                let children = clock.children(n);
                (clock, children)
            })
            .collect();
        let start = Instant::now();
        for (clock, children) in inputs {
            black_box(f(&clock, children));
        }
        total += start.elapsed();
        left -= k;
    }
    total
}

fn bench_order(c: &mut Criterion, name: &str, contenders: &[(&str, Contender)], ordered: bool) {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .sampling_mode(SamplingMode::Flat);
    for n in SIZES {
        group.throughput(Throughput::Elements(n as u64));
        for &(label, f) in contenders {
            // One untimed run: check the output, report the mean in flight.
            let clock = Clock::new();
            let got = f(&clock, clock.children(n));
            let want = if ordered && label != "floor" {
                expected_ordered(n)
            } else {
                expected_sum(n)
            };
            assert_eq!(got, want, "{label} at {n}");
            eprintln!(
                "in-flight {name}/{label}/{n}: mean {:.2}",
                clock.mean_in_flight()
            );
            group.bench_function(BenchmarkId::new(label, n), |b| {
                b.iter_custom(|iters| timed(iters, n, f))
            });
        }
    }
    group.finish();
}

fn bench_stream(c: &mut Criterion) {
    bench_order(c, "stream_input_order", &ORDERED, true);
    bench_order(c, "stream_completion_order", &UNORDERED, false);
}

criterion_group!(benches, bench_stream);
criterion_main!(benches);
