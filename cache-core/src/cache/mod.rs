//! The [`AsyncCache`] handle and its plain (synchronous) operations.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::batch::{BatchConfig, Batcher};
use crate::hooks::Hooks;
use crate::metrics::LoadStats;
#[cfg(doc)]
use crate::metrics::Metrics;
use crate::reaper::Reaper;
use crate::sharded::Sharded;
use crate::timebase::Timebase;
use crate::{CacheBuilder, Policy};
use crate::{CacheKey, CacheValue};

/// The settings a cache was built with.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) maxsize: usize,
    pub(crate) shards: usize,
    /// `.shards(1)` was asked for: one shard with one stripe, so that every thread's reads reach the policy in
    /// the one order they took the lock (see [`CacheBuilder::shards`]).
    pub(crate) exact_order: bool,
    pub(crate) policy: Policy,
    pub(crate) ttl: Option<Duration>,
    /// How old a value may get before a hit starts its refresh (see [`CacheBuilder::refresh_after`]).
    pub(crate) refresh_after: Option<Duration>,
    /// The most total weight, for a cache with a weigher (see [`CacheBuilder::max_weight`]).
    pub(crate) max_weight: Option<u64>,
    /// The seed of the hasher of keys, `None` for a random one (see [`CacheBuilder::hasher_seed`]).
    pub(crate) seed: Option<u64>,
    /// The cache's name ([`CacheBuilder::name`]).
    pub(crate) name: Option<String>,
}

pub(crate) struct Inner<K, V> {
    pub(crate) shards: Sharded<K, V>,
    pub(crate) time: Timebase,
    pub(crate) config: Config,
    pub(crate) loads: Mutex<LoadStats>,
    pub(crate) batcher: Batcher<K, V>,
    /// For the caches of cached methods: removes the entries of dropped instances.
    pub(crate) reaper: Option<Reaper<K>>,
    /// The user's callbacks (`expire_after`).
    pub(crate) hooks: Hooks<K, V>,
    /// The shared second tier (feature `redis`), if the builder was given one.
    pub(crate) tier: Option<Arc<dyn crate::tier::Tier<K, V>>>,
    /// What [`AsyncCache::export_metrics`] exported last.
    #[cfg(feature = "metrics")]
    pub(crate) exported: Mutex<crate::observe::Exported>,
}

/// A bounded, concurrent, async-aware in-memory cache. Cheap to clone: clones share one store.
///
/// * **Bounded**: never more than [`maxsize`](Self::maxsize) entries; a full cache evicts by its [`Policy`]
///   (LRU, LFU or TinyLFU), expired entries first.
/// * **TTL**: a default TTL from the builder, per-entry overrides with [`insert_with_ttl`](Self::insert_with_ttl).
///   An expired entry is never returned (a hit may notice an expiry a little late: the bound is on
///   [`TokioClock`](crate::clock::TokioClock)), and expired entries are reclaimed on writes and by
///   [`purge_expired`](Self::purge_expired) without anyone reading them.
/// * **Concurrent**: keys are spread over independently locked shards; no lock is ever held across an `.await`
///   and the plain operations never block on I/O. The keys' `Hash` and `Eq` and the values' `Clone` run under a
///   shard's lock, so they must not use the same cache (a lookup from inside one may wait forever). Keys and
///   values are dropped only after every lock is released, so their `Drop` may use the cache.
/// * **Loading**: [`get_or_load`](Self::get_or_load) and friends run at most one load per key at a time, and
///   survive cancelled and panicking loaders (see the crate docs, "Loading guarantees").
///
/// ```
/// use cache_core::AsyncCache;
///
/// let cache = AsyncCache::new(2);
/// cache.insert("a".to_string(), 1);
/// cache.insert("b".to_string(), 2);
/// assert_eq!(cache.get("a"), Some(1)); // borrowed lookup, no allocation
/// cache.insert("c".to_string(), 3); // evicts "b", the least recently used
/// assert!(!cache.contains_key("b"));
/// assert_eq!(cache.metrics().evictions, 1);
/// ```
///
/// # Panics
/// The cache itself panics on no input. The user code it calls may panic: the keys' `Hash` and `Eq`, the
/// values' `Clone`, the keys' and values' `Drop` (and loaders: see [`get_or_load`](Self::get_or_load)). Such a
/// panic reaches the caller of the operation that ran the code, and leaves the cache consistent and usable: the
/// size bound holds, the metrics add up, every other key keeps its value and no later operation panics for it.
/// * **`Hash` or `Eq`**: every step an operation is made of (an insertion, a removal, an eviction, the
///   reclaiming of one expired entry) happens entirely or not at all; the steps before the panic stay done.
///   A `get` whose `Hash` or `Eq` panics counts nothing.
/// * **`Clone`**: a lookup whose value's `Clone` panics counts as neither a hit nor a miss and does not refresh
///   the entry.
/// * **`Drop`**: the operation is complete before anything is dropped (an insert has stored its value, `clear`
///   has emptied every shard and reset the metrics, `retain` and `purge_expired` have visited every shard).
///   Every other key and value it let go of is still dropped, then the first panic is passed on. (On a thread
///   that is already unwinding, further `Drop` panics are swallowed, as a second panic would abort.)
///
/// ```
/// use std::panic::{catch_unwind, AssertUnwindSafe};
///
/// #[derive(Clone)]
/// struct Touchy(u32);
/// impl Drop for Touchy {
///     fn drop(&mut self) {
///         if self.0 == 1 {
///             panic!("dropping 1");
///         }
///     }
/// }
///
/// let cache = cache_core::AsyncCache::new(10);
/// cache.insert("one", Touchy(1));
/// cache.insert("two", Touchy(2));
/// // The panic reaches the caller, after the cache was cleared.
/// assert!(catch_unwind(AssertUnwindSafe(|| cache.clear())).is_err());
/// assert!(cache.is_empty());
/// cache.insert("three", Touchy(3));
/// assert_eq!(cache.len(), 1);
/// ```
pub struct AsyncCache<K, V> {
    pub(crate) inner: Arc<Inner<K, V>>,
}

