//! The gather family over a `Stream` input (`GatherStreamExt`): every scenario
//! that runs async under each executor of the matrix; exact poll counts with
//! hand-driven polls.
// Test helpers return channel bundles and tables of named cases.
#![allow(clippy::type_complexity)]

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use aiokit::{GatherExt, GatherStreamExt, Settled};
use common::*;
use futures::channel::{mpsc, oneshot};
use futures::stream::{self, Stream, StreamExt};
use proptest::prelude::*;

/// Counts what happens to the children and the input of one stream.
#[derive(Default)]
struct Probe {
    /// Inputs taken from the input stream.
    pulled: AtomicUsize,
    /// Children polled at least once.
    started: AtomicUsize,
    /// Children started and not yet dropped, and the most ever at once.
    live: AtomicUsize,
    peak: AtomicUsize,
    /// Children dropped (started or not).
    dropped: AtomicUsize,
    /// Outputs made and not yet dropped, and the most ever at once.
    outputs: AtomicUsize,
    outputs_peak: AtomicUsize,
}

impl Probe {
    fn new() -> Arc<Self> {
        Arc::default()
    }

    fn get(counter: &AtomicUsize) -> usize {
        counter.load(Ordering::SeqCst)
    }

    fn pulled(&self) -> usize {
        Self::get(&self.pulled)
    }
    fn started(&self) -> usize {
        Self::get(&self.started)
    }
    fn live(&self) -> usize {
        Self::get(&self.live)
    }
    fn peak(&self) -> usize {
        Self::get(&self.peak)
    }
    fn dropped(&self) -> usize {
        Self::get(&self.dropped)
    }
    fn outputs(&self) -> usize {
        Self::get(&self.outputs)
    }
    fn outputs_peak(&self) -> usize {
        Self::get(&self.outputs_peak)
    }

    /// A token for one child, made with the child and dropped with it.
    fn token(self: &Arc<Self>) -> Token {
        Token {
            probe: self.clone(),
            started: false,
        }
    }

    /// An output that counts itself until dropped.
    fn output(self: &Arc<Self>, index: usize) -> Output {
        let now = self.outputs.fetch_add(1, Ordering::SeqCst) + 1;
        self.outputs_peak.fetch_max(now, Ordering::SeqCst);
        Output {
            index,
            probe: self.clone(),
        }
    }

    /// Counts the items `input` hands over.
    fn counted<S: Stream>(self: &Arc<Self>, input: S) -> impl Stream<Item = S::Item> + use<S> {
        let probe = self.clone();
        input.inspect(move |_| {
            probe.pulled.fetch_add(1, Ordering::SeqCst);
        })
    }
}

/// Lives inside one child: counts it live from its first poll, and dropped.
struct Token {
    probe: Arc<Probe>,
    started: bool,
}

