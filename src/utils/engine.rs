//! The set of children behind every combinator that runs many futures:
//! `gather` and its family, `race`, `race_ok`, the stream forms and
//! `TaskGroup`. Children are polled inside the caller's task; each completion
//! (input index, output or panic) is handed to a *sink*, a closure that the
//! combinator supplies and that decides what happens next (see [`Step`]).
//! Set futures wrap the engine with a [`Sink`](crate::utils::set::Sink);
//! streams and `TaskGroup` collect each call's completions into a buffer
//! and hand them out one by one ([`Batched`](crate::utils::batch::Batched)).
//!
//! * Inputs come from a [`Source`]: an iterator, a stream, or pushes. The
//!   engine pulls an input only when it has room for another child (under the
//!   limit and the bound, see [`Engine::set_bound`]), and a child that
//!   completes frees its slot, which is refilled in the same call.
//! * Children live inline in pinned slots ([`PinSlice`]), in chunks: the
//!   first chunk holds what the first call could pull; more chunks, each at
//!   least as large as all before it, are added only when a pulled input finds
//!   no free slot, so memory follows the number of children alive, never the
//!   limit. A completed child is dropped at once.
//! * A child reaches its poll by one of two routes. The *first pass* polls
//!   each child of the first chunk once, in slot order starting at slot
//!   `start % len` and wrapping around ([`Engine::set_start`]: `race`
//!   rotates it), with a [`PassWaker`] until the set has its wake set: that
//!   is made only when a child clones the pass waker or wakes it, and the
//!   clone is the slot's own waker, so a set whose children are all ready
//!   allocates no wakers and every child that waits has a waker naming it
//!   (never the parent's). Every other
//!   poll comes from the *ready queue* of a [`WakeSet`]: a child woken by
//!   its slot waker, or a child just started in a freed or new slot (queued
//!   as if woken). So each child is polled once per wake, and a set that
//!   keeps wake order ([`Engine::keep_wake_order`]) polls its children in
//!   the order their wakes arrived.
//! * All chunks share one [`WakeSet`], a segment per chunk, so taking the
//!   next woken child and registering the parent's waker cost the same
//!   however many chunks there are, and children started later are polled
//!   in the order they started, whatever their chunk.
//! * A stream source gets a waker of its own too: a pending stream never
//!   holds back outputs of running children, and a woken one is pulled at
//!   the next call.
//! * Cooperative: apart from the first pass, one call polls at most as many
//!   children as the set has slots, and stops early after two children woke
//!   themselves while being polled, waking the parent so other tasks get a
//!   turn.
//! * A child that panics is dropped and its panic handed to the sink as
//!   [`Panic`], which decides whether to resume it or report it.
//! * Dropping the engine drops the children still running in input order,
//!   then the inputs not pulled yet.

use std::future::Future;
use std::ops::ControlFlow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;

use crate::Panic;
use crate::utils::raw::pin_slice::PinSlice;
use crate::utils::raw::wake_set::{PassWaker, WakeSet};
use crate::utils::source::Source;

/// A size above the bit-mask limit of the wake set, for tests of both kinds.
#[cfg(test)]
const SMALL: usize = 70;

/// What one child produced: its value, or the panic it raised.
pub(crate) type ChildResult<T> = Result<T, Panic>;

pub(crate) type Out<S> = <<S as Source>::Fut as Future>::Output;

/// What the sink wants after a completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Go on: refill the freed slot.
    Continue,
    /// Return `Ready(Break)` from [`Engine::poll_each`] now, without
    /// refilling the freed slot.
    Break,
    /// Start no new child (the source is dropped), let the running ones
    /// finish, and go on.
    Drain,
}

/// How the set runs, fixed before the first poll (except the bound).
#[derive(Debug, Clone, Copy)]
struct Config {
    /// The most children alive at once (`usize::MAX`: no limit).
    limit: usize,
    /// Pull no input while `pulled >= bound`.
    bound: usize,
    /// Where the first pass starts, modulo the number of slots.
    start: usize,
    /// Poll woken children in the order they were woken, whatever the size
    /// (set by `keep_wake_order`, and by a set that refills its slots).
    wake_order: bool,
}

pub(crate) struct Engine<S: Source> {
    state: State<S>,
}

// The running state stays inline, in the combinator's own future: boxing it
// would cost an allocation per set.
#[allow(clippy::large_enum_variant)]
enum State<S: Source> {
    /// Not polled yet: nothing pulled from the source. (The source is taken
    /// out when the set starts: moving the whole state out instead would
    /// copy it.)
    Idle {
        source: Option<S>,
        config: Config,
    },
    Running(Running<S>),
    /// Every child completed, or the set was cleared.
    Done,
}

