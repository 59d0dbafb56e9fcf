//! timeout, timeout_at, Timeout, Elapsed, sleep, sleep_until and
//! timeout_each, each scenario under every executor of the matrix, on each
//! clock: async-io's, tokio's (under tokio, with the `tokio` feature) and the
//! virtual clock (`time_matrix`).
//!
//! Times are read with `aiokit::clock::now()`, the clock the timers use.
//! Timing assertions are lower bounds (a timer never fires early) plus upper
//! bounds at least 10x the expected time.

mod common;

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use aiokit::clock::now;

use aiokit::{
    Elapsed, Sleep, Timeout, TimeoutEach, TimeoutExt, TimeoutStreamExt, as_completed, sleep,
    sleep_until, timeout, timeout_at,
};
use common::*;
use futures::FutureExt as _;
use futures::StreamExt as _;
use futures::channel::mpsc;
use futures::future::FusedFuture;

const MS: Duration = Duration::from_millis(1);

/// Generous ceiling for anything that should take about `expected`.
const fn ceiling(expected: Duration) -> Duration {
    Duration::from_secs(5).saturating_add(expected.saturating_mul(10))
}

#[track_caller]
fn assert_took(start: Instant, at_least: Duration) {
    let took = now() - start;
    assert!(
        took >= at_least,
        "took {took:?}, expected at least {at_least:?}"
    );
    assert!(
        took < ceiling(at_least),
        "took {took:?}, expected about {at_least:?}"
    );
}

/// How many `Waker` clones of `waker` exist besides the test's own handle.
fn clones(waker: &Arc<CountingWaker>) -> usize {
    Arc::strong_count(waker) - 1
}

/// The latest instant `now() + d` can represent, roughly.
fn far_future() -> Instant {
    let now = now();
    let mut d = Duration::MAX;
    loop {
        if let Some(at) = now.checked_add(d) {
            return at;
        }
        d /= 2;
    }
}

#[test]
fn smoke() {
    time_matrix(|| async {
        assert_eq!(timeout(Duration::from_secs(10), async { 1 }).await, Ok(1));
        let never = std::future::pending::<u8>();
        assert_eq!(timeout(10 * MS, never).await, Err(Elapsed::new()));
    });
}

#[test]
fn the_deadline_fires_and_the_future_is_dropped_with_the_timeout() {
    time_matrix(|| async {
        let dropped = DropCounter::new();
        let start = now();
        let out = timeout(30 * MS, pending_guarded::<()>(dropped.guard())).await;
        assert_eq!(out, Err(Elapsed::new()));
        assert_took(start, 30 * MS);
        assert_eq!(dropped.get(), 1, "dropped as soon as `.await` returned");

        let start = now();
        let at = start + 30 * MS;
        assert!(
            timeout_at(at, pending_guarded::<()>(dropped.guard()))
                .await
                .is_err()
        );
        assert!(now() >= at);
        assert_took(start, 30 * MS);
        assert_eq!(dropped.get(), 2);
    });
}

#[test]
fn a_future_that_finishes_in_time_is_ok() {
    time_matrix(|| async {
        let start = now();
        let work = async {
            sleep(10 * MS).await;
            "done"
        };
        assert_eq!(work.timeout(Duration::from_secs(20)).await, Ok("done"));
        assert_took(start, 10 * MS);
    });
}

#[test]
fn a_future_ready_exactly_at_the_deadline_wins() {
    time_matrix(|| async {
        for _ in 0..3 {
            let deadline = now() + 40 * MS;
            // Ready once the deadline has passed, and it never wakes anyone:
            // the only wake is the timer's, so the poll that sees the timer
            // expired also sees this future ready. The future goes first.
            let at_deadline = poll_fn(move |_| {
                if now() >= deadline {
                    Poll::Ready("mine")
                } else {
                    Poll::Pending
                }
            });
            assert_eq!(timeout_at(deadline, at_deadline).await, Ok("mine"));
        }
    });
}