impl Token {
    fn start(&mut self) {
        if !self.started {
            self.started = true;
            self.probe.started.fetch_add(1, Ordering::SeqCst);
            let now = self.probe.live.fetch_add(1, Ordering::SeqCst) + 1;
            self.probe.peak.fetch_max(now, Ordering::SeqCst);
        }
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        if self.started {
            self.probe.live.fetch_sub(1, Ordering::SeqCst);
        }
        self.probe.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// An output that counts itself in its probe until dropped.
struct Output {
    index: usize,
    probe: Arc<Probe>,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Output({})", self.index)
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        self.probe.outputs.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A child that completes with `index` after `steps` yields.
fn stepping(probe: &Arc<Probe>, index: usize, steps: usize) -> BoxFut<usize> {
    let mut token = probe.token();
    Box::pin(async move {
        token.start();
        for _ in 0..steps {
            yield_now().await;
        }
        index
    })
}

/// A child that completes with `index` once its gate is opened (or dropped).
fn gated(probe: &Arc<Probe>, index: usize, gate: oneshot::Receiver<()>) -> BoxFut<usize> {
    let mut token = probe.token();
    Box::pin(async move {
        token.start();
        let _ = gate.await;
        index
    })
}

/// `n` gated children, their gates, and the probe.
fn gates(
    n: usize,
) -> (
    Arc<Probe>,
    Vec<BoxFut<usize>>,
    Vec<Option<oneshot::Sender<()>>>,
) {
    let probe = Probe::new();
    let (senders, children) = (0..n)
        .map(|i| {
            let (tx, rx) = oneshot::channel();
            (Some(tx), gated(&probe, i, rx))
        })
        .unzip();
    (probe, children, senders)
}

/// Panics with `message`; typed, so the compiler sees no unreachable code.
fn explode<T>(message: &str) -> T {
    panic!("{message}")
}

/// Polls `stream` once for its next item.
fn poll_raw<S: Stream + Unpin>(
    stream: &mut S,
    waker: &Arc<CountingWaker>,
) -> Poll<Option<S::Item>> {
    poll_once(&mut stream.next(), waker)
}

/// Polls `stream` for its next item, where every child waits on a gate (so
/// none wakes itself). A poll may return `Pending` to let
/// other tasks run (the cooperative rule), waking the parent as it does: such
/// a poll is repeated (at most twice); a `Pending` that woke nobody is
/// returned.
fn poll_next<S: Stream + Unpin>(
    stream: &mut S,
    waker: &Arc<CountingWaker>,
) -> Poll<Option<S::Item>> {
    for _ in 0..3 {
        let before = waker.count();
        match poll_once(&mut stream.next(), waker) {
            Poll::Pending if waker.count() > before => continue,
            other => return other,
        }
    }
    panic!("yielded three times in a row")
}

#[test]
fn smoke() {
    matrix(|| async {
        let doubled: Vec<u32> = stream::iter(0..10u32)
            .map(|n| async move { n * 2 })
            .gather_stream()
            .limit(3)
            .collect()
            .await;
        assert_eq!(doubled, (0..10).map(|n| n * 2).collect::<Vec<_>>());

        let mut done: Vec<(usize, u32)> = stream::iter(0..10u32)
            .map(|n| async move {
                for _ in n..10 {
                    yield_now().await;
                }
                n
            })
            .as_completed_stream()
            .collect()
            .await;
        done.sort();
        assert_eq!(done, (0..10).map(|n| (n as usize, n)).collect::<Vec<_>>());

        let items: Vec<Result<u32, u32>> = stream::iter(0..10u32)
            .map(|n| async move { if n == 4 { Err(n) } else { Ok(n) } })
            .try_gather_stream()
            .collect()
            .await;
        assert_eq!(items, [Ok(0), Ok(1), Ok(2), Ok(3), Err(4)]);

        let outcomes: Vec<(usize, Settled<u32, u32>)> = stream::iter(0..4u32)
            .map(|n| async move { if n % 2 == 1 { Err(n) } else { Ok(n) } })
            .gather_settled_stream()
            .collect()
            .await;
        let indices: Vec<usize> = outcomes.iter().map(|(i, _)| *i).collect();
        assert_eq!(indices, [0, 1, 2, 3]);
        assert_eq!(outcomes[1].1.err(), Some(&1));
        assert_eq!(outcomes[2].1.ok(), Some(&2));
    });
}

#[test]
fn empty_input_ends_at_once() {
    matrix(|| async {
        let empty = || stream::iter(Vec::<BoxFut<Result<u8, u8>>>::new());
        assert_eq!(empty().gather_stream().count().await, 0);
        assert_eq!(empty().as_completed_stream().limit(2).count().await, 0);
        assert_eq!(empty().try_gather_stream().count().await, 0);
        assert_eq!(empty().gather_settled_stream().count().await, 0);
        let mut s = empty().gather_stream();
        assert!(s.next().await.is_none());
        assert!(s.next().await.is_none(), "stays ended");
    });
}

/// Live counters: no form ever runs more children than its limit, and with
/// enough input it runs exactly that many.
#[test]
fn the_limit_is_never_exceeded() {
    matrix(|| async {
        for limit in [1, 3, 16] {
            let n = 120;
            let inputs = |probe: &Arc<Probe>| {
                let probe = probe.clone();
                probe
                    .counted(stream::iter(0..n))
                    .map(move |i| stepping(&probe, i, 1 + i % 5))
            };
            let ok = |probe: &Arc<Probe>| {
                let probe = probe.clone();
                probe.counted(stream::iter(0..n)).map(move |i| {
                    let child = stepping(&probe, i, 1 + i % 5);
                    Box::pin(async move { Ok::<_, ()>(child.await) }) as BoxFut<_>
                })
            };

            let probe = Probe::new();
            let out: Vec<usize> = inputs(&probe).gather_stream().limit(limit).collect().await;
            assert_eq!(out, (0..n).collect::<Vec<_>>());
            assert_eq!(probe.peak(), limit, "gather_stream, limit {limit}");

            let probe = Probe::new();
            let out = inputs(&probe)
                .as_completed_stream()
                .limit(limit)
                .count()
                .await;
            assert_eq!(out, n);
            assert_eq!(probe.peak(), limit, "as_completed_stream, limit {limit}");

            let probe = Probe::new();
            let out = ok(&probe).try_gather_stream().limit(limit).count().await;
            assert_eq!(out, n);
            assert_eq!(probe.peak(), limit, "try_gather_stream, limit {limit}");

            for completion in [false, true] {
                let probe = Probe::new();
                let s = ok(&probe).gather_settled_stream().limit(limit);
                let s = if completion { s.completion_order() } else { s };
                assert_eq!(s.count().await, n);
                assert_eq!(probe.peak(), limit, "gather_settled_stream, limit {limit}");
            }
        }
    });
}

/// When a child completes, the same `poll_next` that returns its output has
/// already started the next input: one parent poll per completion.
#[test]
fn a_freed_slot_is_refilled_in_the_same_poll() {
    for in_order in [true, false] {
        let (probe, children, mut senders) = gates(8);
        let input = probe.counted(stream::iter(children));
        let mut s: Pin<Box<dyn Stream<Item = usize>>> = if in_order {
            Box::pin(input.gather_stream().limit(3))
        } else {
            Box::pin(input.as_completed_stream().limit(3).map(|(_, i)| i))
        };
        let parent = CountingWaker::new();
        assert!(poll_next(&mut s, &parent).is_pending());
        assert_eq!((probe.pulled(), probe.started()), (3, 3));
        for (i, sender) in senders.iter_mut().enumerate() {
            let woken = parent.count();
            sender.take().unwrap().send(()).unwrap();
            assert!(
                parent.count() > woken,
                "in order: {in_order}: completion {i} woke the parent"
            );
            // One parent poll returns the output and has already taken the
            // next input into the freed slot.
            assert_eq!(poll_next(&mut s, &parent), Poll::Ready(Some(i)));
            let expected = (i + 4).min(8);
            assert_eq!(
                probe.pulled(),
                expected,
                "in order: {in_order}, after output {i}"
            );
            assert!(probe.live() <= 3);
        }
        assert_eq!(poll_next(&mut s, &parent), Poll::Ready(None));
    }
}

/// The input is pulled only when there is a free slot, and never again after
/// it ended.
#[test]
fn the_input_is_pulled_lazily() {
    let (probe, children, mut senders) = gates(6);
    let ended = Arc::new(AtomicBool::new(false));
    let mut children = children.into_iter();
    let seen_end = ended.clone();
    let input = probe.counted(stream::poll_fn(move |_| {
        assert!(
            !seen_end.load(Ordering::SeqCst),
            "the input was polled after it ended"
        );
        let next = children.next();
        if next.is_none() {
            seen_end.store(true, Ordering::SeqCst);
        }
        Poll::Ready(next)
    }));
    let mut s = input.as_completed_stream().limit(2);
    let parent = CountingWaker::new();
    assert!(poll_next(&mut s, &parent).is_pending());
    assert_eq!(probe.pulled(), 2, "two slots, two inputs");
    // More polls without a completion pull nothing more.
    for _ in 0..3 {
        assert!(poll_next(&mut s, &parent).is_pending());
        assert_eq!(probe.pulled(), 2);
    }
    for i in [1, 0, 2, 3] {
        senders[i].take().unwrap().send(()).unwrap();
        assert_eq!(poll_next(&mut s, &parent), Poll::Ready(Some((i, i))));
    }
    assert_eq!(probe.pulled(), 6);
    assert!(
        !ended.load(Ordering::SeqCst),
        "not asked past the last slot"
    );
    for i in [5, 4] {
        senders[i].take().unwrap().send(()).unwrap();
        assert_eq!(poll_next(&mut s, &parent), Poll::Ready(Some((i, i))));
    }
    assert!(ended.load(Ordering::SeqCst));
    assert_eq!(poll_next(&mut s, &parent), Poll::Ready(None));
    assert_eq!(poll_next(&mut s, &parent), Poll::Ready(None));
}

/// An input stream that is pending (an open channel) does not hold back the
/// outputs of the children already running, in either order.
#[test]
fn a_pending_input_does_not_hold_back_outputs() {
    matrix(|| async {
        let (tx, rx) = mpsc::unbounded::<BoxFut<u32>>();
        let mut s = rx.gather_stream().limit(4);
        for n in 0..3 {
            tx.unbounded_send(Box::pin(async move {
                yield_now().await;
                n
            }))
            .unwrap();
            assert_eq!(s.next().await, Some(n), "while the input stays open");
        }
        drop(tx);
        assert_eq!(s.next().await, None);

        let (tx, rx) = mpsc::unbounded::<BoxFut<u32>>();
        let mut s = rx.as_completed_stream();
        tx.unbounded_send(Box::pin(std::future::pending())).unwrap();
        tx.unbounded_send(Box::pin(async { 7 })).unwrap();
        assert_eq!(s.next().await, Some((1, 7)));
    });
}

/// The input's own wake-up wakes the parent, and the woken input is pulled at
/// the next poll.
#[test]
fn a_woken_input_wakes_the_parent() {
    let (tx, rx) = mpsc::unbounded::<BoxFut<u32>>();
    let mut s = rx.gather_stream().limit(2);
    let parent = CountingWaker::new();
    assert!(poll_next(&mut s, &parent).is_pending());
    assert!(poll_next(&mut s, &parent).is_pending());
    let woken = parent.count();
    tx.unbounded_send(Box::pin(async { 5 })).unwrap();
    assert!(
        parent.count() > woken,
        "the input's wake reached the parent"
    );
    assert_eq!(poll_next(&mut s, &parent), Poll::Ready(Some(5)));
    // And again, with a running child pending meanwhile.
    let (gate, wait) = oneshot::channel::<()>();
    tx.unbounded_send(Box::pin(async move {
        let _ = wait.await;
        6
    }))
    .unwrap();
    assert!(poll_next(&mut s, &parent).is_pending());
    let woken = parent.count();
    tx.unbounded_send(Box::pin(async { 7 })).unwrap();
    assert!(parent.count() > woken);
    assert!(poll_next(&mut s, &parent).is_pending(), "7 waits for 6");
    gate.send(()).unwrap();
    assert_eq!(poll_next(&mut s, &parent), Poll::Ready(Some(6)));
    assert_eq!(poll_next(&mut s, &parent), Poll::Ready(Some(7)));
    drop(tx);
    assert_eq!(poll_next(&mut s, &parent), Poll::Ready(None));
}

/// Endless input in input order, with the head of the line stuck: at most
/// `limit` children run, and the inputs started but not handed out (running
/// plus finished outputs waiting) span at most 4 x `limit`.
#[test]
fn endless_input_holds_the_limit_plus_a_bounded_reorder_window() {
    for limit in [1, 2, 5] {
        let probe = Probe::new();
        let (head, stuck) = oneshot::channel::<()>();
        let mut stuck = Some(stuck);
        let made = probe.clone();
        let input = probe.counted(stream::iter(0..).map(move |i| {
            let probe = made.clone();
            let mut token = made.token();
            let stuck = if i == 0 { stuck.take() } else { None };
            async move {
                token.start();
                match stuck {
                    Some(stuck) => drop(stuck.await),
                    None => yield_now().await,
                }
                probe.output(i)
            }
        }));
        let mut s = input.gather_stream().limit(limit);
        let parent = CountingWaker::new();
        for _ in 0..50 {
            assert!(poll_raw(&mut s, &parent).is_pending());
            assert!(probe.live() <= limit, "limit {limit}");
        }
        if limit == 1 {
            assert_eq!(probe.pulled(), 1, "the head holds the only slot");
        } else {
            assert_eq!(probe.pulled(), 4 * limit, "the window is full");
            assert_eq!(probe.outputs(), 4 * limit - 1, "all but the head wait");
            assert_eq!(probe.live(), 1, "only the head runs");
        }
        head.send(()).unwrap();
        let mut handed = 0;
        while handed < 20 * limit {
            match poll_raw(&mut s, &parent) {
                Poll::Ready(Some(output)) => {
                    assert_eq!(output.index, handed);
                    handed += 1;
                }
                Poll::Ready(None) => unreachable!("endless"),
                Poll::Pending => {}
            }
            assert!(probe.live() <= limit);
            assert!(
                probe.pulled() - handed <= 4 * limit,
                "limit {limit}: {} pulled, {handed} handed out",
                probe.pulled()
            );
        }
        assert!(probe.outputs_peak() <= 4 * limit);
        drop(s);
        assert_eq!(probe.outputs(), 0);
        assert_eq!(probe.dropped(), probe.pulled());
    }
}

/// The same bound under every executor, with children that finish out of
/// order, consumed through `take`.
#[test]
fn endless_input_under_every_executor() {
    matrix(|| async {
        let limit = 4;
        let probe = Probe::new();
        let made = probe.clone();
        let input = probe.counted(stream::iter(0..).map(move |i| {
            let probe = made.clone();
            let mut token = made.token();
            async move {
                token.start();
                for _ in 0..(7 - i % 8) {
                    yield_now().await;
                }
                probe.output(i)
            }
        }));
        let mut s = input.gather_stream().limit(limit).take(300);
        let mut handed = 0;
        while let Some(output) = s.next().await {
            assert_eq!(output.index, handed);
            handed += 1;
            assert!(probe.live() <= limit);
            assert!(probe.pulled() - handed <= 4 * limit);
        }
        assert_eq!(handed, 300);
        assert!(probe.outputs_peak() <= 4 * limit);
        drop(s);
        assert_eq!(probe.dropped(), probe.pulled());
    });
}

/// Without a limit, an endless input that is always ready cannot keep one
/// poll going: the poll returns, having pulled a bounded number, and wakes
/// the parent to come back for more.
#[test]
fn without_a_limit_an_endless_input_is_pulled_in_bounded_steps() {
    let probe = Probe::new();
    let made = probe.clone();
    let input = probe.counted(stream::repeat(()).map(move |()| {
        let mut token = made.token();
        async move {
            token.start();
            std::future::pending::<()>().await
        }
    }));
    let mut s = input.gather_stream();
    let mut before = 0;
    for _ in 0..4 {
        let parent = CountingWaker::new();
        assert!(poll_raw(&mut s, &parent).is_pending());
        assert!(parent.count() > 0, "woke the parent to come back");
        let pulled = probe.pulled();
        assert!(pulled > before, "made progress");
        assert!(pulled - before <= before.max(32) * 2, "bounded per poll");
        before = pulled;
    }
    drop(s);
    assert_eq!(probe.live(), 0);
    assert_eq!(probe.dropped(), probe.pulled());
}

/// Dropping the stream at any poll drops every child exactly once: the ones
/// running, the ones finished, and the inputs never pulled.
#[test]
fn dropping_at_every_poll_point_drops_every_child_once() {
    let n = 12;
    for polls in 0..20 {
        for form in 0..4 {
            let probe = Probe::new();
            let drops: Arc<Vec<AtomicUsize>> =
                Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect());
            let children: Vec<BoxFut<Result<usize, usize>>> = (0..n)
                .map(|i| {
                    let mut token = probe.token();
                    let once = DropOnce(drops.clone(), i);
                    Box::pin(async move {
                        let _once = once;
                        token.start();
                        for _ in 0..(i * 7 % 5) {
                            yield_now().await;
                        }
                        if i == 9 && form == 2 { Err(i) } else { Ok(i) }
                    }) as BoxFut<_>
                })
                .collect();
            let input = stream::iter(children);
            let mut s: Pin<Box<dyn Stream<Item = usize>>> = match form {
                0 => Box::pin(input.gather_stream().limit(3).map(|r| r.unwrap())),
                1 => Box::pin(input.as_completed_stream().limit(3).map(|(i, _)| i)),
                2 => Box::pin(input.try_gather_stream().limit(4).map(|r| r.unwrap_or(99))),
                _ => Box::pin(input.gather_settled_stream().map(|(i, _)| i)),
            };
            let parent = CountingWaker::new();
            for _ in 0..polls {
                if let Poll::Ready(None) = poll_raw(&mut s, &parent) {
                    break;
                }
            }
            drop(s);
            for (i, count) in drops.iter().enumerate() {
                assert_eq!(
                    count.load(Ordering::SeqCst),
                    1,
                    "form {form}, dropped after {polls} polls: child {i}"
                );
            }
            assert_eq!(probe.live(), 0);
        }
    }
}

/// Records, per child, how many times it was dropped.
struct DropOnce(Arc<Vec<AtomicUsize>>, usize);

impl Drop for DropOnce {
    fn drop(&mut self) {
        self.0[self.1].fetch_add(1, Ordering::SeqCst);
    }
}

/// The first `Err` (in completion order) is yielded at once, ahead of an
/// earlier input still running; every other child is dropped at that poll,
/// and the stream ends.
#[test]
fn try_gather_stream_yields_the_first_err_and_drops_the_rest() {
    matrix(|| async {
        let dropped = DropCounter::new();
        let mut inputs: Vec<BoxFut<Result<u32, String>>> = vec![
            Box::pin(async { Ok(0) }),
            Box::pin(pending_guarded(dropped.guard())),
            Box::pin(async {
                yield_now().await;
                Err("2 failed".to_string())
            }),
            Box::pin(pending_guarded(dropped.guard())),
        ];
        // Never pulled: the limit is 4.
        inputs.push(Box::pin(pending_guarded(dropped.guard())));
        let mut s = stream::iter(inputs).try_gather_stream().limit(4);
        assert_eq!(s.next().await, Some(Ok(0)));
        assert_eq!(s.next().await, Some(Err("2 failed".to_string())));
        assert_eq!(dropped.get(), 3, "the rest dropped while the stream lives");
        assert_eq!(s.next().await, None);
        assert_eq!(s.next().await, None);
    });
}

/// Settled keeps each outcome's input index and captures panics, in both
/// orders.
#[test]
fn gather_settled_stream_keeps_indices_and_captures_panics() {
    matrix(|| async {
        for completion in [false, true] {
            let inputs = stream::iter(0..12usize).map(|i| async move {
                for _ in 0..(12 - i) % 4 {
                    yield_now().await;
                }
                match i % 3 {
                    0 => Ok(i),
                    1 => Err(i * 10),
                    _ => explode(&format!("child {i}")),
                }
            });
            let s = inputs.gather_settled_stream().limit(5);
            let s = if completion { s.completion_order() } else { s };
            let outcomes: Vec<(usize, Settled<usize, usize>)> = s.collect().await;
            let mut indices: Vec<usize> = outcomes.iter().map(|(i, _)| *i).collect();
            if !completion {
                assert_eq!(indices, (0..12).collect::<Vec<_>>());
            } else {
                assert_ne!(indices, (0..12).collect::<Vec<_>>(), "completion order");
                indices.sort();
                assert_eq!(indices, (0..12).collect::<Vec<_>>());
            }
            for (i, outcome) in &outcomes {
                match i % 3 {
                    0 => assert_eq!(outcome.ok(), Some(i)),
                    1 => assert_eq!(outcome.err(), Some(&(i * 10))),
                    _ => assert_eq!(
                        outcome.panic().and_then(|p| p.message()),
                        Some(&*format!("child {i}"))
                    ),
                }
            }
        }
    });
}

/// A panic in a child drops its siblings before it resumes: counted while
/// the stream is still alive.
#[test]
fn a_panic_drops_the_siblings_before_it_resumes() {
    for form in 0..3 {
        let dropped = DropCounter::new();
        let mut inputs: Vec<BoxFut<Result<u8, u8>>> = (0..3)
            .map(|_| Box::pin(pending_guarded(dropped.guard())) as BoxFut<_>)
            .collect();
        let probe = dropped.clone();
        inputs.push(Box::pin(async move {
            yield_now().await;
            panic!("child failed after {} drops", probe.get())
        }));
        // Never pulled: the limit is 4.
        inputs.push(Box::pin(pending_guarded(dropped.guard())));
        let input = stream::iter(inputs);
        let mut s: Pin<Box<dyn Stream<Item = ()>>> = match form {
            0 => Box::pin(input.gather_stream().limit(4).map(drop)),
            1 => Box::pin(input.as_completed_stream().limit(4).map(drop)),
            _ => Box::pin(input.try_gather_stream().limit(4).map(drop)),
        };
        let payload = poll_until_panic(&mut s.next());
        assert_panic_message(&*payload, "child failed after 0 drops");
        assert_eq!(
            dropped.get(),
            4,
            "form {form}: every sibling and input dropped"
        );
        let parent = CountingWaker::new();
        assert_eq!(
            poll_raw(&mut s, &parent),
            Poll::Ready(None),
            "form {form}: ended"
        );
    }
}

/// A panic comes after the outputs that completed before it in the same poll
/// and come first in the stream's order: they are yielded with the rest still
/// alive; the poll after them drops the rest and resumes the panic.
#[test]
fn a_panic_comes_after_the_outputs_ready_before_it() {
    for form in 0..3 {
        let dropped = DropCounter::new();
        let inputs: Vec<BoxFut<Result<u8, u8>>> = vec![
            Box::pin(async { Ok(0) }),
            Box::pin(async { Ok(1) }),
            Box::pin(async { explode("2 panicked") }),
            Box::pin(pending_guarded(dropped.guard())),
        ];
        let input = stream::iter(inputs);
        let mut s: Pin<Box<dyn Stream<Item = Result<u8, u8>>>> = match form {
            0 => Box::pin(input.gather_stream().limit(4)),
            1 => Box::pin(input.as_completed_stream().limit(4).map(|(_, r)| r)),
            _ => Box::pin(input.try_gather_stream().limit(4)),
        };
        let parent = CountingWaker::new();
        for n in 0..2 {
            assert_eq!(
                poll_raw(&mut s, &parent),
                Poll::Ready(Some(Ok(n))),
                "form {form}"
            );
            assert_eq!(dropped.get(), 0, "form {form}: the rest is alive");
        }
        let payload = poll_until_panic(&mut s.next());
        assert_panic_message(&*payload, "2 panicked");
        assert_eq!(dropped.get(), 1, "form {form}: dropped before resuming");
        assert_eq!(poll_raw(&mut s, &parent), Poll::Ready(None), "form {form}");
    }
}

/// In input order, a panic does not wait for a running child ahead of it:
/// the output finished behind that child is dropped with the rest, never
/// yielded.
#[test]
fn a_panic_drops_outputs_held_behind_a_running_child() {
    let dropped = DropCounter::new();
    let inputs: Vec<BoxFut<u8>> = vec![
        Box::pin(pending_guarded(dropped.guard())),
        Box::pin(async { 1 }),
        Box::pin(async { explode("2 panicked") }),
    ];
    let mut s = stream::iter(inputs).gather_stream().limit(4);
    // `poll_until_panic` fails if a poll yields output 1 instead.
    let payload = poll_until_panic(&mut s.next());
    assert_panic_message(&*payload, "2 panicked");
    assert_eq!(
        dropped.get(),
        1,
        "the running child dropped before resuming"
    );
    let parent = CountingWaker::new();
    assert_eq!(poll_raw(&mut s, &parent), Poll::Ready(None));
}

#[test]
fn a_panic_resumes_under_every_executor() {
    matrix(|| async {
        let s = stream::iter(0..4u8)
            .map(|i| async move {
                yield_now().await;
                if i == 2 { explode("boom") } else { i }
            })
            .gather_stream()
            .limit(2);
        let payload =
            futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(s.collect::<Vec<_>>()))
                .await
                .unwrap_err();
        assert_panic_message(&*payload, "boom");
    });
}

#[test]
fn completion_order_after_the_first_poll_panics_naming_the_method() {
    /// Polls `s` once (the input is pending, so nothing is pulled, yet the
    /// stream has started), then checks that `reorder(s)` panics naming `name`.
    fn after_a_poll<S: Stream + Unpin>(mut s: S, reorder: impl FnOnce(S) -> S, name: &str) {
        assert!(poll_once(&mut s.next(), &CountingWaker::new()).is_pending());
        let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(reorder(s))))
            .unwrap_err();
        assert_panic_message(
            &*payload,
            &format!("{name}: set the order before the first poll"),
        );
    }
    let input = || stream::pending::<std::future::Ready<Result<(), ()>>>();
    after_a_poll(
        input().gather_settled_stream(),
        |s| s.completion_order(),
        "aiokit::GatherSettledStream::completion_order",
    );
    after_a_poll(
        input().try_gather_stream(),
        |s| s.completion_order(),
        "aiokit::TryGatherStream::completion_order",
    );
}

