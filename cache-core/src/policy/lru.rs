//! Least recently used: a doubly linked list threaded through slot indices, most recent at the head.

use super::{slot_mut, EvictionPolicy, NIL};

#[derive(Debug, Clone, Copy)]
struct Link {
    prev: u32,
    next: u32,
}

impl Default for Link {
    fn default() -> Self {
        Self {
            prev: NIL,
            next: NIL,
        }
    }
}

/// LRU order over slot indices. Reads and writes move an entry to the head; the tail is the victim.
#[derive(Debug)]
pub(crate) struct Lru {
    links: Vec<Link>,
    head: u32,
    tail: u32,
    capacity: usize,
}

impl Lru {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            links: Vec::new(),
            head: NIL,
            tail: NIL,
            capacity,
        }
    }

    fn unlink(&mut self, idx: u32) {
        let Link { prev, next } = self.links[idx as usize];
        if prev == NIL {
            self.head = next;
        } else {
            self.links[prev as usize].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.links[next as usize].prev = prev;
        }
    }

    fn push_front(&mut self, idx: u32) {
        let old_head = self.head;
        *slot_mut(&mut self.links, idx, self.capacity) = Link {
            prev: NIL,
            next: old_head,
        };
        if old_head == NIL {
            self.tail = idx;
        } else {
            self.links[old_head as usize].prev = idx;
        }
        self.head = idx;
    }
}

impl EvictionPolicy for Lru {
    fn insert(&mut self, idx: u32) {
        self.push_front(idx);
    }

    #[inline]
    fn touch(&mut self, idx: u32) {
        if self.head != idx {
            self.unlink(idx);
            self.push_front(idx);
        }
    }

    fn remove(&mut self, idx: u32) {
        self.unlink(idx);
    }

    fn relocate(&mut self, from: u32, to: u32) {
        let link = self.links[from as usize];
        self.links[to as usize] = link;
        if link.prev == NIL {
            self.head = to;
        } else {
            self.links[link.prev as usize].next = to;
        }
        if link.next == NIL {
            self.tail = to;
        } else {
            self.links[link.next as usize].prev = to;
        }
    }

    fn victim(&self) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }

    fn clear(&mut self) {
        self.links = Vec::new();
        self.head = NIL;
        self.tail = NIL;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(lru: &Lru) -> Vec<u32> {
        let mut out = Vec::new();
        let mut at = lru.head;
        while at != NIL {
            out.push(at);
            at = lru.links[at as usize].next;
        }
        out
    }

    #[test]
    fn touch_moves_to_front_and_tail_is_victim() {
        let mut lru = Lru::with_capacity(8);
        for i in 0..4 {
            lru.insert(i);
        }
        assert_eq!(order(&lru), [3, 2, 1, 0]);
        assert_eq!(lru.victim(), Some(0));
        lru.touch(0);
        assert_eq!(order(&lru), [0, 3, 2, 1]);
        assert_eq!(lru.victim(), Some(1));
        lru.remove(1);
        assert_eq!(lru.victim(), Some(2));
        // slot 3 moves into the freed slot 1
        lru.relocate(3, 1);
        assert_eq!(order(&lru), [0, 1, 2]);
        lru.clear();
        assert_eq!(lru.victim(), None);
    }
}
