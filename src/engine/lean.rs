//! How the engine's collections grow. Every top-level call has an engine of
//! its own with one call in it, one request at a time and a timer or two,
//! yet std's collections start at four slots and keep them when emptied:
//! a sleeping wait kept about half a kilobyte of wasm memory in empty or
//! oversized collections. Here the maps and the timers start with one slot
//! and double when full. The maps give their block back when they empty,
//! and the timers when pruning leaves none (a sleeping call always has one
//! armed); the engine drops its queue of effects itself once the driver has
//! taken them all (through this trait it cost 37 B gzip more).

use std::collections::BinaryHeap;

/// A collection that grows one slot at a time and is freed when empty.
pub(crate) trait Lean {
    /// Makes room for one more: the first slot, or twice the slots.
    fn make_room(&mut self);
    /// Frees the block of an empty collection.
    fn release_if_empty(&mut self);
}

/// The same for each kind of collection the engine grows.
macro_rules! lean {
    ($($collection:ident $(: $bound:path)?),*) => {$(
        impl<T $(: $bound)?> Lean for $collection<T> {
            fn make_room(&mut self) {
                if self.len() == self.capacity() {
                    self.reserve_exact(self.len().max(1));
                }
            }

            fn release_if_empty(&mut self) {
                if self.is_empty() {
                    *self = $collection::new();
                }
            }
        }
    )*};
}

lean!(Vec, BinaryHeap: Ord);

#[cfg(test)]
mod tests {
    use super::Lean;

    #[test]
    fn a_lean_vector_doubles_from_one_slot_and_is_freed_when_emptied() {
        let mut v = Vec::new();
        let mut capacities = Vec::new();
        for i in 0..5 {
            v.make_room();
            v.push(i);
            capacities.push(v.capacity());
        }
        assert_eq!(capacities, [1, 2, 4, 4, 8]);
        v.clear();
        v.release_if_empty();
        assert_eq!(v.capacity(), 0);
    }
}