#[test]
fn try_gather_stream_in_completion_order() {
    matrix(|| async {
        // Input `n` takes `n` yields: completion order is 0, 1, 2, 3, and the
        // `Err` of input 3 still ends the stream.
        let steps = |order: [u8; 4]| {
            stream::iter(order).map(|n| async move {
                for _ in 0..n {
                    futures_lite::future::yield_now().await;
                }
                if n == 3 { Err(n) } else { Ok(n) }
            })
        };
        let in_order: Vec<Result<u8, u8>> = steps([2, 0, 3, 1]).try_gather_stream().collect().await;
        assert_eq!(in_order, [Ok(2), Ok(0), Err(3)]);
        let completed: Vec<Result<u8, u8>> = steps([2, 0, 3, 1])
            .try_gather_stream()
            .completion_order()
            .limit(4)
            .collect()
            .await;
        assert_eq!(completed, [Ok(0), Ok(1), Ok(2), Err(3)]);
    });
}

#[test]
fn limit_zero_panics_naming_the_method() {
    fn input() -> impl Stream<Item = std::future::Ready<Result<(), ()>>> {
        stream::iter([std::future::ready(Ok(()))])
    }
    let cases: [(&str, Box<dyn Fn()>); 4] = [
        (
            "aiokit::GatherStream::limit",
            Box::new(|| drop(input().gather_stream().limit(0))),
        ),
        (
            "aiokit::AsCompletedStream::limit",
            Box::new(|| drop(input().as_completed_stream().limit(0))),
        ),
        (
            "aiokit::TryGatherStream::limit",
            Box::new(|| drop(input().try_gather_stream().limit(0))),
        ),
        (
            "aiokit::GatherSettledStream::limit",
            Box::new(|| drop(input().gather_settled_stream().limit(0))),
        ),
    ];
    for (name, case) in cases {
        let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(case)).unwrap_err();
        assert_panic_message(&*payload, name);
        assert_panic_message(&*payload, "at least 1");
    }
}

