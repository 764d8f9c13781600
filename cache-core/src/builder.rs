//! The cache builder and its validation errors.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::batch::{BatchConfig, BatchFn};
use crate::clock::{Clock, TokioClock};
use crate::timebase::Timebase;
use crate::{AsyncCache, Policy};

/// Each shard should hold at least this many entries when the shard count is chosen automatically: small caches
/// get one shard, and with it one policy over all their keys (striped, so that hits still scale: see
/// [`CacheBuilder::shards`]).
const MIN_AUTO_SHARD_CAPACITY: usize = 512;

/// Configures and builds an [`AsyncCache`]. Start from [`AsyncCache::builder`].
///
/// ```
/// use std::time::Duration;
/// use cache_core::{AsyncCache, Policy};
///
/// let cache: AsyncCache<u64, String> = AsyncCache::builder()
///     .maxsize(10_000)
///     .policy(Policy::Lfu)
///     .ttl(Duration::from_secs(60))
///     .build()?;
/// assert_eq!(cache.maxsize(), 10_000);
/// # Ok::<(), cache_core::BuildError>(())
/// ```
#[must_use = "a builder does nothing until `.build()`"]
pub struct CacheBuilder<K, V> {
    maxsize: Option<usize>,
    max_weight: Option<u64>,
    policy: Policy,
    ttl: Option<Duration>,
    refresh_after: Option<Duration>,
    shards: Option<usize>,
    batch_loader: Option<BatchFn<K, V>>,
    batch_window: Duration,
    max_batch_size: usize,
    /// `None`: the default, [`TokioClock`].
    clock: Option<Arc<dyn Clock>>,
    seed: Option<u64>,
    /// Tests: the cache's time, instead of the one `clock` gives.
    #[cfg(test)]
    test_time: Option<Timebase>,
    /// Set for the caches of cached methods: the identity part of their keys, to drop dead instances' entries.
    pub(crate) reap_identity: Option<fn(&K) -> u64>,
    hooks: crate::hooks::Hooks<K, V>,
    /// The cache's name (in a shared tier's keys).
    name: Option<String>,
    /// Makes the shared tier, given the cache's name (feature `redis`: [`CacheBuilder::redis`]).
    pub(crate) tier: Option<TierMaker<K, V>>,
    _types: PhantomData<fn() -> (K, V)>,
}

/// Makes a cache's shared tier from the cache's name.
pub(crate) type TierMaker<K, V> =
    Box<dyn FnOnce(&str) -> Arc<dyn crate::tier::Tier<K, V>> + Send + Sync>;

impl<K, V> fmt::Debug for CacheBuilder<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheBuilder")
            .field("maxsize", &self.maxsize)
            .field("max_weight", &self.max_weight)
            .field("policy", &self.policy)
            .field("ttl", &self.ttl)
            .field("refresh_after", &self.refresh_after)
            .field("shards", &self.shards)
            .field("batch_loader", &self.batch_loader.is_some())
            .field("batch_window", &self.batch_window)
            .field("max_batch_size", &self.max_batch_size)
            .field("clock", &self.clock)
            .field("hooks", &self.hooks)
            .field("name", &self.name)
            .field("tier", &self.tier.is_some())
            .finish()
    }
}

impl<K, V> Default for CacheBuilder<K, V> {
    fn default() -> Self {
        Self {
            maxsize: None,
            max_weight: None,
            policy: Policy::Lru,
            ttl: None,
            refresh_after: None,
            shards: None,
            batch_loader: None,
            batch_window: Duration::from_millis(5),
            max_batch_size: 100,
            clock: None,
            seed: None,
            #[cfg(test)]
            test_time: None,
            reap_identity: None,
            hooks: crate::hooks::Hooks::default(),
            name: None,
            tier: None,
            _types: PhantomData,
        }
    }
}

impl<K, V> CacheBuilder<K, V> {
    /// The most shards a cache may have (and never more than its `maxsize`: each shard holds at least one
    /// entry). More is a [`BuildError::ShardsOverLimit`]. Each shard costs some memory up front whatever it
    /// holds (`docs/design/sharding.md`).
    ///
    /// ```
    /// use cache_core::{AsyncCache, BuildError, CacheBuilder};
    ///
    /// let too_many = CacheBuilder::<u64, u64>::MAX_SHARDS + 1;
    /// let err = AsyncCache::<u64, u64>::builder().maxsize(1 << 20).shards(too_many).build().unwrap_err();
    /// assert!(matches!(err, BuildError::ShardsOverLimit { .. }));
    /// ```
    pub const MAX_SHARDS: usize = 1_024;
}

