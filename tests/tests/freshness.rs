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
    assert_eq!(cache.get_or_load_with_ttl(1, Some(S(5)), async { 10 }).await, 10);
    assert_eq!(cache.get_or_load_with_ttl(2, None, async { 20 }).await, 20);
    assert_eq!(cache.get_or_load(3, async { 30 }).await, 30);
    advance(S(4)).await;
    assert_eq!(cache.get(&1), Some(10));
    advance(S(2)).await; // 6 s: past the 5 s TTL
    assert_eq!(cache.get(&1), None);
    advance(S(55)).await; // 61 s: past the default
    assert_eq!(cache.get(&3), None);
    assert_eq!(cache.get(&2), Some(20), "None never expires, whatever the default");
    advance(S(1_000_000)).await;
    assert_eq!(cache.get(&2), Some(20));
}

#[tokio::test(start_paused = true)]
async fn load_with_ttl_on_a_cache_without_default_ttl() {
    let cache = ttl_cache(None);
    assert_eq!(cache.get_or_load_with_ttl(1, Some(S(5)), async { 10 }).await, 10);
    advance(S(5)).await;
    assert_eq!(cache.get(&1), None);
    // After expiry the next call loads again.
    assert_eq!(cache.get_or_load_with_ttl(1, Some(S(5)), async { 11 }).await, 11);
    assert_eq!(cache.metrics().expirations, 1);
}

#[tokio::test(start_paused = true)]
async fn try_load_with_ttl_stores_ok_with_its_ttl_and_never_errors() {
    let cache = ttl_cache(Some(S(60)));
    let ok: Result<u64, &str> = cache.try_get_or_load_with_ttl(1, Some(S(5)), async { Ok(10) }).await;
    assert_eq!(ok, Ok(10));
    let never: Result<u64, &str> = cache.try_get_or_load_with_ttl(2, None, async { Ok(20) }).await;
    assert_eq!(never, Ok(20));
    let err: Result<u64, &str> = cache.try_get_or_load_with_ttl(3, None, async { Err("down") }).await;
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
    assert_eq!(cache.get(&1), None, "the hit did not extend the entry's TTL");
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
