//! The set of children behind every combinator that runs many futures:
//! `gather` and its family, `race`, `race_ok`, the stream forms and
//! `TaskGroup`. Children are polled inside the caller's task; each completion
//! (input index, output or panic) is handed to a *sink*, a closure that the
//! combinator supplies and that decides what happens next (see [`Step`]).
//!
//! * Inputs come from a [`Source`]: an iterator, a stream, or pushes. The
//!   engine pulls an input only when it has room for another child (under the
//!   limit and the bound, see [`Engine::set_bound`]), and a child that
//!   completes frees its slot, which is refilled in the same poll.
//! * Children live inline in pinned slots ([`PinSlice`]), in chunks: the
//!   first chunk holds what the first poll could pull; more chunks, each at
//!   least as large as all before it, are added only when a pulled input finds
//!   no free slot, so memory follows the number of children alive, never the
//!   limit. A completed child is dropped at once.
//! * The first poll goes once through the first chunk (the first pass). It
//!   starts with the parent's waker, so a set whose children are all ready
//!   allocates no wakers; at the first child that stays pending the chunk
//!   switches to slot wakers for the children after it. That first pending
//!   child, which holds the parent's waker, is polled again with its own
//!   waker at the next parent poll (or in the same poll, if another child
//!   woke meanwhile), so every child gets one turn per wake. A set over an
//!   iterator without a limit takes every input at once and runs this pass
//!   before it builds its running state ([`Running::first_pass`]), so a set
//!   whose children all complete in the pass never builds it.
//! * The chunks after the first share one [`WakeSet`], a segment per chunk,
//!   so taking the next woken child and registering the parent's waker cost
//!   the same however many chunks there are.
//! * From then on every child is polled with its own slot waker from a
//!   [`WakeSet`], and only woken children are polled again. A stream source
//!   gets a waker of its own too: its wake-ups are handled like a child's,
//!   and a pending stream never holds back outputs of running children.
//! * The first pass goes through the slots starting at slot `start % len` and
//!   wrapping around ([`Engine::set_start`], 0 by default), so `race` can
//!   rotate which child is polled first.
//! * Cooperative: after the first pass, one call polls at most as many
//!   children as the set has slots, and stops early after two children woke
//!   themselves while being polled, waking the parent so other tasks get a
//!   turn.
//! * A child that panics is dropped and its panic handed to the sink as
//!   [`Panic`], which decides whether to resume it or report it.
//! * When a completion is handed out one at a time (streams), the freed slot
//!   is refilled and the new child polled before the call returns, so the
//!   set keeps its children running while the caller works on the output;
//!   what such a child completes at once is kept for the next call.
//! * Dropping the engine drops the children still running in input order,
//!   then the inputs not pulled yet.

use std::collections::VecDeque;
use std::future::Future;
use std::mem;
use std::ops::ControlFlow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;

use crate::Panic;
use crate::utils::raw::pin_slice::PinSlice;
use crate::utils::raw::wake_set::WakeSet;
use crate::utils::source::Source;

/// A size above the bit-mask limit of the wake set, for tests of both kinds.
#[cfg(test)]
const SMALL: usize = 70;

/// What one child produced: its value, or the panic it raised.
pub(crate) type ChildResult<T> = Result<T, Panic>;

type Out<S> = <<S as Source>::Fut as Future>::Output;

/// What the sink wants after a completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Go on.
    Continue,
    /// Return `Ready(Break)` from [`Engine::poll_each`] now, without
    /// refilling the freed slot (the caller is about to stop the set).
    Break,
    /// Return `Ready(Break)` from [`Engine::poll_each`] now, after refilling
    /// the freed slot (the caller hands out one item and goes on).
    Yield,
    /// Start no new child (the source is dropped), let the running ones
    /// finish, and go on.
    Drain,
}

/// How the set runs, fixed before the first poll.
#[derive(Debug, Clone, Copy)]
struct Config {
    /// The most children alive at once (`usize::MAX`: no limit).
    limit: usize,
    /// Where the first pass starts, modulo the number of slots.
    start: usize,
    /// Poll woken children in the order they were woken, whatever the size.
    wake_order: bool,
}

pub(crate) struct Engine<S: Source> {
    state: State<S>,
}

