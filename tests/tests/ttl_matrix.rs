//! Issue 13: every freshness option (`ttl`, `expire_after`, `refresh_after`, `weigher` + `max_weight`,
//! `on_evict`) with every policy, one shard and four, through each way a value gets in: `insert`, `get_or_load`,
//! `get_many` and the batch `load`. Each combination asserts what the option promises, so a path or policy that
//! ignored it would fail. Paused tokio time; the 5 ms batch window of `load` moves the clock a little, so time
//! checks sit half a second either side of a boundary.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cache_core::{AsyncCache, CacheBuilder, EvictionCause, Policy};
use tokio::time::advance;

const MS: fn(u64) -> Duration = Duration::from_millis;
const S: fn(u64) -> Duration = Duration::from_secs;

const POLICIES: [Policy; 3] = [Policy::Lru, Policy::Lfu, Policy::TinyLfu];
const SHARDS: [usize; 2] = [1, 4];

/// The value every path stores for `k`.
fn v(k: u64) -> u64 {
    10 * k + 5
}

fn batch(keys: Vec<u64>) -> Vec<(u64, u64)> {
    keys.into_iter().map(|k| (k, v(k))).collect()
}

/// A builder with the policy, shards and a batch loader (for `load`).
fn builder(policy: Policy, shards: usize, maxsize: usize) -> CacheBuilder<u64, u64> {
    AsyncCache::builder()
        .maxsize(maxsize)
        .policy(policy)
        .shards(shards)
        .batch_loader(|keys: Vec<u64>| async move { batch(keys) })
}

/// Stores `v(k)` for each key, through the four paths in turn; returns the values the calls gave back.
async fn fill(cache: &AsyncCache<u64, u64>, keys: impl IntoIterator<Item = u64>) -> Vec<u64> {
    let mut got = Vec::new();
    for (n, k) in keys.into_iter().enumerate() {
        match n % 4 {
            0 => {
                cache.insert(k, v(k));
                got.push(v(k));
            }
            1 => got.push(cache.get_or_load(k, async move { v(k) }).await),
            2 => {
                let many = cache.get_many([k], |ks| async move { batch(ks) }).await;
                got.push(many[&k]);
            }
            _ => got.push(
                cache
                    .load(k)
                    .await
                    .expect("the batch loader returns every key"),
            ),
        }
    }
    got
}

