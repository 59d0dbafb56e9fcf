//! Whose clock: aiokit's timers under tokio (tokio's own time driver, with
//! the `tokio` feature) and under smol (async-io's), beside the runtime's
//! own timers and async-io's timers under tokio (aiokit's timers before the
//! clock seam), in one process, in alternating rounds.
//!
//! `cargo bench -p aiokit-benches --bench clock --features tokio` prints one table; each row
//! is the median over rounds, and the ratio is the median of per-round
//! ratios against the runtime's own timer.
//!
//! - `sleeps`: N spawned tasks on a tokio multi-thread runtime (2 workers),
//!   each sleeping until a deadline spread evenly over 20..220 ms ahead;
//!   p99 lateness (wake time minus deadline) and process CPU time (user +
//!   system, every thread, from `getrusage`).
//! - `timeouts`: 100 spawned tasks x 1,000 `timeout(1 s, f)` where `f`
//!   answers after one yield: the timer is armed, then dropped, as for a
//!   request that answers in time. CPU per timeout.
//! - the same `timeouts` under a smol executor on 2 threads, against
//!   async-io's `Timer`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

const ROUNDS: usize = 15;

/// Process CPU time (user + system) of every thread so far.
fn cpu() -> Duration {
    // SAFETY: `getrusage` writes one `rusage` into the zeroed value we own.
    #[allow(unsafe_code)]
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Contender {
    /// `aiokit::sleep_until` / `aiokit::timeout`.
    Aiokit,
    /// The runtime's own timer: `tokio::time` under tokio, `async_io::Timer`
    /// under smol.
    Runtime,
    /// `async_io::Timer` under tokio: aiokit's timers before the seam.
    AsyncIo,
}

impl Contender {
    fn name(self, under_smol: bool) -> &'static str {
        match (self, under_smol) {
            (Contender::Aiokit, _) => "aiokit",
            (Contender::Runtime, false) => "tokio::time",
            (Contender::Runtime, true) | (Contender::AsyncIo, _) => "async_io::Timer",
        }
    }
}

async fn sleep_until(who: Contender, deadline: Instant) {
    match who {
        Contender::Aiokit => aiokit::sleep_until(deadline).await,
        Contender::Runtime => tokio::time::sleep_until(deadline.into()).await,
        Contender::AsyncIo => {
            async_io::Timer::at(deadline).await;
        }
    }
}

/// One round of `sleeps`: (p99 lateness, CPU).
fn sleeps(rt: &tokio::runtime::Runtime, who: Contender, n: usize) -> (Duration, Duration) {
    let cpu0 = cpu();
    let late = rt.block_on(async move {
        let start = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let offset = Duration::from_millis(20)
                    + Duration::from_micros(200_000 * i as u64 / n as u64);
                let deadline = start + offset;
                tokio::spawn(async move {
                    sleep_until(who, deadline).await;
                    Instant::now() - deadline
                })
            })
            .collect();
        let mut late = Vec::with_capacity(n);
        for task in tasks {
            late.push(task.await.unwrap());
        }
        late
    });
    let cpu = cpu() - cpu0;
    let mut late = late;
    late.sort();
    (late[n * 99 / 100], cpu)
}

/// A future that answers after one yield.
struct OneYield(bool);

impl Future for OneYield {
    type Output = u32;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        if self.0 {
            Poll::Ready(1)
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

pin_project! {
    /// A timeout on `async_io::Timer`, made at the first pending poll as
    /// aiokit's is: the old aiokit under tokio, and the anchor under smol.
    struct AsyncIoTimeout<F> {
        #[pin]
        future: F,
        timer: Option<async_io::Timer>,
    }
}

impl<F: Future> Future for AsyncIoTimeout<F> {
    type Output = Result<F::Output, ()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(out) = this.future.poll(cx) {
            return Poll::Ready(Ok(out));
        }
        let timer = this
            .timer
            .get_or_insert_with(|| async_io::Timer::after(Duration::from_secs(1)));
        Pin::new(timer).poll(cx).map(|_| Err(()))
    }
}

async fn one_timeout(who: Contender, under_smol: bool) -> u32 {
    const D: Duration = Duration::from_secs(1);
    match (who, under_smol) {
        (Contender::Aiokit, _) => aiokit::timeout(D, OneYield(false)).await.unwrap(),
        (Contender::Runtime, false) => tokio::time::timeout(D, OneYield(false)).await.unwrap(),
        (Contender::Runtime, true) | (Contender::AsyncIo, _) => AsyncIoTimeout {
            future: OneYield(false),
            timer: None,
        }
        .await
        .unwrap(),
    }
}

const TASKS: usize = 100;
const PER_TASK: usize = 2_000;

/// One round of `timeouts` under tokio: CPU per timeout.
fn timeouts_tokio(rt: &tokio::runtime::Runtime, who: Contender) -> Duration {
    let cpu0 = cpu();
    rt.block_on(async move {
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                tokio::spawn(async move {
                    let mut sum = 0;
                    for _ in 0..PER_TASK {
                        sum += one_timeout(who, false).await;
                    }
                    sum
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap() as usize, PER_TASK);
        }
    });
    (cpu() - cpu0) / (TASKS * PER_TASK) as u32
}

/// One round of `timeouts` under a smol executor on 2 threads.
fn timeouts_smol(ex: &Arc<smol::Executor<'static>>, who: Contender) -> Duration {
    let cpu0 = cpu();
    smol::block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                ex.spawn(async move {
                    let mut sum = 0;
                    for _ in 0..PER_TASK {
                        sum += one_timeout(who, true).await;
                    }
                    sum
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await as usize, PER_TASK);
        }
    });
    (cpu() - cpu0) / (TASKS * PER_TASK) as u32
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs `measure` for each contender in alternating order per round, and
/// returns per contender the median of each metric and the median ratio of
/// each metric against `Contender::Runtime`.
fn alternate<const M: usize>(
    contenders: &[Contender],
    mut measure: impl FnMut(Contender) -> [f64; M],
) -> Vec<(Contender, [f64; M], [f64; M])> {
    let mut samples: Vec<Vec<[f64; M]>> = vec![Vec::new(); contenders.len()];
    for round in 0..ROUNDS {
        let mut order: Vec<usize> = (0..contenders.len()).collect();
        order.rotate_left(round % contenders.len());
        for i in order {
            samples[i].push(measure(contenders[i]));
        }
    }
    let runtime = contenders
        .iter()
        .position(|c| *c == Contender::Runtime)
        .unwrap();
    contenders
        .iter()
        .enumerate()
        .map(|(i, who)| {
            let medians =
                std::array::from_fn(|m| median(samples[i].iter().map(|s| s[m]).collect()));
            let ratios = std::array::from_fn(|m| {
                median(
                    (0..ROUNDS)
                        .map(|r| {
                            // One millisecond of slack on each side, so a
                            // p99 near zero does not make the ratio explode.
                            let slack = if M == 2 && m == 0 { 1.0 } else { 0.0 };
                            (samples[i][r][m] + slack) / (samples[runtime][r][m] + slack)
                        })
                        .collect(),
                )
            });
            (*who, medians, ratios)
        })
        .collect()
}

