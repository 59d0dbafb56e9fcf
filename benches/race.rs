//! Benchmarks for `race` against futures' `select_all` and
//! futures-concurrency's `Race` for `Vec`.
//!
//! Three workloads, each at N = 10, 100, 1,000 and 10,000 children, exactly
//! one of which (the one in the middle, index N / 2) ever finishes; the
//! children are `async` blocks of one type. Every child that pends waits on
//! its own gate and registers the waker it is polled with there (an
//! `AtomicWaker`, as channel receivers and I/O leaves do), so no child pends
//! for free:
//!
//! * `ready`: the winner is ready on its first poll, the others wait on gates
//!   that never open. One poll of the race.
//! * `woken`: every child waits on its own gate; only the winner's opens. The
//!   race is polled once (everyone pending), the winner's gate is opened
//!   (waking it), and the race is polled again.
//! * `churn`: every child waits on its own gate. After the first poll, 100
//!   losers are woken one at a time without finishing (round robin), each
//!   wake followed by a poll of the race; then the winner's gate opens and a
//!   last poll returns it. This is where polling only the woken child pays.
//!
//! What is timed: building the race from a `Vec` of children (including the
//! `Box::pin` of every child that `select_all` needs, since its children must
//! be `Unpin`), polling it with a no-op waker until the winner's output comes
//! out, and dropping every child. What is not timed: creating the children.
//! Results are reported per race and per child (`Throughput::Elements(N)`).
//!
//! Run with `cargo bench --bench race`; `BENCHMARKS.md` has the numbers.

#[path = "support/race_children.rs"]
mod race_children;
#[path = "support/task_waker.rs"]
mod task_waker;

use std::pin::pin;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures::FutureExt as _;
use futures_concurrency::future::Race as _;
use race_children::{Workload, finish, setup};

const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];

fn bench(c: &mut Criterion, name: &str, workload: Workload) {
    let mut group = c.benchmark_group(format!("race/{name}"));
    for n in SIZES {
        group.throughput(Throughput::Elements(n as u64));
        let size = if n >= 1_000 {
            BatchSize::LargeInput
        } else {
            BatchSize::SmallInput
        };
        let setup = || setup(n, workload);
        group.bench_with_input(BenchmarkId::new("aiokit::race", n), &n, |b, &n| {
            b.iter_batched(
                setup,
                |(kids, gates)| assert_eq!(finish(aiokit::race(kids), gates, workload), n / 2),
                size,
            )
        });
        group.bench_with_input(BenchmarkId::new("futures::select_all", n), &n, |b, &n| {
            b.iter_batched(
                setup,
                |(kids, gates)| {
                    let race = futures::future::select_all(kids.into_iter().map(Box::pin))
                        .map(|(winner, _index, _rest)| winner);
                    assert_eq!(finish(race, gates, workload), n / 2)
                },
                size,
            )
        });
        group.bench_with_input(
            BenchmarkId::new("futures_concurrency::Race(Vec)", n),
            &n,
            |b, &n| {
                b.iter_batched(
                    setup,
                    |(kids, gates)| assert_eq!(finish(pin!(kids.race()), gates, workload), n / 2),
                    size,
                )
            },
        );
    }
    group.finish();
}

fn ready(c: &mut Criterion) {
    bench(c, "ready", Workload::Ready);
}

fn woken(c: &mut Criterion) {
    bench(c, "woken", Workload::Woken);
}

fn churn(c: &mut Criterion) {
    bench(c, "churn", Workload::Churn);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    targets = ready, woken, churn
}
criterion_main!(benches);
