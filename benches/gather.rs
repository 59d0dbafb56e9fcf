//! Benchmarks for `gather` / `try_gather` against the usual join combinators.
//!
//! Three workloads, each at N = 10, 100, 1,000, 10,000 and 100,000 children:
//!
//! * `sparse`: every child is a `futures::channel::oneshot::Receiver`. A driver
//!   sends the values one at a time in a fixed shuffled order and yields after
//!   each send; the joined future and the driver run side by side in
//!   `futures::future::join`. Floor: the same channels and driver with no
//!   joining: after each send the driver awaits that receiver itself.
//! * `ready`: every child is `async move { i }`. Floor: awaiting the children
//!   one after the other in a `for` loop.
//! * `try_error`: the child in the middle fails on its first poll; every
//!   other child is a pending `futures::channel::oneshot::Receiver` (its
//!   sender alive, dropped after the clock stops), so it registers its waker
//!   as a real child does. Time until the error is returned and the
//!   combinator dropped with the receivers. Floor: polling the children once
//!   each, in order, until the error, then dropping them.
//!
//! Every contender runs on the same harness: a busy poll loop with a no-op
//! waker (`run`). What is timed: building the combinator, driving it to
//! completion, and dropping it (with the children it still holds). What is
//! not timed: creating the channels and the child futures, and dropping the
//! output. Results are reported per child (`Throughput::Elements(N)`).
//!
//! Run with `cargo bench --bench gather`; `BENCHMARKS.md` has the numbers.

#[path = "support/gather_inputs.rs"]
mod gather_inputs;
#[path = "support/task_waker.rs"]
mod task_waker;

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use futures::channel::oneshot;
use futures::stream::FuturesUnordered;
use futures::{StreamExt, TryStreamExt};
use futures_concurrency::future::{Join, TryJoin};
use gather_inputs::{
    Rx, Senders, TryChild, ready_input, run, sparse, sparse_input, try_input, yield_now,
};

const SIZES: [usize; 5] = [10, 100, 1_000, 10_000, 100_000];

/// Times `iters` runs of `routine`, each on a fresh input from `setup`.
///
/// Inputs are made in chunks of about `CHUNK` children before the clock
/// starts; outputs are dropped after it stops.
fn timed<S, O>(
    iters: u64,
    n: usize,
    mut setup: impl FnMut() -> S,
    mut routine: impl FnMut(S) -> O,
) -> Duration {
    const CHUNK: usize = 20_000;
    let per_chunk = (CHUNK / n).max(1) as u64;
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let k = left.min(per_chunk);
        let inputs: Vec<S> = (0..k).map(|_| setup()).collect();
        let mut outputs = Vec::with_capacity(k as usize);
        let start = Instant::now();
        for input in inputs {
            outputs.push(black_box(routine(input)));
        }
        total += start.elapsed();
        drop(outputs);
        left -= k;
    }
    total
}

fn configure<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .sampling_mode(SamplingMode::Flat);
    group
}

// ---------------------------------------------------------------- sparse ----

/// The channel work with no joining: send, then await that receiver, yield.
fn sparse_floor(n: usize) -> Vec<(u32, oneshot::Sender<u32>, Rx)> {
    let (receivers, order) = sparse_input(n);
    let mut receivers: Vec<Option<Rx>> = receivers.into_iter().map(Some).collect();
    order
        .into_iter()
        .map(|(value, tx)| {
            let rx = receivers[value as usize].take().expect("a permutation");
            (value, tx, rx)
        })
        .collect()
}

fn run_sparse_floor(pairs: Vec<(u32, oneshot::Sender<u32>, Rx)>) -> Vec<u32> {
    let n = pairs.len();
    let floor = async move {
        let mut out = Vec::with_capacity(n);
        for (value, tx, rx) in pairs {
            tx.send(value).expect("the receiver is alive");
            out.push(rx.await.expect("the sender sent"));
            yield_now().await;
        }
        out
    };
    run(futures::future::join(async {}, floor)).1
}

