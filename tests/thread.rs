//! to_thread, to_thread_cancellable and ThreadLimiter, each scenario
//! under every executor of the matrix.
#![cfg(feature = "thread")]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use aiokit::{
    CancelToken, Settled, ThreadLimiter, ToThread, ToThreadCancellable, to_thread,
    to_thread_cancellable,
};
use common::*;
use futures::FutureExt as _;

/// Long enough for anything that should happen; only reached on failure.
const PATIENCE: Duration = Duration::from_secs(20);

/// Spins (with short sleeps) until `condition` holds, failing after [`PATIENCE`].
#[track_caller]
fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < PATIENCE, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A gate a closure can block on until the test opens it.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<bool>, std::sync::Condvar)>);

impl Gate {
    fn open(&self) {
        *self.0.0.lock().unwrap() = true;
        self.0.1.notify_all();
    }

    fn wait(&self) {
        let mut open = self.0.0.lock().unwrap();
        while !*open {
            open = self.0.1.wait(open).unwrap();
        }
    }
}

#[test]
fn smoke() {
    matrix(|| async {
        assert_eq!(to_thread(|| 6 * 7).await, 42);
    });
}

#[test]
fn closure_runs_on_another_thread() {
    matrix(|| async {
        let caller = std::thread::current().id();
        let worker = to_thread(|| std::thread::current().id()).await;
        assert_ne!(caller, worker);
    });
}

#[test]
fn sixty_four_blocking_calls_overlap() {
    matrix(|| async {
        let start = Instant::now();
        let out = aiokit::gather((0..64).map(|i| {
            to_thread(move || {
                std::thread::sleep(Duration::from_millis(50));
                i
            })
        }))
        .await;
        let elapsed = start.elapsed();
        assert_eq!(out, (0..64).collect::<Vec<_>>());
        // Serially this is 3.2 s; in parallel about 50 ms.
        assert!(
            elapsed < Duration::from_millis(64 * 50 / 2),
            "64 x 50 ms took {elapsed:?}"
        );
    });
}

#[test]
fn panic_resumes_in_the_awaiting_task_with_its_payload() {
    matrix(|| async {
        let caught = std::panic::AssertUnwindSafe(to_thread(|| -> u8 { panic!("boom 17") }))
            .catch_unwind()
            .await;
        assert_panic_message(&*caught.unwrap_err(), "boom 17");
        // The pool survives.
        assert_eq!(to_thread(|| 1).await, 1);
    });
}

#[test]
fn non_string_panic_payload_is_kept() {
    matrix(|| async {
        let caught =
            std::panic::AssertUnwindSafe(to_thread(|| -> u8 { std::panic::panic_any(404_u32) }))
                .catch_unwind()
                .await;
        assert_eq!(caught.unwrap_err().downcast_ref::<u32>(), Some(&404));
    });
}

#[test]
fn gather_settled_reports_a_panicking_closure_as_panicked() {
    matrix(|| async {
        let outcomes = aiokit::gather_settled((0..3).map(|i| {
            to_thread(move || match i {
                1 => panic!("closure {i} failed hard"),
                2 => Err(format!("closure {i} failed")),
                _ => Ok(i),
            })
        }))
        .await;
        assert!(matches!(outcomes[0], Settled::Ok(0)));
        let panic = outcomes[1].panic().expect("Panicked");
        assert_eq!(panic.message(), Some("closure 1 failed hard"));
        assert_eq!(
            outcomes[2].err().map(String::as_str),
            Some("closure 2 failed")
        );
    });
}

#[test]
fn lazy_never_polled_never_runs() {
    matrix(|| async {
        let ran = Arc::new(AtomicBool::new(false));
        let drops = DropCounter::new();
        let (flag, guard) = (ran.clone(), drops.guard());
        let job = to_thread(move || {
            let _guard = guard;
            flag.store(true, SeqCst);
        });
        // Give a would-be eager start every chance to happen.
        to_thread(|| std::thread::sleep(Duration::from_millis(20))).await;
        assert!(!ran.load(SeqCst), "started before being polled");
        drop(job);
        assert_eq!(drops.get(), 1, "the closure is dropped with the future");
        assert!(!ran.load(SeqCst));

        let (flag, token_seen) = (ran.clone(), Arc::new(AtomicBool::new(false)));
        let seen = token_seen.clone();
        let job = to_thread_cancellable(move |_: CancelToken| {
            seen.store(true, SeqCst);
            flag.store(true, SeqCst);
        });
        drop(job);
        to_thread(|| ()).await;
        assert!(!token_seen.load(SeqCst));
    });
}

