//! gather, try_gather, gather_settled, as_completed and the tuple/array forms,
//! each scenario under every executor of the matrix.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use aiokit::{GatherExt, Settled, as_completed, gather, gather_settled, try_gather};
use common::*;
use futures::FutureExt as _;
use futures::StreamExt as _;
use futures::channel::oneshot;
use proptest::prelude::*;

/// Panics with `message`; typed, so the compiler sees no unreachable code.
fn explode<T>(message: &str) -> T {
    panic!("{message}")
}

fn explode_with<T>(payload: u32) -> T {
    std::panic::panic_any(payload)
}

#[test]
fn smoke() {
    matrix(|| async {
        let out = gather((0..5).map(|i| async move { i * 2 })).await;
        assert_eq!(out, [0, 2, 4, 6, 8]);
    });
}

#[test]
fn order_is_input_order_when_completion_is_reversed() {
    matrix(|| async {
        for n in [3, 40, 300] {
            let (children, driver) = staged((0..n).collect(), (0..n).rev().collect());
            let (out, ()) = (gather(children), driver).gather().await;
            assert_eq!(out, (0..n).collect::<Vec<_>>());
        }
    });
}

#[test]
fn zero_sized_outputs_out_of_order() {
    matrix(|| async {
        let (children, driver) = staged(vec![(); 40], (0..40).rev().collect());
        let (out, ()) = (gather(children), driver).gather().await;
        assert_eq!(out.len(), 40);
    });
}

#[test]
fn empty_inputs_resolve_at_once() {
    matrix(|| async {
        let none: Vec<BoxFut<u8>> = Vec::new();
        assert!(gather(none).await.is_empty());
        let none: Vec<BoxFut<Result<u8, ()>>> = Vec::new();
        assert_eq!(try_gather(none).await, Ok(vec![]));
        let none: Vec<BoxFut<Result<u8, ()>>> = Vec::new();
        assert!(gather_settled(none).await.is_empty());
        let none: Vec<BoxFut<u8>> = Vec::new();
        assert_eq!(as_completed(none).count().await, 0);
        let none: Vec<BoxFut<u8>> = Vec::new();
        assert!(gather(none).limit(3).await.is_empty());
    });
}

#[test]
fn first_error_in_completion_order_wins_while_a_sibling_never_ends() {
    matrix(|| async {
        for n in [2, 10, 100] {
            let dropped = DropCounter::new();
            // Child 0 fails late, child n-1 fails early, the rest never end.
            let (mut children, driver) =
                staged(vec![Err::<u32, _>("late"), Err("early")], vec![1, 0]);
            let late = children.remove(0);
            let early = children.remove(0);
            let mut all: Vec<BoxFut<Result<u32, &str>>> = vec![late];
            for _ in 2..n {
                all.push(Box::pin(pending_guarded(dropped.guard())));
            }
            all.push(early);
            let (result, ()) = (try_gather(all), driver).gather().await;
            assert_eq!(result, Err("early"));
            assert_eq!(
                dropped.get(),
                n - 2,
                "pending siblings dropped on the error"
            );
        }
    });
}

#[test]
fn try_gather_ok_keeps_input_order() {
    matrix(|| async {
        let (children, driver) =
            staged((0..50).map(Ok::<_, ()>).collect(), (0..50).rev().collect());
        let (result, ()) = (try_gather(children), driver).gather().await;
        assert_eq!(result, Ok((0..50).collect()));
    });
}

#[test]
fn children_are_dropped_as_soon_as_they_complete() {
    matrix(|| async {
        for n in [4, 64] {
            let dropped = DropCounter::new();
            let (senders, receivers): (Vec<_>, Vec<_>) =
                (0..n).map(|_| oneshot::channel::<()>()).unzip();
            let children = receivers.into_iter().map(|rx| {
                let guard = dropped.guard();
                async move {
                    let _guard = guard;
                    rx.await.unwrap();
                }
            });
            let mut senders = senders.into_iter();
            let observed = Arc::new(AtomicUsize::new(0));
            let seen = observed.clone();
            let dropped_in_driver = dropped.clone();
            let driver = async move {
                senders.next().unwrap().send(()).unwrap();
                // Let the gather poll the finished child.
                for _ in 0..3 {
                    yield_now().await;
                }
                seen.store(dropped_in_driver.get(), Ordering::SeqCst);
                for tx in senders {
                    tx.send(()).unwrap();
                }
            };
            let _ = (gather(children), driver).gather().await;
            assert_eq!(
                observed.load(Ordering::SeqCst),
                1,
                "first child dropped while the rest ran"
            );
            assert_eq!(dropped.get(), n);
        }
    });
}

