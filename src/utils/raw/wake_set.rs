//! Per-slot wakers that record *which* child woke, one allocation per
//! segment of slots.
//!
//! A segment is one allocation: a header (a reference count, the segment's
//! number and length, and where the set's shared state is) followed by one
//! small entry per slot; the first segment's allocation also holds the
//! shared state (the ready queue and the parent's waker). The waker for a
//! slot is a raw waker whose data pointer is its entry; cloning it
//! increments its segment's count and dropping it decrements that count, so
//! N wakers cost one allocation instead of N `Arc`s, and a set of one
//! segment costs one allocation in all. (A safe `std::task::Wake` waker
//! needs an `Arc` of its own per child, which the gather benchmark shows to
//! be the largest cost when many children wait; an `Arc<[Entry]>` beside an
//! `Arc` of the shared state costs two allocations per set and a pointer in
//! every entry, which the race and try_gather benchmarks show.) A set grows
//! by segments ([`WakeSet::add_segment`]): the wakers already handed out
//! keep pointing at their own segment, every later segment holds a count of
//! the first (where the shared state is), and every segment shares the one
//! queue and parent waker, so finding the woken slots costs the same however
//! many segments there are.
//!
//! Waking a slot queues it on the shared ready queue (a bit in one atomic
//! word for sets of one segment of up to 64 slots, a (segment, slot) pair
//! pushed onto a locked vector otherwise), at most once until the slot is
//! polled again, and wakes the parent task if the queue was empty. A small
//! set takes the parent waker's lock only for that wake (once per batch),
//! never for the other wakes of the batch; a locked-vector set keeps the
//! parent's waker under the queue's lock, so every wake takes one lock. The
//! parent polls only the slots it dequeues, so one wake costs O(1) whatever
//! the number of children.
//!
//! (An `AtomicWaker` for the parent, which would make small sets lock-free,
//! measured slower on the gather `sparse` benchmark: its wake takes the
//! waker, so every parent poll clones it again, with four atomic operations
//! per wake-up where the lock needs two.)
//!
//! # Why no wake-up is lost
//!
//! A wake that makes the queue non-empty wakes the parent's stored waker. The
//! parent stores a new waker (under the lock) before it reads the queue, and
//! reads until the queue is empty. So a slot queued while the parent runs is
//! either read in that poll or wakes the parent again; a slot queued before
//! the parent stored a new waker is read after the store (the lock orders
//! them). The loom models at the end of this file check exactly this,
//! together with "each slot is queued at most once between two polls of it".

use std::alloc::{self, Layout};
use std::marker::PhantomData;
use std::mem::{self, ManuallyDrop};
use std::ops::Deref;
use std::ptr::{self, NonNull};
use std::sync::atomic::Ordering;
use std::sync::{OnceLock, PoisonError};
use std::task::{RawWaker, RawWakerVTable, Waker};

use crate::utils::sync::{AtomicBool, AtomicU64, AtomicUsize, Mutex, MutexGuard, ParentWaker};

/// Sets of up to this many slots keep their ready queue in one `AtomicU64`.
const MASK_BITS: usize = 64;

/// What the entries and the parent share: the ready queue and the parent's
/// waker.
struct Shared {
    queue: Queue,
}

/// The ready queue and the parent's waker, in one of the queue's two modes.
enum Queue {
    /// Sets of one segment of up to [`MASK_BITS`] slots, handed out in slot
    /// order: slot `i` is queued by setting bit `i` (one `fetch_or`), and the
    /// parent takes every queued slot with one `swap`. A set bit is the
    /// slot's queued flag. The parent's waker has a lock of its own, taken by
    /// the wake that makes the mask non-empty.
    Mask {
        mask: AtomicU64,
        parent: ParentWaker,
    },
    /// Larger sets, and sets that keep wake order: slots pushed onto a
    /// vector under a lock, each at most once thanks to its entry's `queued`
    /// flag. The parent's waker is kept under the same lock, so a wake takes
    /// one lock.
    Locked {
        listed: Mutex<Listed>,
        /// Set (under the lock) when the queue goes from empty to non-empty,
        /// cleared (under the lock) when the parent takes it, so the parent
        /// can skip the lock when nothing was woken.
        nonempty: AtomicBool,
    },
}

/// The locked queue's state.
#[derive(Default)]
struct Listed {
    /// Slots woken since the parent last took the queue.
    slots: Vec<SlotId>,
    parent: Option<Waker>,
}

/// A slot of a set: its segment, and its position in the segment.
pub(crate) type SlotId = (usize, usize);

impl Shared {
    /// Whether the locked queue holds a slot (read without the lock).
    #[inline(always)]
    fn listed(&self) -> bool {
        match &self.queue {
            Queue::Locked { nonempty, .. } => nonempty.load(Ordering::Acquire),
            Queue::Mask { .. } => {
                unreachable!("the batch and the queue are built in the same mode")
            }
        }
    }

