//! The eviction listener (`on_evict`): every cause, called outside the shard lock, in order per key, and a
//! panicking listener neither poisons the cache nor loses accounting. Time is a `ManualClock`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use cache_core::clock::ManualClock;
use cache_core::{AsyncCache, EvictionCause, Policy};

type Log = Arc<Mutex<Vec<(u64, u64, EvictionCause)>>>;

fn logged(maxsize: usize, policy: Policy, clock: &ManualClock) -> (AsyncCache<u64, u64>, Log) {
    let log: Log = Arc::default();
    let seen = Arc::clone(&log);
    let cache = AsyncCache::builder()
        .maxsize(maxsize)
        .shards(1)
        .policy(policy)
        .clock(clock.clone())
        .on_evict(move |k, v, cause| seen.lock().unwrap().push((k, v, cause)))
        .build()
        .unwrap();
    (cache, log)
}

fn take(log: &Log) -> Vec<(u64, u64, EvictionCause)> {
    std::mem::take(&mut *log.lock().unwrap())
}

const S: fn(u64) -> Duration = Duration::from_secs;

#[test]
fn capacity_eviction_is_evicted_for_every_policy() {
    for policy in [Policy::Lru, Policy::Lfu, Policy::TinyLfu] {
        let clock = ManualClock::new();
        let (cache, log) = logged(4, policy, &clock);
        for k in 0..100 {
            cache.insert(k, k * 10);
            cache.get(&k);
        }
        let calls = take(&log);
        assert_eq!(calls.len(), 96, "{policy:?}");
        assert!(calls
            .iter()
            .all(|&(k, v, c)| c == EvictionCause::Evicted && v == k * 10));
        assert_eq!(cache.metrics().evictions, 96);
        // Every key is either still stored or was reported exactly once.
        let mut keys: Vec<u64> = calls.iter().map(|c| c.0).collect();
        keys.extend((0..100).filter(|k| cache.contains_key(k)));
        keys.sort_unstable();
        assert_eq!(keys, (0..100).collect::<Vec<_>>(), "{policy:?}");
    }
}

#[test]
fn expiry_is_expired_on_every_path() {
    let clock = ManualClock::new();
    let (cache, log) = logged(3, Policy::Lru, &clock);
    for k in 1..=3 {
        cache.insert_with_ttl(k, k, Some(S(1)));
    }
    clock.advance(S(1));
    // A lookup reclaims key 1.
    assert_eq!(cache.get(&1), None);
    assert_eq!(take(&log), [(1, 1, EvictionCause::Expired)]);
    // `remove` of an expired key: expired, not removed.
    assert_eq!(cache.remove(&2), None);
    assert_eq!(take(&log), [(2, 2, EvictionCause::Expired)]);
    // A write reclaims key 3.
    cache.insert(4, 4);
    assert_eq!(take(&log), [(3, 3, EvictionCause::Expired)]);
    // purge_expired.
    cache.insert_with_ttl(5, 5, Some(S(1)));
    clock.advance(S(1));
    assert_eq!(cache.purge_expired(), 1);
    assert_eq!(take(&log), [(5, 5, EvictionCause::Expired)]);
    // A write reclaims what expired before it replaces (in that order); an insert over an expired key.
    cache.insert_with_ttl(6, 6, Some(S(1)));
    cache.insert(7, 7);
    clock.advance(S(1));
    cache.insert_with_ttl(7, 70, Some(S(1))); // 7 is live: replaced
    assert_eq!(
        take(&log),
        [
            (6, 6, EvictionCause::Expired),
            (7, 7, EvictionCause::Replaced)
        ]
    );
    cache.insert(8, 8);
    assert!(take(&log).is_empty());
    clock.advance(S(1));
    cache.insert_with_ttl(7, 71, None); // over the expired 7
    assert_eq!(take(&log), [(7, 70, EvictionCause::Expired)]);
    assert_eq!(cache.metrics().expirations, 5);
}

