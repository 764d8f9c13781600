//! The plain operations of `AsyncCache`: construction, builder errors, reads, writes, TTL, metrics.

use std::sync::Arc;
use std::time::Duration;

use cache_core::clock::ManualClock;
use cache_core::{AsyncCache, BuildError, Policy};

#[test]
fn new_is_lru_without_expiry() {
    let cache: AsyncCache<u64, u64> = AsyncCache::new(10);
    assert_eq!(cache.maxsize(), 10);
    assert_eq!(cache.policy(), Policy::Lru);
    assert_eq!(cache.default_ttl(), None);
    assert!(cache.is_empty());
    assert_eq!(cache.len(), 0);
}

#[test]
#[should_panic(expected = "maxsize must be at least 1")]
fn new_with_zero_panics_with_a_clear_message() {
    let _ = AsyncCache::<u64, u64>::new(0);
}

#[test]
fn builder_refuses_bad_settings_with_clear_errors() {
    let err = |b: cache_core::CacheBuilder<u64, u64>| b.build().unwrap_err();
    assert_eq!(err(AsyncCache::builder()), BuildError::MissingMaxsize);
    assert_eq!(
        err(AsyncCache::builder().maxsize(0)),
        BuildError::ZeroMaxsize
    );
    assert_eq!(
        err(AsyncCache::builder().maxsize(5).shards(0)),
        BuildError::ZeroShards
    );
    assert_eq!(
        err(AsyncCache::builder().maxsize(5).shards(6)),
        BuildError::TooManyShards {
            shards: 6,
            maxsize: 5
        }
    );
    assert_eq!(
        err(AsyncCache::builder().maxsize(5).max_batch_size(0)),
        BuildError::ZeroBatchSize
    );
    assert_eq!(
        err(AsyncCache::builder().maxsize(5).ttl(Duration::ZERO)),
        BuildError::ZeroTtl
    );
    assert!(matches!(
        err(AsyncCache::builder().maxsize(usize::MAX).shards(1)),
        BuildError::ShardTooLarge { .. }
    ));
    // Messages say what to do.
    assert!(BuildError::ZeroMaxsize.to_string().contains("at least 1"));
    assert!(BuildError::MissingMaxsize
        .to_string()
        .contains(".maxsize(n)"));
    assert!(BuildError::ZeroTtl.to_string().contains("leave it unset"));
    let e: Box<dyn std::error::Error> = Box::new(BuildError::ZeroShards);
    assert!(e.to_string().contains("shards"));
}

#[test]
fn builder_settings_are_reported_back() {
    let cache: AsyncCache<u64, u64> = AsyncCache::builder()
        .maxsize(1000)
        .policy(Policy::Lfu)
        .ttl(Duration::from_secs(3))
        .shards(4)
        .batch_window(Duration::from_millis(1))
        .max_batch_size(7)
        .build()
        .unwrap();
    assert_eq!(cache.maxsize(), 1000);
    assert_eq!(cache.policy(), Policy::Lfu);
    assert_eq!(cache.default_ttl(), Some(Duration::from_secs(3)));
    assert_eq!(cache.shards(), 4);
    assert_eq!(cache.metrics().maxsize, 1000);
}

/// `batch_window` and `max_batch_size` have no getters: checked by what they do. Ten concurrent loads make two
/// batch-loader calls of at most 7 keys, and a load waits the 1 ms window, not the default 5 ms (paused time
/// jumps straight to the window's end).
#[tokio::test(start_paused = true)]
async fn batch_settings_take_effect() {
    let calls = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&calls);
    let cache: AsyncCache<u64, u64> = AsyncCache::builder()
        .maxsize(1000)
        .batch_window(Duration::from_millis(1))
        .max_batch_size(7)
        .batch_loader(move |keys: Vec<u64>| {
            seen.lock().unwrap().push(keys.len());
            async move { keys.into_iter().map(|k| (k, k * 2)).collect::<Vec<_>>() }
        })
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let loads: Vec<_> = (0..10u64)
        .map(|k| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.load(k).await })
        })
        .collect();
    for (k, load) in (0..10u64).zip(loads) {
        assert_eq!(load.await.unwrap(), Some(k * 2));
    }
    let mut sizes = calls.lock().unwrap().clone();
    sizes.sort_unstable();
    assert_eq!(sizes, [3, 7], "max_batch_size(7) splits 10 keys");
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(1) && waited < Duration::from_millis(5),
        "batch_window(1 ms): waited {waited:?}"
    );
}