#[test]
fn dropping_the_gather_drops_every_child() {
    matrix(|| async {
        for n in [3, 100] {
            let dropped = DropCounter::new();
            let mut g = gather((0..n).map(|_| pending_guarded::<()>(dropped.guard())));
            assert!(futures::poll!(&mut g).is_pending());
            drop(g);
            assert_eq!(dropped.get(), n);
        }
    });
}

#[test]
fn gather_panic_drops_siblings_then_propagates() {
    matrix(|| async {
        for n in [3, 100] {
            let dropped = DropCounter::new();
            let mut children: Vec<BoxFut<u32>> = (0..n)
                .map(|_| Box::pin(pending_guarded(dropped.guard())) as BoxFut<u32>)
                .collect();
            let probe = dropped.clone();
            children.push(Box::pin(async move {
                yield_now().await;
                panic!("child failed after {} drops", probe.get());
            }));
            // Awaited through `&mut`: the gather is still alive when the
            // drops are counted.
            let mut g = gather(children);
            let outcome = AssertUnwindSafe(&mut g).catch_unwind().await;
            let payload = outcome.expect_err("the panic propagates");
            assert_panic_message(&*payload, "child failed after 0 drops");
            assert_eq!(dropped.get(), n, "every sibling dropped before resuming");
            drop(g);
        }
    });
}

/// `n` pending children (drop-guarded) and, last, one that panics after a
/// yield, reporting how many siblings had been dropped when it panicked.
fn pending_then_panic<T: Send + 'static>(n: usize, dropped: &DropCounter) -> Vec<BoxFut<T>> {
    let mut children: Vec<BoxFut<T>> = (0..n)
        .map(|_| Box::pin(pending_guarded(dropped.guard())) as BoxFut<T>)
        .collect();
    let probe = dropped.clone();
    children.push(Box::pin(async move {
        yield_now().await;
        panic!("child failed after {} drops", probe.get());
    }));
    children
}

/// Polled by hand, so the drops are counted while the combinator is still
/// alive: the siblings must be gone before the panic leaves the poll, not
/// merely when the combinator is dropped afterwards.
#[test]
fn a_panic_drops_the_siblings_before_it_resumes() {
    for n in [3, 100] {
        let dropped = DropCounter::new();
        let mut g = Box::pin(gather(pending_then_panic::<u8>(n, &dropped)));
        let payload = poll_until_panic(&mut g);
        assert_panic_message(&*payload, "child failed after 0 drops");
        assert_eq!(dropped.get(), n, "gather: siblings dropped before resuming");
        drop(g);
        assert_eq!(dropped.get(), n);

        let dropped = DropCounter::new();
        let mut g = Box::pin(try_gather(pending_then_panic::<Result<u8, ()>>(
            n, &dropped,
        )));
        poll_until_panic(&mut g);
        assert_eq!(
            dropped.get(),
            n,
            "try_gather: siblings dropped before resuming"
        );
        drop(g);

        let dropped = DropCounter::new();
        let mut s = as_completed(pending_then_panic::<u8>(n, &dropped));
        poll_until_panic(&mut s.next());
        assert_eq!(
            dropped.get(),
            n,
            "as_completed: siblings dropped before resuming"
        );
        drop(s);
    }
    let dropped = DropCounter::new();
    let mut g = Box::pin(
        (pending_guarded::<()>(dropped.guard()), async {
            yield_now().await;
            explode::<()>("tuple gather panic")
        })
            .gather(),
    );
    assert_panic_message(&*poll_until_panic(&mut g), "tuple gather panic");
    assert_eq!(
        dropped.get(),
        1,
        "tuple gather: sibling dropped before resuming"
    );
    drop(g);

    let dropped = DropCounter::new();
    let mut g = Box::pin(
        (pending_guarded::<Result<(), ()>>(dropped.guard()), async {
            yield_now().await;
            explode::<Result<(), ()>>("tuple try_gather panic")
        })
            .try_gather(),
    );
    assert_panic_message(&*poll_until_panic(&mut g), "tuple try_gather panic");
    assert_eq!(
        dropped.get(),
        1,
        "tuple try_gather: sibling dropped before resuming"
    );
}

