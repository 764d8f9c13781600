//! Writes: insert, remove, clear, retain and the purge of expired entries.

use std::borrow::Borrow;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use super::AsyncCache;
use crate::hooks::{Terms, Ttl};
use crate::metrics::LoadStats;
use crate::store::{Entry, NEVER};
use crate::timebase::Timebase;
#[cfg(doc)]
use crate::CacheBuilder;
use crate::{CacheKey, CacheValue};

impl<K, V> AsyncCache<K, V>
where
    K: CacheKey,
    V: CacheValue,
{
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
            Some(f) => s.flights.deregister(hash, f, grave),
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
    /// With a shared tier (feature `redis`), the removal reaches Redis and the other replicas only if this cache
    /// holds the key (stored, live or expired, or loading it): the tier encodes the owned key, and `remove` has
    /// only a borrowed one. Otherwise nothing is removed elsewhere. `insert` always reaches them.
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
        self.empty(true);
    }

    /// Drops every entry and detaches every load in progress, as `clear` does, but without telling the shared
    /// tier and without resetting the metrics: a shared tier's resync (messages may have been missed), or a
    /// `clear` on another replica.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn clear_here(&self) {
        self.empty(false);
    }

    /// Empties every shard and detaches every flight; with `reset`, resets the metrics too.
    fn empty(&self, reset: bool) {
        let dead = self.inner.shards.sweep(|shard| {
            if reset {
                crate::sharded::reset_counters(shard);
            }
            let (s, grave) = shard.split();
            s.flights.detach_all(grave);
            s.store.clear(grave);
        });
        if reset {
            *self.inner.loads.lock() = LoadStats::default();
        }
        // Every lock is released, and every shard is empty (and reset), before the first user `Drop` runs.
        drop(dead);
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
        let dead = self.inner.shards.sweep(|shard| {
            let (s, grave) = shard.split();
            removed += s.store.retain(&mut keep, grave);
        });
        drop(dead);
        removed
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
        let dead = self.inner.shards.sweep(|shard| {
            let (s, grave) = shard.split();
            if s.store.has_deadlines() {
                purged += s.store.purge_expired(now, usize::MAX, grave);
            }
        });
        drop(dead);
        purged
    }
}
