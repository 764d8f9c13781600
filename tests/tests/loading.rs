//! Single-flight loading: `get_or_load`, `try_get_or_load`, `warmup`, and their behaviour under cancellation,
//! panics, errors and removal. Deterministic: tasks on a current-thread runtime with paused time, where
//! `settle()` returns only once every other task is blocked.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cache_core::AsyncCache;
use futures::FutureExt;
use tokio::sync::{oneshot, Notify};

mod common;
use common::{done, settle};

/// A loader that counts its calls and waits for `gate` before returning `value`.
fn gated(
    calls: &Arc<AtomicUsize>,
    gate: &Arc<Notify>,
    value: u64,
) -> impl std::future::Future<Output = u64> {
    let calls = Arc::clone(calls);
    let gate = Arc::clone(gate);
    async move {
        calls.fetch_add(1, Ordering::SeqCst);
        gate.notified().await;
        value
    }
}

#[tokio::test(start_paused = true)]
async fn concurrent_callers_share_one_load() {
    let cache = AsyncCache::<u64, u64>::new(100);
    let calls = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Notify::new());
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let cache = cache.clone();
            let load = gated(&calls, &gate, 1000 + i);
            tokio::spawn(async move { cache.get_or_load(7, load).await })
        })
        .collect();
    settle().await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "one loader runs while 99 wait"
    );
    gate.notify_waiters();
    let mut values = Vec::new();
    for t in tasks {
        values.push(done(t).await);
    }
    assert!(
        values.iter().all(|v| *v == values[0]),
        "everyone gets the loaded value"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(cache.get(&7), Some(values[0]));
    let m = cache.metrics();
    assert_eq!(m.loads, 1);
    assert_eq!(m.misses, 100, "each call's first lookup missed");
    assert_eq!(m.hits, 1);
}

#[tokio::test(start_paused = true)]
async fn a_value_already_cached_is_not_loaded() {
    let cache = AsyncCache::<u64, u64>::new(10);
    cache.insert(1, 5);
    let v = cache
        .get_or_load(1, async { panic!("must not load") })
        .await;
    assert_eq!(v, 5);
}

#[tokio::test(start_paused = true)]
async fn cancelled_leader_hands_the_load_to_a_waiter() {
    let cache = AsyncCache::<u64, u64>::new(10);
    let calls = Arc::new(AtomicUsize::new(0));
    let never = Arc::new(Notify::new());
    let leader = {
        let cache = cache.clone();
        let load = gated(&calls, &never, 1);
        tokio::spawn(async move { cache.get_or_load(1, load).await })
    };
    settle().await;
    let waiters: Vec<_> = (0..5)
        .map(|i| {
            let cache = cache.clone();
            let calls = Arc::clone(&calls);
            tokio::spawn(async move {
                cache
                    .get_or_load(1, async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        100 + i
                    })
                    .await
            })
        })
        .collect();
    settle().await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    leader.abort();
    assert!(leader.await.unwrap_err().is_cancelled());
    let mut values = Vec::new();
    for w in waiters {
        values.push(done(w).await);
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "exactly one waiter took over"
    );
    assert!(values.iter().all(|v| *v == values[0] && *v >= 100));
    assert_eq!(cache.get(&1), Some(values[0]));
    assert_eq!(
        cache.metrics().load_failures,
        0,
        "a cancellation is not a failure"
    );
}

#[tokio::test(start_paused = true)]
async fn leader_dropped_after_its_value_arrived_changes_nothing() {
    let cache = AsyncCache::<u64, u64>::new(10);
    let (tx, rx) = oneshot::channel::<u64>();
    let mut leader = Box::pin(cache.get_or_load(1, async move { rx.await.unwrap() }));
    assert!((&mut leader).now_or_never().is_none());
    let waiter = {
        let cache = cache.clone();
        tokio::spawn(async move {
            cache
                .get_or_load(1, async { unreachable!("value was loaded") })
                .await
        })
    };
    settle().await;
    tx.send(9).unwrap();
    // The leader's future is polled once more (storing the value) and then dropped.
    assert_eq!((&mut leader).now_or_never(), Some(9));
    drop(leader);
    assert_eq!(done(waiter).await, 9);
    assert_eq!(cache.get(&1), Some(9));
}

