//! race, race_ok and the tuple/array forms (RaceExt), each scenario under
//! every executor of the matrix. The exact fairness rule is proven in
//! tests/race_fairness.rs, alone in its binary so no other race can take a
//! ticket in between.

mod common;

use std::future::{pending, ready};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::task::{Poll, Waker};

use aiokit::{AllFailed, GatherExt, RaceExt, race, race_ok};
use common::*;
use futures::FutureExt as _;
use futures::channel::oneshot;
use futures::future::FusedFuture;
use proptest::prelude::*;

#[test]
fn smoke() {
    matrix(|| async {
        let winner = race((0..5).map(|i| async move {
            if i == 3 {
                yield_now().await;
                i
            } else {
                pending().await
            }
        }))
        .await;
        assert_eq!(winner, 3);
    });
}

/// A child that stays pending until its gate opens, counting its polls and
/// keeping its latest waker so a test can wake it without opening it.
#[derive(Clone, Default)]
struct Gate {
    open: Arc<AtomicBool>,
    waker: Arc<Mutex<Option<Waker>>>,
    polls: Arc<AtomicUsize>,
}

impl Gate {
    fn child<T: Send + 'static>(&self, value: T) -> BoxFut<T> {
        let gate = self.clone();
        let mut value = Some(value);
        Box::pin(std::future::poll_fn(move |cx| {
            gate.polls.fetch_add(1, Ordering::SeqCst);
            if gate.open.load(Ordering::SeqCst) {
                Poll::Ready(value.take().expect("polled after completion"))
            } else {
                *gate.waker.lock().unwrap() = Some(cx.waker().clone());
                Poll::Pending
            }
        }))
    }

    /// Wakes the child without letting it finish.
    fn wake(&self) {
        if let Some(waker) = self.waker.lock().unwrap().take() {
            waker.wake();
        }
    }

    fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
        self.wake();
    }

    fn polls(&self) -> usize {
        self.polls.load(Ordering::SeqCst)
    }
}

#[test]
fn the_first_to_complete_wins_and_the_losers_are_dropped() {
    matrix(|| async {
        for n in [2, 10, 100] {
            let dropped = DropCounter::new();
            let winner = n / 2;
            let children = (0..n).map(|i| {
                let guard = dropped.guard();
                async move {
                    let _guard = guard;
                    if i == winner {
                        yield_now().await;
                        i
                    } else {
                        pending().await
                    }
                }
            });
            assert_eq!(race(children).await, winner);
            assert_eq!(
                dropped.get(),
                n,
                "n = {n}: the winner and every loser dropped"
            );
        }
    });
}

#[test]
fn an_err_wins_like_an_ok() {
    matrix(|| async {
        let dropped = DropCounter::new();
        let children: Vec<BoxFut<Result<u8, &str>>> = vec![
            Box::pin(pending_guarded(dropped.guard())),
            Box::pin(async {
                yield_now().await;
                Err("first")
            }),
            Box::pin(async {
                for _ in 0..5 {
                    yield_now().await;
                }
                Ok(1)
            }),
        ];
        assert_eq!(race(children).await, Err("first"));
        assert_eq!(dropped.get(), 1);
    });
}

/// Children `0..n`, counting every pull; the size hint is exact, or (with
/// `exact` false) says nothing but an upper bound.
struct Counted {
    next: usize,
    n: usize,
    exact: bool,
    pulled: Arc<AtomicUsize>,
}

impl Counted {
    /// `n` children, and the counter of pulls.
    fn new(n: usize, exact: bool) -> (Self, Arc<AtomicUsize>) {
        let pulled = Arc::new(AtomicUsize::new(0));
        let counted = Counted {
            next: 0,
            n,
            exact,
            pulled: pulled.clone(),
        };
        (counted, pulled)
    }
}

