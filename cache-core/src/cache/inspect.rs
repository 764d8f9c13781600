//! What a cache holds and how it was built: sizes, settings, metrics.

use std::time::Duration;

use super::AsyncCache;
use crate::metrics::Metrics;
#[cfg(doc)]
use crate::CacheBuilder;
use crate::Policy;
use crate::{CacheKey, CacheValue};

impl<K, V> AsyncCache<K, V>
where
    K: CacheKey,
    V: CacheValue,
{
    /// How many entries are stored, counting expired ones not yet reclaimed. Never more than `maxsize`.
    ///
    /// ```
    /// use cache_core::AsyncCache;
    ///
    /// let cache = AsyncCache::new(2);
    /// for i in 0..5 {
    ///     cache.insert(i, i);
    /// }
    /// assert_eq!(cache.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.shards.each().map(|s| s.store.len()).sum()
    }

    /// Whether no entry is stored (expired entries not yet reclaimed count as stored, as in
    /// [`len`](Self::len)).
    ///
    /// ```
    /// use cache_core::AsyncCache;
    ///
    /// let cache = AsyncCache::<u64, u64>::new(2);
    /// assert!(cache.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most entries the cache holds, as built.
    ///
    /// ```
    /// let cache = cache_core::AsyncCache::<u64, u64>::new(500);
    /// assert_eq!(cache.maxsize(), 500);
    /// ```
    pub fn maxsize(&self) -> usize {
        self.inner.config.maxsize
    }

    /// The most total weight the cache holds, for a cache built with a [`weigher`](CacheBuilder::weigher);
    /// `None` without one.
    ///
    /// ```
    /// use cache_core::AsyncCache;
    ///
    /// let cache = AsyncCache::<u64, String>::builder()
    ///     .maxsize(100)
    ///     .weigher(|_, v: &String| v.len() as u32)
    ///     .max_weight(4_096)
    ///     .build()?;
    /// assert_eq!(cache.max_weight(), Some(4_096));
    /// assert_eq!(AsyncCache::<u64, u64>::new(10).max_weight(), None);
    /// # Ok::<(), cache_core::BuildError>(())
    /// ```
    pub fn max_weight(&self) -> Option<u64> {
        self.inner.config.max_weight
    }

    /// What the stored entries weigh together by the [`weigher`](CacheBuilder::weigher) (counting expired ones
    /// not yet reclaimed, as [`len`](Self::len) does); 0 for a cache without one. Never more than
    /// [`max_weight`](Self::max_weight).
    ///
    /// ```
    /// use cache_core::AsyncCache;
    ///
    /// let cache = AsyncCache::<u64, String>::builder()
    ///     .maxsize(100)
    ///     .weigher(|_, v: &String| v.len() as u32)
    ///     .max_weight(4_096)
    ///     .build()?;
    /// cache.insert(1, "abc".to_string());
    /// cache.insert(2, "de".to_string());
    /// assert_eq!(cache.weight(), 5);
    /// cache.insert(1, "a".to_string()); // replaced: the total moves by the difference
    /// assert_eq!(cache.weight(), 3);
    /// # Ok::<(), cache_core::BuildError>(())
    /// ```
    pub fn weight(&self) -> u64 {
        self.inner.shards.each().map(|s| s.store.weight()).sum()
    }

    /// The name given to [`CacheBuilder::name`], if any.
    ///
    /// ```
    /// use cache_core::AsyncCache;
    ///
    /// let named = AsyncCache::<u64, u64>::builder().maxsize(10).name("users").build()?;
    /// assert_eq!(named.name(), Some("users"));
    /// assert_eq!(AsyncCache::<u64, u64>::new(10).name(), None);
    /// # Ok::<(), cache_core::BuildError>(())
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.inner.config.name.as_deref()
    }

    /// The eviction policy, as built.
    ///
    /// ```
    /// use cache_core::{AsyncCache, Policy};
    ///
    /// let cache = AsyncCache::<u64, u64>::builder().maxsize(10).policy(Policy::Lfu).build()?;
    /// assert_eq!(cache.policy(), Policy::Lfu);
    /// # Ok::<(), cache_core::BuildError>(())
    /// ```
    pub fn policy(&self) -> Policy {
        self.inner.config.policy
    }

    /// The default TTL, `None` when entries never expire by default.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::AsyncCache;
    ///
    /// let cache = AsyncCache::<u64, u64>::builder().maxsize(10).ttl(Duration::from_secs(5)).build()?;
    /// assert_eq!(cache.default_ttl(), Some(Duration::from_secs(5)));
    /// assert_eq!(AsyncCache::<u64, u64>::new(10).default_ttl(), None);
    /// # Ok::<(), cache_core::BuildError>(())
    /// ```
    pub fn default_ttl(&self) -> Option<Duration> {
        self.inner.config.ttl
    }

    /// How many shards the cache is split into: what [`CacheBuilder::shards`] asked for, or the default.
    ///
    /// ```
    /// use cache_core::AsyncCache;
    ///
    /// let cache = AsyncCache::<u64, u64>::builder().maxsize(10_000).shards(4).build()?;
    /// assert_eq!(cache.shards(), 4);
    /// assert_eq!(AsyncCache::<u64, u64>::new(100).shards(), 1); // small caches: one shard
    /// # Ok::<(), cache_core::BuildError>(())
    /// ```
    pub fn shards(&self) -> usize {
        self.inner.shards.count()
    }
    /// A snapshot of the counters: exact once the operations it counts have finished. Counting adds no
    /// shared-counter contention to hits.
    ///
    /// ```
    /// use cache_core::AsyncCache;
    ///
    /// let cache = AsyncCache::new(10);
    /// cache.insert(1, 10);
    /// cache.get(&1);
    /// cache.get(&2);
    /// let m = cache.metrics();
    /// assert_eq!((m.hits, m.misses, m.size, m.maxsize), (1, 1, 1, 10));
    /// assert_eq!(m.hit_rate(), 0.5);
    /// ```
    pub fn metrics(&self) -> Metrics {
        let mut m = Metrics {
            maxsize: self.inner.config.maxsize,
            max_weight: self.inner.config.max_weight,
            ..Metrics::default()
        };
        for mut shard in self.inner.shards.each() {
            let c = crate::sharded::counters(&mut shard);
            m.hits += c.hits;
            m.misses += c.misses;
            m.evictions += c.evictions;
            m.expirations += c.expirations;
            m.oversized += c.oversized;
            m.size += shard.store.len();
            m.weight += shard.store.weight();
        }
        m.listener_panics = self.inner.shards.listener_panics();
        let loads = self.inner.loads.lock();
        m.loads = loads.loads;
        m.load_failures = loads.failures;
        m.load_time = loads.time;
        m.refreshes = loads.refreshes;
        m.refresh_failures = loads.refresh_failures;
        m
    }
}