#[tokio::test(start_paused = true)]
async fn cancelled_waiter_affects_nobody() {
    let cache = AsyncCache::<u64, u64>::new(10);
    let calls = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Notify::new());
    let spawn = |value| {
        let cache = cache.clone();
        let load = gated(&calls, &gate, value);
        tokio::spawn(async move { cache.get_or_load(1, load).await })
    };
    let leader = spawn(1);
    settle().await;
    let doomed = spawn(2);
    let survivor = spawn(3);
    settle().await;
    doomed.abort();
    settle().await;
    gate.notify_waiters();
    assert_eq!(done(leader).await, 1);
    assert_eq!(done(survivor).await, 1);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn panicking_loader_reaches_its_caller_only_and_does_not_poison_the_key() {
    let cache = AsyncCache::<u64, u64>::new(10);
    let gate = Arc::new(Notify::new());
    let leader = {
        let cache = cache.clone();
        let gate = Arc::clone(&gate);
        tokio::spawn(async move {
            cache
                .get_or_load(1, async move {
                    gate.notified().await;
                    panic!("backend exploded")
                })
                .await
        })
    };
    settle().await;
    let waiter = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.get_or_load(1, async { 42 }).await })
    };
    settle().await;
    gate.notify_waiters();
    let err = leader.await.unwrap_err();
    assert!(err.is_panic());
    assert_eq!(done(waiter).await, 42, "the waiter took over");
    assert_eq!(cache.get(&1), Some(42));
    assert_eq!(cache.metrics().load_failures, 1);
    // And the key loads normally afterwards.
    cache.remove(&1);
    assert_eq!(cache.get_or_load(1, async { 43 }).await, 43);
}

/// A panic the caller catches itself (its `catch_unwind` around the load) is still a failed load: the guard is
/// dropped after the unwinding ended, and must not take it for a cancellation.
#[tokio::test(start_paused = true)]
async fn a_panic_caught_by_the_caller_counts_as_a_failed_load() {
    let cache = AsyncCache::<u64, u64>::new(10);
    let load = cache.get_or_load(1, async { panic!("backend exploded") });
    assert!(std::panic::AssertUnwindSafe(load)
        .catch_unwind()
        .await
        .is_err());
    let load = cache.try_get_or_load(2, async { panic!("backend exploded") as Result<u64, ()> });
    assert!(std::panic::AssertUnwindSafe(load)
        .catch_unwind()
        .await
        .is_err());
    let m = cache.metrics();
    assert_eq!((m.loads, m.load_failures, m.load_time.count), (0, 2, 2));
    // A load cancelled by a panic elsewhere in the caller's task is not a failure of its loader.
    let gate = Arc::new(Notify::new());
    let calls = Arc::new(AtomicUsize::new(0));
    let sibling = async {
        tokio::task::yield_now().await;
        panic!("a sibling panics")
    };
    let joined = async { tokio::join!(cache.get_or_load(3, gated(&calls, &gate, 3)), sibling) };
    assert!(std::panic::AssertUnwindSafe(joined)
        .catch_unwind()
        .await
        .is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(cache.metrics().load_failures, 2, "cancelled, not failed");
    assert_eq!(cache.get_or_load(3, async { 30 }).await, 30, "not poisoned");
}

#[derive(Debug, PartialEq)]
struct Down;

#[tokio::test(start_paused = true)]
async fn errors_are_not_cached_and_waiters_retry_one_at_a_time() {
    let cache = AsyncCache::<u64, u64>::new(10);
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max_in_flight = Arc::new(AtomicUsize::new(0));
    let calls = Arc::new(AtomicUsize::new(0));
    let failing = || {
        let (in_flight, max_in_flight, calls) = (
            Arc::clone(&in_flight),
            Arc::clone(&max_in_flight),
            Arc::clone(&calls),
        );
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            max_in_flight.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(5)).await;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            Err::<u64, Down>(Down)
        }
    };
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let cache = cache.clone();
            let load = failing();
            tokio::spawn(async move { cache.try_get_or_load(1, load).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(done(t).await, Err(Down), "every caller completes");
    }
    assert_eq!(
        max_in_flight.load(Ordering::SeqCst),
        1,
        "never two attempts at once"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 20);
    assert!(!cache.contains_key(&1));
    let m = cache.metrics();
    assert_eq!((m.loads, m.load_failures), (0, 20));
    // A later call loads again, and a success is shared with everyone still waiting.
    assert_eq!(
        cache.try_get_or_load(1, async { Ok::<_, Down>(5) }).await,
        Ok(5)
    );
    assert_eq!(cache.get(&1), Some(5));
}