impl Iterator for Counted {
    type Item = BoxFut<usize>;
    fn next(&mut self) -> Option<BoxFut<usize>> {
        self.pulled.fetch_add(1, Ordering::SeqCst);
        let i = self.next;
        (i < self.n).then(|| {
            self.next += 1;
            Box::pin(async move {
                yield_now().await;
                i
            }) as BoxFut<usize>
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.n - self.next;
        (if self.exact { left } else { 0 }, Some(left))
    }
}

/// At the call, race pulls nothing when the iterator's size hint says it is
/// not empty, and one input when the hint cannot tell; the rest are pulled
/// on the first poll. An input that turns out empty panics at the call.
#[test]
fn race_pulls_at_most_one_input_at_the_call_and_the_rest_on_the_first_poll() {
    matrix(|| async {
        for (exact, at_call) in [(true, 0), (false, 1)] {
            let (children, pulled) = Counted::new(50, exact);
            let mut r = race(children);
            assert_eq!(pulled.load(Ordering::SeqCst), at_call, "exact: {exact}");
            assert!(futures::poll!(&mut r).is_pending());
            // Every input, and the `None` that ends the iterator.
            assert_eq!(pulled.load(Ordering::SeqCst), 51, "exact: {exact}");
            assert!(r.await < 50);
        }
        for exact in [true, false] {
            let (empty, _) = Counted::new(0, exact);
            let payload = catch_unwind(AssertUnwindSafe(|| race(empty)))
                .map(drop)
                .unwrap_err();
            assert_panic_message(&*payload, "aiokit::race: no futures to race");
        }
    });
}

#[test]
fn dropping_the_race_drops_every_child() {
    matrix(|| async {
        for n in [3, 100] {
            let dropped = DropCounter::new();
            let mut r = race((0..n).map(|_| pending_guarded::<()>(dropped.guard())));
            assert!(futures::poll!(&mut r).is_pending());
            drop(r);
            assert_eq!(dropped.get(), n);

            let mut r = race_ok((0..n).map(|_| pending_guarded::<Result<(), ()>>(dropped.guard())));
            assert!(futures::poll!(&mut r).is_pending());
            drop(r);
            assert_eq!(dropped.get(), 2 * n);
        }
        let dropped = DropCounter::new();
        let mut t = Box::pin(
            (
                pending_guarded::<u8>(dropped.guard()),
                pending_guarded::<u8>(dropped.guard()),
            )
                .first_completed(),
        );
        assert!(futures::poll!(&mut t).is_pending());
        drop(t);
        assert_eq!(dropped.get(), 2);
    });
}

/// Pushes its index to a shared log when dropped.
struct DropLog(usize, Arc<Mutex<Vec<usize>>>);

impl Drop for DropLog {
    fn drop(&mut self) {
        self.1.lock().unwrap().push(self.0);
    }
}

/// `n` children logging their drops; child `winner`, if any, finishes after
/// a yield (with `Ok` for race_ok), the others never.
fn logged<T: Send + 'static>(
    n: usize,
    winner: Option<usize>,
    log: &Arc<Mutex<Vec<usize>>>,
    value: fn(usize) -> T,
) -> Vec<BoxFut<T>> {
    (0..n)
        .map(|i| {
            let entry = DropLog(i, log.clone());
            Box::pin(async move {
                let _entry = entry;
                if Some(i) != winner {
                    pending::<()>().await;
                }
                yield_now().await;
                value(i)
            }) as BoxFut<T>
        })
        .collect()
}

#[test]
fn children_are_dropped_in_input_order() {
    matrix(|| async {
        for n in [5, 100] {
            let everyone: Vec<usize> = (0..n).collect();
            let log = Arc::new(Mutex::new(Vec::new()));
            let mut r = race(logged(n, None, &log, |i| i));
            assert!(futures::poll!(&mut r).is_pending());
            drop(r);
            assert_eq!(std::mem::take(&mut *log.lock().unwrap()), everyone);

            let mut r = race_ok(logged(n, None, &log, Ok::<_, ()>));
            assert!(futures::poll!(&mut r).is_pending());
            drop(r);
            assert_eq!(std::mem::take(&mut *log.lock().unwrap()), everyone);

            // On a win: the winner first (as it completes), then the others
            // in input order.
            let winner = n / 2;
            let mut expected = vec![winner];
            expected.extend((0..n).filter(|&i| i != winner));
            assert_eq!(race(logged(n, Some(winner), &log, |i| i)).await, winner);
            assert_eq!(std::mem::take(&mut *log.lock().unwrap()), expected);
            let won = race_ok(logged(n, Some(winner), &log, Ok::<_, ()>)).await;
            assert_eq!(won, Ok(winner));
            assert_eq!(std::mem::take(&mut *log.lock().unwrap()), expected);
        }
    });
}

#[test]
fn race_ok_drops_a_failed_child_at_once_and_goes_on() {
    matrix(|| async {
        for n in [2, 100] {
            let dropped = DropCounter::new();
            let guard = dropped.guard();
            let probe = dropped.clone();
            let mut children: Vec<BoxFut<Result<usize, &str>>> = vec![Box::pin(async move {
                let _guard = guard;
                Err("down")
            })];
            for _ in 2..n {
                children.push(Box::pin(pending_guarded(dropped.guard())));
            }
            children.push(Box::pin(async move {
                for _ in 0..3 {
                    yield_now().await;
                }
                // How many children were gone when this one answered.
                Ok(probe.get())
            }));
            assert_eq!(
                race_ok(children).await,
                Ok(1),
                "the failed child was already dropped"
            );
            assert_eq!(dropped.get(), n - 1);
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

#[test]
fn a_panic_drops_the_siblings_then_propagates() {
    // Each combinator is awaited through `&mut`, so it is still alive when
    // the drops are counted.
    matrix(|| async {
        for n in [3, 100] {
            let dropped = DropCounter::new();
            let mut r = race(pending_then_panic::<u8>(n, &dropped));
            let outcome = AssertUnwindSafe(&mut r).catch_unwind().await;
            assert_panic_message(&*outcome.unwrap_err(), "child failed after 0 drops");
            assert_eq!(dropped.get(), n, "every sibling dropped before resuming");
            drop(r);

            let dropped = DropCounter::new();
            let mut r = race_ok(pending_then_panic::<Result<u8, ()>>(n, &dropped));
            let outcome = AssertUnwindSafe(&mut r).catch_unwind().await;
            assert_panic_message(&*outcome.unwrap_err(), "child failed after 0 drops");
            assert_eq!(dropped.get(), n);
            drop(r);
        }

        let dropped = DropCounter::new();
        let mut children = pending_then_panic::<u8>(2, &dropped);
        let (c, b, a) = (
            children.pop().unwrap(),
            children.pop().unwrap(),
            children.pop().unwrap(),
        );
        let mut r = Box::pin((a, b, c).first_completed());
        let outcome = AssertUnwindSafe(&mut r).catch_unwind().await;
        assert_panic_message(&*outcome.unwrap_err(), "child failed after 0 drops");
        assert_eq!(dropped.get(), 2);
        drop(r);

        let dropped = DropCounter::new();
        let mut children = pending_then_panic::<Result<u8, ()>>(1, &dropped);
        let (b, a) = (children.pop().unwrap(), children.pop().unwrap());
        let mut r = Box::pin((a, b).first_ok());
        let outcome = AssertUnwindSafe(&mut r).catch_unwind().await;
        assert_panic_message(&*outcome.unwrap_err(), "child failed after 0 drops");
        assert_eq!(dropped.get(), 1);
        drop(r);
    });
}

/// Polled by hand, so the drops are counted while the race is still alive:
/// the siblings must be gone before the panic leaves the poll, not merely
/// when the race is dropped afterwards.
#[test]
fn a_panic_drops_the_siblings_before_it_resumes() {
    for n in [3, 100] {
        let dropped = DropCounter::new();
        let mut r = Box::pin(race(pending_then_panic::<u8>(n, &dropped)));
        assert_panic_message(&*poll_until_panic(&mut r), "child failed after 0 drops");
        assert_eq!(dropped.get(), n, "race: siblings dropped before resuming");
        drop(r);

        let dropped = DropCounter::new();
        let mut r = Box::pin(race_ok(pending_then_panic::<Result<u8, ()>>(n, &dropped)));
        assert_panic_message(&*poll_until_panic(&mut r), "child failed after 0 drops");
        assert_eq!(
            dropped.get(),
            n,
            "race_ok: siblings dropped before resuming"
        );
        drop(r);
    }
    let dropped = DropCounter::new();
    let mut children = pending_then_panic::<u8>(2, &dropped);
    let (c, b, a) = (
        children.pop().unwrap(),
        children.pop().unwrap(),
        children.pop().unwrap(),
    );
    let mut r = Box::pin((a, b, c).first_completed());
    poll_until_panic(&mut r);
    assert_eq!(
        dropped.get(),
        2,
        "first_completed: siblings dropped before resuming"
    );
    drop(r);

    let dropped = DropCounter::new();
    let mut children = pending_then_panic::<Result<u8, ()>>(1, &dropped);
    let (b, a) = (children.pop().unwrap(), children.pop().unwrap());
    let mut r = Box::pin((a, b).first_ok());
    poll_until_panic(&mut r);
    assert_eq!(
        dropped.get(),
        1,
        "first_ok: siblings dropped before resuming"
    );
}

#[test]
fn race_ok_returns_the_first_ok_and_drops_the_rest() {
    matrix(|| async {
        for n in [3, 10, 100] {
            let dropped = DropCounter::new();
            let children = (0..n).map(|i| {
                let guard = dropped.guard();
                async move {
                    let _guard = guard;
                    match i % 3 {
                        // Fail at once.
                        0 => Err(i),
                        // Succeed after a few yields; the last one wins.
                        1 => {
                            for _ in 0..(n - i) {
                                yield_now().await;
                            }
                            Ok(i)
                        }
                        _ => pending().await,
                    }
                }
            });
            let last_ok = (0..n).filter(|i| i % 3 == 1).max().unwrap();
            assert_eq!(race_ok(children).await, Ok(last_ok));
            assert_eq!(dropped.get(), n);
        }
    });
}

#[test]
fn race_ok_on_empty_input_resolves_at_once_to_the_empty_error() {
    matrix(|| async {
        let parent = CountingWaker::new();
        let none: Vec<BoxFut<Result<u8, String>>> = Vec::new();
        let mut r = race_ok(none);
        let Poll::Ready(Err(failed)) = poll_once(&mut r, &parent) else {
            panic!("not resolved on the first poll")
        };
        assert!(failed.errors().is_empty());
        assert_eq!(failed.errors().len(), 0);
        assert_eq!(failed.to_string(), "no futures to race, so none succeeded");
        assert!(r.is_terminated());

        let mut a = <[BoxFut<Result<u8, ()>>; 0]>::first_ok([]);
        assert!(matches!(poll_once(&mut a, &parent), Poll::Ready(Err(e)) if e.errors().is_empty()));
    });
}

/// Records where each empty-race panic was raised, then runs the previous
/// hook.
static LOCATIONS: Mutex<Vec<(String, u32)>> = Mutex::new(Vec::new());

fn record_empty_race_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .unwrap_or("");
            if message.contains("no futures to race") {
                if let Some(location) = info.location() {
                    LOCATIONS
                        .lock()
                        .unwrap()
                        .push((location.file().to_owned(), location.line()));
                }
            }
            previous(info);
        }));
    });
}

