//! TaskGroup and GroupHandle: pushes while running (from children and other
//! threads), the limit, both error policies, panics and drop; async scenarios
//! under every executor of the matrix, exact poll counts by hand.

mod common;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use aiokit::{GroupHandle, TaskGroup};
use common::*;
use futures::StreamExt;
use futures::channel::oneshot;

type Group<T> = TaskGroup<BoxFut<T>>;

/// Live children (polled at least once, not yet dropped) and the peak.
#[derive(Clone, Default)]
struct Live {
    now: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    started: Arc<AtomicUsize>,
}

impl Live {
    fn enter(&self) -> LiveGuard {
        self.started.fetch_add(1, Ordering::SeqCst);
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        LiveGuard(self.now.clone())
    }
    fn now(&self) -> usize {
        self.now.load(Ordering::SeqCst)
    }
    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
    fn started(&self) -> usize {
        self.started.load(Ordering::SeqCst)
    }
}

struct LiveGuard(Arc<AtomicUsize>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A child that returns `value` once its gate opens (or is dropped), counted
/// live, and bumps `dropped` when dropped, started or not.
fn gated<T: Send + 'static>(
    live: &Live,
    dropped: &DropCounter,
    value: T,
) -> (BoxFut<T>, oneshot::Sender<()>) {
    let (gate, wait) = oneshot::channel();
    let (live, guard) = (live.clone(), dropped.guard());
    let fut = boxed(async move {
        let _guard = guard;
        let _live = live.enter();
        let _ = wait.await;
        value
    });
    (fut, gate)
}

fn boxed<T>(fut: impl Future<Output = T> + Send + 'static) -> BoxFut<T> {
    Box::pin(fut)
}

/// Panics with `message`; typed, so the compiler sees no unreachable code.
fn explode<T>(message: &str) -> T {
    panic!("{message}")
}

fn poll_group<T>(group: &mut Group<T>, waker: &Arc<CountingWaker>) -> Poll<Option<(usize, T)>> {
    poll_once(&mut group.next(), waker)
}

#[test]
fn smoke() {
    matrix(|| async {
        let mut group: Group<u32> = TaskGroup::new();
        for n in 0..5 {
            assert_eq!(group.push(boxed(async move { n * 10u32 })), n as usize);
        }
        assert_eq!(group.len(), 5);
        let mut out: Vec<(usize, u32)> = group.collect().await;
        out.sort();
        assert_eq!(
            out,
            (0..5).map(|n| (n as usize, n * 10)).collect::<Vec<_>>()
        );

        let empty: Group<u32> = TaskGroup::new();
        assert!(empty.is_empty());
        assert_eq!(empty.count().await, 0, "an empty group ends at once");
    });
}

/// A crawl: each child pushes the pages it links to through a handle it
/// holds; every page is visited once, under the limit, and the group ends
/// when the last child (and so the last handle) is gone.
#[test]
fn children_push_more_children_through_a_handle() {
    fn visit(page: u32, group: GroupHandle<BoxFut<u32>>, live: Live) -> BoxFut<u32> {
        boxed(async move {
            let _live = live.enter();
            yield_now().await;
            for link in [2 * page + 1, 2 * page + 2] {
                if link < 40 {
                    group
                        .push(visit(link, group.clone(), live.clone()))
                        .unwrap();
                }
            }
            yield_now().await;
            page
        })
    }
    matrix(|| async {
        for limit in [None, Some(1), Some(3)] {
            let live = Live::default();
            let mut group: Group<u32> = TaskGroup::new();
            if let Some(limit) = limit {
                group = group.limit(limit);
            }
            let handle = group.handle();
            group.push(visit(0, handle, live.clone()));
            let mut pages = BTreeSet::new();
            let mut indices = BTreeSet::new();
            while let Some((index, page)) = group.next().await {
                assert!(pages.insert(page), "page {page} once");
                assert!(indices.insert(index), "index {index} once");
                assert!(live.now() <= limit.unwrap_or(usize::MAX));
            }
            assert_eq!(pages, (0..40).collect());
            assert_eq!(indices, (0..40).collect());
            if let Some(limit) = limit {
                assert!(live.peak() <= limit, "limit {limit}: peak {}", live.peak());
            }
            assert_eq!(live.now(), 0);
        }
    });
}

