//! Buffers that put outputs arriving in completion order back in input order.

use std::collections::VecDeque;

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
pub(crate) struct Reorder<T> {
    /// The index of the next output to hand out.
    head: usize,
    /// `buffer[i]` holds the output of input `head + i`, once it arrived.
    buffer: VecDeque<Option<T>>,
    /// How many of `buffer`'s entries hold an output.
    stored: usize,
}

impl<T> Reorder<T> {
    pub(crate) const fn new() -> Self {
        Self {
            head: 0,
            buffer: VecDeque::new(),
            stored: 0,
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
    pub(crate) fn insert(&mut self, index: usize, value: T) {
        let offset = index - self.head;
        if offset >= self.buffer.len() {
            self.buffer.resize_with(offset + 1, || None);
        }
        debug_assert!(self.buffer[offset].is_none(), "each index once");
        self.buffer[offset] = Some(value);
        self.stored += 1;
    }

    /// The head's output, if it arrived.
    pub(crate) fn pop(&mut self) -> Option<T> {
        if !matches!(self.buffer.front(), Some(Some(_))) {
            return None;
        }
        self.head += 1;
        self.stored -= 1;
        self.buffer.pop_front().flatten()
    }

    /// Drops every buffered output.
    pub(crate) fn clear(&mut self) {
        self.buffer = VecDeque::new();
        self.stored = 0;
    }
}
