//! The page engine shared by [`Paginate`](super::Paginate),
//! [`Pages`](super::Pages) and [`PaginateNumbered`](super::PaginateNumbered):
//! requests in page order, prefetch window, caps, retries, rate limit, and the
//! queue of finished pages.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{OnRepeat, Page, PageError};

#[cfg(feature = "time")]
use super::Retry;
#[cfg(feature = "time")]
use std::time::{Duration, Instant};

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
    pub(crate) seen: HashSet<C, SeenState>,
}

/// The hasher of the set of requested cursors: a multiply-rotate hash (one
/// multiplication per 8 bytes), seeded per stream from `RandomState`. SipHash
/// cost a fifth of the throughput of in-memory pages; cursors are few and
/// the worst a crafted collision can do is slow one stream down.
#[derive(Clone)]
pub(crate) struct SeenState(u64);

impl SeenState {
    pub(crate) fn new() -> Self {
        Self(RandomState::new().hash_one(0x5eed_u64) | 1)
    }
}

impl BuildHasher for SeenState {
    type Hasher = SeenHasher;

    fn build_hasher(&self) -> SeenHasher {
        SeenHasher(self.0)
    }
}

pub(crate) struct SeenHasher(u64);

impl SeenHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for SeenHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // Mix the high bits down: hashbrown takes its tag from the top 7 bits.
        (self.0 ^ (self.0 >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
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
}

/// The state of the cursor to request next.
enum Upcoming<C> {
    Known(C),
    /// It arrives with the response in flight.
    Waiting,
    Done,
}

/// A request's future, pinned in an allocation that is reused from request
/// to request (`None` between requests).
type FutBox<Fut> = Pin<Box<Option<Fut>>>;

/// One page's request, in page order.
struct Slot<C, Fut, O, E> {
    cursor: C,
    after: Option<C>,
    #[cfg(feature = "time")]
    attempts: u32,
    /// Waiting for the rate limit or a retry backoff before calling `fetch`.
    #[cfg(feature = "time")]
    delay: Option<async_io::Timer>,
    fut: FutBox<Fut>,
    result: Option<Result<O, E>>,
}

/// The minimum interval between requests.
#[cfg(feature = "time")]
struct Gate {
    interval: Duration,
    /// When the last request started; `None` before the first.
    last: Option<Instant>,
}

#[cfg(feature = "time")]
impl Gate {
    /// Starts a request now if the interval allows it, or returns a timer for
    /// the moment it will.
    fn try_start(&mut self, now: Instant) -> Result<(), async_io::Timer> {
        if let Some(last) = self.last {
            match last.checked_add(self.interval) {
                // `interval` overflows `Instant`: no second request, ever.
                None => return Err(async_io::Timer::never()),
                Some(allowed) if now < allowed => return Err(async_io::Timer::at(allowed)),
                Some(_) => {}
            }
        }
        self.last = Some(now);
        Ok(())
    }
}

pub(crate) struct Core<C, F, Fut, O, T, E, M> {
    fetch: F,
    mode: M,
    upcoming: Upcoming<C>,
    slots: VecDeque<Slot<C, Fut, O, E>>,
    ready: VecDeque<Result<Page<T, C>, PageError<E, C>>>,
    spare: Vec<FutBox<Fut>>,
    prefetch: usize,
    max_pages: usize,
    max_items: usize,
    pages_started: usize,
    items_seen: usize,
    polled: bool,
    #[cfg(feature = "time")]
    retry: Option<Retry<E>>,
    #[cfg(feature = "time")]
    gate: Option<Gate>,
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
            #[cfg(feature = "time")]
            retry: None,
            #[cfg(feature = "time")]
            gate: None,
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
        self.prefetch = pages;
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
    pub(crate) fn set_retry(&mut self, retry: Retry<E>) {
        self.retry = Some(retry);
    }

    #[cfg(feature = "time")]
    pub(crate) fn set_min_interval(&mut self, interval: Duration) {
        self.gate = Some(Gate {
            interval,
            last: None,
        });
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

impl<C, F, Fut, O, T, E, M> Core<C, F, Fut, O, T, E, M>
where
    C: Clone,
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<O, E>>,
    M: Mode<C, O, Item = T>,
{
    /// May another request start now? `busy`: the consumer still holds items
    /// of an earlier page.
    fn can_start(&self, busy: bool) -> bool {
        if !matches!(self.upcoming, Upcoming::Known(_))
            || self.pages_started >= self.max_pages
            || self.items_seen >= self.max_items
        {
            return false;
        }
        let ahead = self.slots.len() + self.ready.len();
        ahead < self.prefetch || (ahead == 0 && !busy)
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
        let mut fut = self.spare.pop().unwrap_or_else(|| Box::pin(None));
        #[cfg(feature = "time")]
        let delay = self
            .gate
            .as_mut()
            .and_then(|gate| gate.try_start(Instant::now()).err());
        #[cfg(feature = "time")]
        let run_now = delay.is_none();
        #[cfg(not(feature = "time"))]
        let run_now = true;
        if run_now {
            fut.set(Some((self.fetch)(cursor.clone())));
        }
        self.slots.push_back(Slot {
            cursor,
            after,
            #[cfg(feature = "time")]
            attempts: 1,
            #[cfg(feature = "time")]
            delay,
            fut,
            result: None,
        });
    }

    /// Polls one unfinished slot until it has a result or is pending.
    #[cfg_attr(not(feature = "time"), allow(clippy::never_loop, unused_variables))]
    fn poll_slot(
        fetch: &mut F,
        #[cfg(feature = "time")] retry: &Option<Retry<E>>,
        #[cfg(feature = "time")] gate: &mut Option<Gate>,
        slot: &mut Slot<C, Fut, O, E>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<O, E>> {
        loop {
            #[cfg(feature = "time")]
            if let Some(timer) = &mut slot.delay {
                if Pin::new(timer).poll(cx).is_pending() {
                    return Poll::Pending;
                }
                if let Some(gate) = gate.as_mut() {
                    // Another request may have started since this timer was set.
                    if let Err(later) = gate.try_start(Instant::now()) {
                        slot.delay = Some(later);
                        continue;
                    }
                }
                slot.delay = None;
                slot.fut.set(Some(fetch(slot.cursor.clone())));
            }
            let fut = slot
                .fut
                .as_mut()
                .as_pin_mut()
                .expect("a request is running");
            let error = match fut.poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(output)) => {
                    slot.fut.set(None);
                    return Poll::Ready(Ok(output));
                }
                Poll::Ready(Err(error)) => {
                    slot.fut.set(None);
                    error
                }
            };
            #[cfg(feature = "time")]
            if let Some(retry) = retry {
                if slot.attempts < retry.max_attempts && (retry.retryable)(&error) {
                    slot.attempts += 1;
                    // The rate limit is checked when this timer fires.
                    slot.delay = Some(
                        match Instant::now().checked_add(retry.backoff_after(slot.attempts - 1)) {
                            None => async_io::Timer::never(),
                            Some(at) => async_io::Timer::at(at),
                        },
                    );
                    continue;
                }
            }
            return Poll::Ready(Err(error));
        }
    }

    /// Starts the requests the window allows, polls the requests in flight,
    /// and moves finished pages, in page order, to the ready queue.
    pub(crate) fn drive(&mut self, cx: &mut Context<'_>, busy: bool) {
        self.polled = true;
        loop {
            if self.slots.is_empty()
                && (self.pages_started >= self.max_pages || self.items_seen >= self.max_items)
            {
                // A cap is reached: no request will ever start again.
                self.upcoming = Upcoming::Done;
            }
            while self.can_start(busy) {
                self.start();
            }
            for slot in self.slots.iter_mut() {
                if slot.result.is_none() {
                    if let Poll::Ready(result) = Self::poll_slot(
                        &mut self.fetch,
                        #[cfg(feature = "time")]
                        &self.retry,
                        #[cfg(feature = "time")]
                        &mut self.gate,
                        slot,
                        cx,
                    ) {
                        slot.result = Some(result);
                    }
                }
            }
            let mut progress = false;
            while self.slots.front().is_some_and(|slot| slot.result.is_some()) {
                let slot = self.slots.pop_front().expect("front exists");
                progress = true;
                self.finish_slot(slot);
            }
            if !progress {
                return;
            }
        }
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
