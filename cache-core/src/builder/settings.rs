//! The settings of what a cache holds and when it lets entries go (size, weight, policy, expiry, eviction
//! listener, shards), and of its clock, name and hasher.

use std::sync::Arc;
use std::time::Duration;

#[cfg(doc)]
use super::BuildError;
use super::CacheBuilder;
use crate::clock::{Clock, TokioClock};
#[cfg(test)]
use crate::timebase::Timebase;
#[cfg(doc)]
use crate::AsyncCache;
use crate::Policy;
use crate::{CacheKey, CacheValue};

impl<K, V> CacheBuilder<K, V>
where
    K: CacheKey,
    V: CacheValue,
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
    ///   they count toward `maxsize` only) and bounds the policy's bookkeeping (TinyLFU sizes its sketch and ghost
    ///   table by the entries a shard holds when it first evicts, and grows them to twice what it holds if it
    ///   comes to hold more than twice as many, never past `maxsize`: a generous `maxsize` costs little).
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
    ///   window and main regions (and their adaptation) in weight and in entries, so that its admission works
    ///   whichever bound the shard reaches first. An insert that makes its entry heavier counts
    ///   as a use of it before the cache makes room, so under LRU it is never its own victim, and TinyLFU passes
    ///   it over while another entry can go.
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
    /// **one** reload of its key, so that callers stop waiting for loads of hot keys.
    ///
    /// * **Who refreshes.** [`get_or_refresh`](AsyncCache::get_or_refresh) and
    ///   [`try_get_or_refresh`](AsyncCache::try_get_or_refresh), with the caller's future, spawned on the current
    ///   tokio runtime (so it must be `Send + 'static`), and cached fns with `refresh_after = secs` in
    ///   `#[async_cache]`, with the fn's body: nobody waits. [`get_or_load`](AsyncCache::get_or_load),
    ///   [`try_get_or_load`](AsyncCache::try_get_or_load) and their `_with_ttl` forms, whose futures may borrow
    ///   from their callers and so cannot be spawned: the one caller that claims the refresh runs its own future
    ///   and waits for it (it gets the new value; after an error, the old one); every other caller gets the
    ///   stored value at once. [`get`](AsyncCache::get), [`peek`](AsyncCache::peek), `get_many` and `load` never
    ///   start a refresh: they return the stale value, which is live.
    /// * **One at a time.** A refresh is a load of the key: it joins the key's single flight, so it never runs
    ///   beside another load of the key, and a caller that misses meanwhile (the value expired) waits for it. Hits
    ///   during a refresh keep getting the old value.
    /// * **Outcome.** A value replaces the old one and restarts its age and its TTL (decided as for any load). An
    ///   error or a panic (counted in [`Metrics::refresh_failures`](crate::Metrics::refresh_failures); a spawned
    ///   reload's panic is caught, a claiming caller's reaches that caller) leaves the old value until its TTL,
    ///   and the next hit on it starts another refresh, as after a cancelled one. A `remove`, `insert` or `clear`
    ///   during a refresh wins: its value is not stored (as for every load).
    /// * **No runtime.** Outside a tokio runtime `get_or_refresh` spawns nothing: the hit just returns the value.
    ///   `get_or_load` refreshes anywhere it can run.
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
}