    /// Takes every slot queued in the bit mask (a set in slot order).
    #[inline(always)]
    fn take_mask(&self) -> u64 {
        match &self.queue {
            Queue::Mask { mask, .. } => {
                // Most calls find the mask empty: a plain load spares them
                // the locked write of a swap. Nothing is read on the strength
                // of a zero, and a wake that set its bit after the parent's
                // waker was stored wakes the parent, so a stale zero only
                // defers a slot to the poll that wake brings.
                if mask.load(Ordering::Relaxed) == 0 {
                    return 0;
                }
                // Acquire pairs with the wakers' release.
                mask.swap(0, Ordering::AcqRel)
            }
            Queue::Locked { .. } => {
                unreachable!("the batch and the queue are built in the same mode")
            }
        }
    }

    /// Queues the slot of `entry`, in `segment`.
    fn wake(&self, segment: u32, entry: &Entry) {
        let index = entry.index;
        match &self.queue {
            Queue::Mask { mask, parent } => {
                // The parent takes the whole mask when it runs, so it needs
                // a wake only when the mask stops being empty.
                if mask.fetch_or(1 << index, Ordering::AcqRel) == 0 {
                    parent.wake();
                }
            }
            Queue::Locked { listed, nonempty } => {
                if entry.queued.swap(true, Ordering::AcqRel) {
                    return;
                }
                let parent = {
                    let mut listed = lock(listed);
                    listed.slots.push((segment as usize, index as usize));
                    // The parent drains the whole queue when it runs, so it
                    // needs a wake only when the queue stops being empty.
                    if listed.slots.len() > 1 {
                        return;
                    }
                    nonempty.store(true, Ordering::Release);
                    listed.parent.clone()
                };
                // Woken outside the lock, in case the waker polls the parent
                // inline.
                if let Some(parent) = parent {
                    parent.wake();
                }
            }
        }
    }
}

fn lock(listed: &Mutex<Listed>) -> MutexGuard<'_, Listed> {
    listed.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One slot's waker state: an entry of its segment's allocation, which a
/// raw waker points at.
struct Entry {
    /// This entry's position in its segment: enough to step back to the
    /// segment's header from an entry pointer.
    /// (`u32`, so that an entry takes 8 bytes: a set's length is checked
    /// when it is built.)
    index: u32,
    /// In the queue, or about to be polled (`Queue::Locked` only).
    queued: AtomicBool,
}

/// The start of a segment's allocation, followed by its entries (and, in the
/// first segment, by the set's [`Shared`] state after them).
struct Header {
    /// Owned references to the allocation: one for the set while it lives,
    /// one for each owned waker of a slot of this segment and, in the first
    /// segment, one for each later segment.
    refs: AtomicUsize,
    /// The set's shared state, in the first segment's allocation.
    shared: NonNull<Shared>,
    /// The first segment's header, in a later segment (which holds one of
    /// its references); `None` in the first.
    root: Option<NonNull<Header>>,
    /// The number of entries.
    len: u32,
    /// This segment's number in its set.
    segment: u32,
}

/// Where the entries start in a segment's allocation (the same for every
/// length).
#[inline(always)]
fn entries_offset() -> usize {
    Layout::new::<Header>()
        .extend(Layout::new::<Entry>())
        .expect("a small layout")
        .1
}

/// The layout of a segment of `len` entries, with the set's shared state
/// after them (`with_shared`, the first segment), and that state's offset.
fn segment_layout(len: usize, with_shared: bool) -> (Layout, usize) {
    let entries = Layout::array::<Entry>(len).expect("aiokit: too many children in one set");
    let (layout, at) = Layout::new::<Header>()
        .extend(entries)
        .expect("aiokit: too many children in one set");
    debug_assert_eq!(at, entries_offset(), "entries start at one offset");
    let (layout, shared) = if with_shared {
        layout
            .extend(Layout::new::<Shared>())
            .expect("aiokit: too many children in one set")
    } else {
        (layout, 0)
    };
    (layout.pad_to_align(), shared)
}

/// The header of the segment that `entry` belongs to.
///
/// # Safety
///
/// `entry` must point at an entry of a live segment, derived from the
/// segment's allocation pointer (so with provenance over all of it).
#[inline(always)]
unsafe fn header_of(entry: *const Entry) -> *const Header {
    // SAFETY: the caller guarantees `entry` points at a live entry.
    let index = unsafe { (*entry).index as usize };
    // SAFETY: `entry` is entry `index` of its segment, which starts
    // `entries_offset()` bytes after the header in the same allocation, so
    // stepping back stays inside it.
    unsafe {
        entry
            .sub(index)
            .cast::<u8>()
            .sub(entries_offset())
            .cast::<Header>()
    }
}

/// Gives back one reference to a segment's allocation, and frees it with the
/// last one (and then gives back its reference to the first segment).
///
/// # Safety
///
/// `header` must point at the header of a live segment, and the caller must
/// own one of its references, which it may not use again.
#[inline(always)]
unsafe fn release(header: *const Header) {
    // SAFETY: the caller owns a reference, so the header is alive until the
    // count is given back.
    let refs = unsafe { &(*header).refs };
    // Release, then an acquire load in `free` on the last: every use of the
    // allocation through another reference happens before it is freed.
    if refs.fetch_sub(1, Ordering::Release) == 1 {
        // SAFETY: that was the last reference.
        unsafe { free(header) };
    }
}

