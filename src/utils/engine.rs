//! The machinery shared by `gather`, `try_gather`, `gather_settled` and
//! `as_completed`: a set of children polled inside the caller's task, yielding
//! `(input index, output)` in completion order.
//!
//! * Children live inline in one [`PinSlice`]; a completed child is dropped at
//!   once. With a limit, the slice has `limit` slots and the input iterator is
//!   pulled only when a slot frees up.
//! * The first poll goes once through every slot (the first pass). It starts
//!   with the parent's waker, so a set whose children are all ready allocates
//!   nothing more; at the first child that stays pending it switches to slot
//!   wakers, and that one child is polled again with its own.
//! * From then on every child is polled with its own slot waker from a
//!   [`WakeSet`], and only woken children are polled again.
//! * The first pass goes through the slots starting at slot `start % len` and
//!   wrapping around ([`Engine::set_start`], 0 by default), so `race` can
//!   rotate which child is polled first.
//! * Cooperative: one call to `poll_next` polls at most as many children as
//!   the set holds, and stops early after two children woke themselves while
//!   being polled, waking the parent so other tasks get a turn.
//! * A child that panics is dropped and its panic handed to the caller as
//!   [`Panic`], which decides whether to resume it or report it.

use std::future::IntoFuture;
use std::iter::Fuse;
use std::ops::ControlFlow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::{Context, Poll};

use crate::Panic;
use crate::utils::raw::pin_slice::PinSlice;
use crate::utils::raw::wake_set::WakeSet;

/// A size above the bit-mask limit of the wake set, for tests of both kinds.
#[cfg(test)]
const SMALL: usize = 70;

type Fut<I> = <<I as Iterator>::Item as IntoFuture>::IntoFuture;
type Out<I> = <<I as Iterator>::Item as IntoFuture>::Output;

/// What one child produced: its value, or the panic it raised.
pub(crate) type ChildResult<T> = Result<T, Panic>;

pub(crate) struct Engine<I: Iterator>
where
    I::Item: IntoFuture,
{
    /// Not polled yet: nothing pulled from the iterator.
    init: Option<I>,
    /// Running; `None` (with `init` also `None`) once finished or cleared.
    run: Option<Running<I>>,
    /// The most children alive at once (`usize::MAX`: no limit).
    limit: usize,
    /// Where the first pass starts, modulo the number of slots.
    start: usize,
    /// Poll woken children in the order they were woken, whatever the size.
    wake_order: bool,
}

struct Running<I: Iterator>
where
    I::Item: IntoFuture,
{
    /// The inputs not pulled yet (with a limit).
    /// `None` once known to be exhausted (at once without a limit).
    rest: Option<Fuse<I>>,
    slots: PinSlice<Fut<I>>,
    /// The input index of the child in each slot; `None` while it is the slot
    /// index (until a slot is refilled, which only happens with a limit).
    inputs: Option<Box<[usize]>>,
    /// Children alive.
    live: usize,
    /// Inputs pulled so far.
    pulled: usize,
    /// `Some` once children are polled with their own wakers; before that,
    /// the position of the first pass over the slots.
    wakers: Option<Box<WakeSet>>,
    /// The first pass's position: position `p` is slot `(offset + p) % len`.
    first_pass: usize,
    offset: usize,
    wake_order: bool,
    /// Children polled, and self-wakes seen, since `poll_next` last returned
    /// `Pending`.
    polled: usize,
    self_wakes: usize,
}

