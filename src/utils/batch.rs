//! The consumer of the engine that hands completions out one at a time (the
//! stream forms, `as_completed`, `TaskGroup`): one call to the engine polls
//! every child that woke and collects their completions into a buffer, and
//! the next calls hand them out from there without going back to the engine.

use std::collections::VecDeque;
use std::task::{Context, Poll};

use crate::utils::engine::{ChildResult, Engine, Out, Step};
use crate::utils::outputs::Reorder;
use crate::utils::source::Source;

/// Where collected completions wait, in the order they are handed out.
pub(crate) trait Buffer<T> {
    fn push(&mut self, index: usize, result: T);
    /// The next completion to hand out, if it is here.
    fn pop(&mut self) -> Option<(usize, T)>;
    /// Completions waiting.
    fn len(&self) -> usize;
    fn clear(&mut self);
    /// Pull no input at or past this count: an input-order buffer bounds how
    /// far ahead of its head inputs start.
    fn bound(&self) -> usize {
        usize::MAX
    }
}

/// Completion order.
impl<T> Buffer<T> for VecDeque<(usize, T)> {
    #[inline]
    fn push(&mut self, index: usize, result: T) {
        self.push_back((index, result));
    }

    #[inline]
    fn pop(&mut self) -> Option<(usize, T)> {
        self.pop_front()
    }

    fn len(&self) -> usize {
        VecDeque::len(self)
    }

    fn clear(&mut self) {
        VecDeque::clear(self);
    }
}

/// Input order, or completion order: a stream form chooses before its first
/// poll.
pub(crate) enum Order<T> {
    /// Input order; inputs start at most `window` past the head.
    Input {
        reorder: Reorder<T>,
        window: usize,
    },
    Completion(VecDeque<(usize, T)>),
}

impl<T> Buffer<T> for Order<T> {
    #[inline]
    fn push(&mut self, index: usize, result: T) {
        match self {
            Self::Input { reorder, .. } => reorder.insert(index, result),
            Self::Completion(ready) => ready.push_back((index, result)),
        }
    }

    #[inline]
    fn pop(&mut self) -> Option<(usize, T)> {
        match self {
            Self::Input { reorder, .. } => {
                let result = reorder.pop()?;
                Some((reorder.head() - 1, result))
            }
            Self::Completion(ready) => ready.pop_front(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Input { reorder, .. } => reorder.len(),
            Self::Completion(ready) => ready.len(),
        }
    }

    fn clear(&mut self) {
        match self {
            Self::Input { reorder, .. } => reorder.clear(),
            Self::Completion(ready) => ready.clear(),
        }
    }

    fn bound(&self) -> usize {
        match self {
            Self::Input { reorder, window } => reorder.head().saturating_add(*window),
            Self::Completion(_) => usize::MAX,
        }
    }
}

/// Completions in completion order: the buffer of `as_completed` and
/// `TaskGroup`.
pub(crate) type Completions<S> = VecDeque<(usize, ChildResult<Out<S>>)>;

/// An engine, and the completions it collected and did not hand out yet.
pub(crate) struct Batched<S: Source, B> {
    pub(crate) engine: Engine<S>,
    pub(crate) buffer: B,
    /// The completion that stopped the engine (see
    /// [`poll_next`](Self::poll_next)), handed out after the buffered
    /// completions that come before it in the buffer's order.
    stopped: Option<(usize, ChildResult<Out<S>>)>,
}

impl<S: Source, B: Buffer<ChildResult<Out<S>>>> Batched<S, B> {
    pub(crate) fn new(engine: Engine<S>, buffer: B) -> Self {
        Self {
            engine,
            buffer,
            stopped: None,
        }
    }

    /// The next completion: a buffered one, or else the one that stopped the
    /// engine, or else the first of those one more call to the engine
    /// collects. A completion for which `urgent` holds stops the engine (the
    /// rest of the call's children are not polled), and is handed out as
    /// soon as the completions buffered ahead of it are. `Ready(None)` once
    /// the engine finished and nothing is left.
    pub(crate) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        urgent: impl Fn(&ChildResult<Out<S>>) -> bool,
    ) -> Poll<Option<(usize, ChildResult<Out<S>>)>> {
        loop {
            if let Some(item) = self.buffer.pop() {
                return Poll::Ready(Some(item));
            }
            if let Some(item) = self.stopped.take() {
                return Poll::Ready(Some(item));
            }
            self.engine.set_bound(self.buffer.bound());
            let (buffer, stopped) = (&mut self.buffer, &mut self.stopped);
            let mut collected = false;
            let polled = self.engine.poll_each(cx, |index, result| {
                if urgent(&result) {
                    *stopped = Some((index, result));
                    return Step::Break;
                }
                collected = true;
                buffer.push(index, result);
                Step::Continue
            });
            if !collected && self.stopped.is_none() {
                return polled.map(|_| None);
            }
        }
    }

    /// Completions collected and not handed out yet.
    pub(crate) fn waiting(&self) -> usize {
        self.buffer.len() + usize::from(self.stopped.is_some())
    }

    /// Drops every child, the input, and the completions waiting.
    pub(crate) fn clear(&mut self) {
        self.engine.clear();
        self.buffer.clear();
        self.stopped = None;
    }

    /// Bounds on the completions still to hand out.
    pub(crate) fn size_hint(&self) -> (usize, Option<usize>) {
        let waiting = self.waiting();
        let (low, high) = self.engine.remaining();
        (
            low.saturating_add(waiting),
            high.and_then(|h| h.checked_add(waiting)),
        )
    }

    /// The engine finished and nothing is left to hand out.
    pub(crate) fn is_done(&self) -> bool {
        self.engine.is_done() && self.waiting() == 0
    }
}