/// Frees a segment's allocation, and gives back its reference to the first
/// segment.
///
/// # Safety
///
/// `header` must point at the header of a live segment whose last reference
/// the caller just gave back.
#[cold]
#[inline(never)]
unsafe fn free(header: *const Header) {
    // SAFETY: nothing else can reach the allocation any more.
    let (len, root, shared) = unsafe {
        let h = &*header;
        // Acquire pairs with every release decrement before the last one
        // (they form one release sequence). A load, not a fence:
        // ThreadSanitizer does not model fences, and the load costs the
        // same on this cold path.
        h.refs.load(Ordering::Acquire);
        (h.len as usize, h.root, h.shared)
    };
    let with_shared = root.is_none();
    let (layout, _) = segment_layout(len, with_shared);
    let base = header.cast_mut().cast::<u8>();
    // SAFETY: the header, entries and (in the first segment) shared state
    // were written by `Segment::new` and are dropped once, here; the
    // allocation was made by `alloc::alloc` with this very layout (the same
    // length, and a shared state exactly when there is no root).
    unsafe {
        if with_shared {
            ptr::drop_in_place(shared.as_ptr());
        }
        let entries = base.add(entries_offset()).cast::<Entry>();
        ptr::drop_in_place(ptr::slice_from_raw_parts_mut(entries, len));
        ptr::drop_in_place(header.cast_mut());
        alloc::dealloc(base, layout);
    }
    if let Some(root) = root {
        // SAFETY: a later segment holds one reference to the first, given
        // back here, once, as its allocation goes.
        unsafe { release(root.as_ptr()) };
    }
}

/// The set's own reference to one segment.
struct Segment(NonNull<Header>);

// SAFETY: a segment's allocation holds atomics, a `Shared` (locks, atomics
// and wakers, all `Send + Sync`) and plain integers; its references are
// counted with atomics, as an `Arc`'s are, so it may be used and given back
// from any thread.
unsafe impl Send for Segment {}
// SAFETY: as above: `&Segment` only reads through shared references to
// thread-safe state.
unsafe impl Sync for Segment {}

// What the two impls above rely on, checked at compile time: the state in a
// segment's allocation is itself safe to share and send.
const _: fn() = || {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<Shared>();
    send_and_sync::<Entry>();
    send_and_sync::<AtomicUsize>();
};

impl Segment {
    /// A segment of `len` slots, numbered `segment`: the first of its set
    /// (with the set's `queue`), or a later one sharing `root`'s state.
    fn new(len: usize, segment: usize, first: Result<Queue, &Segment>) -> Self {
        let (Ok(segment), Ok(len32)) = (u32::try_from(segment), u32::try_from(len)) else {
            panic!("aiokit: more than 2^32 children in one set");
        };
        let (layout, shared_at) = segment_layout(len, first.is_ok());
        // SAFETY: the layout has a non-zero size (it holds a header).
        let base = unsafe { alloc::alloc(layout) };
        let Some(base) = NonNull::new(base) else {
            alloc::handle_alloc_error(layout)
        };
        let header = base.cast::<Header>();
        let (shared, root) = match first {
            Ok(queue) => {
                // SAFETY: `shared_at` is the offset `segment_layout` gave for
                // the shared state in this allocation.
                let shared = unsafe { base.add(shared_at).cast::<Shared>() };
                // SAFETY: in bounds and aligned (from the layout), not yet
                // written.
                unsafe { shared.as_ptr().write(Shared { queue }) };
                (shared, None)
            }
            Err(root) => {
                // The root's shared state lives as long as this reference.
                root.header().refs.fetch_add(1, Ordering::Relaxed);
                (root.header().shared, Some(root.0))
            }
        };
        // SAFETY: the header and the `len` entries after it are in bounds
        // and aligned (from the layout) and not yet written.
        unsafe {
            header.as_ptr().write(Header {
                refs: AtomicUsize::new(1),
                shared,
                root,
                len: len32,
                segment,
            });
            let entries = base.add(entries_offset()).cast::<Entry>();
            for index in 0..len32 {
                entries.add(index as usize).as_ptr().write(Entry {
                    index,
                    queued: AtomicBool::new(false),
                });
            }
        }
        Segment(header)
    }

    #[inline(always)]
    fn header(&self) -> &Header {
        // SAFETY: the set's reference keeps the allocation alive while `self`
        // lives.
        unsafe { self.0.as_ref() }
    }

    /// The entry of `slot`, as a pointer with provenance over the whole
    /// allocation (a waker's data pointer).
    #[inline(always)]
    fn entry_ptr(&self, slot: usize) -> *const Entry {
        assert!(
            slot < self.header().len as usize,
            "WakeSet::waker: no slot {slot}"
        );
        // SAFETY: entry `slot` is in bounds of the allocation (checked above).
        unsafe {
            self.0
                .cast::<u8>()
                .add(entries_offset())
                .cast::<Entry>()
                .add(slot)
                .as_ptr()
        }
    }

    /// The entry of `slot`.
    #[inline(always)]
    fn entry(&self, slot: usize) -> &Entry {
        // SAFETY: `entry_ptr` checked the slot; the entry lives as long as
        // the set's reference, and entries are only ever shared by reference.
        unsafe { &*self.entry_ptr(slot) }
    }

    /// The set's shared state.
    #[inline(always)]
    fn shared(&self) -> &Shared {
        // SAFETY: the shared state lives in the first segment, which the
        // set holds (and every later segment holds a reference to).
        unsafe { self.header().shared.as_ref() }
    }

