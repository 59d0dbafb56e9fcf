#![allow(unreachable_pub)]
//! `ThreadLimiter` (and the fair semaphore under it) with many callers
//! cancelled at random moments, and `to_thread_cancellable` under `timeout`
//! in a saturated limiter.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::FutureExt as _;
use futures::future::{Either, select};

use super::{EXECUTORS, iters, on, seed, watched};

/// Spins until `done()` or 20 s passed; whether `done()` came true.
fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::yield_now();
    }
    done()
}

/// Whether `limiter` still has all of its `cap` slots: `cap` closures run at
/// once (each waits, up to a deadline, until all `cap` have started).
async fn all_slots_free(limiter: &aiokit::ThreadLimiter, cap: usize) -> bool {
    let arrived = Arc::new(AtomicUsize::new(0));
    let all = aiokit::gather((0..cap).map(|_| {
        let arrived = arrived.clone();
        limiter.run(move || {
            arrived.fetch_add(1, SeqCst);
            eventually(|| arrived.load(SeqCst) == cap)
        })
    }))
    .await;
    all.into_iter().all(|ok| ok)
}

/// Many callers, some cancelled at random moments (while queued, just after
/// the grant, while their closure runs): never more than `cap` closures run,
/// first come first served among the rest (with `cap` 1, closures start in
/// input order), no permit leaks.
pub fn random_cancellation() {
    let mut runs = 0;
    for &executor in EXECUTORS {
        for cap in [1, 3] {
            let name = format!("thread_limiter/{executor}/cap={cap}");
            let count = iters(40);
            let (done, label_name) = (Arc::new(AtomicUsize::new(0)), name.clone());
            watched(&name, |label| {
                let at = label.0.clone();
                let done = done.clone();
                on(executor, async move {
                    for it in 0..count {
                        let s = seed(&label_name, it);
                        *at.lock().unwrap_or_else(PoisonError::into_inner) =
                            format!("{label_name} iteration {it} seed {s:#x}");
                        one_run(cap, s).await;
                        done.fetch_add(1, SeqCst);
                    }
                });
            });
            runs += done.load(SeqCst);
        }
    }
    eprintln!("stress: thread_limiter: {runs} runs of 24 callers");
}

async fn one_run(cap: usize, seed: u64) {
    const CALLERS: usize = 24;
    let mut rng = fastrand::Rng::with_seed(seed);
    let limiter = aiokit::ThreadLimiter::new(cap);
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let starts = Arc::new(Mutex::new(Vec::new()));
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..CALLERS)
        .map(|_| futures::channel::oneshot::channel::<()>())
        .unzip();
    let spins: Vec<u32> = (0..CALLERS).map(|_| rng.u32(0..2000)).collect();
    let callers = receivers.into_iter().enumerate().map(|(i, cancel)| {
        let (running, peak, starts) = (running.clone(), peak.clone(), starts.clone());
        let spin = spins[i];
        let work = limiter.run(move || {
            let now = running.fetch_add(1, SeqCst) + 1;
            peak.fetch_max(now, SeqCst);
            starts
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(i);
            for _ in 0..spin {
                std::hint::spin_loop();
            }
            running.fetch_sub(1, SeqCst);
            i
        });
        // A dropped sender means "never cancelled".
        let cancel = cancel.then(|sent| async move {
            if sent.is_err() {
                std::future::pending::<()>().await;
            }
        });
        // Half the callers look at their cancellation first, so a caller
        // woken by a grant and cancelled before it ran drops its future
        // with the permit handed to it but not taken.
        let cancel_first = i % 2 == 1;
        async move {
            if cancel_first {
                match select(Box::pin(cancel), Box::pin(work)).await {
                    Either::Left(((), _)) => None,
                    Either::Right((i, _)) => Some(i),
                }
            } else {
                match select(Box::pin(work), Box::pin(cancel)).await {
                    Either::Left((i, _)) => Some(i),
                    Either::Right(((), _)) => None,
                }
            }
        }
    });
    // Cancels a random third of the callers at random moments.
    let mut crng = fastrand::Rng::with_seed(rng.u64(..));
    let canceller = std::thread::spawn(move || {
        for sender in senders {
            for _ in 0..crng.u32(0..3000) {
                std::hint::spin_loop();
            }
            if crng.u8(0..3) == 0 {
                let _ = sender.send(());
            }
        }
    });
    let results = aiokit::gather(callers).await;
    canceller.join().expect("the canceller");
    let starts = starts
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    for (i, r) in results.iter().enumerate() {
        if let Some(v) = r {
            assert_eq!(*v, i);
            assert!(starts.contains(&i), "caller {i} finished without running");
        }
    }
    assert!(
        peak.load(SeqCst) <= cap,
        "{} closures ran at once, limit {cap}",
        peak.load(SeqCst)
    );
    if cap == 1 {
        assert!(
            starts.windows(2).all(|w| w[0] < w[1]),
            "not first come first served: {starts:?}"
        );
    }
    // Closures of callers cancelled while running still hold their slot
    // until they return; then every slot is back.
    assert!(
        eventually(|| limiter.in_use() == 0 && limiter.waiting() == 0),
        "a permit leaked"
    );
    assert!(
        all_slots_free(&limiter, cap).await,
        "fewer than {cap} closures could run at once"
    );
}

/// Callers of a saturated limiter, each under `aiokit::timeout`: the running
/// closures see their token cancelled and stop, the queued ones never run,
/// nothing hangs, and every slot comes back.
pub fn cancellable_under_timeout() {
    for &executor in EXECUTORS {
        let name = format!("to_thread_cancellable_under_timeout/{executor}");
        watched(&name, |_| {
            on(executor, async move {
                for round in 0..iters(6) {
                    const CAP: usize = 2;
                    let limiter = aiokit::ThreadLimiter::new(CAP);
                    let started = Arc::new(AtomicUsize::new(0));
                    let stopped = Arc::new(AtomicUsize::new(0));
                    let callers = (0..6).map(|i| {
                        let (started, stopped) = (started.clone(), stopped.clone());
                        let work = limiter.run_cancellable(move |token| {
                            started.fetch_add(1, SeqCst);
                            while !token.is_cancelled() {
                                std::thread::yield_now();
                            }
                            stopped.fetch_add(1, SeqCst);
                        });
                        aiokit::timeout(Duration::from_millis(5 + 3 * (i + round) as u64), work)
                    });
                    let outcomes = aiokit::gather(callers).await;
                    assert!(
                        outcomes.iter().all(Result::is_err),
                        "a closure finished without being cancelled"
                    );
                    assert!(
                        eventually(|| limiter.in_use() == 0
                            && stopped.load(SeqCst) == started.load(SeqCst)),
                        "cancellation did not reach every running closure: {} started, {} stopped",
                        started.load(SeqCst),
                        stopped.load(SeqCst)
                    );
                    assert_eq!(limiter.waiting(), 0);
                    assert!(all_slots_free(&limiter, CAP).await, "a slot leaked");
                }
            });
        });
    }
}
