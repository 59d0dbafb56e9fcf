//! The stress and fault suite: cross-thread wake storms, drops at every poll
//! point, limits with stale wakers, panics, and the thread limiter under
//! random cancellation, against the public API.
//!
//! Bounded and deterministic: every run derives its random choices from one
//! seed, printed when a scenario fails. Knobs:
//!
//! - `AIOKIT_STRESS_SEED=<u64>`: the base seed (default fixed).
//! - `AIOKIT_STRESS_ITERS=<scale>`: multiplies every iteration count (default
//!   1; `0.5` under ThreadSanitizer, `50` for a long run:
//!   `AIOKIT_STRESS_ITERS=50 cargo test --release --test stress`).
//! - `AIOKIT_STRESS_HANG=<seconds>`: how long one scenario batch may run
//!   before the watchdog aborts the process naming it (default 120).

#[path = "stress/child.rs"]
mod child;
mod common;
#[path = "stress/forms.rs"]
mod forms;
#[path = "stress/limiter.rs"]
mod limiter;

use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, Once, PoisonError};
use std::task::{Context, Waker};
use std::time::Duration;

use child::{Kind, PLANTED, Tracker};
use forms::{FORMS, Form, Outcome};

/// The executors of the storms: two multi-threaded ones and a single-threaded
/// one, all with children completed from other OS threads.
const EXECUTORS: &[&str] = &[
    "smol::Executor x2 threads",
    "tokio multi_thread x2",
    "futures::executor::block_on",
];

/// Set sizes: around the bit-mask limit of 64, and a large one.
const SIZES: &[usize] = &[3, 63, 64, 65, 1000];

fn base_seed() -> u64 {
    std::env::var("AIOKIT_STRESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_A10C)
}

/// `base` iterations scaled by `AIOKIT_STRESS_ITERS`, at least 1.
fn iters(base: usize) -> usize {
    let scale: f64 = std::env::var("AIOKIT_STRESS_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    ((base as f64 * scale).round() as usize).max(1)
}

/// A seed for one iteration of one scenario.
fn seed(scenario: &str, iteration: usize) -> u64 {
    let mut h = base_seed() ^ 0x9E37_79B9_7F4A_7C15;
    for b in scenario.bytes().chain(iteration.to_le_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
    }
    h
}

/// Silences the hook for planted panics; every other panic still prints.
fn quiet_planted_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let planted = info
                .payload()
                .downcast_ref::<String>()
                .is_some_and(|m| m.starts_with(PLANTED));
            if !planted {
                default(info);
            }
        }));
    });
}

/// The scenario running now, for the watchdog and for failure messages.
struct Label(Arc<Mutex<String>>);

impl Label {
    fn set(&self, text: String) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = text;
    }
}

/// Runs `body` with a watchdog that aborts the process, naming the scenario
/// and iteration, if it takes longer than `AIOKIT_STRESS_HANG` seconds; and
/// names them if `body` panics.
fn watched(name: &str, body: impl FnOnce(&Label)) {
    quiet_planted_panics();
    let hang = Duration::from_secs(
        std::env::var("AIOKIT_STRESS_HANG")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(120),
    );
    let label = Label(Arc::new(Mutex::new(name.to_owned())));
    let (done, watchdog) = channel::<()>();
    let shown = label.0.clone();
    std::thread::spawn(move || {
        if let Err(RecvTimeoutError::Timeout) = watchdog.recv_timeout(hang) {
            let at = shown.lock().unwrap_or_else(PoisonError::into_inner).clone();
            // Straight to stderr: the test harness captures `eprintln!`
            // output, which an abort would lose.
            let _ = writeln!(
                std::io::stderr(),
                "stress: hung for {hang:?} in {at}: aborting"
            );
            std::process::abort();
        }
    });
    struct Report<'a>(&'a Label);
    impl Drop for Report<'_> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                let at = self.0.0.lock().unwrap_or_else(PoisonError::into_inner);
                eprintln!(
                    "stress: failed in {at} (AIOKIT_STRESS_SEED={})",
                    base_seed()
                );
            }
        }
    }
    let report = Report(&label);
    body(report.0);
    let _ = done.send(());
}

