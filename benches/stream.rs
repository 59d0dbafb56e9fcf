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
#[path = "support/stream_contenders.rs"]
mod stream_contenders;
#[path = "support/task_waker.rs"]
mod task_waker;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use step::{Clock, Step};
use stream_contenders::{Contender, ORDERED, UNORDERED, expected_ordered, expected_sum};

const SIZES: [usize; 4] = [100, 1_000, 10_000, 100_000];

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
