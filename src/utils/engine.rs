//! The machinery shared by `gather`, `try_gather`, `gather_settled` and
//! `as_completed`: a set of children polled inside the caller's task, yielding
//! `(input index, output)` in completion order.
//!
//! * Children live inline in one [`PinSlice`]; a completed child is dropped at
//!   once. With a limit, the slice has `limit` slots and the input iterator is
//!   pulled only when a slot frees up.
//! * Small sets (at most [`SMALL`] children) are first polled with the parent's
//!   waker: a set whose children are all ready allocates nothing more.
//! * After that (or at once for larger sets) every child is polled with its own
//!   slot waker from a [`WakeSet`], and only woken children are polled again.
//! * The first pass, and the initial queue of a large set, go through the
//!   slots in order starting at slot `start % len` and wrapping around
//!   ([`Engine::set_start`]; 0 by default), so a caller can rotate which
//!   child is polled first.
//! * Cooperative: one call to `poll_next` polls at most as many children as
//!   the set holds, and stops early after two children woke themselves while
//!   being polled, waking the parent so other tasks get a turn.
//! * A child that panics is dropped and its panic handed to the caller as
//!   [`Panic`], which decides whether to resume it or report it.

use std::future::IntoFuture;
use std::iter::Fuse;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::{Context, Poll};

use crate::Panic;
use crate::utils::pin_slice::PinSlice;
use crate::utils::wake_set::WakeSet;

/// Sets up to this size are first polled with the parent's waker.
pub(crate) const SMALL: usize = 32;

type Fut<I> = <<I as Iterator>::Item as IntoFuture>::IntoFuture;
type Out<I> = <<I as Iterator>::Item as IntoFuture>::Output;

/// What one child produced: its value, or the panic it raised.
pub(crate) type ChildResult<T> = Result<T, Panic>;

pub(crate) struct Engine<I: Iterator>
where
    I::Item: IntoFuture,
{
    state: State<I>,
    /// The most children alive at once (`usize::MAX`: no limit).
    limit: usize,
    /// Where the first pass starts, modulo the number of slots.
    start: usize,
}

enum State<I: Iterator>
where
    I::Item: IntoFuture,
{
    /// Not polled yet: nothing pulled from the iterator.
    Init(I),
    Running(Running<I>),
    /// Finished, or cleared after an error or a panic.
    Done,
}