/// `clock count <aiokit|tokio|async-io> <n>`: `n` timeouts that do not fire,
/// one after another on a tokio current-thread runtime, for callgrind
/// (benches/clock_instructions.sh subtracts the run with `n` = 0).
fn count(args: &[String]) {
    let who = match args[0].as_str() {
        "aiokit" => Contender::Aiokit,
        "tokio" => Contender::Runtime,
        _ => Contender::AsyncIo,
    };
    let n: usize = args[1].parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        tokio::spawn(async move {
            for _ in 0..n {
                std::hint::black_box(one_timeout(who, false).await);
            }
        })
        .await
        .unwrap();
    });
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    if let Some(at) = args.iter().position(|a| a == "count") {
        return count(&args[at + 1..]);
    }
    let features = if cfg!(feature = "tokio") {
        "with the tokio feature"
    } else {
        "WITHOUT the tokio feature: aiokit's timers are async-io's everywhere"
    };
    println!("clock: {ROUNDS} alternating rounds, {features}");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let tokio_side = [Contender::Aiokit, Contender::Runtime, Contender::AsyncIo];
    for n in [10_000, 100_000] {
        println!(
            "\nsleeps, tokio multi_thread x2, {n} tasks (p99 lateness ms, CPU ms; ratios vs tokio::time, lateness with 1 ms slack)"
        );
        let rows = alternate(&tokio_side, |who| {
            let (late, cpu) = sleeps(&rt, who, n);
            [late.as_secs_f64() * 1e3, cpu.as_secs_f64() * 1e3]
        });
        for (who, [late, cpu], [late_r, cpu_r]) in rows {
            println!(
                "  {:<16} p99 {:>7.2} ms ({:.2}x)  CPU {:>8.1} ms ({:.2}x)",
                who.name(false),
                late,
                late_r,
                cpu,
                cpu_r
            );
        }
    }
    println!(
        "\ntimeouts that do not fire, tokio multi_thread x2, {TASKS} tasks x {PER_TASK} (CPU ns per timeout; ratio vs tokio::time)"
    );
    let rows = alternate(&tokio_side, |who| {
        [timeouts_tokio(&rt, who).as_nanos() as f64]
    });
    for (who, [ns], [ratio]) in rows {
        println!("  {:<16} {:>7.1} ns ({:.2}x)", who.name(false), ns, ratio);
    }
    drop(rt);

    let ex = Arc::new(smol::Executor::new());
    let (stop, stopped) = smol::channel::bounded::<()>(1);
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let ex = ex.clone();
            let stopped = stopped.clone();
            std::thread::spawn(move || smol::block_on(ex.run(stopped.recv())))
        })
        .collect();
    println!(
        "\ntimeouts that do not fire, smol::Executor x2 threads, {TASKS} tasks x {PER_TASK} (CPU ns per timeout; ratio vs async_io::Timer)"
    );
    let rows = alternate(&[Contender::Aiokit, Contender::Runtime], |who| {
        [timeouts_smol(&ex, who).as_nanos() as f64]
    });
    for (who, [ns], [ratio]) in rows {
        println!("  {:<16} {:>7.1} ns ({:.2}x)", who.name(true), ns, ratio);
    }
    drop(stop);
    for thread in threads {
        let _ = thread.join();
    }
}