    #[cfg(all(test, aiokit_loom))]
    fn len(&self) -> usize {
        self.header().len as usize
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        // SAFETY: the set's own reference, given back once.
        unsafe { release(self.0.as_ptr()) };
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// The raw waker vtable functions. Each receives a data pointer made by
/// [`WakeSet::waker`] or by `clone`: a pointer to an entry of a live
/// segment, derived from the segment's allocation pointer, and (for owned
/// wakers) backed by one reference to that segment.
unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: `data` points at a live entry (see above), so its segment is
    // alive and its count may be incremented; the new waker owns that count.
    let refs = unsafe { &(*header_of(data.cast())).refs };
    // Relaxed, as `Arc::clone`: a new reference is made from an existing one.
    if refs.fetch_add(1, Ordering::Relaxed) > isize::MAX as usize {
        // Only reachable by leaking wakers by the billion; as `Arc` does.
        std::process::abort();
    }
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: an owned waker's data points at a live entry.
    unsafe { wake_by_ref(data) };
    // SAFETY: `wake` consumes the waker, so its reference is given back.
    unsafe { drop_waker(data) };
}

unsafe fn wake_by_ref(data: *const ()) {
    let entry = data.cast::<Entry>();
    // SAFETY: `entry` points at a live entry of a live segment, derived from
    // the allocation's pointer, so it and its header may be borrowed, and
    // the header's shared state (in the first segment, which outlives every
    // segment) too; they are only ever shared by reference.
    let (entry, header) = unsafe { (&*entry, &*header_of(entry)) };
    // SAFETY: as above.
    let shared = unsafe { header.shared.as_ref() };
    shared.wake(header.segment, entry);
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: an owned waker holds one reference to its segment; dropping
    // the waker gives it back.
    unsafe { release(header_of(data.cast())) };
}

/// The first poll of a child whose set may have no wake set yet: the
/// waker it is polled with makes the set's wake set (in `cell`) only when a
/// child needs a waker that outlives the poll, that is when it clones the
/// waker (to register it somewhere) or wakes it. A clone is the slot's own
/// waker, so a child that goes pending waits on a waker that says which
/// child it is, and a set whose children all complete at their first poll
/// allocates no wakers.
pub(crate) struct PassWaker<'a> {
    /// The set's wake set, made on first need with `len` slots and
    /// `wake_order` (see [`WakeSet::new`]).
    pub(crate) cell: &'a OnceLock<WakeSet>,
    pub(crate) len: usize,
    pub(crate) wake_order: bool,
}

// A pass waker may be lent to other threads during a poll: what it reaches
// (the cell and the set in it) must be safe to share.
const _: fn() = || {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<OnceLock<WakeSet>>();
};

static PASS_VTABLE: RawWakerVTable =
    RawWakerVTable::new(pass_clone, pass_wake, pass_wake, pass_drop);

/// What a pass waker's data pointer points at: the set's cell and the slot.
struct PassData<'a> {
    pass: &'a PassWaker<'a>,
    slot: usize,
}

impl PassWaker<'_> {
    /// Calls `f` with a waker for `slot` of segment 0, borrowed for the call.
    #[inline(always)]
    pub(crate) fn with<R>(&self, slot: usize, f: impl FnOnce(&Waker) -> R) -> R {
        // Checked where it matters: `entry` checks the slot.
        debug_assert!(slot < self.len, "PassWaker::with: no slot {slot}");
        let data = PassData { pass: self, slot };
        let raw = RawWaker::new(ptr::from_ref(&data).cast(), &PASS_VTABLE);
        // SAFETY: the data pointer points at `data`, which lives on this
        // stack frame until `f` returns; the waker is only lent to `f`
        // (`ManuallyDrop`, never owned, so never dropped or consumed), so
        // every vtable call through it happens while `data` lives, from
        // whatever thread `f` lends it to (`PassData` holds only a shared
        // reference to a `OnceLock` of a `Sync` set, and integers). Its
        // clones are slot wakers (`pass_clone`), which own their own
        // reference to the wake set's segment.
        let waker = ManuallyDrop::new(unsafe { Waker::from_raw(raw) });
        f(&waker)
    }
}

impl PassData<'_> {
    /// The wake set, made now if this is the first need.
    fn set(&self) -> &WakeSet {
        self.pass
            .cell
            .get_or_init(|| WakeSet::new(self.pass.len, self.pass.wake_order))
    }

    /// The slot's entry in the set, as a slot waker's data pointer.
    fn entry(&self) -> *const () {
        self.set().first.entry_ptr(self.slot).cast()
    }
}

