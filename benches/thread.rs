//! to_thread against its anchors, measured side by side in one run:
//! `cargo bench --bench thread`.
//!
//! - `round_trip`: one call, awaited at once, trivial closure: aiokit's
//!   `to_thread` vs `blocking::unblock` (the pool it wraps; target: within 5%),
//!   `ThreadLimiter::run` (uncontended), tokio's `spawn_blocking` on a
//!   current-thread runtime, and `std::thread::spawn` + `join`.
//! - `gather_2000`: 2,000 trivial calls in flight at once, gathered with
//!   `aiokit::gather` (threads spawned and joined for `std::thread`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use futures_lite::future::block_on;

const N: usize = 2_000;

fn round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("thread/round_trip");
    group.bench_function("aiokit::to_thread", |b| {
        b.iter(|| block_on(aiokit::to_thread(|| black_box(1_u64))))
    });
    group.bench_function("blocking::unblock", |b| {
        b.iter(|| block_on(blocking::unblock(|| black_box(1_u64))))
    });
    let limiter = aiokit::ThreadLimiter::new(4);
    group.bench_function("aiokit::ThreadLimiter::run", |b| {
        b.iter(|| block_on(limiter.run(|| black_box(1_u64))))
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    group.bench_function("tokio::task::spawn_blocking", |b| {
        b.iter(|| rt.block_on(tokio::task::spawn_blocking(|| black_box(1_u64))).unwrap())
    });
    group.bench_function("std::thread::spawn+join", |b| {
        b.iter(|| std::thread::spawn(|| black_box(1_u64)).join().unwrap())
    });
    group.finish();
}

fn gather_2000(c: &mut Criterion) {
    let mut group = c.benchmark_group("thread/gather_2000");
    group.bench_function("aiokit::to_thread", |b| {
        b.iter(|| block_on(aiokit::gather((0..N).map(|i| aiokit::to_thread(move || black_box(i))))))
    });
    group.bench_function("blocking::unblock", |b| {
        b.iter(|| block_on(aiokit::gather((0..N).map(|i| blocking::unblock(move || black_box(i))))))
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    group.bench_function("tokio::task::spawn_blocking", |b| {
        b.iter(|| {
            rt.block_on(async {
                let handles: Vec<_> = (0..N)
                    .map(|i| tokio::task::spawn_blocking(move || black_box(i)))
                    .collect();
                aiokit::gather(handles).await
            })
        })
    });
    group.bench_function("std::thread::spawn+join", |b| {
        b.iter(|| {
            let threads: Vec<_> = (0..N)
                .map(|i| std::thread::spawn(move || black_box(i)))
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().unwrap())
                .collect::<Vec<_>>()
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = round_trip, gather_2000
}
criterion_main!(benches);
