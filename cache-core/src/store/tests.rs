use super::*;
use crate::Policy;

type S = Store<u32, u32, foldhash::fast::FixedState>;

fn store(cap: usize, policy: Policy) -> S {
    Store::new(
        cap,
        None,
        1,
        policy,
        foldhash::fast::FixedState::with_seed(7),
    )
}

fn h(k: u32) -> u64 {
    foldhash::fast::FixedState::with_seed(7).hash_one(k)
}

fn put(s: &mut S, k: u32, deadline: u64, now: u64) {
    let mut g = Graveyard::new();
    s.insert(h(k), k, k * 10, deadline, 0, now, &mut g);
}

fn get(s: &mut S, k: u32, now: u64) -> Option<u32> {
    let mut g = Graveyard::new();
    s.lookup::<u32, _, true, true>(h(k), &k, || now, &mut g, |v| *v)
}

fn sorted_keys(s: &S) -> Vec<u32> {
    let mut k: Vec<u32> = s.keys().copied().collect();
    k.sort_unstable();
    k
}

#[test]
fn lru_evicts_least_recently_used() {
    let mut s = store(3, Policy::Lru);
    for k in 1..=3 {
        put(&mut s, k, NEVER, 0);
    }
    assert_eq!(get(&mut s, 1, 0), Some(10));
    put(&mut s, 4, NEVER, 0);
    assert_eq!(sorted_keys(&s), [1, 3, 4]);
    assert_eq!(s.counters.evictions, 1);
    assert_eq!(s.counters.hits, 1);
}

#[test]
fn expired_entries_go_before_live_ones_and_are_never_returned() {
    let mut s = store(2, Policy::Lru);
    put(&mut s, 1, 100, 0);
    put(&mut s, 2, NEVER, 0);
    assert_eq!(get(&mut s, 1, 99), Some(10));
    // 1 is most recently used but expired at 100: it goes first.
    put(&mut s, 3, NEVER, 100);
    assert_eq!(sorted_keys(&s), [2, 3]);
    assert_eq!(s.counters.expirations, 1);
    assert_eq!(s.counters.evictions, 0);
    put(&mut s, 4, 150, 100);
    assert_eq!(s.peek(h(4), &4, || 149), Some(&40));
    assert_eq!(s.peek(h(4), &4, || 150), None);
    assert_eq!(get(&mut s, 4, 150), None);
    assert_eq!(s.len(), 1);
}

#[test]
fn writes_reclaim_expired_entries_without_reads() {
    let mut s = store(100, Policy::Lfu);
    for k in 0..20 {
        put(&mut s, k, 10, 0);
    }
    put(&mut s, 100, NEVER, 10);
    assert_eq!(s.len(), 21 - PURGE_PER_WRITE);
    let mut g = Graveyard::new();
    assert_eq!(
        s.purge_expired(10, usize::MAX, &mut g),
        20 - PURGE_PER_WRITE
    );
    assert_eq!(sorted_keys(&s), [100]);
    assert_eq!(s.counters.expirations, 20);
    assert!(!s.has_deadlines());
}

#[test]
fn replacing_updates_value_and_deadline() {
    let mut s = store(4, Policy::Lru);
    put(&mut s, 1, 5, 0);
    let mut g = Graveyard::new();
    s.insert(h(1), 1, 99, NEVER, 0, 0, &mut g);
    assert_eq!(g.entries(), 1);
    assert_eq!(get(&mut s, 1, 1_000), Some(99));
    assert!(!s.has_deadlines());
}

