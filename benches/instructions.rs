//! Instruction counts for the engine's workloads, side by side with the
//! anchors: a program that runs one contender `R` times on `N` children, to
//! be counted with callgrind (`valgrind --tool=callgrind`), which counts
//! instructions, not time, so the counts do not depend on what else the
//! machine is doing. `benches/instructions.sh` runs every contender and its
//! baseline and prints instructions per child:
//!
//! ```text
//! (contender instructions - baseline instructions) / (R × N)
//! ```
//!
//! where the baseline builds the same children and drops them unused, so
//! what is left is the combinator's own work plus the children's polls.
//!
//! The contenders are those of `benches/stream.rs`, `benches/group.rs`,
//! `benches/race.rs` and `benches/gather.rs` (aiokit and the anchors that
//! are closest to it), with the same children. Usage:
//!
//! ```text
//! cargo bench --bench instructions -- <contender> <N> <R>
//! cargo bench --bench instructions -- list
//! ```
//!
//! Without arguments (as under a plain `cargo bench`) it runs every
//! contender once on a few children, as a check, and exits.
//!
//! The same contenders also run in wall clock, in alternating rounds
//! (`benches/paired.sh` runs the comparisons of BENCHMARKS.md):
//!
//! ```text
//! cargo bench --bench instructions -- paired <N> <rounds> <contender> <anchor>...
//! ```
//!
//! Each round times the baseline and every contender once, each on about
//! 30,000 children (`R × N`), in an order that rotates from round to round.
//! A contender's time in a round, less the baseline's in the same round,
//! divided by `R × N`, is its cost per child in that round; the report gives
//! each contender's median over the rounds, and the median (with the 10th
//! and 90th percentiles) of the first contender's per-round ratio to each
//! of the others. On a shared machine whose speed drifts from one second
//! to the next, the ratio of two runs made a few milliseconds apart is
//! steadier than the ratio of two criterion runs made seconds apart.

#[path = "support/gather_inputs.rs"]
mod gather_inputs;
#[path = "support/group_contenders.rs"]
mod group_contenders;
#[path = "support/race_children.rs"]
mod race_children;
#[path = "support/step.rs"]
mod step;
#[path = "support/stream_contenders.rs"]
mod stream_contenders;
#[path = "support/task_waker.rs"]
mod task_waker;

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::time::Instant;

use futures_concurrency::future::Race as _;
use gather_inputs::{Rx, TryChild, ready_input, run, sparse, sparse_input, try_input};
use race_children::Workload;
use step::Clock;

fn stream(f: stream_contenders::Contender) -> impl Fn(usize) -> u64 {
    move |n| {
        let clock = Clock::new();
        f(&clock, clock.children(n))
    }
}

fn group(f: group_contenders::Contender) -> impl Fn(usize) -> u64 {
    move |n| f(&Clock::new(), n)
}