impl<I: Iterator> Engine<I>
where
    I::Item: IntoFuture,
{
    pub(crate) fn new(iter: I) -> Self {
        Self {
            init: Some(iter),
            run: None,
            limit: usize::MAX,
            start: 0,
            wake_order: false,
        }
    }

    /// Rotates the first polling order: the first pass visits slot
    /// `start % len` first, then the following slots, wrapping around. Call
    /// before the first poll.
    pub(crate) fn set_start(&mut self, start: usize) {
        debug_assert!(self.init.is_some());
        self.start = start;
    }

    /// After the first pass, polls woken children in the order they were woken
    /// (by default, sets of up to 64 children poll each batch in slot order).
    /// Call before the first poll.
    pub(crate) fn keep_wake_order(&mut self) {
        debug_assert!(self.init.is_some());
        self.wake_order = true;
    }

    /// Sets the limit. `name` is the public method, for the panic message.
    #[track_caller]
    pub(crate) fn set_limit(&mut self, limit: usize, name: &str) {
        assert!(
            limit > 0,
            "{name}: the limit must be at least 1 (with 0 no child could ever run)"
        );
        assert!(
            self.init.is_some(),
            "{name}: the limit must be set before the first poll"
        );
        self.limit = limit;
    }

    /// Inputs pulled from the iterator so far.
    pub(crate) fn pulled(&self) -> usize {
        self.run.as_ref().map_or(0, |run| run.pulled)
    }

    /// An upper estimate of how many inputs remain to complete, for sizing
    /// output buffers.
    pub(crate) fn size_hint(&self) -> usize {
        match (&self.init, &self.run) {
            (Some(iter), _) => iter.size_hint().0,
            (None, Some(run)) => run.live + run.rest.as_ref().map_or(0, |r| r.size_hint().0),
            (None, None) => 0,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.init.is_none() && self.run.is_none()
    }

    /// Drops every child (in slot order) and the unpulled inputs.
    pub(crate) fn clear(&mut self) {
        self.init = None;
        self.run = None;
    }

    /// Polls the children, handing each completion (input index, result) to
    /// `sink` in completion order. Returns `Ready(Continue)` once every input
    /// has completed, `Ready(Break)` as soon as `sink` breaks, and `Pending`
    /// when nothing more can be done in this poll.
    pub(crate) fn poll_each(
        &mut self,
        cx: &mut Context<'_>,
        sink: impl FnMut(usize, ChildResult<Out<I>>) -> ControlFlow<()>,
    ) -> Poll<ControlFlow<()>> {
        if let Some(iter) = self.init.take() {
            self.run = Some(Running::start(
                iter,
                self.limit,
                self.start,
                self.wake_order,
            ));
        }
        let Some(run) = &mut self.run else {
            return Poll::Ready(ControlFlow::Continue(()));
        };
        let out = run.poll_each(cx, sink);
        if let Poll::Ready(ControlFlow::Continue(())) = out {
            self.run = None;
        }
        out
    }

    /// The next child to complete, in completion order; `None` once every
    /// input has completed.
    pub(crate) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<(usize, ChildResult<Out<I>>)>> {
        let mut item = None;
        let sink = |index, result| {
            item = Some((index, result));
            ControlFlow::Break(())
        };
        match self.poll_each(cx, sink) {
            Poll::Ready(ControlFlow::Break(())) => Poll::Ready(item),
            Poll::Ready(ControlFlow::Continue(())) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<I: Iterator> Running<I>
where
    I::Item: IntoFuture,
{
    #[inline]
    fn start(iter: I, limit: usize, start: usize, wake_order: bool) -> Self {
        let (slots, rest) = if limit == usize::MAX {
            // Everything at once: collect straight from the iterator, which
            // keeps its exact length, and drop it.
            let slots: Vec<_> = iter.map(|f| Some(f.into_future())).collect();
            (slots, None)
        } else {
            let mut rest = iter.fuse();
            let slots: Vec<_> = rest
                .by_ref()
                .take(limit)
                .map(|f| Some(f.into_future()))
                .collect();
            // Stopping short of the limit means the iterator ran dry.
            let more = slots.len() == limit;
            (slots, more.then_some(rest))
        };
        let len = slots.len();
        Self {
            rest,
            slots: PinSlice::new(slots),
            inputs: None,
            live: len,
            pulled: len,
            wakers: None,
            first_pass: 0,
            offset: start.checked_rem(len).unwrap_or(0),
            wake_order,
            polled: 0,
            self_wakes: 0,
        }
    }

    /// `slot` is pending on the parent's waker, so its wake would not say who:
    /// from here on every child gets its own waker, and `slot` is polled again
    /// with its own.
    #[cold]
    #[inline(never)]
    fn switch_to_wakers(&mut self, slot: usize) {
        let mut wakers = Box::new(WakeSet::new(self.slots.len(), self.wake_order));
        wakers.schedule(slot);
        self.wakers = Some(wakers);
    }

    /// The slot at `position` of the rotated first-pass order.
    fn slot_at(&self, position: usize) -> usize {
        let slot = self.offset + position;
        if slot >= self.slots.len() {
            slot - self.slots.len()
        } else {
            slot
        }
    }

    /// Bookkeeping after the child in `slot` finished: frees the slot, refills
    /// it from the iterator, and returns the child's input index.
    #[inline(always)]
    fn finish(&mut self, slot: usize) -> usize {
        let input = match &self.inputs {
            None => slot,
            Some(inputs) => inputs[slot],
        };
        self.live -= 1;
        if self.rest.is_some() {
            self.refill(slot);
        }
        input
    }

    /// Puts the next input, if any, into the free `slot`.
    #[inline(never)]
    fn refill(&mut self, slot: usize) {
        let Some(next) = self.rest.as_mut().and_then(Iterator::next) else {
            self.rest = None;
            return;
        };
        self.slots.put(slot, next.into_future());
        let len = self.slots.len();
        self.inputs.get_or_insert_with(|| (0..len).collect())[slot] = self.pulled;
        self.pulled += 1;
        self.live += 1;
        match &mut self.wakers {
            Some(wakers) => wakers.schedule(slot),
            // In the first pass the cursor has just passed `slot`: step back
            // so the new child is polled too.
            None => {
                let len = self.slots.len();
                let position = (slot + len - self.offset) % len;
                self.first_pass = self.first_pass.min(position);
            }
        }
    }

    fn poll_each(
        &mut self,
        cx: &mut Context<'_>,
        mut sink: impl FnMut(usize, ChildResult<Out<I>>) -> ControlFlow<()>,
    ) -> Poll<ControlFlow<()>> {
        // First pass: every child polled once, in slot order: with the
        // parent's waker for small sets, with its own waker for large ones.
        while self.first_pass < self.slots.len() {
            let slot = self.slot_at(self.first_pass);
            self.first_pass += 1;
            let result = match &mut self.wakers {
                None => {
                    let result = poll_child(&mut self.slots, slot, cx);
                    if result.is_none() && self.slots.is_occupied(slot) {
                        self.switch_to_wakers(slot);
                    }
                    result
                }
                Some(wakers) => {
                    let waker = wakers.waker(slot);
                    let result =
                        poll_child(&mut self.slots, slot, &mut Context::from_waker(&waker));
                    if result.is_none() && wakers.is_queued(slot) {
                        // Woke itself: counts toward yielding, as below.
                        self.self_wakes += 1;
                    }
                    result
                }
            };
            if let Some(result) = result {
                let input = self.finish(slot);
                if sink(input, result).is_break() {
                    return Poll::Ready(ControlFlow::Break(()));
                }
            }
        }
        if self.live == 0 {
            self.slots.release();
            return Poll::Ready(ControlFlow::Continue(()));
        }

        let budget = self.slots.len();
        let wakers = self.wakers.as_mut().expect("wakers are set");
        wakers.register(cx.waker());
        loop {
            if self.live == 0 {
                self.slots.release();
                return Poll::Ready(ControlFlow::Continue(()));
            }
            if self.polled >= budget || self.self_wakes >= 2 {
                // Give other tasks a turn before going on with the queue.
                self.polled = 0;
                self.self_wakes = 0;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let wakers = self.wakers.as_mut().expect("wakers are set");
            let Some(slot) = wakers.next() else {
                self.polled = 0;
                self.self_wakes = 0;
                return Poll::Pending;
            };
            if !self.slots.is_occupied(slot) {
                // A late wake from a child that already finished.
                continue;
            }
            self.polled += 1;
            let result = {
                let waker = wakers.waker(slot);
                poll_child(&mut self.slots, slot, &mut Context::from_waker(&waker))
            };
            match result {
                Some(result) => {
                    let input = self.finish(slot);
                    if sink(input, result).is_break() {
                        return Poll::Ready(ControlFlow::Break(()));
                    }
                }
                None => {
                    if wakers.is_queued(slot) {
                        self.self_wakes += 1;
                    }
                }
            }
        }
    }
}

/// Polls the child in `slot`, catching a panic. `None` while it is pending
/// (or the slot is empty); a child that completes or panics is dropped.
#[inline]
fn poll_child<F: std::future::Future>(
    slots: &mut PinSlice<F>,
    slot: usize,
    cx: &mut Context<'_>,
) -> Option<ChildResult<F::Output>> {
    match catch_unwind(AssertUnwindSafe(|| slots.poll(slot, cx))) {
        Ok(None | Some(Poll::Pending)) => None,
        Ok(Some(Poll::Ready(value))) => Some(Ok(value)),
        Err(payload) => {
            slots.clear(slot);
            Some(Err(Panic::new(payload)))
        }
    }
}

#[cfg(test)]
mod tests {
    //! The engine driven by hand, small enough to run under Miri, which
    //! checks the pinned slots and raw wakers underneath it.

    use super::*;
    use std::cell::Cell;
    use std::future::Future;
    use std::pin::Pin;
    use std::rc::Rc;
    use std::task::Waker;

    /// Pending until `gate` opens; keeps a clone of its last waker in `parked`.
    struct Gated {
        gate: Rc<Cell<bool>>,
        parked: Rc<Cell<Option<Waker>>>,
        value: usize,
    }

    impl Future for Gated {
        type Output = usize;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
            if self.gate.get() {
                Poll::Ready(self.value)
            } else {
                self.parked.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        }
    }

    struct Child {
        gate: Rc<Cell<bool>>,
        parked: Rc<Cell<Option<Waker>>>,
    }

    fn children(n: usize) -> (Vec<Child>, Vec<Gated>) {
        (0..n)
            .map(|value| {
                let gate = Rc::new(Cell::new(false));
                let parked = Rc::new(Cell::new(None));
                let child = Child {
                    gate: gate.clone(),
                    parked: parked.clone(),
                };
                (
                    child,
                    Gated {
                        gate,
                        parked,
                        value,
                    },
                )
            })
            .unzip()
    }

    fn drain<I>(engine: &mut Engine<I>, out: &mut Vec<usize>) -> bool
    where
        I: Iterator,
        I::Item: IntoFuture<Output = usize>,
    {
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            match engine.poll_next(&mut cx) {
                Poll::Ready(Some((index, Ok(value)))) => {
                    assert_eq!(index, value);
                    out.push(value);
                }
                Poll::Ready(Some((_, Err(_)))) => panic!("unexpected panic"),
                Poll::Ready(None) => return true,
                Poll::Pending => return false,
            }
        }
    }

    fn run_in_order(n: usize, limit: Option<usize>, order: &[usize]) {
        let (handles, futures) = children(n);
        let mut engine = Engine::new(futures.into_iter());
        if let Some(limit) = limit {
            engine.set_limit(limit, "test");
        }
        let mut out = Vec::new();
        assert!(!drain(&mut engine, &mut out) || n == 0);
        for &i in order {
            handles[i].gate.set(true);
            if let Some(waker) = handles[i].parked.take() {
                waker.wake();
            }
            drain(&mut engine, &mut out);
        }
        assert!(drain(&mut engine, &mut out));
        out.sort_unstable();
        assert_eq!(out, (0..n).collect::<Vec<_>>());
    }

    #[test]
    fn small_and_large_sets_in_any_order() {
        for n in [0, 1, 3, SMALL + 5] {
            let forward: Vec<usize> = (0..n).collect();
            let backward: Vec<usize> = (0..n).rev().collect();
            run_in_order(n, None, &forward);
            run_in_order(n, None, &backward);
            run_in_order(n, Some(2), &forward);
        }
    }

    #[test]
    fn late_wakes_and_clear_with_wakers_outstanding() {
        let n = SMALL + 2;
        let (handles, futures) = children(n);
        let mut engine = Engine::new(futures.into_iter());
        let mut out = Vec::new();
        assert!(!drain(&mut engine, &mut out));
        // Finish child 0, then wake it again after it is gone: a late wake.
        handles[0].gate.set(true);
        let waker = handles[0].parked.take().unwrap();
        waker.wake_by_ref();
        drain(&mut engine, &mut out);
        waker.wake();
        drain(&mut engine, &mut out);
        assert_eq!(out, [0]);
        // Drop every child while their wakers are still held elsewhere.
        let kept: Vec<Waker> = handles[1..]
            .iter()
            .filter_map(|h| h.parked.take())
            .collect();
        engine.clear();
        for waker in kept {
            waker.wake();
        }
    }

    /// Completion order of `n` children that are all ready at once.
    fn order(n: usize, start: usize) -> Vec<usize> {
        let mut engine = Engine::new((0..n).map(std::future::ready));
        engine.set_start(start);
        let mut cx = Context::from_waker(Waker::noop());
        let mut seen = Vec::new();
        while let Poll::Ready(Some((index, value))) = engine.poll_next(&mut cx) {
            assert_eq!(value.ok(), Some(index));
            seen.push(index);
        }
        seen
    }

    #[test]
    fn start_rotates_the_first_pass() {
        assert_eq!(order(3, 0), [0, 1, 2]);
        assert_eq!(order(3, 4), [1, 2, 0]);
        assert_eq!(order(1, 7), [0]);
        assert!(order(0, 5).is_empty());
        let n = SMALL + 8;
        let expected: Vec<usize> = (3..n).chain(0..3).collect();
        assert_eq!(order(n, n + 3), expected);
    }

    #[test]
    fn a_panicking_child_is_reported_and_dropped() {
        let mut engine = Engine::new((0..SMALL + 1).map(|i| async move {
            if i == 3 {
                panic!("child {i}");
            }
            i
        }));
        let mut cx = Context::from_waker(Waker::noop());
        let mut panics = 0;
        let mut values = 0;
        while let Poll::Ready(Some((_, result))) = engine.poll_next(&mut cx) {
            match result {
                Ok(_) => values += 1,
                Err(panic) => {
                    assert_eq!(panic.message(), Some("child 3"));
                    panics += 1;
                }
            }
        }
        assert_eq!((values, panics), (SMALL, 1));
    }
}