/// The pass waker's vtable functions. Each receives a data pointer made by
/// [`PassWaker::with`]: a live `PassData` (see the SAFETY comment there).
unsafe fn pass_clone(data: *const ()) -> RawWaker {
    // SAFETY: `data` points at a live `PassData` (see above).
    let data = unsafe { &*data.cast::<PassData<'_>>() };
    // SAFETY: the entry belongs to the set in the cell, which is alive (the
    // cell is borrowed); `clone` takes a reference of its own for the
    // returned slot waker.
    unsafe { clone(data.entry()) }
}

unsafe fn pass_wake(data: *const ()) {
    // SAFETY: `data` points at a live `PassData` (see above).
    let data = unsafe { &*data.cast::<PassData<'_>>() };
    // SAFETY: as in `pass_clone`; a wake by reference takes and gives back
    // no reference. (A pass waker is never owned, so `wake` by value, which
    // shares this function, is never called with it.)
    unsafe { wake_by_ref(data.entry()) };
}

unsafe fn pass_drop(_: *const ()) {
    // A pass waker owns nothing.
}

/// A waker borrowed from a [`WakeSet`], valid while the set is borrowed.
pub(crate) struct SlotWaker<'a> {
    waker: ManuallyDrop<Waker>,
    _set: PhantomData<&'a WakeSet>,
}

impl Deref for SlotWaker<'_> {
    type Target = Waker;

    fn deref(&self) -> &Waker {
        &self.waker
    }
}

/// The ready queue and the slot wakers of one or more segments of slots, all
/// sharing one queue and one parent waker.
pub(crate) struct WakeSet {
    /// Segment 0 (which holds the shared state), and the others (segment `s`
    /// at `s - 1`): a set of one segment allocates no vector of segments.
    first: Segment,
    more: Vec<Segment>,
    /// The parent waker last stored in the shared state, to skip the lock
    /// when the parent is polled with the same one.
    parent: Option<Waker>,
    /// The batch being worked through, in the queue's mode.
    batch: Batch,
}

/// The slots taken from the shared queue and not handed out yet.
enum Batch {
    /// With [`Queue::Mask`]: one bit per slot; `scheduled` holds the slots
    /// scheduled during this batch, handed out with the next one, so that
    /// slots scheduled one after another come out in that order when each
    /// batch is scheduled in slot order.
    Bits { bits: u64, scheduled: u64 },
    /// With [`Queue::Locked`]: the slots in wake order, and the position in
    /// them.
    List { slots: Vec<SlotId>, cursor: usize },
}

impl WakeSet {
    /// A set of one segment of `len` slots, with an empty queue. With
    /// `wake_order`, woken slots are always handed out in the order they were
    /// woken; otherwise small sets hand each batch out in slot order (and
    /// queue with a bit mask). A set that may grow ([`add_segment`]) must be
    /// made with `wake_order`.
    ///
    /// [`add_segment`]: Self::add_segment
    pub(crate) fn new(len: usize, wake_order: bool) -> Self {
        let (queue, batch) = if len <= MASK_BITS && !wake_order {
            let queue = Queue::Mask {
                mask: AtomicU64::new(0),
                parent: ParentWaker::default(),
            };
            (
                queue,
                Batch::Bits {
                    bits: 0,
                    scheduled: 0,
                },
            )
        } else {
            let queue = Queue::Locked {
                listed: Mutex::new(Listed::default()),
                nonempty: AtomicBool::new(false),
            };
            let batch = Batch::List {
                slots: Vec::new(),
                cursor: 0,
            };
            (queue, batch)
        };
        Self {
            first: Segment::new(len, 0, Ok(queue)),
            more: Vec::new(),
            parent: None,
            batch,
        }
    }

    #[inline(always)]
    fn shared(&self) -> &Shared {
        self.first.shared()
    }

    /// Segment `segment`.
    #[inline(always)]
    fn segment(&self, segment: usize) -> &Segment {
        if segment == 0 {
            &self.first
        } else {
            &self.more[segment - 1]
        }
    }

    /// The entry of `slot` in `segment`.
    #[inline(always)]
    fn entry(&self, (segment, slot): SlotId) -> &Entry {
        self.segment(segment).entry(slot)
    }

    /// Adds a segment of `len` slots, sharing the set's queue and parent
    /// waker, and returns its number (segments are numbered from 0 in the
    /// order they were added).
    pub(crate) fn add_segment(&mut self, len: usize) -> usize {
        assert!(
            matches!(self.shared().queue, Queue::Locked { .. }),
            "WakeSet::add_segment: a bit-mask set has one segment"
        );
        let segment = self.more.len() + 1;
        self.more.push(Segment::new(len, segment, Err(&self.first)));
        segment
    }

    /// Records the parent task's waker; call at the start of every parent
    /// poll, before [`next`](Self::next).
    #[inline(always)]
    pub(crate) fn register(&mut self, waker: &Waker) {
        if self.parent.as_ref().is_some_and(|w| w.will_wake(waker)) {
            return;
        }
        self.store_parent(waker);
    }

    #[cold]
    fn store_parent(&mut self, waker: &Waker) {
        self.parent = Some(waker.clone());
        match &self.shared().queue {
            Queue::Mask { parent, .. } => parent.register(waker),
            Queue::Locked { listed, .. } => {
                let old = lock(listed).parent.replace(waker.clone());
                // Dropped outside the lock.
                mem::drop(old);
            }
        }
    }

    /// Schedules `slot` to be polled, as if its waker had fired.
    #[inline(always)]
    pub(crate) fn schedule(&mut self, id: SlotId) {
        if let Batch::Bits { scheduled, .. } = &mut self.batch {
            *scheduled |= 1 << id.1;
            return;
        }
        if !self.entry(id).queued.swap(true, Ordering::AcqRel) {
            if let Batch::List { slots, .. } = &mut self.batch {
                slots.push(id);
            }
        }
    }