/// Under a limit, waiting futures start in push order as slots free up, in
/// the poll that frees them; pushes while running join the queue.
#[test]
fn the_limit_with_pushes_while_running() {
    let (live, dropped) = (Live::default(), DropCounter::new());
    let mut group: Group<usize> = TaskGroup::new().limit(2);
    let mut gates = Vec::new();
    for i in 0..4 {
        let (fut, gate) = gated(&live, &dropped, i);
        assert_eq!(group.push(fut), i);
        gates.push(Some(gate));
    }
    let parent = CountingWaker::new();
    assert!(poll_group(&mut group, &parent).is_pending());
    assert_eq!((live.started(), live.now(), group.len()), (2, 2, 4));
    // Pushed while running: waits behind 2 and 3.
    let (fut, gate) = gated(&live, &dropped, 4);
    assert_eq!(group.push(fut), 4);
    gates.push(Some(gate));
    assert!(poll_group(&mut group, &parent).is_pending());
    assert_eq!(live.started(), 2, "still at the limit");
    for i in [1, 0, 2, 3, 4] {
        gates[i].take().unwrap().send(()).unwrap();
        let mut polls = 0;
        let item = loop {
            polls += 1;
            match poll_group(&mut group, &parent) {
                Poll::Ready(item) => break item,
                Poll::Pending => assert!(polls < 3, "output {i} within two polls"),
            }
        };
        assert_eq!(item, Some((i, i)));
        assert!(live.now() <= 2);
        assert!(live.peak() <= 2);
    }
    assert_eq!(live.started(), 5);
    assert_eq!(poll_group(&mut group, &parent), Poll::Ready(None));
    assert_eq!(dropped.get(), 5);
}

/// fail_fast: the first `Err` is yielded and every other child, running or
/// waiting, is dropped in that same poll, while the group is still alive;
/// then the group ends and is closed.
#[test]
fn fail_fast_drops_the_rest_at_once() {
    matrix(|| async {
        let (live, dropped) = (Live::default(), DropCounter::new());
        let mut group: Group<Result<u8, String>> = TaskGroup::new().limit(3).fail_fast();
        let handle = group.handle();
        let (a, _gate_a) = gated(&live, &dropped, Ok(0));
        let (b, _gate_b) = gated(&live, &dropped, Ok(1));
        group.push(a);
        group.push(b);
        group.push(boxed(async {
            yield_now().await;
            Err("2 failed".to_string())
        }) as BoxFut<_>);
        // Waiting behind the limit, one pushed through the live handle.
        let (c, _gate_c) = gated(&live, &dropped, Ok(3));
        let (d, _gate_d) = gated(&live, &dropped, Ok(4));
        group.push(c);
        handle.push(d).unwrap();
        assert_eq!(group.next().await, Some((2, Err("2 failed".to_string()))));
        assert_eq!(dropped.get(), 4, "the rest dropped before the group is");
        assert_eq!(live.started(), 2, "the waiting ones never started");
        assert!(group.is_closed());
        assert!(handle.is_closed());
        assert!(handle.push(boxed(async { Ok(9) })).is_err());
        assert_eq!(group.next().await, None);
    });
}