#[track_caller]
fn assert_raised_at(line: u32) {
    let locations = LOCATIONS.lock().unwrap();
    assert!(
        locations
            .iter()
            .any(|(file, l)| file.ends_with("race.rs") && *l == line),
        "no empty-race panic at tests/race.rs:{line}; seen: {locations:?}"
    );
}

#[test]
fn an_empty_race_panics_at_the_call_naming_race() {
    record_empty_race_panics();
    matrix(|| async {
        #[rustfmt::skip]
        let (line, payload) = (line!(), catch_unwind(|| race(Vec::<BoxFut<u8>>::new())).map(drop).unwrap_err());
        assert_panic_message(&*payload, "aiokit::race: no futures to race");
        assert_raised_at(line);

        #[rustfmt::skip]
        let (line, payload) = (line!(), catch_unwind(|| <[BoxFut<u8>; 0]>::first_completed([])).map(drop).unwrap_err());
        assert_panic_message(
            &*payload,
            "aiokit::RaceExt::first_completed: no futures to race",
        );
        assert_raised_at(line);
    });
}

#[test]
fn race_ok_keeps_every_error_in_input_order_when_completion_is_reversed() {
    matrix(|| async {
        for n in [1, 3, 40, 300] {
            let (children, driver) =
                staged((0..n).map(Err::<(), _>).collect(), (0..n).rev().collect());
            let (result, ()) = (race_ok(children), driver).gather().await;
            let failed = result.unwrap_err();
            assert_eq!(failed.errors(), (0..n).collect::<Vec<_>>());
        }
        let (mut children, driver) = staged((0..3).map(Err::<(), _>).collect(), vec![2, 0, 1]);
        let (c, b, a) = (
            children.pop().unwrap(),
            children.pop().unwrap(),
            children.pop().unwrap(),
        );
        let (result, ()) = ((a, b, c).first_ok(), driver).gather().await;
        assert_eq!(result.unwrap_err().into_errors(), [0, 1, 2]);
    });
}