/// One chunk of slots.
struct Chunk<F> {
    slots: PinSlice<F>,
    /// The input index of the child in each slot; `None` while it is the slot
    /// index (the first chunk, until a slot is refilled out of turn).
    inputs: Option<Box<[usize]>>,
}

impl<F> Chunk<F> {
    fn input(&self, slot: usize) -> usize {
        self.inputs.as_ref().map_or(slot, |inputs| inputs[slot])
    }
}

/// A slot: which chunk (0 is the first), and which slot in it.
type SlotRef = (usize, usize);

/// The waker a stream source is polled with: records that the source woke and
/// wakes the parent.
struct SourceWake {
    woken: AtomicBool,
    parent: AtomicWaker,
}

impl Wake for SourceWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.parent.wake();
    }
}

/// The state of a running set. Between two calls:
///
/// * `live` counts the occupied slots of all chunks, `capacity` all slots;
///   every slot in `free` is empty.
/// * Every occupied slot of the first chunk at a first-pass position at or
///   after `pass` has not been polled yet; every other occupied slot was
///   polled, or is in its wake set's ready queue (a child placed after the
///   first pass is queued when placed).
/// * `wakers` is set once a child of the first chunk needed a waker beyond
///   its poll, or a child was placed after the first pass; it has a segment
///   per chunk (chunk `c` is segment `c`), and keeps wake order
///   (`config.wake_order`) when asked to or when the set may grow.
/// * `source_parked`: the source returned `Pending`, and neither its waker
///   nor a push ([`Engine::wake_source`]) came since.
struct Running<S: Source> {
    /// `None` once exhausted, or dropped to drain.
    source: Option<S>,
    /// Async sources: the source's own waker.
    source_wake: Option<(Arc<SourceWake>, Waker)>,
    source_parked: bool,
    first: Chunk<S::Fut>,
    /// The chunks' wakers, made on first need (see [`PassWaker`]).
    wakers: Option<WakeSet>,
    more: Vec<Chunk<S::Fut>>,
    /// Empty slots, to be refilled before the set grows.
    free: Vec<SlotRef>,
    capacity: usize,
    live: usize,
    /// Inputs pulled so far.
    pulled: usize,
    config: Config,
    /// The next position of the first pass: position `p` is slot
    /// `(offset + p) % len` of the first chunk.
    pass: usize,
    offset: usize,
}

/// What one call to [`Running::poll_each`] counts.
struct Turn {
    /// Children polled from the ready queue, and self-wakes seen.
    polled: usize,
    self_wakes: usize,
    /// Async sources: inputs that may still be pulled in this call, so that
    /// an endless stream that is always ready cannot keep one call going;
    /// `pull_starved` records that the budget ran out.
    pull_budget: usize,
    pull_starved: bool,
    /// Whether the parent's waker was stored in the source's waker in this
    /// call (before the source is polled, or when the source waits).
    source_registered: bool,
}

/// Inputs an async source may hand over in one call, at least.
const PULL_BUDGET: usize = 32;

impl<S: Source> Engine<S> {
    pub(crate) fn new(source: S) -> Self {
        Self {
            state: State::Idle {
                source: Some(source),
                config: Config {
                    limit: usize::MAX,
                    bound: usize::MAX,
                    start: 0,
                    wake_order: false,
                },
            },
        }
    }

    fn config_mut(&mut self) -> Option<&mut Config> {
        match &mut self.state {
            State::Idle { config, .. } => Some(config),
            _ => None,
        }
    }

    /// Rotates the first polling order: the first pass visits slot
    /// `start % len` first, then the following slots, wrapping around. Call
    /// before the first poll.
    pub(crate) fn set_start(&mut self, start: usize) {
        if let Some(config) = self.config_mut() {
            config.start = start;
        }
    }

    /// Polls woken children in the order they were woken (by default, sets
    /// of up to 64 children poll each batch in slot order). Call before the
    /// first poll.
    pub(crate) fn keep_wake_order(&mut self) {
        if let Some(config) = self.config_mut() {
            config.wake_order = true;
        }
    }

    /// Sets the limit. `name` is the public method, for the panic message.
    #[track_caller]
    pub(crate) fn set_limit(&mut self, limit: usize, name: &str) {
        assert!(
            limit > 0,
            "{name}: the limit must be at least 1 (with 0 no child could ever run)"
        );
        let Some(config) = self.config_mut() else {
            panic!("{name}: the limit must be set before the first poll");
        };
        config.limit = limit;
    }