/// Children that complete in a staged order, each logging when it completes:
/// with a limit below n children start late, so the log, not the driver's
/// order, is the completion order.
fn logged(
    order: Vec<usize>,
    log: &Arc<Mutex<Vec<usize>>>,
    probe: &Arc<Probe>,
) -> (Vec<BoxFut<usize>>, BoxFut<()>) {
    let n = order.len();
    let (children, driver) = staged((0..n).collect(), order);
    let children = children
        .into_iter()
        .enumerate()
        .map(|(i, child)| {
            let (log, mut token) = (log.clone(), probe.token());
            Box::pin(async move {
                token.start();
                let out = child.await;
                log.lock().unwrap().push(i);
                out
            }) as BoxFut<usize>
        })
        .collect();
    (children, driver)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Every output exactly once, in input order or in completion order, for
    /// any completion order and limit.
    #[test]
    fn every_output_once_in_the_documented_order(
        order in (1..30_usize).prop_flat_map(|n| Just((0..n).collect::<Vec<_>>()).prop_shuffle()),
        limit in 1..12_usize,
    ) {
        matrix(move || {
            let order = order.clone();
            async move {
                let n = order.len();
                for form in 0..4 {
                    let (log, probe) = (Arc::new(Mutex::new(Vec::new())), Probe::new());
                    let (children, driver) = logged(order.clone(), &log, &probe);
                    let input = stream::iter(children);
                    let s: Pin<Box<dyn Stream<Item = usize> + Send>> = match form {
                        0 => Box::pin(input.gather_stream().limit(limit)),
                        1 => Box::pin(input.as_completed_stream().limit(limit).map(|(i, v)| {
                            assert_eq!(i, v);
                            v
                        })),
                        2 => Box::pin(input.map(|c| async move { Ok::<_, ()>(c.await) }).gather_settled_stream().limit(limit).map(|(i, s)| {
                            assert_eq!(s.ok(), Some(&i));
                            i
                        })),
                        _ => Box::pin(input.map(|c| async move { Ok::<_, ()>(c.await) }).gather_settled_stream().limit(limit).completion_order().map(|(i, s)| {
                            assert_eq!(s.ok(), Some(&i));
                            i
                        })),
                    };
                    let (out, ()) = (s.collect::<Vec<_>>(), driver).gather().await;
                    if form % 2 == 0 {
                        assert_eq!(out, (0..n).collect::<Vec<_>>(), "form {form}");
                    } else {
                        assert_eq!(out, *log.lock().unwrap(), "form {form}: completion order");
                    }
                    assert!(probe.peak() <= limit);
                    assert_eq!(probe.dropped(), n);
                }
            }
        });
    }
}