#[test]
fn a_wake_polls_only_the_woken_child() {
    matrix(|| async {
        for n in [10, 1000] {
            let gates: Vec<Gate> = (0..n).map(|_| Gate::default()).collect();
            let total = |gates: &[Gate]| gates.iter().map(Gate::polls).sum::<usize>();
            let parent = CountingWaker::new();
            let mut r = race(gates.iter().enumerate().map(|(i, g)| g.child(i)));
            assert!(poll_once(&mut r, &parent).is_pending());
            // The child left pending on the parent's waker by the first pass
            // gets its one catch-up poll at the next parent poll.
            assert!(poll_once(&mut r, &parent).is_pending());
            for i in [n / 2, 0, n - 1] {
                let before = total(&gates);
                gates[i].wake();
                assert!(parent.count() > 0, "the parent was woken");
                assert!(poll_once(&mut r, &parent).is_pending());
                assert_eq!(
                    total(&gates) - before,
                    1,
                    "n = {n}: one wake, one child poll"
                );
            }
            let before = total(&gates);
            gates[3].open();
            assert_eq!(poll_once(&mut r, &parent), Poll::Ready(3));
            assert_eq!(total(&gates) - before, 1);

            // The same for an array, and for race_ok.
            let gates: [Gate; 40] = std::array::from_fn(|_| Gate::default());
            let mut r = std::array::from_fn::<_, 40, _>(|i| gates[i].child(i)).first_completed();
            assert!(poll_once(&mut r, &parent).is_pending());
            // The child left pending on the parent's waker by the first pass
            // gets its one catch-up poll at the next parent poll.
            assert!(poll_once(&mut r, &parent).is_pending());
            let before = total(&gates);
            gates[17].wake();
            assert!(poll_once(&mut r, &parent).is_pending());
            assert_eq!(total(&gates) - before, 1, "array: one wake, one child poll");
            gates[17].open();
            assert_eq!(poll_once(&mut r, &parent), Poll::Ready(17));

            let gates: Vec<Gate> = (0..n).map(|_| Gate::default()).collect();
            let mut r = race_ok(gates.iter().map(|g| g.child(Err::<(), _>(()))));
            assert!(poll_once(&mut r, &parent).is_pending());
            // The child left pending on the parent's waker by the first pass
            // gets its one catch-up poll at the next parent poll.
            assert!(poll_once(&mut r, &parent).is_pending());
            let before = total(&gates);
            gates[n / 3].open();
            assert!(poll_once(&mut r, &parent).is_pending());
            assert_eq!(
                total(&gates) - before,
                1,
                "n = {n}: one wake, one child poll"
            );
        }
    });
}

