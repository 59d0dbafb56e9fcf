//! The page engine shared by [`Paginate`](super::Paginate),
//! [`Pages`](super::Pages) and [`PaginateNumbered`](super::PaginateNumbered):
//! requests in page order, prefetch window, caps, retries, rate limit, and the
//! queue of finished pages.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::retry::{Pacing, Wait};
use super::{OnRepeat, Page, PageError};

/// How one family of paginators learns its cursors and reads its responses.
pub(crate) trait Mode<C, O> {
    type Item;

    /// Called as the request for `cursor` starts. Returns the cursor after it
    /// when that is known in advance (numbered pages), `None` when it comes
    /// with the response (cursor pages).
    fn on_start(&mut self, cursor: &C) -> Option<C>;

    /// Turns the response for `cursor` into the page to yield (if any) and
    /// what comes after it. `after` is what [`Mode::on_start`] returned.
    fn on_page(&mut self, after: Option<C>, output: O) -> (Option<Page<Self::Item, C>>, Next<C>);

    /// Whether `output` ends the list, known as soon as it arrives, before the
    /// pages ahead of it do: no request starts after it.
    fn is_last(&self, output: &O) -> bool;
}

/// What follows a page.
pub(crate) enum Next<C> {
    /// Request this cursor next (ignored when the cursor was known in advance).
    More(C),
    /// The list is over.
    Done,
    /// The API handed back a cursor that was already requested.
    Repeated(C),
}

/// Cursor pages: the next cursor comes in the response; repeats are tracked.
pub(crate) struct CursorMode<C> {
    pub(crate) on_repeat: OnRepeat,
    pub(crate) seen: HashSet<C>,
}

impl<C, T> Mode<C, Page<T, C>> for CursorMode<C>
where
    C: Clone + Eq + Hash,
{
    type Item = T;

    fn on_start(&mut self, cursor: &C) -> Option<C> {
        // Later cursors are recorded as they arrive, in `on_page`.
        if self.on_repeat != OnRepeat::Allow && self.seen.is_empty() {
            self.seen.insert(cursor.clone());
        }
        None
    }

    fn on_page(&mut self, _: Option<C>, page: Page<T, C>) -> (Option<Page<T, C>>, Next<C>) {
        let next = match &page.next_cursor {
            None => Next::Done,
            Some(cursor)
                if self.on_repeat != OnRepeat::Allow && !self.seen.insert(cursor.clone()) =>
            {
                match self.on_repeat {
                    OnRepeat::Stop => Next::Done,
                    _ => Next::Repeated(cursor.clone()),
                }
            }
            Some(cursor) => Next::More(cursor.clone()),
        };
        (Some(page), next)
    }

    fn is_last(&self, page: &Page<T, C>) -> bool {
        page.next_cursor.is_none()
    }
}

/// Numbered pages: cursors computed in advance by `step`; the list ends at the
/// first empty page or the first page shorter than `page_size`.
pub(crate) struct NumberedMode<S> {
    pub(crate) step: S,
    pub(crate) page_size: Option<usize>,
}

impl<C, S, T> Mode<C, Vec<T>> for NumberedMode<S>
where
    C: Clone,
    S: FnMut(&C) -> C,
{
    type Item = T;

    fn on_start(&mut self, cursor: &C) -> Option<C> {
        Some((self.step)(cursor))
    }

    fn on_page(&mut self, after: Option<C>, items: Vec<T>) -> (Option<Page<T, C>>, Next<C>) {
        if items.is_empty() {
            (None, Next::Done)
        } else if self.page_size.is_some_and(|size| items.len() < size) {
            (Some(Page::last(items)), Next::Done)
        } else {
            let after = after.expect("numbered cursors are computed at start");
            (Some(Page::next(items, after.clone())), Next::More(after))
        }
    }

    fn is_last(&self, items: &Vec<T>) -> bool {
        items.is_empty() || self.page_size.is_some_and(|size| items.len() < size)
    }
}

/// The most pages a stream requests ahead of its reader, whatever
/// `prefetch(k)` asked for.
pub(crate) const MAX_PREFETCH: usize = 1024;

/// Whether the reader still holds items of an earlier page.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader {
    /// It has nothing left to read: one page may be requested for it even
    /// without prefetch.
    Waiting,
    /// It is still reading an earlier page: only prefetch requests start.
    Reading,
}

/// The state of the cursor to request next.
enum Upcoming<C> {
    Known(C),
    /// It arrives with the response in flight.
    Waiting,
    Done,
}

/// A request's future, pinned in an allocation that is reused from request
/// to request (`None` between attempts).
type FutBox<Fut> = Pin<Box<Option<Fut>>>;

