//! Benchmarks for `TaskGroup` against `FuturesUnordered` and
//! futures-concurrency's `FutureGroup` on a push-while-running workload.
//!
//! Workload, at N = 100, 1,000, 10,000 and 100,000 children in total: the
//! group starts with one [`Step`](support::step::Step) child; every time a
//! child's output comes out, the consumer pushes up to two new children,
//! until N have been pushed, then drains the group (a crawler's shape). Each
//! child completes 1 to 4 driver steps after its first poll and registers
//! its waker with the driver as a real leaf future does. Same harness for
//! every contender (`support::step::drive`): poll the consumer with a no-op
//! waker, advance the driver one step, repeat.
//!
//! Timed: creating the group, every push, driving it to the end, dropping
//! it. Results are per child. `FutureGroup` is left out at 100,000: its
//! cost per child grows with the number in flight.
//!
//! Run with `cargo bench --bench group`; `BENCHMARKS.md` has the numbers.

#[path = "support/group_contenders.rs"]
mod group_contenders;
#[path = "support/step.rs"]
mod step;
#[path = "support/task_waker.rs"]
mod task_waker;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use group_contenders::{CONTENDERS, Contender};
use step::Clock;

const SIZES: [usize; 4] = [100, 1_000, 10_000, 100_000];

fn timed(iters: u64, n: usize, f: Contender) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let clock = Clock::new();
        let start = Instant::now();
        black_box(f(&clock, n));
        total += start.elapsed();
    }
    total
}

fn bench_group(c: &mut Criterion) {
    let mut group = c.benchmark_group("group_push_while_running");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .sampling_mode(SamplingMode::Flat);
    for n in SIZES {
        group.throughput(Throughput::Elements(n as u64));
        for &(label, f) in &CONTENDERS {
            // FutureGroup's cost per child grows with the number in flight
            // (about 19 µs per child at 10,000 here): minutes per sample at
            // 100,000, so that size is left out.
            if label == "futures_concurrency::FutureGroup" && n > 10_000 {
                continue;
            }
            let clock = Clock::new();
            assert_eq!(f(&clock, n), (0..n as u64).sum::<u64>(), "{label} at {n}");
            eprintln!(
                "in-flight group/{label}/{n}: mean {:.2}",
                clock.mean_in_flight()
            );
            group.bench_function(BenchmarkId::new(label, n), |b| {
                b.iter_custom(|iters| timed(iters, n, f))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_group);
criterion_main!(benches);
