//! The virtual clock: `VirtualClock`, `clock::now()`, and every aiokit timer
//! (sleep, timeout, reschedule, timeout_each, paginate's min_interval and
//! retry backoff) on it, under every executor.

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use aiokit::clock::{self, VirtualClock};
use aiokit::prelude::*;
use aiokit::{Elapsed, Page, Retry, sleep, sleep_until, timeout};
use common::*;

const SEC: Duration = Duration::from_secs(1);

/// Time since `start` on aiokit's clock.
fn since(start: Instant) -> Duration {
    clock::now() - start
}

#[test]
fn smoke() {
    virtual_matrix(|| async {
        let start = clock::now();
        for _ in 0..60 {
            sleep(60 * SEC).await;
        }
        assert_eq!(since(start), 3600 * SEC);
    });
}

#[test]
fn a_timeout_fires_after_thirty_virtual_minutes() {
    virtual_matrix(|| async {
        let start = clock::now();
        let out = timeout(1800 * SEC, std::future::pending::<()>()).await;
        assert_eq!(out, Err(Elapsed::new()));
        assert_eq!(since(start), 1800 * SEC);
    });
}

#[test]
fn a_rate_limited_paginator_over_100_pages_spaces_its_requests_exactly() {
    virtual_matrix(|| async {
        let start = clock::now();
        let times = Arc::new(Mutex::new(Vec::new()));
        let seen = times.clone();
        let items: Vec<u32> = aiokit::paginate(0u32, move |n| {
            seen.lock().unwrap().push(since(start));
            async move {
                Ok::<_, ()>(if n < 99 {
                    Page::next([n], n + 1)
                } else {
                    Page::last([n])
                })
            }
        })
        .min_interval(SEC)
        .try_collect()
        .await
        .unwrap();
        assert_eq!(items, (0..100).collect::<Vec<_>>());
        let expected: Vec<Duration> = (0..100).map(|n| n * SEC).collect();
        assert_eq!(*times.lock().unwrap(), expected);
    });
}

#[test]
fn a_retry_backs_off_exponentially_on_virtual_time() {
    virtual_matrix(|| async {
        let start = clock::now();
        let attempts = Arc::new(Mutex::new(Vec::new()));
        let seen = attempts.clone();
        let pages: Vec<_> = aiokit::paginate_numbered(
            0u32,
            |p| p + 1,
            move |_| {
                seen.lock().unwrap().push(since(start));
                async { Err::<Vec<u8>, _>("503") }
            },
        )
        .retry(Retry::new(5, |_: &&str| true).backoff(SEC))
        .collect()
        .await;
        assert_eq!(pages.len(), 1, "the last error is yielded, then the end");
        // Waits of 1, 2, 4 and 8 s between the five attempts.
        let expected: Vec<Duration> = [0, 1, 3, 7, 15].map(|s| s * SEC).to_vec();
        assert_eq!(*attempts.lock().unwrap(), expected);
    });
}

#[test]
fn time_does_not_move_while_a_child_has_work_to_do() {
    virtual_matrix(|| async {
        let start = clock::now();
        let busy = async {
            for _ in 0..100 {
                yield_now().await;
            }
            7
        };
        assert_eq!(timeout(SEC, busy).await, Ok(7));
        let (slow, quick) = (
            async {
                sleep(10 * SEC).await;
                "slow"
            },
            async {
                for _ in 0..10 {
                    yield_now().await;
                }
                "quick"
            },
        )
            .gather()
            .await;
        assert_eq!((slow, quick), ("slow", "quick"));
        assert_eq!(since(start), 10 * SEC);
    });
}

#[test]
fn completion_order_follows_virtual_deadlines_on_every_run() {
    let once = || {
        let order = Arc::new(Mutex::new(Vec::new()));
        let seen = order.clone();
        on_executor(
            "virtual clock, smol::block_on",
            VIRTUAL_EXECUTORS[0].1,
            async move {
                let delays: [u64; 5] = [30, 10, 20, 5, 25];
                let mut done = aiokit::as_completed(delays.map(|s| async move {
                    sleep(Duration::from_secs(s)).await;
                    clock::now()
                }));
                while let Some((i, _)) = done.next().await {
                    seen.lock().unwrap().push(i);
                }
            },
        );
        Arc::try_unwrap(order).unwrap().into_inner().unwrap()
    };
    for _ in 0..20 {
        assert_eq!(once(), [3, 1, 2, 4, 0]);
    }
}

#[test]
fn timeout_each_on_virtual_time() {
    virtual_matrix(|| async {
        let (tx, rx) = futures::channel::mpsc::unbounded::<u8>();
        let producer = async move {
            for (item, wait) in [(1u8, 1), (2, 5), (3, 1)] {
                sleep(Duration::from_secs(wait)).await;
                tx.unbounded_send(item).unwrap();
            }
        };
        let consumer = rx.timeout_each(2 * SEC).collect::<Vec<_>>();
        let ((), items) = (producer, consumer).gather().await;
        let e = Err(Elapsed::new());
        // Item 2 comes 5 s after item 1: two whole timeouts first.
        assert_eq!(items, [Ok(1), e, e, Ok(2), Ok(3)]);
    });
}