#[test]
fn after_the_first_poll_children_are_polled_in_wake_order() {
    matrix(|| async {
        for n in [10, 100] {
            let gates: Vec<Gate> = (0..n).map(|_| Gate::default()).collect();
            let parent = CountingWaker::new();
            let mut r = race(gates.iter().enumerate().map(|(i, g)| g.child(i)));
            assert!(poll_once(&mut r, &parent).is_pending());
            // The catch-up poll of the child the first pass left on the
            // parent's waker; from here on every child has its own waker.
            assert!(poll_once(&mut r, &parent).is_pending());
            // Both become ready; 7 is woken first, so 7 wins.
            gates[2].open.store(true, Ordering::SeqCst);
            gates[7].open();
            gates[2].wake();
            assert_eq!(poll_once(&mut r, &parent), Poll::Ready(7));
        }
    });
}

#[test]
fn a_winner_woken_from_another_thread() {
    matrix(|| async {
        for n in [2, 50] {
            let (senders, receivers): (Vec<_>, Vec<_>) =
                (0..n).map(|_| oneshot::channel::<usize>()).unzip();
            let thread = std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(1));
                let mut senders = senders;
                let last = senders.pop().unwrap();
                last.send(n - 1).unwrap();
                // Keep the others alive until the race is over.
                senders
            });
            let winner = race(receivers.into_iter().map(|rx| rx.map(Result::unwrap))).await;
            assert_eq!(winner, n - 1);
            drop(thread.join().unwrap());
        }
    });
}