fn bench_sparse(c: &mut Criterion) {
    let mut group = configure(c, "gather_sparse");
    for n in SIZES {
        group.throughput(Throughput::Elements(n as u64));
        let id = |name: &str| BenchmarkId::new(name, n);
        let check = |out: &Vec<Result<u32, oneshot::Canceled>>| assert_eq!(out.len(), n);

        check(&sparse_run(n, aiokit::gather));
        check(&sparse_run(n, futures::future::join_all));
        check(&sparse_run(n, futures_buffered::join_all));
        let unordered = sparse_run(n, |rx| {
            rx.into_iter()
                .collect::<FuturesUnordered<_>>()
                .collect::<Vec<_>>()
        });
        check(&unordered);
        group.bench_function(id("aiokit::gather"), |b| {
            b.iter_custom(|iters| {
                timed(
                    iters,
                    n,
                    || sparse_input(n),
                    |(rx, tx)| sparse(tx, aiokit::gather(rx)),
                )
            })
        });
        group.bench_function(id("futures::join_all"), |b| {
            b.iter_custom(|iters| {
                timed(
                    iters,
                    n,
                    || sparse_input(n),
                    |(rx, tx)| sparse(tx, futures::future::join_all(rx)),
                )
            })
        });
        group.bench_function(id("FuturesUnordered"), |b| {
            b.iter_custom(|iters| {
                timed(
                    iters,
                    n,
                    || sparse_input(n),
                    |(rx, tx)| {
                        sparse(
                            tx,
                            rx.into_iter()
                                .collect::<FuturesUnordered<_>>()
                                .collect::<Vec<_>>(),
                        )
                    },
                )
            })
        });
        group.bench_function(id("futures_buffered::join_all"), |b| {
            b.iter_custom(|iters| {
                timed(
                    iters,
                    n,
                    || sparse_input(n),
                    |(rx, tx)| sparse(tx, futures_buffered::join_all(rx)),
                )
            })
        });
        // Vec::join scans every child on every wake: about 30 s per run at
        // 100,000, so that size is left out.
        if n <= 10_000 {
            group.bench_function(id("futures_concurrency::Join"), |b| {
                b.iter_custom(|iters| {
                    timed(
                        iters,
                        n,
                        || sparse_input(n),
                        |(rx, tx)| sparse(tx, rx.join()),
                    )
                })
            });
        }
        // Not a contender: what the untimed setup above costs (creating the
        // channels and the shuffled send order), for comparison with figures
        // that include it.
        group.bench_function(id("setup"), |b| {
            b.iter_custom(|iters| timed(iters, n, || (), |()| sparse_input(n)))
        });
        assert_eq!(run_sparse_floor(sparse_floor(n)).len(), n);
        group.bench_function(id("floor"), |b| {
            b.iter_custom(|iters| timed(iters, n, || sparse_floor(n), run_sparse_floor))
        });
    }
    group.finish();
}

/// One untimed run, to check that a contender really joins every child.
fn sparse_run<J: Future>(n: usize, join: impl FnOnce(Vec<Rx>) -> J) -> J::Output {
    let (rx, tx) = sparse_input(n);
    sparse(tx, join(rx))
}

// ----------------------------------------------------------------- ready ----

fn bench_ready(c: &mut Criterion) {
    let mut group = configure(c, "gather_ready");
    for n in SIZES {
        group.throughput(Throughput::Elements(n as u64));
        let id = |name: &str| BenchmarkId::new(name, n);

        assert_eq!(run(aiokit::gather(ready_input(n))).len(), n);
        group.bench_function(id("aiokit::gather"), |b| {
            b.iter_custom(|iters| timed(iters, n, || ready_input(n), |f| run(aiokit::gather(f))))
        });
        group.bench_function(id("futures::join_all"), |b| {
            b.iter_custom(|iters| {
                timed(
                    iters,
                    n,
                    || ready_input(n),
                    |f| run(futures::future::join_all(f)),
                )
            })
        });
        group.bench_function(id("FuturesUnordered"), |b| {
            b.iter_custom(|iters| {
                timed(
                    iters,
                    n,
                    || ready_input(n),
                    |f| {
                        run(f
                            .into_iter()
                            .collect::<FuturesUnordered<_>>()
                            .collect::<Vec<_>>())
                    },
                )
            })
        });
        group.bench_function(id("futures_buffered::join_all"), |b| {
            b.iter_custom(|iters| {
                timed(
                    iters,
                    n,
                    || ready_input(n),
                    |f| run(futures_buffered::join_all(f)),
                )
            })
        });
        group.bench_function(id("futures_concurrency::Join"), |b| {
            b.iter_custom(|iters| timed(iters, n, || ready_input(n), |f| run(f.join())))
        });
        group.bench_function(id("floor"), |b| {
            b.iter_custom(|iters| {
                timed(
                    iters,
                    n,
                    || ready_input(n),
                    |f| {
                        run(async move {
                            let mut out = Vec::with_capacity(f.len());
                            for child in f {
                                out.push(child.await);
                            }
                            out
                        })
                    },
                )
            })
        });
    }
    group.finish();
}

