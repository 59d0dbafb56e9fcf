//! With the `tokio` feature, aiokit's timers inside a tokio runtime are
//! tokio's own: they follow tokio's paused clock, and a runtime without its
//! time driver gets tokio's panic that names the fix.

mod common;

use std::time::Duration;

use aiokit::clock::{self, VirtualClock};
use aiokit::prelude::*;
use aiokit::{Elapsed, Page, Retry, sleep, timeout};
use common::*;

const SEC: Duration = Duration::from_secs(1);

fn paused() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

#[test]
fn smoke() {
    // An hour on tokio's paused clock: only tokio's timers can take it.
    paused().block_on(async {
        let start = tokio::time::Instant::now();
        let aiokit_start = clock::now();
        // Bounded by a tokio timer, so that an aiokit timer on any other
        // clock fails at once instead of waiting an hour.
        let out = tokio::time::timeout(7200 * SEC, sleep(3600 * SEC)).await;
        assert!(out.is_ok(), "aiokit's sleep is on tokio's clock");
        assert_eq!(start.elapsed(), 3600 * SEC);
        assert_eq!(clock::now() - aiokit_start, 3600 * SEC);
    });
}

#[test]
fn every_timer_follows_tokios_paused_clock() {
    // Bounded by a tokio timer: a timer on another clock fails at once.
    let bounded = |body| async { tokio::time::timeout(30 * 86_400 * SEC, body).await };
    paused()
        .block_on(bounded(async {
            let start = clock::now();
            let out = timeout(1800 * SEC, std::future::pending::<()>()).await;
            assert_eq!(out, Err(Elapsed::new()));
            assert_eq!(clock::now() - start, 1800 * SEC);

            let pages: Vec<u32> = aiokit::paginate(0u32, |n| async move {
                Ok::<_, ()>(if n < 9 {
                    Page::next([n], n + 1)
                } else {
                    Page::last([n])
                })
            })
            .min_interval(SEC)
            .try_collect()
            .await
            .unwrap();
            assert_eq!(pages.len(), 10);
            assert_eq!(clock::now() - start, 1809 * SEC);

            let failed: Vec<_> =
                aiokit::paginate_numbered(0u32, |p| p + 1, |_| async { Err::<Vec<u8>, _>("503") })
                    .retry(Retry::new(4, |_: &&str| true).backoff(SEC))
                    .collect()
                    .await;
            assert_eq!(failed.len(), 1);
            assert_eq!(clock::now() - start, (1809 + 1 + 2 + 4) * SEC);

            let mut each = futures::stream::pending::<()>().timeout_each(5 * SEC);
            assert_eq!(each.next().await, Some(Err(Elapsed::new())));
            assert_eq!(clock::now() - start, (1816 + 5) * SEC);
        }))
        .expect("every aiokit timer is on tokio's clock");
}

#[test]
fn reschedule_moves_a_tokio_timer_and_keeps_its_waker() {
    paused().block_on(async {
        let waker = CountingWaker::new();
        let mut t = Box::pin(timeout(3600 * SEC, std::future::pending::<()>()));
        assert!(poll_once(&mut t, &waker).is_pending());
        t.as_mut().reschedule(clock::now() + SEC);
        tokio::time::sleep(SEC).await;
        assert_eq!(waker.count(), 1, "the task was woken at the new deadline");
        assert_eq!(
            poll_once(&mut t, &waker),
            std::task::Poll::Ready(Err(Elapsed::new()))
        );
    });
}

#[test]
fn a_runtime_without_its_time_driver_panics_with_the_fix() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(sleep(SEC));
    }));
    assert_panic_message(&*caught.unwrap_err(), "enable_time");
    // The ready path arms no timer, so it needs no time driver.
    let ready = runtime.block_on(timeout(SEC, async { 1 }));
    assert_eq!(ready, Ok(1));
}

#[test]
fn a_virtual_clock_wins_over_tokios() {
    // A real (unpaused) runtime: the virtual clock under `run` still rules.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let clock = VirtualClock::new();
    runtime.block_on(clock.run(async {
        sleep(3600 * SEC).await;
    }));
    assert_eq!(clock.elapsed(), 3600 * SEC);
}

#[test]
fn real_timers_fire_under_both_tokio_flavours() {
    for (name, run) in EXECUTORS.iter().filter(|(n, _)| n.starts_with("tokio")) {
        on_executor(name, *run, async {
            let start = std::time::Instant::now();
            let out = timeout(Duration::from_millis(20), std::future::pending::<()>()).await;
            assert_eq!(out, Err(Elapsed::new()));
            assert!(start.elapsed() >= Duration::from_millis(20));
        });
    }
}