#[test]
fn small_caches_get_one_shard_by_default() {
    assert_eq!(AsyncCache::<u64, u64>::new(1000).shards(), 1);
    assert!(AsyncCache::<u64, u64>::new(1_000_000)
        .shards()
        .is_power_of_two());
}

#[test]
fn policy_parses_and_displays() {
    assert_eq!("lru".parse::<Policy>().unwrap(), Policy::Lru);
    assert_eq!("LfU".parse::<Policy>().unwrap(), Policy::Lfu);
    let e = "arc".parse::<Policy>().unwrap_err();
    assert!(e.to_string().contains("\"arc\""), "{e}");
    assert_eq!(Policy::Lfu.to_string(), "lfu");
    assert_eq!(format!("{}", Policy::Lru), "lru");
    assert_eq!(Policy::default(), Policy::Lru);
}

#[test]
fn get_peek_contains_insert_remove() {
    let cache = AsyncCache::new(4);
    cache.insert("a".to_string(), 1);
    assert_eq!(cache.get("a"), Some(1));
    assert_eq!(cache.peek("a"), Some(1));
    assert!(cache.contains_key("a"));
    assert!(!cache.contains_key("b"));
    cache.insert("a".to_string(), 2);
    assert_eq!(cache.get("a"), Some(2));
    assert_eq!(cache.len(), 1);
    assert_eq!(cache.remove("a"), Some(2));
    assert_eq!(cache.remove("a"), None);
    assert_eq!(cache.get("a"), None);
    assert!(cache.is_empty());
}

#[test]
fn clones_share_one_store() {
    let a = AsyncCache::new(4);
    let b = a.clone();
    a.insert(1u8, 1u8);
    assert_eq!(b.get(&1), Some(1));
    b.clear();
    assert!(a.is_empty());
}

#[test]
fn peek_and_contains_do_not_refresh_or_count() {
    let cache = AsyncCache::builder().maxsize(2).shards(1).build().unwrap();
    cache.insert(1u32, ());
    cache.insert(2u32, ());
    assert!(cache.peek(&1).is_some());
    assert!(cache.contains_key(&1));
    cache.insert(3, ()); // 1 is still the least recently used
    assert!(!cache.contains_key(&1));
    let m = cache.metrics();
    assert_eq!((m.hits, m.misses), (0, 0));
}

#[test]
fn metrics_count_hits_misses_evictions_and_clear_resets_them() {
    let cache = AsyncCache::builder().maxsize(2).shards(1).build().unwrap();
    assert!(cache.metrics().hit_rate().abs() < f64::EPSILON);
    cache.insert(1u32, 1u32);
    cache.insert(2, 2);
    cache.insert(3, 3);
    cache.get(&3);
    cache.get(&3);
    cache.get(&1);
    let m = cache.metrics();
    assert_eq!(
        (m.hits, m.misses, m.evictions, m.size, m.maxsize),
        (2, 1, 1, 2, 2)
    );
    assert!((m.hit_rate() - 2.0 / 3.0).abs() < 1e-9);
    cache.clear();
    assert_eq!(cache.metrics(), AsyncCache::<u32, u32>::new(2).metrics());
    assert!(cache.is_empty());
}

#[tokio::test(start_paused = true)]
async fn default_ttl_follows_paused_tokio_time() {
    let cache = AsyncCache::builder()
        .maxsize(10)
        .ttl(Duration::from_secs(10))
        .build()
        .unwrap();
    cache.insert("k", 1);
    tokio::time::advance(Duration::from_secs(9)).await;
    assert_eq!(cache.get("k"), Some(1));
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(cache.get("k"), None, "expired at exactly the TTL");
    assert_eq!(cache.peek("k"), None);
    let m = cache.metrics();
    assert_eq!((m.hits, m.misses, m.expirations), (1, 1, 1));
}

