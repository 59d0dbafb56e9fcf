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

use criterion::{Criterion, criterion_group};
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
        b.iter(|| {
            rt.block_on(async {
                tokio::task::spawn_blocking(|| black_box(1_u64))
                    .await
                    .unwrap()
            })
        })
    });
    group.bench_function("std::thread::spawn+join", |b| {
        b.iter(|| std::thread::spawn(|| black_box(1_u64)).join().unwrap())
    });
    group.finish();
}

fn gather_2000(c: &mut Criterion) {
    let mut group = c.benchmark_group("thread/gather_2000");
    group.bench_function("aiokit::to_thread", |b| {
        b.iter(|| {
            block_on(aiokit::gather(
                (0..N).map(|i| aiokit::to_thread(move || black_box(i))),
            ))
        })
    });
    group.bench_function("blocking::unblock", |b| {
        b.iter(|| {
            block_on(aiokit::gather(
                (0..N).map(|i| blocking::unblock(move || black_box(i))),
            ))
        })
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
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = round_trip, gather_2000
}

/// The wrapper-cost check, robust to a noisy machine: rounds of `CALLS`
/// round trips through `to_thread` and through `blocking::unblock`,
/// alternating which goes first, so both see the same load. Prints the median
/// per-call time of each and the median of the per-round ratios.
fn paired_round_trip() {
    const ROUNDS: usize = 300;
    const CALLS: u32 = 100;
    let time = |wrapped: bool| {
        let start = std::time::Instant::now();
        for _ in 0..CALLS {
            if wrapped {
                black_box(block_on(aiokit::to_thread(|| black_box(1_u64))));
            } else {
                black_box(block_on(blocking::unblock(|| black_box(1_u64))));
            }
        }
        start.elapsed() / CALLS
    };
    let (mut wrapped, mut direct, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (w, d) = if round % 2 == 0 {
            let w = time(true);
            (w, time(false))
        } else {
            let d = time(false);
            (time(true), d)
        };
        ratios.push(w.as_secs_f64() / d.as_secs_f64());
        wrapped.push(w);
        direct.push(d);
    }
    wrapped.sort();
    direct.sort();
    ratios.sort_by(f64::total_cmp);
    println!(
        "thread/paired_round_trip ({ROUNDS} rounds x {CALLS} calls, alternating): \
         to_thread median {:?}, blocking::unblock median {:?}, median ratio {:.3}",
        wrapped[ROUNDS / 2],
        direct[ROUNDS / 2],
        ratios[ROUNDS / 2]
    );
}

fn main() {
    benches();
    // Skipped when criterion is asked for a subset that excludes it.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if filter.is_empty()
        || filter
            .iter()
            .any(|f| "thread/paired_round_trip".contains(f.as_str()))
    {
        paired_round_trip();
    }
    Criterion::default().configure_from_args().final_summary();
}
