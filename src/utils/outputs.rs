//! Buffers that put outputs arriving in completion order back in input order.

/// Outputs collected by input index, for the futures that resolve to a `Vec`
/// (`gather` and friends, `race_ok`'s errors). While outputs arrive in input
/// order (always the case for children that are ready on their first poll)
/// each is pushed straight into the result; the first one out of order
/// switches to one slot per input, filled as outputs arrive.
pub(crate) enum Outputs<T> {
    InOrder(Vec<T>),
    Slots(Vec<Option<T>>),
}

impl<T> Outputs<T> {
    pub(crate) const fn new() -> Self {
        Outputs::InOrder(Vec::new())
    }

    /// Reserves room for `additional` outputs, once.
    pub(crate) fn reserve(&mut self, additional: usize) {
        if let Outputs::InOrder(outputs) = self {
            if outputs.capacity() == 0 {
                outputs.reserve_exact(additional);
            }
        }
    }

    /// Stores the output of input `index` (each index once).
    #[inline]
    pub(crate) fn store(&mut self, index: usize, value: T) {
        match self {
            Outputs::InOrder(outputs) if index == outputs.len() => outputs.push(value),
            _ => self.store_out_of_order(index, value),
        }
    }

    #[cold]
    #[inline(never)]
    fn store_out_of_order(&mut self, index: usize, value: T) {
        if let Outputs::InOrder(outputs) = self {
            // Sized from the length: a `Vec` of a zero-sized type reports an
            // unbounded capacity.
            let mut slots = Vec::with_capacity(outputs.len().max(index + 1));
            slots.extend(std::mem::take(outputs).into_iter().map(Some));
            *self = Outputs::Slots(slots);
        }
        let Outputs::Slots(slots) = self else {
            unreachable!("switched above")
        };
        match slots.get_mut(index) {
            Some(slot) => *slot = Some(value),
            None => {
                // Inputs are pulled lazily with a limit: grow as needed.
                slots.resize_with(index, || None);
                slots.push(Some(value));
            }
        }
    }

    /// Every output, in input order, leaving the buffer empty.
    ///
    /// # Panics
    ///
    /// If an index below the highest stored one is missing.
    pub(crate) fn take(&mut self) -> Vec<T> {
        match std::mem::replace(self, Outputs::new()) {
            Outputs::InOrder(outputs) => outputs,
            Outputs::Slots(slots) => slots
                .into_iter()
                .map(|o| o.expect("every input completed"))
                .collect(),
        }
    }
}

/// Outputs of a stream in input order: a window of outputs that finished
/// ahead of the next one to hand out (the head).
///
/// A ring of a power-of-two length, indexed by input index: storing and
/// taking an output are a mask and a move, and the ring grows (rarely: the
/// stream's window bounds it) only when an output lands a full ring ahead of
/// the head.
pub(crate) struct Reorder<T> {
    /// The index of the next output to hand out.
    head: usize,
    /// `ring[i & (ring.len() - 1)]` holds the output of input `i`, for `i`
    /// in `head..head + ring.len()`, once it arrived.
    ring: Box<[Option<T>]>,
    /// How many of `ring`'s entries hold an output.
    stored: usize,
}

impl<T> Reorder<T> {
    pub(crate) fn new() -> Self {
        Self {
            head: 0,
            ring: Box::default(),
            stored: 0,
        }
    }

    /// Makes room for outputs up to `needed - 1` ahead of the head now,
    /// rather than growing to it output by output (an ordered stream knows
    /// its window when its limit is set). Before any output is stored.
    pub(crate) fn reserve(&mut self, needed: usize) {
        debug_assert_eq!(self.stored, 0, "reserve before storing");
        if needed > self.ring.len() {
            self.grow(needed);
        }
    }

    /// The index of the next output to hand out.
    pub(crate) fn head(&self) -> usize {
        self.head
    }

    /// Outputs waiting for an earlier one.
    pub(crate) fn len(&self) -> usize {
        self.stored
    }

    /// Stores the output of input `index` (at or after the head, once).
    #[inline]
    pub(crate) fn insert(&mut self, index: usize, value: T) {
        if index - self.head >= self.ring.len() {
            self.grow(index - self.head + 1);
        }
        let slot = index & (self.ring.len() - 1);
        debug_assert!(self.ring[slot].is_none(), "each index once");
        self.ring[slot] = Some(value);
        self.stored += 1;
    }