/// Runs `body` on the named executor of the common matrix.
fn on(executor: &str, body: impl std::future::Future<Output = ()> + Send + 'static) {
    let (_, run) = common::EXECUTORS
        .iter()
        .find(|(name, _)| *name == executor)
        .expect("a known executor");
    run(Box::pin(body));
}

/// The most children that may exist at once: the limit, except for a task
/// group, whose waiting futures were all made (pushed) before any started.
fn live_bound(form: &Form, limit: Option<usize>) -> Option<usize> {
    limit.filter(|_| form.name != "task_group")
}

/// Kinds for a storm of `n` children of `form`: mostly `Ok`, with `Err`s for
/// the forms where they matter, and `Panic`s when `panics`.
fn kinds(form: &Form, n: usize, panics: bool, rng: &mut fastrand::Rng) -> Vec<Kind> {
    (0..n)
        .map(|_| match rng.u8(0..10) {
            0 if panics => Kind::Panic,
            1 | 2
                if matches!(
                    form.name,
                    "gather_settled" | "gather_settled_stream" | "race_ok" | "race" | "task_group"
                ) =>
            {
                Kind::Err
            }
            3 if form.name.starts_with("try_gather") && rng.bool() => Kind::Err,
            _ => Kind::Ok,
        })
        .collect()
}

/// One storm run: `n` children fired from two other threads at random
/// moments while the executor polls the form; then the checks, then the
/// wakers that outlived the combinator woken and dropped.
async fn storm_once(form: &'static Form, n: usize, limit: Option<usize>, panics: bool, seed: u64) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let tracker = Tracker::new(kinds(form, n, panics, &mut rng));
    let firers = child::fire_all(&tracker, 2, rng.u64(..));
    let outcome = forms::run_caught(form, &tracker, tracker.inputs(rng.u64(..)), limit).await;
    let late = child::join(firers);
    forms::check(form, &tracker.kinds, &outcome);
    tracker.assert_clean(live_bound(form, limit));
    child::wake_late(late);
}

/// Storms of `base` iterations (scaled) per form, executor and size.
fn storms(
    scenario: &'static str,
    base: fn(usize) -> usize,
    limit: fn(usize) -> Option<usize>,
    panics: bool,
) {
    let total = Arc::new(AtomicUsize::new(0));
    for form in FORMS {
        if limit(3).is_some() && !form.limits {
            continue;
        }
        for &executor in EXECUTORS {
            for &n in SIZES {
                let name = format!("{scenario}/{}/{executor}/n={n}", form.name);
                watched(&name, |label| {
                    let count = iters(base(n));
                    let (total, name) = (total.clone(), name.clone());
                    let at = label.0.clone();
                    on(executor, async move {
                        for k in 0..count {
                            let s = seed(&name, k);
                            *at.lock().unwrap_or_else(PoisonError::into_inner) =
                                format!("{name} iteration {k} seed {s:#x}");
                            storm_once(form, n, limit(n), panics, s).await;
                            total.fetch_add(1, SeqCst);
                        }
                    });
                });
            }
        }
    }
    eprintln!("stress: {scenario}: {} runs", total.load(SeqCst));
}

fn storm_iters(n: usize) -> usize {
    match n {
        0..=8 => 1000,
        9..=100 => 200,
        _ => 20,
    }
}

#[test]
fn smoke() {
    watched("smoke", |_| {
        on("futures::executor::block_on", async {
            for form in FORMS {
                storm_once(form, 3, None, false, seed("smoke", 0)).await;
            }
        });
    });
}

#[test]
fn wake_storms() {
    storms("wake_storms", storm_iters, |_| None, false);
}

#[test]
fn wake_storms_with_limits_and_stale_wakers() {
    // Limits 1, 7 and n - 1: refills while the wakers of earlier occupants
    // of the same slot are still woken by the firing threads.
    storms(
        "limits",
        storm_iters,
        |n| Some([1, 7, n.saturating_sub(1).max(1)][n % 3]),
        false,
    );
}

#[test]
fn panics_while_other_threads_wake_siblings() {
    storms("panics", |n| storm_iters(n).div_ceil(2), |_| None, true);
}