#[test]
fn a_manual_clock_moves_only_by_hand() {
    let clock = VirtualClock::manual();
    let _entered = clock.enter();
    let waker = CountingWaker::new();
    let mut nap = Box::pin(clock.run(sleep(10 * SEC)));
    assert!(poll_once(&mut nap, &waker).is_pending());
    assert_eq!(clock.timers(), 1);
    assert_eq!(clock.next_deadline(), Some(clock.now() + 10 * SEC));
    assert_eq!(clock.advance(9 * SEC), 0);
    assert_eq!(waker.count(), 0, "no wake before the deadline");
    assert!(poll_once(&mut nap, &waker).is_pending());
    assert_eq!(clock.advance(SEC), 1);
    assert_eq!(waker.count(), 1, "woken at the deadline");
    assert_eq!(clock.timers(), 0);
    assert_eq!(poll_once(&mut nap, &waker), Poll::Ready(()));
    assert_eq!(clock.elapsed(), 10 * SEC);
}

#[test]
fn advance_wakes_every_timer_due_at_once_and_never_goes_back() {
    let clock = VirtualClock::manual();
    let _entered = clock.enter();
    let waker = CountingWaker::new();
    let mut naps: Vec<_> = [3, 1, 2, 9]
        .map(|s| Box::pin(clock.run(sleep(Duration::from_secs(s)))))
        .into();
    for nap in &mut naps {
        assert!(poll_once(nap, &waker).is_pending());
    }
    assert_eq!(clock.advance(3 * SEC), 3);
    assert_eq!(waker.count(), 3);
    let later = clock.now();
    assert_eq!(clock.advance_to(later - SEC), 0);
    assert_eq!(clock.now(), later);
    // Past what `Instant` holds: to the last deadline.
    assert_eq!(clock.advance(Duration::MAX), 1);
    assert_eq!(clock.elapsed(), 9 * SEC);
}

#[test]
fn reschedule_on_a_virtual_clock_wakes_the_task_without_a_poll() {
    let clock = VirtualClock::manual();
    let waker = CountingWaker::new();
    let mut t = Box::pin(clock.run(timeout(3600 * SEC, std::future::pending::<()>())));
    assert!(poll_once(&mut t, &waker).is_pending());
    // Earlier: still waiting, at the new deadline.
    let soon = clock.now() + SEC;
    t.as_mut().get_pin_mut().reschedule(soon);
    assert_eq!(clock.next_deadline(), Some(soon));
    assert_eq!(waker.count(), 0);
    clock.advance(SEC);
    assert_eq!(waker.count(), 1, "the moved timer woke the task");
    assert_eq!(poll_once(&mut t, &waker), Poll::Ready(Err(Elapsed::new())));

    // To a deadline already passed: woken at once.
    let mut t = Box::pin(clock.run(timeout(3600 * SEC, std::future::pending::<()>())));
    assert!(poll_once(&mut t, &waker).is_pending());
    let now = clock.now();
    t.as_mut().get_pin_mut().reschedule(now);
    assert_eq!(waker.count(), 2);
    // To no deadline: the timer leaves the clock.
    let mut t = Box::pin(clock.run(timeout(SEC, std::future::pending::<()>())));
    assert!(poll_once(&mut t, &waker).is_pending());
    t.as_mut().get_pin_mut().reschedule(None);
    assert_eq!(clock.timers(), 0);
    clock.advance(3600 * SEC);
    assert!(poll_once(&mut t, &waker).is_pending());
}

#[test]
fn a_timer_stays_on_the_clock_it_was_armed_on() {
    let clock = VirtualClock::manual();
    let waker = CountingWaker::new();
    let mut nap = clock.run(sleep_until(clock.now() + SEC));
    assert!(poll_once(&mut nap, &waker).is_pending());
    // Taken out of `run` and polled outside it: still virtual.
    let mut nap = Box::pin(nap.into_inner());
    assert!(poll_once(&mut nap, &waker).is_pending());
    clock.advance(SEC);
    assert_eq!(poll_once(&mut nap, &waker), Poll::Ready(()));
}

#[cfg(feature = "thread")]
#[test]
fn the_clock_waits_for_a_thread_started_under_it() {
    virtual_matrix(|| async {
        let start = clock::now();
        let work = aiokit::to_thread(|| {
            std::thread::sleep(Duration::from_millis(30));
            5
        });
        // Were the clock to jump while the thread works, the timeout would
        // fire first.
        assert_eq!(timeout(SEC, work).await, Ok(5));
        assert_eq!(since(start), Duration::ZERO);
    });
}

#[test]
fn now_reads_the_virtual_clock_under_run_and_the_real_one_elsewhere() {
    let clock = VirtualClock::new();
    let inside = smol::block_on(clock.run(async {
        sleep(3600 * SEC).await;
        clock::now()
    }));
    assert_eq!(inside, clock.now());
    let outside = clock::now();
    assert!(outside < inside, "outside `run`, now() is real time");
}

