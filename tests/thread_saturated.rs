//! A `to_thread` call dropped while queued in a saturated pool never runs.
//! Its own test binary: it occupies every thread of the process-wide pool.
#![cfg(feature = "thread")]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use common::*;

/// The tests of this file take turns: one fills the whole pool.
static POOL: Mutex<()> = Mutex::new(());

/// Opens the gate when dropped, so a failing test never leaves the pool full.
struct Opener(Arc<(Mutex<bool>, Condvar)>);

impl Drop for Opener {
    fn drop(&mut self) {
        *self.0.0.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.0.1.notify_all();
    }
}

#[test]
fn smoke() {
    let _turn = POOL.lock().unwrap_or_else(|e| e.into_inner());
    matrix(|| async {
        assert_eq!(aiokit::to_thread(|| 1).await, 1);
    });
}

#[test]
fn dropped_while_queued_in_a_saturated_pool_never_runs() {
    // The pool's thread limit: 500 unless the environment says otherwise.
    let limit: usize = std::env::var("BLOCKING_MAX_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let _turn = POOL.lock().unwrap_or_else(|e| e.into_inner());
    matrix(move || async move {
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let opener = Opener(gate.clone());
        let started = Arc::new(AtomicUsize::new(0));
        let waker = CountingWaker::new();
        let mut blockers: Vec<_> = (0..limit)
            .map(|_| {
                let (gate, started) = (gate.clone(), started.clone());
                aiokit::to_thread(move || {
                    started.fetch_add(1, SeqCst);
                    let mut open = gate.0.lock().unwrap();
                    while !*open {
                        open = gate.1.wait(open).unwrap();
                    }
                })
            })
            .collect();
        for blocker in &mut blockers {
            assert!(poll_once(blocker, &waker).is_pending());
        }
        let since = Instant::now();
        while started.load(SeqCst) < limit {
            assert!(
                since.elapsed() < Duration::from_secs(30),
                "pool did not fill"
            );
            std::thread::sleep(Duration::from_millis(1));
        }

        let ran = Arc::new(AtomicBool::new(false));
        let drops = DropCounter::new();
        let (flag, guard) = (ran.clone(), drops.guard());
        let mut queued = aiokit::to_thread(move || {
            let _guard = guard;
            flag.store(true, SeqCst);
        });
        assert!(poll_once(&mut queued, &waker).is_pending());
        drop(queued);

        drop(opener);
        aiokit::gather(blockers).await;
        // The pool drops the cancelled job when a thread reaches it.
        let since = Instant::now();
        while drops.get() == 0 {
            assert!(
                since.elapsed() < Duration::from_secs(30),
                "job never dropped"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(!ran.load(SeqCst), "a closure dropped while queued ran");
    });
}