/// drain_on_error: the first `Err` is yielded; nothing new starts (the
/// waiting ones are dropped unstarted), the running ones finish and their
/// outputs are yielded, then the group ends.
#[test]
fn drain_lets_the_running_finish_and_starts_nothing_new() {
    matrix(|| async {
        let (live, dropped) = (Live::default(), DropCounter::new());
        let mut group: Group<Result<u8, String>> = TaskGroup::new().limit(3).drain_on_error();
        let handle = group.handle();
        let (a, gate_a) = gated(&live, &dropped, Ok(0));
        let (b, gate_b) = gated(&live, &dropped, Ok(1));
        group.push(a);
        group.push(b);
        group.push(boxed(async {
            yield_now().await;
            Err("2 failed".to_string())
        }) as BoxFut<_>);
        let (c, _gate_c) = gated(&live, &dropped, Ok(3));
        let (d, _gate_d) = gated(&live, &dropped, Ok(4));
        group.push(c);
        handle.push(d).unwrap();
        assert_eq!(group.next().await, Some((2, Err("2 failed".to_string()))));
        assert!(group.is_closed());
        assert_eq!(dropped.get(), 2, "the waiting ones dropped unstarted");
        assert_eq!(
            (live.started(), live.now()),
            (2, 2),
            "the running ones go on"
        );
        assert!(handle.push(boxed(async { Ok(9) })).is_err());
        gate_b.send(()).unwrap();
        assert_eq!(group.next().await, Some((1, Ok(1))));
        gate_a.send(()).unwrap();
        assert_eq!(group.next().await, Some((0, Ok(0))));
        assert_eq!(group.next().await, None);
        assert_eq!(live.started(), 2);
        assert_eq!(dropped.get(), 4);
    });
}

/// By default a panic drops every other child before it resumes: counted
/// while the group is still alive (polled by hand).
#[test]
fn a_panic_drops_the_rest_before_it_resumes() {
    for policy in 0..2 {
        let (live, dropped) = (Live::default(), DropCounter::new());
        let mut group: Group<Result<u8, u8>> = TaskGroup::new().limit(3);
        if policy == 1 {
            group = group.fail_fast();
        }
        let handle = group.handle();
        let (a, _gate_a) = gated(&live, &dropped, Ok(0));
        let (b, _gate_b) = gated(&live, &dropped, Ok(1));
        group.push(a);
        group.push(b);
        let probe = dropped.clone();
        group.push(boxed(async move {
            yield_now().await;
            explode(&format!("child failed after {} drops", probe.get()))
        }) as BoxFut<_>);
        let (c, _gate_c) = gated(&live, &dropped, Ok(3));
        handle.push(c).unwrap();
        let payload = poll_until_panic(&mut Box::pin(group.next()));
        assert_panic_message(&*payload, "child failed after 0 drops");
        assert_eq!(dropped.get(), 3, "policy {policy}: dropped before resuming");
        assert_eq!(live.now(), 0);
        drop(group);
        assert!(handle.is_closed());
    }
}

/// With drain_on_error, a panic is held: nothing new starts, the running
/// children finish and are yielded, then the panic resumes.
#[test]
fn drain_resumes_a_panic_after_the_running_finish() {
    let (live, dropped) = (Live::default(), DropCounter::new());
    let mut group: Group<Result<u8, u8>> = TaskGroup::new().limit(2).drain_on_error();
    let (a, gate_a) = gated(&live, &dropped, Ok(0));
    group.push(a);
    group.push(boxed(async {
        yield_now().await;
        explode("drained panic")
    }) as BoxFut<_>);
    let (c, _gate_c) = gated(&live, &dropped, Ok(2));
    group.push(c);
    let parent = CountingWaker::new();
    assert!(poll_group(&mut group, &parent).is_pending());
    assert!(
        poll_group(&mut group, &parent).is_pending(),
        "the panic is held"
    );
    assert_eq!(dropped.get(), 1, "the waiting one dropped unstarted");
    assert_eq!(live.now(), 1, "the running one goes on");
    gate_a.send(()).unwrap();
    assert_eq!(
        poll_group(&mut group, &parent),
        Poll::Ready(Some((0, Ok(0))))
    );
    let payload = poll_until_panic(&mut Box::pin(group.next()));
    assert_panic_message(&*payload, "drained panic");
    assert_eq!(live.started(), 1);
}