#[test]
fn tuples_and_arrays() {
    matrix(|| async {
        // Different future types, one output type.
        let never = pending::<&str>();
        let soon = async {
            yield_now().await;
            "soon"
        };
        assert_eq!((never, soon, ready("now")).first_completed().await, "now");

        let dropped = DropCounter::new();
        let twelve = (
            pending_guarded::<u8>(dropped.guard()),
            pending_guarded(dropped.guard()),
            pending_guarded(dropped.guard()),
            pending_guarded(dropped.guard()),
            pending_guarded(dropped.guard()),
            pending_guarded(dropped.guard()),
            pending_guarded(dropped.guard()),
            pending_guarded(dropped.guard()),
            pending_guarded(dropped.guard()),
            pending_guarded(dropped.guard()),
            pending_guarded(dropped.guard()),
            async {
                yield_now().await;
                12
            },
        )
            .first_completed()
            .await;
        assert_eq!(twelve, 12);
        assert_eq!(dropped.get(), 11, "the losers are dropped");

        let dropped = DropCounter::new();
        let found = (
            async { Err::<u8, _>("a") },
            pending_guarded(dropped.guard()),
            async {
                yield_now().await;
                Ok(3)
            },
        )
            .first_ok()
            .await;
        assert_eq!(found, Ok(3));
        assert_eq!(dropped.get(), 1);

        let failed = (async { Err::<(), _>('x') }, async {
            yield_now().await;
            Err('y')
        })
            .first_ok()
            .await;
        assert_eq!(failed.unwrap_err().errors(), ['x', 'y']);

        let dropped = DropCounter::new();
        let first = [0, 1, 2]
            .map(|i| {
                let guard = dropped.guard();
                async move {
                    let _guard = guard;
                    if i == 1 { i } else { pending().await }
                }
            })
            .first_completed()
            .await;
        assert_eq!(first, 1);
        assert_eq!(dropped.get(), 3);

        let failed = [2, 1, 0]
            .map(|i| async move {
                for _ in 0..i {
                    yield_now().await;
                }
                Err::<(), _>(i)
            })
            .first_ok()
            .await;
        assert_eq!(failed.unwrap_err().into_errors(), [2, 1, 0]);
    });
}