    /// Pulls no input whose pull count reaches `bound` (inputs numbered from
    /// 0 in pull order): the window of an ordered stream. May change at any
    /// time, before the first poll too; a raised bound takes effect at the
    /// next poll.
    pub(crate) fn set_bound(&mut self, bound: usize) {
        match &mut self.state {
            State::Idle { config, .. } => config.bound = bound,
            State::Running(run) => run.config.bound = bound,
            State::Done => {}
        }
    }

    /// Starts no new child from now on: the source is dropped, the running
    /// children go on.
    pub(crate) fn drain(&mut self) {
        match &mut self.state {
            State::Idle { .. } => self.state = State::Done,
            State::Running(run) => run.source = None,
            State::Done => {}
        }
    }

    /// The source, until it is exhausted or dropped.
    pub(crate) fn source_mut(&mut self) -> Option<&mut S> {
        match &mut self.state {
            State::Idle { source, .. } => source.as_mut(),
            State::Running(run) => run.source.as_mut(),
            State::Done => None,
        }
    }

    /// The source, until it is exhausted or dropped.
    pub(crate) fn source(&self) -> Option<&S> {
        match &self.state {
            State::Idle { source, .. } => source.as_ref(),
            State::Running(run) => run.source.as_ref(),
            State::Done => None,
        }
    }

    /// Starts `fut`, input `index`, in a free slot now, between polls, if the
    /// set is running, still takes input and has room under its limit; its
    /// first poll comes with the next call. Hands `fut` back otherwise.
    ///
    /// The caller keeps input order: it starts nothing here while earlier
    /// inputs wait in the source.
    pub(crate) fn start_now(&mut self, index: usize, fut: S::Fut) -> Result<(), S::Fut> {
        match &mut self.state {
            State::Running(run) if run.source.is_some() && run.has_room() => {
                run.pulled += 1;
                run.place(index, fut, None);
                Ok(())
            }
            _ => Err(fut),
        }
    }

    /// Marks the source as worth polling again (after a push).
    pub(crate) fn wake_source(&mut self) {
        if let State::Running(run) = &mut self.state {
            run.source_parked = false;
        }
    }

    /// Inputs pulled from the source so far.
    pub(crate) fn pulled(&self) -> usize {
        match &self.state {
            State::Running(run) => run.pulled,
            _ => 0,
        }
    }

    /// Children alive.
    pub(crate) fn live(&self) -> usize {
        match &self.state {
            State::Running(run) => run.live,
            _ => 0,
        }
    }

    /// A lower estimate of how many inputs remain to complete, for sizing
    /// output buffers.
    pub(crate) fn size_hint(&self) -> usize {
        self.remaining().0
    }

    /// Bounds on the number of completions still to come.
    pub(crate) fn remaining(&self) -> (usize, Option<usize>) {
        let (live, source) = match &self.state {
            State::Idle { source, .. } => (0, source.as_ref()),
            State::Running(run) => (run.live, run.source.as_ref()),
            State::Done => return (0, Some(0)),
        };
        let (low, high) = source.map_or((0, Some(0)), Source::size_hint);
        (
            live.saturating_add(low),
            high.and_then(|h| h.checked_add(live)),
        )
    }

    /// Not polled yet.
    pub(crate) fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle { .. })
    }

    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Drops every child (in input order) and the unpulled inputs.
    pub(crate) fn clear(&mut self) {
        self.state = State::Done;
    }

    /// Polls the children, handing each completion (input index, result) to
    /// `sink` in completion order. Returns `Ready(Continue)` once every input
    /// has completed, `Ready(Break)` as soon as `sink` breaks, and `Pending`
    /// when nothing more can be done in this call.
    pub(crate) fn poll_each(
        &mut self,
        cx: &mut Context<'_>,
        mut sink: impl FnMut(usize, ChildResult<Out<S>>) -> Step,
    ) -> Poll<ControlFlow<()>> {
        if let State::Idle { source, config } = &mut self.state {
            let (source, config) = (source.take().expect("an idle set has its source"), *config);
            self.state = State::Running(Running::start(source, config, cx));
        }
        let State::Running(run) = &mut self.state else {
            return Poll::Ready(ControlFlow::Continue(()));
        };
        let out = run.poll_each(cx, &mut sink);
        if let Poll::Ready(ControlFlow::Continue(())) = out {
            self.state = State::Done;
        }
        out
    }
}