// ------------------------------------------------------------- try_error ----

/// Runs `join` on the children; hands the senders back with the result.
fn try_run<O>(
    (children, senders): (Vec<TryChild>, Senders),
    join: impl FnOnce(Vec<TryChild>) -> O,
) -> (O, Senders) {
    (join(children), senders)
}

/// Polls each child once, in order, until one fails, then drops them all.
fn try_floor(mut children: Vec<TryChild>) -> Result<Vec<u32>, u32> {
    let mut cx = Context::from_waker(task_waker::task_waker());
    for child in &mut children {
        if let Poll::Ready(Err(e)) = Pin::new(child).poll(&mut cx) {
            return Err(e);
        }
    }
    unreachable!("one child fails")
}

fn bench_try(c: &mut Criterion) {
    let mut group = configure(c, "gather_try_error");
    for n in SIZES {
        group.throughput(Throughput::Elements(n as u64));
        let id = |name: &str| BenchmarkId::new(name, n);
        let err = Err((n / 2) as u32);
        let check = |out: Result<Vec<u32>, u32>| assert_eq!(out, err);

        check(try_run(try_input(n), |f| run(aiokit::try_gather(f))).0);
        group.bench_function(id("aiokit::try_gather"), |b| {
            b.iter_custom(|iters| {
                timed(
                    iters,
                    n,
                    || try_input(n),
                    |i| try_run(i, |f| run(aiokit::try_gather(f))),
                )
            })
        });
        // Above 30 children futures' try_join_all reports errors in input
        // order, so with pending children before the failing one it never
        // completes (futures-rs #2866).
        if n <= 30 {
            check(try_run(try_input(n), |f| run(futures::future::try_join_all(f))).0);
            group.bench_function(id("futures::try_join_all"), |b| {
                b.iter_custom(|iters| {
                    timed(
                        iters,
                        n,
                        || try_input(n),
                        |i| try_run(i, |f| run(futures::future::try_join_all(f))),
                    )
                })
            });
        }
        let unordered = |f: Vec<TryChild>| {
            run(f
                .into_iter()
                .collect::<FuturesUnordered<_>>()
                .try_collect::<Vec<_>>())
        };
        check(try_run(try_input(n), unordered).0);
        group.bench_function(id("FuturesUnordered"), |b| {
            b.iter_custom(|iters| timed(iters, n, || try_input(n), |i| try_run(i, unordered)))
        });
        check(try_run(try_input(n), |f| run(futures_buffered::try_join_all(f))).0);
        group.bench_function(id("futures_buffered::try_join_all"), |b| {
            b.iter_custom(|iters| {
                timed(
                    iters,
                    n,
                    || try_input(n),
                    |i| try_run(i, |f| run(futures_buffered::try_join_all(f))),
                )
            })
        });
        check(try_run(try_input(n), |f| run(f.try_join())).0);
        group.bench_function(id("futures_concurrency::TryJoin"), |b| {
            b.iter_custom(|iters| {
                timed(
                    iters,
                    n,
                    || try_input(n),
                    |i| try_run(i, |f| run(f.try_join())),
                )
            })
        });
        check(try_run(try_input(n), try_floor).0);
        group.bench_function(id("floor"), |b| {
            b.iter_custom(|iters| timed(iters, n, || try_input(n), |i| try_run(i, try_floor)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_sparse, bench_ready, bench_try);
criterion_main!(benches);
