// The counting allocator below needs `unsafe`; it measures memory in this
// benchmark only and is not part of the library.
#![allow(unsafe_code)]
//! Timeouts: the cost of the ready path, of pending timeouts, and timer
//! precision, beside async-io, tokio and futures-timer in the same run.
//!
//! `cargo bench --bench time`. Besides the criterion groups, the run prints
//! three reports: memory per pending timeout, the overshoot of a 10 ms sleep
//! under several executors, and `time/paired_ready`, the ready path of
//! `aiokit::timeout` against a hand-written lazy wrapper in alternating
//! rounds (`cargo bench --bench time -- paired` runs it alone).

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::{Future, pending, ready};
use std::hint::black_box;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use async_io::Timer;
use criterion::{Criterion, Throughput, criterion_group};

/// Counts live and peak heap bytes, to measure memory per pending timeout.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to `System` unchanged; only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Futures awaited one after another per iteration of the ready-path group.
const READY: u64 = 1_000_000;
/// Timeouts alive at once in the pending group.
const PENDING: usize = 100_000;
const LONG: Duration = Duration::from_secs(10);

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pin_project_lite::pin_project! {
    /// The anchor for aiokit's ready path: a hand-written timeout whose
    /// relative deadline starts at the first pending poll, holding an
    /// `Option<Timer>` that is created only then.
    struct LazyTimeout<F> {
        #[pin]
        future: F,
        duration: Duration,
        timer: Option<Timer>,
    }
}

fn lazy_timeout<F: Future>(duration: Duration, future: F) -> LazyTimeout<F> {
    LazyTimeout {
        future,
        duration,
        timer: None,
    }
}

impl<F: Future> Future for LazyTimeout<F> {
    type Output = Result<F::Output, aiokit::Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> std::task::Poll<Self::Output> {
        let this = self.project();
        if let std::task::Poll::Ready(output) = this.future.poll(cx) {
            return std::task::Poll::Ready(Ok(output));
        }
        let duration = *this.duration;
        let timer = this.timer.get_or_insert_with(|| Timer::after(duration));
        match Pin::new(timer).poll(cx) {
            std::task::Poll::Ready(_) => std::task::Poll::Ready(Err(aiokit::Elapsed::new())),
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    }
}

/// 1,000,000 immediately ready futures awaited one after another: the time
/// per iteration in ms is the cost per call in ns.
fn ready_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("time/ready_1M");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(READY));

    group.bench_function("bare", |b| {
        b.iter(|| {
            futures_lite::future::block_on(async {
                let mut sum = 0u64;
                for i in 0..READY {
                    sum += ready(black_box(i)).await;
                }
                sum
            })
        })
    });
    group.bench_function("aiokit::timeout(10 s)", |b| {
        b.iter(|| {
            futures_lite::future::block_on(async {
                let mut sum = 0u64;
                for i in 0..READY {
                    sum += aiokit::timeout(LONG, ready(black_box(i))).await.unwrap();
                }
                sum
            })
        })
    });
    group.bench_function("hand-written lazy Option<Timer>", |b| {
        b.iter(|| {
            futures_lite::future::block_on(async {
                let mut sum = 0u64;
                for i in 0..READY {
                    sum += lazy_timeout(LONG, ready(black_box(i))).await.unwrap();
                }
                sum
            })
        })
    });
    group.bench_function("futures_lite::or + Timer::after", |b| {
        b.iter(|| {
            futures_lite::future::block_on(async {
                let mut sum = 0u64;
                for i in 0..READY {
                    let timer = Timer::after(LONG);
                    let value = ready(Some(black_box(i)));
                    let out = futures_lite::future::or(value, async move {
                        timer.await;
                        None
                    });
                    sum += out.await.unwrap();
                }
                sum
            })
        })
    });
    group.bench_function("tokio::time::timeout", |b| {
        let rt = tokio_rt();
        b.iter(|| {
            rt.block_on(async {
                let mut sum = 0u64;
                for i in 0..READY {
                    sum += tokio::time::timeout(LONG, ready(black_box(i)))
                        .await
                        .unwrap();
                }
                sum
            })
        })
    });
    group.bench_function("futures_timer::Delay + select", |b| {
        b.iter(|| {
            futures_lite::future::block_on(async {
                let mut sum = 0u64;
                for i in 0..READY {
                    let delay = futures_timer::Delay::new(LONG);
                    match futures::future::select(ready(black_box(i)), delay).await {
                        futures::future::Either::Left((value, _)) => sum += value,
                        futures::future::Either::Right(_) => unreachable!(),
                    }
                }
                sum
            })
        })
    });
    group.finish();
}