#[test]
fn try_gather_and_as_completed_panics_propagate() {
    matrix(|| async {
        let dropped = DropCounter::new();
        let children: Vec<BoxFut<Result<u8, ()>>> = vec![
            Box::pin(pending_guarded(dropped.guard())),
            Box::pin(async { panic!("try boom") }),
        ];
        let payload = AssertUnwindSafe(try_gather(children))
            .catch_unwind()
            .await
            .unwrap_err();
        assert_panic_message(&*payload, "try boom");
        assert_eq!(dropped.get(), 1);

        let children: Vec<BoxFut<u8>> = vec![
            Box::pin(pending_guarded(dropped.guard())),
            Box::pin(async { panic!("stream boom") }),
        ];
        let mut stream = as_completed(children);
        let payload = AssertUnwindSafe(stream.next())
            .catch_unwind()
            .await
            .unwrap_err();
        assert_panic_message(&*payload, "stream boom");
        assert_eq!(dropped.get(), 2);
        assert_eq!(stream.next().await, None, "the stream ends after a panic");
    });
}

#[test]
fn gather_settled_captures_panics_per_slot_and_goes_on() {
    matrix(|| async {
        for n in [4, 100] {
            let children = (0..n).map(|i| async move {
                yield_now().await;
                match i % 4 {
                    0 => Ok(i),
                    1 => Err(format!("e{i}")),
                    2 => panic!("p{i}"),
                    _ => {
                        yield_now().await;
                        Ok(i)
                    }
                }
            });
            let outcomes = gather_settled(children).await;
            assert_eq!(outcomes.len(), n);
            for (i, outcome) in outcomes.iter().enumerate() {
                match i % 4 {
                    0 | 3 => assert_eq!(outcome.ok(), Some(&i)),
                    1 => assert_eq!(outcome.err(), Some(&format!("e{i}"))),
                    _ => assert_eq!(
                        outcome.panic().and_then(|p| p.message()),
                        Some(&*format!("p{i}"))
                    ),
                }
            }
            let (ok, failed) = Settled::split(outcomes);
            assert_eq!(ok.len(), n / 2);
            assert_eq!(failed.len(), n / 2);
        }
    });
}

#[test]
fn panic_can_be_resumed_with_its_payload() {
    matrix(|| async {
        let mut outcomes = gather_settled([async { explode_with::<Result<(), ()>>(7_u32) }]).await;
        let Settled::Panicked(panic) = outcomes.remove(0) else {
            panic!("not a panic")
        };
        assert_eq!(panic.message(), None);
        let payload = catch_unwind(AssertUnwindSafe(|| panic.resume())).unwrap_err();
        assert_eq!(payload.downcast_ref::<u32>(), Some(&7));
    });
}

/// A child that counts itself live while it exists.
struct Live {
    live: Arc<AtomicUsize>,
}