impl<S: Source> Running<S> {
    /// Pulls what the source has now, up to the limit, into the first chunk.
    fn start(mut source: S, config: Config, cx: &mut Context<'_>) -> Self {
        let mut source_wake = None;
        let mut source_parked = false;
        let mut slots = Vec::new();
        let mut exhausted = false;
        let room = config.limit.min(config.bound);
        if S::ASYNC {
            // Room for what the loop below will take, as far as the source
            // says it has that many: one allocation instead of growing push
            // by push, and no room left over to shrink away.
            slots.reserve_exact(source.size_hint().0.min(room).min(PULL_BUDGET));
            let wake = Arc::new(SourceWake {
                woken: AtomicBool::new(false),
                parent: AtomicWaker::new(),
            });
            wake.parent.register(cx.waker());
            let waker = Waker::from(wake.clone());
            let mut scx = Context::from_waker(&waker);
            while slots.len() < room.min(PULL_BUDGET) {
                match source.poll_input(&mut scx) {
                    Poll::Ready(Some((_, fut))) => slots.push(Some(fut)),
                    Poll::Ready(None) => {
                        exhausted = true;
                        break;
                    }
                    Poll::Pending => {
                        source_parked = true;
                        break;
                    }
                }
            }
            source_wake = Some((wake, waker));
        } else {
            (slots, exhausted) = source.take_ready(room);
        }
        let slots = PinSlice::new(slots);
        let len = slots.len();
        // A set that may grow takes more segments of its wake set, which a
        // bit-mask queue cannot.
        let mut config = config;
        config.wake_order |= !exhausted && len < config.limit;
        Self {
            source: (!exhausted).then_some(source),
            source_wake,
            source_parked,
            first: Chunk {
                slots,
                inputs: None,
            },
            wakers: None,
            more: Vec::new(),
            free: Vec::new(),
            capacity: len,
            live: len,
            pulled: len,
            config,
            pass: 0,
            offset: config.start.checked_rem(len).unwrap_or(0),
        }
    }

    fn chunk(&mut self, chunk: usize) -> &mut Chunk<S::Fut> {
        if chunk == 0 {
            &mut self.first
        } else {
            &mut self.more[chunk - 1]
        }
    }

    fn is_occupied(&self, (chunk, slot): SlotRef) -> bool {
        let target = if chunk == 0 {
            &self.first
        } else {
            &self.more[chunk - 1]
        };
        target.slots.is_occupied(slot)
    }

    #[inline(always)]
    fn has_room(&self) -> bool {
        self.live < self.config.limit && self.pulled < self.config.bound
    }

    fn poll_each(
        &mut self,
        cx: &mut Context<'_>,
        sink: &mut impl FnMut(usize, ChildResult<Out<S>>) -> Step,
    ) -> Poll<ControlFlow<()>> {
        let mut turn = Turn {
            polled: 0,
            self_wakes: 0,
            pull_budget: self.capacity.max(PULL_BUDGET),
            pull_starved: false,
            source_registered: false,
        };
        let out = self.run(cx, &mut turn, sink);
        if S::ASYNC && out.is_pending() && turn.pull_starved {
            // More input is ready: come back for it after other tasks ran.
            cx.waker().wake_by_ref();
        }
        out
    }

    /// The one polling loop: the rest of the first pass, then the ready
    /// queue.
    #[inline(always)]
    fn run(
        &mut self,
        cx: &mut Context<'_>,
        turn: &mut Turn,
        sink: &mut impl FnMut(usize, ChildResult<Out<S>>) -> Step,
    ) -> Poll<ControlFlow<()>> {
        if self.first_pass(cx, turn, sink).is_break() {
            return Poll::Ready(ControlFlow::Break(()));
        }
        self.register(cx.waker(), turn);
        if self.source.is_some() {
            self.fill(cx, turn);
        }
        loop {
            if self.live == 0 {
                if self.source.is_none() {
                    self.release();
                    return Poll::Ready(ControlFlow::Continue(()));
                }
                // Waiting for input: `fill` ran after the last change.
                return Poll::Pending;
            }
            if turn.polled >= self.capacity || turn.self_wakes >= 2 {
                // This call polled its share (as many children as the set
                // has slots), or saw two children wake themselves: give
                // other tasks a turn before going on with the queue.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let Some(next) = self.next_woken() else {
                return Poll::Pending;
            };
            if !self.is_occupied(next) {
                // A late wake from a child that already finished.
                continue;
            }
            turn.polled += 1;
            if let Some(result) = self.poll_woken(next, turn) {
                if self.deliver(next, result, cx, turn, sink).is_break() {
                    return Poll::Ready(ControlFlow::Break(()));
                }
            }
        }
    }