#[test]
fn a_panic_under_run_restores_the_threads_clock() {
    let clock = VirtualClock::new();
    let caught = std::panic::catch_unwind(|| {
        smol::block_on(clock.run(async {
            sleep(3600 * SEC).await;
            panic!("boom");
        }))
    });
    assert_panic_message(&*caught.unwrap_err(), "boom");
    assert_eq!(clock.elapsed(), 3600 * SEC);
    assert!(
        clock::now() < clock.now(),
        "after the panic, this thread is back on real time"
    );
}

#[test]
fn runs_that_share_a_clock_see_each_others_time() {
    let clock = VirtualClock::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (a, b) = (log.clone(), log.clone());
    let first = clock.run(async move {
        sleep(2 * SEC).await;
        a.lock().unwrap().push(("first", clock::now()));
    });
    let second = clock.run(async move {
        sleep(SEC).await;
        b.lock().unwrap().push(("second", clock::now()));
    });
    smol::block_on(futures::future::join(first, second));
    let log = log.lock().unwrap();
    let names: Vec<_> = log.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["second", "first"]);
    assert_eq!(log[1].1 - log[0].1, SEC);
    assert_eq!(clock.elapsed(), 2 * SEC);
}

#[test]
fn a_clock_with_nothing_armed_does_not_move() {
    let clock = VirtualClock::new();
    let waker = CountingWaker::new();
    let (tx, rx) = futures::channel::oneshot::channel::<u8>();
    let mut waiting = Box::pin(clock.run(rx));
    // Idle: a turn of the executor (one wake), then nothing to jump to.
    assert!(poll_once(&mut waiting, &waker).is_pending());
    assert_eq!(waker.count(), 1);
    assert!(poll_once(&mut waiting, &waker).is_pending());
    assert_eq!(waker.count(), 1);
    assert_eq!(clock.elapsed(), Duration::ZERO);
    tx.send(3).unwrap();
    assert_eq!(waker.count(), 2);
    assert_eq!(poll_once(&mut waiting, &waker), Poll::Ready(Ok(3)));
}

#[test]
fn debug_names_the_clock_and_its_state() {
    let clock = VirtualClock::manual();
    let debug = format!("{clock:?}");
    assert!(debug.starts_with("VirtualClock"), "{debug}");
    assert!(debug.contains("auto_advance: false"), "{debug}");
    let run = clock.run(async {});
    assert!(format!("{run:?}").starts_with("Run"));
    fn send_sync<T: Send + Sync>(_: &T) {}
    send_sync(&clock);
    send_sync(&run);
}

#[test]
fn run_returns_the_output_on_the_poll_that_makes_it() {
    let clock = VirtualClock::new();
    let waker = CountingWaker::new();
    let mut polls = 0;
    let mut counted = Box::pin(clock.run(std::future::poll_fn(|_| {
        polls += 1;
        Poll::Ready(polls)
    })));
    assert_eq!(poll_once(&mut counted, &waker), Poll::Ready(1));
    let mut nap = pin!(clock.run(async { sleep(SEC).await }));
    let waker = std::task::Waker::from(waker);
    let mut cx = std::task::Context::from_waker(&waker);
    // The first poll arms the timer and gives the executor a turn; the
    // second jumps, polls again and is ready.
    assert!(nap.as_mut().poll(&mut cx).is_pending());
    assert_eq!(nap.as_mut().poll(&mut cx), Poll::Ready(()));
    assert_eq!(clock.elapsed(), SEC);
}

#[test]
fn a_wake_between_polls_gives_the_future_another_turn_before_time_moves() {
    let clock = VirtualClock::new();
    let waker = CountingWaker::new();
    let (tx, mut rx) = futures::channel::mpsc::unbounded::<u8>();
    let mut two = Box::pin(clock.run(async move {
        let first = rx.next().await;
        let second = timeout(SEC, rx.next()).await;
        (first, second)
    }));
    // Idle: a turn of the executor first.
    assert!(poll_once(&mut two, &waker).is_pending());
    // Another task sends one item in that turn: progress, so the future gets
    // a fresh turn rather than a jump past its timeout.
    tx.unbounded_send(1).unwrap();
    assert!(poll_once(&mut two, &waker).is_pending());
    assert_eq!(clock.elapsed(), Duration::ZERO);
    tx.unbounded_send(2).unwrap();
    assert_eq!(
        poll_once(&mut two, &waker),
        Poll::Ready((Some(1), Ok(Some(2))))
    );
}

#[test]
fn run_is_fused_when_its_future_is() {
    use futures::FutureExt as _;
    use futures::future::FusedFuture;
    let clock = VirtualClock::new();
    let mut run = clock.run(Box::pin(async { 1 }).fuse());
    assert!(!run.is_terminated());
    assert_eq!(smol::block_on(&mut run), 1);
    assert!(run.is_terminated(), "the future completed");
}
