//! Least recently used: a doubly linked list threaded through the slots (`Meta::prev`/`next`), most recent at
//! the head.

use super::{relink, EvictionPolicy, MetaSlots, NIL};

/// LRU order over slot indices. Reads and writes move an entry to the head; the tail is the victim.
#[derive(Debug)]
pub(crate) struct Lru {
    head: u32,
    tail: u32,
}

impl Default for Lru {
    fn default() -> Self {
        Self {
            head: NIL,
            tail: NIL,
        }
    }
}

impl Lru {
    fn unlink(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        let (prev, next) = {
            let m = slots.meta(idx);
            (m.prev, m.next)
        };
        relink(
            slots,
            (prev, next),
            (next, prev),
            &mut self.head,
            &mut self.tail,
        );
    }

    fn push_front(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        let old_head = self.head;
        let m = slots.meta_mut(idx);
        m.prev = NIL;
        m.next = old_head;
        if old_head == NIL {
            self.tail = idx;
        } else {
            slots.meta_mut(old_head).prev = idx;
        }
        self.head = idx;
    }
}

impl EvictionPolicy for Lru {
    fn insert(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        self.push_front(slots, idx);
    }

    #[inline]
    fn touch(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        if self.head != idx {
            self.unlink(slots, idx);
            self.push_front(slots, idx);
        }
    }

    fn remove(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        self.unlink(slots, idx);
    }

    fn relocate(&mut self, slots: &mut impl MetaSlots, from: u32, to: u32) {
        let (prev, next) = {
            let m = slots.meta(to);
            (m.prev, m.next)
        };
        relink(
            slots,
            (prev, next),
            (to, to),
            &mut self.head,
            &mut self.tail,
        );
        debug_assert!(self.head != from && self.tail != from);
    }

    fn victim(&mut self, _slots: &impl MetaSlots) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }

    fn clear(&mut self) {
        *self = Self::default();
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
    fn touch_moves_to_front_and_tail_is_victim() {
        let mut slots = vec![Meta::default(); 4];
        let mut lru = Lru::default();
        for i in 0..4 {
            lru.insert(&mut slots, i);
        }
        assert_eq!(order(&lru, &slots), [3, 2, 1, 0]);
        assert_eq!(lru.victim(&slots), Some(0));
        lru.touch(&mut slots, 0);
        assert_eq!(order(&lru, &slots), [0, 3, 2, 1]);
        assert_eq!(lru.victim(&slots), Some(1));
        lru.remove(&mut slots, 1);
        assert_eq!(lru.victim(&slots), Some(2));
        // The store moves slot 3 into the freed slot 1, links and all.
        slots[1] = slots[3];
        lru.relocate(&mut slots, 3, 1);
        slots.pop();
        assert_eq!(order(&lru, &slots), [0, 1, 2]);
        lru.clear();
        assert_eq!(lru.victim(&slots), None);
    }
}