/// One page's request, in page order.
struct Slot<C, Fut, O, E> {
    cursor: C,
    after: Option<C>,
    /// Attempts so far, and a retry backoff or the rate limit to wait for
    /// before calling `fetch`.
    wait: Wait,
    fut: FutBox<Fut>,
    result: Option<Result<O, E>>,
}

pub(crate) struct Core<C, F, Fut, O, T, E, M> {
    fetch: F,
    mode: M,
    upcoming: Upcoming<C>,
    /// Requests started and not yet moved to `ready`, in page order. It grows
    /// one request at a time, as requests start.
    slots: VecDeque<Slot<C, Fut, O, E>>,
    ready: VecDeque<Result<Page<T, C>, PageError<E, C>>>,
    spare: Vec<FutBox<Fut>>,
    prefetch: usize,
    max_pages: usize,
    max_items: usize,
    pages_started: usize,
    items_seen: usize,
    polled: bool,
    pacing: Pacing<E>,
}

impl<C, F, Fut, O, T, E, M> Core<C, F, Fut, O, T, E, M> {
    pub(crate) fn new(first: C, fetch: F, mode: M) -> Self {
        Self {
            fetch,
            mode,
            upcoming: Upcoming::Known(first),
            slots: VecDeque::new(),
            ready: VecDeque::new(),
            spare: Vec::new(),
            prefetch: 0,
            max_pages: usize::MAX,
            max_items: usize::MAX,
            pages_started: 0,
            items_seen: 0,
            polled: false,
            pacing: Pacing::new(),
        }
    }

    #[track_caller]
    pub(crate) fn configure(&mut self, method: &str) -> &mut Self {
        assert!(
            !self.polled,
            "aiokit::{method}: called after the stream was first polled"
        );
        self
    }

    pub(crate) fn set_prefetch(&mut self, pages: usize) {
        self.prefetch = pages.min(MAX_PREFETCH);
    }

    pub(crate) fn set_max_pages(&mut self, pages: usize) {
        self.max_pages = pages;
    }

    pub(crate) fn set_max_items(&mut self, items: usize) {
        self.max_items = items;
    }

    pub(crate) fn mode_mut(&mut self) -> &mut M {
        &mut self.mode
    }

    #[cfg(feature = "time")]
    pub(crate) fn pacing_mut(&mut self) -> &mut Pacing<E> {
        &mut self.pacing
    }

    /// No request is in flight or waiting to start.
    #[inline]
    pub(crate) fn is_idle(&self) -> bool {
        self.slots.is_empty()
    }

    /// No page will ever be yielded again.
    pub(crate) fn is_finished(&self) -> bool {
        matches!(self.upcoming, Upcoming::Done) && self.slots.is_empty() && self.ready.is_empty()
    }

    pub(crate) fn pop(&mut self) -> Option<Result<Page<T, C>, PageError<E, C>>> {
        self.ready.pop_front()
    }

    fn finish(&mut self) {
        self.upcoming = Upcoming::Done;
        // Requests for pages after the end (numbered prefetch) are dropped.
        self.slots.clear();
    }

    pub(crate) fn debug_fields(&self, s: &mut fmt::DebugStruct<'_, '_>) {
        s.field("pages_requested", &self.pages_started)
            .field("in_flight", &self.slots.len())
            .field("pages_ready", &self.ready.len())
            .field("prefetch", &self.prefetch)
            .field("done", &self.is_finished());
    }
}

/// Ends the stream if a request, `fetch`, `step` or the retry predicate
/// panics while the engine runs: every request in flight is dropped during
/// the unwind, and a stream polled again yields the pages that had arrived
/// before the panic, then ends.
struct EndOnUnwind<'a, C, F, Fut, O, T, E, M> {
    core: &'a mut Core<C, F, Fut, O, T, E, M>,
    armed: bool,
}

impl<C, F, Fut, O, T, E, M> Drop for EndOnUnwind<'_, C, F, Fut, O, T, E, M> {
    fn drop(&mut self) {
        if self.armed {
            self.core.finish();
        }
    }
}