struct Running<I: Iterator>
where
    I::Item: IntoFuture,
{
    /// The inputs not pulled yet (with a limit).
    rest: Fuse<I>,
    slots: PinSlice<Fut<I>>,
    /// The input index of the child in each slot.
    inputs: Box<[usize]>,
    /// Children alive.
    live: usize,
    /// Inputs pulled so far.
    pulled: usize,
    /// `Some` once children are polled with their own wakers; before that,
    /// the position of the first pass over the slots (position `p` is slot
    /// `(offset + p) % len`).
    wakers: Option<WakeSet>,
    first_pass: usize,
    offset: usize,
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
            state: State::Init(iter),
            limit: usize::MAX,
            start: 0,
        }
    }

    /// Rotates the initial polling order: the first pass (and, for a large
    /// set, the initial queue) visits slot `start % len` first, then the
    /// following slots, wrapping around. Call before the first poll.
    pub(crate) fn set_start(&mut self, start: usize) {
        debug_assert!(matches!(self.state, State::Init(_)));
        self.start = start;
    }

    /// Sets the limit. `name` is the public method, for the panic message.
    #[track_caller]
    pub(crate) fn set_limit(&mut self, limit: usize, name: &str) {
        assert!(
            limit > 0,
            "{name}: the limit must be at least 1 (with 0 no child could ever run)"
        );
        assert!(
            matches!(self.state, State::Init(_)),
            "{name}: the limit must be set before the first poll"
        );
        self.limit = limit;
    }

    /// Inputs pulled from the iterator so far.
    pub(crate) fn pulled(&self) -> usize {
        match &self.state {
            State::Running(run) => run.pulled,
            _ => 0,
        }
    }

    /// An upper estimate of how many inputs remain to complete, for sizing
    /// output buffers.
    pub(crate) fn size_hint(&self) -> usize {
        match &self.state {
            State::Init(iter) => iter.size_hint().0,
            State::Running(run) => run.live + run.rest.size_hint().0,
            State::Done => 0,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Drops every child (in slot order) and the unpulled inputs.
    pub(crate) fn clear(&mut self) {
        self.state = State::Done;
    }

    /// The next child to complete, in completion order; `None` once every
    /// input has completed.
    pub(crate) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<(usize, ChildResult<Out<I>>)>> {
        if let State::Init(_) = self.state {
            let State::Init(iter) = std::mem::replace(&mut self.state, State::Done) else {
                unreachable!()
            };
            self.state = State::Running(Running::start(iter, self.limit, self.start));
        }
        let State::Running(run) = &mut self.state else {
            return Poll::Ready(None);
        };
        let out = run.poll_next(cx);
        if let Poll::Ready(None) = out {
            self.state = State::Done;
        }
        out
    }
}

impl<I: Iterator> Running<I>
where
    I::Item: IntoFuture,
{
    fn start(iter: I, limit: usize, start: usize) -> Self {
        let mut rest = iter.fuse();
        let slots: Vec<_> = rest
            .by_ref()
            .take(limit)
            .map(|f| Some(f.into_future()))
            .collect();
        let len = slots.len();
        let mut run = Self {
            rest,
            slots: PinSlice::new(slots),
            inputs: (0..len).collect(),
            live: len,
            pulled: len,
            wakers: None,
            first_pass: 0,
            offset: start.checked_rem(len).unwrap_or(0),
            polled: 0,
            self_wakes: 0,
        };
        if len > SMALL {
            run.use_wakers();
        }
        run
    }

    /// The slot at `position` in the rotated order.
    fn slot_at(&self, position: usize) -> usize {
        let slot = self.offset + position;
        if slot >= self.slots.len() {
            slot - self.slots.len()
        } else {
            slot
        }
    }

    /// Switches to per-child wakers and queues every live child for a poll,
    /// in the rotated order.
    fn use_wakers(&mut self) {
        let mut wakers = WakeSet::new(self.slots.len());
        for position in 0..self.slots.len() {
            let slot = self.slot_at(position);
            if self.slots.is_occupied(slot) {
                wakers.schedule(slot);
            }
        }
        self.wakers = Some(wakers);
    }

    /// Bookkeeping after the child in `slot` finished: frees the slot, refills
    /// it from the iterator, and returns the child's input index.
    fn finish(&mut self, slot: usize) -> usize {
        let input = self.inputs[slot];
        self.live -= 1;
        if let Some(wakers) = &mut self.wakers {
            wakers.retire(slot);
        }
        if let Some(next) = self.rest.next() {
            self.slots.put(slot, next.into_future());
            self.inputs[slot] = self.pulled;
            self.pulled += 1;
            self.live += 1;
            match &mut self.wakers {
                Some(wakers) => wakers.schedule(slot),
                // In the first pass the cursor has just passed `slot`: step
                // back so the new child is polled too.
                None => {
                    let position = (slot + self.slots.len() - self.offset) % self.slots.len();
                    self.first_pass = self.first_pass.min(position);
                }
            }
        }
        input
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, ChildResult<Out<I>>)>> {
        // First pass for small sets: everyone polled with the parent's waker.
        if self.wakers.is_none() {
            while self.first_pass < self.slots.len() {
                let slot = self.slot_at(self.first_pass);
                self.first_pass += 1;
                if let Some(result) = poll_child(&mut self.slots, slot, cx) {
                    return Poll::Ready(Some((self.finish(slot), result)));
                }
            }
            if self.live == 0 {
                self.slots.release();
                return Poll::Ready(None);
            }
            // Someone is pending on the parent's waker, so a wake would not
            // say who: from now on each child gets its own waker.
            self.use_wakers();
        }

        let wakers = self.wakers.as_mut().expect("wakers are set");
        wakers.register(cx.waker());
        let budget = self.slots.len();
        loop {
            if self.live == 0 {
                self.slots.release();
                return Poll::Ready(None);
            }
            let wakers = self.wakers.as_mut().expect("wakers are set");
            if self.polled >= budget || self.self_wakes >= 2 {
                // Give other tasks a turn before going on with the queue.
                self.polled = 0;
                self.self_wakes = 0;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
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
            if let Some(result) = result {
                return Poll::Ready(Some((self.finish(slot), result)));
            }
            if wakers.is_queued(slot) {
                self.self_wakes += 1;
            }
        }
    }
}

/// Polls the child in `slot`, catching a panic. `None` while it is pending
/// (or the slot is empty); a child that completes or panics is dropped.
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
    use super::*;
    use std::task::Waker;

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
    }

    #[test]
    fn start_rotates_the_initial_queue_of_a_large_set() {
        let n = SMALL + 8;
        let expected: Vec<usize> = (3..n).chain(0..3).collect();
        assert_eq!(order(n, n + 3), expected);
    }
}