/// Polls `fut` `k` times (or until it completes) on this thread while the
/// firing threads work, with a waker that counts.
fn poll_k<F: std::future::Future + Unpin>(fut: &mut F, k: usize) -> bool {
    let waker = Waker::from(common::CountingWaker::new());
    let mut cx = Context::from_waker(&waker);
    for _ in 0..k {
        if std::pin::Pin::new(&mut *fut).poll(&mut cx).is_ready() {
            return true;
        }
        std::thread::yield_now();
    }
    false
}

#[test]
fn drop_at_every_poll_point() {
    let mut points = 0;
    for form in FORMS {
        for n in [3, 64, 65, 200] {
            for limit in [None, Some(2)] {
                if limit.is_some() && !form.limits {
                    continue;
                }
                let name = format!(
                    "drop_at_every_poll_point/{}/n={n}/limit={limit:?}",
                    form.name
                );
                watched(&name, |label| {
                    for rep in 0..iters(20) {
                        // Every poll point until the combinator completes
                        // (up to 40 polls).
                        for k in 0..=40 {
                            let s = seed(&name, rep * 100 + k);
                            label.set(format!("{name} k={k} rep={rep} seed {s:#x}"));
                            let mut rng = fastrand::Rng::with_seed(s);
                            let tracker = Tracker::new(kinds(form, n, rng.u8(0..4) == 0, &mut rng));
                            // Some children never fire: the combinator is
                            // still running at every poll point.
                            let fired = rng.usize(0..=n);
                            let firers = child::fire_some(&tracker, fired, 2, rng.u64(..));
                            let mut fut = forms::run_caught(
                                form,
                                &tracker,
                                tracker.inputs(rng.u64(..)),
                                limit,
                            );
                            let completed = poll_k(&mut fut, k);
                            // Dropped while the firing threads still hold and
                            // fire the children's wakers.
                            drop(fut);
                            assert_eq!(
                                tracker.live.load(SeqCst),
                                0,
                                "children alive after the drop"
                            );
                            let late = child::join(firers);
                            tracker.assert_clean(live_bound(form, limit));
                            // Wakers that outlived the combinator.
                            child::wake_late(late);
                            for ctl in &tracker.ctls {
                                drop(ctl.waker_take());
                            }
                            points += 1;
                            if completed {
                                break;
                            }
                        }
                    }
                });
            }
        }
    }
    eprintln!("stress: drop_at_every_poll_point: {points} drops");
}

/// With a limit, dropping a `Gather` drops its pending children in input
/// order, as its `# Cancellation` section says, also after a slot was
/// refilled (input 0's slot now holds input 3).
#[test]
fn limited_gather_drops_pending_children_in_input_order() {
    let tracker = Tracker::new(vec![Kind::Ok; 4]);
    let t = tracker.clone();
    // Input 0 is ready at once; 1, 2, 3 stay pending.
    let inputs = (0..4).map(move |i| {
        if i == 0 {
            t.ctls[0].fire();
        }
        t.child(i, 0)
    });
    let mut gather = aiokit::gather(inputs).limit(3);
    assert!(!poll_k(&mut gather, 1));
    assert_eq!(tracker.drop_order(), [0]);
    drop(gather);
    assert_eq!(tracker.drop_order(), [0, 1, 2, 3]);
}

#[test]
fn thread_limiter_under_random_cancellation() {
    limiter::random_cancellation();
}

#[test]
fn to_thread_cancellable_under_timeout_in_a_saturated_limiter() {
    limiter::cancellable_under_timeout();
}

#[test]
fn storm_outcome_table_is_complete() {
    // Every form of the table is checked by `forms::check`.
    for form in FORMS {
        let kinds = vec![Kind::Ok; 2];
        let outcome = match form.name {
            "gather" | "gather_stream" => Outcome::InOrder(vec![Ok(0), Ok(1)]),
            "try_gather" | "try_gather_stream" => Outcome::Try(Ok(vec![0, 1])),
            "gather_settled" | "gather_settled_stream" => {
                Outcome::Settled(vec![Some(Ok(0)), Some(Ok(1))])
            }
            "as_completed" | "as_completed_stream" | "task_group" => {
                Outcome::Completed(vec![Ok(1), Ok(0)])
            }
            "race" => Outcome::First(Ok(1)),
            "race_ok" => Outcome::FirstOk(Ok(0)),
            other => panic!("no outcome for {other}"),
        };
        forms::check(form, &kinds, &outcome);
    }
}