    /// Makes room for inputs up to `head + needed - 1`, keeping each stored
    /// output at its index.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, needed: usize) {
        let len = needed.next_power_of_two().max(8);
        let mut ring: Box<[Option<T>]> = (0..len).map(|_| None).collect();
        let old = std::mem::take(&mut self.ring);
        let old_len = old.len();
        for (slot, value) in old.into_vec().into_iter().enumerate() {
            if value.is_some() {
                // The input whose index is `slot` modulo the old length, in
                // the old window.
                let index = self.head + (slot.wrapping_sub(self.head) & (old_len - 1));
                ring[index & (len - 1)] = value;
            }
        }
        self.ring = ring;
    }

    /// The head's output, if it arrived.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        if self.ring.is_empty() {
            return None;
        }
        let value = self.ring[self.head & (self.ring.len() - 1)].take()?;
        self.head += 1;
        self.stored -= 1;
        Some(value)
    }

    /// Drops every buffered output.
    pub(crate) fn clear(&mut self) {
        self.ring = Box::default();
        self.stored = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::Reorder;

    /// Outputs inserted in a scrambled order, some a whole ring ahead of the
    /// head while the ring has wrapped, come out in input order, each once:
    /// from an empty ring, and from one reserved up front.
    #[test]
    fn reorder_hands_out_in_input_order_across_wraps_and_growth() {
        for (n, reserve) in [1, 7, 8, 9, 40, 300]
            .into_iter()
            .flat_map(|n| [(n, 0), (n, 16)])
        {
            let mut reorder = Reorder::new();
            reorder.reserve(reserve);
            let mut out = Vec::new();
            // Blocks of growing size, each in reverse: the head's output
            // always comes last in its block.
            let mut next = 0;
            let mut block = 1;
            while next < n {
                let end = (next + block).min(n);
                for index in (next..end).rev() {
                    reorder.insert(index, index * 10);
                }
                assert_eq!(reorder.len(), end - out.len());
                while let Some(value) = reorder.pop() {
                    out.push(value);
                }
                assert_eq!(reorder.head(), end);
                next = end;
                block = block * 3 % 17 + 1;
            }
            assert_eq!(
                out,
                (0..n).map(|i| i * 10).collect::<Vec<_>>(),
                "n = {n}, reserve = {reserve}"
            );
            assert_eq!(reorder.len(), 0);
        }
    }

    /// A reserved ring takes outputs up to its size ahead of the head
    /// without growing.
    #[test]
    fn a_reserved_ring_does_not_grow_within_its_size() {
        let mut reorder = Reorder::new();
        reorder.reserve(64);
        assert_eq!(reorder.ring.len(), 64);
        for index in (0..64).rev() {
            reorder.insert(index, index);
        }
        assert_eq!(reorder.ring.len(), 64);
        let out: Vec<_> = std::iter::from_fn(|| reorder.pop()).collect();
        assert_eq!(out, (0..64).collect::<Vec<_>>());
    }

    /// Growing keeps every stored output at its index when the stored ones
    /// wrap around the end of the ring.
    #[test]
    fn reorder_grows_around_a_wrapped_window() {
        let mut reorder = Reorder::new();
        for index in 0..6 {
            reorder.insert(index, index);
            assert_eq!(reorder.pop(), Some(index));
        }
        // Head 6 in a ring of 8: inputs 7..=13 wrap past its end.
        for index in 7..=13 {
            reorder.insert(index, index);
        }
        assert_eq!(reorder.pop(), None, "input 6 is missing");
        reorder.insert(30, 30);
        reorder.insert(6, 6);
        let out: Vec<_> = std::iter::from_fn(|| reorder.pop()).collect();
        assert_eq!(out, (6..=13).collect::<Vec<_>>());
        assert_eq!(reorder.head(), 14);
        assert_eq!(reorder.len(), 1);
        for index in 14..30 {
            reorder.insert(index, index);
        }
        let out: Vec<_> = std::iter::from_fn(|| reorder.pop()).collect();
        assert_eq!(out, (14..=30).collect::<Vec<_>>());
    }
}