/// Dropping the group drops the running children and the waiting ones,
/// including those pushed through a handle that is still alive; later pushes
/// through that handle hand the future back.
#[test]
fn dropping_the_group_drops_every_child() {
    matrix(|| async {
        let (live, dropped) = (Live::default(), DropCounter::new());
        let mut group: Group<u8> = TaskGroup::new().limit(2);
        let handle = group.handle();
        let mut gates = Vec::new();
        for i in 0..3 {
            let (fut, gate) = gated(&live, &dropped, i);
            group.push(fut);
            gates.push(gate);
        }
        for i in 3..5 {
            let (fut, gate) = gated(&live, &dropped, i);
            handle.push(fut).unwrap();
            gates.push(gate);
        }
        // Run until two are running.
        let parent = CountingWaker::new();
        assert!(poll_group(&mut group, &parent).is_pending());
        assert_eq!(live.now(), 2);
        drop(group);
        assert_eq!(
            dropped.get(),
            5,
            "running and waiting, handle pushes included"
        );
        assert_eq!(live.now(), 0);
        assert!(handle.is_closed());
        let back = DropCounter::new();
        let refused = handle
            .push(Box::pin(pending_guarded::<u8>(back.guard())) as BoxFut<u8>)
            .unwrap_err();
        assert!(
            refused
                .to_string()
                .starts_with("the task group is closed: it was dropped")
        );
        let debug = format!("{refused:?}");
        assert!(
            debug.starts_with("PushError { reason: \"the task group is closed"),
            "{debug}"
        );
        let fut = refused.into_inner();
        assert_eq!(back.get(), 0, "handed back, not dropped");
        drop(fut);
        assert_eq!(back.get(), 1);
    });
}

/// A handle pushes from another OS thread; the group waits for it, and ends
/// only once the handle is dropped.
#[test]
fn a_handle_pushes_from_another_thread() {
    matrix(|| async {
        let mut group: Group<u32> = TaskGroup::new().limit(2);
        let handle = group.handle();
        let pusher = std::thread::spawn(move || {
            for n in 0..20u32 {
                handle
                    .push(boxed(async move {
                        yield_now().await;
                        n
                    }))
                    .unwrap();
                if n % 5 == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
            }
        });
        let mut seen: Vec<u32> = Vec::new();
        while let Some((index, n)) = group.next().await {
            assert_eq!(index, n as usize);
            seen.push(n);
        }
        pusher.join().unwrap();
        seen.sort();
        assert_eq!(seen, (0..20).collect::<Vec<_>>());
    });
}

/// An idle group with a live handle is pending (its pushes may still come);
/// a push through the handle wakes it; dropping the last handle ends it.
#[test]
fn the_group_ends_only_when_no_handle_is_left() {
    let mut group: Group<u8> = TaskGroup::new();
    let handle = group.handle();
    let other = handle.clone();
    let parent = CountingWaker::new();
    assert!(poll_group(&mut group, &parent).is_pending());
    other.push(boxed(async { 7 })).unwrap();
    assert!(parent.count() > 0, "a push wakes the group");
    assert_eq!(poll_group(&mut group, &parent), Poll::Ready(Some((0, 7))));
    assert!(poll_group(&mut group, &parent).is_pending());
    drop(other);
    assert!(
        poll_group(&mut group, &parent).is_pending(),
        "one handle left"
    );
    let woken = parent.count();
    drop(handle);
    assert!(
        parent.count() > woken,
        "dropping the last handle wakes the group"
    );
    assert_eq!(poll_group(&mut group, &parent), Poll::Ready(None));
    // Pushing more after `None` runs them.
    group.push(boxed(async { 8 }));
    assert_eq!(poll_group(&mut group, &parent), Poll::Ready(Some((1, 8))));
    assert_eq!(poll_group(&mut group, &parent), Poll::Ready(None));
}

#[test]
fn closed_group_refuses_pushes() {
    let mut group: Group<Result<u8, u8>> = TaskGroup::new().fail_fast();
    group.push(boxed(async { Err(1) }));
    let parent = CountingWaker::new();
    assert_eq!(
        poll_group(&mut group, &parent),
        Poll::Ready(Some((0, Err(1))))
    );
    assert!(group.is_closed());
    assert!(group.handle().push(boxed(async { Ok(2) })).is_err());
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        group.push(boxed(async { Ok(3) }));
    }))
    .unwrap_err();
    assert_panic_message(&*payload, "aiokit::TaskGroup::push");
}