#[test]
fn dropping_a_running_call_lets_it_finish_and_drops_its_result() {
    matrix(|| async {
        let gate = Gate::default();
        let (started_tx, started) = mpsc::channel();
        let (finished_tx, finished) = mpsc::channel();
        let result_drops = DropCounter::new();
        let (g, guard) = (gate.clone(), result_drops.guard());
        let mut job = to_thread(move || {
            started_tx.send(()).unwrap();
            g.wait();
            finished_tx.send(()).unwrap();
            guard // the return value
        });
        assert!(poll_once(&mut job, &CountingWaker::new()).is_pending());
        started.recv_timeout(PATIENCE).expect("closure started");
        drop(job);
        gate.open();
        finished
            .recv_timeout(PATIENCE)
            .expect("the closure ran to the end after its future was dropped");
        wait_until("the result is dropped", || result_drops.get() == 1);
    });
}

#[test]
fn wakes_the_awaiting_task_when_done() {
    matrix(|| async {
        let gate = Gate::default();
        let g = gate.clone();
        let mut job = to_thread(move || g.wait());
        let waker = CountingWaker::new();
        assert!(poll_once(&mut job, &waker).is_pending());
        assert_eq!(waker.count(), 0);
        gate.open();
        wait_until("the task is woken", || waker.count() >= 1);
        assert_eq!(poll_once(&mut job, &waker), Poll::Ready(()));
        assert!(futures::future::FusedFuture::is_terminated(&job));
    });
}

#[test]
#[should_panic(expected = "`ToThread` polled after completion")]
fn polling_after_completion_panics() {
    let mut job = to_thread(|| 1);
    assert_eq!(futures::executor::block_on(&mut job), 1);
    let _ = poll_once(&mut job, &CountingWaker::new());
}

#[test]
fn token_is_cancelled_when_the_future_is_dropped() {
    matrix(|| async {
        let (started_tx, started) = mpsc::channel();
        let (stopped_tx, stopped) = mpsc::channel();
        let mut job = to_thread_cancellable(move |token: CancelToken| {
            started_tx.send(token.is_cancelled()).unwrap();
            let mut spins = 0_u64;
            while !token.is_cancelled() {
                spins += 1;
                std::thread::yield_now();
            }
            stopped_tx.send(spins).unwrap();
        });
        assert!(poll_once(&mut job, &CountingWaker::new()).is_pending());
        assert!(
            !started.recv_timeout(PATIENCE).unwrap(),
            "not cancelled at start"
        );
        drop(job);
        stopped
            .recv_timeout(PATIENCE)
            .expect("the closure saw the cancellation");
    });
}

/// A call that loops until its token is cancelled, then reports on the
/// returned channel that it stopped.
fn loop_until_cancelled() -> (
    aiokit::ToThreadCancellable<&'static str>,
    mpsc::Receiver<()>,
) {
    let (stopped_tx, stopped) = mpsc::channel();
    let job = to_thread_cancellable(move |token: CancelToken| {
        while !token.is_cancelled() {
            std::thread::sleep(Duration::from_millis(1));
        }
        stopped_tx.send(()).unwrap();
        "finished"
    });
    (job, stopped)
}

#[test]
fn token_is_cancelled_after_a_timeout() {
    // A timeout built from another crate's combinator: the timer wins and
    // drops the call.
    matrix(|| async {
        let (job, stopped) = loop_until_cancelled();
        let outcome = futures_lite::future::or(job.map(Some), async {
            async_io::Timer::after(Duration::from_millis(20)).await;
            None
        })
        .await;
        assert_eq!(outcome, None);
        stopped
            .recv_timeout(PATIENCE)
            .expect("the closure saw the cancellation");
    });
}

