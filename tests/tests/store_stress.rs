//! Multi-threaded stress: the size bound holds at every moment, no write is lost, metrics are exact once the
//! threads have finished. Threads start together at a barrier; nothing depends on timing.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use cache_core::{AsyncCache, EvictionCause, Policy};

const THREADS: usize = 4;

/// The bound at every moment: a watcher samples the size while the writers run (the samples are only as dense as
/// the scheduling), and, exactly, every value inserted is accounted for once the threads have finished: it is
/// still stored, or it left through the eviction listener (evicted, replaced or removed) exactly once. A store
/// that kept an entry past its bound without evicting it, or lost one, breaks that count.
#[test]
fn size_never_exceeds_maxsize_under_concurrent_writes() {
    for policy in [Policy::Lru, Policy::Lfu, Policy::TinyLfu] {
        let left = Arc::new([(); 4].map(|()| AtomicU64::new(0)));
        let seen = Arc::clone(&left);
        let cache = AsyncCache::builder()
            .maxsize(500)
            .shards(8)
            .policy(policy)
            .on_evict(move |_: u64, _: u64, cause| {
                let i = match cause {
                    EvictionCause::Evicted => 0,
                    EvictionCause::Replaced => 1,
                    EvictionCause::Removed => 2,
                    _ => 3,
                };
                seen[i].fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap();
        let barrier = Arc::new(Barrier::new(THREADS + 1));
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..THREADS as u64)
            .map(|t| {
                let (cache, barrier) = (cache.clone(), Arc::clone(&barrier));
                thread::spawn(move || {
                    barrier.wait();
                    for i in 0..20_000u64 {
                        cache.insert(t * 1_000_000 + i, i);
                        cache.get(&(t * 1_000_000 + i / 2));
                        if i % 7 == 0 {
                            cache.remove(&(t * 1_000_000 + i / 3));
                        }
                    }
                })
            })
            .collect();
        let watcher = {
            let (cache, barrier, stop) = (cache.clone(), Arc::clone(&barrier), Arc::clone(&stop));
            thread::spawn(move || {
                barrier.wait();
                let mut max_seen = 0;
                while !stop.load(Ordering::Relaxed) {
                    max_seen = max_seen.max(cache.len());
                    max_seen = max_seen.max(cache.metrics().size);
                }
                max_seen
            })
        };
        for w in writers {
            w.join().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        let max_seen = watcher.join().unwrap();
        assert!(max_seen <= 500, "{policy}: saw {max_seen} entries");
        assert!(cache.len() <= 500);
        let [evicted, replaced, removed, other] =
            [0, 1, 2, 3].map(|i| left[i].load(Ordering::SeqCst));
        let m = cache.metrics();
        assert!(
            evicted > 0 && removed > 0,
            "{policy}: {evicted} evicted, {removed} removed"
        );
        assert_eq!(other, 0, "{policy}: nothing expires or is cleared here");
        assert_eq!(
            m.evictions, evicted,
            "{policy}: every eviction reached the listener"
        );
        let inserted = THREADS as u64 * 20_000;
        assert_eq!(
            inserted,
            cache.len() as u64 + evicted + replaced + removed,
            "{policy}: every inserted value is stored or left exactly once"
        );
    }
}

#[test]
fn no_update_is_lost() {
    // Room to spare in every shard (keys do not split evenly), so nothing is evicted.
    let cache = AsyncCache::builder()
        .maxsize(1_000_000)
        .shards(16)
        .build()
        .unwrap();
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS as u64)
        .map(|t| {
            let (cache, barrier) = (cache.clone(), Arc::clone(&barrier));
            thread::spawn(move || {
                barrier.wait();
                // Every thread writes every key of its own range three times; the last write must stick.
                for round in 0..3u64 {
                    for i in 0..10_000u64 {
                        cache.insert(t * 10_000 + i, round * 100 + t);
                    }
                }
                // And all threads fight over a shared set of keys with their final value per key known.
                for i in 0..1_000u64 {
                    if i % THREADS as u64 == t {
                        cache.insert(1_000_000 + i, t);
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    for t in 0..THREADS as u64 {
        for i in 0..10_000u64 {
            assert_eq!(cache.peek(&(t * 10_000 + i)), Some(200 + t));
        }
    }
    for i in 0..1_000u64 {
        assert_eq!(cache.peek(&(1_000_000 + i)), Some(i % THREADS as u64));
    }
    assert_eq!(cache.metrics().evictions, 0);
}

#[test]
fn metrics_are_exact_after_concurrent_reads() {
    let cache = AsyncCache::builder()
        .maxsize(10_000)
        .shards(8)
        .build()
        .unwrap();
    for k in 0..1_000u64 {
        cache.insert(k, k);
    }
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (cache, barrier) = (cache.clone(), Arc::clone(&barrier));
            thread::spawn(move || {
                barrier.wait();
                let mut hits = 0u64;
                for i in 0..50_000u64 {
                    // Keys 0..1000 hit, 1000..2000 miss.
                    hits += u64::from(cache.get(&(i % 2_000)).is_some());
                }
                hits
            })
        })
        .collect();
    let hits: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let m = cache.metrics();
    assert_eq!(hits, THREADS as u64 * 25_000);
    assert_eq!(m.hits, hits);
    assert_eq!(m.misses, THREADS as u64 * 25_000);
    assert_eq!(m.size, 1_000);
}

#[test]
fn concurrent_get_or_load_runs_one_load_per_key_across_threads() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(THREADS)
        .enable_all()
        .build()
        .unwrap();
    let cache = AsyncCache::<u64, u64>::builder()
        .maxsize(1_000)
        .shards(4)
        .build()
        .unwrap();
    let loads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    runtime.block_on(async {
        let barrier = Arc::new(tokio::sync::Barrier::new(400));
        let tasks: Vec<_> = (0..400u64)
            .map(|i| {
                let (cache, loads, barrier) =
                    (cache.clone(), Arc::clone(&loads), Arc::clone(&barrier));
                tokio::spawn(async move {
                    barrier.wait().await;
                    let key = i % 10;
                    cache
                        .get_or_load(key, async move {
                            loads.fetch_add(1, Ordering::SeqCst);
                            tokio::task::yield_now().await;
                            key * 3
                        })
                        .await
                        == key * 3
                })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap());
        }
    });
    assert_eq!(loads.load(Ordering::SeqCst), 10, "one load per key");
    assert_eq!(cache.metrics().loads, 10);
}
