//! Per-slot wakers that record *which* child woke, one allocation per
//! segment of slots.
//!
//! The set owns one `Arc<[Entry]>` per segment, one entry per slot. The waker
//! for a slot is a raw waker whose data pointer is its entry; cloning it
//! increments the reference count of the segment's `Arc<[Entry]>` and
//! dropping it decrements that count, so N wakers cost one allocation instead
//! of N `Arc`s. (A safe `std::task::Wake` waker needs an `Arc` of its own per
//! child, which the gather benchmark shows to be the largest cost when many
//! children wait.) A set grows by segments ([`WakeSet::add_segment`]): the
//! wakers already handed out keep pointing at their own segment, and every
//! segment shares the one queue and parent waker, so finding the woken slots
//! costs the same however many segments there are.
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

use std::marker::PhantomData;
use std::mem::{self, ManuallyDrop};
use std::ops::Deref;
use std::ptr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::task::{RawWaker, RawWakerVTable, Waker};

use crate::utils::sync::{AtomicBool, AtomicU64, Mutex, MutexGuard, ParentWaker};

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
}

/// The entries of `segment`, from a set's `first` and `more`.
#[inline(always)]
fn segment_of<'a>(
    first: &'a Arc<[Entry]>,
    more: &'a [Arc<[Entry]>],
    segment: usize,
) -> &'a Arc<[Entry]> {
    if segment == 0 {
        first
    } else {
        &more[segment - 1]
    }
}

fn lock(listed: &Mutex<Listed>) -> MutexGuard<'_, Listed> {
    listed.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One slot's waker state. Entries live in an `Arc<[Entry]>`; a raw waker
/// points at its entry.
struct Entry {
    /// The shared state, held by entry 0 only (the others reach it through
    /// entry 0, see `wake_by_ref`), so building N entries touches no
    /// reference count N times.
    shared: Option<Arc<Shared>>,
    /// This entry's position in the slice, and the slice's length: enough to
    /// rebuild the slice pointer from an entry pointer.
    /// (`u32`, so that an entry takes 24 bytes: a set's length is checked
    /// when it is built.)
    index: u32,
    len: u32,
    /// The segment (the slice) this entry belongs to.
    segment: u32,
    /// In the queue, or about to be polled (`Queue::Locked` only).
    queued: AtomicBool,
}