#[tokio::test(start_paused = true)]
async fn remove_retain_replace_clear_and_loads() {
    let clock = ManualClock::new();
    let (cache, log) = logged(10, Policy::Lru, &clock);
    for k in 0..6 {
        cache.insert(k, k);
    }
    assert_eq!(cache.remove(&0), Some(0), "the caller still gets the value");
    assert_eq!(take(&log), [(0, 0, EvictionCause::Removed)]);
    assert_eq!(cache.remove(&0), None);
    assert_eq!(cache.retain(|k, _| k % 2 == 0), 3);
    let mut retained = take(&log);
    retained.sort_unstable_by_key(|c| c.0);
    assert_eq!(retained, [1, 3, 5].map(|k| (k, k, EvictionCause::Removed)));
    cache.insert(2, 20);
    assert_eq!(take(&log), [(2, 2, EvictionCause::Replaced)]);
    // A load over an expired entry: the old one expired.
    cache.insert_with_ttl(9, 9, Some(S(1)));
    clock.advance(S(1));
    assert_eq!(cache.get_or_load(9, async { 90 }).await, 90);
    assert_eq!(take(&log), [(9, 9, EvictionCause::Expired)]);
    // A load detached by an insert: its value was never stored, so it is not reported; the insert replaced
    // nothing live.
    cache.clear();
    let mut cleared = take(&log);
    cleared.sort_unstable_by_key(|c| c.0);
    assert_eq!(
        cleared,
        [
            (2, 20, EvictionCause::Cleared),
            (4, 4, EvictionCause::Cleared),
            (9, 90, EvictionCause::Cleared)
        ]
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let loading = {
        let cache = cache.clone();
        tokio::spawn(async move {
            cache
                .get_or_load(1, async move {
                    rx.await.ok();
                    100
                })
                .await
        })
    };
    tokio::time::sleep(Duration::from_micros(1)).await; // the load is waiting now
    cache.insert(1, 1);
    tx.send(()).unwrap();
    assert_eq!(loading.await.unwrap(), 100);
    assert_eq!(cache.get(&1), Some(1));
    assert!(take(&log).is_empty(), "the detached value was never stored");
}

/// The listener uses the cache (every shard's lock, through `len`): if it were called under a shard lock, this
/// would wait forever; the timeout turns that into a failure.
#[test]
fn the_listener_is_called_outside_the_lock_and_may_use_the_cache() {
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let slot: Arc<Mutex<Option<AsyncCache<u64, u64>>>> = Arc::default();
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let cache = {
            let (slot, sizes) = (Arc::clone(&slot), Arc::clone(&sizes));
            AsyncCache::builder()
                .maxsize(64)
                .shards(4)
                .on_evict(move |k: u64, _v: u64, _| {
                    let cache = slot.lock().unwrap().clone().unwrap();
                    sizes.lock().unwrap().push(cache.len());
                    // A write from inside the listener: its own calls come after this one returns.
                    if k < 1_000 {
                        cache.insert(k + 1_000, k);
                    }
                })
                .build()
                .unwrap()
        };
        *slot.lock().unwrap() = Some(cache.clone());
        for k in 0..200 {
            cache.insert(k, k);
        }
        cache.clear();
        let n = sizes.lock().unwrap().len();
        done_tx.send(n).unwrap();
    });
    let calls = done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the listener deadlocked");
    assert!(calls >= 200, "{calls}");
}

/// Two threads replace one key over and over: each value is replaced before the same thread's next value is
/// stored, so each thread's values must reach the listener in the order that thread stored them.
#[test]
fn calls_for_one_key_arrive_in_order() {
    for _ in 0..20 {
        let log: Arc<Mutex<Vec<u64>>> = Arc::default();
        let cache: AsyncCache<u64, u64> = {
            let log = Arc::clone(&log);
            AsyncCache::builder()
                .maxsize(16)
                .on_evict(move |_k, v, cause| {
                    assert_eq!(cause, EvictionCause::Replaced);
                    log.lock().unwrap().push(v);
                })
                .build()
                .unwrap()
        };
        let threads: Vec<_> = (0..2u64)
            .map(|t| {
                let cache = cache.clone();
                std::thread::spawn(move || {
                    for seq in 0..2_000u64 {
                        cache.insert(7, (t << 32) | seq);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 3_999, "every value but the last was replaced");
        for t in 0..2u64 {
            let seqs: Vec<u64> = log
                .iter()
                .filter(|v| *v >> 32 == t)
                .map(|v| v & 0xffff_ffff)
                .collect();
            assert!(
                seqs.windows(2).all(|w| w[0] < w[1]),
                "thread {t} out of order"
            );
        }
    }
}

#[test]
fn a_panicking_listener_poisons_nothing_and_loses_nothing() {
    let calls = Arc::new(AtomicU64::new(0));
    let cache: AsyncCache<u64, u64> = {
        let calls = Arc::clone(&calls);
        AsyncCache::builder()
            .maxsize(4)
            .shards(1)
            .on_evict(move |k, _, _| {
                calls.fetch_add(1, Ordering::SeqCst);
                assert!(k % 3 != 0, "listener panics for multiples of 3");
            })
            .build()
            .unwrap()
    };
    for k in 0..20 {
        cache.insert(k, k); // no panic reaches the caller
    }
    let m = cache.metrics();
    assert_eq!(m.evictions, 16);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        16,
        "every call made, after panics too"
    );
    assert_eq!(m.listener_panics, 6, "0, 3, 6, 9, 12, 15");
    assert_eq!(cache.len(), 4);
    // Still fully usable: every lock works.
    cache.insert(100, 1);
    assert_eq!(cache.get(&100), Some(1));
    assert_eq!(cache.remove(&100), Some(1));
    cache.clear();
    assert!(cache.is_empty());
    // 100 evicts 16, remove(100), clear drops 17, 18 (a panic), 19.
    assert_eq!(calls.load(Ordering::SeqCst), 16 + 2 + 3);
    assert_eq!(cache.metrics().listener_panics, 7);
}