#[test]
fn removal_keeps_slab_dense_and_consistent() {
    let mut s = store(8, Policy::Lfu);
    for k in 0..8 {
        put(&mut s, k, if k % 2 == 0 { 50 } else { NEVER }, 0);
    }
    let mut g = Graveyard::new();
    assert_eq!(s.remove(h(0), &0, || 0, &mut g), Some(true));
    assert_eq!(s.remove(h(0), &0, || 0, &mut g), None);
    // Key 2 has a deadline at 50: removed at 60 it is found but no longer live.
    assert_eq!(s.remove(h(2), &2, || 60, &mut g), Some(false));
    for k in [1, 3, 4, 5, 6, 7] {
        assert_eq!(get(&mut s, k, 0), Some(k * 10), "key {k}");
    }
    assert_eq!(s.purge_expired(50, usize::MAX, &mut g), 2);
    assert_eq!(sorted_keys(&s), [1, 3, 5, 7]);
    let mut drained = Graveyard::new();
    s.clear(&mut drained);
    assert_eq!(drained.entries(), 4);
    assert_eq!(s.len(), 0);
    assert_eq!(get(&mut s, 1, 0), None);
    // After a clear, no deadline is left behind: a new entry without one has none.
    put(&mut s, 9, NEVER, 0);
    assert!(!s.has_deadlines());
    assert_eq!(get(&mut s, 9, u64::MAX - 1), Some(90));
}

/// The prefetch hint rests on `hashbrown`'s layout (`crate::prefetch`): if an upgrade moved the buckets or where
/// a lookup starts, this fails (the prefetches would then fetch the wrong lines: slower, never wrong). It checks
/// the buckets' addresses; the control bytes' address follows from them (hashbrown puts the buckets just below
/// the control bytes), and reading those bytes to check it would take `unsafe`.
#[test]
fn the_probe_locates_the_table_once_the_store_is_large_enough() {
    const KEYS: u32 = 3_000;
    /// The table position of key `k`, and whether it lies in the cache line a reader prefetches for `k`.
    fn position(s: &S, k: u32) -> (usize, bool) {
        let entries = &s.entries;
        let index = s
            .table
            .find_bucket_index(h(k), |&i| entries[i as usize].key == k)
            .expect("present");
        let bucket = |i: usize| std::ptr::from_ref(s.table.get_bucket(i).expect("full")).addr();
        #[allow(clippy::cast_possible_truncation)]
        let start = h(k) as usize & s.probe().mask;
        let prefetched = s.probe().ctrl - (start + 1) * BUCKET;
        (index, bucket(index) / 64 == prefetched / 64)
    }
    // One shard of 64: it publishes its probe from 16,384 / 64 = 256 entries on.
    let mut s: S = Store::new(
        4_000,
        None,
        64,
        Policy::Lru,
        foldhash::fast::FixedState::with_seed(7),
    );
    let mut moves = 0;
    let mut previous = Probe::default();
    for k in 0..KEYS {
        put(&mut s, k, NEVER, 0);
        let probe = s.probe();
        if s.len() < 256 {
            assert_eq!(
                probe,
                Probe::default(),
                "{} entries are not prefetched",
                s.len()
            );
            continue;
        }
        assert_eq!(probe.mask, s.table.num_buckets() - 1);
        if probe != previous {
            // Published, or the table grew (moved): every entry's bucket is where the probe says.
            moves += 1;
            for j in 0..=k {
                let (index, _) = position(&s, j);
                let bucket = std::ptr::from_ref(s.table.get_bucket(index).expect("full")).addr();
                assert_eq!(
                    probe.ctrl - (index + 1) * BUCKET,
                    bucket,
                    "bucket {index} of key {j}"
                );
            }
            previous = probe;
        }
    }
    assert!(
        moves >= 3,
        "published at 256 entries, then the table grew at least twice"
    );
    // Most keys sit in the very line the prefetch fetches (the one holding the bucket where the lookup starts).
    let near = (0..KEYS).filter(|&k| position(&s, k).1).count();
    assert!(
        near * 2 >= KEYS as usize,
        "{near} of {KEYS} keys in the prefetched line"
    );
    s.clear(&mut Graveyard::new());
    assert_eq!(s.probe(), Probe::default(), "a clear frees the table");
}