    /// The rest of the first pass: each child of the first chunk not polled
    /// yet, once, in rotated slot order.
    #[inline(always)]
    fn first_pass(
        &mut self,
        cx: &mut Context<'_>,
        turn: &mut Turn,
        sink: &mut impl FnMut(usize, ChildResult<Out<S>>) -> Step,
    ) -> ControlFlow<()> {
        let len = self.first.slots.len();
        // Kept in a local while the pass runs.
        let mut pass = self.pass;
        // Where a pass waker makes the wake set; moved to `wakers` at once.
        let mut cell = OnceLock::new();
        while pass < len {
            let slot = rotated(self.offset, pass, len);
            pass += 1;
            let slots = &mut self.first.slots;
            let result = match &self.wakers {
                // Once a child made the wake set, the others get their slot
                // wakers at once: the same waker a clone would make.
                Some(wakers) => {
                    let waker = wakers.waker((0, slot));
                    poll_child(slots, slot, &mut Context::from_waker(&waker))
                }
                None => {
                    let pass = PassWaker {
                        cell: &cell,
                        len,
                        wake_order: self.config.wake_order,
                    };
                    pass.with(slot, |waker| {
                        poll_child(slots, slot, &mut Context::from_waker(waker))
                    })
                }
            };
            match result {
                Some(result) => {
                    if self.source.is_some() {
                        // Placing a child into the freed slot needs the set.
                        self.adopt(&mut cell);
                    }
                    if self.deliver((0, slot), result, cx, turn, sink).is_break() {
                        self.adopt(&mut cell);
                        self.pass = pass;
                        return ControlFlow::Break(());
                    }
                }
                None => {
                    self.adopt(&mut cell);
                    if self.wakers.as_ref().is_some_and(|w| w.is_queued((0, slot))) {
                        // Woke itself: counts toward yielding.
                        turn.self_wakes += 1;
                    }
                }
            }
        }
        self.adopt(&mut cell);
        self.pass = pass;
        ControlFlow::Continue(())
    }

    /// Takes the wake set a pass waker made, if one did.
    #[inline(always)]
    fn adopt(&mut self, cell: &mut OnceLock<WakeSet>) {
        if let Some(made) = cell.take() {
            self.wakers = Some(made);
        }
    }

    /// A child completed: frees its slot, hands the completion to the sink,
    /// and refills the slot unless the sink stops or drains.
    #[inline(always)]
    fn deliver(
        &mut self,
        at: SlotRef,
        result: ChildResult<Out<S>>,
        cx: &mut Context<'_>,
        turn: &mut Turn,
        sink: &mut impl FnMut(usize, ChildResult<Out<S>>) -> Step,
    ) -> ControlFlow<()> {
        let input = self.chunk(at.0).input(at.1);
        self.live -= 1;
        if self.source.is_some() {
            self.free.push(at);
        }
        // The sink sees the completion before the slot is refilled, so a
        // sink that stops or drains starts nothing more.
        match sink(input, result) {
            Step::Continue => {
                if self.source.is_some() {
                    self.fill(cx, turn);
                }
                ControlFlow::Continue(())
            }
            Step::Drain => {
                self.source = None;
                ControlFlow::Continue(())
            }
            Step::Break => ControlFlow::Break(()),
        }
    }

    /// Starts children from the source while there is room and input.
    #[inline]
    fn fill(&mut self, cx: &mut Context<'_>, turn: &mut Turn) {
        while self.has_room() {
            let Some(source) = &mut self.source else {
                return;
            };
            let polled = match &self.source_wake {
                None => source.poll_input(&mut Context::from_waker(Waker::noop())),
                Some((wake, waker)) => {
                    if turn.pull_budget == 0 {
                        turn.pull_starved = true;
                        return;
                    }
                    if self.source_parked {
                        // A load first: most calls find the source still
                        // waiting, and a swap is a locked write.
                        if !wake.woken.load(Ordering::Acquire)
                            || !wake.woken.swap(false, Ordering::AcqRel)
                        {
                            return;
                        }
                        self.source_parked = false;
                    }
                    if !turn.source_registered && source.wakes() {
                        // Before the poll, so that a wake during it finds it.
                        wake.parent.register(cx.waker());
                        turn.source_registered = true;
                    }
                    source.poll_input(&mut Context::from_waker(waker))
                }
            };
            match polled {
                Poll::Ready(Some((index, fut))) => {
                    self.pulled += 1;
                    turn.pull_budget = turn.pull_budget.saturating_sub(1);
                    self.place(index, fut, Some(cx.waker()));
                }
                Poll::Ready(None) => {
                    self.source = None;
                    return;
                }
                Poll::Pending => {
                    self.source_parked = true;
                    return;
                }
            }
        }
    }