#[test]
fn debug_and_size_hint() {
    let s = stream::iter([std::future::ready(1), std::future::ready(2)])
        .gather_stream()
        .limit(1);
    assert!(format!("{s:?}").starts_with("GatherStream"));
    assert_eq!(s.size_hint(), (2, Some(2)));
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&s);
    let _: &dyn Future<Output = ()> = &async {};
}

/// A child pulled after every child of the first poll already completed is
/// still polled: the input hands over one ready future, which completes at
/// once, then later another.
#[test]
fn an_input_that_arrives_after_the_first_children_finished_is_polled() {
    for limit in [1, 2, 8] {
        let (tx, rx) = mpsc::unbounded::<BoxFut<u32>>();
        tx.unbounded_send(Box::pin(async { 1 })).unwrap();
        let mut s = rx.as_completed_stream().limit(limit);
        let parent = CountingWaker::new();
        assert_eq!(poll_next(&mut s, &parent), Poll::Ready(Some((0, 1))));
        assert!(poll_next(&mut s, &parent).is_pending());
        tx.unbounded_send(Box::pin(async { 2 })).unwrap();
        assert!(parent.count() > 0);
        assert_eq!(
            poll_next(&mut s, &parent),
            Poll::Ready(Some((1, 2))),
            "limit {limit}"
        );
        let (gate, wait) = oneshot::channel::<()>();
        tx.unbounded_send(Box::pin(async move {
            let _ = wait.await;
            3
        }))
        .unwrap();
        assert!(poll_next(&mut s, &parent).is_pending());
        let woken = parent.count();
        gate.send(()).unwrap();
        assert!(
            parent.count() > woken,
            "limit {limit}: the child's wake reached the parent"
        );
        assert_eq!(poll_next(&mut s, &parent), Poll::Ready(Some((2, 3))));
    }
}

