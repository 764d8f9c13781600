//! Least frequently used, in O(1): entries sit in frequency buckets (a list of buckets in ascending frequency,
//! each a FIFO of entries threaded through the slots' `Meta::prev`/`next`; each slot's bucket id sits in a side
//! vector, `bucket_of`, so LRU entries need not carry the field). A read
//! or write moves an entry to the tail of the next bucket, so among equal frequencies the entry that reached that
//! frequency first is evicted first.
//!
//! **Unordered until first full**, as LRU (see `lru.rs`): until the store first needs a victim, a use only counts
//! (the count kept in `bucket_of`) and stamps the slot (in its `Meta`); [`EvictionPolicy::order`] then sorts the
//! slots by count and, among equal counts, by the stamp of the use that reached that count, which is exactly the
//! bucket order the kept structure would have. (The count saturates at `u32::MAX` while unordered, the kept
//! frequencies at `u64::MAX`: they differ only past four billion uses of one entry before the first eviction.)

use super::{
    link_moved, set_stamp, stamp_each, stamp_of, valid_slots, EvictionPolicy, MetaSlots, NIL,
};

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
    buckets: Vec<Bucket>,
    free_buckets: Vec<u32>,
    /// The bucket of each slot.
    bucket_of: Vec<u32>,
    /// The most slots there will be: `bucket_of` never grows past it.
    capacity: usize,
    /// The bucket with the lowest frequency.
    first: u32,
    /// `Some(next stamp)` while the buckets are not built yet (see the module docs).
    unordered: Option<u64>,
    /// Whether a new or cleared policy starts unordered (small shards only: see `UNORDERED_MAX`).
    starts_unordered: bool,
}

impl Lfu {
    /// A policy for up to `capacity` slots that starts unordered if `unordered`.
    pub(crate) fn new(capacity: usize, unordered: bool) -> Self {
        Self {
            buckets: Vec::new(),
            free_buckets: Vec::new(),
            bucket_of: Vec::new(),
            capacity,
            first: NIL,
            unordered: unordered.then_some(0),
            starts_unordered: unordered,
        }
    }

    #[cfg(test)]
    fn with_capacity(capacity: usize) -> Self {
        Self::new(capacity, true)
    }

    /// Records a use while unordered (`fresh`: a new entry, count 1); returns whether it did.
    #[inline]
    fn count(&mut self, slots: &mut impl MetaSlots, idx: u32, fresh: bool) -> bool {
        let Some(next) = &mut self.unordered else {
            return false;
        };
        let stamp = *next;
        *next += 1;
        set_stamp(slots.meta_mut(idx), stamp);
        let count = if fresh {
            1
        } else {
            self.bucket_of[idx as usize].saturating_add(1)
        };
        self.set_bucket(idx, count);
        true
    }

    /// Records that slot `idx` is in bucket `b`, growing the side vector (never past the capacity: a full cache
    /// carries no slack) when `idx` is a new slot.
    fn set_bucket(&mut self, idx: u32, b: u32) {
        let i = idx as usize;
        if i >= self.bucket_of.len() {
            if self.bucket_of.len() == self.bucket_of.capacity() {
                let len = self.bucket_of.len();
                let want = len.max(4).min(self.capacity.saturating_sub(len).max(1));
                self.bucket_of.reserve_exact(want);
            }
            self.bucket_of.resize(i + 1, NIL);
        }
        self.bucket_of[i] = b;
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

    fn push_back(&mut self, slots: &mut impl MetaSlots, idx: u32, b: u32) {
        let tail = self.buckets[b as usize].tail;
        let m = slots.meta_mut(idx);
        m.prev = tail;
        m.next = NIL;
        self.set_bucket(idx, b);
        if tail == NIL {
            self.buckets[b as usize].head = idx;
        } else {
            slots.meta_mut(tail).next = idx;
        }
        self.buckets[b as usize].tail = idx;
    }

    /// Takes `idx` out of its bucket; frees the bucket if it empties. Returns the bucket the next frequency
    /// should follow: the old bucket if it survived, else the one before it.
    fn unlink(&mut self, slots: &mut impl MetaSlots, idx: u32) -> u32 {
        let bucket = self.bucket_of[idx as usize];
        let b = &mut self.buckets[bucket as usize];
        super::unlink(slots, idx, &mut b.head, &mut b.tail);
        if self.buckets[bucket as usize].head == NIL {
            let before = self.buckets[bucket as usize].prev;
            self.free_bucket(bucket);
            before
        } else {
            bucket
        }
    }
}

impl EvictionPolicy for Lfu {
    fn insert(&mut self, slots: &mut impl MetaSlots, idx: u32, _hash: u64) {
        if self.count(slots, idx, true) {
            return;
        }
        let b = if self.first != NIL && self.buckets[self.first as usize].freq == 1 {
            self.first
        } else {
            self.new_bucket(1, NIL)
        };
        self.push_back(slots, idx, b);
    }

