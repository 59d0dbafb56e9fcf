//! Benchmarks for `paginate` / `paginate_numbered`.
//!
//! * `paginate_overhead`: 200 in-memory pages of 100 `u64`s, summed. Items per
//!   second through `paginate` (default and `.prefetch(1)`) against a
//!   hand-written `while let Some(cursor)` loop calling the same `fetch`, and
//!   the `try_unfold` + `try_flatten` stream octocrab builds. `paginate`
//!   tracks cursors for repeats by default (one hash insert per page);
//!   `paginate_on_repeat_allow` turns that off, like the loop. Every contender
//!   builds the same pages (the `Vec` allocation is part of `fetch`).
//! * `paginate_latency`: 50 pages of 10 items; every request takes 5 ms (an
//!   `async_io::Timer`), and the consumer spends 5 ms per page (awaiting a
//!   timer after each page's last item). Wall time per listing under
//!   `smol::block_on`: sequential `paginate`, the hand-written loop,
//!   `try_unfold`, `.prefetch(1)`, `paginate_numbered(..).prefetch(4)` and
//!   futures' `buffered(4)` over the page numbers.
//!
//! Run with `cargo bench --bench paginate`; `BENCHMARKS.md` has the numbers.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aiokit::Page;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::{StreamExt, TryStreamExt, stream};

const PAGES: u64 = 200;
const PER_PAGE: u64 = 100;

/// The in-memory API: page `n` holds `n * 100 .. n * 100 + 100`.
async fn fetch_memory(page: u64) -> Result<Page<u64, u64>, ()> {
    let items: Vec<u64> = (page * PER_PAGE..(page + 1) * PER_PAGE).collect();
    Ok(if page + 1 < PAGES {
        Page::next(items, page + 1)
    } else {
        Page::last(items)
    })
}

async fn hand_loop_memory() -> u64 {
    let mut sum = 0;
    let mut cursor = Some(0);
    while let Some(page) = cursor {
        let page = fetch_memory(page).await.unwrap();
        for item in page.items {
            sum += black_box(item);
        }
        cursor = page.next_cursor;
    }
    sum
}

async fn sum_stream<S: futures::Stream<Item = Result<u64, E>> + Unpin, E: std::fmt::Debug>(
    mut items: S,
) -> u64 {
    let mut sum = 0;
    while let Some(item) = items.next().await {
        sum += black_box(item.unwrap());
    }
    sum
}

/// Pages as octocrab's `into_stream` builds them: `try_unfold` over pages,
/// flattened into items.
fn try_unfold_memory() -> impl futures::Stream<Item = Result<u64, ()>> + Unpin {
    Box::pin(
        stream::try_unfold(Some(0u64), |cursor| async move {
            let Some(cursor) = cursor else {
                return Ok(None);
            };
            let page = fetch_memory(cursor).await?;
            let items = stream::iter(page.items.into_iter().map(Ok::<u64, ()>));
            Ok(Some((items, page.next_cursor)))
        })
        .try_flatten(),
    )
}

fn overhead(c: &mut Criterion) {
    let expected: u64 = (0..PAGES * PER_PAGE).sum();
    let mut group = c.benchmark_group("paginate_overhead");
    group.throughput(Throughput::Elements(PAGES * PER_PAGE));
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    group.bench_function("hand_written_loop", |b| {
        b.iter(|| assert_eq!(futures::executor::block_on(hand_loop_memory()), expected))
    });
    group.bench_function("paginate", |b| {
        b.iter(|| {
            let items = aiokit::paginate(0, fetch_memory);
            assert_eq!(futures::executor::block_on(sum_stream(items)), expected)
        })
    });
    group.bench_function("paginate_on_repeat_allow", |b| {
        b.iter(|| {
            let items = aiokit::paginate(0, fetch_memory).on_repeat(aiokit::OnRepeat::Allow);
            assert_eq!(futures::executor::block_on(sum_stream(items)), expected)
        })
    });
    group.bench_function("paginate_prefetch_1", |b| {
        b.iter(|| {
            let items = aiokit::paginate(0, fetch_memory).prefetch(1);
            assert_eq!(futures::executor::block_on(sum_stream(items)), expected)
        })
    });
    group.bench_function("try_unfold_flatten", |b| {
        b.iter(|| {
            assert_eq!(
                futures::executor::block_on(sum_stream(try_unfold_memory())),
                expected
            )
        })
    });
    group.finish();
}

