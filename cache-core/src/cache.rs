//! The [`AsyncCache`] handle and its plain (synchronous) operations.

use std::borrow::Borrow;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::batch::{BatchConfig, Batcher};
use crate::hooks::{Hooks, Terms, Ttl};
use crate::metrics::{LoadStats, Metrics};
use crate::reaper::Reaper;
use crate::sharded::Sharded;
use crate::store::{Entry, Found, Graveyard, NEVER};
use crate::timebase::Timebase;
use crate::{CacheBuilder, Policy};

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
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
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

    /// Keeps only the entries for which `keep` returns `true`; returns how many were removed. Removed entries
    /// count neither as evictions nor as expirations. `keep` runs under a shard lock: it must not use this
    /// cache. If `keep` panics, the entries removed until then stay removed and the others stay.
    ///
    /// ```
    /// let cache = cache_core::AsyncCache::new(10);
    /// for k in 0..6u32 {
    ///     cache.insert(k, k * 10);
    /// }
    /// assert_eq!(cache.retain(|k, _| k % 2 == 0), 3);
    /// assert_eq!(cache.len(), 3);
    /// assert!(cache.contains_key(&4) && !cache.contains_key(&5));
    /// ```
    pub fn retain(&self, mut keep: impl FnMut(&K, &V) -> bool) -> usize {
        let mut removed = 0;
        let mut dead = Graveyard::new();
        for mut shard in self.inner.shards.each() {
            let (s, grave) = shard.split();
            removed += s.store.retain(&mut keep, grave);
            shard.bury_in(&mut dead);
        }
        drop(dead);
        removed
    }

    /// The value for `key` if it is present and live (never an expired one). Counts a hit or a miss and
    /// refreshes the entry for the policy. Never blocks on a load in progress. Looking up a `String` key by
    /// `&str` allocates nothing.
    ///
    /// ```
    /// use cache_core::AsyncCache;
    ///
    /// let cache = AsyncCache::new(100);
    /// cache.insert("a".to_string(), 1);
    /// assert_eq!(cache.get("a"), Some(1)); // a hit, looked up by &str
    /// assert_eq!(cache.get("b"), None);    // a miss
    /// assert_eq!((cache.metrics().hits, cache.metrics().misses), (1, 1));
    /// ```
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.lookup::<Q, true, true>(key)
    }

    /// [`get`](Self::get), counting a hit but not a miss: the fast path of a cached fn, whose miss is counted by
    /// the loading call that follows.
    #[inline]
    pub(crate) fn get_uncounted_miss(&self, key: &K) -> Option<V> {
        self.lookup::<K, true, false>(key)
    }

    /// A refreshing lookup that counts hits if `HITS` and misses if `MISSES`. Whatever it reclaims (an expired
    /// entry) is dropped after the lock is released.
    #[inline]
    fn lookup<Q, const HITS: bool, const MISSES: bool>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.inner.shards.hash(key);
        match self.read_lookup(hash, key, HITS, MISSES) {
            Some(value) => value,
            None => self.lookup_expired::<Q, HITS, MISSES>(hash, key),
        }
    }

    /// The read path of a refreshing lookup, under the read lock. `Some(Some(value))`: a live value, the read
    /// recorded for the policy and counted as a hit if `hits`. `Some(None)`: absent, counted as a miss if
    /// `misses`. `None`: expired, nothing counted (only the exclusive path may reclaim it).
    #[inline]
    pub(crate) fn read_lookup<Q>(
        &self,
        hash: u64,
        key: &Q,
        hits: bool,
        misses: bool,
    ) -> Option<Option<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.shards.read(hash, |shard, local| {
            match shard
                .store
                .find_shared(hash, key, || self.inner.time.now_read())
            {
                Found::Live(slot, value) | Found::Stale(slot, value) => {
                    // Clone first: a `Clone` that panics makes no hit (and records no read).
                    let value = value.clone();
                    local.hit(slot, hits);
                    Some(Some(value))
                }
                Found::Absent => {
                    local.misses += u64::from(misses);
                    Some(None)
                }
                Found::Expired => None,
            }
        })
    }

    /// The read path found `key` expired: reclaiming it takes the exclusive lock (whose lookup counts the miss
    /// and the expiration, or a hit if the key was stored again meanwhile).
    #[cold]
    #[inline(never)]
    fn lookup_expired<Q, const HITS: bool, const MISSES: bool>(
        &self,
        hash: u64,
        key: &Q,
    ) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let now = || self.inner.time.now();
        let mut shard = self.inner.shards.lock(hash);
        let (s, grave) = shard.split();
        s.store
            .lookup::<Q, _, HITS, MISSES>(hash, key, now, grave, V::clone)
    }

    /// The value for `key` if present and live, without counting it in the metrics or refreshing it for the
    /// policy: looking does not change what is evicted next.
    ///
    /// ```
    /// use cache_core::AsyncCache;
    ///
    /// let cache = AsyncCache::new(100);
    /// cache.insert(1, "one");
    /// assert_eq!(cache.peek(&1), Some("one"));
    /// assert_eq!(cache.metrics().hits, 0);
    /// ```
    pub fn peek<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.inner.shards.hash(key);
        self.inner.shards.read(hash, |shard, _| {
            shard
                .store
                .peek(hash, key, || self.inner.time.now_read())
                .cloned()
        })
    }

    /// Whether `key` has a live value. Like [`peek`](Self::peek), it neither counts nor refreshes.
    ///
    /// ```
    /// use cache_core::AsyncCache;
    ///
    /// let cache = AsyncCache::new(100);
    /// cache.insert(1, "one");
    /// assert!(cache.contains_key(&1));
    /// assert!(!cache.contains_key(&2));
    /// ```
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.inner.shards.hash(key);
        self.inner.shards.read(hash, |shard, _| {
            shard
                .store
                .peek(hash, key, || self.inner.time.now_read())
                .is_some()
        })
    }

    /// Stores `value` under `key` with the TTL [`expire_after`](CacheBuilder::expire_after) gives it, or else
    /// the default TTL, replacing any value. A load of `key` in progress is detached: its result goes to its
    /// callers but will not overwrite this value. When the cache is full, the policy evicts an entry (an
    /// expired one first).
    ///
    /// ```
    /// use cache_core::AsyncCache;
    ///
    /// let cache = AsyncCache::new(2);
    /// cache.insert(1, "one");
    /// cache.insert(1, "uno"); // replaces
    /// cache.insert(2, "two");
    /// cache.insert(3, "three"); // evicts the least recently used: 1
    /// assert_eq!(cache.get(&1), None);
    /// assert_eq!(cache.len(), 2);
    /// ```
    ///
    /// With a [`weigher`](CacheBuilder::weigher), a value heavier than its shard's share of
    /// [`max_weight`](CacheBuilder::max_weight) is not stored (and any value `key` had is gone).
    ///
    /// # Panics
    /// If the `expire_after` callback or the weigher panics: then nothing is stored and nothing changes.
    pub fn insert(&self, key: K, value: V) {
        let terms = self.terms_for(Ttl::Default, &key, &value);
        if let Some(tier) = &self.inner.tier {
            tier.inserted(&key, &value, terms.ttl);
        }
        let hash = self.inner.shards.hash(&key);
        self.store(hash, key, value, terms, None);
    }

    /// Stores `value` under `key`: `Some(d)` expires after `d`, `None` never expires, whatever the default TTL
    /// (and without calling [`expire_after`](CacheBuilder::expire_after)). Otherwise as [`insert`](Self::insert).
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::{clock::ManualClock, AsyncCache};
    ///
    /// let clock = ManualClock::new();
    /// let cache = AsyncCache::builder()
    ///     .maxsize(10)
    ///     .ttl(Duration::from_secs(60))
    ///     .clock(clock.clone())
    ///     .build()?;
    /// cache.insert_with_ttl("short", 1, Some(Duration::from_secs(1)));
    /// cache.insert_with_ttl("forever", 2, None);
    /// clock.advance(Duration::from_secs(3_600));
    /// assert_eq!(cache.get("short"), None);
    /// assert_eq!(cache.get("forever"), Some(2));
    /// # Ok::<(), cache_core::BuildError>(())
    /// ```
    ///
    /// # Panics
    /// If the weigher panics: then nothing is stored and nothing changes.
    pub fn insert_with_ttl(&self, key: K, value: V, ttl: Option<Duration>) {
        let terms = self.terms_for(Ttl::Fixed(ttl), &key, &value);
        if let Some(tier) = &self.inner.tier {
            tier.inserted(&key, &value, ttl);
        }
        let hash = self.inner.shards.hash(&key);
        self.store(hash, key, value, terms, None);
    }

    /// How to store `value`: with a fixed TTL as it is, otherwise the TTL `expire_after` says or the default
    /// TTL; with the weight the weigher says. Called before any lock is taken: a panicking `expire_after` or
    /// weigher leaves the cache as it was.
    pub(crate) fn terms_for(&self, ttl: Ttl, key: &K, value: &V) -> Terms {
        let hooks = &self.inner.hooks;
        let ttl = match ttl {
            Ttl::Fixed(ttl) => ttl,
            Ttl::Default => match &hooks.expire_after {
                Some(expire_after) => expire_after(key, value),
                None => self.inner.config.ttl,
            },
        };
        let weight = hooks.weigher.as_ref().map_or(0, |weigh| weigh(key, value));
        Terms { ttl, weight }
    }

    /// Stores a value. With `flight`, only if that flight is still attached (not detached by a remove, clear or
    /// insert); returns whether it stored.
    pub(crate) fn store(
        &self,
        hash: u64,
        key: K,
        value: V,
        terms: Terms,
        flight: Option<&Arc<crate::flight::Flight<V>>>,
    ) -> bool {
        let Terms { ttl, weight } = terms;
        let mut shard = self.inner.shards.lock(hash);
        let (s, grave) = shard.split();
        let attached = match flight {
            Some(f) => s.flights.end(hash, f, grave),
            None => {
                s.flights.detach(hash, &key, grave);
                true
            }
        };
        if attached {
            let now = if ttl.is_some() || s.store.has_deadlines() || s.store.refreshes() {
                self.inner.time.now()
            } else {
                0
            };
            let deadline = ttl.map_or(NEVER, |ttl| Timebase::deadline(now, ttl));
            s.store
                .insert(hash, key, value, deadline, weight, now, grave);
        } else {
            // Not stored: the key and value go with the rest, after the lock is released.
            grave.push(Entry { key, value });
        }
        attached
    }

    /// Removes `key`, returning its value if it was live. A load of `key` in progress is detached: its result
    /// goes to its callers but is not stored, so it cannot bring the entry back.
    ///
    /// ```
    /// use cache_core::AsyncCache;
    ///
    /// let cache = AsyncCache::new(10);
    /// cache.insert("a".to_string(), 1);
    /// assert_eq!(cache.remove("a"), Some(1));
    /// assert_eq!(cache.remove("a"), None);
    /// ```
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remove_here(key, true)
    }

    /// [`remove`](Self::remove); with `announce`, a shared tier is told too (not for a removal the tier asked for).
    pub(crate) fn remove_here<Q>(&self, key: &Q, announce: bool) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if announce {
            if let Some(tier) = &self.inner.tier {
                // The shared tier needs the owned key: the one this replica holds, if it holds one.
                if let Some(owned) = self.owned_key(key) {
                    tier.removed(&owned);
                }
            }
        }
        let hash = self.inner.shards.hash(key);
        let (live, entry) = {
            let mut shard = self.inner.shards.lock(hash);
            let (s, grave) = shard.split();
            s.flights.detach(hash, key, grave);
            let live = s.store.remove(hash, key, || self.inner.time.now(), grave);
            if self.inner.shards.listening() {
                // The entry goes to the listener; the caller gets a copy of a live value.
                let copy = if live == Some(true) {
                    grave.last_value().cloned()
                } else {
                    None
                };
                return copy;
            }
            (live, live.and_then(|_| grave.pop()))
        };
        // The lock is released: the key (and an expired value) are dropped here.
        live?.then_some(entry?.value)
    }

    /// The stored key equal to `key` (live or not), or the key of a load of it in progress.
    fn owned_key<Q>(&self, key: &Q) -> Option<K>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.inner.shards.hash(key);
        let shard = self.inner.shards.lock(hash);
        if let Some(k) = shard.store.key(hash, key) {
            return Some(k.clone());
        }
        shard.flights.key(hash, key).cloned()
    }

    /// Drops every entry, detaches every load in progress (their results reach their callers but are not
    /// stored) and resets the metrics.
    ///
    /// ```
    /// use cache_core::AsyncCache;
    ///
    /// let cache = AsyncCache::new(10);
    /// cache.insert(1, 1);
    /// cache.get(&1);
    /// cache.clear();
    /// assert!(cache.is_empty());
    /// assert_eq!(cache.metrics().hits, 0);
    /// ```
    pub fn clear(&self) {
        if let Some(tier) = &self.inner.tier {
            tier.cleared();
        }
        let mut dead = Graveyard::new();
        for mut shard in self.inner.shards.each() {
            crate::sharded::reset_counters(&mut shard);
            let (s, grave) = shard.split();
            s.flights.clear(grave);
            s.store.clear(grave);
            shard.bury_in(&mut dead);
        }
        *self.inner.loads.lock() = LoadStats::default();
        // Every lock is released, and every shard is empty and reset, before the first user `Drop` runs.
        drop(dead);
    }

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

    /// Reclaims every expired entry now; returns how many. (Expired entries are never returned anyway, and
    /// writes reclaim them as they go: this frees their memory at a moment of your choosing.)
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::{clock::ManualClock, AsyncCache};
    ///
    /// let clock = ManualClock::new();
    /// let cache = AsyncCache::builder().maxsize(10).clock(clock.clone()).build()?;
    /// cache.insert_with_ttl(1, "a", Some(Duration::from_secs(1)));
    /// cache.insert_with_ttl(2, "b", None);
    /// clock.advance(Duration::from_secs(2));
    /// assert_eq!(cache.purge_expired(), 1);
    /// assert_eq!(cache.len(), 1);
    /// # Ok::<(), cache_core::BuildError>(())
    /// ```
    pub fn purge_expired(&self) -> usize {
        let now = self.inner.time.now();
        let mut purged = 0;
        let mut dead = Graveyard::new();
        for mut shard in self.inner.shards.each() {
            let (s, grave) = shard.split();
            if s.store.has_deadlines() {
                purged += s.store.purge_expired(now, usize::MAX, grave);
                shard.bury_in(&mut dead);
            }
        }
        drop(dead);
        purged
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
        assert!(striped >= 2);
        let small = AsyncCache::<u64, u64>::new(128);
        assert_eq!(small.inner.shards.count(), 1);
        assert_eq!(stripes(&small), [(striped, false)]);
        let exact = AsyncCache::<u64, u64>::builder()
            .maxsize(128)
            .shards(1)
            .build()
            .unwrap();
        assert_eq!(stripes(&exact), [(1, false)]);
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