#[test]
fn token_is_cancelled_when_aiokit_timeout_elapses() {
    matrix(|| async {
        let (job, stopped) = loop_until_cancelled();
        let outcome = aiokit::timeout(Duration::from_millis(20), job).await;
        assert!(outcome.is_err(), "the timeout elapsed");
        stopped
            .recv_timeout(PATIENCE)
            .expect("the closure saw the cancellation");
    });
}

#[test]
fn cancel_then_await_returns_what_the_closure_returns() {
    matrix(|| async {
        let mut job = to_thread_cancellable(|token: CancelToken| {
            let mut steps = 0_u64;
            while !token.is_cancelled() {
                steps += 1;
                std::thread::yield_now();
            }
            steps
        });
        let waker = CountingWaker::new();
        assert!(poll_once(&mut job, &waker).is_pending());
        job.cancel();
        job.cancel(); // idempotent
        let steps = job.await;
        let _ = steps; // any count, the closure returned after the cancel
    });
}

#[test]
fn cancel_before_the_first_poll_starts_with_a_cancelled_token() {
    matrix(|| async {
        let job = to_thread_cancellable(|token: CancelToken| token.is_cancelled());
        job.cancel();
        assert!(job.await);
    });
}

#[test]
fn completed_call_leaves_the_token_alone() {
    matrix(|| async {
        let token = to_thread_cancellable(|token: CancelToken| token).await;
        assert!(!token.is_cancelled());
    });
}

#[test]
fn cancellable_panic_resumes_in_the_awaiting_task() {
    matrix(|| async {
        let outcomes = aiokit::gather_settled([to_thread_cancellable(|_: CancelToken| {
            if true {
                panic!("cancellable boom");
            }
            Ok::<u8, ()>(1)
        })])
        .await;
        assert_eq!(
            outcomes[0].panic().unwrap().message(),
            Some("cancellable boom")
        );
    });
}

#[test]
fn the_futures_can_be_named_by_their_output_alone() {
    struct Jobs {
        plain: Vec<ToThread<u32>>,
        cancellable: Option<ToThreadCancellable<u32>>,
    }
    fn send_sync_unpin<T: Send + Sync + Unpin>(_: &T) {}
    matrix(|| async {
        let limiter = ThreadLimiter::new(2);
        let offset = 10;
        // Different closures, one type: no boxing by the caller.
        let mut jobs = Jobs {
            plain: vec![
                to_thread(|| 1),
                to_thread(move || offset + 2),
                limiter.run(|| 3),
            ],
            cancellable: Some(
                limiter.run_cancellable(|token: CancelToken| u32::from(!token.is_cancelled()) * 4),
            ),
        };
        send_sync_unpin(&jobs.plain[0]);
        send_sync_unpin(jobs.cancellable.as_ref().unwrap());
        assert_eq!(aiokit::gather(jobs.plain).await, [1, 12, 3]);
        assert_eq!(jobs.cancellable.take().unwrap().await, 4);
    });
}

#[test]
fn limiter_accepts_any_limit_above_zero() {
    matrix(|| async {
        for limit in [1, 2, 1 << 20, usize::MAX / 2, usize::MAX] {
            let limiter = ThreadLimiter::new(limit);
            assert_eq!(limiter.limit(), limit);
            let probe = limiter.clone();
            assert_eq!(limiter.run(move || probe.in_use()).await, 1);
            assert_eq!((limiter.in_use(), limiter.waiting()), (0, 0));
        }
    });
}

#[test]
#[should_panic(expected = "aiokit::ThreadLimiter::new")]
fn limiter_of_zero_panics_naming_the_function() {
    let _ = ThreadLimiter::new(0);
}

#[test]
fn limiter_of_zero_panics_at_the_callers_line() {
    let line = line!() + 1;
    let at = panic_location(|| drop(ThreadLimiter::new(0)));
    assert_eq!(at, format!("{}:{line}", file!()));
}