impl<K, V> CacheBuilder<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// The most entries the cache holds (required, at least 1). `len()` never exceeds it.
    ///
    /// With several shards (caches of 1,024 entries or more, by default) each shard holds its share and evicts
    /// when *its* share is full, so a sharded cache may start evicting a little before `len()` reaches
    /// `maxsize` (about 0.1 % below at 1M entries over 8 shards). `.shards(1)` evicts only at `maxsize`.
    ///
    /// ```
    /// use cache_core::{AsyncCache, BuildError};
    ///
    /// let cache = AsyncCache::<u64, u64>::builder().maxsize(2).build()?;
    /// (0..10).for_each(|i| cache.insert(i, i));
    /// assert_eq!(cache.len(), 2);
    /// assert_eq!(AsyncCache::<u64, u64>::builder().build().unwrap_err(), BuildError::MissingMaxsize);
    /// assert_eq!(AsyncCache::<u64, u64>::builder().maxsize(0).build().unwrap_err(), BuildError::ZeroMaxsize);
    /// # Ok::<(), BuildError>(())
    /// ```
    pub fn maxsize(mut self, maxsize: usize) -> Self {
        self.maxsize = Some(maxsize);
        self
    }

    /// Weighs each entry (its size in bytes, say), so that the cache is bounded by the total weight of its
    /// entries: set the bound with [`max_weight`](Self::max_weight). One without the other is a [`BuildError`].
    ///
    /// * **Both bounds apply.** [`maxsize`](Self::maxsize) is still required and still bounds the number of
    ///   entries; `max_weight` bounds what they weigh together. A write evicts (expired entries first, then the
    ///   policy's victims, reported as [`EvictionCause::Evicted`](crate::EvictionCause::Evicted)) until the new
    ///   entry fits both. Set `maxsize` to the most entries you expect: it bounds entries of weight 0 (allowed:
    ///   they count toward `maxsize` only) and sizes the policy's bookkeeping.
    /// * **Too heavy to fit.** An entry heavier than `max_weight` (with several shards: than its shard's share,
    ///   `max_weight / shards`, as with `maxsize`) is never stored: the write drops it, and any value its key had,
    ///   counts it in [`Metrics::oversized`](crate::Metrics::oversized), not in `evictions`, and hands it to the
    ///   [`on_evict`](Self::on_evict) listener as `Evicted`. A load still returns it to its callers. Use fewer
    ///   shards (`.shards(1)`) where single entries may weigh that much.
    /// * **Exact totals.** The weigher runs once per stored value, with its key (by `insert`, `insert_with_ttl`
    ///   and every load), and the weight is kept with the entry: replacing a value changes the total by exactly
    ///   the difference, and removals, expiry, `retain` and `clear` take off exactly what was added.
    ///   [`Metrics::weight`](crate::Metrics::weight) and [`AsyncCache::weight`] report the total.
    /// * **Policies.** LRU and LFU evict their usual victims until the entry fits; [`Policy::TinyLfu`] sizes its
    ///   window and main regions (and their adaptation) in weight. An insert that makes its entry heavier counts
    ///   as a use of it before the cache makes room, so under LRU it is never its own victim.
    /// * It runs before any lock is taken, so it may use the cache. If it panics, that value is not stored, the
    ///   cache is left as it was (totals included), and the panic reaches the caller that stored it (for loads:
    ///   as with a panicking [`expire_after`](Self::expire_after)).
    ///
    /// ```
    /// use cache_core::AsyncCache;
    ///
    /// let cache: AsyncCache<String, Vec<u8>> = AsyncCache::builder()
    ///     .maxsize(1_000) // at most 1,000 entries (one shard: under 1,024)
    ///     .weigher(|_key, value: &Vec<u8>| u32::try_from(value.len()).unwrap_or(u32::MAX))
    ///     .max_weight(1_000) // and at most 1,000 bytes of values
    ///     .build()?;
    /// cache.insert("a".into(), vec![0; 600]);
    /// cache.insert("b".into(), vec![0; 300]);
    /// cache.insert("c".into(), vec![0; 300]); // 1,200 > 1,000: evicts "a", the least recently used
    /// assert!(!cache.contains_key("a"));
    /// assert_eq!(cache.metrics().weight, 600);
    /// cache.insert("huge".into(), vec![0; 5_000]); // heavier than max_weight: never stored
    /// assert!(!cache.contains_key("huge"));
    /// assert_eq!(cache.metrics().oversized, 1);
    /// # Ok::<(), cache_core::BuildError>(())
    /// ```
    pub fn weigher<F>(mut self, weigher: F) -> Self
    where
        F: Fn(&K, &V) -> u32 + Send + Sync + 'static,
    {
        self.hooks.weigher = Some(Arc::new(weigher));
        self
    }

    /// The most the entries may weigh together, by the [`weigher`](Self::weigher) (required with it, at least 1
    /// and at least the shard count). With several shards each shard holds its share, `max_weight / shards`.
    ///
    /// ```
    /// use cache_core::{AsyncCache, BuildError};
    ///
    /// let no_weigher = AsyncCache::<u64, String>::builder().maxsize(100).max_weight(4_096).build();
    /// assert_eq!(no_weigher.unwrap_err(), BuildError::MissingWeigher);
    /// ```
    pub fn max_weight(mut self, max_weight: u64) -> Self {
        self.max_weight = Some(max_weight);
        self
    }

    /// The eviction policy (default [`Policy::Lru`]). How to choose: the README's "Choosing a policy".
    ///
    /// ```
    /// use cache_core::{AsyncCache, Policy};
    ///
    /// let cache = AsyncCache::<u64, u64>::builder().maxsize(100).policy("tinylfu".parse()?).build()?;
    /// assert_eq!(cache.policy(), Policy::TinyLfu);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The default time to live of entries stored by `insert` and the loading operations (default: never expire).
    /// Must be more than zero ([`BuildError::ZeroTtl`]); leave it unset for no expiry. An expired entry is never
    /// returned.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::{clock::ManualClock, AsyncCache};
    ///
    /// let clock = ManualClock::new();
    /// let cache = AsyncCache::builder().maxsize(10).ttl(Duration::from_secs(5)).clock(clock.clone()).build()?;
    /// cache.insert("a", 1);
    /// clock.advance(Duration::from_secs(5));
    /// assert_eq!(cache.get("a"), None);
    /// # Ok::<(), cache_core::BuildError>(())
    /// ```
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Stale-while-revalidate: a hit on a value stored `refresh_after` ago or longer returns it at once and starts
    /// **one** background reload of its key, so that callers stop waiting for loads of hot keys.
    ///
    /// * **Who refreshes.** [`get_or_refresh`](AsyncCache::get_or_refresh) and
    ///   [`try_get_or_refresh`](AsyncCache::try_get_or_refresh), with the caller's future, spawned on the current
    ///   tokio runtime (so it must be `Send + 'static`), and cached fns with `refresh_after = secs` in
    ///   `#[async_cache]`, with the fn's body. [`get`](AsyncCache::get), [`peek`](AsyncCache::peek),
    ///   [`get_or_load`](AsyncCache::get_or_load) (whose future may borrow from its caller, so it cannot outlive
    ///   the call), `get_many` and `load` never start a refresh: they return the stale value, which is live.
    /// * **One at a time.** A refresh is a load of the key: it joins the key's single flight, so it never runs
    ///   beside another load of the key, and a caller that misses meanwhile (the value expired) waits for it. Hits
    ///   during a refresh keep getting the old value.
    /// * **Outcome.** A value replaces the old one and restarts its age and its TTL (decided as for any load). An
    ///   error or a panic (caught; counted in [`Metrics::refresh_failures`](crate::Metrics::refresh_failures))
    ///   leaves the old value until its TTL, and the next hit on it starts another refresh. A `remove`,
    ///   `insert` or `clear` during a refresh wins: its value is not stored (as for every load).
    /// * **No runtime, no refresh.** Outside a tokio runtime nothing is spawned: the hit just returns the value.
    /// * **`refresh_after >= ttl`** is allowed: values that expire first are simply never refreshed (a value
    ///   stored with a longer TTL, by [`insert_with_ttl`](AsyncCache::insert_with_ttl) or
    ///   [`expire_after`](Self::expire_after), still is). `Duration::ZERO` is a [`BuildError`].
    /// * **Cost.** A hit on a fresh value reads the same coarse clock as a TTL hit and compares once; a cache
    ///   built without `refresh_after` pays nothing for it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use cache_core::AsyncCache;
    ///
    /// tokio::time::pause();
    /// let cache: AsyncCache<&str, u64> = AsyncCache::builder()
    ///     .maxsize(100)
    ///     .ttl(Duration::from_secs(60))
    ///     .refresh_after(Duration::from_secs(50))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(cache.get_or_refresh("rate", async { 1 }).await, 1);
    /// tokio::time::advance(Duration::from_secs(51)).await;
    /// // Stale: the old value at once, and a reload in the background.
    /// assert_eq!(cache.get_or_refresh("rate", async { 2 }).await, 1);
    /// tokio::task::yield_now().await; // let the reload run
    /// assert_eq!(cache.get(&"rate"), Some(2));
    /// assert_eq!(cache.metrics().refreshes, 1);
    /// # }
    /// ```
    pub fn refresh_after(mut self, refresh_after: Duration) -> Self {
        self.refresh_after = Some(refresh_after);
        self
    }

    /// Decides the TTL of every value stored without an explicit one, from the key and the value (an HTTP
    /// response's max-age, a token's own expiry): by [`insert`](AsyncCache::insert) and by every load
    /// (`get_or_load`, `try_get_or_load`, `get_many`, `load`, `try_load`, `warmup`).
    ///
    /// * `Some(d)`: the value expires `d` after it is stored. `None`: it never expires. `Some(Duration::ZERO)`:
    ///   it is stored already expired (never returned; the caller of a load still gets it).
    /// * It **replaces** the default [`ttl`](Self::ttl): with both set, the default is not used for these
    ///   values. An explicit TTL ([`insert_with_ttl`](AsyncCache::insert_with_ttl),
    ///   [`get_or_load_with_ttl`](AsyncCache::get_or_load_with_ttl),
    ///   [`try_get_or_load_with_ttl`](AsyncCache::try_get_or_load_with_ttl)) still wins: the callback is not
    ///   called for it.
    /// * It runs once per stored value, before any lock is taken, so it may use the cache. If it panics, that
    ///   value is not stored, the cache is left as it was, and the panic reaches the caller that stored it (for
    ///   a load: the caller that ran it, while its waiters retry as after a panicking loader; for `get_many`,
    ///   its caller, after the batch's other values are stored; for a windowed [`load`](AsyncCache::load), the
    ///   key's callers get [`LoadError::Panicked`](crate::LoadError::Panicked) from `try_load`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use cache_core::AsyncCache;
    ///
    /// tokio::time::pause();
    /// // Values carry their own lifetime in seconds; 0 means "keep forever".
    /// let cache: AsyncCache<&str, (String, u64)> = AsyncCache::builder()
    ///     .maxsize(100)
    ///     .expire_after(|_key, (_, max_age)| (*max_age > 0).then(|| Duration::from_secs(*max_age)))
    ///     .build()
    ///     .unwrap();
    /// cache.insert("page", ("<html>".into(), 30));
    /// cache.get_or_load("logo", async { ("<svg>".into(), 0) }).await;
    /// cache.insert_with_ttl("pinned", ("x".into(), 1), None); // explicit: the callback is not asked
    /// tokio::time::advance(Duration::from_secs(31)).await;
    /// assert!(cache.get(&"page").is_none());
    /// assert!(cache.get(&"logo").is_some());
    /// assert!(cache.get(&"pinned").is_some());
    /// # }
    /// ```
    pub fn expire_after<F>(mut self, expire_after: F) -> Self
    where
        F: Fn(&K, &V) -> Option<Duration> + Send + Sync + 'static,
    {
        self.hooks.expire_after = Some(Arc::new(expire_after));
        self
    }

    /// Calls `listener(key, value, cause)` for every entry that leaves the cache: pushed out by the policy
    /// ([`EvictionCause::Evicted`](crate::EvictionCause::Evicted): `len()` was at `maxsize`, including when [`Policy::TinyLfu`] picks an older
    /// entry over a newcomer), expired ([`Expired`](crate::EvictionCause::Expired): reclaimed by a lookup, a write,
    /// `purge_expired` or a full cache making room; also `remove` of an already expired key), removed by
    /// `remove` or `retain` ([`Removed`](crate::EvictionCause::Removed)), replaced by an insert (or a load) of the same
    /// key over a live value ([`Replaced`](crate::EvictionCause::Replaced), with the old value), or dropped by `clear`
    /// ([`Cleared`](crate::EvictionCause::Cleared)). A value that was never stored (a detached load's) is not reported.
    ///
    /// * **Never under a lock.** The call is made after the shard's lock is released, so the listener may use
    ///   the cache (calls it causes are made after it returns). It may be made by another thread that is
    ///   delivering that shard's calls at that moment, so it may come a little after the operation returns.
    /// * **In order.** The calls of one shard (so all the calls for one key) are made one at a time, in the
    ///   order the entries left.
    /// * **Panics** are caught, one call at a time: the entry is gone and counted all the same, the other calls
    ///   are still made, nothing is poisoned, and the panic is counted in
    ///   [`Metrics::listener_panics`](crate::Metrics::listener_panics) instead of reaching a caller (which would be
    ///   whoever happened to deliver the call). The key and value are the listener's to drop.
    /// * `remove` hands the listener the entry and its caller a clone of the value.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use cache_core::{AsyncCache, EvictionCause};
    ///
    /// let log = Arc::new(Mutex::new(Vec::new()));
    /// let seen = Arc::clone(&log);
    /// let cache = AsyncCache::builder()
    ///     .maxsize(2)
    ///     .on_evict(move |k: u32, v: &str, cause| seen.lock().unwrap().push((k, v, cause)))
    ///     .build()
    ///     .unwrap();
    /// cache.insert(1, "a");
    /// cache.insert(1, "b"); // replaces "a"
    /// cache.insert(2, "c");
    /// cache.insert(3, "d"); // full: evicts 1, the least recently used
    /// cache.remove(&2);
    /// assert_eq!(
    ///     *log.lock().unwrap(),
    ///     [(1, "a", EvictionCause::Replaced), (1, "b", EvictionCause::Evicted), (2, "c", EvictionCause::Removed)]
    /// );
    /// ```
    pub fn on_evict<F>(mut self, listener: F) -> Self
    where
        F: Fn(K, V, crate::EvictionCause) + Send + Sync + 'static,
    {
        self.hooks.on_evict = Some(Arc::new(listener));
        self
    }

    /// How many independently locked shards to split the cache into (default: one for caches under 1,024
    /// entries, otherwise up to four per core while each shard keeps at least 512 entries). At least 1, at most
    /// `maxsize` and [`MAX_SHARDS`](Self::MAX_SHARDS), or [`build`](Self::build) refuses it.
    ///
    /// What you may rely on:
    /// * **`.shards(1)`, asked for explicitly**: one exact LRU or LFU order over the whole cache, whatever the
    ///   threads: every `get` and write reaches the policy in the order it took the lock. The price: hits from
    ///   several threads do not scale across cores.
    /// * **Otherwise**: each shard applies the policy to its share of the keys. Within a shard the order is
    ///   exact until two threads first meet on it; from then on each thread's hits reach the policy in that
    ///   thread's order, but hits from different threads may be applied in a different order than they were
    ///   made. In exchange, hits scale across cores.
    ///
    /// How (striped locks, read buffers): `docs/design/sharding.md` and `docs/design/read-path.md`.
    ///
    /// ```
    /// use cache_core::AsyncCache;
    ///
    /// // Exact LRU across threads, e.g. to compare decisions with the `lru` crate.
    /// let cache = AsyncCache::<u64, u64>::builder().maxsize(100_000).shards(1).build()?;
    /// assert_eq!(cache.shards(), 1);
    /// # Ok::<(), cache_core::BuildError>(())
    /// ```
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = Some(shards);
        self
    }

    /// The loader behind [`AsyncCache::load`]: given distinct keys, it returns the values it found; keys it leaves
    /// out are absent and not cached. Never given a key another load is already fetching.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use cache_core::AsyncCache;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), cache_core::BuildError> {
    /// let cache: AsyncCache<u64, String> = AsyncCache::builder()
    ///     .maxsize(1_000)
    ///     .batch_loader(|ids: Vec<u64>| async move {
    ///         // one query for the whole batch: SELECT .. WHERE id IN (..)
    ///         ids.into_iter().filter(|id| *id != 0).map(|id| (id, format!("user-{id}"))).collect::<HashMap<_, _>>()
    ///     })
    ///     .build()?;
    /// let (a, b, none) = tokio::join!(cache.load(1), cache.load(2), cache.load(0)); // one batch-loader call
    /// assert_eq!((a.as_deref(), b.as_deref(), none), (Some("user-1"), Some("user-2"), None));
    /// # Ok(())
    /// # }
    /// ```
    pub fn batch_loader<F, Fut, M>(mut self, loader: F) -> Self
    where
        F: Fn(Vec<K>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = M> + Send + 'static,
        M: IntoIterator<Item = (K, V)> + 'static,
    {
        self.batch_loader = Some(crate::batch::infallible(loader));
        self
    }

    /// A fallible [`batch_loader`](Self::batch_loader): an error reaches every caller of that batch (as `None`
    /// from [`AsyncCache::load`], as the error from [`AsyncCache::try_load`]) and nothing is cached.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use cache_core::AsyncCache;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), cache_core::BuildError> {
    /// let cache: AsyncCache<u64, u64> = AsyncCache::builder()
    ///     .maxsize(100)
    ///     .try_batch_loader(|_ids: Vec<u64>| async {
    ///         Err::<HashMap<u64, u64>, _>(std::io::Error::other("backend down"))
    ///     })
    ///     .build()?;
    /// assert!(cache.try_load(1).await.is_err());
    /// assert!(cache.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn try_batch_loader<F, Fut, M, E>(mut self, loader: F) -> Self
    where
        F: Fn(Vec<K>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<M, E>> + Send + 'static,
        M: IntoIterator<Item = (K, V)> + 'static,
        E: Error + Send + Sync + 'static,
    {
        self.batch_loader = Some(crate::batch::fallible(loader));
        self
    }

    /// How long [`AsyncCache::load`] waits for more keys before calling the batch loader (default 5 ms). The
    /// window starts with the first key of a batch; a full batch ([`max_batch_size`](Self::max_batch_size)) is
    /// sent at once.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::AsyncCache;
    ///
    /// let cache = AsyncCache::<u64, u64>::builder()
    ///     .maxsize(100)
    ///     .batch_loader(|ids: Vec<u64>| async move { ids.into_iter().map(|id| (id, id * 2)).collect::<Vec<_>>() })
    ///     .batch_window(Duration::from_millis(1))
    ///     .build()?;
    /// # Ok::<(), cache_core::BuildError>(())
    /// ```
    pub fn batch_window(mut self, window: Duration) -> Self {
        self.batch_window = window;
        self
    }

    /// The most distinct keys in one batch-loader call (default 100; 0 is [`BuildError::ZeroBatchSize`]). A
    /// full batch is sent at once.
    ///
    /// ```
    /// use cache_core::{AsyncCache, BuildError};
    ///
    /// let err = AsyncCache::<u64, u64>::builder().maxsize(10).max_batch_size(0).build().unwrap_err();
    /// assert_eq!(err, BuildError::ZeroBatchSize);
    /// ```
    pub fn max_batch_size(mut self, size: usize) -> Self {
        self.max_batch_size = size;
        self
    }

    /// The clock used for TTLs and load timing (default [`TokioClock`], whose docs give its exact rule). Any
    /// other clock is read as it is, on every operation that needs the time.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::{clock::ManualClock, AsyncCache};
    ///
    /// let clock = ManualClock::new(); // moves only when told: TTL tests without a runtime or a sleep
    /// let cache = AsyncCache::builder().maxsize(10).clock(clock.clone()).build()?;
    /// cache.insert_with_ttl(1, "a", Some(Duration::from_secs(1)));
    /// clock.advance(Duration::from_secs(1));
    /// assert!(!cache.contains_key(&1));
    /// # Ok::<(), cache_core::BuildError>(())
    /// ```
    pub fn clock(mut self, clock: impl Clock) -> Self {
        let is_default = (&clock as &dyn std::any::Any).is::<TokioClock>();
        self.clock = (!is_default).then(|| Arc::new(clock) as Arc<dyn Clock>);
        self
    }

    /// The cache's name: with a shared tier (feature `redis`, `.redis(tier)`) it names the cache in the tier's
    /// keys, so replicas that build a cache with the same name (and tier namespace) share it. Required with a
    /// tier: 1 to 64 characters, each an ASCII letter, digit, `_`, `-` or `.`.
    ///
    /// ```
    /// let cache = cache_core::AsyncCache::<u64, u64>::builder().maxsize(10).name("users").build()?;
    /// assert_eq!(cache.name(), Some("users"));
    /// # Ok::<(), cache_core::BuildError>(())
    /// ```
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Seeds the hasher of keys with `seed` instead of at random, so that the shards keys land in and the
    /// eviction decisions of [`Policy::TinyLfu`] (whose frequency estimates are indexed by the keys' hashes)
    /// repeat from run to run: for tests and benchmarks that must reproduce. Not for production: whoever knows the
    /// seed can pick keys whose hashes collide.
    #[doc(hidden)]
    pub fn hasher_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Tests: the cache's time, instead of the one [`clock`](Self::clock) gives.
    #[cfg(test)]
    pub(crate) fn timebase(mut self, time: Timebase) -> Self {
        self.test_time = Some(time);
        self
    }

    /// Checks the settings and builds the cache.
    ///
    /// ```
    /// use cache_core::{AsyncCache, BuildError};
    ///
    /// let cache = AsyncCache::<String, u64>::builder().maxsize(100).build()?;
    /// assert_eq!(cache.maxsize(), 100);
    /// let err = AsyncCache::<String, u64>::builder().maxsize(4).shards(8).build().unwrap_err();
    /// assert_eq!(err, BuildError::TooManyShards { shards: 8, maxsize: 4 });
    /// println!("{err}"); // says what to change
    /// # Ok::<(), BuildError>(())
    /// ```
    ///
    /// # Errors
    /// [`BuildError`] when `maxsize` is missing or 0, `shards` is 0, more than `maxsize` or more than
    /// [`MAX_SHARDS`](Self::MAX_SHARDS), a shard would hold more than `u32::MAX - 1` entries, `ttl` or
    /// `refresh_after` is zero, `max_batch_size` is 0, or of `weigher` and `max_weight` only one is set,
    /// `max_weight` is 0 or less than `shards`.
    pub fn build(self) -> Result<AsyncCache<K, V>, BuildError> {
        let maxsize = self.maxsize.ok_or(BuildError::MissingMaxsize)?;
        if maxsize == 0 {
            return Err(BuildError::ZeroMaxsize);
        }
        let max_weight = match (self.hooks.weigher.is_some(), self.max_weight) {
            (_, Some(0)) => return Err(BuildError::ZeroMaxWeight),
            (true, Some(w)) => Some(w),
            (true, None) => return Err(BuildError::MissingMaxWeight),
            (false, Some(_)) => return Err(BuildError::MissingWeigher),
            (false, None) => None,
        };
        let shards = match self.shards {
            Some(0) => return Err(BuildError::ZeroShards),
            Some(n) if n > Self::MAX_SHARDS => {
                return Err(BuildError::ShardsOverLimit {
                    shards: n,
                    limit: Self::MAX_SHARDS,
                })
            }
            Some(n) if n > maxsize => return Err(BuildError::TooManyShards { shards: n, maxsize }),
            Some(n) if max_weight.is_some_and(|w| (n as u64) > w) => {
                return Err(BuildError::TooManyShardsForWeight {
                    shards: n,
                    max_weight: max_weight.unwrap_or_default(),
                })
            }
            Some(n) => n,
            // Each shard gets at least one unit of weight.
            None => max_weight.map_or(auto_shards(maxsize), |w| {
                auto_shards(maxsize).min(1 << w.min(1 << 20).ilog2())
            }),
        };
        if maxsize.div_ceil(shards) >= u32::MAX as usize {
            return Err(BuildError::ShardTooLarge { maxsize, shards });
        }
        if self.ttl == Some(Duration::ZERO) {
            return Err(BuildError::ZeroTtl);
        }
        if self.refresh_after == Some(Duration::ZERO) {
            return Err(BuildError::ZeroRefreshAfter);
        }
        if self.max_batch_size == 0 {
            return Err(BuildError::ZeroBatchSize);
        }
        if let Some(name) = &self.name {
            if !valid_name(name) {
                return Err(BuildError::InvalidName(name.clone()));
            }
        }
        let tier = match (self.tier, &self.name) {
            (Some(make), Some(name)) => Some(make(name)),
            (Some(_), None) => return Err(BuildError::MissingName),
            (None, _) => None,
        };
        let time = self.clock.map_or_else(Timebase::tokio, Timebase::custom);
        #[cfg(test)]
        let time = self.test_time.unwrap_or(time);
        Ok(AsyncCache::from_parts(
            crate::cache::Config {
                maxsize,
                shards,
                exact_order: self.shards == Some(1),
                policy: self.policy,
                ttl: self.ttl,
                refresh_after: self.refresh_after,
                max_weight,
                seed: self.seed,
                name: self.name,
            },
            time,
            BatchConfig {
                loader: self.batch_loader,
                window: self.batch_window,
                max_size: self.max_batch_size,
            },
            self.reap_identity,
            self.hooks,
            tier,
        ))
    }
}

/// A cache name: 1 to 64 ASCII letters, digits, `_`, `-`, `.` (safe inside a shared tier's keys and patterns).
pub(crate) fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn auto_shards(maxsize: usize) -> usize {
    let cores = crate::striped::cpus();
    let wanted = (cores * 4).min(maxsize / MIN_AUTO_SHARD_CAPACITY).max(1);
    // A power of two, rounded down.
    1 << wanted.ilog2()
}

/// Why [`CacheBuilder::build`] refused its settings. `Display` says what to change; new variants may be added.
///
/// ```
/// use std::time::Duration;
/// use cache_core::{AsyncCache, BuildError};
///
/// let err = AsyncCache::<u64, u64>::builder().maxsize(10).ttl(Duration::ZERO).build().unwrap_err();
/// assert_eq!(err, BuildError::ZeroTtl);
/// let _: &dyn std::error::Error = &err;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// `.maxsize(n)` was never called.
    MissingMaxsize,
    /// `.maxsize(0)`: a cache must hold at least one entry.
    ZeroMaxsize,
    /// `.shards(0)`.
    ZeroShards,
    /// More shards than entries: some shard would hold nothing.
    TooManyShards {
        /// The requested shard count.
        shards: usize,
        /// The requested maxsize.
        maxsize: usize,
    },
    /// More shards than [`CacheBuilder::MAX_SHARDS`].
    ShardsOverLimit {
        /// The requested shard count.
        shards: usize,
        /// The most shards a cache may have.
        limit: usize,
    },
    /// A shard would hold `u32::MAX - 1` entries or more; use more shards.
    ShardTooLarge {
        /// The requested maxsize.
        maxsize: usize,
        /// The shard count.
        shards: usize,
    },
    /// `.ttl(Duration::ZERO)`: every entry would be expired on arrival. Leave the TTL unset for no expiry.
    ZeroTtl,
    /// `.refresh_after(Duration::ZERO)`: every hit would start a reload. Leave it unset for no refreshes.
    ZeroRefreshAfter,
    /// `.max_batch_size(0)`.
    ZeroBatchSize,
    /// `.weigher(f)` without `.max_weight(n)`: a weigher needs a bound to weigh against.
    MissingMaxWeight,
    /// `.max_weight(n)` without `.weigher(f)`: nothing would weigh the entries.
    MissingWeigher,
    /// `.max_weight(0)`: no entry of any weight would fit. (An entry may weigh 0, but the bound must be at least 1.)
    ZeroMaxWeight,
    /// More shards than units of weight: some shard would hold no weight.
    TooManyShardsForWeight {
        /// The requested shard count.
        shards: usize,
        /// The requested max_weight.
        max_weight: u64,
    },
    /// A shared tier (`.redis(tier)`) without `.name(..)`: the name is part of the tier's keys.
    MissingName,
    /// `.name(..)` is empty, longer than 64 characters, or has a character other than an ASCII letter, digit,
    /// `_`, `-` or `.`.
    InvalidName(String),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingMaxsize => {
                f.write_str("cache maxsize is not set: call `.maxsize(n)` with n >= 1")
            }
            Self::ZeroMaxsize => f.write_str("cache maxsize must be at least 1, got 0"),
            Self::ZeroShards => f.write_str("cache shards must be at least 1, got 0"),
            Self::TooManyShards { shards, maxsize } => write!(
                f,
                "cache shards ({shards}) must not exceed maxsize ({maxsize}): every shard needs room for an entry"
            ),
            Self::ShardsOverLimit { shards, limit } => write!(
                f,
                "cache shards ({shards}) must be at most {limit}: more shards only cost memory"
            ),
            Self::ShardTooLarge { maxsize, shards } => write!(
                f,
                "cache maxsize {maxsize} over {shards} shard(s) puts 2^32 - 1 or more entries in one shard: use more shards"
            ),
            Self::ZeroTtl => f.write_str(
                "cache ttl must be more than zero; leave it unset for entries that never expire",
            ),
            Self::ZeroRefreshAfter => f.write_str(
                "cache refresh_after must be more than zero; leave it unset for no background refreshes",
            ),
            Self::ZeroBatchSize => f.write_str("max_batch_size must be at least 1, got 0"),
            Self::MissingMaxWeight => f.write_str(
                "cache has a weigher but no max_weight: call `.max_weight(n)` with n >= 1",
            ),
            Self::MissingWeigher => f.write_str(
                "cache max_weight is set without a weigher: call `.weigher(|key, value| weight)`",
            ),
            Self::ZeroMaxWeight => f.write_str("cache max_weight must be at least 1, got 0"),
            Self::TooManyShardsForWeight { shards, max_weight } => write!(
                f,
                "cache shards ({shards}) must not exceed max_weight ({max_weight}): every shard needs some weight"
            ),
            Self::MissingName => f.write_str(
                "a cache with a shared tier needs a name: call `.name(\"...\")` (it is part of the tier's keys)",
            ),
            Self::InvalidName(name) => write!(
                f,
                "cache name {name:?} is invalid: use 1 to 64 ASCII letters, digits, `_`, `-` or `.`"
            ),
        }
    }
}

impl Error for BuildError {}