#[test]
fn all_failed_is_a_std_error_with_every_error() {
    matrix(|| async {
        let failed: AllFailed<std::io::Error> = race_ok(
            ["first", "second"].map(|m| async move { Err::<(), _>(std::io::Error::other(m)) }),
        )
        .await
        .unwrap_err();
        assert_eq!(failed.to_string(), "all 2 futures failed");
        let source = std::error::Error::source(&failed).expect("a source");
        assert_eq!(source.to_string(), "first");
        let messages: Vec<String> = failed.errors().iter().map(ToString::to_string).collect();
        assert_eq!(messages, ["first", "second"]);
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(failed);
        assert_eq!(boxed.to_string(), "all 2 futures failed");

        let one = race_ok([async { Err::<(), _>(1) }]).await.unwrap_err();
        assert_eq!(one.to_string(), "the only future failed");
        assert_eq!(one.clone(), one);
        assert_eq!(one.errors(), [1]);
        assert_eq!(one.into_errors(), [1]);
    });
}

#[test]
fn polling_after_completion_panics() {
    matrix(|| async {
        let parent = CountingWaker::new();
        let mut r = race([ready(1)]);
        assert!(!r.is_terminated());
        assert_eq!(poll_once(&mut r, &parent), Poll::Ready(1));
        assert!(r.is_terminated());
        let payload = catch_unwind(AssertUnwindSafe(|| poll_once(&mut r, &parent))).unwrap_err();
        assert_panic_message(&*payload, "`Race` polled after completion");

        let mut r = race_ok([ready(Ok::<_, ()>(1))]);
        assert_eq!(poll_once(&mut r, &parent), Poll::Ready(Ok(1)));
        assert!(r.is_terminated());
        let payload = catch_unwind(AssertUnwindSafe(|| poll_once(&mut r, &parent))).unwrap_err();
        assert_panic_message(&*payload, "`RaceOk` polled after completion");

        let mut t = Box::pin((ready(1), ready(2)).first_completed());
        assert!(poll_once(&mut t, &parent).is_ready());
        let payload = catch_unwind(AssertUnwindSafe(|| poll_once(&mut t, &parent))).unwrap_err();
        assert_panic_message(&*payload, "polled after completion");

        let mut t = Box::pin((ready(Err::<(), _>(1)), ready(Err(2))).first_ok());
        assert!(poll_once(&mut t, &parent).is_ready());
        let payload = catch_unwind(AssertUnwindSafe(|| poll_once(&mut t, &parent))).unwrap_err();
        assert_panic_message(&*payload, "polled after completion");
    });
}

#[test]
fn debug_output_names_the_type() {
    matrix(|| async {
        let r = race([ready(1)]);
        assert!(format!("{r:?}").starts_with("Race {"));
        let r = race_ok([ready(Ok::<u8, ()>(1))]);
        assert!(format!("{r:?}").starts_with("RaceOk {"));
        let t = (ready(1), ready(2)).first_completed();
        assert!(format!("{t:?}").starts_with("FirstCompleted2"));
        let t = (ready(Ok::<u8, ()>(1)),).first_ok();
        assert!(format!("{t:?}").starts_with("FirstOk1"));
        let a = [ready(1)].first_completed();
        assert!(format!("{a:?}").starts_with("FirstCompletedArray"));
        let a = [ready(Ok::<u8, ()>(1))].first_ok();
        assert!(format!("{a:?}").starts_with("FirstOkArray"));
        // Children that are not `Debug` (async blocks) are fine.
        let r = race([async { 1 }]);
        assert!(format!("{r:?}").contains("done: false"));
        let a = [async { 1 }].first_completed();
        assert!(format!("{a:?}").starts_with("FirstCompletedArray"));
        let t = (async { 1 }, async { 2 }).first_completed();
        assert!(format!("{t:?}").starts_with("FirstCompleted2"));
    });
}

