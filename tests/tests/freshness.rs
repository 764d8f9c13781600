//! Issue 13 freshness features: TTL per load (`get_or_load_with_ttl`, `try_get_or_load_with_ttl`). Deterministic:
//! paused tokio time on a current-thread runtime.

use std::sync::Arc;
use std::time::Duration;

use cache_core::AsyncCache;
use tokio::sync::Notify;
use tokio::time::advance;

mod common;
use common::{done, settle};

fn ttl_cache(default: Option<Duration>) -> AsyncCache<u64, u64> {
    let b = AsyncCache::builder().maxsize(100);
    match default {
        Some(d) => b.ttl(d).build().unwrap(),
        None => b.build().unwrap(),
    }
}

const S: fn(u64) -> Duration = Duration::from_secs;

#[tokio::test(start_paused = true)]
async fn load_with_ttl_overrides_the_default_ttl() {
    let cache = ttl_cache(Some(S(60)));
    assert_eq!(
        cache
            .get_or_load_with_ttl(1, Some(S(5)), async { 10 })
            .await,
        10
    );
    assert_eq!(cache.get_or_load_with_ttl(2, None, async { 20 }).await, 20);
    assert_eq!(cache.get_or_load(3, async { 30 }).await, 30);
    advance(S(4)).await;
    assert_eq!(cache.get(&1), Some(10));
    advance(S(2)).await; // 6 s: past the 5 s TTL
    assert_eq!(cache.get(&1), None);
    advance(S(55)).await; // 61 s: past the default
    assert_eq!(cache.get(&3), None);
    assert_eq!(
        cache.get(&2),
        Some(20),
        "None never expires, whatever the default"
    );
    advance(S(1_000_000)).await;
    assert_eq!(cache.get(&2), Some(20));
}

#[tokio::test(start_paused = true)]
async fn load_with_ttl_on_a_cache_without_default_ttl() {
    let cache = ttl_cache(None);
    assert_eq!(
        cache
            .get_or_load_with_ttl(1, Some(S(5)), async { 10 })
            .await,
        10
    );
    advance(S(5)).await;
    assert_eq!(cache.get(&1), None);
    // After expiry the next call loads again.
    assert_eq!(
        cache
            .get_or_load_with_ttl(1, Some(S(5)), async { 11 })
            .await,
        11
    );
    assert_eq!(cache.metrics().expirations, 1);
}

#[tokio::test(start_paused = true)]
async fn try_load_with_ttl_stores_ok_with_its_ttl_and_never_errors() {
    let cache = ttl_cache(Some(S(60)));
    let ok: Result<u64, &str> = cache
        .try_get_or_load_with_ttl(1, Some(S(5)), async { Ok(10) })
        .await;
    assert_eq!(ok, Ok(10));
    let never: Result<u64, &str> = cache
        .try_get_or_load_with_ttl(2, None, async { Ok(20) })
        .await;
    assert_eq!(never, Ok(20));
    let err: Result<u64, &str> = cache
        .try_get_or_load_with_ttl(3, None, async { Err("down") })
        .await;
    assert_eq!(err, Err("down"));
    assert!(!cache.contains_key(&3));
    advance(S(6)).await;
    assert_eq!(cache.get(&1), None);
    advance(S(100)).await;
    assert_eq!(cache.get(&2), Some(20));
    assert_eq!(cache.metrics().load_failures, 1);
}

#[tokio::test(start_paused = true)]
async fn a_hit_ignores_the_callers_ttl() {
    let cache = ttl_cache(None);
    cache.insert_with_ttl(1, 10, Some(S(10)));
    // The hit path is unchanged: the stored value and its deadline stay as they are.
    let v = cache
        .get_or_load_with_ttl(1, None, async { unreachable!("a hit") })
        .await;
    assert_eq!(v, 10);
    advance(S(10)).await;
    assert_eq!(
        cache.get(&1),
        None,
        "the hit did not extend the entry's TTL"
    );
}

