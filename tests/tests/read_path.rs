//! The read path: hits are buffered and replayed into the policy before the shard changes. These tests check
//! that the buffering is invisible where exactness is promised: long runs of reads (many times the buffer) on
//! one thread, reads made one after another on several threads (`.shards(1)`, and a default cache whose threads
//! never met), each thread's order once threads have met on a small default cache, expired entries found by a
//! read, and exact counts. Nothing depends on timing: threads run one after another (joined) or meet at
//! barriers.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use cache_core::clock::ManualClock;
use cache_core::{AsyncCache, Policy};

fn one_shard(maxsize: usize, policy: Policy) -> AsyncCache<u64, u64> {
    AsyncCache::builder()
        .maxsize(maxsize)
        .policy(policy)
        .shards(1)
        .build()
        .unwrap()
}

#[test]
fn lru_sees_every_read_of_a_long_run_in_order() {
    let cache = one_shard(3, Policy::Lru);
    for k in 0..3 {
        cache.insert(k, k);
    }
    // 3,000 reads, many times the read buffer; the last use of 2 is the oldest.
    for _ in 0..1_000 {
        for k in [2, 0, 1] {
            assert_eq!(cache.get(&k), Some(k));
        }
    }
    cache.insert(3, 3);
    assert!(!cache.contains_key(&2), "2 was the least recently used");
    assert!(cache.contains_key(&0) && cache.contains_key(&1) && cache.contains_key(&3));
    let m = cache.metrics();
    assert_eq!((m.hits, m.misses, m.evictions), (3_000, 0, 1));
}

#[test]
fn lfu_counts_every_read_of_a_long_run() {
    let cache = one_shard(3, Policy::Lfu);
    for k in 0..3 {
        cache.insert(k, k);
    }
    for i in 0..1_000u64 {
        cache.get(&0);
        cache.get(&2);
        // Key 1 is read 300 times: still the least frequent, though read more often than the buffer holds.
        if i % 10 < 3 {
            cache.get(&1);
        }
    }
    cache.insert(3, 3);
    assert!(!cache.contains_key(&1), "1 was the least frequently used");
    assert_eq!(cache.metrics().hits, 2_300);
}

#[test]
fn reads_made_one_after_another_on_different_threads_keep_their_order() {
    // Each round, three threads read the 32 keys one after another, a third each (each thread joined before
    // the next starts): whichever key was read first is the least recently used, whatever thread read it. That
    // holds with `.shards(1)` always, and for a default cache as long as no reader ever found its lock taken.
    // Thread numbers grow by three every round, so the stripe of the first thread (its number modulo a power
    // of two) moves round by round, and reads applied stripe by stripe would come out of order in some round.
    const KEYS: u64 = 32;
    for exact in [true, false] {
        for round in 0..8u64 {
            let cache = if exact {
                one_shard(KEYS as usize, Policy::Lru)
            } else {
                AsyncCache::new(KEYS as usize)
            };
            for k in 0..KEYS {
                cache.insert(k, k);
            }
            let order: Vec<u64> = (0..KEYS).map(|i| (i + round * 5) % KEYS).collect();
            for part in order.chunks(KEYS.div_ceil(3) as usize) {
                let (c, part) = (cache.clone(), part.to_vec());
                thread::spawn(move || {
                    for k in part {
                        assert_eq!(c.get(&k), Some(k));
                    }
                })
                .join()
                .unwrap();
            }
            cache.insert(100, 100);
            cache.insert(101, 101);
            for (gone, k) in [(true, order[0]), (true, order[1]), (false, order[2])] {
                assert_eq!(
                    !cache.contains_key(&k),
                    gone,
                    "exact {exact}, round {round}: {k} was read at step {}",
                    order.iter().position(|&o| o == k).unwrap()
                );
            }
        }
    }
}

#[test]
fn a_small_default_cache_counts_concurrent_reads_and_keeps_each_threads_order() {
    // Under 1,024 entries a cache gets one shard by default, but (unlike `.shards(1)`) a striped one: threads
    // read without waiting for each other, every read is counted, and one thread's reads reach the policy in
    // the order it made them, across many replays of its buffer.
    const KEYS: u64 = 64;
    const READS: u64 = 20_000;
    let cache = AsyncCache::<u64, u64>::new(KEYS as usize);
    for k in 0..KEYS {
        cache.insert(k, k);
    }
    let barrier = Arc::new(Barrier::new(2));
    let readers: Vec<_> = (0..2u64)
        .map(|t| {
            let (cache, barrier) = (cache.clone(), Arc::clone(&barrier));
            thread::spawn(move || {
                barrier.wait();
                for i in 0..READS {
                    let k = (i * 5 + t) % KEYS;
                    assert_eq!(cache.get(&k), Some(k));
                }
            })
        })
        .collect();
    for r in readers {
        r.join().unwrap();
    }
    // Reading the metrics locks the shard, which applies every buffered read.
    assert_eq!(cache.metrics().hits, 2 * READS);
    // One thread now reads every key twice over, 1 first and 0 last (each pass as long as its buffer, so both
    // are replayed when full), then a few keys again (left in the buffer until the next write).
    let c = cache.clone();
    thread::spawn(move || {
        for k in (1..KEYS)
            .chain([0])
            .cycle()
            .take(2 * KEYS as usize)
            .chain([3, 0])
        {
            assert_eq!(c.get(&k), Some(k));
        }
    })
    .join()
    .unwrap();
    cache.insert(100, 100);
    cache.insert(101, 101);
    assert!(!cache.contains_key(&1), "1 was the least recently read");
    assert!(!cache.contains_key(&2), "2 was read next");
    assert!(cache.contains_key(&0) && cache.contains_key(&3));
    let m = cache.metrics();
    assert_eq!((m.hits, m.evictions), (2 * READS + 2 * KEYS + 2, 2));
}