#[test]
fn per_entry_ttl_overrides_the_default_and_none_never_expires() {
    let clock = ManualClock::new();
    let cache = AsyncCache::builder()
        .maxsize(10)
        .ttl(Duration::from_secs(10))
        .clock(clock.clone())
        .build()
        .unwrap();
    cache.insert("default", 0);
    cache.insert_with_ttl("short", 1, Some(Duration::from_secs(1)));
    cache.insert_with_ttl("forever", 2, None);
    clock.advance(Duration::from_secs(1));
    assert!(!cache.contains_key("short"));
    assert!(cache.contains_key("default"));
    clock.advance(Duration::from_secs(1_000_000));
    assert!(!cache.contains_key("default"));
    assert_eq!(cache.get("forever"), Some(2));
    // Overwriting replaces the deadline too.
    cache.insert_with_ttl("forever", 3, Some(Duration::from_secs(1)));
    clock.advance(Duration::from_secs(1));
    assert_eq!(cache.get("forever"), None);
}

#[test]
fn expired_entries_are_evicted_before_live_ones() {
    let clock = ManualClock::new();
    let cache = AsyncCache::builder()
        .maxsize(3)
        .shards(1)
        .clock(clock.clone())
        .build()
        .unwrap();
    cache.insert_with_ttl(1u32, (), Some(Duration::from_secs(1)));
    cache.insert(2, ());
    cache.insert(3, ());
    cache.get(&1);
    clock.advance(Duration::from_secs(1));
    cache.insert(4, ());
    assert!(cache.contains_key(&2) && cache.contains_key(&3) && cache.contains_key(&4));
    let m = cache.metrics();
    assert_eq!((m.evictions, m.expirations), (0, 1));
}

#[test]
fn expired_entries_are_reclaimed_without_reads() {
    let clock = ManualClock::new();
    let cache = AsyncCache::builder()
        .maxsize(1000)
        .shards(1)
        .ttl(Duration::from_secs(1))
        .clock(clock.clone())
        .build()
        .unwrap();
    for k in 0..100u32 {
        cache.insert(k, k);
    }
    clock.advance(Duration::from_secs(1));
    // Writes reclaim a few expired entries each...
    for k in 1000..1010u32 {
        cache.insert_with_ttl(k, k, None);
    }
    assert!(cache.len() < 110, "writes reclaimed some: {}", cache.len());
    // ...and purge_expired reclaims the rest.
    let purged = cache.purge_expired();
    assert_eq!(cache.len(), 10);
    assert_eq!(cache.metrics().expirations, 100);
    assert!(purged > 0);
    assert_eq!(cache.purge_expired(), 0);
}

#[test]
fn remove_of_an_expired_entry_returns_none() {
    let clock = ManualClock::new();
    let cache = AsyncCache::builder()
        .maxsize(4)
        .clock(clock.clone())
        .build()
        .unwrap();
    cache.insert_with_ttl(1u8, 1u8, Some(Duration::from_secs(1)));
    clock.advance(Duration::from_secs(2));
    assert_eq!(cache.remove(&1), None);
    assert!(cache.is_empty());
}

#[test]
fn multi_shard_cache_never_exceeds_maxsize() {
    let cache = AsyncCache::builder()
        .maxsize(100)
        .shards(8)
        .build()
        .unwrap();
    for k in 0..10_000u32 {
        cache.insert(k, k);
        assert!(cache.len() <= 100);
    }
    assert_eq!(cache.len(), 100, "every shard fills to its share");
    assert_eq!(cache.metrics().evictions, 10_000 - 100);
}

#[test]
fn huge_ttl_does_not_overflow() {
    let cache = AsyncCache::builder().maxsize(4).build().unwrap();
    cache.insert_with_ttl(1u8, 1u8, Some(Duration::MAX));
    assert_eq!(cache.get(&1), Some(1));
}

#[test]
fn retain_removes_what_the_predicate_refuses() {
    // Room to spare in every shard, so nothing is evicted while filling.
    let cache = AsyncCache::builder()
        .maxsize(100_000)
        .shards(4)
        .build()
        .unwrap();
    for k in 0..1000u32 {
        cache.insert(k, k);
    }
    assert_eq!(cache.retain(|k, v| k % 3 == 0 && v == k), 666);
    assert_eq!(cache.len(), 334);
    for k in 0..1000u32 {
        assert_eq!(cache.peek(&k).is_some(), k % 3 == 0, "key {k}");
    }
    let m = cache.metrics();
    assert_eq!((m.evictions, m.expirations), (0, 0));
}