#[tokio::test(start_paused = true)]
async fn after_a_failure_the_first_retry_success_is_shared() {
    let cache = AsyncCache::<u64, u64>::new(10);
    let calls = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..10u64)
        .map(|i| {
            let cache = cache.clone();
            let calls = Arc::clone(&calls);
            tokio::spawn(async move {
                cache
                    .try_get_or_load(1, async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        if i == 0 {
                            Err(Down)
                        } else {
                            Ok(i)
                        }
                    })
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(done(t).await);
    }
    assert_eq!(results[0], Err(Down));
    let ok: Vec<u64> = results[1..].iter().map(|r| *r.as_ref().unwrap()).collect();
    assert!(ok.iter().all(|v| *v == ok[0]));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "one failure, one shared success"
    );
}

#[tokio::test(start_paused = true)]
async fn remove_during_a_load_is_not_undone_by_it() {
    let cache = AsyncCache::<u64, u64>::new(10);
    let calls = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Notify::new());
    let leader = {
        let cache = cache.clone();
        let load = gated(&calls, &gate, 1);
        tokio::spawn(async move { cache.get_or_load(1, load).await })
    };
    settle().await;
    cache.insert(1, 0);
    assert_eq!(cache.remove(&1), Some(0));
    gate.notify_waiters();
    assert_eq!(done(leader).await, 1, "the caller still gets its value");
    assert!(!cache.contains_key(&1), "but it is not stored");
    // After the removal a new caller starts a fresh load rather than joining the stale one.
    assert_eq!(cache.get_or_load(1, async { 2 }).await, 2);
    assert_eq!(cache.get(&1), Some(2));
}

#[tokio::test(start_paused = true)]
async fn clear_and_insert_during_a_load_win_over_it() {
    let cache = AsyncCache::<u64, u64>::new(10);
    let calls = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Notify::new());
    let spawn = |key, value| {
        let cache = cache.clone();
        let load = gated(&calls, &gate, value);
        tokio::spawn(async move { cache.get_or_load(key, load).await })
    };
    let a = spawn(1, 10);
    let b = spawn(2, 20);
    settle().await;
    cache.clear();
    cache.insert(2, 99);
    gate.notify_waiters();
    assert_eq!((done(a).await, done(b).await), (10, 20));
    assert!(!cache.contains_key(&1));
    assert_eq!(
        cache.get(&2),
        Some(99),
        "the explicit insert is not overwritten"
    );
}

#[tokio::test(start_paused = true)]
async fn loaded_values_get_the_default_ttl_and_load_time_is_measured() {
    let cache = AsyncCache::<u64, u64>::builder()
        .maxsize(10)
        .ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    for (key, ms) in [(1, 10), (2, 30)] {
        cache
            .get_or_load(key, async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                key
            })
            .await;
    }
    let t = cache.metrics().load_time;
    assert_eq!(t.count, 2);
    assert_eq!(t.min, Duration::from_millis(10));
    assert_eq!(t.max, Duration::from_millis(30));
    assert_eq!(t.total, Duration::from_millis(40));
    assert_eq!(t.mean(), Duration::from_millis(20));
    tokio::time::advance(Duration::from_secs(60)).await;
    assert_eq!(cache.get(&1), None);
}

#[tokio::test(start_paused = true)]
async fn warmup_stores_with_bounded_concurrency_and_skips_cached_keys() {
    let cache = AsyncCache::<u64, u64>::new(100);
    cache.insert(3, 333);
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let entries: Vec<_> = (0..50u64)
        .map(|k| {
            let (running, peak) = (Arc::clone(&running), Arc::clone(&peak));
            (k, async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(1)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                k * 10
            })
        })
        .collect();
    let stored = cache.warmup_with_concurrency(entries, 4).await;
    assert_eq!(stored, 49, "key 3 was already cached");
    assert_eq!(peak.load(Ordering::SeqCst), 4);
    assert_eq!(cache.get(&3), Some(333));
    assert_eq!(cache.get(&7), Some(70));
    assert_eq!(cache.len(), 50);
    let m = cache.metrics();
    assert_eq!(m.hits, 2, "warmup lookups are not counted");
}

#[test]
fn futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let cache = AsyncCache::<String, Vec<u8>>::new(10);
    let f = cache.get_or_load("k".into(), async { vec![1] });
    assert_send(&f);
    let g = cache.try_get_or_load("k".into(), async { Ok::<_, std::io::Error>(vec![1]) });
    assert_send(&g);
    let h = cache.get_many(vec!["a".to_string()], |keys| async move {
        keys.into_iter().map(|k| (k, vec![])).collect::<Vec<_>>()
    });
    assert_send(&h);
    let l = cache.load("k".into());
    assert_send(&l);
    let w = cache.warmup(vec![("k".to_string(), async { vec![] })]);
    assert_send(&w);
}
