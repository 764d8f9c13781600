//! Regression tests for loading edge cases found in review: a `get_many` held up by keys it waits on, batches
//! whose runtime goes away, user `Clone` impls that panic, and a key queued twice in one batch.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cache_core::{AsyncCache, LoadError};
use futures::FutureExt;
use tokio::sync::Notify;

mod common;
use common::{done, settle};

#[tokio::test(start_paused = true)]
async fn get_many_delivers_its_own_keys_without_waiting_for_others() {
    let cache = AsyncCache::<u64, u64>::new(100);
    let gate = Arc::new(Notify::new());
    // C holds key 3 until the very end.
    let c = {
        let (cache, gate) = (cache.clone(), Arc::clone(&gate));
        tokio::spawn(async move {
            cache
                .get_or_load(3, async move {
                    gate.notified().await;
                    33
                })
                .await
        })
    };
    settle().await;
    // B leads key 2 and waits on key 3.
    let b = {
        let cache = cache.clone();
        tokio::spawn(async move {
            cache
                .get_many([2, 3], |keys| async move {
                    keys.into_iter().map(|k| (k, k * 11)).collect::<Vec<_>>()
                })
                .await
        })
    };
    settle().await;
    // A waits on key 2 only: it must not be held up by B's wait on key 3.
    let a = {
        let cache = cache.clone();
        tokio::spawn(async move {
            cache
                .get_many([2], |_| async { Vec::<(u64, u64)>::new() })
                .await
        })
    };
    assert_eq!(done(a).await, HashMap::from([(2, 22)]));
    assert!(!b.is_finished(), "B still waits on key 3");
    gate.notify_waiters();
    assert_eq!(done(b).await, HashMap::from([(2, 22), (3, 33)]));
    assert_eq!(done(c).await, 33);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_get_many_calls_in_opposite_orders_never_deadlock() {
    for round in 0..50u64 {
        let cache = AsyncCache::<u64, u64>::new(1_000);
        let up = {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .get_many(0..256, |keys| async move {
                        keys.into_iter().map(|k| (k, k)).collect::<Vec<_>>()
                    })
                    .await
            })
        };
        let down = {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .get_many((0..256).rev(), |keys| async move {
                        keys.into_iter().map(|k| (k, k)).collect::<Vec<_>>()
                    })
                    .await
            })
        };
        // A deadlock would hang here; the timeout turns it into a failure.
        let both = tokio::time::timeout(Duration::from_secs(30), async { (up.await, down.await) })
            .await
            .unwrap_or_else(|_| panic!("deadlock in round {round}"));
        assert_eq!(both.0.unwrap().len(), 256);
        assert_eq!(both.1.unwrap().len(), 256);
    }
}

fn batch_cache(calls: &Arc<Mutex<Vec<Vec<u64>>>>) -> AsyncCache<u64, u64> {
    let calls = Arc::clone(calls);
    AsyncCache::builder()
        .maxsize(100)
        .batch_window(Duration::from_millis(5))
        .batch_loader(move |keys: Vec<u64>| {
            calls.lock().unwrap().push(keys.clone());
            async move { keys.into_iter().map(|k| (k, k * 10)).collect::<Vec<_>>() }
        })
        .build()
        .unwrap()
}

#[test]
fn a_batch_whose_runtime_shut_down_does_not_strand_its_keys() {
    let calls = Arc::default();
    let cache = batch_cache(&calls);
    {
        let first = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        first.block_on(async {
            // Queues key 1 and starts the window on this runtime, then gives up.
            assert!(cache.load(1).now_or_never().is_none());
        });
        // The runtime goes away with the window's task unfired.
    }
    let second = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    second.block_on(async {
        let within = |f| tokio::time::timeout(Duration::from_secs(60), f);
        assert_eq!(within(cache.load(2)).await.expect("load(2) hung"), Some(20));
        assert_eq!(within(cache.load(1)).await.expect("load(1) hung"), Some(10));
        cache.remove(&1);
        let again =
            tokio::time::timeout(Duration::from_secs(60), cache.get_or_load(1, async { 7 }))
                .await
                .expect("key 1 is stranded");
        assert_eq!(again, 7);
    });
}

#[test]
fn load_outside_a_runtime_is_an_error() {
    let calls = Arc::default();
    let cache = batch_cache(&calls);
    // Polled by hand, outside any runtime.
    let got = cache.try_load(1).now_or_never().expect("answers at once");
    assert!(matches!(got, Err(LoadError::NoRuntime)), "{got:?}");
    assert!(LoadError::NoRuntime.to_string().contains("tokio runtime"));
}

#[tokio::test(start_paused = true)]
async fn a_key_queued_twice_in_one_batch_is_loaded_once_for_both() {
    let calls = Arc::default();
    let cache = batch_cache(&calls);
    let first = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.load(7).await })
    };
    settle().await;
    // Detaches the queued flight; the next load queues a new one in the same window.
    cache.remove(&7);
    let second = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.load(7).await })
    };
    assert_eq!(done(first).await, Some(70));
    assert_eq!(done(second).await, Some(70));
    assert_eq!(*calls.lock().unwrap(), [vec![7]], "distinct keys only");
    assert_eq!(cache.get(&7), Some(70));
}

/// A value whose `clone` panics once when armed.
#[derive(Debug, PartialEq)]
struct Touchy(u64);

static ARMED: AtomicBool = AtomicBool::new(false);

impl Clone for Touchy {
    fn clone(&self) -> Self {
        if ARMED.swap(false, Ordering::SeqCst) {
            panic!("clone panics (on purpose)");
        }
        Self(self.0)
    }
}

#[tokio::test(start_paused = true)]
async fn a_panicking_clone_never_poisons_a_key() {
    // get_or_load: the leader's clone panics while storing.
    let cache = AsyncCache::<u64, Touchy>::new(10);
    let leader = {
        let cache = cache.clone();
        tokio::spawn(async move {
            ARMED.store(true, Ordering::SeqCst);
            cache.get_or_load(1, async { Touchy(1) }).await
        })
    };
    assert!(leader.await.unwrap_err().is_panic());
    assert!(!ARMED.load(Ordering::SeqCst), "the leader's clone panicked");
    let again = tokio::time::timeout(
        Duration::from_secs(60),
        cache.get_or_load(1, async { Touchy(2) }),
    )
    .await
    .expect("key 1 is poisoned");
    assert!(again == Touchy(1) || again == Touchy(2));

    // A windowed batch: a clone panics while delivering; the callers retry and get their values.
    let batch: AsyncCache<u64, Touchy> = AsyncCache::builder()
        .maxsize(10)
        .batch_loader(|keys: Vec<u64>| async move {
            keys.into_iter().map(|k| (k, Touchy(k))).collect::<Vec<_>>()
        })
        .build()
        .unwrap();
    ARMED.store(true, Ordering::SeqCst);
    let tasks: Vec<_> = (1..=3u64)
        .map(|k| {
            let batch = batch.clone();
            tokio::spawn(async move { batch.load(k).await })
        })
        .collect();
    for (k, t) in (1..=3u64).zip(tasks) {
        assert_eq!(done(t).await, Some(Touchy(k)));
    }
    assert!(
        !ARMED.load(Ordering::SeqCst),
        "the armed clone never panicked: the batch half tested nothing"
    );
}