    /// Puts a new child into a free slot, growing the set if there is none,
    /// and queues its first poll. `parent`, within a call, is registered with
    /// a wake set made here; outside one, the next call registers it.
    fn place(&mut self, index: usize, fut: S::Fut, parent: Option<&Waker>) {
        let (chunk, slot) = match self.free.pop() {
            Some(free) => free,
            None => self.grow(parent),
        };
        self.live += 1;
        let target = self.chunk(chunk);
        target.slots.put(slot, fut);
        if target.inputs.is_some() || index != slot || chunk != 0 {
            let len = target.slots.len();
            target.inputs.get_or_insert_with(|| (0..len).collect())[slot] = index;
        }
        self.wakers_mut(parent).schedule((chunk, slot));
    }

    /// The wake set, made now if no child needed it yet.
    #[inline(always)]
    fn wakers_mut(&mut self, parent: Option<&Waker>) -> &mut WakeSet {
        if self.wakers.is_none() {
            self.make_wakers(parent);
        }
        self.wakers.as_mut().expect("made above")
    }

    /// The wake set, for a child placed, or a chunk added, while no child
    /// had needed it yet.
    #[cold]
    fn make_wakers(&mut self, parent: Option<&Waker>) {
        let mut wakers = WakeSet::new(self.first.slots.len(), self.config.wake_order);
        if let Some(parent) = parent {
            wakers.register(parent);
        }
        self.wakers = Some(wakers);
    }

    /// Adds a chunk at least as large as all before it (up to the limit) and
    /// returns its first slot; the others go on the free list. `parent` as
    /// for [`place`](Self::place).
    #[cold]
    fn grow(&mut self, parent: Option<&Waker>) -> SlotRef {
        let size = self
            .capacity
            .max(4)
            .min(self.config.limit.saturating_sub(self.capacity))
            .max(1);
        debug_assert!(self.config.wake_order, "a set that grows keeps wake order");
        self.wakers_mut(parent).add_segment(size);
        let slots = (0..size).map(|_| None).collect();
        self.more.push(Chunk {
            slots: PinSlice::new(slots),
            inputs: Some(vec![0; size].into_boxed_slice()),
        });
        self.capacity += size;
        let chunk = self.more.len();
        self.free.extend((1..size).rev().map(|slot| (chunk, slot)));
        (chunk, 0)
    }

    /// The next queued slot.
    #[inline(always)]
    fn next_woken(&mut self) -> Option<SlotRef> {
        self.wakers.as_mut()?.next()
    }

    /// Stores the parent's waker everywhere a wake can come from, before the
    /// ready queue is read.
    fn register(&mut self, waker: &Waker, turn: &mut Turn) {
        if let Some(wakers) = &mut self.wakers {
            wakers.register(waker);
        }
        if let (Some((wake, _)), Some(source)) = (&self.source_wake, &self.source) {
            if self.source_parked && source.wakes() {
                wake.parent.register(waker);
                turn.source_registered = true;
            }
        }
    }

    /// Polls a queued child with its slot waker. `None` while it is pending
    /// (or the slot is empty); counts a self-wake.
    #[inline(always)]
    fn poll_woken(
        &mut self,
        (chunk, slot): SlotRef,
        turn: &mut Turn,
    ) -> Option<ChildResult<Out<S>>> {
        let target = if chunk == 0 {
            &mut self.first
        } else {
            &mut self.more[chunk - 1]
        };
        let wakers = self.wakers.as_ref().expect("a queued slot has wakers");
        let waker = wakers.waker((chunk, slot));
        let result = poll_child(&mut target.slots, slot, &mut Context::from_waker(&waker));
        if result.is_none() && wakers.is_queued((chunk, slot)) {
            // Woke itself: counts toward yielding.
            turn.self_wakes += 1;
        }
        result
    }

    /// Frees the slots' memory once nothing is left to run.
    fn release(&mut self) {
        self.first.slots.release();
        self.more = Vec::new();
        self.free = Vec::new();
    }
}

impl<S: Source> Drop for Running<S> {
    fn drop(&mut self) {
        // Children first, in input order; then the source and the rest.
        if self.first.inputs.is_none() && self.more.is_empty() {
            // Slot order is input order.
            self.first.slots.release();
            return;
        }
        let mut alive: Vec<(usize, SlotRef)> = Vec::new();
        for chunk in 0..=self.more.len() {
            let target = self.chunk(chunk);
            for slot in 0..target.slots.len() {
                if target.slots.is_occupied(slot) {
                    alive.push((target.input(slot), (chunk, slot)));
                }
            }
        }
        alive.sort_unstable_by_key(|&(input, _)| input);
        for (_, (chunk, slot)) in alive {
            self.chunk(chunk).slots.clear(slot);
        }
    }
}

/// Position `position` of a pass over `len` slots that starts at slot
/// `offset` (below `len`) and wraps around.
#[inline(always)]
fn rotated(offset: usize, position: usize, len: usize) -> usize {
    let slot = offset + position;
    if slot >= len { slot - len } else { slot }
}