    fn touch_many(&mut self, slots: &mut impl MetaSlots, idxs: &[u32]) {
        let valid = valid_slots(slots.count(), idxs);
        if let Some(next) = &mut self.unordered {
            // Stamp and count. A touched slot is an existing entry, so `bucket_of` already covers it.
            let bucket_of = &mut self.bucket_of;
            stamp_each(slots, valid, next, |i| {
                if let Some(c) = bucket_of.get_mut(i as usize) {
                    *c = c.saturating_add(1);
                }
            });
        } else {
            for i in valid {
                self.touch(slots, i);
            }
        }
    }

    fn touch(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        if self.count(slots, idx, false) {
            return;
        }
        let bucket = self.bucket_of[idx as usize];
        let freq = self.buckets[bucket as usize].freq.saturating_add(1);
        let next = self.buckets[bucket as usize].next;
        let after = self.unlink(slots, idx);
        let target = if next != NIL && self.buckets[next as usize].freq == freq {
            next
        } else {
            self.new_bucket(freq, after)
        };
        self.push_back(slots, idx, target);
    }

    fn remove(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        if self.unordered.is_none() {
            self.unlink(slots, idx);
        }
    }

    fn relocate(&mut self, slots: &mut impl MetaSlots, from: u32, to: u32) {
        if self.unordered.is_some() {
            // The stamp moved with the slot's `Meta`; the count moves here.
            self.bucket_of[to as usize] = self.bucket_of[from as usize];
            return;
        }
        let bucket = self.bucket_of[from as usize];
        self.bucket_of[to as usize] = bucket;
        let b = &mut self.buckets[bucket as usize];
        link_moved(slots, to, &mut b.head, &mut b.tail);
    }

    fn order(&mut self, slots: &mut impl MetaSlots, len: usize) {
        if self.unordered.take().is_none() {
            return;
        }
        #[allow(clippy::cast_possible_truncation)] // slot indices fit u32
        let mut by_use: Vec<(u32, u64, u32)> = (0..len as u32)
            .map(|i| (self.bucket_of[i as usize], stamp_of(slots.meta(i)), i))
            .collect();
        by_use.sort_unstable();
        self.buckets.clear();
        self.free_buckets.clear();
        self.first = NIL;
        let mut last = NIL;
        for (count, _, i) in by_use {
            if last == NIL || self.buckets[last as usize].freq != u64::from(count) {
                last = self.new_bucket(u64::from(count), last);
            }
            self.push_back(slots, i, last);
        }
    }

    fn victim(&mut self, _slots: &mut impl MetaSlots) -> Option<u32> {
        if self.first == NIL {
            None
        } else {
            Some(self.buckets[self.first as usize].head)
        }
    }

    fn clear(&mut self) {
        *self = Self::new(self.capacity, self.starts_unordered);
    }
}

#[cfg(test)]
mod tests {
    use super::super::Meta;
    use super::*;

