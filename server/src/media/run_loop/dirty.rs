//! The peers to poll before the loop sleeps: a set of slots with constant-time insert. A
//! packet forwarded to a meeting marks every subscriber, and a scan of the list per mark (what
//! it was) grew with the square of the listeners: up to 640 000 comparisons for one packet to
//! 800. Vectorised, that was still only ~0.2 % of the CPU at 800 (perf), but it was the one
//! cost of Haven's own that grew faster than the meeting.

#[derive(Default)]
pub(super) struct DirtySlots {
    slots: Vec<usize>,
    marked: Vec<bool>,
}

impl DirtySlots {
    pub fn mark(&mut self, slot: usize) {
        if slot >= self.marked.len() {
            self.marked.resize(slot + 1, false);
        }
        if !self.marked[slot] {
            self.marked[slot] = true;
            self.slots.push(slot);
        }
    }

    /// The most recently marked slot, unmarked.
    pub fn pop(&mut self) -> Option<usize> {
        let slot = self.slots.pop()?;
        self.marked[slot] = false;
        Some(slot)
    }

    pub fn remove(&mut self, slot: usize) {
        if self.marked.get(slot).copied().unwrap_or(false) {
            self.marked[slot] = false;
            self.slots.retain(|&s| s != slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_slot_is_held_once_until_popped() {
        let mut dirty = DirtySlots::default();
        for slot in [3, 0, 3, 7, 0] {
            dirty.mark(slot);
        }
        dirty.remove(0);
        dirty.remove(42);
        let mut popped = Vec::new();
        while let Some(slot) = dirty.pop() {
            popped.push(slot);
        }
        assert_eq!(popped, vec![7, 3]);
        // Popped slots can be marked again.
        dirty.mark(3);
        assert_eq!(dirty.pop(), Some(3));
        assert_eq!(dirty.pop(), None);
    }
}
