//! Single-key loading: `get_or_load`, `try_get_or_load`, `warmup`, and the leader guard that makes them safe
//! against cancellation and panics.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use crate::flight::Flight;
use crate::hooks::Ttl;
use crate::load_future::LoadOne;
use crate::reentry::RunId;
use crate::AsyncCache;

mod leader;

pub(crate) use leader::{share, Leader, PanicMark};

/// How many loads [`AsyncCache::warmup`] runs at once; [`AsyncCache::warmup_with_concurrency`] takes another
/// number.
///
/// ```
/// assert_eq!(cache_core::DEFAULT_WARMUP_CONCURRENCY, 16);
/// ```
pub const DEFAULT_WARMUP_CONCURRENCY: usize = 16;

/// What a lookup found, under the shard lock.
pub(crate) enum Lookup<V> {
    /// A live value.
    Hit(V),
    /// Someone else is loading the key: wait for their flight.
    Wait(Arc<Flight<V>>),
    /// Nobody was: the caller now leads this (registered) flight and must finish it.
    Lead(Arc<Flight<V>>),
    /// The key's flight is led by a load this caller is nested in (a loader asking for its own key): waiting
    /// would never end.
    Reentrant,
}

impl<K, V> AsyncCache<K, V>
where
    K: crate::CacheKey,
    V: crate::CacheValue,
{
    /// Looks `key` up and, on a miss, joins its flight or starts one, all in one critical section. Counts a hit or
    /// miss only when `count` (the first lookup of a call, not a retry).
    pub(crate) fn lookup_or_join(&self, hash: u64, key: &K, count: bool) -> Lookup<V> {
        // A hit needs only the read lock; a miss is counted by the exclusive lookup below. (Two functions, so
        // that in a debug build a hit's stack frame has no room for the slow path's copies of a large `V`.)
        match self.read_lookup(hash, key, count, false) {
            crate::cache::ReadLookup::Hit(value) => Lookup::Hit(value),
            _ => {
                crate::model::switch();
                self.lookup_or_join_locked(hash, key, count)
            }
        }
    }

    /// The exclusive part of [`lookup_or_join`](Self::lookup_or_join).
    fn lookup_or_join_locked(&self, hash: u64, key: &K, count: bool) -> Lookup<V> {
        let found = {
            let mut shard = self.inner.shards.lock(hash);
            let (s, grave) = shard.split();
            let now = || self.inner.time.now();
            let hit = if count {
                s.store
                    .lookup::<K, _, true, true>(hash, key, now, grave, V::clone)
            } else {
                s.store
                    .lookup::<K, _, false, false>(hash, key, now, grave, V::clone)
            };
            if let Some(v) = hit {
                Lookup::Hit(v)
            } else if let Some(f) = s.flights.get(hash, key).filter(|f| !f.is_published()) {
                Lookup::Wait(Arc::clone(f))
            } else {
                // No flight, or a stale one (finished but left registered by a panic in user code): lead.
                s.flights.detach(hash, key, grave);
                let flight = Flight::new();
                s.flights.register(hash, key.clone(), Arc::clone(&flight));
                Lookup::Lead(flight)
            }
        };
        match found {
            Lookup::Wait(flight) if flight.is_led_from_here() => Lookup::Reentrant,
            found => found,
        }
    }

    /// Nanoseconds between two readings of the cache clock, as a `Duration`.
    pub(crate) fn since(&self, start: u64) -> Duration {
        Duration::from_nanos(self.inner.time.now().saturating_sub(start))
    }

    /// Returns the value for `key`, loading it with `load` on a miss.
    ///
    /// # Concurrent calls on the same key
    /// At most one load per key is in flight at any moment: the first caller to miss runs its `load`, every
    /// other caller waits for that result (their own `load` futures are dropped unpolled). The cache is checked
    /// and the flight registered under one lock, so a value stored meanwhile is never loaded again. No lock is
    /// held while `load` runs. The value is stored with the default TTL.
    ///
    /// # Cancellation and panics
    /// If the caller driving the load is dropped, or `load` panics (the panic reaches that caller only), one
    /// waiting caller takes the load over with its own future; nobody hangs and the key is not poisoned.
    /// A waiting caller that is dropped affects nobody.
    ///
    /// If the key is removed (or the cache cleared, or the key inserted) while the load runs, the loaded value
    /// still goes to the callers that were waiting for it but is not stored.
    ///
    /// # Refresh-ahead
    /// In a cache built with [`refresh_after`](crate::CacheBuilder::refresh_after), a hit on a value due for a
    /// refresh claims its reload, unless a load or a refresh of the key is in flight already. The one caller that
    /// claims it runs **its own** `load` (which may borrow from the caller, so it cannot be spawned) and returns
    /// the new value; meanwhile every other caller gets the stored value at once, and a caller that misses (the
    /// value expired) waits for the reload instead of loading. A reloaded value is stored with this call's TTL
    /// and restarts the entry's age. If `load` panics, the panic reaches the claiming caller; the old value stays
    /// until its TTL, the failure counts in [`Metrics::refresh_failures`](crate::Metrics::refresh_failures) (not
    /// `load_failures`) and the next hit claims the refresh again, as it does after a cancelled claimer. A
    /// `remove`, `insert` or `clear` during the reload wins (its value is returned, not stored). To make no
    /// caller wait, give a `Send + 'static` future to [`get_or_refresh`](Self::get_or_refresh), which spawns it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use cache_core::AsyncCache;
    ///
    /// tokio::time::pause();
    /// let cache: AsyncCache<&str, u32> =
    ///     AsyncCache::builder().maxsize(10).refresh_after(Duration::from_secs(10)).build().unwrap();
    /// cache.insert("rate", 1);
    /// tokio::time::advance(Duration::from_secs(11)).await;
    /// let source = String::from("rate v2"); // borrowed by the loader
    /// // Due: this caller claims the refresh and runs its own loader.
    /// assert_eq!(cache.get_or_load("rate", async { source.len() as u32 }).await, 7);
    /// assert_eq!(cache.get(&"rate"), Some(7));
    /// assert_eq!(cache.metrics().refreshes, 1);
    /// # }
    /// ```
    ///
    /// # Re-entrancy
    /// `load` may use the cache freely, including loading other keys (recursion such as `fib(n - 1)` is fine).
    /// A `load` that asks the same cache for **its own key** (through any loading method) would wait for itself
    /// forever; that inner call panics instead (see Panics). The panic unwinds through `load`, so the outer call
    /// panics too, and the key is left unregistered: the next call loads it afresh. Only a request made from
    /// within the poll of `load` is recognised: one that `load` hands to another task and awaits is not, and
    /// hangs.
    /// Two calls for one key polled side by side by one task (`join!`) are not re-entrant: they share the load.
    ///
    /// # Panics
    /// If `load` panics (the panic reaches this caller; waiters take over), or if this call is made from within
    /// the load of the same key (re-entrancy, above), with a message starting "re-entrant load".
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use cache_core::AsyncCache;
    ///
    /// let cache = AsyncCache::new(100);
    /// let v = cache.get_or_load(7u64, async { 49u64 }).await;
    /// assert_eq!(v, 49);
    /// // Cached now: the second future is never run.
    /// assert_eq!(cache.get_or_load(7, async { unreachable!() }).await, 49);
    /// # }
    /// ```
    ///
    pub fn get_or_load<F>(&self, key: K, load: F) -> impl Future<Output = V> + use<'_, K, V, F>
    where
        F: Future<Output = V>,
    {
        LoadOne::new(self, key, Ttl::Default, load)
    }

    /// Like [`get_or_load`](Self::get_or_load) with a fallible loader. Errors are never cached.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use cache_core::AsyncCache;
    ///
    /// let cache = AsyncCache::new(100);
    /// let failed = cache.try_get_or_load(1u64, async { Err::<u64, _>("backend down") }).await;
    /// assert_eq!(failed, Err("backend down"));
    /// assert!(!cache.contains_key(&1)); // the error was not cached: the next call loads again
    /// let ok = cache.try_get_or_load(1, async { Ok::<_, &str>(10) }).await;
    /// assert_eq!(ok, Ok(10));
    /// assert_eq!(cache.get(&1), Some(10));
    /// # }
    /// ```
    ///
    /// # Errors
    /// The error of this caller's own `load`, if it ran and failed.
    ///
    /// # Panics
    /// As [`get_or_load`](Self::get_or_load): if `load` panics, or on re-entrancy (this call made from within
    /// the load of the same key; the error type is the caller's, so this is a panic, not an error).
    ///
    /// # Concurrent calls on the same key
    /// One load at a time, as in `get_or_load`. When the leader's load fails, its error goes to the leader's
    /// caller only (errors need not be `Clone`); the waiting callers then retry **one at a time**: one becomes
    /// the new leader with its own future and the others wait for it. So every caller completes with a result
    /// from a real attempt, a failing backend sees at most one request per key at any moment instead of a
    /// burst from every waiter, and the first success is shared by everyone still waiting. A later call loads
    /// again. (`docs/design/error-caching.md` has the reasoning.)
    ///
    /// # Refresh-ahead
    /// As in [`get_or_load`](Self::get_or_load): the caller that claims a due value's refresh runs its `load`. On
    /// `Ok` it gets the new value; on `Err` it gets the **old** value (still live), the error is dropped and counted
    /// in [`Metrics::refresh_failures`](crate::Metrics::refresh_failures), and the next hit tries again. If the old
    /// value's TTL passed while `load` ran, it gets its error instead (an expired value is never an answer).
    pub fn try_get_or_load<E, F>(
        &self,
        key: K,
        load: F,
    ) -> impl Future<Output = Result<V, E>> + use<'_, K, V, E, F>
    where
        F: Future<Output = Result<V, E>>,
    {
        LoadOne::new(self, key, Ttl::Default, load)
    }

    /// [`get_or_load`](Self::get_or_load) with the TTL of the loaded value: `Some(d)` expires `d` after it is
    /// stored, `None` never expires, whatever the default TTL (the meaning it has in
    /// [`insert_with_ttl`](Self::insert_with_ttl)). Everything else is as in `get_or_load`: a hit returns the
    /// stored value whatever TTL it was stored with, and a caller that waits for another caller's load gets that
    /// load's value, stored with the TTL of the caller that ran it. A caller that claims a refresh
    /// ([`refresh_after`](crate::CacheBuilder::refresh_after), see `get_or_load`) stores the reloaded value with
    /// its `ttl`.
    ///
    /// # Panics
    /// As [`get_or_load`](Self::get_or_load).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use cache_core::AsyncCache;
    ///
    /// tokio::time::pause();
    /// let cache: AsyncCache<&str, u64> =
    ///     AsyncCache::builder().maxsize(100).ttl(Duration::from_secs(60)).build().unwrap();
    /// // A short-lived token: expires after 5 s, not the default 60 s.
    /// let token = cache.get_or_load_with_ttl("token", Some(Duration::from_secs(5)), async { 1 }).await;
    /// assert_eq!(token, 1);
    /// // Static data: never expires.
    /// cache.get_or_load_with_ttl("config", None, async { 2 }).await;
    /// tokio::time::advance(Duration::from_secs(6)).await;
    /// assert_eq!(cache.get(&"token"), None);
    /// assert_eq!(cache.get(&"config"), Some(2));
    /// # }
    /// ```
    pub fn get_or_load_with_ttl<F>(
        &self,
        key: K,
        ttl: Option<Duration>,
        load: F,
    ) -> impl Future<Output = V> + use<'_, K, V, F>
    where
        F: Future<Output = V>,
    {
        LoadOne::new(self, key, Ttl::Fixed(ttl), load)
    }

    /// [`try_get_or_load`](Self::try_get_or_load) with the TTL of a successfully loaded value: `Some(d)` expires
    /// `d` after it is stored, `None` never expires, whatever the default TTL (as in
    /// [`insert_with_ttl`](Self::insert_with_ttl)), also when this caller refreshes a due value (see
    /// `try_get_or_load`). Errors are never cached.
    ///
    /// # Errors
    /// The error of this caller's own `load`, if it ran and failed.
    ///
    /// # Panics
    /// As [`try_get_or_load`](Self::try_get_or_load).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use cache_core::AsyncCache;
    ///
    /// let cache = AsyncCache::new(100);
    /// let v: Result<u64, String> =
    ///     cache.try_get_or_load_with_ttl(1u64, Some(Duration::from_secs(30)), async { Ok(10) }).await;
    /// assert_eq!(v, Ok(10));
    /// let e: Result<u64, String> =
    ///     cache.try_get_or_load_with_ttl(2, None, async { Err("down".to_string()) }).await;
    /// assert!(e.is_err());
    /// assert!(!cache.contains_key(&2)); // errors are never cached
    /// # }
    /// ```
    pub fn try_get_or_load_with_ttl<E, F>(
        &self,
        key: K,
        ttl: Option<Duration>,
        load: F,
    ) -> impl Future<Output = Result<V, E>> + use<'_, K, V, E, F>
    where
        F: Future<Output = Result<V, E>>,
    {
        LoadOne::new(self, key, Ttl::Fixed(ttl), load)
    }

    /// Loads the given entries, [`DEFAULT_WARMUP_CONCURRENCY`] at a time, and returns how many were stored.
    /// Keys already cached or being loaded by someone else are skipped (their futures are dropped unpolled);
    /// values go in with the default TTL. Warmup lookups do not count as hits or misses.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let cache = cache_core::AsyncCache::new(100);
    /// let stored = cache.warmup((0..10u64).map(|k| (k, async move { k * 2 }))).await;
    /// assert_eq!(stored, 10);
    /// assert_eq!(cache.get(&4), Some(8));
    /// # }
    /// ```
    pub async fn warmup<I, F>(&self, entries: I) -> usize
    where
        I: IntoIterator<Item = (K, F)>,
        F: Future<Output = V>,
    {
        self.warmup_with_concurrency(entries, DEFAULT_WARMUP_CONCURRENCY)
            .await
    }

    /// [`warmup`](Self::warmup) with at most `concurrency` loads at once (0 is taken as 1).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let cache = cache_core::AsyncCache::new(100);
    /// let entries = (0..10u64).map(|k| (k, async move { k.to_string() }));
    /// assert_eq!(cache.warmup_with_concurrency(entries, 2).await, 10);
    /// assert_eq!(cache.get(&3).as_deref(), Some("3"));
    /// # }
    /// ```
    pub async fn warmup_with_concurrency<I, F>(&self, entries: I, concurrency: usize) -> usize
    where
        I: IntoIterator<Item = (K, F)>,
        F: Future<Output = V>,
    {
        futures::stream::iter(entries)
            .map(|(key, load)| self.warm_one(key, load))
            .buffer_unordered(concurrency.max(1))
            .fold(0, |n, stored| async move { n + usize::from(stored) })
            .await
    }

    async fn warm_one<F: Future<Output = V>>(&self, key: K, load: F) -> bool {
        let hash = self.inner.shards.hash(&key);
        match self.lookup_or_join(hash, &key, false) {
            Lookup::Hit(_) | Lookup::Wait(_) | Lookup::Reentrant => false,
            Lookup::Lead(flight) => {
                let run = RunId::new();
                flight.claim(run);
                let leader = Leader::new(self, hash, flight, Ttl::Default);
                let mut load = pin!(load);
                let value = poll_fn(|cx| leader.poll_load(run, load.as_mut(), cx)).await;
                leader.publish(key, &value)
            }
        }
    }
}