#[tokio::test(start_paused = true)]
async fn waiters_share_the_leaders_value_stored_with_the_leaders_ttl() {
    let cache = ttl_cache(None);
    let gate = Arc::new(Notify::new());
    let leader = {
        let (cache, gate) = (cache.clone(), Arc::clone(&gate));
        tokio::spawn(async move {
            cache
                .get_or_load_with_ttl(1, Some(S(5)), async move {
                    gate.notified().await;
                    10
                })
                .await
        })
    };
    settle().await;
    let waiter = {
        let cache = cache.clone();
        tokio::spawn(async move {
            cache
                .get_or_load_with_ttl(1, None, async { unreachable!("joins the leader") })
                .await
        })
    };
    settle().await;
    gate.notify_one();
    assert_eq!(done(leader).await, 10);
    assert_eq!(done(waiter).await, 10);
    advance(S(5)).await;
    assert_eq!(cache.get(&1), None, "stored with the leader's TTL");
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_leader_hands_over_to_a_waiter_with_the_waiters_ttl() {
    let cache = ttl_cache(None);
    let leader = {
        let cache = cache.clone();
        tokio::spawn(async move {
            cache
                .get_or_load_with_ttl(1, Some(S(5)), std::future::pending())
                .await
        })
    };
    settle().await;
    let gate = Arc::new(Notify::new());
    let waiter = {
        let (cache, gate) = (cache.clone(), Arc::clone(&gate));
        tokio::spawn(async move {
            cache
                .get_or_load_with_ttl(1, Some(S(50)), async move {
                    gate.notified().await;
                    20
                })
                .await
        })
    };
    settle().await;
    leader.abort();
    settle().await;
    gate.notify_one();
    assert_eq!(done(waiter).await, 20);
    advance(S(49)).await;
    assert_eq!(cache.get(&1), Some(20), "stored with the new leader's TTL");
    advance(S(1)).await;
    assert_eq!(cache.get(&1), None);
}

// ---- expire_after ----

/// Values are `(payload, ttl in seconds)`; a ttl of 0 means "never expires" (the closure returns `None`).
fn by_value() -> AsyncCache<u64, (u64, u64)> {
    AsyncCache::builder()
        .maxsize(100)
        .ttl(S(1_000)) // replaced by the closure for insert and loads
        .expire_after(|_k: &u64, v: &(u64, u64)| (v.1 > 0).then(|| S(v.1)))
        .batch_loader(|keys: Vec<u64>| async move { keys.into_iter().map(|k| (k, (k, k))) })
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn expire_after_decides_the_ttl_of_every_stored_value() {
    let cache = by_value();
    cache.insert(1, (1, 5));
    cache.insert(2, (2, 0)); // None: never expires, though the default TTL is set
    cache.get_or_load(3, async { (3, 5) }).await;
    let ok: Result<_, ()> = cache.try_get_or_load(4, async { Ok((4, 5)) }).await;
    assert!(ok.is_ok());
    cache
        .get_many([5u64], |keys| async move {
            keys.into_iter().map(|k| (k, (k, 5)))
        })
        .await;
    assert_eq!(cache.load(6).await, Some((6, 6))); // the batch loader's ttl: 6 s
    assert_eq!(cache.warmup([(7u64, async { (7, 5) })]).await, 1);
    advance(S(4)).await;
    for k in 1..=7 {
        assert!(cache.contains_key(&k), "key {k} still live at 4 s");
    }
    advance(S(1)).await; // 5 s
    for k in [1, 3, 4, 5, 7] {
        assert!(!cache.contains_key(&k), "key {k} expired after its own 5 s");
    }
    assert!(cache.contains_key(&6));
    advance(S(1)).await; // 6 s
    assert!(!cache.contains_key(&6));
    advance(S(10_000)).await;
    assert_eq!(
        cache.get(&2),
        Some((2, 0)),
        "None from the closure: never expires"
    );
}

#[tokio::test(start_paused = true)]
async fn an_explicit_ttl_wins_over_expire_after() {
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let cache: AsyncCache<u64, u64> = {
        let calls = Arc::clone(&calls);
        AsyncCache::builder()
            .maxsize(100)
            .expire_after(move |_, _| {
                calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Some(S(1))
            })
            .build()
            .unwrap()
    };
    cache.insert_with_ttl(1, 1, None);
    cache
        .get_or_load_with_ttl(2, Some(S(10)), async { 2 })
        .await;
    let r: Result<u64, ()> = cache
        .try_get_or_load_with_ttl(3, None, async { Ok(3) })
        .await;
    assert_eq!(r, Ok(3));
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "not asked for explicit TTLs"
    );
    advance(S(5)).await;
    assert_eq!(cache.get(&1), Some(1));
    assert_eq!(cache.get(&2), Some(2));
    assert_eq!(cache.get(&3), Some(3));
    cache.insert(4, 4);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
}

fn panicky() -> AsyncCache<u64, u64> {
    // Panics for odd values; even values live 10 s.
    AsyncCache::builder()
        .maxsize(100)
        .expire_after(|_, v: &u64| {
            assert!(v % 2 == 0, "odd value");
            Some(S(10))
        })
        .batch_loader(|keys: Vec<u64>| async move { keys.into_iter().map(|k| (k, k)) })
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_panicking_expire_after_stores_nothing_and_reaches_the_caller() {
    use futures::FutureExt;
    use std::panic::AssertUnwindSafe;
    let cache = panicky();
    cache.insert(1, 2);
    // insert: the old value stays, the panic reaches the caller.
    let caught = std::panic::catch_unwind(AssertUnwindSafe(|| cache.insert(1, 3)));
    assert!(caught.is_err());
    assert_eq!(cache.get(&1), Some(2));
    // get_or_load: the caller panics, nothing is stored, the key is not poisoned.
    let caught = AssertUnwindSafe(cache.get_or_load(5, async { 5 }))
        .catch_unwind()
        .await;
    assert!(caught.is_err());
    assert!(!cache.contains_key(&5));
    assert_eq!(cache.get_or_load(5, async { 6 }).await, 6);
    // get_many: the other keys are stored, then the panic reaches the caller.
    let caught = AssertUnwindSafe(cache.get_many([7u64, 8], |keys| async move {
        keys.into_iter().map(|k| (k, k))
    }))
    .catch_unwind()
    .await;
    assert!(caught.is_err());
    assert!(!cache.contains_key(&7));
    assert_eq!(cache.get(&8), Some(8));
    // windowed load: the key's callers get Panicked, the batch's other keys are stored; nothing hangs.
    let (odd, even) = tokio::join!(cache.try_load(9), cache.try_load(10));
    assert!(
        matches!(odd, Err(cache_core::LoadError::Panicked)),
        "{odd:?}"
    );
    assert_eq!(even.unwrap(), Some(10));
    assert!(!cache.contains_key(&9));
    assert_eq!(cache.len(), 4, "1, 5, 8, 10");
    assert_eq!(cache.metrics().size, 4);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_expire_after_lets_a_waiter_take_over() {
    use futures::FutureExt;
    use std::panic::AssertUnwindSafe;
    let cache = panicky();
    let gate = Arc::new(Notify::new());
    let leader = {
        let (cache, gate) = (cache.clone(), Arc::clone(&gate));
        tokio::spawn(async move {
            AssertUnwindSafe(cache.get_or_load(1, async move {
                gate.notified().await;
                1 // odd: the closure panics
            }))
            .catch_unwind()
            .await
            .is_err()
        })
    };
    settle().await;
    let waiter = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.get_or_load(1, async { 2 }).await })
    };
    settle().await;
    gate.notify_one();
    assert!(done(leader).await, "the leader's caller got the panic");
    assert_eq!(
        done(waiter).await,
        2,
        "the waiter loaded with its own future"
    );
    assert_eq!(cache.get(&1), Some(2));
}
