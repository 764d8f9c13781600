//! Least frequently used, in O(1): entries sit in frequency buckets (a list of buckets in ascending frequency,
//! each a FIFO of entries). A read or write moves an entry to the tail of the next bucket, so among equal
//! frequencies the entry that reached that frequency first is evicted first.

use super::{slot_mut, EvictionPolicy, NIL};

#[derive(Debug, Clone, Copy)]
struct Node {
    prev: u32,
    next: u32,
    bucket: u32,
}

impl Default for Node {
    fn default() -> Self {
        Self {
            prev: NIL,
            next: NIL,
            bucket: NIL,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    freq: u64,
    head: u32,
    tail: u32,
    prev: u32,
    next: u32,
}

/// LFU order over slot indices.
#[derive(Debug)]
pub(crate) struct Lfu {
    nodes: Vec<Node>,
    buckets: Vec<Bucket>,
    free_buckets: Vec<u32>,
    /// The bucket with the lowest frequency.
    first: u32,
    capacity: usize,
}

impl Lfu {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            nodes: Vec::new(),
            buckets: Vec::new(),
            free_buckets: Vec::new(),
            first: NIL,
            capacity,
        }
    }

    /// A new empty bucket for `freq`, linked right after `after` (or first when `after` is `NIL`).
    fn new_bucket(&mut self, freq: u64, after: u32) -> u32 {
        let next = if after == NIL {
            self.first
        } else {
            self.buckets[after as usize].next
        };
        let bucket = Bucket {
            freq,
            head: NIL,
            tail: NIL,
            prev: after,
            next,
        };
        let b = if let Some(b) = self.free_buckets.pop() {
            self.buckets[b as usize] = bucket;
            b
        } else {
            self.buckets.push(bucket);
            u32::try_from(self.buckets.len() - 1).expect("fewer buckets than slots")
        };
        if after == NIL {
            self.first = b;
        } else {
            self.buckets[after as usize].next = b;
        }
        if next != NIL {
            self.buckets[next as usize].prev = b;
        }
        b
    }

    fn free_bucket(&mut self, b: u32) {
        let Bucket { prev, next, .. } = self.buckets[b as usize];
        if prev == NIL {
            self.first = next;
        } else {
            self.buckets[prev as usize].next = next;
        }
        if next != NIL {
            self.buckets[next as usize].prev = prev;
        }
        self.free_buckets.push(b);
    }

    fn push_back(&mut self, idx: u32, b: u32) {
        let tail = self.buckets[b as usize].tail;
        *slot_mut(&mut self.nodes, idx, self.capacity) = Node {
            prev: tail,
            next: NIL,
            bucket: b,
        };
        if tail == NIL {
            self.buckets[b as usize].head = idx;
        } else {
            self.nodes[tail as usize].next = idx;
        }
        self.buckets[b as usize].tail = idx;
    }

    /// Takes `idx` out of its bucket; frees the bucket if it empties. Returns the bucket's neighbour before it
    /// (`prev`) and whether the bucket itself survived, for `touch` to link the next bucket.
    fn unlink(&mut self, idx: u32) -> (u32, bool) {
        let Node { prev, next, bucket } = self.nodes[idx as usize];
        if prev == NIL {
            self.buckets[bucket as usize].head = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next == NIL {
            self.buckets[bucket as usize].tail = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
        if self.buckets[bucket as usize].head == NIL {
            let before = self.buckets[bucket as usize].prev;
            self.free_bucket(bucket);
            (before, false)
        } else {
            (bucket, true)
        }
    }

    #[cfg(test)]
    fn order(&self) -> Vec<(u64, u32)> {
        let mut out = Vec::new();
        let mut b = self.first;
        while b != NIL {
            let mut at = self.buckets[b as usize].head;
            while at != NIL {
                out.push((self.buckets[b as usize].freq, at));
                at = self.nodes[at as usize].next;
            }
            b = self.buckets[b as usize].next;
        }
        out
    }
}

impl EvictionPolicy for Lfu {
    fn insert(&mut self, idx: u32) {
        let b = if self.first != NIL && self.buckets[self.first as usize].freq == 1 {
            self.first
        } else {
            self.new_bucket(1, NIL)
        };
        self.push_back(idx, b);
    }

    fn touch(&mut self, idx: u32) {
        let bucket = self.nodes[idx as usize].bucket;
        let freq = self.buckets[bucket as usize].freq.saturating_add(1);
        let next = self.buckets[bucket as usize].next;
        // `after` is the bucket the new frequency follows once `idx` has left its old bucket.
        let (after, _) = self.unlink(idx);
        let target = if next != NIL && self.buckets[next as usize].freq == freq {
            next
        } else {
            self.new_bucket(freq, after)
        };
        self.push_back(idx, target);
    }

    fn remove(&mut self, idx: u32) {
        self.unlink(idx);
    }

    fn relocate(&mut self, from: u32, to: u32) {
        let node = self.nodes[from as usize];
        self.nodes[to as usize] = node;
        let b = node.bucket as usize;
        if node.prev == NIL {
            self.buckets[b].head = to;
        } else {
            self.nodes[node.prev as usize].next = to;
        }
        if node.next == NIL {
            self.buckets[b].tail = to;
        } else {
            self.nodes[node.next as usize].prev = to;
        }
    }

    fn victim(&self) -> Option<u32> {
        if self.first == NIL {
            None
        } else {
            Some(self.buckets[self.first as usize].head)
        }
    }

    fn clear(&mut self) {
        self.nodes = Vec::new();
        self.buckets = Vec::new();
        self.free_buckets = Vec::new();
        self.first = NIL;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_frequency_first_then_oldest_arrival() {
        let mut lfu = Lfu::with_capacity(8);
        for i in 0..3 {
            lfu.insert(i);
        }
        assert_eq!(lfu.order(), [(1, 0), (1, 1), (1, 2)]);
        lfu.touch(1);
        lfu.touch(0);
        // 1 reached frequency 2 before 0 did
        assert_eq!(lfu.order(), [(1, 2), (2, 1), (2, 0)]);
        assert_eq!(lfu.victim(), Some(2));
        lfu.touch(2);
        assert_eq!(lfu.order(), [(2, 1), (2, 0), (2, 2)]);
        lfu.touch(1);
        lfu.touch(1);
        assert_eq!(lfu.order(), [(2, 0), (2, 2), (4, 1)]);
        lfu.insert(3);
        assert_eq!(lfu.victim(), Some(3));
        lfu.remove(3);
        lfu.touch(0);
        assert_eq!(lfu.order(), [(2, 2), (3, 0), (4, 1)]);
        lfu.remove(0);
        lfu.relocate(2, 0);
        assert_eq!(lfu.order(), [(2, 0), (4, 1)]);
        lfu.clear();
        assert_eq!(lfu.victim(), None);
    }
}