// The running state stays inline, in the combinator's own future: boxing it
// would cost an allocation per set.
#[allow(clippy::large_enum_variant)]
enum State<S: Source> {
    /// Not polled yet: nothing pulled from the source.
    Idle {
        source: S,
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
    /// index (the first chunk, until a slot is refilled).
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

struct Running<S: Source> {
    /// `None` once exhausted, or dropped to drain.
    source: Option<S>,
    /// Async sources: the source's own waker, and whether the source is
    /// waiting for it (returned `Pending` and has not woken since).
    source_wake: Option<(Arc<SourceWake>, Waker)>,
    source_parked: bool,
    /// Whether the parent's waker was stored in the source's waker in this
    /// call: it is stored only before the source is polled, or when the
    /// source waits for a wake.
    source_registered: bool,
    /// Whether this call stored its waker everywhere a wake can come from
    /// (the wake sets, and the source if it waits): see
    /// [`Engine::is_quiet`].
    registered: bool,
    first: Chunk<S::Fut>,
    /// The first chunk's wakers, once a child in it was pending.
    wakers: Option<WakeSet>,
    more: Vec<Chunk<S::Fut>>,
    /// The wakers of the other chunks: one set, a segment per chunk (chunk
    /// `c` is segment `c - 1`), so finding woken children and registering
    /// the parent cost the same however many chunks there are.
    // Boxed: only sets that grew have them.
    more_wakers: Option<Box<WakeSet>>,
    /// Empty slots, to be refilled before the set grows.
    free: Vec<SlotRef>,
    /// Slots in all chunks.
    capacity: usize,
    /// Children alive.
    live: usize,
    /// Inputs pulled so far.
    pulled: usize,
    /// Pull no input while `pulled >= bound`.
    bound: usize,
    config: Config,
    /// The first pass's position: position `p` is slot `(offset + p) % len`
    /// of the first chunk.
    first_pass: usize,
    offset: usize,
    /// Slots of the first chunk refilled behind the first pass's position
    /// while no child was pending yet: polled with the parent's waker after
    /// the pass, in the order they were refilled.
    revisit: VecDeque<usize>,
    /// A first-chunk slot whose child is pending on the parent's waker.
    deferred: Option<usize>,
    /// Children polled, and self-wakes seen, since `poll_each` last returned
    /// `Pending`.
    polled: usize,
    self_wakes: usize,
    /// Async sources: inputs that may still be pulled in this call, so that
    /// an endless stream that is always ready cannot keep one call going;
    /// `pull_starved` records that the budget ran out.
    pull_budget: usize,
    pull_starved: bool,
    /// While handing out one completion (`Step::Yield`): the children just
    /// started into freed slots, which get their first poll before the
    /// completion is returned; what they complete waits in `stash` for the
    /// next call.
    collect_placed: bool,
    placed: Vec<SlotRef>,
    stash: VecDeque<(usize, ChildResult<Out<S>>)>,
}

/// How [`Running::first_pass`] ended.
enum Pass {
    /// Every child completed, or the sink stopped the set: the result.
    Done(Poll<ControlFlow<()>>),
    /// The sink took one completion (`Step::Yield`); the rest go on, in the
    /// running state.
    Yielded,
    /// A child stayed pending; the pass goes on in `Running::poll_each`.
    Pending,
}

/// Inputs an async source may hand over in one call, at least.
const PULL_BUDGET: usize = 32;

impl<S: Source> Engine<S> {
    pub(crate) fn new(source: S) -> Self {
        Self {
            state: State::Idle {
                source,
                config: Config {
                    limit: usize::MAX,
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

    /// After the first pass, polls woken children in the order they were woken
    /// (by default, sets of up to 64 children poll each batch in slot order).
    /// Call before the first poll.
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
    /// time; a raised bound takes effect at the next poll.
    pub(crate) fn set_bound(&mut self, bound: usize) {
        if let State::Running(run) = &mut self.state {
            run.bound = bound;
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
            State::Idle { source, .. } => Some(source),
            State::Running(run) => run.source.as_mut(),
            State::Done => None,
        }
    }

    /// The source, until it is exhausted or dropped.
    pub(crate) fn source(&self) -> Option<&S> {
        match &self.state {
            State::Idle { source, .. } => Some(source),
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

    /// Whether the engine was polled (or cleared): its configuration is fixed.
    pub(crate) fn is_started(&self) -> bool {
        !matches!(self.state, State::Idle { .. })
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
            State::Running(run) => run.live + run.stash.len(),
            _ => 0,
        }
    }

    /// A lower estimate of how many inputs remain to complete, for sizing
    /// output buffers.
    pub(crate) fn size_hint(&self) -> usize {
        match &self.state {
            State::Idle { source, .. } => source.size_hint().0,
            State::Running(run) => {
                run.live + run.source.as_ref().map_or(0, |source| source.size_hint().0)
            }
            State::Done => 0,
        }
    }

    /// Bounds on the number of completions still to come.
    pub(crate) fn remaining(&self) -> (usize, Option<usize>) {
        let (live, source) = match &self.state {
            State::Idle { source, .. } => (0, Some(source)),
            State::Running(run) => (run.live + run.stash.len(), run.source.as_ref()),
            State::Done => return (0, Some(0)),
        };
        let (low, high) = source.map_or((0, Some(0)), Source::size_hint);
        (
            live.saturating_add(low),
            high.and_then(|h| h.checked_add(live)),
        )
    }

    /// Whether a poll with `waker` now would find nothing to do and return
    /// `Pending`: the last poll stored its waker everywhere a wake can come
    /// from, `waker` wakes the same task, no child woke since, no child
    /// waits for its first poll, and no input can be pulled (no room, or
    /// the source waits for a wake). A caller that handed out what the last
    /// poll collected can then return `Pending` without a call. Conservative:
    /// `false` whenever in doubt.
    #[inline]
    pub(crate) fn is_quiet(&self, waker: &Waker) -> bool {
        match &self.state {
            State::Running(run) => run.is_quiet(waker),
            _ => false,
        }
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
    /// when nothing more can be done in this poll.
    pub(crate) fn poll_each(
        &mut self,
        cx: &mut Context<'_>,
        mut sink: impl FnMut(usize, ChildResult<Out<S>>) -> Step,
    ) -> Poll<ControlFlow<()>> {
        if let State::Idle { source, config } = &mut self.state {
            let config = *config;
            if !S::ASYNC && config.limit == usize::MAX {
                // Every input is taken at once: the first pass runs here, and
                // the running state is built only if a child stays pending.
                // The source is emptied in place rather than moved out, which
                // would copy the whole state.
                let (slots, exhausted) = source.take_ready(usize::MAX);
                debug_assert!(exhausted, "an unlimited take empties the source");
                self.state = State::Done;
                match Running::first_pass(&mut self.state, slots, config, cx, &mut sink) {
                    Pass::Done(out) => return out,
                    Pass::Yielded => return Poll::Ready(ControlFlow::Break(())),
                    Pass::Pending => {}
                }
            } else {
                let State::Idle { source, .. } = mem::replace(&mut self.state, State::Done) else {
                    unreachable!("matched above")
                };
                self.state = State::Running(Running::start(source, config, cx));
            }
        }
        let State::Running(run) = &mut self.state else {
            return Poll::Ready(ControlFlow::Continue(()));
        };
        let out = run.poll_each(cx, sink);
        if let Poll::Ready(ControlFlow::Continue(())) = out {
            self.state = State::Done;
        }
        out
    }

    /// The next child to complete, in completion order; `None` once every
    /// input has completed.
    pub(crate) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<(usize, ChildResult<Out<S>>)>> {
        let mut item = None;
        let sink = |index, result| {
            item = Some((index, result));
            Step::Yield
        };
        match self.poll_each(cx, sink) {
            Poll::Ready(ControlFlow::Break(())) => Poll::Ready(item),
            Poll::Ready(ControlFlow::Continue(())) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: Source> Running<S> {
    /// Pulls what the source has now, up to the limit, into the first chunk.
    #[inline]
    fn start(mut source: S, config: Config, cx: &mut Context<'_>) -> Self {
        let mut source_wake = None;
        let mut source_parked = false;
        let mut slots = Vec::new();
        let mut exhausted = false;
        if S::ASYNC {
            // Room for what the loop below will take, as far as the source
            // says it has that many: one allocation instead of growing push
            // by push, and no room left over to shrink away.
            slots.reserve_exact(source.size_hint().0.min(config.limit).min(PULL_BUDGET));
            let wake = Arc::new(SourceWake {
                woken: AtomicBool::new(false),
                parent: AtomicWaker::new(),
            });
            wake.parent.register(cx.waker());
            let waker = Waker::from(wake.clone());
            let mut scx = Context::from_waker(&waker);
            while slots.len() < config.limit.min(PULL_BUDGET) {
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
            (slots, exhausted) = source.take_ready(config.limit);
        }
        let mut run = Self::new((!exhausted).then_some(source), PinSlice::new(slots), config);
        run.source_wake = source_wake;
        run.source_parked = source_parked;
        run
    }

    /// The first pass of a set that took every input at once (`slots`) from a
    /// source that is never pending: each child polled once with the parent's
    /// waker, in (rotated) slot order, until one stays pending or the sink
    /// stops. Only then is the running state built (in place, in `state`),
    /// so a set whose children are all ready never builds it.
    #[inline]
    fn first_pass(
        state: &mut State<S>,
        slots: Vec<Option<S::Fut>>,
        config: Config,
        cx: &mut Context<'_>,
        sink: &mut impl FnMut(usize, ChildResult<Out<S>>) -> Step,
    ) -> Pass {
        let mut slots = PinSlice::new(slots);
        let len = slots.len();
        let offset = config.start.checked_rem(len).unwrap_or(0);
        let mut live = len;
        for position in 0..len {
            let slot = rotated(offset, position, len);
            let Some(result) = poll_child(&mut slots, slot, cx) else {
                // Pending: from here on as `poll_children` does it, with
                // this child's catch-up poll deferred.
                let run = Self::resume(state, slots, config, live, position + 1);
                run.switch_to_wakers(slot);
                return Pass::Pending;
            };
            live -= 1;
            // In the first chunk the input index is the slot.
            match sink(slot, result) {
                Step::Continue | Step::Drain => {}
                // The rest are dropped with `slots`, in input order.
                Step::Break => return Pass::Done(Poll::Ready(ControlFlow::Break(()))),
                Step::Yield => {
                    if live == 0 {
                        return Pass::Done(Poll::Ready(ControlFlow::Break(())));
                    }
                    Self::resume(state, slots, config, live, position + 1);
                    return Pass::Yielded;
                }
            }
        }
        Pass::Done(Poll::Ready(ControlFlow::Continue(())))
    }

    /// Builds the running state of a set whose first pass (see
    /// [`first_pass`](Self::first_pass)) stopped at `position` with `live`
    /// children, in `state`.
    #[inline]
    fn resume(
        state: &mut State<S>,
        slots: PinSlice<S::Fut>,
        config: Config,
        live: usize,
        position: usize,
    ) -> &mut Self {
        *state = State::Running(Self::new(None, slots, config));
        let State::Running(run) = state else {
            unreachable!("just built")
        };
        run.live = live;
        run.first_pass = position;
        run
    }

    /// A running state over a first chunk of `slots`, every one filled.
    fn new(source: Option<S>, slots: PinSlice<S::Fut>, config: Config) -> Self {
        let len = slots.len();
        Self {
            source,
            source_wake: None,
            source_parked: false,
            source_registered: false,
            registered: false,
            first: Chunk {
                slots,
                inputs: None,
            },
            wakers: None,
            more: Vec::new(),
            more_wakers: None,
            free: Vec::new(),
            capacity: len,
            live: len,
            pulled: len,
            bound: usize::MAX,
            first_pass: 0,
            revisit: VecDeque::new(),
            offset: config.start.checked_rem(len).unwrap_or(0),
            config,
            deferred: None,
            polled: 0,
            self_wakes: 0,
            pull_budget: PULL_BUDGET,
            pull_starved: false,
            collect_placed: false,
            placed: Vec::new(),
            stash: VecDeque::new(),
        }
    }

    fn chunk(&mut self, chunk: usize) -> &mut Chunk<S::Fut> {
        if chunk == 0 {
            &mut self.first
        } else {
            &mut self.more[chunk - 1]
        }
    }

    /// The slot at `position` of the rotated first-pass order.
    fn slot_at(&self, position: usize) -> usize {
        rotated(self.offset, position, self.first.slots.len())
    }

    /// The child in the first chunk's `slot` is pending on the parent's
    /// waker, so its wake would not say who: from here on the chunk's children
    /// get their own wakers, and `slot` gets its own at its next turn.
    #[cold]
    #[inline(never)]
    fn switch_to_wakers(&mut self, slot: usize) {
        // The parent's waker is registered after the first pass; wakes that
        // come before are queued and found then.
        self.wakers = Some(WakeSet::new(self.first.slots.len(), self.config.wake_order));
        self.deferred = Some(slot);
    }

    /// Bookkeeping after the child in `slot` finished: frees the slot (the
    /// caller refills it) and returns the child's input index.
    #[inline(always)]
    fn finish(&mut self, (chunk, slot): SlotRef) -> usize {
        let input = self.chunk(chunk).input(slot);
        self.live -= 1;
        if self.source.is_some() {
            self.free.push((chunk, slot));
        }
        input
    }

    /// Starts children from the source while there is room and input.
    #[inline(always)]
    fn fill(&mut self, cx: &mut Context<'_>) {
        if self.source.is_some() && self.has_room() && !self.source_waits() {
            if S::ASYNC {
                // Stream sets refill at nearly every completion: inline.
                self.fill_from(cx);
            } else {
                // Iterator sets with a limit: kept out of the polling loop,
                // which runs faster without it (the sparse counts).
                self.fill_from_outlined(cx);
            }
        }
    }

    #[inline(never)]
    fn fill_from_outlined(&mut self, cx: &mut Context<'_>) {
        self.fill_from(cx);
    }

    /// Whether the source returned `Pending` and nothing woke it since: a
    /// pull would find nothing.
    #[inline(always)]
    fn source_waits(&self) -> bool {
        self.source_parked
            && self
                .source_wake
                .as_ref()
                .is_none_or(|(wake, _)| !wake.woken.load(Ordering::Acquire))
    }

    #[inline(always)]
    fn has_room(&self) -> bool {
        self.live < self.config.limit && self.pulled < self.bound
    }

    #[inline(always)]
    fn fill_from(&mut self, cx: &mut Context<'_>) {
        while self.has_room() {
            let Some(source) = &mut self.source else {
                return;
            };
            let polled = match &self.source_wake {
                None => source.poll_input(&mut Context::from_waker(Waker::noop())),
                Some((wake, waker)) => {
                    if self.pull_budget == 0 {
                        self.pull_starved = true;
                        return;
                    }
                    if self.source_parked {
                        if !wake.woken.swap(false, Ordering::AcqRel) {
                            return;
                        }
                        self.source_parked = false;
                    }
                    if !self.source_registered && source.wakes() {
                        // Before the poll, so that a wake during it finds it.
                        wake.parent.register(cx.waker());
                        self.source_registered = true;
                    }
                    source.poll_input(&mut Context::from_waker(waker))
                }
            };
            match polled {
                Poll::Ready(Some((index, fut))) => {
                    self.pulled += 1;
                    self.pull_budget = self.pull_budget.saturating_sub(1);
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
    /// and schedules its first poll in this parent poll (or leaves it to
    /// `refill_and_start`).
    #[inline(always)]
    fn place(&mut self, index: usize, fut: S::Fut, parent: Option<&Waker>) {
        let (chunk, slot) = match self.free.pop() {
            Some(free) => free,
            None => self.grow(parent),
        };
        self.live += 1;
        if self.collect_placed {
            // Polled by `refill_and_start` before this call returns.
            self.placed.push((chunk, slot));
        }
        let collect = self.collect_placed;
        let target = self.chunk(chunk);
        target.slots.put(slot, fut);
        if target.inputs.is_some() || index != slot || chunk != 0 {
            let len = target.slots.len();
            target.inputs.get_or_insert_with(|| (0..len).collect())[slot] = index;
        }
        if collect {
            return;
        }
        if chunk == 0 && self.wakers.is_none() {
            // The first chunk before any child was pending: a freed slot is
            // behind the first pass's position; poll it after the pass, in
            // input order.
            self.revisit.push_back(slot);
        } else {
            self.schedule((chunk, slot));
        }
    }

    /// Schedules the child in a slot that has its own waker to be polled.
    #[inline(always)]
    fn schedule(&mut self, (chunk, slot): SlotRef) {
        let (wakers, id) = if chunk == 0 {
            (self.wakers.as_mut(), (0, slot))
        } else {
            (self.more_wakers.as_deref_mut(), (chunk - 1, slot))
        };
        if let Some(wakers) = wakers {
            wakers.schedule(id);
        }
    }

    /// Adds a chunk at least as large as all before it (up to the limit) and
    /// returns its first slot; the others go on the free list. Without a
    /// `parent` (outside a poll) the chunk's wakers get the parent's waker at
    /// the next call, before any of its children is polled.
    #[cold]
    fn grow(&mut self, parent: Option<&Waker>) -> SlotRef {
        let size = self
            .capacity
            .max(4)
            .min(self.config.limit.saturating_sub(self.capacity))
            .max(1);
        match &mut self.more_wakers {
            Some(wakers) => {
                wakers.add_segment(size);
            }
            None => {
                // In wake order: only such a set takes more segments.
                let mut wakers = WakeSet::new(size, true);
                if let Some(parent) = parent {
                    wakers.register(parent);
                }
                self.more_wakers = Some(Box::new(wakers));
            }
        }
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

    /// The next woken slot: the first chunk's, then the others'.
    #[inline(always)]
    fn next_woken(&mut self) -> Option<SlotRef> {
        if let Some((_, slot)) = self.wakers.as_mut().and_then(|wakers| wakers.next()) {
            return Some((0, slot));
        }
        let (segment, slot) = self.more_wakers.as_mut()?.next()?;
        Some((segment + 1, slot))
    }

    fn register(&mut self, waker: &Waker) {
        if let Some(wakers) = &mut self.wakers {
            wakers.register(waker);
        }
        if let Some(wakers) = &mut self.more_wakers {
            wakers.register(waker);
        }
        if let (Some((wake, _)), Some(source)) = (&self.source_wake, &self.source) {
            if self.source_parked && !self.source_registered && source.wakes() {
                wake.parent.register(waker);
                self.source_registered = true;
            }
        }
        self.registered = true;
    }

    /// See [`Engine::is_quiet`].
    #[inline]
    fn is_quiet(&self, waker: &Waker) -> bool {
        self.registered
            && self.stash.is_empty()
            && self.deferred.is_none()
            && !self.has_pass_work()
            && !(self.live == 0 && self.source.is_none())
            && (self.source.is_none() || !self.has_room() || self.source_waits())
            && self.wakers.as_ref().is_some_and(|w| w.is_idle_for(waker))
            && self
                .more_wakers
                .as_ref()
                .is_none_or(|w| w.is_idle_for(waker))
    }

    /// Polls the child in a slot that has its own waker. `None` while it is
    /// pending (or the slot is empty); counts a self-wake.
    #[inline(always)]
    fn poll_woken(&mut self, (chunk, slot): SlotRef) -> Option<ChildResult<Out<S>>> {
        let (target, wakers, id) = if chunk == 0 {
            (&mut self.first, self.wakers.as_ref(), (0, slot))
        } else {
            (
                &mut self.more[chunk - 1],
                self.more_wakers.as_deref(),
                (chunk - 1, slot),
            )
        };
        let wakers = wakers.expect("a woken slot has wakers");
        let waker = wakers.waker(id);
        let result = poll_child(&mut target.slots, slot, &mut Context::from_waker(&waker));
        if result.is_none() && wakers.is_queued(id) {
            // Woke itself: counts toward yielding.
            self.self_wakes += 1;
        }
        result
    }

    fn is_occupied(&self, (chunk, slot): SlotRef) -> bool {
        let target = if chunk == 0 {
            &self.first
        } else {
            &self.more[chunk - 1]
        };
        target.slots.is_occupied(slot)
    }

    /// Refills freed slots and gives the new children their first poll, while
    /// one completion is being handed out: so the set runs as many children
    /// as it may even while the caller works on that output. What they
    /// complete is kept for the next call.
    fn refill_and_start(&mut self, cx: &mut Context<'_>) {
        if self.source.is_none() {
            return;
        }
        if self.has_pass_work() {
            // Children of the first pass have not had their first poll yet:
            // the new ones go after them, at the next call.
            self.fill(cx);
            return;
        }
        self.collect_placed = true;
        self.fill(cx);
        self.collect_placed = false;
        let mut placed = mem::take(&mut self.placed);
        for &(chunk, slot) in &placed {
            let result = if chunk == 0 && self.wakers.is_none() {
                let result = poll_child(&mut self.first.slots, slot, cx);
                if result.is_none() && self.first.slots.is_occupied(slot) {
                    self.switch_to_wakers(slot);
                }
                result
            } else {
                self.poll_woken((chunk, slot))
            };
            if let Some(result) = result {
                let input = self.finish((chunk, slot));
                self.stash.push_back((input, result));
            }
        }
        placed.clear();
        self.placed = placed;
    }

    /// The next first-chunk slot to poll in pass mode: the first pass, then
    /// the slots refilled behind it.
    fn next_pass_slot(&mut self) -> Option<usize> {
        if self.first_pass < self.first.slots.len() {
            let slot = self.slot_at(self.first_pass);
            self.first_pass += 1;
            return Some(slot);
        }
        self.revisit.pop_front()
    }

    fn has_pass_work(&self) -> bool {
        self.first_pass < self.first.slots.len() || !self.revisit.is_empty()
    }

    /// Whether this call polled its share of children (as many as the set
    /// has slots: `capacity` is at least 1 while a child is alive) or saw two
    /// of them wake themselves: time to give other tasks a turn.
    #[inline(always)]
    fn spent(&self) -> bool {
        self.polled >= self.capacity || self.self_wakes >= 2
    }

    /// Returns `Pending` and starts the next call's budget afresh.
    #[inline(always)]
    fn pause(&mut self) -> Poll<ControlFlow<()>> {
        self.polled = 0;
        self.self_wakes = 0;
        Poll::Pending
    }

    /// Every input completed: frees the slots and says so.
    #[inline(always)]
    fn complete(&mut self) -> Poll<ControlFlow<()>> {
        self.release();
        Poll::Ready(ControlFlow::Continue(()))
    }

    /// Frees the slots' memory once nothing is left to run.
    fn release(&mut self) {
        self.first.slots.release();
        self.more = Vec::new();
        self.more_wakers = None;
        self.free = Vec::new();
    }

    fn poll_each(
        &mut self,
        cx: &mut Context<'_>,
        sink: impl FnMut(usize, ChildResult<Out<S>>) -> Step,
    ) -> Poll<ControlFlow<()>> {
        if S::ASYNC {
            self.pull_budget = self.capacity.max(PULL_BUDGET);
            self.pull_starved = false;
            self.source_registered = false;
        }
        self.registered = false;
        let out = self.poll_children(cx, sink);
        if S::ASYNC && out.is_pending() && self.pull_starved {
            // More input is ready: come back for it after other tasks ran.
            cx.waker().wake_by_ref();
        }
        out
    }

    /// The woken-children loop of a set that can start nothing more, has one
    /// chunk, and has left its first pass behind: every call after the first
    /// of a set over an iterator without a limit. The same steps as the
    /// general loop of [`poll_children`](Self::poll_children), without the
    /// checks that cannot apply here.
    #[inline(always)]
    fn poll_steady(
        &mut self,
        cx: &mut Context<'_>,
        mut sink: impl FnMut(usize, ChildResult<Out<S>>) -> Step,
    ) -> Poll<ControlFlow<()>> {
        if let Some(wakers) = &mut self.wakers {
            wakers.register(cx.waker());
        }
        self.registered = true;
        loop {
            if self.live == 0 {
                return self.complete();
            }
            if self.spent() {
                // Give other tasks a turn before going on with the queue.
                cx.waker().wake_by_ref();
                return self.pause();
            }
            let Some((_, slot)) = self.wakers.as_mut().and_then(|wakers| wakers.next()) else {
                return self.pause();
            };
            if !self.first.slots.is_occupied(slot) {
                // A late wake from a child that already finished.
                continue;
            }
            self.polled += 1;
            if let Some(result) = self.poll_woken((0, slot)) {
                let input = self.first.input(slot);
                self.live -= 1;
                match sink(input, result) {
                    // Nothing is left to start or to drain.
                    Step::Continue | Step::Drain => {}
                    Step::Break | Step::Yield => return Poll::Ready(ControlFlow::Break(())),
                }
            }
        }
    }

    fn poll_children(
        &mut self,
        cx: &mut Context<'_>,
        mut sink: impl FnMut(usize, ChildResult<Out<S>>) -> Step,
    ) -> Poll<ControlFlow<()>> {
        macro_rules! deliver {
            ($slot:expr, $result:expr) => {{
                let input = self.finish($slot);
                // The sink sees the completion before the slot is refilled,
                // so a sink that stops or drains starts nothing more.
                match sink(input, $result) {
                    Step::Continue => {
                        if self.source.is_some() {
                            self.fill(cx);
                        }
                    }
                    Step::Yield => {
                        self.refill_and_start(cx);
                        return Poll::Ready(ControlFlow::Break(()));
                    }
                    Step::Break => return Poll::Ready(ControlFlow::Break(())),
                    Step::Drain => self.source = None,
                }
            }};
        }

        if self.source.is_none()
            && self.deferred.is_none()
            && self.more.is_empty()
            && self.wakers.is_some()
            && self.stash.is_empty()
            && !self.has_pass_work()
        {
            return self.poll_steady(cx, sink);
        }
        // Completions of children started while the last one was handed
        // out come first.
        while let Some((input, result)) = self.stash.pop_front() {
            match sink(input, result) {
                Step::Continue => self.fill(cx),
                Step::Yield => {
                    self.refill_and_start(cx);
                    return Poll::Ready(ControlFlow::Break(()));
                }
                Step::Break => return Poll::Ready(ControlFlow::Break(())),
                Step::Drain => self.source = None,
            }
        }
        // Whether this call polled children in pass mode (the first pass, or
        // refills before any child was pending).
        let mut fresh = false;
        let mut registered = false;
        'pass: loop {
            // Pass mode: every child of the first chunk polled once, in
            // (rotated) slot order, with the parent's waker until one is
            // pending.
            while let Some(slot) = self.next_pass_slot() {
                fresh = true;
                let result = if self.wakers.is_none() {
                    let result = poll_child(&mut self.first.slots, slot, cx);
                    if result.is_none() && self.first.slots.is_occupied(slot) {
                        self.switch_to_wakers(slot);
                    }
                    result
                } else {
                    self.poll_woken((0, slot))
                };
                if let Some(result) = result {
                    deliver!((0, slot), result);
                }
            }
            if self.live == 0 && self.source.is_none() {
                // Every child completed in the pass (or before).
                debug_assert!(self.stash.is_empty());
                return self.complete();
            }
            if !registered {
                self.register(cx.waker());
                registered = true;
            }
            self.fill(cx);
            if self.has_pass_work() {
                continue 'pass;
            }
            // The child left pending on the parent's waker by the first pass
            // joins the first batch of woken children taken after the pass
            // (so it gets its turn with theirs, not ahead), or is polled
            // alone if a later parent poll finds nothing else woken.
            let mut held = None;
            if let Some(slot) = self.deferred {
                held = self.next_woken();
                match (held, fresh) {
                    (None, true) => {
                        // Nothing woke during the pass: its wake, if any,
                        // brings the next parent poll.
                        return self.pause();
                    }
                    (None, false) => held = Some((0, slot)),
                    (Some(_), _) => self.schedule((0, slot)),
                }
                self.deferred = None;
            }
            loop {
                if self.live == 0 {
                    self.fill(cx);
                    if self.has_pass_work() {
                        continue 'pass;
                    }
                    if self.live == 0 {
                        if self.source.is_none() {
                            return self.complete();
                        }
                        // Waiting for the source.
                        return self.pause();
                    }
                }
                if self.spent() {
                    // Give other tasks a turn before going on with the queue.
                    if let Some(held) = held.take() {
                        // Taken from the queue but not polled: put it back.
                        self.schedule(held);
                    }
                    cx.waker().wake_by_ref();
                    return self.pause();
                }
                let next = if let Some(next) = held.take() {
                    next
                } else if let Some(woken) = self.next_woken() {
                    woken
                } else {
                    if self.source.is_none() {
                        // Nothing can start: done, or waiting for wakes.
                        if self.live == 0 {
                            continue;
                        }
                        return self.pause();
                    }
                    // Children may have been started while the queue was
                    // empty.
                    self.fill(cx);
                    if self.has_pass_work() {
                        continue 'pass;
                    }
                    match self.next_woken() {
                        Some(woken) => woken,
                        None => {
                            if self.live == 0 && self.source.is_none() {
                                continue;
                            }
                            return self.pause();
                        }
                    }
                };
                if !self.is_occupied(next) {
                    // A late wake from a child that already finished.
                    continue;
                }
                self.polled += 1;
                if let Some(result) = self.poll_woken(next) {
                    deliver!(next, result);
                }
            }
        }
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
    use crate::utils::source::{Iter, Streamed};
    use std::cell::{Cell, RefCell};
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

    fn drain<S>(engine: &mut Engine<S>, out: &mut Vec<usize>) -> bool
    where
        S: Source,
        S::Fut: Future<Output = usize>,
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
        let mut engine = Engine::new(Iter::new(futures.into_iter()));
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
        let mut engine = Engine::new(Iter::new(futures.into_iter()));
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
        let mut engine = Engine::new(Iter::new((0..n).map(std::future::ready)));
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
        let mut engine = Engine::new(Iter::new((0..SMALL + 1).map(|i| async move {
            if i == 3 {
                panic!("child {i}");
            }
            i
        })));
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

    /// Child `i` of `n` yields `n - i` times: a fair executor completes
    /// them in reverse input order, whatever `n`.
    #[test]
    fn yielding_children_complete_in_fair_order() {
        for n in [2, 3, 10, 40, SMALL] {
            for wake_order in [false, true] {
                let mut engine = Engine::new(Iter::new((0..n).map(|i| YieldN {
                    left: n - i,
                    value: i,
                })));
                if wake_order {
                    engine.keep_wake_order();
                }
                let mut cx = Context::from_waker(Waker::noop());
                let mut seen = Vec::new();
                loop {
                    match engine.poll_next(&mut cx) {
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
        let mut engine = Engine::new(Iter::new(inputs));
        engine.set_limit(3, "test");
        let mut cx = Context::from_waker(Waker::noop());
        assert!(matches!(
            engine.poll_next(&mut cx),
            Poll::Ready(Some((0, _)))
        ));
        assert!(engine.poll_next(&mut cx).is_pending());
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
            let mut engine = Engine::new(Streamed::new(Trickle {
                next: 0,
                end: SMALL,
                ready: false,
            }));
            if let Some(limit) = limit {
                engine.set_limit(limit, "test");
            }
            let mut cx = Context::from_waker(Waker::noop());
            let mut seen = Vec::new();
            loop {
                match engine.poll_next(&mut cx) {
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
        let mut engine = Engine::new(Streamed::new(futures_util::stream::iter(futures)));
        let mut out = Vec::new();
        // An unlimited async source hands over a bounded number of inputs
        // per poll.
        for _ in 0..3 {
            assert!(!drain(&mut engine, &mut out));
        }
        assert_eq!(engine.live(), SMALL);
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
        let mut engine = Engine::new(Streamed::new(Pushed {
            queue: queue.clone(),
            parked: parked.clone(),
        }));
        engine.set_limit(1, "test");
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