thread_local! {
    /// `Hash` calls left before one panics (0: none will).
    static HASH_COUNTDOWN: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// A key whose `Hash` panics when the countdown reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Touchy(u32);

impl Hash for Touchy {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        HASH_COUNTDOWN.with(|c| match c.get() {
            0 => {}
            1 => {
                c.set(0);
                panic!("injected");
            }
            n => c.set(n - 1),
        });
        self.0.hash(state);
    }
}

/// A `Hash` that panics while the table grows, or rehashes in place to clear deleted slots, loses no slot: the
/// insert fails, and every stored entry is still found by its key. (`HashTable::reserve` would drop the slots it
/// had not placed yet when the rehash in place panicked.)
/// The identity hash of a `u32`: key `k` starts probing at bucket `k mod buckets`, so consecutive keys form one
/// dense run, and removing the oldest leaves a deleted slot (not an empty one) behind the run.
#[derive(Debug, Clone, Copy)]
struct Identity;

#[derive(Default)]
struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unimplemented!("only u32 keys")
    }
    fn write_u32(&mut self, i: u32) {
        self.0 = u64::from(i);
    }
}

impl BuildHasher for Identity {
    type Hasher = IdentityHasher;
    fn build_hasher(&self) -> IdentityHasher {
        IdentityHasher::default()
    }
}

#[test]
fn a_hash_that_panics_while_the_table_makes_room_loses_nothing() {
    let hasher = Identity;
    let mut s: Store<Touchy, u32, _> = Store::new(1_000, None, 1, Policy::Lru, hasher);
    let mut oldest = 0;
    let (mut grown, mut rehashed) = (0, 0);
    for k in 0..2_000 {
        let key = Touchy(k);
        let hash = hasher.hash_one(key);
        let mut grave = Graveyard::new();
        let buckets = s.table.num_buckets();
        let full = s.len() > 0 && s.table.len() == s.table.capacity();
        if full {
            // The first hash of an existing entry panics.
            HASH_COUNTDOWN.with(|c| c.set(1));
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                s.insert(hash, key, k, NEVER, 0, 0, &mut grave);
            }));
            assert!(r.is_err(), "the table had no room: it was rebuilt");
            assert_eq!(s.table.num_buckets(), buckets, "the old table stays");
        }
        s.insert(hash, key, k, NEVER, 0, 0, &mut grave);
        if full {
            if s.table.num_buckets() == buckets {
                rehashed += 1;
            } else {
                grown += 1;
            }
        }
        // A window of 27 consecutive keys sliding over a table of 64 buckets (56 usable): deleted slots pile up
        // behind it until the table is full, and it is rehashed in place (27 + 1 is at most half of 56).
        if s.len() > 27 {
            let old = Touchy(oldest);
            assert_eq!(
                s.remove(hasher.hash_one(old), &old, || 0, &mut grave),
                Some(true)
            );
            oldest += 1;
        }
        assert_eq!(s.table.len(), s.len());
        for key in s.keys() {
            let i = s
                .find(hasher.hash_one(key), key)
                .expect("every entry is found");
            assert_eq!(s.entries[i as usize].key, *key);
        }
    }
    assert!(
        grown >= 2 && rehashed >= 5,
        "grown {grown}, rehashed {rehashed}"
    );
}

/// The exclusive lookup reads the value (a clone, user code) before it counts the hit and refreshes the entry:
/// if the read panics, neither happens.
#[test]
fn a_lookup_whose_read_panics_counts_nothing() {
    let mut s = store(2, Policy::Lru);
    put(&mut s, 1, NEVER, 0);
    put(&mut s, 2, NEVER, 0);
    let mut g = Graveyard::new();
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.lookup::<u32, (), true, true>(h(1), &1, || 0, &mut g, |_| panic!("a Clone that panics"))
    }));
    assert!(read.is_err());
    assert_eq!((s.counters.hits, s.counters.misses), (0, 0));
    // 1 was not refreshed: it is evicted first.
    put(&mut s, 3, NEVER, 0);
    assert_eq!(sorted_keys(&s), [2, 3]);
}