#[tokio::test(start_paused = true)]
async fn ttl_applies_to_every_path_with_every_policy() {
    for policy in POLICIES {
        for shards in SHARDS {
            let at = format!("{policy}, {shards} shard(s)");
            let cache = builder(policy, shards, 64).ttl(S(10)).build().unwrap();
            assert_eq!(
                fill(&cache, 1..=4).await,
                (1..=4).map(v).collect::<Vec<_>>(),
                "{at}"
            );
            advance(MS(9_500)).await;
            for k in 1..=4 {
                assert_eq!(
                    cache.get(&k),
                    Some(v(k)),
                    "{at}: key {k} live before its TTL"
                );
            }
            advance(S(1)).await;
            for k in 1..=4 {
                assert_eq!(cache.get(&k), None, "{at}: key {k} served past its TTL");
            }
            let m = cache.metrics();
            assert_eq!((m.expirations, m.size), (4, 0), "{at}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn expire_after_decides_the_ttl_on_every_path_with_every_policy() {
    for policy in POLICIES {
        for shards in SHARDS {
            let at = format!("{policy}, {shards} shard(s)");
            // The value is its own TTL in seconds: keys 1..=4 live 15, 25, 35 and 45 s.
            let cache = builder(policy, shards, 64)
                .ttl(S(1_000))
                .expire_after(|_, v: &u64| Some(S(*v)))
                .build()
                .unwrap();
            fill(&cache, 1..=4).await;
            // An explicit TTL wins over `expire_after`.
            let pinned = cache.get_or_load_with_ttl(9, None, async { 1 }).await;
            assert_eq!(pinned, 1);
            let mut now = 0;
            for k in 1..=4u64 {
                let ttl = v(k) * 1_000;
                advance(MS(ttl - 500 - now)).await;
                assert_eq!(cache.peek(&k), Some(v(k)), "{at}: key {k} before its TTL");
                advance(S(1)).await;
                now = ttl + 500;
                assert_eq!(cache.peek(&k), None, "{at}: key {k} after its TTL");
                for later in k + 1..=4 {
                    assert!(cache.contains_key(&later), "{at}: key {later} went early");
                }
            }
            assert_eq!(
                cache.get(&9),
                Some(1),
                "{at}: the explicit `None` never expires"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn refresh_after_reloads_due_values_with_every_policy() {
    for policy in POLICIES {
        for shards in SHARDS {
            let at = format!("{policy}, {shards} shard(s)");
            let cache = builder(policy, shards, 64)
                .ttl(S(60))
                .refresh_after(S(10))
                .build()
                .unwrap();
            fill(&cache, 1..=4).await;
            advance(S(11)).await;
            // `get_many` and `load` return due values without refreshing them.
            let many = cache.get_many([1, 2], |_| async { Vec::new() }).await;
            assert_eq!((many[&1], many[&2]), (v(1), v(2)), "{at}");
            assert_eq!(cache.load(3).await, Some(v(3)), "{at}");
            assert_eq!(cache.metrics().refreshes, 0, "{at}");
            // A due hit through `get_or_load` reloads with the caller's future.
            for k in 1..=4 {
                assert_eq!(
                    cache.get_or_load(k, async move { k + 1_000 }).await,
                    k + 1_000,
                    "{at}"
                );
                assert_eq!(cache.get(&k), Some(k + 1_000), "{at}");
            }
            let m = cache.metrics();
            assert_eq!((m.refreshes, m.refresh_failures, m.size), (4, 0, 4), "{at}");
            // The reloaded values restarted their TTL: live past the first one.
            advance(S(55)).await;
            assert_eq!(cache.peek(&1), Some(1_001), "{at}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn the_weight_bound_holds_on_every_path_with_every_policy() {
    // Weights 10..=70 by key; key 1000 weighs more than any shard's share.
    let weight = |k: &u64| {
        if *k >= 1_000 {
            1_000
        } else {
            (*k % 7 + 1) as u32 * 10
        }
    };
    for policy in POLICIES {
        for shards in SHARDS {
            let at = format!("{policy}, {shards} shard(s)");
            let cache = builder(policy, shards, 64)
                .weigher(move |k, _| weight(k))
                .max_weight(400)
                .build()
                .unwrap();
            fill(&cache, 0..100).await;
            let present: Vec<u64> = (0..100).filter(|k| cache.contains_key(k)).collect();
            let total: u64 = present.iter().map(|k| u64::from(weight(k))).sum();
            let m = cache.metrics();
            assert_eq!(m.weight, total, "{at}: the total is what the entries weigh");
            assert!(
                total <= 400 && total > 400 - 70 * shards as u64,
                "{at}: {total}"
            );
            assert_eq!(m.size, present.len(), "{at}");
            assert!(m.evictions > 0, "{at}");
            // Too heavy to fit: returned, not stored.
            assert_eq!(cache.get_or_load(1_000, async { 1 }).await, 1, "{at}");
            assert!(!cache.contains_key(&1_000), "{at}");
            assert_eq!(cache.metrics().oversized, 1, "{at}");
            assert_eq!(cache.metrics().weight, total, "{at}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn on_evict_accounts_for_every_entry_with_every_policy() {
    type Events = Arc<Mutex<Vec<(u64, u64, EvictionCause)>>>;
    for policy in POLICIES {
        for shards in SHARDS {
            let at = format!("{policy}, {shards} shard(s)");
            let events: Events = Arc::default();
            let seen = Arc::clone(&events);
            let cache = builder(policy, shards, 8)
                .ttl(S(10))
                .on_evict(move |k, v, cause| seen.lock().unwrap().push((k, v, cause)))
                .build()
                .unwrap();
            fill(&cache, 0..40).await;
            let taken = std::mem::take(&mut *events.lock().unwrap());
            let evicted: Vec<u64> = taken.iter().map(|e| e.0).collect();
            assert!(
                taken
                    .iter()
                    .all(|e| e.2 == EvictionCause::Evicted && e.1 == v(e.0)),
                "{at}"
            );
            let present: BTreeSet<u64> = (0..40).filter(|k| cache.contains_key(k)).collect();
            // Every key is either held or was reported evicted, exactly once.
            let mut all: Vec<u64> = evicted
                .iter()
                .copied()
                .chain(present.iter().copied())
                .collect();
            all.sort_unstable();
            assert_eq!(all, (0..40).collect::<Vec<_>>(), "{at}");
            assert_eq!(cache.metrics().evictions, evicted.len() as u64, "{at}");
            // Replaced (twice: `a`, and `c` by its short-lived value), Removed, Expired, Cleared.
            let mut held = present.into_iter();
            let (a, b) = (held.next().unwrap(), held.next().unwrap());
            cache.insert(a, 0);
            assert_eq!(cache.remove(&b), Some(v(b)), "{at}");
            let c = held.next().unwrap();
            cache.insert_with_ttl(c, 7, Some(S(1)));
            advance(S(2)).await;
            assert_eq!(cache.get(&c), None, "{at}");
            let left = cache.len();
            cache.clear();
            let mut causes: BTreeMap<String, usize> = BTreeMap::new();
            for (k, val, cause) in events.lock().unwrap().iter() {
                *causes.entry(format!("{cause:?}")).or_default() += 1;
                match cause {
                    EvictionCause::Replaced => {
                        assert!([(a, v(a)), (c, v(c))].contains(&(*k, *val)), "{at}: {k}");
                    }
                    EvictionCause::Removed => assert_eq!((*k, *val), (b, v(b)), "{at}"),
                    EvictionCause::Expired => assert_eq!((*k, *val), (c, 7), "{at}"),
                    EvictionCause::Cleared => {}
                    other => panic!("{at}: unexpected {other:?} for {k}"),
                }
            }
            let expected: BTreeMap<String, usize> = [
                ("Cleared".to_string(), left),
                ("Expired".to_string(), 1),
                ("Removed".to_string(), 1),
                ("Replaced".to_string(), 2),
            ]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .collect();
            assert_eq!(causes, expected, "{at}");
        }
    }
}