#[test]
fn expired_entry_found_by_a_read_is_reclaimed_and_counted() {
    let clock = ManualClock::new();
    let cache: AsyncCache<u64, u64> = AsyncCache::builder()
        .maxsize(4_096)
        .shards(4)
        .ttl(Duration::from_secs(10))
        .clock(clock.clone())
        .build()
        .unwrap();
    for k in 0..100 {
        cache.insert(k, k);
    }
    for k in 0..100 {
        assert_eq!(cache.get(&k), Some(k));
    }
    clock.advance(Duration::from_secs(10));
    for k in 0..100 {
        assert_eq!(cache.get(&k), None);
        assert_eq!(cache.peek(&k), None);
    }
    let m = cache.metrics();
    assert_eq!((m.hits, m.misses, m.expirations), (100, 100, 100));
    assert_eq!(
        cache.len(),
        0,
        "every expired entry a read found was reclaimed"
    );
}

#[test]
fn concurrent_readers_and_a_writer_keep_values_and_counts_exact() {
    // Readers hammer a sharded cache while a writer replaces values; every value read is one the writer stored
    // for that key, and the counts add up once everyone has finished.
    const READERS: usize = 3;
    let cache: AsyncCache<u64, u64> = AsyncCache::builder()
        .maxsize(4_096)
        .shards(4)
        .build()
        .unwrap();
    for k in 0..1_000u64 {
        cache.insert(k, k * 1_000);
    }
    let barrier = Arc::new(Barrier::new(READERS + 1));
    let readers: Vec<_> = (0..READERS)
        .map(|t| {
            let (cache, barrier) = (cache.clone(), Arc::clone(&barrier));
            thread::spawn(move || {
                barrier.wait();
                let mut hits = 0u64;
                for i in 0..30_000u64 {
                    let k = (i * 7 + t as u64) % 1_000;
                    let v = cache.get(&k).expect("no key is ever removed");
                    assert_eq!(v / 1_000, k, "a value stored for another key");
                    hits += 1;
                }
                hits
            })
        })
        .collect();
    barrier.wait();
    for round in 1..20u64 {
        for k in 0..1_000u64 {
            cache.insert(k, k * 1_000 + round);
        }
    }
    let hits: u64 = readers.into_iter().map(|h| h.join().unwrap()).sum();
    let m = cache.metrics();
    assert_eq!(m.hits, hits);
    assert_eq!(m.misses, 0);
    assert_eq!(m.size, 1_000);
    assert_eq!(m.evictions, 0);
}

#[test]
fn order_is_exact_across_the_first_eviction_and_after_a_clear() {
    // Until a shard first evicts, uses are only stamped; the first eviction sorts them into the exact order.
    // `clear` starts that over. Both regimes must evict the same entries.
    for policy in [Policy::Lru, Policy::Lfu] {
        let cache = one_shard(4, policy);
        for round in 0..2 {
            for k in 0..4 {
                cache.insert(k, k);
            }
            // Uses: 3 once, 0 twice, 2 three times, 1 four times, interleaved.
            for k in [1, 2, 0, 1, 2, 3, 1, 0, 2, 1] {
                assert_eq!(cache.get(&k), Some(k));
            }
            // LRU: the least recent is 3 (used at step 6); LFU: the least used is 3 (once).
            cache.insert(10, 10);
            assert!(
                !cache.contains_key(&3),
                "{policy} round {round}: 3 goes first"
            );
            // Now ordered: the next victim is the next in line.
            cache.insert(11, 11);
            let gone = match policy {
                Policy::Lru => 0, // last used at step 8, before 2 (9) and 1 (10)
                _ => 10,          // LFU: 10 has one use, the fewest
            };
            assert!(
                !cache.contains_key(&gone),
                "{policy} round {round}: {gone} goes next"
            );
            cache.clear();
            assert!(cache.is_empty());
        }
    }
}