#[test]
fn limit_zero_panics_naming_the_method() {
    let payload = std::panic::catch_unwind(|| drop(Group::<u8>::new().limit(0))).unwrap_err();
    assert_panic_message(&*payload, "aiokit::TaskGroup::limit");
}

#[test]
fn debug_and_send() {
    let mut group: Group<u8> = TaskGroup::new();
    group.push(boxed(async { 1 }));
    let handle = group.handle();
    assert!(format!("{group:?}").starts_with("TaskGroup"));
    assert!(format!("{handle:?}").starts_with("GroupHandle"));
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&group);
    assert_send(&handle);
}

/// One poll runs every child that is ready and keeps the outputs it could not
/// yield yet: `len` counts them, and they come out in completion order before
/// anything else runs.
#[test]
fn outputs_completed_in_one_poll_are_counted_until_yielded() {
    let waker = CountingWaker::new();
    let mut group: Group<u32> = TaskGroup::new();
    for n in 0..3 {
        group.push(boxed(async move { n }));
    }
    assert_eq!(poll_group(&mut group, &waker), Poll::Ready(Some((0, 0))));
    assert_eq!(group.len(), 2, "two outputs wait to be yielded");
    assert!(!group.is_empty());
    assert_eq!(poll_group(&mut group, &waker), Poll::Ready(Some((1, 1))));
    assert_eq!(poll_group(&mut group, &waker), Poll::Ready(Some((2, 2))));
    assert!(group.is_empty());
    assert_eq!(poll_group(&mut group, &waker), Poll::Ready(None));
}

/// fail_fast with outputs that completed in the same poll as the `Err` but
/// before it: they are yielded first, then the `Err`, and only then is the
/// rest dropped and the group closed.
#[test]
fn fail_fast_yields_what_completed_before_the_error_first() {
    let waker = CountingWaker::new();
    let (live, dropped) = (Live::default(), DropCounter::new());
    let mut group: Group<Result<u8, &str>> = TaskGroup::new().fail_fast();
    group.push(boxed(async { Ok(0) }));
    group.push(boxed(async { Ok(1) }));
    group.push(boxed(async { Err("2 failed") }));
    let (pending, _gate) = gated(&live, &dropped, Ok(3));
    group.push(pending);
    assert_eq!(
        poll_group(&mut group, &waker),
        Poll::Ready(Some((0, Ok(0))))
    );
    assert!(!group.is_closed(), "the error is not yielded yet");
    assert_eq!(
        poll_group(&mut group, &waker),
        Poll::Ready(Some((1, Ok(1))))
    );
    assert_eq!(dropped.get(), 0);
    assert_eq!(
        poll_group(&mut group, &waker),
        Poll::Ready(Some((2, Err("2 failed"))))
    );
    assert_eq!(dropped.get(), 1, "the rest dropped as the error is yielded");
    assert!(group.is_closed());
    assert_eq!(poll_group(&mut group, &waker), Poll::Ready(None));
}

/// A panic, like an `Err` under fail_fast, comes after the outputs that
/// completed before it in the same run of the children: they are yielded
/// first, with the rest still alive; the poll after them drops the rest,
/// then resumes the panic; the group is closed from then on. Under both the
/// default policy and fail_fast; counted while the group is alive.
#[test]
fn a_panic_yields_what_completed_before_it_first() {
    for policy in 0..2 {
        let waker = CountingWaker::new();
        let (live, dropped) = (Live::default(), DropCounter::new());
        let mut group: Group<Result<u8, &str>> = TaskGroup::new();
        if policy == 1 {
            group = group.fail_fast();
        }
        group.push(boxed(async { Ok(0) }));
        group.push(boxed(async { Ok(1) }));
        group.push(boxed(async { explode("2 panicked") }));
        let (pending, _gate) = gated(&live, &dropped, Ok(3));
        group.push(pending);
        for n in 0..2 {
            assert_eq!(
                poll_group(&mut group, &waker),
                Poll::Ready(Some((n, Ok(n as u8)))),
                "policy {policy}"
            );
            assert_eq!(dropped.get(), 0, "policy {policy}: the rest is alive");
            assert!(!group.is_closed());
        }
        let payload = poll_until_panic(&mut Box::pin(group.next()));
        assert_panic_message(&*payload, "2 panicked");
        assert_eq!(dropped.get(), 1, "policy {policy}: dropped before resuming");
        assert_eq!(live.now(), 0);
        assert!(group.is_closed(), "policy {policy}");
        assert_eq!(poll_group(&mut group, &waker), Poll::Ready(None));
    }
}

