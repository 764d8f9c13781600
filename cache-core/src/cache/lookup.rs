//! Reads: [`AsyncCache::get`] (the hit path), [`AsyncCache::peek`], [`AsyncCache::contains_key`].

use std::borrow::Borrow;
use std::hash::Hash;

use super::AsyncCache;
use crate::store::Found;
use crate::{CacheKey, CacheValue};

/// What the read path ([`AsyncCache::read_lookup`]) found.
pub(crate) enum ReadLookup<V> {
    /// A live value: the read is recorded for the policy (and counted as a hit if asked).
    Hit(V),
    /// No entry: counted as a miss if asked.
    Absent,
    /// An expired entry: nothing counted; only the exclusive path may reclaim it.
    Expired,
}

impl<K, V> AsyncCache<K, V>
where
    K: CacheKey,
    V: CacheValue,
{
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
            ReadLookup::Hit(value) => Some(value),
            ReadLookup::Absent => None,
            ReadLookup::Expired => self.lookup_expired::<Q, HITS, MISSES>(hash, key),
        }
    }

    /// The read path of a refreshing lookup, under the read lock (see [`ReadLookup`] for what each answer
    /// counted).
    #[inline]
    pub(crate) fn read_lookup<Q>(
        &self,
        hash: u64,
        key: &Q,
        hits: bool,
        misses: bool,
    ) -> ReadLookup<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.shards.read(hash, |shard, log| {
            match shard
                .store
                .find_shared(hash, key, || self.inner.time.now_read())
            {
                Found::Live(slot, value) | Found::Stale(slot, value) => {
                    // Clone first: a `Clone` that panics makes no hit (and records no read).
                    let value = value.clone();
                    log.hit(slot, hits);
                    ReadLookup::Hit(value)
                }
                Found::Absent => {
                    log.misses += u64::from(misses);
                    ReadLookup::Absent
                }
                Found::Expired => ReadLookup::Expired,
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
        self.peek_with(key, |value| value.cloned())
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
        self.peek_with(key, |value| value.is_some())
    }

    /// `f` of `key`'s live value, read without counting or refreshing it.
    fn peek_with<Q, R>(&self, key: &Q, f: impl FnOnce(Option<&V>) -> R) -> R
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.inner.shards.hash(key);
        self.inner.shards.read(hash, |shard, _| {
            f(shard.store.peek(hash, key, || self.inner.time.now_read()))
        })
    }
}
