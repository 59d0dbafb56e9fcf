//! The exact fairness rule of `race`, `race_ok` and `RaceExt`: each race
//! takes the next ticket `t` from one process-wide counter when it is
//! created, and with `n` children polls child `t % n` first.
//!
//! This file holds a single test so that it is alone in its test binary: no
//! other race, from a test running in parallel, can take a ticket between two
//! races of the loop, and the counts below are exact.

mod common;

use std::future::{Future, ready};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

use aiokit::{RaceExt, race, race_ok};
use common::*;

/// How many times each child won, over `races` calls of `run`, which races
/// `n` always-ready children and returns the winner's index.
fn wins<F: FnMut() -> usize>(n: usize, races: usize, mut run: F) -> Vec<usize> {
    let mut wins = vec![0; n];
    for _ in 0..races {
        wins[run()] += 1;
    }
    wins
}

/// A child that is pending on its first poll (waking itself) and ready with
/// `value` from the second poll on, once `gate` is open.
fn ready_on_second_poll(value: usize, gate: Arc<AtomicBool>) -> impl Future<Output = usize> {
    std::future::poll_fn(move |cx| {
        if gate.load(Ordering::SeqCst) {
            Poll::Ready(value)
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
}

/// The output of a race whose winner is ready on the first poll.
fn now<F: Future<Output = usize> + Unpin>(mut race: F) -> usize {
    match poll_once(&mut race, &CountingWaker::new()) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("an always-ready race is pending"),
    }
}

#[test]
fn always_ready_children_take_turns_exactly() {
    matrix(|| async {
        let parent = CountingWaker::new();

        // Two children, 1000 races in a loop: 500 wins each.
        assert_eq!(
            wins(2, 1000, || now(race([ready(0), ready(1)]))),
            [500, 500]
        );
        // Three, through a `Vec`: one race in three each.
        assert_eq!(
            wins(3, 999, || now(race(vec![ready(0), ready(1), ready(2)]))),
            [333, 333, 333]
        );
        // A large set (above the engine's first-pass size): each child exactly 10 times.
        assert_eq!(
            wins(40, 400, || now(race((0..40).map(ready)))),
            vec![10; 40]
        );
        // race_ok, the tuple and the array forms follow the same rule.
        assert_eq!(
            wins(2, 100, || now(Box::pin(async {
                race_ok([ready(Ok::<_, ()>(0)), ready(Ok(1))])
                    .await
                    .unwrap()
            }))),
            [50, 50]
        );
        assert_eq!(
            wins(3, 300, || now(
                (ready(0), ready(1), ready(2)).first_completed()
            )),
            [100, 100, 100]
        );
        assert_eq!(
            wins(4, 400, || now([0, 1, 2, 3].map(ready).first_completed())),
            [100, 100, 100, 100]
        );
        assert_eq!(
            wins(2, 100, || now(Box::pin(async {
                (ready(Ok::<_, ()>(0)), ready(Ok(1)))
                    .first_ok()
                    .await
                    .unwrap()
            }))),
            [50, 50]
        );

        // Consecutive races take consecutive tickets: after a race won by
        // child `w` of 3, the next race of 3 starts at child `w + 1`.
        for _ in 0..10 {
            let w = now(race([ready(0), ready(1), ready(2)]));
            let next = now(race([ready(0), ready(1), ready(2)]));
            assert_eq!(next, (w + 1) % 3);
        }

        // A tuple keeps its starting element on every poll: children that
        // are all pending at the first poll and all ready at the second
        // still let element `t % n` win.
        for _ in 0..10 {
            let w = now((ready(0), ready(1), ready(2)).first_completed());
            let gate = Arc::new(AtomicBool::new(false));
            let mut t = Box::pin(
                (
                    ready_on_second_poll(0, gate.clone()),
                    ready_on_second_poll(1, gate.clone()),
                    ready_on_second_poll(2, gate.clone()),
                )
                    .first_completed(),
            );
            assert!(poll_once(&mut t, &parent).is_pending());
            gate.store(true, Ordering::SeqCst);
            assert_eq!(poll_once(&mut t, &parent), Poll::Ready((w + 1) % 3));
        }
    });
}
