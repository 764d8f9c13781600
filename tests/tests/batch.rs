//! Batch loading: `get_many` and the windowed `load` / `try_load`. Deterministic: paused time on a current-thread
//! runtime, where a sleep only ends once every other task is blocked.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cache_core::{AsyncCache, LoadError};
use calls::Calls;
use tokio::sync::Notify;
use tokio::time::Instant;

mod common;
use common::{done, settle};

/// Records every batch call: its keys (sorted) and when it happened.
mod calls {
    use std::sync::{Arc, Mutex};
    use tokio::time::Instant;

    /// One batch call: its keys, sorted, and when it happened.
    type Call = (Vec<u64>, Instant);

    #[derive(Clone, Default)]
    pub struct Calls(Arc<Mutex<Vec<Call>>>);

    impl Calls {
        pub fn record(&self, mut keys: Vec<u64>) {
            keys.sort_unstable();
            self.0.lock().unwrap().push((keys, Instant::now()));
        }
        pub fn keys(&self) -> Vec<Vec<u64>> {
            self.0
                .lock()
                .unwrap()
                .iter()
                .map(|(k, _)| k.clone())
                .collect()
        }
        pub fn times(&self) -> Vec<Instant> {
            self.0.lock().unwrap().iter().map(|(_, t)| *t).collect()
        }
    }
}

/// A cache whose batch loader squares even keys, leaves odd keys out, and records its calls.
fn squares(window_ms: u64, max: usize) -> (AsyncCache<u64, u64>, Calls) {
    let calls = Calls::default();
    let rec = calls.clone();
    let cache = AsyncCache::builder()
        .maxsize(1000)
        .batch_window(Duration::from_millis(window_ms))
        .max_batch_size(max)
        .batch_loader(move |keys: Vec<u64>| {
            rec.record(keys.clone());
            async move {
                keys.into_iter()
                    .filter(|k| k % 2 == 0)
                    .map(|k| (k, k * k))
                    .collect::<HashMap<_, _>>()
            }
        })
        .build()
        .unwrap();
    (cache, calls)
}

#[tokio::test(start_paused = true)]
async fn get_many_loads_only_the_distinct_misses_in_one_call() {
    let cache = AsyncCache::<u64, u64>::new(100);
    cache.insert(1, 10);
    let calls = Calls::default();
    let got = cache
        .get_many([1, 2, 3, 2, 4, 3], |keys| {
            calls.record(keys.clone());
            async move {
                keys.into_iter()
                    .filter(|k| *k != 3)
                    .map(|k| (k, k * 100))
                    .collect::<Vec<_>>()
            }
        })
        .await;
    assert_eq!(calls.keys(), [vec![2, 3, 4]]);
    assert_eq!(got, HashMap::from([(1, 10), (2, 200), (4, 400)]));
    assert!(!cache.contains_key(&3), "left out: absent and not cached");
    assert_eq!(cache.get(&4), Some(400));
    // All hits: the batch function is not called at all.
    let again = cache
        .get_many([1, 2], |_| async {
            panic!("no misses, no call") as Vec<(u64, u64)>
        })
        .await;
    assert_eq!(again.len(), 2);
    assert_eq!(cache.metrics().loads, 1);
}

#[tokio::test(start_paused = true)]
async fn get_many_awaits_keys_someone_else_is_loading() {
    let cache = AsyncCache::<u64, u64>::new(100);
    let gate = Arc::new(Notify::new());
    let leader = {
        let (cache, gate) = (cache.clone(), Arc::clone(&gate));
        tokio::spawn(async move {
            cache
                .get_or_load(5, async move {
                    gate.notified().await;
                    55
                })
                .await
        })
    };
    settle().await;
    let calls = Calls::default();
    let many = {
        let (cache, calls) = (cache.clone(), calls.clone());
        tokio::spawn(async move {
            cache
                .get_many([4, 5, 6], |keys| {
                    calls.record(keys.clone());
                    async move { keys.into_iter().map(|k| (k, k)).collect::<Vec<_>>() }
                })
                .await
        })
    };
    settle().await;
    assert_eq!(calls.keys(), [vec![4, 6]], "key 5 is in flight elsewhere");
    gate.notify_waiters();
    assert_eq!(done(many).await, HashMap::from([(4, 4), (5, 55), (6, 6)]));
    assert_eq!(done(leader).await, 55);
}