    /// The next slot to poll, taking a new batch from the shared queue once
    /// the current one is used up. `None` when nothing is queued.
    ///
    /// The slot's queued flag (its bit, in a small set) is cleared before it
    /// is returned, so a wake that arrives while the slot is being polled
    /// queues it again. Small sets go through a batch in slot order, large
    /// ones in wake order.
    #[inline(always)]
    pub(crate) fn next(&mut self) -> Option<SlotId> {
        match &mut self.batch {
            Batch::Bits { bits, scheduled } => {
                if *bits == 0 {
                    *bits = self.first.shared().take_mask() | mem::take(scheduled);
                    if *bits == 0 {
                        return None;
                    }
                }
                let slot = bits.trailing_zeros() as usize;
                *bits &= *bits - 1;
                Some((0, slot))
            }
            Batch::List { slots, cursor } => {
                if let Some(&id) = slots.get(*cursor) {
                    *cursor += 1;
                    // Acquire pairs with the waker's release: what the waker
                    // saw before waking is visible to the poll that follows.
                    self.entry(id).queued.swap(false, Ordering::AcqRel);
                    return Some(id);
                }
                if !self.shared().listed() {
                    return None;
                }
                self.next_listed()
            }
        }
    }

    /// [`next`](Self::next) for a set in wake order whose batch is used up:
    /// takes the next batch from the queue.
    #[cold]
    fn next_listed(&mut self) -> Option<SlotId> {
        let id = match (&mut self.batch, &self.first.shared().queue) {
            (Batch::List { slots, cursor }, Queue::Locked { listed, nonempty }) => {
                if *cursor == slots.len() {
                    slots.clear();
                    *cursor = 0;
                    if nonempty.load(Ordering::Acquire) {
                        let mut listed = lock(listed);
                        mem::swap(&mut listed.slots, slots);
                        nonempty.store(false, Ordering::Relaxed);
                    }
                }
                let id = *slots.get(*cursor)?;
                *cursor += 1;
                id
            }
            _ => unreachable!("the batch and the queue are built in the same mode"),
        };
        // Acquire pairs with the waker's release: what the waker saw before
        // waking is visible to the poll that follows.
        self.entry(id).queued.swap(false, Ordering::AcqRel);
        Some(id)
    }

    /// Whether `slot` was woken again since `next` returned it (a self-wake,
    /// when asked right after polling it).
    #[inline(always)]
    pub(crate) fn is_queued(&self, id: SlotId) -> bool {
        match &self.shared().queue {
            Queue::Mask { mask, .. } => mask.load(Ordering::Acquire) & (1 << id.1) != 0,
            Queue::Locked { .. } => self.entry(id).queued.load(Ordering::Acquire),
        }
    }

    /// The waker to poll `slot` with.
    #[inline(always)]
    pub(crate) fn waker(&self, (segment, slot): SlotId) -> SlotWaker<'_> {
        let raw = RawWaker::new(self.segment(segment).entry_ptr(slot).cast(), &VTABLE);
        // SAFETY: the data pointer points at entry `slot` of the segment,
        // derived from its allocation pointer, and the segment outlives the
        // returned borrow (the set holds a reference to it); the vtable
        // functions uphold the `RawWaker` contract for such pointers. The
        // waker is borrowed, not owned (`ManuallyDrop`): it takes no
        // reference and gives none back; clones made from it take their own.
        let waker = unsafe { Waker::from_raw(raw) };
        SlotWaker {
            waker: ManuallyDrop::new(waker),
            _set: PhantomData,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::thread;

    /// A small set (bit mask) and a large one (vector queue).
    const SIZES: [usize; 2] = [8, MASK_BITS + 6];

    /// A parent waker that counts its wakes.
    struct Count(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A parent waker, and the count of its wakes.
    fn counted_parent() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(Default::default()));
        (count.clone(), Waker::from(count))
    }

    /// Each waker woken (and dropped) on a thread of its own; returns once
    /// all are done.
    fn wake_on_threads(wakers: impl IntoIterator<Item = Waker>) {
        let handles: Vec<_> = wakers
            .into_iter()
            .map(|w| thread::spawn(move || w.wake()))
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }

    #[test]
    fn wakes_queue_each_slot_once() {
        for len in SIZES {
            let mut set = WakeSet::new(len, false);
            let w1 = set.waker((0, 1)).clone();
            let w2 = set.waker((0, 2)).clone();
            w2.wake_by_ref();
            w1.wake_by_ref();
            w2.wake_by_ref();
            let mut batch = vec![set.next().unwrap().1, set.next().unwrap().1];
            batch.sort_unstable();
            assert_eq!(batch, [1, 2]);
            assert_eq!(set.next(), None);
            w1.wake();
            assert!(set.is_queued((0, 1)));
            assert_eq!(set.next(), Some((0, 1)));
            assert!(!set.is_queued((0, 1)));
        }
    }

    #[test]
    fn large_or_ordered_sets_go_in_wake_order() {
        for (len, wake_order) in [(MASK_BITS + 1, false), (4, true)] {
            let mut set = WakeSet::new(len, wake_order);
            set.waker((0, len - 1)).wake_by_ref();
            set.waker((0, 0)).wake_by_ref();
            assert_eq!(set.next(), Some((0, len - 1)));
            assert_eq!(set.next(), Some((0, 0)));
        }
    }

