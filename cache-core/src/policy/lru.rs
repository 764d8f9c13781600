//! Least recently used: a doubly linked list threaded through the slots (`Meta::prev`/`next`), most recent at
//! the head.
//!
//! **Unordered until first full.** The order only matters when something must be evicted, and a store that has
//! never been full evicts nothing. So until the store first fills up, a use only stamps the slot with a counter
//! (kept in its `Meta`, whose links are unused then: one store, no list surgery), and [`EvictionPolicy::order`]
//! sorts the slots by stamp into the exact list the first time the store needs a victim. From then on (until
//! `clear`) the list is kept as usual. The order that results is the same either way: the list is by last use.
//! Only shards of up to `UNORDERED_MAX` entries start unordered, which bounds the one-time sort.

use super::{
    link_front, link_moved, set_stamp, stamp_each, stamp_of, valid_slots, EvictionPolicy,
    MetaSlots, NIL,
};

/// LRU order over slot indices. Reads and writes move an entry to the head; the tail is the victim.
#[derive(Debug)]
pub(crate) struct Lru {
    head: u32,
    tail: u32,
    /// `Some(next stamp)` while the list is not built yet (see the module docs).
    unordered: Option<u64>,
    /// Whether a new or cleared policy starts unordered (small shards only: see `UNORDERED_MAX`).
    starts_unordered: bool,
}

#[cfg(test)]
impl Default for Lru {
    fn default() -> Self {
        Self::new(true)
    }
}

impl Lru {
    /// A policy that starts unordered if `unordered`.
    pub(crate) fn new(unordered: bool) -> Self {
        Self {
            head: NIL,
            tail: NIL,
            unordered: unordered.then_some(0),
            starts_unordered: unordered,
        }
    }

    /// Records a use while unordered; returns whether it did (false once the list is kept).
    #[inline]
    fn stamp(&mut self, slots: &mut impl MetaSlots, idx: u32) -> bool {
        match &mut self.unordered {
            Some(next) => {
                set_stamp(slots.meta_mut(idx), *next);
                *next += 1;
                true
            }
            None => false,
        }
    }

    fn unlink(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        super::unlink(slots, idx, &mut self.head, &mut self.tail);
    }

    fn push_front(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        link_front(slots, idx, &mut self.head, &mut self.tail);
    }
}

impl EvictionPolicy for Lru {
    fn insert(&mut self, slots: &mut impl MetaSlots, idx: u32, _hash: u64) {
        if !self.stamp(slots, idx) {
            self.push_front(slots, idx);
        }
    }

    #[inline]
    fn touch(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        if !self.stamp(slots, idx) && self.head != idx {
            self.unlink(slots, idx);
            self.push_front(slots, idx);
        }
    }

    fn touch_many(&mut self, slots: &mut impl MetaSlots, idxs: &[u32]) {
        let valid = valid_slots(slots.count(), idxs);
        if let Some(next) = &mut self.unordered {
            stamp_each(slots, valid, next, |_| {});
        } else {
            for i in valid {
                self.touch(slots, i);
            }
        }
    }

    fn remove(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        if self.unordered.is_none() {
            self.unlink(slots, idx);
        }
    }

    fn relocate(&mut self, slots: &mut impl MetaSlots, from: u32, to: u32) {
        if self.unordered.is_some() {
            // The stamp moved with the slot's `Meta`; there are no links to fix.
            return;
        }
        link_moved(slots, to, &mut self.head, &mut self.tail);
        debug_assert!(self.head != from && self.tail != from);
    }

    fn order(&mut self, slots: &mut impl MetaSlots, len: usize) {
        if self.unordered.take().is_none() {
            return;
        }
        #[allow(clippy::cast_possible_truncation)] // slot indices fit u32
        let mut by_use: Vec<(u64, u32)> = (0..len as u32)
            .map(|i| (stamp_of(slots.meta(i)), i))
            .collect();
        by_use.sort_unstable();
        self.head = NIL;
        self.tail = NIL;
        // Oldest first, so the newest ends up at the head.
        for (_, i) in by_use {
            self.push_front(slots, i);
        }
    }

    fn victim(&mut self, _slots: &mut impl MetaSlots) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }

    fn clear(&mut self) {
        *self = Self::new(self.starts_unordered);
    }
}

#[cfg(test)]
mod tests {
    use super::super::Meta;
    use super::*;

    fn order(lru: &Lru, slots: &[Meta]) -> Vec<u32> {
        let mut out = Vec::new();
        let mut at = lru.head;
        while at != NIL {
            out.push(at);
            at = slots[at as usize].next;
        }
        out
    }

    #[test]
    fn uses_before_the_first_eviction_are_sorted_into_the_exact_order() {
        let mut slots = vec![Meta::default(); 4];
        let mut lru = Lru::default();
        for i in 0..4 {
            lru.insert(&mut slots, i, 0);
        }
        // Unordered: only stamps, no list yet.
        lru.touch(&mut slots, 1);
        lru.touch(&mut slots, 2);
        lru.touch(&mut slots, 1);
        assert_eq!(lru.head, NIL);
        lru.order(&mut slots, 4);
        assert_eq!(order(&lru, &slots), [1, 2, 3, 0]);
        assert_eq!(lru.victim(&mut slots), Some(0));
        // Ordering twice changes nothing.
        lru.order(&mut slots, 4);
        assert_eq!(order(&lru, &slots), [1, 2, 3, 0]);
    }

    #[test]
    fn a_large_shard_keeps_its_order_from_the_start() {
        let mut slots = vec![Meta::default(); 2];
        let mut lru = Lru::new(false);
        lru.insert(&mut slots, 0, 0);
        lru.insert(&mut slots, 1, 0);
        lru.touch(&mut slots, 0);
        assert_eq!(order(&lru, &slots), [0, 1]);
        assert_eq!(lru.victim(&mut slots), Some(1));
        lru.clear();
        assert!(lru.unordered.is_none(), "and after a clear too");
    }

    #[test]
    fn touch_moves_to_front_and_tail_is_victim() {
        let mut slots = vec![Meta::default(); 4];
        let mut lru = Lru::default();
        lru.order(&mut slots, 0);
        for i in 0..4 {
            lru.insert(&mut slots, i, 0);
        }
        assert_eq!(order(&lru, &slots), [3, 2, 1, 0]);
        assert_eq!(lru.victim(&mut slots), Some(0));
        lru.touch(&mut slots, 0);
        assert_eq!(order(&lru, &slots), [0, 3, 2, 1]);
        assert_eq!(lru.victim(&mut slots), Some(1));
        lru.remove(&mut slots, 1);
        assert_eq!(lru.victim(&mut slots), Some(2));
        // The store moves slot 3 into the freed slot 1, links and all.
        slots[1] = slots[3];
        lru.relocate(&mut slots, 3, 1);
        slots.pop();
        assert_eq!(order(&lru, &slots), [0, 1, 2]);
        lru.clear();
        assert_eq!(lru.victim(&mut slots), None);
        assert!(
            lru.unordered.is_some(),
            "a cleared policy starts unordered again"
        );
    }
}