impl Entry {
    /// Queues this entry's slot on `shared`, the state of its set.
    fn wake(&self, shared: &Shared) {
        match &shared.queue {
            Queue::Mask { mask, parent } => {
                // The parent takes the whole mask when it runs, so it needs
                // a wake only when the mask stops being empty.
                if mask.fetch_or(1 << self.index, Ordering::AcqRel) == 0 {
                    parent.wake();
                }
            }
            Queue::Locked { listed, nonempty } => {
                if self.queued.swap(true, Ordering::AcqRel) {
                    return;
                }
                let parent = {
                    let mut listed = lock(listed);
                    listed
                        .slots
                        .push((self.segment as usize, self.index as usize));
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

/// The `*const [Entry]` of the allocation that `entry` points into.
///
/// # Safety
///
/// `entry` must point at an element of a live `Arc<[Entry]>`, with provenance
/// over the whole slice (it was derived from the slice's pointer).
unsafe fn slice_of(entry: *const Entry) -> *const [Entry] {
    // SAFETY: the caller guarantees `entry` points at a live entry.
    let (index, len) = unsafe { ((*entry).index as usize, (*entry).len as usize) };
    // SAFETY: `entry` is element `index` of its slice, so stepping back
    // `index` elements stays inside the same allocation.
    let first = unsafe { entry.sub(index) };
    ptr::slice_from_raw_parts(first, len)
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop);

/// The raw waker vtable functions. Each receives a data pointer made by
/// [`WakeSet::waker`] or by `clone`: a pointer to an entry of a live
/// `Arc<[Entry]>`, derived from the slice's own pointer, and (for owned
/// wakers) backed by one strong count of that `Arc`.
unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: `data` points at a live entry (see above), so its slice is
    // alive and the count may be incremented; the new waker owns that count.
    unsafe { Arc::increment_strong_count(slice_of(data.cast())) };
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: an owned waker's data points at a live entry.
    unsafe { wake_by_ref(data) };
    // SAFETY: `wake` consumes the waker, so its strong count is released.
    unsafe { drop(data) };
}

unsafe fn wake_by_ref(data: *const ()) {
    let entry = data.cast::<Entry>();
    // SAFETY: `entry` points at a live entry of a live slice, derived from the
    // slice's pointer, so it and the slice's first entry (`index` elements
    // back) may be borrowed; entries are only ever shared by reference.
    let (entry, first) = unsafe { (&*entry, &*entry.sub((*entry).index as usize)) };
    let shared = first.shared.as_deref().expect("entry 0 holds the queue");
    entry.wake(shared);
}

unsafe fn drop(data: *const ()) {
    // SAFETY: an owned waker holds one strong count of the slice's `Arc`
    // (taken by `clone`); dropping the waker gives it back.
    unsafe { Arc::decrement_strong_count(slice_of(data.cast())) };
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
    /// The entries of segment 0, and of the others (segment `s` at `s - 1`):
    /// a set of one segment allocates no vector of segments.
    first: Arc<[Entry]>,
    more: Vec<Arc<[Entry]>>,
    shared: Arc<Shared>,
    /// The parent waker last stored in `shared`, to skip the lock when the
    /// parent is polled with the same one.
    parent: Option<Waker>,
    /// The batch being worked through, in the queue's mode.
    batch: Batch,
}

/// The slots taken from the shared queue and not handed out yet.
enum Batch {
    /// With [`Queue::Mask`]: one bit per slot.
    Bits(u64),
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
            (queue, Batch::Bits(0))
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
        let shared = Arc::new(Shared { queue });
        let first = Self::entries(&shared, 0, len);
        Self {
            first,
            more: Vec::new(),
            shared,
            parent: None,
            batch,
        }
    }

    /// The entries of a new segment.
    fn entries(shared: &Arc<Shared>, segment: usize, len: usize) -> Arc<[Entry]> {
        let (Ok(segment), Ok(len)) = (u32::try_from(segment), u32::try_from(len)) else {
            panic!("aiokit: more than 2^32 children in one set");
        };
        (0..len)
            .map(|index| Entry {
                shared: (index == 0).then(|| shared.clone()),
                index,
                len,
                segment,
                queued: AtomicBool::new(false),
            })
            .collect()
    }

    /// The entries of `segment`.
    #[inline(always)]
    fn segment(&self, segment: usize) -> &Arc<[Entry]> {
        segment_of(&self.first, &self.more, segment)
    }

    /// Adds a segment of `len` slots, sharing the set's queue and parent
    /// waker, and returns its number (segments are numbered from 0 in the
    /// order they were added).
    pub(crate) fn add_segment(&mut self, len: usize) -> usize {
        assert!(
            matches!(self.shared.queue, Queue::Locked { .. }),
            "WakeSet::add_segment: a bit-mask set has one segment"
        );
        let segment = self.more.len() + 1;
        self.more.push(Self::entries(&self.shared, segment, len));
        segment
    }

    /// Whether [`next`](Self::next) would find nothing and the parent's
    /// waker stored here wakes the same task as `waker`: a poll with `waker`
    /// would have nothing to do, and every wake from now on reaches that task.
    /// A wake that lands just after the check wakes that task.
    #[inline]
    pub(crate) fn is_idle_for(&self, waker: &Waker) -> bool {
        let empty = match &self.batch {
            Batch::Bits(bits) => {
                *bits == 0
                    && match &self.shared.queue {
                        Queue::Mask { mask, .. } => mask.load(Ordering::Relaxed) == 0,
                        Queue::Locked { .. } => {
                            unreachable!("the batch and the queue are built in the same mode")
                        }
                    }
            }
            Batch::List { slots, cursor } => *cursor == slots.len() && !self.shared.listed(),
        };
        empty && self.parent.as_ref().is_some_and(|w| w.will_wake(waker))
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
        match &self.shared.queue {
            Queue::Mask { parent, .. } => parent.register(waker),
            Queue::Locked { listed, .. } => {
                let old = lock(listed).parent.replace(waker.clone());
                // Dropped outside the lock.
                std::mem::drop(old);
            }
        }
    }

    /// Schedules `slot` to be polled, as if its waker had fired.
    #[inline(always)]
    pub(crate) fn schedule(&mut self, (segment, slot): SlotId) {
        match &mut self.batch {
            Batch::Bits(bits) => *bits |= 1 << slot,
            Batch::List { slots, .. } => {
                if !segment_of(&self.first, &self.more, segment)[slot]
                    .queued
                    .swap(true, Ordering::AcqRel)
                {
                    slots.push((segment, slot));
                }
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
            Batch::Bits(bits) => {
                if *bits == 0 {
                    *bits = self.shared.take_mask();
                    if *bits == 0 {
                        return None;
                    }
                }
                let slot = bits.trailing_zeros() as usize;
                *bits &= *bits - 1;
                Some((0, slot))
            }
            Batch::List { slots, cursor } => {
                if let Some(&(segment, slot)) = slots.get(*cursor) {
                    *cursor += 1;
                    // Acquire pairs with the waker's release: what the waker
                    // saw before waking is visible to the poll that follows.
                    segment_of(&self.first, &self.more, segment)[slot]
                        .queued
                        .swap(false, Ordering::AcqRel);
                    return Some((segment, slot));
                }
                if !self.shared.listed() {
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
        match (&mut self.batch, &self.shared.queue) {
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
                let (segment, slot) = *slots.get(*cursor)?;
                *cursor += 1;
                // Acquire pairs with the waker's release: what the waker saw
                // before waking is visible to the poll that follows.
                segment_of(&self.first, &self.more, segment)[slot]
                    .queued
                    .swap(false, Ordering::AcqRel);
                Some((segment, slot))
            }
            _ => unreachable!("the batch and the queue are built in the same mode"),
        }
    }

    /// Whether `slot` was woken again since `next` returned it (a self-wake,
    /// when asked right after polling it).
    #[inline(always)]
    pub(crate) fn is_queued(&self, (segment, slot): SlotId) -> bool {
        match &self.shared.queue {
            Queue::Mask { mask, .. } => mask.load(Ordering::Acquire) & (1 << slot) != 0,
            Queue::Locked { .. } => self.segment(segment)[slot].queued.load(Ordering::Acquire),
        }
    }

    /// The waker to poll `slot` with.
    #[inline(always)]
    pub(crate) fn waker(&self, (segment, slot): SlotId) -> SlotWaker<'_> {
        let entries = self.segment(segment);
        assert!(slot < entries.len(), "WakeSet::waker: no slot {slot}");
        // Derived from the slice's own pointer, so it may be stepped back to
        // the slice's start in `slice_of`.
        let entry = Arc::as_ptr(entries).cast::<Entry>().wrapping_add(slot);
        let raw = RawWaker::new(entry.cast(), &VTABLE);
        // SAFETY: the data pointer points at entry `slot` of the segment's
        // slice, which outlives the returned borrow (the set holds the slice),
        // and the vtable functions uphold the `RawWaker` contract for such
        // pointers. The waker is borrowed, not owned (`ManuallyDrop`): it
        // takes no strong count and gives none back; clones made from it take
        // their own.
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
        let count = Arc::new(Count(Default::default()));
        let parent = Waker::from(count.clone());
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
            let count = Arc::new(Count(Default::default()));
            let parent = Waker::from(count.clone());
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
    fn wakes_from_other_threads() {
        for len in SIZES {
            let mut set = WakeSet::new(len, false);
            let wakers: Vec<Waker> = (0..8).map(|i| set.waker((0, i)).clone()).collect();
            let handles: Vec<_> = wakers
                .into_iter()
                .map(|w| thread::spawn(move || w.wake()))
                .collect();
            for h in handles {
                h.join().unwrap();
            }
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

    use crate::utils::sync::loom_model as model;
    use std::future::poll_fn;
    use std::task::{Context, Poll};

    /// Asserts the locked queue holds no slot twice.
    fn assert_no_duplicates(set: &WakeSet) {
        if let Queue::Locked { listed, .. } = &set.shared.queue {
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
