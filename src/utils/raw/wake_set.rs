//! Per-slot wakers that record *which* child woke, all in one allocation.
//!
//! The set owns an `Arc<[Entry]>`, one entry per slot. The waker for slot `i`
//! is a raw waker whose data pointer is `&entries[i]`; cloning it increments
//! the reference count of the whole `Arc<[Entry]>` and dropping it decrements
//! that count, so N wakers cost one allocation instead of N `Arc`s. (A safe
//! `std::task::Wake` waker needs an `Arc` of its own per child, which the
//! gather benchmark shows to be the largest cost when many children wait.)
//!
//! Waking slot `i` queues `i` on a shared ready queue (a bit in one atomic
//! word for sets of up to 64 slots, an index pushed onto a vector above), at
//! most once until the slot is polled again, and wakes the parent task if the
//! queue was empty.
//! The parent polls only the slots it dequeues, so one wake costs O(1)
//! whatever the number of children.

use std::marker::PhantomData;
use std::mem::{self, ManuallyDrop};
use std::ops::Deref;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{RawWaker, RawWakerVTable, Waker};

/// Sets of up to this many slots keep their ready queue in one `AtomicU64`.
const MASK_BITS: usize = 64;

/// The ready queue, shared by every entry and the parent.
///
/// A small set (up to [`MASK_BITS`] slots) queues slot `i` by setting bit
/// `i` of `mask`: a wake is one `fetch_or`, taking the queue one `swap`. A
/// larger set pushes indices onto a vector under the lock.
struct Queue {
    inner: Mutex<QueueInner>,
    /// Large sets: set (under the lock) when the queue goes from empty to
    /// non-empty, cleared when the parent takes it, so the parent can skip
    /// the lock when nothing was woken.
    nonempty: AtomicBool,
    /// Small sets: the woken slots, one bit each.
    mask: AtomicU64,
    small: bool,
}