#[tokio::test(start_paused = true)]
async fn get_many_panic_reaches_its_caller_and_waiters_take_over() {
    let cache = AsyncCache::<u64, u64>::new(100);
    let gate = Arc::new(Notify::new());
    let many = {
        let (cache, gate) = (cache.clone(), Arc::clone(&gate));
        tokio::spawn(async move {
            cache
                .get_many([1, 2], |_| {
                    let gate = Arc::clone(&gate);
                    async move {
                        gate.notified().await;
                        panic!("batch exploded");
                        #[allow(unreachable_code)]
                        Vec::<(u64, u64)>::new()
                    }
                })
                .await
        })
    };
    settle().await;
    let waiter = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.get_or_load(2, async { 22 }).await })
    };
    settle().await;
    gate.notify_waiters();
    assert!(many.await.unwrap_err().is_panic());
    assert_eq!(done(waiter).await, 22);
    assert!(!cache.contains_key(&1));
}

#[tokio::test(start_paused = true)]
async fn load_coalesces_calls_within_the_window() {
    let (cache, calls) = squares(5, 100);
    let start = Instant::now();
    let tasks: Vec<_> = [2u64, 4, 6, 2, 3, 4]
        .into_iter()
        .map(|k| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.load(k).await })
        })
        .collect();
    let mut got = Vec::new();
    for t in tasks {
        got.push(done(t).await);
    }
    assert_eq!(got, [Some(4), Some(16), Some(36), Some(4), None, Some(16)]);
    assert_eq!(calls.keys(), [vec![2, 3, 4, 6]], "one call, distinct keys");
    assert_eq!(
        calls.times()[0] - start,
        Duration::from_millis(5),
        "sent when the window closed"
    );
    assert_eq!(cache.get(&2), Some(4));
    assert!(!cache.contains_key(&3), "left out: not cached");
    // Cached keys are hits: no new batch.
    assert_eq!(cache.load(6).await, Some(36));
    assert_eq!(calls.keys().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_full_batch_is_sent_at_once() {
    let (cache, calls) = squares(5, 3);
    let start = Instant::now();
    let tasks: Vec<_> = (0..7u64)
        .map(|k| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.load(k * 2).await })
        })
        .collect();
    for (k, t) in tasks.into_iter().enumerate() {
        let k = k as u64 * 2;
        assert_eq!(done(t).await, Some(k * k));
    }
    let sizes: Vec<usize> = calls.keys().iter().map(Vec::len).collect();
    assert_eq!(sizes, [3, 3, 1]);
    let times: Vec<Duration> = calls.times().iter().map(|t| *t - start).collect();
    assert_eq!(
        times,
        [Duration::ZERO, Duration::ZERO, Duration::from_millis(5)]
    );
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_caller_does_not_break_the_batch() {
    let (cache, calls) = squares(5, 100);
    let spawn = |k: u64| {
        let cache = cache.clone();
        tokio::spawn(async move { cache.load(k).await })
    };
    let a = spawn(2);
    let b = spawn(4);
    let c = spawn(6);
    settle().await;
    b.abort();
    assert_eq!(done(a).await, Some(4));
    assert_eq!(done(c).await, Some(36));
    assert_eq!(calls.keys(), [vec![2, 4, 6]]);
    assert_eq!(
        cache.get(&4),
        Some(16),
        "the cancelled caller's key was still loaded"
    );
}

#[tokio::test(start_paused = true)]
async fn keys_in_flight_elsewhere_are_not_batch_loaded() {
    let (cache, calls) = squares(5, 100);
    let gate = Arc::new(Notify::new());
    let leader = {
        let (cache, gate) = (cache.clone(), Arc::clone(&gate));
        tokio::spawn(async move {
            cache
                .get_or_load(8, async move {
                    gate.notified().await;
                    1
                })
                .await
        })
    };
    settle().await;
    let waiter = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.load(8).await })
    };
    let other = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.load(10).await })
    };
    assert_eq!(done(other).await, Some(100));
    gate.notify_waiters();
    assert_eq!(done(waiter).await, Some(1));
    assert_eq!(done(leader).await, 1);
    assert_eq!(calls.keys(), [vec![10]]);
}