    #[test]
    fn schedule_queues_a_slot_without_a_wake() {
        for len in SIZES {
            let mut set = WakeSet::new(len, false);
            set.schedule((0, 0));
            assert_eq!(set.next(), Some((0, 0)));
            assert_eq!(set.next(), None);
        }
    }

    #[test]
    fn segments_share_one_queue_and_one_parent_wake() {
        let (count, parent) = counted_parent();
        let mut set = WakeSet::new(2, true);
        assert_eq!(set.add_segment(3), 1);
        assert_eq!(set.add_segment(1), 2);
        set.register(&parent);
        let late = set.waker((2, 0)).clone();
        set.waker((1, 2)).wake_by_ref();
        set.waker((0, 1)).wake_by_ref();
        late.wake_by_ref();
        set.waker((1, 2)).wake_by_ref();
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "one parent wake a batch");
        let batch: Vec<SlotId> = std::iter::from_fn(|| set.next()).collect();
        assert_eq!(batch, [(1, 2), (0, 1), (2, 0)], "wake order, each once");
        set.schedule((1, 0));
        assert!(set.is_queued((1, 0)));
        assert_eq!(set.next(), Some((1, 0)));
        std::mem::drop(set);
        // A clone keeps its own segment alive.
        late.wake();
    }

    #[test]
    #[should_panic(expected = "WakeSet::add_segment")]
    fn a_bit_mask_set_does_not_grow() {
        WakeSet::new(4, false).add_segment(4);
    }

    #[test]
    fn clones_keep_the_entries_alive_after_the_set_is_gone() {
        for len in SIZES {
            let set = WakeSet::new(len, false);
            let kept = (*set.waker((0, len - 1))).clone();
            assert!(kept.will_wake(&set.waker((0, len - 1))));
            let again = kept.clone();
            std::mem::drop(set);
            // The set is gone; the clones still own the entries.
            kept.wake_by_ref();
            again.wake();
            kept.wake();
        }
    }

    #[test]
    fn the_parent_is_woken_once_per_batch() {
        for len in SIZES {
            let (count, parent) = counted_parent();
            let mut set = WakeSet::new(len, false);
            set.register(&parent);
            let wakers: Vec<Waker> = (0..3).map(|i| set.waker((0, i)).clone()).collect();
            for w in &wakers {
                w.wake_by_ref();
            }
            assert_eq!(count.0.load(Ordering::SeqCst), 1);
            // The poll that wake causes registers again, then drains.
            set.register(&parent);
            while set.next().is_some() {}
            wakers[0].wake_by_ref();
            assert_eq!(count.0.load(Ordering::SeqCst), 2);
        }
    }

    #[test]
    fn the_last_reference_frees_the_segments_from_any_thread() {
        for len in SIZES {
            let (count, parent) = counted_parent();
            let mut set = WakeSet::new(len, true);
            set.add_segment(3);
            set.register(&parent);
            // Clones of both segments outlive the set in other threads; the
            // later segment's keeps the first (and the queue) alive.
            let wakers = [set.waker((1, 2)).clone(), set.waker((0, 0)).clone()];
            std::mem::drop(set);
            wake_on_threads(wakers);
            // One batch, one parent wake.
            assert_eq!(count.0.load(Ordering::SeqCst), 1);
        }
    }

    #[test]
    fn a_pass_waker_makes_the_set_at_its_first_clone_or_wake() {
        for wake_order in [false, true] {
            let cell = OnceLock::new();
            let pass = PassWaker {
                cell: &cell,
                len: 3,
                wake_order,
            };
            // Lent and not kept: nothing is made.
            pass.with(1, |waker| assert!(waker.will_wake(waker)));
            assert!(cell.get().is_none());
            // A clone is the slot's own waker.
            let kept = pass.with(2, Waker::clone);
            let made = cell.get().expect("made by the clone");
            assert!(kept.will_wake(&made.waker((0, 2))));
            // A wake by reference, from another thread while lent, queues
            // its slot.
            pass.with(0, |waker| {
                thread::scope(|scope| {
                    scope.spawn(|| waker.wake_by_ref());
                });
            });
            kept.wake();
            let mut set = cell.into_inner().expect("made");
            let mut woken: Vec<usize> =
                std::iter::from_fn(|| set.next().map(|(_, slot)| slot)).collect();
            woken.sort_unstable();
            assert_eq!(woken, [0, 2], "wake order: {wake_order}");
        }
    }

    #[test]
    fn wakes_from_other_threads() {
        for len in SIZES {
            let mut set = WakeSet::new(len, false);
            let wakers: Vec<Waker> = (0..8).map(|i| set.waker((0, i)).clone()).collect();
            wake_on_threads(wakers);
            let mut seen: Vec<usize> =
                std::iter::from_fn(|| set.next().map(|(_, slot)| slot)).collect();
            seen.sort();
            assert_eq!(seen, (0..8).collect::<Vec<_>>());
        }
    }
}