#[test]
fn an_expired_deadline_polls_the_future_once() {
    time_matrix(|| async {
        let waker = CountingWaker::new();
        // Ready: `Ok`, for a zero duration and for an instant in the past.
        let mut t = timeout(Duration::ZERO, std::future::ready(1));
        assert_eq!(poll_once(&mut t, &waker), Poll::Ready(Ok(1)));
        let past = now();
        sleep(MS).await;
        let mut t = timeout_at(past, std::future::ready(2));
        assert_eq!(poll_once(&mut t, &waker), Poll::Ready(Ok(2)));
        assert_eq!(timeout_at(past, async { 3 }).await, Ok(3));

        // Pending: `Err` on that same first poll, without registering a timer.
        let polls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = polls.clone();
        let mut t = Box::pin(timeout_at(
            past,
            poll_fn(move |_| {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Poll::<()>::Pending
            }),
        ));
        assert_eq!(poll_once(&mut t, &waker), Poll::Ready(Err(Elapsed::new())));
        assert_eq!(polls.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(clones(&waker), 0, "an expired timer is not registered");
        let mut t = timeout(Duration::ZERO, std::future::pending::<()>());
        assert_eq!(poll_once(&mut t, &waker), Poll::Ready(Err(Elapsed::new())));
    });
}

#[test]
fn a_ready_future_registers_no_timer() {
    time_matrix(|| async {
        let waker = CountingWaker::new();
        for _ in 0..100 {
            let mut t = timeout(Duration::from_secs(10), std::future::ready(()));
            assert_eq!(poll_once(&mut t, &waker), Poll::Ready(Ok(())));
            let mut t = timeout_at(now() + Duration::from_secs(10), async {}.boxed());
            assert_eq!(poll_once(&mut t, &waker), Poll::Ready(Ok(())));
            assert_eq!(t.deadline().map(|_| ()), Some(()));
        }
        assert_eq!(clones(&waker), 0, "no waker was handed to a timer");
        let mut t = timeout(Duration::from_secs(10), std::future::ready(()));
        let _ = poll_once(&mut t, &waker);
        assert_eq!(t.deadline(), None, "the clock never started");

        // The check is meaningful: a pending future does register.
        let mut t = timeout(Duration::from_secs(10), std::future::pending::<()>());
        assert_eq!(poll_once(&mut t, &waker), Poll::Pending);
        assert!(clones(&waker) > 0, "the timer holds the waker");
        drop(t);
    });
}

#[test]
fn the_clock_of_a_relative_timeout_starts_at_its_first_pending_poll() {
    time_matrix(|| async {
        let mut t = Box::pin(timeout(40 * MS, std::future::pending::<()>()));
        assert_eq!(t.deadline(), None);
        // Time spent before the first poll does not count.
        sleep(60 * MS).await;
        let waker = CountingWaker::new();
        let before = now();
        assert_eq!(poll_once(&mut t, &waker), Poll::Pending);
        let after = now();
        let deadline = t.deadline().expect("set by the first pending poll");
        assert!(before + 40 * MS <= deadline && deadline <= after + 40 * MS);
        assert!(t.await.is_err());
        assert!(now() >= before + 40 * MS);
    });
}

#[test]
fn on_elapsed_the_future_lives_until_the_timeout_is_dropped() {
    time_matrix(|| async {
        let dropped = DropCounter::new();
        let guard = dropped.guard();
        let (tx, rx) = futures::channel::oneshot::channel::<u8>();
        let inner = Box::pin(async move {
            let _guard = guard;
            rx.await.unwrap()
        });
        let mut t = timeout(10 * MS, inner);
        assert_eq!((&mut t).await, Err(Elapsed::new()));
        assert_eq!(dropped.get(), 0, "still owned by the timeout");
        // An expired timeout stays expired while the future is pending...
        assert_eq!((&mut t).await, Err(Elapsed::new()));
        // ...and gives the future back, untouched.
        let inner = t.into_inner();
        tx.send(7).unwrap();
        assert_eq!(inner.await, 7);
        assert_eq!(dropped.get(), 1);

        // Dropping a pending timeout drops its future at once.
        let mut t = Box::pin(timeout(
            Duration::from_secs(10),
            pending_guarded::<()>(dropped.guard()),
        ));
        assert_eq!(poll_once(&mut t, &CountingWaker::new()), Poll::Pending);
        drop(t);
        assert_eq!(dropped.get(), 2);
    });
}

#[test]
fn reschedule_earlier_fires_early() {
    time_matrix(|| async {
        // While pending, with the timer already registered.
        let mut t = pin!(timeout(
            Duration::from_secs(3600),
            std::future::pending::<()>()
        ));
        assert_eq!(futures::poll!(t.as_mut()), Poll::Pending);
        let start = now();
        let at = start + 30 * MS;
        t.as_mut().reschedule(at);
        assert_eq!(t.deadline(), Some(at));
        assert_eq!(t.as_mut().await, Err(Elapsed::new()));
        assert_took(start, 30 * MS);

        // Into the past: the next poll reports it.
        let mut t = pin!(timeout(
            Duration::from_secs(3600),
            std::future::pending::<()>()
        ));
        assert_eq!(futures::poll!(t.as_mut()), Poll::Pending);
        t.as_mut().reschedule(now());
        let start = now();
        assert_eq!(t.as_mut().await, Err(Elapsed::new()));
        assert!((now() - start) < ceiling(Duration::ZERO));

        // Before the first poll, it replaces the relative deadline.
        let mut t = pin!(timeout(
            Duration::from_secs(3600),
            std::future::pending::<()>()
        ));
        let at = now() + 20 * MS;
        t.as_mut().reschedule(at);
        assert_eq!(t.deadline(), Some(at));
        assert_eq!(t.as_mut().await, Err(Elapsed::new()));
        assert!(now() >= at);
    });
}

#[test]
fn reschedule_later_or_to_none_lets_the_future_finish() {
    time_matrix(|| async {
        let work = || async {
            sleep(60 * MS).await;
            "done"
        };
        let mut t = pin!(timeout(20 * MS, work()));
        assert_eq!(futures::poll!(t.as_mut()), Poll::Pending);
        let later = now() + Duration::from_secs(20);
        t.as_mut().reschedule(later);
        assert_eq!(t.deadline(), Some(later));
        assert_eq!(t.as_mut().await, Ok("done"));

        let mut t = pin!(timeout(20 * MS, work()));
        assert_eq!(futures::poll!(t.as_mut()), Poll::Pending);
        t.as_mut().reschedule(None);
        assert_eq!(t.deadline(), None);
        assert_eq!(t.as_mut().await, Ok("done"));

        // After an `Err(Elapsed)`, a later deadline lets it wait again.
        let mut t = pin!(timeout(5 * MS, work()));
        assert_eq!(t.as_mut().await, Err(Elapsed::new()));
        t.as_mut().reschedule(now() + Duration::from_secs(20));
        assert_eq!(t.as_mut().await, Ok("done"));
    });
}

#[test]
fn overflowing_durations_and_far_instants_mean_no_deadline() {
    time_matrix(|| async {
        let waker = CountingWaker::new();
        for d in [
            Duration::MAX,
            Duration::from_secs(u64::MAX),
            Duration::new(u64::MAX, 999_999_999),
        ] {
            let mut t = timeout(d, std::future::pending::<()>());
            assert_eq!(poll_once(&mut t, &waker), Poll::Pending);
            assert_eq!(poll_once(&mut t, &waker), Poll::Pending);
            assert_eq!(t.deadline(), None);
            assert_eq!(clones(&waker), 0, "no timer for no deadline");
            assert_eq!(timeout(d, sleep(5 * MS)).await, Ok(()));
            let mut s = sleep(d);
            assert_eq!(poll_once(&mut s, &waker), Poll::Pending);
            assert_eq!(s.deadline(), None);
        }
        // A far-future instant is a deadline that is never reached.
        for at in [far_future(), now() + Duration::from_secs(1 << 40)] {
            let mut t = Box::pin(timeout_at(at, std::future::pending::<()>()));
            assert_eq!(poll_once(&mut t, &waker), Poll::Pending);
            assert_eq!(t.deadline(), Some(at));
            drop(t);
            assert_eq!(timeout_at(at, sleep(5 * MS)).await, Ok(()));
            let mut t = pin!(timeout(Duration::MAX, sleep(5 * MS)));
            t.as_mut().reschedule(at);
            assert_eq!(t.await, Ok(()));
        }
    });
}

#[test]
fn nested_timeouts_with_the_same_deadline_report_the_inner_one() {
    time_matrix(|| async {
        let at = now() + 20 * MS;
        let inner = timeout_at(at, std::future::pending::<()>());
        let outer = timeout_at(at, inner).await;
        assert_eq!(outer, Ok(Err(Elapsed::new())));
        // A shorter outer deadline is reported by the outer one.
        let inner = timeout(Duration::from_secs(20), std::future::pending::<()>());
        assert_eq!(timeout(10 * MS, inner).await, Err(Elapsed::new()));
    });
}

#[test]
fn a_panic_of_the_future_propagates() {
    time_matrix(|| async {
        let boom = async {
            sleep(MS).await;
            panic!("boom in the inner future")
        };
        let caught = std::panic::AssertUnwindSafe(timeout(Duration::from_secs(10), boom))
            .catch_unwind()
            .await;
        assert_panic_message(&*caught.unwrap_err(), "boom in the inner future");
    });
}

#[test]
fn elapsed_is_a_small_io_compatible_error() {
    let e = Elapsed::new();
    assert_eq!(std::mem::size_of::<Elapsed>(), 0);
    assert_eq!(e.to_string(), "deadline elapsed");
    assert_eq!(e, Elapsed::default());
    let dynamic: Box<dyn std::error::Error + Send + Sync> = Box::new(e);
    assert!(dynamic.source().is_none());
    let io: std::io::Error = e.into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
    assert_eq!(io.to_string(), "deadline elapsed");
    assert!(io.get_ref().unwrap().is::<Elapsed>());

    fn read() -> std::io::Result<u8> {
        Err(Elapsed::new())?
    }
    assert_eq!(read().unwrap_err().kind(), std::io::ErrorKind::TimedOut);
}

#[test]
fn sleep_waits_at_least_its_duration() {
    time_matrix(|| async {
        let start = now();
        sleep(20 * MS).await;
        assert_took(start, 20 * MS);

        let at = now() + 20 * MS;
        let s: Sleep = sleep_until(at);
        assert_eq!(s.deadline(), Some(at));
        s.await;
        assert!(now() >= at);

        // Zero and past deadlines complete on the first poll, without a timer.
        let waker = CountingWaker::new();
        let mut s = sleep(Duration::ZERO);
        assert!(!s.is_terminated());
        assert_eq!(poll_once(&mut s, &waker), Poll::Ready(()));
        assert!(s.is_terminated());
        let mut s = sleep_until(now());
        assert_eq!(poll_once(&mut s, &waker), Poll::Ready(()));
        assert_eq!(clones(&waker), 0);
    });
}

#[test]
fn sleep_fixes_its_deadline_when_it_is_made() {
    time_matrix(|| async {
        let before = now();
        let mut early = sleep(200 * MS);
        let after = now();
        let deadline = early.deadline().expect("known when the sleep is made");
        assert!(before + 200 * MS <= deadline && deadline <= after + 200 * MS);
        // Other work for as long as the sleep, before its first poll: a sleep
        // made now ends no earlier than `early`'s deadline (timers never fire
        // early), so `early` is due by then.
        sleep(200 * MS).await;
        assert!(now() >= deadline);
        let waker = CountingWaker::new();
        assert_eq!(
            poll_once(&mut early, &waker),
            Poll::Ready(()),
            "a sleep awaited after its deadline is ready at its first poll"
        );
        assert_eq!(clones(&waker), 0, "and registers no timer");
        assert_eq!(early.deadline(), Some(deadline), "unchanged by polling");
    });
}

/// A stream of `rx`'s values, each item timed out after `d`.
fn channel_stream(
    d: Duration,
) -> (
    mpsc::UnboundedSender<u32>,
    TimeoutEach<mpsc::UnboundedReceiver<u32>>,
) {
    let (tx, rx) = mpsc::unbounded();
    (tx, rx.timeout_each(d))
}

#[test]
fn timeout_each_yields_elapsed_items_and_goes_on() {
    time_matrix(|| async {
        let (tx, mut items) = channel_stream(30 * MS);
        tx.unbounded_send(1).unwrap();
        assert_eq!(items.next().await, Some(Ok(1)));

        let start = now();
        assert_eq!(items.next().await, Some(Err(Elapsed::new())));
        assert_took(start, 30 * MS);
        // A fresh deadline for the same item.
        let start = now();
        assert_eq!(items.next().await, Some(Err(Elapsed::new())));
        assert_took(start, 30 * MS);

        tx.unbounded_send(2).unwrap();
        assert_eq!(items.next().await, Some(Ok(2)));
        drop(tx);
        assert_eq!(items.next().await, None);
        assert!(futures::stream::FusedStream::is_terminated(&items));
    });
}

#[test]
fn timeout_each_restarts_the_timer_for_every_item() {
    time_matrix(|| async {
        // Five items 20 ms apart: 100 ms in all, but each within 200 ms. The
        // consumer also dawdles 30 ms between items, which is not counted.
        let slow = futures::stream::unfold(0, |n| async move {
            if n == 5 {
                return None;
            }
            sleep(20 * MS).await;
            Some((n, n + 1))
        });
        let mut items = pin!(slow.timeout_each(200 * MS));
        let start = now();
        let mut got = Vec::new();
        while let Some(item) = items.next().await {
            got.push(item);
            sleep(30 * MS).await;
        }
        assert_eq!(got, (0..5).map(Ok).collect::<Vec<_>>());
        assert_took(start, 250 * MS);
    });
}

#[test]
fn timeout_each_on_a_ready_stream_registers_no_timer() {
    time_matrix(|| async {
        let waker = CountingWaker::new();
        let mut items = futures::stream::iter(0..1000).timeout_each(Duration::from_secs(10));
        for i in 0..1000 {
            assert_eq!(
                poll_once(&mut items.next(), &waker),
                Poll::Ready(Some(Ok(i)))
            );
        }
        assert_eq!(poll_once(&mut items.next(), &waker), Poll::Ready(None));
        assert_eq!(clones(&waker), 0);
        assert_eq!(futures::Stream::size_hint(&items), (0, None));
    });
}

#[test]
fn timeout_each_works_on_as_completed() {
    // Logic (the order of items and timeouts), not the timer backend: on the
    // virtual clock, where a loaded machine cannot reorder a 10 ms and a
    // 200 ms deadline.
    virtual_matrix(|| async {
        let calls = as_completed([10u64, 2000, 20].map(|ms| async move {
            sleep(Duration::from_millis(ms)).await;
            ms
        }));
        let got: Vec<_> = calls.timeout_each(200 * MS).take(3).collect().await;
        assert_eq!(got, [Ok((0, 10)), Ok((2, 20)), Err(Elapsed::new())]);
    });
}

#[test]
fn debug_shows_the_deadline_state() {
    let t = timeout(5 * MS, std::future::pending::<()>());
    let text = format!("{t:?}");
    assert!(
        text.starts_with("Timeout") && text.contains("after first poll + 5ms"),
        "{text}"
    );
    let mut t = Box::pin(t);
    let _ = poll_once(&mut t, &CountingWaker::new());
    assert!(format!("{t:?}").contains("at "));
    let t = timeout(Duration::MAX, std::future::pending::<()>()).boxed();
    let mut t = Box::pin(timeout(Duration::MAX, t));
    let _ = poll_once(&mut t, &CountingWaker::new());
    assert!(format!("{t:?}").contains("never"));
    assert!(format!("{:?}", sleep(MS)).starts_with("Sleep"));
    let s = futures::stream::empty::<()>().timeout_each(MS);
    assert!(format!("{s:?}").starts_with("TimeoutEach { duration: 1ms"));
}

#[test]
fn auto_traits_follow_the_inner_future() {
    fn send_sync_unpin<T: Send + Sync + Unpin>(_: &T) {}
    send_sync_unpin(&timeout(MS, std::future::ready(1)));
    send_sync_unpin(&sleep(MS));
    send_sync_unpin(&futures::stream::iter([1]).timeout_each(MS));
    fn is_future<F: Future<Output = Result<u8, Elapsed>>>(_: &F) {}
    let t: Timeout<std::future::Ready<u8>> = std::future::ready(1).timeout(MS);
    is_future(&t);
    let boxed: Pin<Box<Timeout<_>>> = Box::pin(t);
    drop(boxed);
}

#[test]
fn dropping_a_pending_timer_deregisters_it() {
    time_matrix(|| async {
        let waker = CountingWaker::new();
        let mut t = Box::pin(timeout(
            Duration::from_secs(3600),
            std::future::pending::<()>(),
        ));
        let mut s = sleep(Duration::from_secs(3600));
        let mut each = futures::stream::pending::<()>().timeout_each(Duration::from_secs(3600));
        assert_eq!(poll_once(&mut t, &waker), Poll::Pending);
        assert_eq!(poll_once(&mut s, &waker), Poll::Pending);
        assert_eq!(poll_once(&mut each.next(), &waker), Poll::Pending);
        assert!(clones(&waker) >= 3, "registered");
        drop((t, s, each));
        // Firing any later timer makes the reactor apply the removals first.
        sleep(5 * MS).await;
        assert_eq!(clones(&waker), 0, "the reactor let go of every waker");
    });
}

#[test]
fn anything_into_future_can_be_timed_out() {
    struct Job(u8);
    impl std::future::IntoFuture for Job {
        type Output = u8;
        type IntoFuture = std::future::Ready<u8>;
        fn into_future(self) -> Self::IntoFuture {
            std::future::ready(self.0)
        }
    }
    time_matrix(|| async {
        assert_eq!(timeout(MS, Job(1)).await, Ok(1));
        assert_eq!(timeout_at(now(), Job(2)).await, Ok(2));
        assert_eq!(Job(3).timeout(MS).await, Ok(3));
    });
}

#[test]
fn timeout_is_fused_when_its_future_is() {
    time_matrix(|| async {
        let mut t = timeout(Duration::from_secs(10), Box::pin(async { 1 }).fuse());
        assert!(!t.is_terminated());
        assert_eq!((&mut t).await, Ok(1));
        assert!(t.is_terminated(), "the future completed");

        // After a deadline the future is still there: not terminated.
        let mut t = timeout(MS, Box::pin(std::future::pending::<()>()).fuse());
        assert!((&mut t).await.is_err());
        assert!(!t.is_terminated());
    });
}