/// Polls the child in `slot`, catching a panic. `None` while it is pending
/// (or the slot is empty); a child that completes or panics is dropped.
#[inline(always)]
fn poll_child<F: Future>(
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
    use crate::utils::batch::{Batched, Completions};
    use crate::utils::source::{Iter, Streamed};
    use std::cell::{Cell, RefCell};
    use std::collections::VecDeque;
    use std::future::Future;
    use std::pin::Pin;
    use std::rc::Rc;
    use std::task::Waker;

    type Stepper<S> = Batched<S, Completions<S>>;

    fn batched<S: Source>(source: S) -> Stepper<S> {
        Batched::new(Engine::new(source), VecDeque::new())
    }

    /// One completion at a time, as the stream forms hand them out.
    fn next<S: Source>(
        engine: &mut Stepper<S>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<(usize, ChildResult<Out<S>>)>> {
        engine.poll_next(cx, |_| false)
    }

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

    fn drain<S>(engine: &mut Stepper<S>, out: &mut Vec<usize>) -> bool
    where
        S: Source,
        S::Fut: Future<Output = usize>,
    {
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            match next(engine, &mut cx) {
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
        let mut engine = batched(Iter::new(futures.into_iter()));
        if let Some(limit) = limit {
            engine.engine.set_limit(limit, "test");
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
        let mut engine = batched(Iter::new(futures.into_iter()));
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
        let mut engine = batched(Iter::new((0..n).map(std::future::ready)));
        engine.engine.set_start(start);
        let mut cx = Context::from_waker(Waker::noop());
        let mut seen = Vec::new();
        while let Poll::Ready(Some((index, value))) = next(&mut engine, &mut cx) {
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
        let mut engine = batched(Iter::new((0..SMALL + 1).map(|i| async move {
            if i == 3 {
                panic!("child {i}");
            }
            i
        })));
        let mut cx = Context::from_waker(Waker::noop());
        let mut panics = 0;
        let mut values = 0;
        while let Poll::Ready(Some((_, result))) = next(&mut engine, &mut cx) {
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

    /// Child `i` of `n` yields `n - i` times: a fair executor completes
    /// them in reverse input order, whatever `n`.
    #[test]
    fn yielding_children_complete_in_fair_order() {
        for n in [2, 3, 10, 40, SMALL] {
            for wake_order in [false, true] {
                let mut engine = batched(Iter::new((0..n).map(|i| YieldN {
                    left: n - i,
                    value: i,
                })));
                if wake_order {
                    engine.engine.keep_wake_order();
                }
                let mut cx = Context::from_waker(Waker::noop());
                let mut seen = Vec::new();
                loop {
                    match next(&mut engine, &mut cx) {
                        Poll::Ready(Some((index, _))) => seen.push(index),
                        Poll::Ready(None) => break,
                        Poll::Pending => {}
                    }
                }
                let fair: Vec<usize> = (0..n).rev().collect();
                assert_eq!(seen, fair, "n = {n}, wake order: {wake_order}");
            }
        }
    }

    /// Pending `left` times, waking itself each time.
    struct YieldN {
        left: usize,
        value: usize,
    }

    impl Future for YieldN {
        type Output = usize;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
            if self.left == 0 {
                return Poll::Ready(self.value);
            }
            self.left -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    /// Records its input index in `log` when dropped.
    struct Logged {
        index: usize,
        log: Rc<std::cell::RefCell<Vec<usize>>>,
        ready: bool,
    }

    impl Future for Logged {
        type Output = usize;
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<usize> {
            if self.ready {
                Poll::Ready(self.index)
            } else {
                Poll::Pending
            }
        }
    }

    impl Drop for Logged {
        fn drop(&mut self) {
            self.log.borrow_mut().push(self.index);
        }
    }

    #[test]
    fn clear_drops_children_in_input_order_after_refills() {
        let log = Rc::new(std::cell::RefCell::new(Vec::new()));
        // Input 0 completes at once and its slot is refilled with input 3.
        let inputs = (0..4).map(|index| Logged {
            index,
            log: log.clone(),
            ready: index == 0,
        });
        let mut engine = batched(Iter::new(inputs));
        engine.engine.set_limit(3, "test");
        let mut cx = Context::from_waker(Waker::noop());
        assert!(matches!(
            next(&mut engine, &mut cx),
            Poll::Ready(Some((0, _)))
        ));
        assert!(next(&mut engine, &mut cx).is_pending());
        assert_eq!(*log.borrow(), [0]);
        engine.clear();
        assert_eq!(*log.borrow(), [0, 1, 2, 3]);
    }

    /// A stream source that is pending every other poll, waking itself.
    struct Trickle {
        next: usize,
        end: usize,
        ready: bool,
    }

    impl futures_core::Stream for Trickle {
        type Item = std::future::Ready<usize>;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            if self.next == self.end {
                return Poll::Ready(None);
            }
            self.ready = !self.ready;
            if !self.ready {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.next += 1;
            Poll::Ready(Some(std::future::ready(self.next - 1)))
        }
    }

    #[test]
    fn a_stream_source_feeds_the_set_and_grows_it() {
        for limit in [None, Some(1), Some(3)] {
            let mut engine = batched(Streamed::new(Trickle {
                next: 0,
                end: SMALL,
                ready: false,
            }));
            if let Some(limit) = limit {
                engine.engine.set_limit(limit, "test");
            }
            let mut cx = Context::from_waker(Waker::noop());
            let mut seen = Vec::new();
            loop {
                match next(&mut engine, &mut cx) {
                    Poll::Ready(Some((index, value))) => {
                        assert_eq!(value.ok(), Some(index));
                        seen.push(index);
                    }
                    Poll::Ready(None) => break,
                    Poll::Pending => {}
                }
            }
            assert_eq!(seen, (0..SMALL).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_growing_set_keeps_every_child_until_it_completes() {
        // Children from a stream that all stay pending: the set grows in
        // chunks, every child is kept, and a wake reaches each chunk.
        let (handles, futures) = children(SMALL);
        let mut engine = batched(Streamed::new(futures_util::stream::iter(futures)));
        let mut out = Vec::new();
        // An unlimited async source hands over a bounded number of inputs
        // per poll.
        for _ in 0..3 {
            assert!(!drain(&mut engine, &mut out));
        }
        assert_eq!(engine.engine.live(), SMALL);
        for i in (0..SMALL).rev() {
            handles[i].gate.set(true);
            if let Some(waker) = handles[i].parked.take() {
                waker.wake();
            }
            drain(&mut engine, &mut out);
        }
        assert!(drain(&mut engine, &mut out));
        assert_eq!(out, (0..SMALL).rev().collect::<Vec<_>>());
    }

    /// A stream of the futures pushed into `queue`; pending (keeping the
    /// waker it was polled with in `parked`) while the queue is empty.
    struct Pushed {
        queue: Rc<RefCell<VecDeque<Gated>>>,
        parked: Rc<Cell<Option<Waker>>>,
    }

    impl futures_core::Stream for Pushed {
        type Item = Gated;
        fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Gated>> {
            match self.queue.borrow_mut().pop_front() {
                Some(child) => Poll::Ready(Some(child)),
                None => {
                    self.parked.set(Some(cx.waker().clone()));
                    Poll::Pending
                }
            }
        }
    }

    struct Count(std::sync::atomic::AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_source_that_waits_after_the_task_moved_wakes_the_new_task() {
        // Limit 1: the first poll takes one input and does not poll the
        // source again, so the source is not waiting when the second poll,
        // under another waker, finds it empty.
        let (handles, mut futures) = children(2);
        let queue = Rc::new(RefCell::new(VecDeque::from([futures.remove(0)])));
        let parked = Rc::new(Cell::new(None));
        let mut engine = batched(Streamed::new(Pushed {
            queue: queue.clone(),
            parked: parked.clone(),
        }));
        engine.engine.set_limit(1, "test");
        let mut out = Vec::new();
        let mut sink = |_, result: ChildResult<usize>| {
            out.push(result.ok());
            Step::Continue
        };
        let (first, second) = (
            Arc::new(Count(Default::default())),
            Arc::new(Count(Default::default())),
        );
        let first_waker = Waker::from(first.clone());
        assert!(
            engine
                .engine
                .poll_each(&mut Context::from_waker(&first_waker), &mut sink)
                .is_pending()
        );
        // The task moves; its child completes, and the source, polled for
        // the freed slot, is empty.
        handles[0].gate.set(true);
        handles[0].parked.take().expect("pending on a waker").wake();
        let second_waker = Waker::from(second.clone());
        assert!(
            engine
                .engine
                .poll_each(&mut Context::from_waker(&second_waker), &mut sink)
                .is_pending()
        );
        let woken_before = second.0.load(Ordering::SeqCst);
        // An input arrives: the wake reaches the task where it is now.
        queue.borrow_mut().push_back(futures.remove(0));
        parked.take().expect("the source waits").wake();
        assert_eq!(second.0.load(Ordering::SeqCst), woken_before + 1);
        assert_eq!(out, [Some(0)]);
    }
}