/// A group dropped after the outputs that came before a panic, and before
/// the poll that would resume it, drops the panic with its children.
#[test]
fn a_group_dropped_before_its_panic_resumes_drops_the_panic() {
    let waker = CountingWaker::new();
    let (live, dropped) = (Live::default(), DropCounter::new());
    let mut group: Group<u8> = TaskGroup::new();
    group.push(boxed(async { 0 }));
    group.push(boxed(async { explode("dropped with the group") }));
    let (pending, _gate) = gated(&live, &dropped, 2);
    group.push(pending);
    assert_eq!(poll_group(&mut group, &waker), Poll::Ready(Some((0, 0))));
    assert_eq!(dropped.get(), 0);
    // No panic escapes the drop.
    drop(group);
    assert_eq!(dropped.get(), 1);
    assert_eq!(live.now(), 0);
}

/// A push between polls into a group with no free slot starts a new chunk
/// of slots while no waker is at hand; the next poll gives that chunk the
/// task's waker, so the new child's wake reaches the task.
#[test]
fn a_child_pushed_between_polls_into_a_new_chunk_wakes_the_task() {
    let waker = CountingWaker::new();
    let (live, dropped) = (Live::default(), DropCounter::new());
    let mut group: Group<u32> = TaskGroup::new();
    let (first, _first_gate) = gated(&live, &dropped, 0);
    group.push(first);
    assert_eq!(poll_group(&mut group, &waker), Poll::Pending);
    let mut gates = Vec::new();
    for n in 1..=4 {
        let (child, gate) = gated(&live, &dropped, n);
        group.push(child);
        gates.push(gate);
    }
    assert_eq!(live.started(), 1, "pushed children wait for the next poll");
    assert_eq!(poll_group(&mut group, &waker), Poll::Pending);
    assert_eq!(live.started(), 5);
    let before = waker.count();
    gates.remove(2).send(()).unwrap();
    assert_eq!(
        waker.count(),
        before + 1,
        "the new child's wake reached the task"
    );
    assert_eq!(poll_group(&mut group, &waker), Poll::Ready(Some((3, 3))));
}

/// A poll that finds nothing new returns `Pending` without running the
/// children again, but only if the waker the last poll stored is the one it
/// was given: a group polled by another task since must hand that task's
/// waker to its children, so their wakes reach it.
#[test]
fn a_poll_with_another_waker_moves_every_wake_to_it() {
    let (first, second) = (CountingWaker::new(), CountingWaker::new());
    let (live, dropped) = (Live::default(), DropCounter::new());
    let mut group: Group<u32> = TaskGroup::new();
    let (child, gate) = gated(&live, &dropped, 7);
    group.push(child);
    assert_eq!(poll_group(&mut group, &first), Poll::Pending);
    assert_eq!(poll_group(&mut group, &first), Poll::Pending);
    assert_eq!(poll_group(&mut group, &first), Poll::Pending);
    assert_eq!(poll_group(&mut group, &second), Poll::Pending);
    let before = first.count();
    gate.send(()).unwrap();
    assert_eq!(second.count(), 1, "the child woke the task polling now");
    assert_eq!(first.count(), before);
    assert_eq!(poll_group(&mut group, &second), Poll::Ready(Some((0, 7))));
}
