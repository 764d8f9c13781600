//! The offline optimum of a trace: Belady's MIN.
//!
//! Knowing the whole trace, MIN keeps the keys needed soonest: on a miss with a full cache it drops, among the
//! cached keys **and the missed key itself**, the one whose next request is farthest away (or never comes). Drops
//! the missed key means it does not insert it (a bypass), which any policy with admission (TinyLFU) may also do,
//! so MIN bounds every policy that holds at most `capacity` keys, with or without admission. No online policy
//! can hit more often; the bench asserts that none did.
//!
//! Cost: O(n log n) with a hash map for next-use positions and a max-heap of cached keys by next use.

use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap};

/// The number of hits of MIN replaying `trace` from an empty cache that holds at most `capacity` keys.
#[must_use]
pub fn hits(trace: &[u64], capacity: usize) -> usize {
    let n = trace.len();
    // next[i]: where trace[i]'s key is requested next, or `n + i` if never (unique and beyond every real one).
    let mut next = vec![0; n];
    let mut seen: HashMap<u64, usize> = HashMap::new();
    for i in (0..n).rev() {
        next[i] = seen.insert(trace[i], i).unwrap_or(n + i);
    }
    drop(seen);

    // The cached keys with their next use, and a heap of (next use, key) that may hold stale pairs: a pair is
    // live when the map still gives that key that next use.
    let mut cached: HashMap<u64, usize> = HashMap::with_capacity(capacity + 1);
    let mut heap: BinaryHeap<(usize, u64)> = BinaryHeap::new();
    let mut hit_count = 0;
    for (i, &k) in trace.iter().enumerate() {
        if let Some(at) = cached.get_mut(&k) {
            hit_count += 1;
            *at = next[i];
            heap.push((next[i], k));
            continue;
        }
        if capacity == 0 {
            continue;
        }
        if cached.len() == capacity {
            let (farthest, victim) = loop {
                let &(at, key) = heap.peek().expect("a full cache has a live heap entry");
                if cached.get(&key) == Some(&at) {
                    break (at, key);
                }
                heap.pop();
            };
            if next[i] > farthest {
                continue; // the missed key is needed last: keep what is cached
            }
            heap.pop();
            cached.remove(&victim);
        }
        cached.insert(k, next[i]);
        heap.push((next[i], k));
        // Drop stale pairs now and then so the heap stays near the cache's size.
        if heap.len() > 4 * capacity + 1024 {
            heap.retain(|&(at, key)| cached.get(&key) == Some(&at));
        }
    }
    hit_count
}

/// The optimum by exhaustive search, for checking [`hits`] on tiny traces: every choice at every miss (insert
/// or not, and which key to drop), memoised on (position, cached set). `trace` may use at most 16 distinct keys.
#[must_use]
pub fn hits_exhaustive(trace: &[u64], capacity: usize) -> usize {
    let mut ids: HashMap<u64, u32> = HashMap::new();
    let mut dense = Vec::with_capacity(trace.len());
    for &k in trace {
        let next_id = u32::try_from(ids.len()).expect("few keys");
        let id = match ids.entry(k) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => *e.insert(next_id),
        };
        dense.push(id);
    }
    assert!(ids.len() <= 16, "exhaustive search over at most 16 keys");
    let mut memo = HashMap::new();
    best(&dense, 0, 0, capacity, &mut memo)
}

fn best(
    trace: &[u32],
    at: usize,
    set: u32,
    capacity: usize,
    memo: &mut HashMap<(usize, u32), usize>,
) -> usize {
    let Some(&k) = trace.get(at) else {
        return 0;
    };
    if let Some(&v) = memo.get(&(at, set)) {
        return v;
    }
    let bit = 1 << k;
    let v = if set & bit != 0 {
        1 + best(trace, at + 1, set, capacity, memo)
    } else {
        let mut v = best(trace, at + 1, set, capacity, memo); // not inserted
        if capacity > 0 {
            if (set.count_ones() as usize) < capacity {
                v = v.max(best(trace, at + 1, set | bit, capacity, memo));
            }
            let mut rest = set;
            while rest != 0 {
                let drop = rest & rest.wrapping_neg();
                rest &= rest - 1;
                v = v.max(best(trace, at + 1, (set & !drop) | bit, capacity, memo));
            }
        }
        v
    };
    memo.insert((at, set), v);
    v
}