/// The sparse workload, joined by `join`.
fn sparse_run<J>(join: impl Fn(Vec<Rx>) -> J + 'static) -> Box<dyn Fn(usize) -> u64>
where
    J: Future<Output = Vec<Result<u32, futures::channel::oneshot::Canceled>>> + 'static,
{
    Box::new(move |n| {
        let (receivers, senders) = sparse_input(n);
        sparse(senders, join(receivers)).len() as u64
    })
}

/// The try_error workload, joined by `join`; the senders are dropped after.
fn try_error<J>(join: impl Fn(Vec<TryChild>) -> J + 'static) -> Box<dyn Fn(usize) -> u64>
where
    J: Future<Output = Result<Vec<u32>, u32>> + 'static,
{
    Box::new(move |n| {
        let (children, senders) = try_input(n);
        let failed = run(join(children)).expect_err("one child fails");
        drop(senders);
        u64::from(failed)
    })
}

fn race_run(workload: Workload, contender: &str, n: usize) -> u64 {
    let (kids, gates) = race_children::setup(n, workload);
    let winner = match contender {
        "aiokit" => race_children::finish(aiokit::race(kids), gates, workload),
        "fc" => race_children::finish(pin!(kids.race()), gates, workload),
        _ => {
            drop(black_box(kids));
            drop(gates);
            n / 2
        }
    };
    winner as u64
}

/// A contender's name, its baseline's name (none for a baseline), and one
/// run on `n` children.
type Entry = (&'static str, &'static str, Box<dyn Fn(usize) -> u64>);

/// Every contender and baseline.
fn contenders() -> Vec<Entry> {
    use stream_contenders as s;
    let stream_base = |n: usize| {
        let clock = Clock::new();
        black_box(clock.children(n)).len() as u64
    };
    let group_base = |n: usize| {
        let clock = Clock::new();
        (0..n as u32)
            .map(|i| drop(black_box(clock.child(i))))
            .count() as u64
    };
    let ready_base = |n: usize| black_box(ready_input(n)).len() as u64;
    let sparse_base = |n: usize| black_box(sparse_input(n)).0.len() as u64;
    let try_base = |n: usize| black_box(try_input(n)).0.len() as u64;
    let runs: [Entry; 33] = [
        ("stream_base", "", Box::new(stream_base)),
        (
            "gather_stream",
            "stream_base",
            Box::new(stream(s::aiokit_ordered)),
        ),
        (
            "buffered",
            "stream_base",
            Box::new(stream(s::futures_buffered_ordered)),
        ),
        (
            "fb_buffered_ordered",
            "stream_base",
            Box::new(stream(s::fb_buffered_ordered)),
        ),
        (
            "as_completed_stream",
            "stream_base",
            Box::new(stream(s::aiokit_unordered)),
        ),
        (
            "buffer_unordered",
            "stream_base",
            Box::new(stream(s::futures_buffer_unordered)),
        ),
        (
            "for_each_concurrent",
            "stream_base",
            Box::new(stream(s::futures_for_each_concurrent)),
        ),
        (
            "fb_buffered_unordered",
            "stream_base",
            Box::new(stream(s::fb_buffered_unordered)),
        ),
        (
            "fc_co_limit",
            "stream_base",
            Box::new(stream(s::fc_co_limit)),
        ),
        ("stream_floor", "stream_base", Box::new(stream(s::floor))),
        ("group_base", "", Box::new(group_base)),
        (
            "task_group",
            "group_base",
            Box::new(group(group_contenders::task_group)),
        ),
        (
            "futures_unordered",
            "group_base",
            Box::new(group(group_contenders::futures_unordered)),
        ),
        ("ready_base", "", Box::new(ready_base)),
        (
            "gather",
            "ready_base",
            Box::new(|n| run(aiokit::gather(ready_input(n))).len() as u64),
        ),
        (
            "join_all",
            "ready_base",
            Box::new(|n| run(futures::future::join_all(ready_input(n))).len() as u64),
        ),
        ("sparse_base", "", Box::new(sparse_base)),
        ("gather_sparse", "sparse_base", sparse_run(aiokit::gather)),
        (
            "join_all_sparse",
            "sparse_base",
            sparse_run(futures::future::join_all),
        ),
        (
            "fb_join_all_sparse",
            "sparse_base",
            sparse_run(futures_buffered::join_all),
        ),
        ("try_base", "", Box::new(try_base)),
        ("try_gather", "try_base", try_error(aiokit::try_gather)),
        (
            "try_join_all",
            "try_base",
            try_error(futures::future::try_join_all),
        ),
        (
            "fb_try_join_all",
            "try_base",
            try_error(futures_buffered::try_join_all),
        ),
        (
            "race_ready_base",
            "",
            Box::new(|n| race_run(Workload::Ready, "base", n)),
        ),
        (
            "race_ready",
            "race_ready_base",
            Box::new(|n| race_run(Workload::Ready, "aiokit", n)),
        ),
        (
            "fc_race_ready",
            "race_ready_base",
            Box::new(|n| race_run(Workload::Ready, "fc", n)),
        ),
        (
            "race_churn_base",
            "",
            Box::new(|n| race_run(Workload::Churn, "base", n)),
        ),
        (
            "race_churn",
            "race_churn_base",
            Box::new(|n| race_run(Workload::Churn, "aiokit", n)),
        ),
        (
            "fc_race_churn",
            "race_churn_base",
            Box::new(|n| race_run(Workload::Churn, "fc", n)),
        ),
        (
            "race_woken_base",
            "",
            Box::new(|n| race_run(Workload::Woken, "base", n)),
        ),
        (
            "race_woken",
            "race_woken_base",
            Box::new(|n| race_run(Workload::Woken, "aiokit", n)),
        ),
        (
            "fc_race_woken",
            "race_woken_base",
            Box::new(|n| race_run(Workload::Woken, "fc", n)),
        ),
    ];
    runs.into_iter().collect()
}

fn main() {
    // `cargo bench` passes `--bench`; everything else is ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let contenders = contenders();
    match args.as_slice() {
        [] => {
            for (name, _, run) in &contenders {
                black_box(run(20));
                println!("{name}: ok");
            }
        }
        [list] if list == "list" => {
            for (name, base, _) in &contenders {
                println!("{name} {base}");
            }
        }
        [name, n, r] => {
            let n: usize = n.parse().expect("N: a number");
            let r: usize = r.parse().expect("R: a number");
            let (_, _, run) = contenders
                .iter()
                .find(|(c, _, _)| c == name)
                .unwrap_or_else(|| panic!("no contender {name}; `list` lists them"));
            let mut total = 0u64;
            for _ in 0..r {
                total = total.wrapping_add(run(n));
            }
            println!("{total}");
        }
        [paired, n, rounds, names @ ..] if paired == "paired" && !names.is_empty() => {
            let n: usize = n.parse().expect("N: a number");
            let rounds: usize = rounds.parse().expect("rounds: a number");
            paired_report(&contenders, n, rounds, names);
        }
        _ => panic!(
            "usage: instructions [list | <contender> <N> <R> | paired <N> <rounds> <contender>...]"
        ),
    }
}

/// The wall-clock mode: see the crate docs above.
fn paired_report(contenders: &[Entry], n: usize, rounds: usize, names: &[String]) {
    let find = |name: &str| {
        contenders
            .iter()
            .find(|(c, _, _)| *c == name)
            .unwrap_or_else(|| panic!("no contender {name}; `list` lists them"))
    };
    let picked: Vec<&Entry> = names.iter().map(|name| find(name)).collect();
    let base = picked[0].1;
    assert!(
        !base.is_empty() && picked.iter().all(|(_, b, _)| *b == base),
        "paired: the contenders must share one baseline"
    );
    // The baseline first, then the contenders.
    let runs: Vec<&Entry> = std::iter::once(find(base)).chain(picked).collect();
    let reps = 30_000usize.div_ceil(n);
    let time = |run: &dyn Fn(usize) -> u64| {
        let start = Instant::now();
        let mut total = 0u64;
        for _ in 0..reps {
            total = total.wrapping_add(run(n));
        }
        black_box(total);
        start.elapsed().as_secs_f64() * 1e9
    };
    // Warm-up: one round, not counted.
    for (_, _, run) in &runs {
        time(run);
    }
    let children = (reps * n) as f64;
    let mut per_child = vec![Vec::with_capacity(rounds); runs.len()];
    let mut ratios = vec![Vec::with_capacity(rounds); runs.len()];
    for round in 0..rounds {
        let mut ns = vec![0.0; runs.len()];
        for k in 0..runs.len() {
            let i = (round + k) % runs.len();
            ns[i] = time(&runs[i].2);
        }
        for i in 1..runs.len() {
            per_child[i].push((ns[i] - ns[0]) / children);
        }
        for i in 2..runs.len() {
            ratios[i].push((ns[1] - ns[0]) / (ns[i] - ns[0]));
        }
    }
    let quantile = |v: &mut Vec<f64>, q: usize| {
        v.sort_by(f64::total_cmp);
        v[(v.len() - 1) * q / 100]
    };
    print!("paired N={n} rounds={rounds} reps={reps}:");
    for i in 1..runs.len() {
        print!(" {} {:.1} ns", runs[i].0, quantile(&mut per_child[i], 50));
        if i > 1 {
            let median = quantile(&mut ratios[i], 50);
            let (low, high) = (quantile(&mut ratios[i], 10), quantile(&mut ratios[i], 90));
            print!(" (ratio {median:.3}, p10 {low:.3}, p90 {high:.3})");
        }
        print!(";");
    }
    println!();
}