/// Children are polled in the order they started: with a limit, a child
/// started to refill a slot is not polled ahead of an older child that has
/// not had its first poll yet.
#[test]
fn a_refilled_slot_waits_its_turn() {
    matrix(|| async {
        for limit in [2, 3] {
            let order: Vec<usize> = stream::iter(0..8usize)
                .map(|i| async move { i })
                .as_completed_stream()
                .limit(limit)
                .map(|(i, _)| i)
                .collect()
                .await;
            assert_eq!(order, (0..8).collect::<Vec<_>>(), "limit {limit}");
        }
    });
}

/// The child taken into a freed slot gets its first poll in the poll that
/// returns the output, so a consumer that is slow between items does not
/// leave it unstarted meanwhile.
#[test]
fn a_refilled_child_is_polled_in_the_same_poll() {
    let (probe, children, mut senders) = gates(8);
    let mut s = stream::iter(children).as_completed_stream().limit(3);
    let parent = CountingWaker::new();
    assert!(poll_next(&mut s, &parent).is_pending());
    for (i, sender) in senders.iter_mut().enumerate().take(5) {
        sender.take().unwrap().send(()).unwrap();
        assert_eq!(poll_next(&mut s, &parent), Poll::Ready(Some((i, i))));
        assert_eq!(probe.started(), i + 4, "after output {i}");
    }
}