impl<C, F, Fut, O, T, E, M> Core<C, F, Fut, O, T, E, M>
where
    C: Clone,
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<O, E>>,
    M: Mode<C, O, Item = T>,
{
    /// May another request start now?
    fn can_start(&self, reader: Reader) -> bool {
        if !matches!(self.upcoming, Upcoming::Known(_))
            || self.pages_started >= self.max_pages
            || self.items_seen >= self.max_items
        {
            return false;
        }
        let ahead = self.slots.len() + self.ready.len();
        ahead < self.prefetch || (ahead == 0 && reader == Reader::Waiting)
    }

    fn start(&mut self) {
        let Upcoming::Known(cursor) = std::mem::replace(&mut self.upcoming, Upcoming::Waiting)
        else {
            unreachable!("start without a known cursor")
        };
        let after = self.mode.on_start(&cursor);
        if let Some(after) = &after {
            self.upcoming = Upcoming::Known(after.clone());
        }
        self.pages_started += 1;
        let fut = self.spare.pop().unwrap_or_else(|| Box::pin(None));
        self.slots.push_back(Slot {
            cursor,
            after,
            wait: Wait::new(),
            fut,
            result: None,
        });
    }

    /// Polls one unfinished slot until it has a result or is pending: waits
    /// for the rate limit or a backoff, calls `fetch`, retries.
    fn poll_slot(
        fetch: &mut F,
        pacing: &mut Pacing<E>,
        slot: &mut Slot<C, Fut, O, E>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<O, E>> {
        loop {
            if slot.fut.is_none() {
                if pacing.poll_start(&mut slot.wait, cx).is_pending() {
                    return Poll::Pending;
                }
                slot.fut.set(Some(fetch(slot.cursor.clone())));
            }
            let fut = slot
                .fut
                .as_mut()
                .as_pin_mut()
                .expect("a request is running");
            let Poll::Ready(result) = fut.poll(cx) else {
                return Poll::Pending;
            };
            slot.fut.set(None);
            match result {
                Err(error) if pacing.retry(&mut slot.wait, &error) => {}
                result => return Poll::Ready(result),
            }
        }
    }

    /// Polls the request at `index` if it has no result yet. A result that
    /// ends the list (an error, the last page) drops the requests after it
    /// and stops new ones.
    fn poll_at(&mut self, index: usize, cx: &mut Context<'_>) {
        let slot = &mut self.slots[index];
        if slot.result.is_some() {
            return;
        }
        if let Poll::Ready(result) = Self::poll_slot(&mut self.fetch, &mut self.pacing, slot, cx) {
            let last = match &result {
                Ok(output) => self.mode.is_last(output),
                Err(_) => true,
            };
            slot.result = Some(result);
            if last {
                self.upcoming = Upcoming::Done;
                self.slots.truncate(index + 1);
            }
        }
    }

    /// Polls the requests in flight, moves finished pages, in page order, to
    /// the ready queue, and starts the requests the window allows, one at a
    /// time, each polled as it starts (so an immediate end stops the next
    /// start).
    pub(crate) fn drive(&mut self, cx: &mut Context<'_>, reader: Reader) {
        self.polled = true;
        let mut guard = EndOnUnwind {
            core: self,
            armed: true,
        };
        let core = &mut *guard.core;
        let mut index = 0;
        while index < core.slots.len() {
            core.poll_at(index, cx);
            index += 1;
        }
        loop {
            while core.slots.front().is_some_and(|slot| slot.result.is_some()) {
                let slot = core.slots.pop_front().expect("front exists");
                core.finish_slot(slot);
            }
            if core.slots.is_empty()
                && (core.pages_started >= core.max_pages || core.items_seen >= core.max_items)
            {
                // A cap is reached: no request will ever start again.
                core.upcoming = Upcoming::Done;
            }
            if !core.can_start(reader) {
                break;
            }
            core.start();
            core.poll_at(core.slots.len() - 1, cx);
        }
        guard.armed = false;
    }

    fn finish_slot(&mut self, slot: Slot<C, Fut, O, E>) {
        self.spare.push(slot.fut);
        let output = match slot.result.expect("finished slot") {
            Ok(output) => output,
            Err(error) => {
                self.ready.push_back(Err(PageError::Fetch {
                    error,
                    cursor: slot.cursor,
                }));
                self.finish();
                return;
            }
        };
        let (page, next) = self.mode.on_page(slot.after, output);
        let mut over = false;
        if let Some(mut page) = page {
            let room = self.max_items - self.items_seen;
            if page.items.len() >= room {
                page.items.truncate(room);
                over = true;
            }
            self.items_seen += page.items.len();
            self.ready.push_back(Ok(page));
        }
        match next {
            Next::More(cursor) => {
                if matches!(self.upcoming, Upcoming::Waiting) {
                    self.upcoming = Upcoming::Known(cursor);
                }
            }
            Next::Done => over = true,
            Next::Repeated(cursor) => {
                self.ready
                    .push_back(Err(PageError::RepeatedCursor { cursor }));
                over = true;
            }
        }
        if over {
            self.finish();
        }
    }
}