struct QueueInner {
    /// Slots woken since the parent last took the queue.
    slots: Vec<usize>,
    /// The task polling the parent.
    parent: Option<Waker>,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One slot's waker state. Entries live in an `Arc<[Entry]>`; a raw waker
/// points at its entry.
struct Entry {
    /// The shared queue, held by entry 0 only (the others reach it through
    /// entry 0, see `wake_by_ref`), so building N entries touches no
    /// reference count N times.
    queue: Option<Arc<Queue>>,
    /// This entry's position in the slice, and the slice's length: enough to
    /// rebuild the slice pointer from an entry pointer.
    index: usize,
    len: usize,
    /// In the queue, or about to be polled.
    queued: AtomicBool,
}

impl Entry {
    /// Queues this entry's slot on `queue`, the queue of its set.
    fn wake(&self, queue: &Queue) {
        if queue.small {
            // The parent takes the whole mask when it runs, so it needs a
            // wake only when the mask stops being empty.
            if queue.mask.fetch_or(1 << self.index, Ordering::AcqRel) == 0 {
                let parent = queue.lock().parent.clone();
                if let Some(parent) = parent {
                    parent.wake();
                }
            }
            return;
        }
        if self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        let parent = {
            let mut inner = queue.lock();
            inner.slots.push(self.index);
            // The parent drains the whole queue when it runs, so it needs a
            // wake only when the queue stops being empty.
            if inner.slots.len() > 1 {
                return;
            }
            queue.nonempty.store(true, Ordering::Release);
            inner.parent.clone()
        };
        // Woken outside the lock, in case the waker polls the parent inline.
        if let Some(parent) = parent {
            parent.wake();
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
    let (index, len) = unsafe { ((*entry).index, (*entry).len) };
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
    let (entry, first) = unsafe { (&*entry, &*entry.sub((*entry).index)) };
    let queue = first.queue.as_deref().expect("entry 0 holds the queue");
    entry.wake(queue);
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

/// The ready queue and the slot wakers for `len` slots.
pub(crate) struct WakeSet {
    entries: Arc<[Entry]>,
    queue: Arc<Queue>,
    /// The parent waker last stored in the queue, to skip the lock when the
    /// parent is polled with the same one.
    parent: Option<Waker>,
    /// The batch being worked through, and the position in it (large sets),
    /// or its slots as bits (small sets).
    batch: Vec<usize>,
    cursor: usize,
    batch_bits: u64,
}

impl WakeSet {
    /// A set for `len` slots, with an empty queue. With `wake_order`, woken
    /// slots are always handed out in the order they were woken; otherwise
    /// small sets hand each batch out in slot order (and queue with a bit mask).
    pub(crate) fn new(len: usize, wake_order: bool) -> Self {
        let queue = Arc::new(Queue {
            inner: Mutex::new(QueueInner {
                slots: Vec::new(),
                parent: None,
            }),
            nonempty: AtomicBool::new(false),
            mask: AtomicU64::new(0),
            small: len <= MASK_BITS && !wake_order,
        });
        let entries = (0..len)
            .map(|index| Entry {
                queue: (index == 0).then(|| queue.clone()),
                index,
                len,
                queued: AtomicBool::new(false),
            })
            .collect();
        Self {
            entries,
            queue,
            parent: None,
            batch: Vec::new(),
            cursor: 0,
            batch_bits: 0,
        }
    }

    /// Records the parent task's waker; call at the start of every parent poll.
    pub(crate) fn register(&mut self, waker: &Waker) {
        if self.parent.as_ref().is_some_and(|w| w.will_wake(waker)) {
            return;
        }
        self.parent = Some(waker.clone());
        self.queue.lock().parent = Some(waker.clone());
    }

    /// Schedules `slot` to be polled, as if its waker had fired.
    pub(crate) fn schedule(&mut self, slot: usize) {
        if self.queue.small {
            self.batch_bits |= 1 << slot;
        } else if !self.entries[slot].queued.swap(true, Ordering::AcqRel) {
            self.batch.push(slot);
        }
    }

    /// The next slot to poll, taking a new batch from the shared queue once
    /// the current one is used up. `None` when nothing is queued.
    ///
    /// The slot's queued flag (its bit, in a small set) is cleared before it
    /// is returned, so a wake that arrives while the slot is being polled
    /// queues it again. Small sets go through a batch in slot order, large
    /// ones in wake order.
    pub(crate) fn next(&mut self) -> Option<usize> {
        if self.queue.small {
            if self.batch_bits == 0 {
                // Acquire pairs with the wakers' release.
                self.batch_bits = self.queue.mask.swap(0, Ordering::AcqRel);
            }
            if self.batch_bits == 0 {
                return None;
            }
            let slot = self.batch_bits.trailing_zeros() as usize;
            self.batch_bits &= self.batch_bits - 1;
            return Some(slot);
        }
        if self.cursor == self.batch.len() {
            self.batch.clear();
            self.cursor = 0;
            if self.queue.nonempty.load(Ordering::Acquire) {
                let mut queue = self.queue.lock();
                mem::swap(&mut queue.slots, &mut self.batch);
                self.queue.nonempty.store(false, Ordering::Relaxed);
            }
        }
        let slot = *self.batch.get(self.cursor)?;
        self.cursor += 1;
        // Acquire pairs with the waker's release: what the waker saw before
        // waking is visible to the poll that follows.
        self.entries[slot].queued.swap(false, Ordering::AcqRel);
        Some(slot)
    }

    /// Whether `slot` was woken again since `next` returned it (a self-wake,
    /// when asked right after polling it).
    pub(crate) fn is_queued(&self, slot: usize) -> bool {
        if self.queue.small {
            self.queue.mask.load(Ordering::Acquire) & (1 << slot) != 0
        } else {
            self.entries[slot].queued.load(Ordering::Acquire)
        }
    }

    /// The waker to poll `slot` with.
    pub(crate) fn waker(&self, slot: usize) -> SlotWaker<'_> {
        assert!(slot < self.entries.len(), "WakeSet::waker: no slot {slot}");
        // Derived from the slice's own pointer, so it may be stepped back to
        // the slice's start in `slice_of`.
        let entry = Arc::as_ptr(&self.entries)
            .cast::<Entry>()
            .wrapping_add(slot);
        let raw = RawWaker::new(entry.cast(), &VTABLE);
        // SAFETY: the data pointer points at entry `slot` of `self.entries`,
        // which outlives the returned borrow, and the vtable functions uphold
        // the `RawWaker` contract for such pointers. The waker is borrowed,
        // not owned (`ManuallyDrop`): it takes no strong count and gives none
        // back; clones made from it take their own.
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

    #[test]
    fn wakes_queue_each_slot_once() {
        for len in SIZES {
            let mut set = WakeSet::new(len, false);
            let w1 = set.waker(1).clone();
            let w2 = set.waker(2).clone();
            w2.wake_by_ref();
            w1.wake_by_ref();
            w2.wake_by_ref();
            let mut batch = vec![set.next().unwrap(), set.next().unwrap()];
            batch.sort_unstable();
            assert_eq!(batch, [1, 2]);
            assert_eq!(set.next(), None);
            w1.wake();
            assert!(set.is_queued(1));
            assert_eq!(set.next(), Some(1));
            assert!(!set.is_queued(1));
        }
    }

    #[test]
    fn large_or_ordered_sets_go_in_wake_order() {
        for (len, wake_order) in [(MASK_BITS + 1, false), (4, true)] {
            let mut set = WakeSet::new(len, wake_order);
            set.waker(len - 1).wake_by_ref();
            set.waker(0).wake_by_ref();
            assert_eq!(set.next(), Some(len - 1));
            assert_eq!(set.next(), Some(0));
        }
    }

    #[test]
    fn schedule_queues_a_slot_without_a_wake() {
        for len in SIZES {
            let mut set = WakeSet::new(len, false);
            set.schedule(0);
            assert_eq!(set.next(), Some(0));
            assert_eq!(set.next(), None);
        }
    }

    #[test]
    fn clones_keep_the_entries_alive_after_the_set_is_gone() {
        for len in SIZES {
            let set = WakeSet::new(len, false);
            let kept = (*set.waker(len - 1)).clone();
            assert!(kept.will_wake(&set.waker(len - 1)));
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
        struct Count(std::sync::atomic::AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        for len in SIZES {
            let count = Arc::new(Count(Default::default()));
            let parent = Waker::from(count.clone());
            let mut set = WakeSet::new(len, false);
            set.register(&parent);
            let wakers: Vec<Waker> = (0..3).map(|i| set.waker(i).clone()).collect();
            for w in &wakers {
                w.wake_by_ref();
            }
            assert_eq!(count.0.load(Ordering::SeqCst), 1);
            while set.next().is_some() {}
            wakers[0].wake_by_ref();
            assert_eq!(count.0.load(Ordering::SeqCst), 2);
        }
    }

    #[test]
    fn wakes_from_other_threads() {
        for len in SIZES {
            let mut set = WakeSet::new(len, false);
            let wakers: Vec<Waker> = (0..8).map(|i| set.waker(i).clone()).collect();
            let handles: Vec<_> = wakers
                .into_iter()
                .map(|w| thread::spawn(move || w.wake()))
                .collect();
            for h in handles {
                h.join().unwrap();
            }
            let mut seen: Vec<usize> = std::iter::from_fn(|| set.next()).collect();
            seen.sort();
            assert_eq!(seen, (0..8).collect::<Vec<_>>());
        }
    }
}