/// A poll that finds nothing new returns `Pending` without running the
/// children again, but only if the waker the last poll stored is the one it
/// was given: a stream polled by another task (another waker) since must
/// hand that task's waker to the children and the input, so their wakes
/// reach it. Both orders, with a pending input and with a full limit.
#[test]
fn a_poll_with_another_waker_moves_every_wake_to_it() {
    for in_order in [true, false] {
        let (probe, children, mut senders) = gates(3);
        let (tx, rx) = mpsc::unbounded::<BoxFut<usize>>();
        let mut children = children.into_iter();
        tx.unbounded_send(children.next().unwrap()).unwrap();
        let stream = rx.boxed();
        let mut s: Pin<Box<dyn Stream<Item = usize>>> = if in_order {
            Box::pin(stream.gather_stream().limit(2))
        } else {
            Box::pin(stream.as_completed_stream().limit(2).map(|(_, v)| v))
        };
        let (first, second) = (CountingWaker::new(), CountingWaker::new());
        assert!(poll_next(&mut s, &first).is_pending());
        assert_eq!(probe.started(), 1);
        // The same task again: nothing woke, nothing to do.
        assert!(poll_next(&mut s, &first).is_pending());
        // Another task takes over; then the input and a child wake.
        assert!(poll_next(&mut s, &second).is_pending());
        let before = second.count();
        tx.unbounded_send(children.next().unwrap()).unwrap();
        assert!(second.count() > before, "the input woke the new task");
        assert!(poll_next(&mut s, &second).is_pending());
        assert_eq!(probe.started(), 2, "the limit is full");
        assert!(poll_next(&mut s, &first).is_pending());
        let before = first.count();
        senders[0].take().unwrap().send(()).unwrap();
        assert!(
            first.count() > before,
            "the child woke the task polling now"
        );
        assert_eq!(
            poll_next(&mut s, &first),
            Poll::Ready(Some(0)),
            "{in_order}"
        );
        drop((tx, senders));
    }
}