/// loom models of the wake set's protocol, run with
/// `RUSTFLAGS="--cfg aiokit_loom" cargo test --release --lib loom`. Under
/// `cfg(aiokit_loom)` the queue's atomics and the locks of the queue and of
/// the parent's waker are loom's (see `utils::sync`), so loom explores every
/// interleaving of the code above.
///
/// What they prove, for every interleaving loom explores (all of them with up
/// to 3 preemptions; `LOOM_MAX_PREEMPTIONS` changes the bound):
///
/// * `loom_mask_wakes_race_the_parent_poll`: wakes from two threads racing a
///   parent that registers and drains the bit mask never lose a wake-up
///   (`block_on` would report a deadlock), and every woken slot is handed out.
/// * `loom_locked_wakes_race_the_parent_poll`: the same for the locked vector
///   queue, with the `nonempty` flag read outside the lock; a slot woken twice
///   is never in the queue twice, and it is handed out again after a wake that
///   arrives after `next` returned it.
/// * `loom_parent_waker_changes`: the parent polled with one waker, then
///   another (a task moved between executors) while a wake is in flight: the
///   wake reaches the task.
#[cfg(all(test, aiokit_loom))]
mod loom_models {
    use super::*;
    use loom::thread;
    use std::sync::Arc;

    use crate::utils::sync::loom_model as model;
    use std::future::poll_fn;
    use std::task::{Context, Poll};

    /// A parent waker that counts its wakes (std atomics: loom need not
    /// model them).
    #[derive(Default)]
    struct Count(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Asserts the locked queue holds no slot twice.
    fn assert_no_duplicates(set: &WakeSet) {
        if let Queue::Locked { listed, .. } = &set.shared().queue {
            let listed = lock(listed);
            let slots = &listed.slots;
            let mut sorted = slots.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), slots.len(), "a slot queued twice: {slots:?}");
        }
    }

    /// The parent: polls until every slot in `want` was handed out at least
    /// once, registering first as the engine does. Returns the hand-out counts.
    fn parent(set: &mut WakeSet, want: &[usize]) -> Vec<usize> {
        let mut seen = vec![0; set.first.len()];
        loom::future::block_on(poll_fn(|cx: &mut Context<'_>| {
            set.register(cx.waker());
            assert_no_duplicates(set);
            while let Some((_, slot)) = set.next() {
                seen[slot] += 1;
            }
            if want.iter().all(|&slot| seen[slot] > 0) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }));
        seen
    }

    fn wakes_race_the_parent_poll(wake_order: bool) {
        model(move || {
            let mut set = WakeSet::new(2, wake_order);
            let w0 = set.waker((0, 0)).clone();
            let w1 = set.waker((0, 1)).clone();
            let t0 = thread::spawn(move || w0.wake());
            let t1 = thread::spawn(move || {
                // Woken twice: queued at most once until handed out.
                w1.wake_by_ref();
                w1.wake();
            });
            let seen = parent(&mut set, &[0, 1]);
            t0.join().unwrap();
            t1.join().unwrap();
            assert_eq!(seen[0], 1);
            assert!((1..=2).contains(&seen[1]));
            // Whatever is left queued is handed out now, and nothing more.
            let rest: Vec<usize> =
                std::iter::from_fn(|| set.next().map(|(_, slot)| slot)).collect();
            assert!(rest.iter().all(|&slot| slot == 1) && seen[1] + rest.len() <= 2);
        });
    }

    #[test]
    fn loom_mask_wakes_race_the_parent_poll() {
        wakes_race_the_parent_poll(false);
    }

    #[test]
    fn loom_locked_wakes_race_the_parent_poll() {
        wakes_race_the_parent_poll(true);
    }

    /// The set and a waker of a later segment go in two threads at once:
    /// whichever is last frees the segment, then the first one. What loom
    /// sees: the wake reaches the parent once, and the shared state (with
    /// the parent's waker in it) is freed by then, in every interleaving. It
    /// cannot see a use after free or a double free of the raw allocations:
    /// Miri covers those (`the_last_reference_frees_the_segments_from_any_thread`,
    /// many seeds in `.ci/run`), and ThreadSanitizer, on the stress suite, the
    /// ordering of the last decrement before the free.
    #[test]
    fn loom_the_last_reference_frees_once() {
        model(|| {
            let count = Arc::new(Count::default());
            let parent = Waker::from(count.clone());
            let mut set = WakeSet::new(1, true);
            set.add_segment(1);
            set.register(&parent);
            drop(parent);
            let w = set.waker((1, 0)).clone();
            let t = thread::spawn(move || w.wake());
            mem::drop(set);
            t.join().unwrap();
            assert_eq!(count.0.load(Ordering::SeqCst), 1, "one wake");
            assert_eq!(Arc::strong_count(&count), 1, "the shared state is freed");
        });
    }

    #[test]
    fn loom_parent_waker_changes() {
        for wake_order in [false, true] {
            model(move || {
                let mut set = WakeSet::new(1, wake_order);
                // First poll under a waker nobody listens to.
                set.register(Waker::noop());
                assert_eq!(set.next(), None);
                let w0 = set.waker((0, 0)).clone();
                let t0 = thread::spawn(move || w0.wake());
                // Then the task moves: the next poll registers a new waker.
                let seen = parent(&mut set, &[0]);
                t0.join().unwrap();
                assert_eq!(seen[0], 1);
            });
        }
    }
}