/// The same contenders, timed in rounds that run each once in turn; prints
/// the fastest run of each and its ratio to the loop. Minimums of interleaved
/// runs are steadier than criterion's means on a loaded machine.
fn overhead_interleaved(_: &mut Criterion) {
    type Run = fn() -> u64;
    let contenders: [(&str, Run); 5] = [
        ("hand_written_loop", || {
            futures::executor::block_on(hand_loop_memory())
        }),
        ("paginate", || {
            futures::executor::block_on(sum_stream(aiokit::paginate(0, fetch_memory)))
        }),
        ("paginate_on_repeat_allow", || {
            let items = aiokit::paginate(0, fetch_memory).on_repeat(aiokit::OnRepeat::Allow);
            futures::executor::block_on(sum_stream(items))
        }),
        ("paginate_prefetch_1", || {
            let items = aiokit::paginate(0, fetch_memory).prefetch(1);
            futures::executor::block_on(sum_stream(items))
        }),
        ("try_unfold_flatten", || {
            futures::executor::block_on(sum_stream(try_unfold_memory()))
        }),
    ];
    let mut best = [Duration::MAX; 5];
    for _ in 0..300 {
        for (slot, (_, run)) in best.iter_mut().zip(&contenders) {
            let start = Instant::now();
            black_box(run());
            *slot = (*slot).min(start.elapsed());
        }
    }
    println!("paginate_overhead_interleaved (fastest of 300 interleaved runs, 20,000 items each):");
    for (time, (name, _)) in best.iter().zip(&contenders) {
        println!(
            "  {name:<26} {:>8.1} us  {:>6.1} Melem/s  x{:.2} vs the loop",
            time.as_secs_f64() * 1e6,
            (PAGES * PER_PAGE) as f64 / time.as_secs_f64() / 1e6,
            time.as_secs_f64() / best[0].as_secs_f64()
        );
    }
}

const LATENCY_PAGES: u64 = 50;
const LATENCY_PER_PAGE: u64 = 10;
const FETCH: Duration = Duration::from_millis(5);
const WORK: Duration = Duration::from_millis(5);

async fn slow_items(page: u64) -> Vec<u64> {
    async_io::Timer::after(FETCH).await;
    if page < LATENCY_PAGES {
        (page * LATENCY_PER_PAGE..(page + 1) * LATENCY_PER_PAGE).collect()
    } else {
        Vec::new()
    }
}

async fn slow_page(page: u64) -> Result<Page<u64, u64>, ()> {
    let items = slow_items(page).await;
    Ok(if page + 1 < LATENCY_PAGES {
        Page::next(items, page + 1)
    } else {
        Page::last(items)
    })
}

/// The consumer: 5 ms of (awaited) work after each page's last item.
async fn consume<S: futures::Stream<Item = Result<u64, E>> + Unpin, E: std::fmt::Debug>(
    mut items: S,
) {
    let mut count = 0;
    while let Some(item) = items.next().await {
        item.unwrap();
        count += 1;
        if count % LATENCY_PER_PAGE == 0 {
            async_io::Timer::after(WORK).await;
        }
    }
    assert_eq!(count, LATENCY_PAGES * LATENCY_PER_PAGE);
}

fn latency(c: &mut Criterion) {
    let mut group = c.benchmark_group("paginate_latency");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(4));
    group.warm_up_time(Duration::from_millis(500));
    let mut bench = |name: &str, run: &dyn Fn()| {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    run();
                }
                start.elapsed()
            })
        });
    };
    bench("sequential_paginate", &|| {
        smol::block_on(consume(aiokit::paginate(0, slow_page)))
    });
    bench("hand_written_loop", &|| {
        smol::block_on(async {
            let mut cursor = Some(0);
            while let Some(page) = cursor {
                let page = slow_page(page).await.unwrap();
                for item in page.items {
                    black_box(item);
                }
                async_io::Timer::after(WORK).await;
                cursor = page.next_cursor;
            }
        })
    });
    bench("try_unfold", &|| {
        smol::block_on(consume(Box::pin(
            stream::try_unfold(Some(0u64), |cursor| async move {
                let Some(cursor) = cursor else {
                    return Ok(None);
                };
                let page = slow_page(cursor).await?;
                let items = stream::iter(page.items.into_iter().map(Ok::<u64, ()>));
                Ok(Some((items, page.next_cursor)))
            })
            .try_flatten(),
        )))
    });
    bench("paginate_prefetch_1", &|| {
        smol::block_on(consume(aiokit::paginate(0, slow_page).prefetch(1)))
    });
    bench("paginate_numbered_prefetch_4", &|| {
        smol::block_on(consume(
            aiokit::paginate_numbered(
                0,
                |page| page + 1,
                |page| async move { Ok::<_, ()>(slow_items(page).await) },
            )
            .prefetch(4),
        ))
    });
    bench("buffered_4_over_page_numbers", &|| {
        smol::block_on(consume(Box::pin(
            stream::iter(0..)
                .map(slow_items)
                .buffered(4)
                .take_while(|page| std::future::ready(!page.is_empty()))
                .flat_map(|page| stream::iter(page.into_iter().map(Ok::<u64, ()>))),
        )))
    });
    group.finish();
}

criterion_group!(benches, overhead, overhead_interleaved, latency);
criterion_main!(benches);