impl<K, V> Clone for AsyncCache<K, V> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<K, V> fmt::Debug for AsyncCache<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.inner.config;
        f.debug_struct("AsyncCache")
            .field("maxsize", &c.maxsize)
            .field("policy", &c.policy)
            .field("ttl", &c.ttl)
            .field("shards", &c.shards)
            .finish_non_exhaustive()
    }
}

impl<K, V> AsyncCache<K, V>
where
    K: CacheKey,
    V: CacheValue,
{
    /// An LRU cache of at most `maxsize` entries that never expire.
    ///
    /// ```
    /// use cache_core::{AsyncCache, Policy};
    ///
    /// let cache: AsyncCache<u64, String> = AsyncCache::new(1_000);
    /// assert_eq!((cache.maxsize(), cache.policy(), cache.default_ttl()), (1_000, Policy::Lru, None));
    /// ```
    ///
    /// # Panics
    /// If `maxsize` is 0. Use [`builder`](Self::builder) to get that as an error instead.
    #[must_use]
    pub fn new(maxsize: usize) -> Self {
        match Self::builder().maxsize(maxsize).build() {
            Ok(cache) => cache,
            Err(e) => panic!("AsyncCache::new({maxsize}): {e}"),
        }
    }

    /// A builder for every setting: maxsize, policy, TTL, shards, batch loading, clock. Invalid settings are a
    /// [`BuildError`](crate::BuildError) from [`build`](CacheBuilder::build), never a panic.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::{AsyncCache, Policy};
    ///
    /// let cache: AsyncCache<u64, u64> = AsyncCache::builder()
    ///     .maxsize(10_000)
    ///     .policy(Policy::TinyLfu)
    ///     .ttl(Duration::from_secs(60))
    ///     .build()?;
    /// assert_eq!(cache.default_ttl(), Some(Duration::from_secs(60)));
    /// # Ok::<(), cache_core::BuildError>(())
    /// ```
    pub fn builder() -> CacheBuilder<K, V> {
        CacheBuilder::default()
    }

    pub(crate) fn from_parts(
        config: Config,
        time: Timebase,
        batch: BatchConfig<K, V>,
        identity: Option<fn(&K) -> u64>,
        hooks: Hooks<K, V>,
        tier: Option<Arc<dyn crate::tier::Tier<K, V>>>,
    ) -> Self {
        let reaper = identity.map(|identity| Reaper::new(identity, config.maxsize));
        let mut shards = Sharded::with_hasher(
            config.maxsize,
            config.max_weight,
            config.shards,
            // `.shards(1)` promises one exact order for all threads, so all threads share one read buffer.
            if config.exact_order {
                1
            } else {
                crate::striped::default_stripes()
            },
            config.policy,
            crate::sharded::hasher(config.seed),
        );
        if let Some(listener) = &hooks.on_evict {
            shards.listen(listener);
        }
        if let Some(after) = config.refresh_after {
            let after = u64::try_from(after.as_nanos()).unwrap_or(crate::store::NEVER);
            for mut shard in shards.each() {
                shard.store.set_refresh_after(after);
            }
        }
        let inner = Arc::new(Inner {
            shards,
            time,
            config,
            loads: Mutex::new(LoadStats::default()),
            batcher: Batcher::new(batch),
            reaper,
            hooks,
            tier,
            #[cfg(feature = "metrics")]
            exported: Mutex::default(),
        });
        if let Some(tier) = &inner.tier {
            tier.attach(Arc::downgrade(&inner));
        }
        if inner.reaper.is_some() {
            crate::reaper::listen(&inner);
        }
        Self { inner }
    }
}

mod inspect;
mod lookup;
mod write;

pub(crate) use lookup::ReadLookup;

#[cfg(test)]
mod tests {
    use super::*;

    fn stripes(cache: &AsyncCache<u64, u64>) -> Vec<(usize, bool)> {
        cache.inner.shards.stripes()
    }

    /// Only `.shards(1)` has one stripe for good (its exact order needs one read buffer), apart from shards too
    /// small for more. Every other shard, including the one a small cache gets by default, has several, which its readers share (stripe 0) until
    /// a reader finds its stripe taken: then they spread, so that hits scale across cores.
    #[test]
    fn only_an_explicit_single_shard_has_a_single_stripe() {
        let striped = crate::striped::default_stripes();
        let small = AsyncCache::<u64, u64>::new(128);
        assert_eq!(small.inner.shards.count(), 1);
        assert_eq!(stripes(&small), [(striped, false)]);
        let exact = AsyncCache::<u64, u64>::builder()
            .maxsize(128)
            .shards(1)
            .build()
            .unwrap();
        assert_eq!(stripes(&exact), [(1, false)]);
        // The default single shard really is striped, unlike `.shards(1)`'s.
        assert_ne!(stripes(&small), stripes(&exact));
        // Eight entries or fewer per stripe would not pay for the stripes: a tiny cache gets one anyway.
        assert_eq!(stripes(&AsyncCache::<u64, u64>::new(8)), [(1, false)]);
        let sharded = AsyncCache::<u64, u64>::builder()
            .maxsize(4_096)
            .shards(2)
            .build()
            .unwrap();
        assert_eq!(stripes(&sharded), [(striped, false), (striped, false)]);
    }
}
