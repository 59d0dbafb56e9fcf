//! A fixed-size slice of futures pinned in place.
//!
//! One of the two `unsafe` modules of the crate (the other is
//! [`wake_set`](super::wake_set)). It exists so that `gather` and friends can
//! keep every child future inline in one allocation instead of boxing each
//! child (`Pin<Box<F>>` costs one allocation per child, which the `gather`
//! benchmark shows to be several times the cost of polling a ready child).
//! `.ci/run` runs this module's tests under Miri.
//!
//! The invariant that makes the projections sound: a `PinSlice` owns a
//! `Box<[Option<F>]>` that is never reallocated, and a future stored in it is
//! never moved: the API offers no way to get an `F` or an `&mut F` out of the
//! slice. A future leaves its slot only by being dropped in place (the slot is
//! overwritten with `None`, or the whole box is dropped).

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// A boxed slice of optional futures, each pinned where it stands.
pub(crate) struct PinSlice<F> {
    slots: Box<[Option<F>]>,
}

impl<F> PinSlice<F> {
    /// Takes ownership of `futures`; each becomes pinned from now on.
    pub(crate) fn new(futures: Vec<Option<F>>) -> Self {
        Self {
            slots: futures.into_boxed_slice(),
        }
    }

    /// The number of slots (occupied or not).
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether slot `i` holds a future.
    pub(crate) fn is_occupied(&self, i: usize) -> bool {
        self.slots[i].is_some()
    }

    /// Places `fut` into the empty slot `i`.
    ///
    /// # Panics
    ///
    /// If the slot is occupied: overwriting it would be a bug in the caller.
    pub(crate) fn put(&mut self, i: usize, fut: F) {
        let slot = &mut self.slots[i];
        assert!(slot.is_none(), "PinSlice::put into an occupied slot");
        // Writing into an empty slot moves no pinned value.
        *slot = Some(fut);
    }

    /// Drops the future in slot `i`, in place. Does nothing if it is empty.
    pub(crate) fn clear(&mut self, i: usize) {
        // Assignment drops the old value where it stands, which the pinning
        // contract allows.
        self.slots[i] = None;
    }

    /// Releases the slice's memory once every future has completed.
    pub(crate) fn release(&mut self) {
        self.slots = Box::new([]);
    }
}

impl<F: Future> PinSlice<F> {
    /// Polls the future in slot `i`, dropping it in place when it completes.
    ///
    /// Returns `None` when the slot is empty.
    #[inline]
    pub(crate) fn poll(&mut self, i: usize, cx: &mut Context<'_>) -> Option<Poll<F::Output>> {
        let slot = self.slots[i].as_mut()?;
        // SAFETY: `slot` lives inside `self.slots`, a boxed slice that is never
        // reallocated or moved out of (see the module docs), and no `F` is
        // ever moved out of its slot: it is only dropped in place by `clear`,
        // `release` or the box's own drop. So the future stays
        // at this address until it is dropped, as `Pin` requires.
        let pinned = unsafe { Pin::new_unchecked(slot) };
        let out = pinned.poll(cx);
        if out.is_ready() {
            self.clear(i);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::marker::PhantomPinned;
    use std::cell::Cell;
    use std::rc::Rc;
    use std::task::Waker;

    /// A `!Unpin` future that checks it never moved between polls.
    struct AddressCheck {
        seen: Option<usize>,
        polls_left: u32,
        drops: Rc<Cell<u32>>,
        _pin: PhantomPinned,
    }

    impl Future for AddressCheck {
        type Output = u32;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
            let addr = &*self as *const Self as usize;
            // SAFETY: test code; nothing here moves the future.
            let this = unsafe { self.get_unchecked_mut() };
            if let Some(seen) = this.seen {
                assert_eq!(seen, addr, "a pinned future moved");
            }
            this.seen = Some(addr);
            if this.polls_left == 0 {
                Poll::Ready(7)
            } else {
                this.polls_left -= 1;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }

    impl Drop for AddressCheck {
        fn drop(&mut self) {
            self.drops.set(self.drops.get() + 1);
        }
    }

    fn check(polls_left: u32, drops: &Rc<Cell<u32>>) -> AddressCheck {
        AddressCheck {
            seen: None,
            polls_left,
            drops: drops.clone(),
            _pin: PhantomPinned,
        }
    }

    #[test]
    fn futures_stay_put_and_drop_once() {
        let drops = Rc::new(Cell::new(0));
        let mut slice = PinSlice::new((0..4).map(|i| Some(check(i, &drops))).collect());
        let mut cx = Context::from_waker(Waker::noop());
        let mut done = 0;
        while done < 4 {
            for i in 0..slice.len() {
                if let Some(Poll::Ready(v)) = slice.poll(i, &mut cx) {
                    assert_eq!(v, 7);
                    assert!(!slice.is_occupied(i));
                    done += 1;
                }
            }
        }
        assert_eq!(drops.get(), 4, "each child dropped as it completed");
        assert!(slice.poll(0, &mut cx).is_none());
    }

    #[test]
    fn put_clear_and_drop_in_place() {
        let drops = Rc::new(Cell::new(0));
        let mut slice = PinSlice::new(vec![None, None, None]);
        let mut cx = Context::from_waker(Waker::noop());
        slice.put(1, check(5, &drops));
        assert!(slice.poll(1, &mut cx).unwrap().is_pending());
        slice.clear(1);
        assert_eq!(drops.get(), 1);
        slice.put(1, check(5, &drops));
        slice.put(2, check(5, &drops));
        assert!(slice.poll(2, &mut cx).unwrap().is_pending());
        slice.clear(1);
        slice.clear(2);
        assert_eq!(drops.get(), 3);
        slice.put(0, check(5, &drops));
        drop(slice);
        assert_eq!(drops.get(), 4, "dropping the slice drops what it holds");
    }

    #[test]
    #[should_panic(expected = "occupied")]
    fn put_into_occupied_slot_panics() {
        let drops = Rc::new(Cell::new(0));
        let mut slice = PinSlice::new(vec![Some(check(0, &drops))]);
        slice.put(0, check(0, &drops));
    }
}