/// Runs `calls` closures through a limiter of `limit`, returning the peak
/// number running at once, counted inside the closures.
async fn peak_under_limit(limit: usize, calls: usize) -> usize {
    let limiter = ThreadLimiter::new(limit);
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let out = aiokit::gather((0..calls).map(|i| {
        let (running, peak) = (running.clone(), peak.clone());
        limiter.run(move || {
            let now = running.fetch_add(1, SeqCst) + 1;
            peak.fetch_max(now, SeqCst);
            std::thread::sleep(Duration::from_millis(2));
            running.fetch_sub(1, SeqCst);
            i
        })
    }))
    .await;
    assert_eq!(out, (0..calls).collect::<Vec<_>>());
    assert_eq!((limiter.in_use(), limiter.waiting()), (0, 0));
    peak.load(SeqCst)
}

#[test]
fn limiter_never_exceeds_its_limit() {
    matrix(|| async {
        for limit in [1, 3, 8] {
            let peak = peak_under_limit(limit, 40).await;
            assert!(peak <= limit, "peak {peak} > limit {limit}");
            assert!(peak >= 1);
        }
    });
}

#[test]
fn limiter_is_shared_by_clones_across_tasks() {
    matrix(|| async {
        let limiter = ThreadLimiter::new(2);
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks = (0..4).map(|_| {
            let limiter = limiter.clone();
            let (running, peak) = (running.clone(), peak.clone());
            async move {
                for _ in 0..5 {
                    let (running, peak) = (running.clone(), peak.clone());
                    limiter
                        .run(move || {
                            peak.fetch_max(running.fetch_add(1, SeqCst) + 1, SeqCst);
                            std::thread::sleep(Duration::from_millis(1));
                            running.fetch_sub(1, SeqCst);
                        })
                        .await;
                }
            }
        });
        aiokit::gather(tasks).await;
        assert!(peak.load(SeqCst) <= 2);
    });
}

#[test]
fn limiter_serves_callers_in_first_poll_order() {
    matrix(|| async {
        let limiter = ThreadLimiter::new(1);
        let gate = Gate::default();
        let g = gate.clone();
        let (started_tx, started) = mpsc::channel();
        let mut blocker = limiter.run(move || {
            started_tx.send(()).unwrap();
            g.wait();
        });
        let waker = CountingWaker::new();
        assert!(poll_once(&mut blocker, &waker).is_pending());
        started.recv_timeout(PATIENCE).unwrap();

        let order = Arc::new(Mutex::new(Vec::new()));
        let mut calls: Vec<_> = (0..6)
            .map(|i| {
                let order = order.clone();
                limiter.run(move || order.lock().unwrap().push(i))
            })
            .collect();
        // First polls in the order 5, 3, 1, 0, 2, 4.
        for i in [5, 3, 1, 0, 2, 4] {
            assert!(poll_once(&mut calls[i], &waker).is_pending());
        }
        assert_eq!((limiter.in_use(), limiter.waiting()), (1, 6));
        gate.open();
        blocker.await;
        aiokit::gather(calls).await;
        assert_eq!(*order.lock().unwrap(), [5, 3, 1, 0, 2, 4]);
    });
}

#[test]
fn queued_caller_dropped_never_runs_and_leaks_no_slot() {
    matrix(|| async {
        let limiter = ThreadLimiter::new(1);
        let gate = Gate::default();
        let g = gate.clone();
        let mut blocker = limiter.run(move || g.wait());
        let waker = CountingWaker::new();
        assert!(poll_once(&mut blocker, &waker).is_pending());

        let ran = Arc::new(AtomicUsize::new(0));
        let drops = DropCounter::new();
        let mut queued: Vec<_> = (0..3)
            .map(|_| {
                let (ran, guard) = (ran.clone(), drops.guard());
                limiter.run(move || {
                    let _guard = guard;
                    ran.fetch_add(1, SeqCst);
                })
            })
            .collect();
        for call in &mut queued {
            assert!(poll_once(call, &waker).is_pending());
        }
        assert_eq!(limiter.waiting(), 3);
        // Drop the first and the last while queued.
        let last = queued.pop().unwrap();
        drop(last);
        drop(queued.remove(0));
        assert_eq!(drops.get(), 2);
        assert_eq!(limiter.waiting(), 1);

        gate.open();
        blocker.await;
        aiokit::gather(queued).await;
        assert_eq!(ran.load(SeqCst), 1, "only the caller still waiting ran");
        assert_eq!((limiter.in_use(), limiter.waiting()), (0, 0));
        // The full limit is available again.
        assert_eq!(limiter.run(|| 5).await, 5);
    });
}

