//! Where the engine's children come from: an iterator, a stream, or pushes.
//!
//! A [`Source`] hands the engine one input at a time, with the input index
//! that outcomes are reported under. The engine pulls only when it has room
//! for another child, so a source is never read further than needed.

use std::future::IntoFuture;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

/// The inputs of an engine.
pub(crate) trait Source {
    /// The children.
    type Fut: Future;

    /// The next input and its index. `Ready(None)` means no input will ever
    /// come again; `Pending` means none is available now, and the waker of
    /// `cx` is woken when one may be.
    fn poll_input(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, Self::Fut)>>;

    /// Bounds on the number of inputs still to come, as for iterators.
    fn size_hint(&self) -> (usize, Option<usize>);

    /// Up to `limit` inputs available now, each wrapped in `Some` (the
    /// engine's first chunk); `true` when the source is known to be
    /// exhausted. Only for sources that are never pending.
    fn take_ready(&mut self, limit: usize) -> (Vec<Option<Self::Fut>>, bool) {
        let mut noop = Context::from_waker(std::task::Waker::noop());
        let mut taken = Vec::new();
        while taken.len() < limit {
            match self.poll_input(&mut noop) {
                Poll::Ready(Some((_, fut))) => taken.push(Some(fut)),
                _ => return (taken, true),
            }
        }
        (taken, false)
    }

    /// Whether `poll_input` may return `Pending` (and so needs a waker of its
    /// own). Iterators never do.
    const ASYNC: bool;

    /// Whether a `Pending` from `poll_input` is followed by a wake of the
    /// context's waker. `false` for a source that only ever gets input through
    /// `&mut` access to its engine, which then calls `Engine::wake_source`.
    fn wakes(&self) -> bool {
        Self::ASYNC
    }
}

/// An iterator of futures, numbered from 0.
pub(crate) struct Iter<I> {
    /// `None` once taken whole by `take_ready`.
    iter: Option<I>,
    next: usize,
}

impl<I> Iter<I> {
    pub(crate) fn new(iter: I) -> Self {
        Self::starting_at(iter, 0)
    }

    /// Numbered from `next`.
    fn starting_at(iter: I, next: usize) -> Self {
        Self {
            iter: Some(iter),
            next,
        }
    }
}

impl<I> Source for Iter<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    type Fut = <I::Item as IntoFuture>::IntoFuture;
    const ASYNC: bool = false;

    #[inline]
    fn poll_input(&mut self, _cx: &mut Context<'_>) -> Poll<Option<(usize, Self::Fut)>> {
        let Some(iter) = &mut self.iter else {
            return Poll::Ready(None);
        };
        Poll::Ready(iter.next().map(|input| {
            let index = self.next;
            self.next += 1;
            (index, input.into_future())
        }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.as_ref().map_or((0, Some(0)), Iterator::size_hint)
    }

    #[inline]
    fn take_ready(&mut self, limit: usize) -> (Vec<Option<Self::Fut>>, bool) {
        let Some(iter) = &mut self.iter else {
            return (Vec::new(), true);
        };
        let taken: Vec<_> = if limit == usize::MAX {
            // Everything: collected from the iterator by value, which keeps
            // its size hint (one exact allocation, and the fast path of
            // exact-size iterators).
            let iter = self.iter.take().expect("checked above");
            iter.map(|input| Some(input.into_future())).collect()
        } else {
            iter.by_ref()
                .take(limit)
                .map(|input| Some(input.into_future()))
                .collect()
        };
        self.next += taken.len();
        // Stopping short of the limit means the iterator ran dry; so does
        // having no limit at all.
        let exhausted = taken.len() < limit || limit == usize::MAX;
        (taken, exhausted)
    }
}

/// An iterator whose first input may have been pulled ahead of time, to
/// check that there is one (`race`, which cannot finish without a child).
pub(crate) struct Peeked<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    /// Input 0, when pulled ahead.
    first: Option<<I::Item as IntoFuture>::IntoFuture>,
    rest: Iter<I>,
}

impl<I> Peeked<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    /// `None` if `iter` is empty: known from its size hint when it can tell,
    /// or else by pulling its first input (kept as input 0). The iterator
    /// itself is not wrapped (as `Peekable` would), so `take_ready` keeps
    /// collecting a `Vec`'s iterator in place.
    pub(crate) fn new(mut iter: I) -> Option<Self> {
        if iter.size_hint().0 > 0 {
            return Some(Self {
                first: None,
                rest: Iter::new(iter),
            });
        }
        let first = iter.next()?.into_future();
        Some(Self {
            first: Some(first),
            rest: Iter::starting_at(iter, 1),
        })
    }
}

impl<I> Source for Peeked<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    type Fut = <I::Item as IntoFuture>::IntoFuture;
    const ASYNC: bool = false;

    fn poll_input(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, Self::Fut)>> {
        match self.first.take() {
            Some(first) => Poll::Ready(Some((0, first))),
            None => self.rest.poll_input(cx),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (low, high) = self.rest.size_hint();
        let first = usize::from(self.first.is_some());
        (
            low.saturating_add(first),
            high.and_then(|high| high.checked_add(first)),
        )
    }

    fn take_ready(&mut self, limit: usize) -> (Vec<Option<Self::Fut>>, bool) {
        let Some(first) = self.first.take() else {
            return self.rest.take_ready(limit);
        };
        // Unlimited stays unlimited, so the rest keeps `Iter`'s collect path.
        let rest_limit = if limit == usize::MAX {
            limit
        } else {
            limit - 1
        };
        let (rest, exhausted) = self.rest.take_ready(rest_limit);
        let mut taken = Vec::with_capacity(rest.len() + 1);
        taken.push(Some(first));
        taken.extend(rest);
        (taken, exhausted)
    }
}

/// A stream of futures, numbered from 0. The stream is boxed so that it need
/// not be `Unpin` while the combinator that holds it is.
pub(crate) struct Streamed<S> {
    stream: Pin<Box<S>>,
    next: usize,
    done: bool,
}

impl<S> Streamed<S> {
    pub(crate) fn new(stream: S) -> Self {
        Self {
            stream: Box::pin(stream),
            next: 0,
            done: false,
        }
    }
}

impl<S> Source for Streamed<S>
where
    S: Stream,
    S::Item: IntoFuture,
{
    type Fut = <S::Item as IntoFuture>::IntoFuture;
    const ASYNC: bool = true;

    fn poll_input(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, Self::Fut)>> {
        if self.done {
            // Never poll a stream again after it ended: it need not be fused.
            return Poll::Ready(None);
        }
        match self.stream.as_mut().poll_next(cx) {
            Poll::Ready(Some(input)) => {
                let index = self.next;
                self.next += 1;
                Poll::Ready(Some((index, input.into_future())))
            }
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            self.stream.size_hint()
        }
    }
}