/// Polls every future once with a no-op waker.
fn poll_all<F: Future + Unpin>(futures: &mut [F]) {
    let mut cx = Context::from_waker(Waker::noop());
    for f in futures {
        assert!(Pin::new(f).poll(&mut cx).is_pending());
    }
}

fn make_aiokit() -> Vec<aiokit::Timeout<std::future::Pending<()>>> {
    (0..PENDING)
        .map(|_| aiokit::timeout(LONG, pending()))
        .collect()
}

type OrTimer = Pin<Box<dyn Future<Output = ()>>>;

fn make_or_timer() -> Vec<OrTimer> {
    (0..PENDING)
        .map(|_| {
            Box::pin(futures_lite::future::or(
                pending(),
                Timer::after(LONG).map_unit(),
            )) as OrTimer
        })
        .collect()
}

fn make_tokio() -> Vec<Pin<Box<tokio::time::Timeout<std::future::Pending<()>>>>> {
    (0..PENDING)
        .map(|_| Box::pin(tokio::time::timeout(LONG, pending())))
        .collect()
}

trait MapUnit: Future + Sized {
    fn map_unit(self) -> futures::future::Map<Self, fn(Self::Output)> {
        futures::FutureExt::map(self, drop as fn(Self::Output))
    }
}
impl<F: Future> MapUnit for F {}

/// 100,000 pending timeouts: created, polled once (registering their
/// timers), then dropped. Time per iteration / 100,000 = ns per timeout.
fn pending_timeouts(c: &mut Criterion) {
    let mut group = c.benchmark_group("time/pending_100k");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(PENDING as u64));

    group.bench_function("aiokit::timeout", |b| {
        b.iter(|| {
            let mut all = make_aiokit();
            poll_all(&mut all);
            drop(all);
        })
    });
    group.bench_function("futures_lite::or + Timer::after", |b| {
        b.iter(|| {
            let mut all = make_or_timer();
            poll_all(&mut all);
            drop(all);
        })
    });
    group.bench_function("tokio::time::timeout", |b| {
        let rt = tokio_rt();
        let _inside = rt.enter();
        b.iter(|| {
            let mut all = make_tokio();
            poll_all(&mut all);
            drop(all);
        })
    });
    group.finish();
}

/// Heap bytes per pending timeout beyond its own inline size, at the peak
/// (all 100,000 created and polled).
fn memory_report() {
    fn measure<T>(make: impl FnOnce() -> Vec<T>, poll: impl FnOnce(&mut Vec<T>)) -> (usize, f64) {
        let base = LIVE.load(Ordering::SeqCst);
        PEAK.store(base, Ordering::SeqCst);
        let mut all = make();
        poll(&mut all);
        let peak = PEAK.load(Ordering::SeqCst) - base;
        let inline = std::mem::size_of::<T>() * all.capacity();
        drop(all);
        (
            std::mem::size_of::<T>(),
            (peak - inline) as f64 / PENDING as f64,
        )
    }
    println!("\nmemory per pending timeout ({PENDING} alive, polled once):");
    println!(
        "  {:<34} {:>12} {:>22}",
        "", "inline bytes", "heap bytes (peak)"
    );
    let (inline, heap) = measure(make_aiokit, |all| poll_all(all));
    println!("  {:<34} {inline:>12} {heap:>22.1}", "aiokit::timeout");
    let (inline, heap) = measure(make_or_timer, |all| poll_all(all));
    let boxed = std::mem::size_of_val(&futures_lite::future::or(
        pending::<()>(),
        Timer::after(LONG).map_unit(),
    ));
    println!(
        "  {:<34} {:>12} {heap:>22.1}   (boxed: {boxed} bytes of the heap figure)",
        "futures_lite::or + Timer::after", inline
    );
    let rt = tokio_rt();
    let _inside = rt.enter();
    let (inline, heap) = measure(make_tokio, |all| poll_all(all));
    let boxed = std::mem::size_of::<tokio::time::Timeout<std::future::Pending<()>>>();
    println!(
        "  {:<34} {:>12} {heap:>22.1}   (boxed: {boxed} bytes of the heap figure)",
        "tokio::time::timeout", inline
    );
    println!(
        "  (size_of: aiokit::Timeout<Pending<()>> = {}, async_io::Timer = {}, aiokit::Sleep = {})",
        std::mem::size_of::<aiokit::Timeout<std::future::Pending<()>>>(),
        std::mem::size_of::<Timer>(),
        std::mem::size_of::<aiokit::Sleep>(),
    );
}