#[test]
fn caller_dropped_right_after_being_handed_a_slot_passes_it_on() {
    matrix(|| async {
        let limiter = ThreadLimiter::new(1);
        let gate = Gate::default();
        let g = gate.clone();
        let mut blocker = limiter.run(move || g.wait());
        let (w1, w2) = (CountingWaker::new(), CountingWaker::new());
        assert!(poll_once(&mut blocker, &w1).is_pending());
        let mut next = limiter.run(|| unreachable!("dropped before it started"));
        let mut after = limiter.run(|| "after");
        assert!(poll_once(&mut next, &w1).is_pending());
        assert!(poll_once(&mut after, &w2).is_pending());
        gate.open();
        blocker.await;
        // `next` now holds the slot without having taken it; dropping it must
        // hand the slot to `after` and wake it.
        drop(next);
        assert!(w2.count() >= 1, "the next waiter was woken");
        assert_eq!(after.await, "after");
        assert_eq!(limiter.in_use(), 0);
    });
}

#[test]
fn cancellable_calls_dropped_before_their_slot_never_run() {
    matrix(|| async {
        let limiter = ThreadLimiter::new(1);
        let gate = Gate::default();
        let g = gate.clone();
        let mut blocker = limiter.run(move || g.wait());
        let (w1, w2) = (CountingWaker::new(), CountingWaker::new());
        assert!(poll_once(&mut blocker, &w1).is_pending());

        let ran = Arc::new(AtomicUsize::new(0));
        let drops = DropCounter::new();
        let call = || {
            let (ran, guard) = (ran.clone(), drops.guard());
            limiter.run_cancellable(move |_: CancelToken| {
                let _guard = guard;
                ran.fetch_add(1, SeqCst);
            })
        };
        let (mut queued, mut granted, mut last) = (call(), call(), call());
        assert!(poll_once(&mut queued, &w1).is_pending());
        assert!(poll_once(&mut granted, &w1).is_pending());
        assert!(poll_once(&mut last, &w2).is_pending());
        // Dropped while queued.
        drop(queued);
        assert_eq!((drops.get(), limiter.waiting()), (1, 2));
        gate.open();
        blocker.await;
        // `granted` now holds the slot without having taken it.
        drop(granted);
        assert_eq!(drops.get(), 2);
        assert!(w2.count() >= 1, "the slot passed to the next caller");
        last.await;
        assert_eq!(ran.load(SeqCst), 1, "only the call still awaited ran");
        assert_eq!((limiter.in_use(), limiter.waiting()), (0, 0));
    });
}

#[test]
fn dropping_the_limiter_handle_leaves_its_calls_working() {
    matrix(|| async {
        let limiter = ThreadLimiter::new(2);
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let calls: Vec<_> = (0..8)
            .map(|i| {
                let (running, peak) = (running.clone(), peak.clone());
                limiter.run(move || {
                    peak.fetch_max(running.fetch_add(1, SeqCst) + 1, SeqCst);
                    std::thread::sleep(Duration::from_millis(2));
                    running.fetch_sub(1, SeqCst);
                    i
                })
            })
            .collect();
        drop(limiter);
        assert_eq!(aiokit::gather(calls).await, [0, 1, 2, 3, 4, 5, 6, 7]);
        assert!(peak.load(SeqCst) <= 2, "the limit still held");
    });
}

