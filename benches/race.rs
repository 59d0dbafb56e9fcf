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

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures::FutureExt as _;
use futures::task::AtomicWaker;
use futures_concurrency::future::Race as _;

const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];

/// Opened once by the benchmark; the winner waits on it in `woken`.
#[derive(Default)]
struct Gate {
    open: AtomicBool,
    waker: AtomicWaker,
}

impl Gate {
    fn open(&self) {
        self.open.store(true, Ordering::Release);
        self.wake();
    }

    /// Wakes the waiting child without letting it finish.
    fn wake(&self) {
        self.waker.wake();
    }
}

/// Waits until the gate is open.
struct Wait(Arc<Gate>);

impl Future for Wait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.open.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        self.0.waker.register(cx.waker());
        // Checked again after registering, as `AtomicWaker` users must.
        if self.0.open.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

/// What a child does before it returns its index.
enum Kind {
    /// Nothing: ready on its first poll.
    Now,
    /// Waits on its gate.
    Gate(Arc<Gate>),
}

/// One child type (not `Unpin`) for every workload.
async fn child(i: usize, kind: Kind) -> usize {
    match kind {
        Kind::Now => {}
        Kind::Gate(gate) => Wait(gate).await,
    }
    i
}

/// Loser wakes before the winner's gate opens, in `churn`.
const CHURN_WAKES: usize = 100;

#[derive(Clone, Copy)]
enum Workload {
    Ready,
    Woken,
    Churn,
}

/// The children of one race (the winner is child `n / 2`) and every gate.
fn setup(n: usize, workload: Workload) -> (Vec<impl Future<Output = usize>>, Vec<Arc<Gate>>) {
    let winner = n / 2;
    let mut gates = Vec::new();
    let kids = (0..n)
        .map(|i| {
            let kind = match (workload, i == winner) {
                (Workload::Ready, true) => Kind::Now,
                _ => {
                    let gate = Arc::<Gate>::default();
                    gates.push(gate.clone());
                    Kind::Gate(gate)
                }
            };
            child(i, kind)
        })
        .collect();
    (kids, gates)
}

fn poll<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(Waker::noop()))
}

/// Drives one race to its winner: one poll (`ready`); or a poll, the
/// winner's gate, a poll (`woken`); or a poll, `CHURN_WAKES` loser wakes each
/// followed by a poll, the winner's gate, a poll (`churn`).
fn finish<F: Future<Output = usize> + Unpin>(
    mut race: F,
    gates: Vec<Arc<Gate>>,
    workload: Workload,
) -> usize {
    if !matches!(workload, Workload::Ready) {
        assert!(poll(&mut race).is_pending());
        let winner = gates.len() / 2;
        let last = gates.len() - 1;
        if matches!(workload, Workload::Churn) && last > 0 {
            for k in 0..CHURN_WAKES {
                // Every gate but the winner's, round robin.
                let i = (winner + 1 + k % last) % gates.len();
                gates[i].wake();
                assert!(poll(&mut race).is_pending());
            }
        }
        gates[winner].open();
    }
    let out = match poll(&mut race) {
        Poll::Ready(winner) => winner,
        Poll::Pending => panic!("the winner did not win"),
    };
    // The losers' gates go with the race (the children hold the other
    // halves), inside the timed part for every contender alike.
    drop(race);
    drop(gates);
    out
}

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