impl Live {
    fn new(live: &Arc<AtomicUsize>, peak: &Arc<AtomicUsize>) -> Self {
        let now = live.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(now, Ordering::SeqCst);
        Self { live: live.clone() }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn limit_is_never_exceeded_and_the_iterator_is_pulled_lazily() {
    matrix(|| async {
        for limit in [1, 3, 64] {
            let live = Arc::new(AtomicUsize::new(0));
            let peak = Arc::new(AtomicUsize::new(0));
            let pulled = Arc::new(AtomicUsize::new(0));
            let (l, p, c) = (live.clone(), peak.clone(), pulled.clone());
            let children = (0..200_usize).map(move |i| {
                c.fetch_add(1, Ordering::SeqCst);
                let token = Live::new(&l, &p);
                async move {
                    let _token = token;
                    for _ in 0..=(i % 3) {
                        yield_now().await;
                    }
                    i
                }
            });
            let out = gather(children).limit(limit).await;
            assert_eq!(pulled.load(Ordering::SeqCst), 200);
            assert_eq!(out, (0..200).collect::<Vec<_>>());
            assert!(
                peak.load(Ordering::SeqCst) <= limit,
                "limit {limit} exceeded"
            );
            assert_eq!(live.load(Ordering::SeqCst), 0);
        }
    });
}

#[test]
fn with_a_limit_the_iterator_is_pulled_only_when_a_slot_frees() {
    matrix(|| async {
        for limit in [1, 5, 100] {
            let pulled = Arc::new(AtomicUsize::new(0));
            let dropped = DropCounter::new();
            let (c, d) = (pulled.clone(), dropped.clone());
            let children = (0..10_000_000_usize).map(move |_| {
                c.fetch_add(1, Ordering::SeqCst);
                pending_guarded::<()>(d.guard())
            });
            let mut g = gather(children).limit(limit);
            assert_eq!(
                pulled.load(Ordering::SeqCst),
                0,
                "nothing pulled before the first poll"
            );
            for _ in 0..3 {
                assert!(futures::poll!(&mut g).is_pending());
            }
            assert_eq!(pulled.load(Ordering::SeqCst), limit);
            drop(g);
            assert_eq!(dropped.get(), limit);
        }
    });
}

#[test]
fn limit_applies_to_every_form() {
    matrix(|| async {
        let peak = Arc::new(AtomicUsize::new(0));
        let live = Arc::new(AtomicUsize::new(0));
        let make = |n: usize| {
            let (l, p) = (live.clone(), peak.clone());
            (0..n).map(move |i| {
                let token = Live::new(&l, &p);
                async move {
                    let _token = token;
                    yield_now().await;
                    Ok::<usize, ()>(i)
                }
            })
        };
        assert_eq!(try_gather(make(30)).limit(2).await.unwrap().len(), 30);
        assert_eq!(gather_settled(make(30)).limit(2).await.len(), 30);
        let mut order: Vec<usize> = as_completed(make(30))
            .limit(2)
            .map(|(i, _)| i)
            .collect()
            .await;
        order.sort();
        assert_eq!(order, (0..30).collect::<Vec<_>>());
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn limit_zero_panics_naming_the_method() {
    let payload = catch_unwind(|| gather([async {}]).limit(0))
        .map(drop)
        .unwrap_err();
    assert_panic_message(&*payload, "aiokit::Gather::limit");
    let payload = catch_unwind(|| try_gather([async { Ok::<(), ()>(()) }]).limit(0))
        .map(drop)
        .unwrap_err();
    assert_panic_message(&*payload, "aiokit::TryGather::limit");
    let payload = catch_unwind(|| gather_settled([async { Ok::<(), ()>(()) }]).limit(0))
        .map(drop)
        .unwrap_err();
    assert_panic_message(&*payload, "aiokit::GatherSettled::limit");
    let payload = catch_unwind(|| as_completed([async {}]).limit(0))
        .map(drop)
        .unwrap_err();
    assert_panic_message(&*payload, "aiokit::AsCompleted::limit");
}

#[test]
fn a_child_woken_from_another_thread() {
    matrix(|| async {
        for n in [2, 50] {
            let (senders, receivers): (Vec<_>, Vec<_>) =
                (0..n).map(|_| oneshot::channel::<usize>()).unzip();
            let thread = std::thread::spawn(move || {
                for (i, tx) in senders.into_iter().enumerate().rev() {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                    tx.send(i).unwrap();
                }
            });
            let out = gather(receivers.into_iter().map(|rx| rx.map(Result::unwrap))).await;
            assert_eq!(out, (0..n).collect::<Vec<_>>());
            thread.join().unwrap();
        }
    });
}

#[test]
fn a_child_that_always_wakes_itself_does_not_starve_the_others() {
    matrix(|| async {
        for n in [3, 100] {
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let stop_in_spinner = stop.clone();
            let spinner: BoxFut<usize> = Box::pin(std::future::poll_fn(move |cx| {
                if stop_in_spinner.load(Ordering::SeqCst) {
                    Poll::Ready(0)
                } else {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
            }));
            let mut children = vec![spinner];
            let done = Arc::new(AtomicUsize::new(0));
            for i in 1..n {
                let (done, stop) = (done.clone(), stop.clone());
                children.push(Box::pin(async move {
                    for _ in 0..3 {
                        yield_now().await;
                    }
                    if done.fetch_add(1, Ordering::SeqCst) + 1 == n - 1 {
                        stop.store(true, Ordering::SeqCst);
                    }
                    i
                }));
            }
            assert_eq!(gather(children).await, (0..n).collect::<Vec<_>>());
        }
    });
}

/// The cooperative rule itself: a child that always wakes itself makes one
/// parent poll return `Pending` after a bounded number of child polls, waking
/// the parent, instead of spinning inside the poll.
#[test]
fn one_poll_yields_to_the_executor_when_a_child_keeps_waking_itself() {
    for n in [3, 100] {
        let spins = Arc::new(AtomicUsize::new(0));
        let counted = spins.clone();
        // Ends after many polls, so a poll that never yields still returns.
        let spinner: BoxFut<usize> = Box::pin(std::future::poll_fn(move |cx| {
            if counted.fetch_add(1, Ordering::SeqCst) >= 10_000 {
                Poll::Ready(0)
            } else {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }));
        let mut children = vec![spinner];
        let dropped = DropCounter::new();
        children
            .extend((1..n).map(|_| Box::pin(pending_guarded(dropped.guard())) as BoxFut<usize>));
        let mut g = gather(children);
        assert!(poll_once(&mut g, &CountingWaker::new()).is_pending());
        for _ in 0..3 {
            let parent = CountingWaker::new();
            let before = spins.load(Ordering::SeqCst);
            assert!(poll_once(&mut g, &parent).is_pending());
            assert!(
                parent.count() > 0,
                "n = {n}: the poll woke the parent to yield"
            );
            assert!(
                spins.load(Ordering::SeqCst) - before <= 2,
                "n = {n}: the spinner had at most two turns in one poll"
            );
        }
    }
}

#[test]
fn a_wake_polls_only_the_woken_child() {
    for n in [10, 1000] {
        let polls = Arc::new(AtomicUsize::new(0));
        let (senders, receivers): (Vec<_>, Vec<_>) =
            (0..n).map(|_| oneshot::channel::<usize>()).unzip();
        let children = receivers.into_iter().map(|mut rx| {
            let polls = polls.clone();
            std::future::poll_fn(move |cx| {
                polls.fetch_add(1, Ordering::SeqCst);
                rx.poll_unpin(cx).map(Result::unwrap)
            })
        });
        let parent = CountingWaker::new();
        let mut g = gather(children);
        assert!(poll_once(&mut g, &parent).is_pending());
        // The child left pending on the parent's waker by the first pass
        // gets its one catch-up poll at the next parent poll.
        assert!(poll_once(&mut g, &parent).is_pending());
        let mut senders: Vec<_> = senders.into_iter().map(Some).collect();
        for i in [n / 2, 0, n - 1] {
            let before = polls.load(Ordering::SeqCst);
            senders[i].take().unwrap().send(i).unwrap();
            assert!(parent.count() > 0, "the parent was woken");
            assert!(poll_once(&mut g, &parent).is_pending());
            assert_eq!(
                polls.load(Ordering::SeqCst) - before,
                1,
                "n = {n}: one wake, one child poll"
            );
        }
        for tx in senders.into_iter().flatten() {
            tx.send(0).unwrap();
        }
        assert!(poll_once(&mut g, &parent).is_ready());
    }
}

#[test]
#[should_panic(expected = "`Gather` polled after completion")]
fn polling_after_completion_panics() {
    let parent = CountingWaker::new();
    let mut g = gather([async { 1 }]);
    assert!(poll_once(&mut g, &parent).is_ready());
    let _ = poll_once(&mut g, &parent);
}

#[test]
fn as_completed_yields_in_completion_order_with_indices() {
    matrix(|| async {
        let (children, driver) = staged(vec!['a', 'b', 'c', 'd'], vec![2, 0, 3, 1]);
        let (items, ()) = (as_completed(children).collect::<Vec<_>>(), driver)
            .gather()
            .await;
        assert_eq!(items, [(2, 'c'), (0, 'a'), (3, 'd'), (1, 'b')]);
    });
}

#[test]
fn tuples_and_arrays() {
    matrix(|| async {
        let (a, b, c) = (async { 1_u8 }, async { "two" }, async { 3.0_f64 })
            .gather()
            .await;
        assert_eq!((a, b, c), (1, "two", 3.0));
        let twelve = (
            async { 1 },
            async { 2 },
            async { 3 },
            async { 4 },
            async { 5 },
            async { 6 },
            async { 7 },
            async { 8 },
            async { 9 },
            async { 10 },
            async { 11 },
            async { 12 },
        )
            .gather()
            .await;
        assert_eq!(twelve.11, 12);

        let dropped = DropCounter::new();
        let failed = (
            pending_guarded::<Result<u8, &str>>(dropped.guard()),
            async {
                yield_now().await;
                Err::<char, _>("tuple error")
            },
        )
            .try_gather()
            .await;
        assert_eq!(failed, Err("tuple error"));
        assert_eq!(dropped.get(), 1);

        let (ok, err, panicked) = (
            async { Ok::<_, ()>(1) },
            async { Err::<(), _>("e") },
            async { explode::<Result<(), ()>>("tuple panic") },
        )
            .gather_settled()
            .await;
        assert_eq!(ok.into_ok(), Some(1));
        assert_eq!(err.into_err(), Some("e"));
        assert_eq!(
            panicked.panic().and_then(|p| p.message()),
            Some("tuple panic")
        );

        let payload = AssertUnwindSafe(
            (pending_guarded::<()>(dropped.guard()), async {
                panic!("tuple gather panic")
            })
                .gather(),
        )
        .catch_unwind()
        .await
        .unwrap_err();
        assert_panic_message(&*payload, "tuple gather panic");
        assert_eq!(
            dropped.get(),
            2,
            "sibling dropped before the panic propagated"
        );

        assert_eq!(
            [1, 2, 3].map(|n| async move { n }).gather().await,
            [1, 2, 3]
        );
        assert_eq!(
            [1, 2]
                .map(|n| async move { Ok::<_, ()>(n) })
                .try_gather()
                .await,
            Ok([1, 2])
        );
        let [one] = [async { Err::<(), _>(1) }].gather_settled().await;
        assert_eq!(one.into_err(), Some(1));
    });
}

#[test]
fn tokio_resources_under_the_coop_budget() {
    // Many tokio channels gathered in one task: tokio's cooperative budget
    // makes some of them return Pending spuriously; the gather must still
    // finish (and without re-polling everything each time).
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async {
            let n = 20_000;
            let (senders, receivers): (Vec<_>, Vec<_>) = (0..n)
                .map(|_| tokio::sync::oneshot::channel::<usize>())
                .unzip();
            let driver = async move {
                for (i, tx) in senders.into_iter().enumerate() {
                    tx.send(i).unwrap();
                    if i % 1000 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            };
            let (out, ()) = (
                gather(receivers.into_iter().map(|rx| rx.map(Result::unwrap))),
                driver,
            )
                .gather()
                .await;
            assert_eq!(out.len(), n);
            assert!(out.iter().enumerate().all(|(i, v)| i == *v));
        });
}

#[test]
fn debug_output_names_the_type() {
    let g = gather([async { 1 }]);
    assert!(format!("{g:?}").starts_with("Gather"));
    let t = try_gather([async { Ok::<u8, ()>(1) }]);
    assert!(format!("{t:?}").starts_with("TryGather"));
    let s = gather_settled([async { Ok::<u8, ()>(1) }]);
    assert!(format!("{s:?}").starts_with("GatherSettled"));
    let a = as_completed([async { 1 }]);
    assert!(format!("{a:?}").starts_with("AsCompleted"));
    let tuple = (async { 1 }, async { 2 }).gather();
    assert!(format!("{tuple:?}").starts_with("Gather2"));
}

#[test]
fn futures_are_send_when_children_are() {
    fn assert_send<T: Send>(_: &T) {}
    let g = gather((0..3).map(|i| async move { i }));
    assert_send(&g);
    let s = as_completed((0..3).map(|i| async move { i }));
    assert_send(&s);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn any_completion_order_keeps_input_order(order in Just((0..40_usize).collect::<Vec<_>>()).prop_shuffle()) {
        matrix(move || {
            let order = order.clone();
            async move {
                let n = order.len();
                let (children, driver) = staged((0..n).collect(), order.clone());
                let (out, ()) = (gather(children), driver).gather().await;
                assert_eq!(out, (0..n).collect::<Vec<_>>());
            }
        });
    }

    #[test]
    fn the_first_error_to_complete_is_returned(
        order in Just((0..30_usize).collect::<Vec<_>>()).prop_shuffle(),
        errors in proptest::collection::btree_set(0..30_usize, 1..5),
        limit in proptest::option::of(1..40_usize), // often below n = 30
    ) {
        matrix(move || {
            let (order, errors) = (order.clone(), errors.clone());
            async move {
                let n = order.len();
                let values = (0..n).map(|i| if errors.contains(&i) { Err(i) } else { Ok(i) }).collect();
                let (children, driver) = staged(values, order.clone());
                // Each child logs when it completes, and counts itself live
                // from its first poll until it is dropped.
                let completed = Arc::new(std::sync::Mutex::new(Vec::new()));
                let (live, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
                let children = children.into_iter().enumerate().map(|(i, child)| {
                    let (completed, live, peak) = (completed.clone(), live.clone(), peak.clone());
                    Box::pin(async move {
                        let _live = Live::new(&live, &peak);
                        let out = child.await;
                        completed.lock().unwrap().push(i);
                        out
                    }) as BoxFut<Result<usize, usize>>
                }).collect::<Vec<_>>();
                let g = match limit {
                    Some(limit) => try_gather(children).limit(limit),
                    None => try_gather(children),
                };
                let (out, ()) = (g, driver).gather().await;
                // With a limit below n, children start late, so the driver's
                // order is not the completion order: the log is.
                let first_error = *completed.lock().unwrap().iter().find(|i| errors.contains(i)).unwrap();
                assert_eq!(out, Err(first_error));
                if limit.is_none_or(|limit| limit >= n) {
                    assert_eq!(first_error, *order.iter().find(|i| errors.contains(i)).unwrap());
                }
                assert!(peak.load(Ordering::SeqCst) <= limit.unwrap_or(n));
            }
        });
    }

    #[test]
    fn settled_reports_every_outcome_in_input_order(
        kinds in proptest::collection::vec(0..3_u8, 0..40),
        limit in 1..50_usize,
    ) {
        matrix(move || {
            let kinds = kinds.clone();
            async move {
                let children = kinds.clone().into_iter().enumerate().map(|(i, kind)| async move {
                    if i % 2 == 0 {
                        yield_now().await;
                    }
                    match kind {
                        0 => Ok(i),
                        1 => Err(i),
                        _ => panic!("{i}"),
                    }
                });
                let outcomes = gather_settled(children).limit(limit).await;
                assert_eq!(outcomes.len(), kinds.len());
                for (i, (outcome, kind)) in outcomes.iter().zip(&kinds).enumerate() {
                    match kind {
                        0 => assert_eq!(outcome.ok(), Some(&i)),
                        1 => assert_eq!(outcome.err(), Some(&i)),
                        _ => assert_eq!(outcome.panic().and_then(|p| p.message()), Some(&*i.to_string())),
                    }
                }
            }
        });
    }
}

/// try_gather(..).limit(n).drain_on_error(): after the first `Err`, the
/// children running finish, no new one starts (not even into the slot the
/// failed child freed), and the first `Err` is returned.
#[test]
fn try_gather_drain_on_error_lets_the_running_finish_and_starts_nothing() {
    matrix(|| async {
        for limit in [2, 3] {
            let started = Arc::new(AtomicUsize::new(0));
            let finished = Arc::new(AtomicUsize::new(0));
            let children: Vec<BoxFut<Result<usize, String>>> = (0..8_usize)
                .map(|i| {
                    let (started, finished) = (started.clone(), finished.clone());
                    Box::pin(async move {
                        started.fetch_add(1, Ordering::SeqCst);
                        if i == 0 {
                            yield_now().await;
                            return Err("0 failed".to_string());
                        }
                        for _ in 0..3 {
                            yield_now().await;
                        }
                        finished.fetch_add(1, Ordering::SeqCst);
                        Ok(i)
                    }) as BoxFut<_>
                })
                .collect();
            let out = try_gather(children).limit(limit).drain_on_error().await;
            assert_eq!(out, Err("0 failed".to_string()));
            assert_eq!(
                started.load(Ordering::SeqCst),
                limit,
                "limit {limit}: no new start"
            );
            assert_eq!(
                finished.load(Ordering::SeqCst),
                limit - 1,
                "the running ones finished"
            );
        }
    });
}

#[test]
fn tuple_and_array_forms_are_fused_and_debug_without_debug_children() {
    use aiokit::RaceExt;
    use futures::future::FusedFuture;

    /// Polls to completion, checking `is_terminated` before and after.
    fn fused<F: FusedFuture>(fut: F) -> F::Output {
        let mut fut = Box::pin(fut);
        assert!(!fut.is_terminated());
        let output = futures::executor::block_on(fut.as_mut());
        assert!(fut.is_terminated());
        output
    }
    // Async blocks are not `Debug`: the impls need no bound on the children.
    let child = |result: Result<u8, u8>| async move { result };
    let ok = || child(Ok(1));
    let err = || child(Err(2));
    assert_eq!(fused((ok(), ok()).gather()), (Ok(1), Ok(1)));
    assert_eq!(fused((ok(), err()).try_gather()), Err(2));
    assert_eq!(fused((ok(), ok()).try_gather()), Ok((1, 1)));
    let (a, b) = fused((ok(), err()).gather_settled());
    assert_eq!((a.into_ok(), b.into_err()), (Some(1), Some(2)));
    assert_eq!(fused([ok(), ok()].gather()), [Ok(1), Ok(1)]);
    assert_eq!(fused([ok(), err()].try_gather()), Err(2));
    assert_eq!(fused([ok(), err()].gather_settled()).len(), 2);
    assert_eq!(fused((ok(), ok()).first_completed()), Ok(1));
    assert_eq!(fused((err(), ok()).first_ok()), Ok(1));
    assert_eq!(
        fused([err(), err()].first_ok()).unwrap_err().errors(),
        [2, 2]
    );
    assert_eq!(fused([ok(), ok()].first_completed()), Ok(1));
    for debug in [
        format!("{:?}", [ok()].gather()),
        format!("{:?}", [ok()].try_gather()),
        format!("{:?}", [ok()].gather_settled()),
        format!("{:?}", [ok()].first_completed()),
        format!("{:?}", [ok()].first_ok()),
        format!("{:?}", (ok(),).gather()),
    ] {
        assert!(!debug.is_empty());
    }
}

/// Each child is polled once per wake: once by the first poll, never by a
/// poll that no wake caused, and once after each of its own wakes, whether it
/// is the only child or the last in the first poll's order.
#[test]
fn each_child_is_polled_once_per_wake() {
    for ready_first in [false, true] {
        let (gates, mut children) = Gates::new(1);
        if ready_first {
            children.insert(0, Box::pin(std::future::ready(7)));
        }
        let mut g = gather(children);
        let parent = CountingWaker::new();
        assert!(poll_once(&mut g, &parent).is_pending());
        assert_eq!(gates.polls(), [0], "ready first: {ready_first}");
        assert!(poll_once(&mut g, &parent).is_pending());
        assert_eq!(
            gates.polls(),
            [0],
            "no wake, no poll (ready first: {ready_first})"
        );
        gates.wake(0);
        assert!(poll_once(&mut g, &parent).is_pending());
        assert_eq!(gates.polls(), [0, 0], "ready first: {ready_first}");
        gates.open(0);
        let expected = if ready_first { vec![7, 0] } else { vec![0] };
        assert_eq!(poll_once(&mut g, &parent), Poll::Ready(expected));
        assert_eq!(gates.polls(), [0, 0, 0], "ready first: {ready_first}");
    }
}

/// `as_completed` yields in wake order: of three waiting children, the one
/// woken first comes first, for every pair, and each woken child is polled
/// once.
#[test]
fn as_completed_follows_wake_order() {
    for first in 0..3 {
        for second in (0..3).filter(|&j| j != first) {
            let (gates, children) = Gates::new(3);
            let mut s = as_completed(children);
            let parent = CountingWaker::new();
            assert!(poll_once(&mut s.next(), &parent).is_pending());
            assert_eq!(gates.polls(), [0, 1, 2]);
            gates.open(first);
            gates.open(second);
            let got = poll_once(&mut s.next(), &parent);
            assert_eq!(
                got,
                Poll::Ready(Some((first, first))),
                "{first} then {second}"
            );
            let got = poll_once(&mut s.next(), &parent);
            assert_eq!(
                got,
                Poll::Ready(Some((second, second))),
                "{first} then {second}"
            );
            assert_eq!(gates.polls(), [0, 1, 2, first, second]);
        }
    }
}