#[test]
fn slot_is_held_until_an_abandoned_closure_ends() {
    matrix(|| async {
        let limiter = ThreadLimiter::new(1);
        let gate = Gate::default();
        let g = gate.clone();
        let (started_tx, started) = mpsc::channel();
        let mut first = limiter.run(move || {
            started_tx.send(()).unwrap();
            g.wait();
        });
        let waker = CountingWaker::new();
        assert!(poll_once(&mut first, &waker).is_pending());
        started.recv_timeout(PATIENCE).unwrap();
        drop(first); // abandoned, still running

        let second_ran = Arc::new(AtomicBool::new(false));
        let flag = second_ran.clone();
        let mut second = limiter.run(move || flag.store(true, SeqCst));
        assert!(poll_once(&mut second, &waker).is_pending());
        assert_eq!((limiter.in_use(), limiter.waiting()), (1, 1));
        assert!(!second_ran.load(SeqCst));
        gate.open();
        second.await;
        assert!(second_ran.load(SeqCst));
    });
}

#[test]
fn panicking_closure_releases_its_slot() {
    matrix(|| async {
        let limiter = ThreadLimiter::new(1);
        let caught = std::panic::AssertUnwindSafe(limiter.run(|| -> u8 { panic!("limited boom") }))
            .catch_unwind()
            .await;
        assert_panic_message(&*caught.unwrap_err(), "limited boom");
        assert_eq!(limiter.in_use(), 0);
        assert_eq!(limiter.run(|| 2).await, 2);
    });
}

#[test]
fn waiting_callers_do_not_start_their_closures() {
    matrix(|| async {
        let limiter = ThreadLimiter::new(2);
        let gate = Gate::default();
        let started = Arc::new(AtomicUsize::new(0));
        let mut calls: Vec<_> = (0..50)
            .map(|_| {
                let (g, started) = (gate.clone(), started.clone());
                limiter.run(move || {
                    started.fetch_add(1, SeqCst);
                    g.wait();
                })
            })
            .collect();
        let waker = CountingWaker::new();
        for call in &mut calls {
            assert!(poll_once(call, &waker).is_pending());
        }
        wait_until("two closures started", || started.load(SeqCst) == 2);
        assert_eq!(limiter.waiting(), 48);
        assert_eq!(started.load(SeqCst), 2);
        gate.open();
        aiokit::gather(calls).await;
        assert_eq!(started.load(SeqCst), 50);
    });
}

#[test]
fn limiter_run_cancellable_cancels_on_drop() {
    matrix(|| async {
        let limiter = ThreadLimiter::new(1);
        let (started_tx, started) = mpsc::channel();
        let (stopped_tx, stopped) = mpsc::channel();
        let mut job = limiter.run_cancellable(move |token: CancelToken| {
            started_tx.send(()).unwrap();
            while !token.is_cancelled() {
                std::thread::yield_now();
            }
            stopped_tx.send(()).unwrap();
        });
        assert!(poll_once(&mut job, &CountingWaker::new()).is_pending());
        started.recv_timeout(PATIENCE).unwrap();
        drop(job);
        stopped.recv_timeout(PATIENCE).unwrap();
        wait_until("the slot is released", || limiter.in_use() == 0);
    });
}

#[test]
fn debug_shows_state_not_closures() {
    let limiter = ThreadLimiter::new(1);
    let gate = Gate::default();
    let g = gate.clone();
    let mut blocker = limiter.run(move || g.wait());
    assert_eq!(format!("{blocker:?}"), "ToThread { state: NotStarted, .. }");
    let waker = CountingWaker::new();
    assert!(poll_once(&mut blocker, &waker).is_pending());
    assert_eq!(format!("{blocker:?}"), "ToThread { state: Running, .. }");
    let mut queued = limiter.run_cancellable(|_: CancelToken| ());
    assert!(poll_once(&mut queued, &waker).is_pending());
    assert_eq!(
        format!("{queued:?}"),
        "ToThreadCancellable { state: WaitingForLimiter, cancelled: false, .. }"
    );
    assert_eq!(
        format!("{limiter:?}"),
        "ThreadLimiter { limit: 1, in_use: 1, waiting: 1 }"
    );
    gate.open();
    futures::executor::block_on(&mut blocker);
    assert_eq!(format!("{blocker:?}"), "ToThread { state: Done, .. }");
    drop(queued);
}