/// The ready path of `aiokit::timeout` against the hand-written lazy
/// wrapper, alternating which goes first in each round so both see the same
/// load: the median of the per-round ratios is steadier than two criterion
/// figures taken seconds apart on a shared machine.
fn paired_ready_report() {
    const ROUNDS: usize = 200;
    const CALLS: u64 = 100_000;
    fn per_call(aiokit: bool) -> f64 {
        let start = Instant::now();
        let sum = futures_lite::future::block_on(async {
            let mut sum = 0u64;
            for i in 0..CALLS {
                sum += if aiokit {
                    aiokit::timeout(LONG, ready(black_box(i))).await.unwrap()
                } else {
                    lazy_timeout(LONG, ready(black_box(i))).await.unwrap()
                };
            }
            sum
        });
        black_box(sum);
        start.elapsed().as_secs_f64() * 1e9 / CALLS as f64
    }
    let (mut ours, mut anchor, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (a, h) = if round % 2 == 0 {
            let a = per_call(true);
            (a, per_call(false))
        } else {
            let h = per_call(false);
            (per_call(true), h)
        };
        ratios.push(a / h);
        ours.push(a);
        anchor.push(h);
    }
    for v in [&mut ours, &mut anchor, &mut ratios] {
        v.sort_by(f64::total_cmp);
    }
    println!(
        "\ntime/paired_ready ({ROUNDS} rounds x {CALLS} ready futures, alternating): \
         aiokit::timeout median {:.2} ns, hand-written lazy Option<Timer> median {:.2} ns, \
         median ratio {:.3} (p10 {:.3}, p90 {:.3})",
        ours[ROUNDS / 2],
        anchor[ROUNDS / 2],
        ratios[ROUNDS / 2],
        ratios[ROUNDS / 10],
        ratios[ROUNDS * 9 / 10],
    );
}

/// Overshoot of 100 sequential 10 ms sleeps under each executor.
fn precision_report() {
    const SLEEPS: usize = 100;
    const NAP: Duration = Duration::from_millis(10);

    async fn overshoots<F: Future<Output = ()>>(sleep: impl Fn() -> F) -> Vec<Duration> {
        let mut out = Vec::with_capacity(SLEEPS);
        for _ in 0..SLEEPS {
            let start = Instant::now();
            sleep().await;
            out.push(start.elapsed() - NAP);
        }
        out
    }
    fn print(name: &str, mut v: Vec<Duration>) {
        v.sort();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!(
            "  {name:<52} {:>8.0} {:>8.0} {:>8.0}",
            us(v[v.len() / 2]),
            us(v[v.len() * 9 / 10]),
            us(v[v.len() - 1]),
        );
    }
    println!("\nsleep(10 ms) overshoot in µs, {SLEEPS} sleeps each:");
    println!("  {:<52} {:>8} {:>8} {:>8}", "", "median", "p90", "max");
    let aiokit_sleep = || aiokit::sleep(NAP);
    print(
        "aiokit::sleep, smol::block_on",
        smol::block_on(overshoots(aiokit_sleep)),
    );
    print(
        "aiokit::sleep, async_io::block_on",
        async_io::block_on(overshoots(aiokit_sleep)),
    );
    print(
        "aiokit::sleep, futures::executor::block_on",
        futures::executor::block_on(overshoots(aiokit_sleep)),
    );
    print(
        "aiokit::sleep, tokio current_thread",
        tokio_rt().block_on(overshoots(aiokit_sleep)),
    );
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    print(
        "aiokit::sleep, tokio multi_thread x2 (spawned)",
        multi
            .block_on(multi.spawn(overshoots(aiokit_sleep)))
            .unwrap(),
    );
    print(
        "tokio::time::sleep, tokio current_thread",
        tokio_rt().block_on(overshoots(|| tokio::time::sleep(NAP))),
    );
    println!();
}

criterion_group!(benches, ready_path, pending_timeouts);

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    if std::env::args().any(|arg| arg == "--bench") {
        let filter: Vec<String> = std::env::args()
            .skip(1)
            .filter(|a| !a.starts_with('-'))
            .collect();
        if filter.is_empty() {
            memory_report();
            precision_report();
        }
        if filter.is_empty()
            || filter
                .iter()
                .any(|f| "time/paired_ready".contains(f.as_str()))
        {
            paired_ready_report();
        }
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