#[test]
fn futures_are_send_when_children_are() {
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&race((0..3).map(|i| async move { i })));
    assert_send(&race_ok((0..3).map(|i| async move { Ok::<_, ()>(i) })));
    assert_send(&(async { 1 }, async { 2 }).first_completed());
    assert_send(&[async { Ok::<_, ()>(1) }].first_ok());
}

/// Every prelude in scope at once (futures-concurrency's too, in
/// `benches/tests/preludes.rs`): the method names must not collide.
mod every_prelude_in_scope {
    use super::common::*;

    #[allow(unused_imports)]
    use aiokit::{GatherExt, RaceExt};
    #[allow(unused_imports)]
    use futures::prelude::*;
    #[allow(unused_imports)]
    use futures_lite::prelude::*;

    #[test]
    fn aiokit_methods_on_tuples_and_arrays() {
        matrix(|| async {
            let a = async { 1 };
            let b = async { 2 };
            assert!([1, 2].contains(&(a, b).first_completed().await));
            let found = (async { Err::<u8, ()>(()) }, async { Ok(2) })
                .first_ok()
                .await;
            assert_eq!(found, Ok(2));
            let first = [5, 5].map(|n| async move { n }).first_completed().await;
            assert_eq!(first, 5);
            let failed = [async { Err::<(), _>(1) }].first_ok().await;
            assert_eq!(failed.unwrap_err().errors(), [1]);
            assert_eq!((async { 1 }, async { 'b' }).gather().await, (1, 'b'));
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn race_ok_errors_are_in_input_order_for_any_completion_order(
        order in (1..40_usize).prop_flat_map(|n| Just((0..n).collect::<Vec<_>>()).prop_shuffle()),
        ok in proptest::option::of(0..40_usize),
    ) {
        matrix(move || {
            let order = order.clone();
            async move {
                let n = order.len();
                let ok = ok.filter(|&k| k < n);
                let values = (0..n).map(|i| if Some(i) == ok { Ok(i) } else { Err(i) }).collect();
                let (children, driver) = staged(values, order.clone());
                let (result, ()) = (race_ok(children), driver).gather().await;
                match ok {
                    Some(k) => assert_eq!(result, Ok(k)),
                    None => assert_eq!(result.unwrap_err().into_errors(), (0..n).collect::<Vec<_>>()),
                }
            }
        });
    }

    #[test]
    fn race_returns_the_first_to_complete_for_any_completion_order(
        order in (1..40_usize).prop_flat_map(|n| Just((0..n).collect::<Vec<_>>()).prop_shuffle()),
    ) {
        matrix(move || {
            let order = order.clone();
            async move {
                let n = order.len();
                let (children, driver) = staged((0..n).collect(), order.clone());
                let (winner, ()) = (race(children), driver).gather().await;
                assert_eq!(winner, order[0]);
            }
        });
    }
}

/// The first child woken wins: of three waiting children, child `first` and
/// then child `second` are woken (and ready) before the race is polled
/// again, for every pair and every rotation of the first poll; each child
/// is polled once by the first poll and the winner once more.
#[test]
fn the_first_child_woken_wins() {
    for first in 0..3 {
        for second in (0..3).filter(|&j| j != first) {
            let mut rotations = std::collections::HashSet::new();
            // Three races in a row on this thread take three tickets: each
            // rotation once.
            for _ in 0..3 {
                let (gates, children) = Gates::new(3);
                let mut r = race(children);
                let parent = CountingWaker::new();
                assert!(poll_once(&mut r, &parent).is_pending());
                let polls = gates.polls();
                assert_eq!(polls.len(), 3, "each child polled once: {polls:?}");
                rotations.insert(polls[0]);
                gates.open(first);
                gates.open(second);
                assert_eq!(
                    poll_once(&mut r, &parent),
                    Poll::Ready(first),
                    "{first} then {second}, first poll {polls:?}"
                );
                assert_eq!(gates.polls()[3..], [first], "the winner alone, once");
            }
            assert_eq!(rotations.len(), 3, "every rotation");
        }
    }
}