    fn order(lfu: &Lfu, slots: &[Meta]) -> Vec<(u64, u32)> {
        let mut out = Vec::new();
        let mut b = lfu.first;
        while b != NIL {
            let mut at = lfu.buckets[b as usize].head;
            while at != NIL {
                out.push((lfu.buckets[b as usize].freq, at));
                at = slots[at as usize].next;
            }
            b = lfu.buckets[b as usize].next;
        }
        out
    }

    #[test]
    fn lowest_frequency_first_then_oldest_arrival() {
        let mut s = vec![Meta::default(); 4];
        let mut lfu = Lfu::with_capacity(4);
        lfu.order(&mut s, 0);
        for i in 0..3 {
            lfu.insert(&mut s, i, 0);
        }
        assert_eq!(order(&lfu, &s), [(1, 0), (1, 1), (1, 2)]);
        lfu.touch(&mut s, 1);
        lfu.touch(&mut s, 0);
        // 1 reached frequency 2 before 0 did
        assert_eq!(order(&lfu, &s), [(1, 2), (2, 1), (2, 0)]);
        assert_eq!(lfu.victim(&mut s), Some(2));
        lfu.touch(&mut s, 2);
        assert_eq!(order(&lfu, &s), [(2, 1), (2, 0), (2, 2)]);
        lfu.touch(&mut s, 1);
        lfu.touch(&mut s, 1);
        assert_eq!(order(&lfu, &s), [(2, 0), (2, 2), (4, 1)]);
        lfu.insert(&mut s, 3, 0);
        assert_eq!(lfu.victim(&mut s), Some(3));
        lfu.remove(&mut s, 3);
        lfu.touch(&mut s, 0);
        assert_eq!(order(&lfu, &s), [(2, 2), (3, 0), (4, 1)]);
        // Remove 0; the store moves slot 2 into slot 0.
        lfu.remove(&mut s, 0);
        s[0] = s[2];
        lfu.relocate(&mut s, 2, 0);
        assert_eq!(order(&lfu, &s), [(2, 0), (4, 1)]);
        lfu.clear();
        assert_eq!(lfu.victim(&mut s), None);
    }

    #[test]
    fn a_large_shard_keeps_its_buckets_from_the_start() {
        let mut s = vec![Meta::default(); 2];
        let mut lfu = Lfu::new(2, false);
        lfu.insert(&mut s, 0, 0);
        lfu.insert(&mut s, 1, 0);
        lfu.touch(&mut s, 0);
        assert_eq!(order(&lfu, &s), [(1, 1), (2, 0)]);
        assert_eq!(lfu.victim(&mut s), Some(1));
        lfu.clear();
        assert!(lfu.unordered.is_none(), "and after a clear too");
    }

    #[test]
    fn counts_before_the_first_eviction_are_sorted_into_the_exact_buckets() {
        let mut s = vec![Meta::default(); 4];
        let mut lfu = Lfu::with_capacity(4);
        for i in 0..4 {
            lfu.insert(&mut s, i, 0);
        }
        // Unordered: counts and stamps only.
        lfu.touch(&mut s, 2);
        lfu.touch(&mut s, 0);
        lfu.touch(&mut s, 0);
        lfu.touch(&mut s, 3);
        assert_eq!(lfu.first, NIL);
        lfu.order(&mut s, 4);
        // 1 was used once; 2 reached 2 before 3 did; 0 was used three times.
        assert_eq!(order(&lfu, &s), [(1, 1), (2, 2), (2, 3), (3, 0)]);
        assert_eq!(lfu.victim(&mut s), Some(1));
        // From here on the buckets are kept as usual.
        lfu.touch(&mut s, 1);
        assert_eq!(order(&lfu, &s), [(2, 2), (2, 3), (2, 1), (3, 0)]);
    }
}
