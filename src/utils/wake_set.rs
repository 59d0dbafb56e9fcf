//! Per-slot wakers that record *which* child woke.
//!
//! Each slot that needs one gets an `Arc<SlotWaker>`; waking it pushes the
//! slot's index onto a shared ready queue (at most once until the slot is
//! polled again) and, if the queue was empty, wakes the parent task. The
//! parent then polls only the slots it dequeues, so one wake costs O(1)
//! whatever the number of children.
//!
//! Wakers are handed to children as `WakerRef`s borrowed from the slot's
//! `Arc` (no reference-count traffic per poll). When a child completes and
//! nobody kept a clone of its waker, the `Arc` is recycled for the next slot
//! that needs one, so a run of children that complete on their first poll
//! allocates a single waker in all.

use std::mem;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

use futures_util::task::{ArcWake, WakerRef, waker_ref};

/// State shared between the parent and every slot waker.
struct Shared {
    queue: Mutex<Queue>,
    /// Set (under the lock) when the queue goes from empty to non-empty,
    /// cleared when the parent takes it: lets the parent skip the lock when
    /// nothing was woken.
    nonempty: AtomicBool,
    /// `queued[i]`: slot `i` is in the queue, or about to be polled.
    queued: Box<[AtomicBool]>,
}

struct Queue {
    /// Slots woken since the parent last took the queue.
    slots: Vec<usize>,
    /// The task polling the parent.
    parent: Option<Waker>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn enqueue(&self, slot: usize) {
        if self.queued[slot].swap(true, Ordering::AcqRel) {
            return;
        }
        let parent = {
            let mut queue = self.lock();
            queue.slots.push(slot);
            // The parent drains the whole queue when it runs, so it needs a
            // wake only when the queue stops being empty.
            if queue.slots.len() > 1 {
                return;
            }
            self.nonempty.store(true, Ordering::Release);
            queue.parent.clone()
        };
        // Woken outside the lock, in case the waker polls the parent inline.
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

struct SlotWaker {
    shared: Arc<Shared>,
    slot: usize,
}

impl ArcWake for SlotWaker {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.shared.enqueue(arc_self.slot);
    }
}

/// The ready queue and the slot wakers for `len` slots.
pub(crate) struct WakeSet {
    shared: Arc<Shared>,
    /// The parent waker last stored in the queue, to skip the lock when the
    /// parent is polled with the same one.
    parent: Option<Waker>,
    wakers: Box<[Option<Arc<SlotWaker>>]>,
    /// Wakers whose child completed with no clone outstanding, ready for reuse.
    spare: Vec<Arc<SlotWaker>>,
    /// The batch being worked through, and the position in it.
    batch: Vec<usize>,
    cursor: usize,
}

impl WakeSet {
    /// A set for `len` slots, with an empty queue.
    pub(crate) fn new(len: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue {
                    slots: Vec::new(),
                    parent: None,
                }),
                nonempty: AtomicBool::new(false),
                queued: (0..len).map(|_| AtomicBool::new(false)).collect(),
            }),
            parent: None,
            wakers: (0..len).map(|_| None).collect(),
            spare: Vec::new(),
            batch: Vec::new(),
            cursor: 0,
        }
    }

    /// Records the parent task's waker; call at the start of every parent poll.
    pub(crate) fn register(&mut self, waker: &Waker) {
        if self.parent.as_ref().is_some_and(|w| w.will_wake(waker)) {
            return;
        }
        self.parent = Some(waker.clone());
        self.shared.lock().parent = Some(waker.clone());
    }

    /// Schedules `slot` to be polled, as if its waker had fired.
    pub(crate) fn schedule(&mut self, slot: usize) {
        if !self.shared.queued[slot].swap(true, Ordering::AcqRel) {
            self.batch.push(slot);
        }
    }

    /// The next slot to poll, taking a new batch from the shared queue once
    /// the current one is used up. `None` when nothing is queued.
    ///
    /// The slot's queued flag is cleared before it is returned, so a wake that
    /// arrives while the slot is being polled queues it again.
    pub(crate) fn next(&mut self) -> Option<usize> {
        if self.cursor == self.batch.len() {
            self.batch.clear();
            self.cursor = 0;
            if self.shared.nonempty.load(Ordering::Acquire) {
                let mut queue = self.shared.lock();
                mem::swap(&mut queue.slots, &mut self.batch);
                self.shared.nonempty.store(false, Ordering::Relaxed);
            }
        }
        let slot = *self.batch.get(self.cursor)?;
        self.cursor += 1;
        // Acquire pairs with the waker's release: what the waker saw before
        // waking is visible to the poll that follows.
        self.shared.queued[slot].swap(false, Ordering::AcqRel);
        Some(slot)
    }

    /// Whether `slot` was woken again since `next` returned it (a self-wake,
    /// when asked right after polling it).
    pub(crate) fn is_queued(&self, slot: usize) -> bool {
        self.shared.queued[slot].load(Ordering::Acquire)
    }

    /// The waker to poll `slot` with, created (or recycled) on first use.
    pub(crate) fn waker(&mut self, slot: usize) -> WakerRef<'_> {
        if self.wakers[slot].is_none() {
            let waker = match self.spare.pop() {
                Some(mut spare) => {
                    // A spare is unique (checked when it was retired), so it
                    // can be pointed at another slot.
                    Arc::get_mut(&mut spare)
                        .expect("spare wakers are unique")
                        .slot = slot;
                    spare
                }
                None => Arc::new(SlotWaker {
                    shared: self.shared.clone(),
                    slot,
                }),
            };
            self.wakers[slot] = Some(waker);
        }
        waker_ref(self.wakers[slot].as_ref().expect("just set"))
    }

    /// Called when the child in `slot` completed: its waker is kept for reuse
    /// if nobody holds a clone of it.
    pub(crate) fn retire(&mut self, slot: usize) {
        if let Some(mut waker) = self.wakers[slot].take() {
            if Arc::get_mut(&mut waker).is_some() {
                self.spare.push(waker);
            } else {
                // A clone is still out there; keep it bound to this slot so a
                // late wake names the right (now empty or refilled) slot.
                self.wakers[slot] = Some(waker);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wakes_queue_each_slot_once() {
        let mut set = WakeSet::new(3);
        let w1 = set.waker(1).clone();
        let w2 = set.waker(2).clone();
        w2.wake_by_ref();
        w1.wake_by_ref();
        w2.wake_by_ref();
        assert_eq!(set.next(), Some(2));
        assert_eq!(set.next(), Some(1));
        assert_eq!(set.next(), None);
        w1.wake();
        assert!(set.is_queued(1));
        assert_eq!(set.next(), Some(1));
        assert!(!set.is_queued(1));
    }

    #[test]
    fn unique_wakers_are_recycled() {
        let mut set = WakeSet::new(2);
        let first = &*set.waker(0) as *const Waker as usize;
        let _ = first;
        set.retire(0);
        assert_eq!(set.spare.len(), 1);
        let _ = set.waker(1);
        assert!(set.spare.is_empty(), "slot 1 reused slot 0's waker");
        let kept = set.waker(1).clone();
        set.retire(1);
        assert!(set.spare.is_empty(), "a cloned waker is not recycled");
        kept.wake();
        assert_eq!(set.next(), Some(1));
    }

    #[test]
    fn schedule_deduplicates_with_wakes() {
        let mut set = WakeSet::new(2);
        set.schedule(0);
        set.waker(0).wake_by_ref();
        assert_eq!(set.next(), Some(0));
        assert_eq!(set.next(), None);
    }
}