#[derive(Debug)]
struct Unavailable;

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("backend unavailable")
    }
}

impl std::error::Error for Unavailable {}

#[tokio::test(start_paused = true)]
async fn a_batch_error_reaches_every_caller_and_is_not_cached() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let cache: AsyncCache<u64, u64> = AsyncCache::builder()
        .maxsize(10)
        .try_batch_loader(move |_keys: Vec<u64>| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Err::<Vec<(u64, u64)>, _>(Unavailable) }
        })
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..4u64)
        .map(|k| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.try_load(k).await })
        })
        .collect();
    for t in tasks {
        match done(t).await {
            Err(LoadError::Failed(e)) => assert_eq!(e.to_string(), "backend unavailable"),
            other => panic!("expected the batch error, got {other:?}"),
        }
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(cache.load(1).await, None);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "errors are not cached: loaded again"
    );
    assert!(cache.is_empty());
    assert_eq!(cache.metrics().load_failures, 2);
}

#[tokio::test(start_paused = true)]
async fn a_batch_panic_reaches_every_caller() {
    let cache: AsyncCache<u64, u64> = AsyncCache::builder()
        .maxsize(10)
        .batch_loader(|_keys: Vec<u64>| async {
            panic!("batch loader bug");
            #[allow(unreachable_code)]
            Vec::<(u64, u64)>::new()
        })
        .build()
        .unwrap();
    let loads: Vec<_> = (0..3u64)
        .map(|k| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.load(k).await })
        })
        .collect();
    let tried = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.try_load(9).await })
    };
    for t in loads {
        let err = tokio::time::timeout(Duration::from_secs(60), t)
            .await
            .unwrap()
            .unwrap_err();
        assert!(err.is_panic());
    }
    assert!(matches!(done(tried).await, Err(LoadError::Panicked)));
    // The keys are not poisoned.
    assert_eq!(cache.get_or_load(1, async { 7 }).await, 7);
}

#[tokio::test(start_paused = true)]
async fn load_without_a_batch_loader_is_an_error_not_a_hang() {
    let cache = AsyncCache::<u64, u64>::new(10);
    assert!(matches!(
        cache.try_load(1).await,
        Err(LoadError::NoBatchLoader)
    ));
    assert_eq!(cache.load(1).await, None);
    assert!(LoadError::NoBatchLoader
        .to_string()
        .contains(".batch_loader("));
}

#[tokio::test(start_paused = true)]
async fn the_batch_loader_runs_without_any_cache_lock_held() {
    // The loader uses the very cache that calls it: it would deadlock if a shard lock were held.
    let me: Arc<std::sync::OnceLock<AsyncCache<u64, u64>>> = Arc::default();
    let handle = Arc::clone(&me);
    let cache = AsyncCache::builder()
        .maxsize(10)
        .batch_loader(move |keys: Vec<u64>| {
            let cache = handle.get().expect("set after build").clone();
            async move {
                cache.insert(0, 1);
                let seen = cache.get(&0).unwrap_or(9);
                keys.into_iter().map(|k| (k, seen + k)).collect::<Vec<_>>()
            }
        })
        .build()
        .unwrap();
    me.set(cache.clone()).unwrap();
    assert_eq!(cache.load(5).await, Some(6));
    let reentrant = cache.clone();
    let got = cache
        .get_many([1, 2], |keys| {
            let reentrant = reentrant.clone();
            async move {
                reentrant.insert(100, 100);
                assert_eq!(reentrant.peek(&100), Some(100));
                keys.into_iter().map(|k| (k, k)).collect::<Vec<_>>()
            }
        })
        .await;
    assert_eq!(got, HashMap::from([(1, 1), (2, 2)]));
}
