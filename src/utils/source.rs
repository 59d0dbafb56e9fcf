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
pub(crate) struct Iter<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    /// `None` once taken whole by `take_ready`.
    iter: Option<I>,
    /// Input `next`, when [`is_empty`](Self::is_empty) pulled it ahead of
    /// time.
    peeked: Option<<I::Item as IntoFuture>::IntoFuture>,
    next: usize,
}

impl<I> Iter<I>
where
    I: Iterator,
    I::Item: IntoFuture,
{
    pub(crate) fn new(iter: I) -> Self {
        Self {
            iter: Some(iter),
            peeked: None,
            next: 0,
        }
    }

    /// Whether any input is left: the iterator's size hint when it can
    /// tell, or else one input pulled ahead of time (and kept as input
    /// `next`). The iterator itself is not wrapped (as `Peekable` would), so
    /// `take_ready` keeps collecting a `Vec`'s iterator in place.
    pub(crate) fn is_empty(&mut self) -> bool {
        if self.peeked.is_some() {
            return false;
        }
        let Some(iter) = &mut self.iter else {
            return true;
        };
        if iter.size_hint().0 > 0 {
            return false;
        }
        self.peeked = iter.next().map(IntoFuture::into_future);
        self.peeked.is_none()
    }

    /// `take_ready` with an input pulled ahead: that one first, then what
    /// the iterator has, up to `limit` in all.
    #[cold]
    fn take_ready_peeked(
        &mut self,
        limit: usize,
    ) -> (Vec<Option<<I::Item as IntoFuture>::IntoFuture>>, bool) {
        let mut taken = vec![self.peeked.take()];
        self.next += 1;
        let (rest, exhausted) = self.take_ready(limit - 1);
        taken.extend(rest);
        (taken, exhausted || limit == usize::MAX)
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
        if let Some(fut) = self.peeked.take() {
            let index = self.next;
            self.next += 1;
            return Poll::Ready(Some((index, fut)));
        }
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
        let (low, high) = self.iter.as_ref().map_or((0, Some(0)), Iterator::size_hint);
        let peeked = usize::from(self.peeked.is_some());
        (
            low.saturating_add(peeked),
            high.and_then(|high| high.checked_add(peeked)),
        )
    }

    #[inline]
    fn take_ready(&mut self, limit: usize) -> (Vec<Option<Self::Fut>>, bool) {
        if self.peeked.is_some() {
            return self.take_ready_peeked(limit);
        }
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
