//! The caches under test, their names, and how each is built, filled and read.

use super::*;

/// One cache under test.
pub(crate) enum Subject<K: Hash + Eq> {
    Ours(AsyncCache<K, u64>),
    /// cache-core, filled past its capacity first (with other keys) so that every shard has evicted: its
    /// policy keeps its order from then on, instead of stamping uses until the first eviction.
    OursFull(AsyncCache<K, u64>),
    Quick(quick_cache::sync::Cache<K, u64>),
    Lru(Mutex<lru::LruCache<K, u64>>),
    Moka(moka::sync::Cache<K, u64>),
}

/// The name of the reference subject in the ratio column.
pub(crate) const REFERENCE: &str = "quick_cache::sync::Cache";
/// The TTL of the TTL subjects: long enough that nothing expires during the run.
pub(crate) const TTL: Duration = Duration::from_secs(3600);
/// The TTL subjects, and the plain subjects they are compared with.
pub(crate) const OURS_TTL: &str = "cache-core LRU, TTL 1 h";
pub(crate) const OURS: &str = "cache-core LRU";
pub(crate) const OURS_TINYLFU: &str = "cache-core TinyLFU";
pub(crate) const OURS_TINYLFU_FULL: &str = "cache-core TinyLFU, full";
pub(crate) const OURS_FULL: &str = "cache-core LRU, full";
pub(crate) const MOKA_TTL: &str = "moka::sync::Cache, TTL 1 h";
pub(crate) const MOKA: &str = "moka::sync::Cache";

/// A cache-core cache of `capacity` entries (as `cache_benches::cache_core` builds it), hashing with the seed of
/// `HIT_ALT_HASHER_SEED` if that is set (a TinyLFU shard's state after the fill depends on which keys share it and
/// how they hash: a fixed seed repeats it from run to run) and with a random one per cache otherwise.
fn cache_core<K>(capacity: usize, policy: Policy, ttl: Option<Duration>) -> AsyncCache<K, u64>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
{
    let b = AsyncCache::builder().maxsize(capacity).policy(policy);
    let b = match ttl {
        Some(ttl) => b.ttl(ttl),
        None => b,
    };
    let b = match std::env::var("HIT_ALT_HASHER_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(seed) => b.hasher_seed(seed),
        None => b,
    };
    b.build().expect("valid settings")
}

impl<K> Subject<K>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
{
    /// Every subject, each with room for `capacity` entries.
    pub(crate) fn all(capacity: usize) -> Vec<(&'static str, Self)> {
        let ours = |policy, ttl| Self::Ours(cache_core(capacity, policy, ttl));
        let cap = NonZeroUsize::new(capacity).expect("non-zero capacity");
        vec![
            (OURS, ours(Policy::Lru, None)),
            ("cache-core LFU", ours(Policy::Lfu, None)),
            (OURS_TINYLFU, ours(Policy::TinyLfu, None)),
            (
                OURS_TINYLFU_FULL,
                Self::OursFull(cache_core(capacity, Policy::TinyLfu, None)),
            ),
            (OURS_TTL, ours(Policy::Lru, Some(TTL))),
            (
                OURS_FULL,
                Self::OursFull(cache_core(capacity, Policy::Lru, None)),
            ),
            (
                REFERENCE,
                Self::Quick(quick_cache::sync::Cache::new(capacity)),
            ),
            (
                "lru::LruCache + Mutex",
                Self::Lru(Mutex::new(lru::LruCache::new(cap))),
            ),
            (
                "moka::sync::Cache",
                Self::Moka(moka::sync::Cache::new(capacity as u64)),
            ),
            (
                MOKA_TTL,
                Self::Moka(
                    moka::sync::Cache::builder()
                        .max_capacity(capacity as u64)
                        .time_to_live(TTL)
                        .build(),
                ),
            ),
        ]
    }

    /// Inserts `keys[i] → i` for every key (for `OursFull`, after `extra`, keys not looked up, as many as the
    /// capacity: every shard then evicts while `keys` go in).
    pub(crate) fn fill(&self, keys: &[K], extra: &[K]) {
        if let Self::OursFull(c) = self {
            for k in extra {
                c.insert(k.clone(), u64::MAX);
            }
        }
        for (i, k) in keys.iter().enumerate() {
            let (k, v) = (k.clone(), i as u64);
            match self {
                Self::Ours(c) | Self::OursFull(c) => c.insert(k, v),
                Self::Quick(c) => c.insert(k, v),
                Self::Lru(c) => {
                    c.lock().put(k, v);
                }
                Self::Moka(c) => c.insert(k, v),
            }
        }
        if let Self::Moka(c) = self {
            c.run_pending_tasks();
        }
        if let Self::OursFull(c) = self {
            // TinyLFU admits a new key into its main region only once it is used more often than what it would
            // displace: the measured keys, used once like the extra keys, may have been turned away. Asking for
            // them again (a miss and an insert count one more use) gets them in; LRU has them all already. A key
            // let in may still displace another measured key (the window adapts as the misses come back), so
            // this repeats until a pass finds every key; the caller asserts that it did.
            for _ in 0..64 {
                let mut missing = 0;
                for (i, k) in keys.iter().enumerate() {
                    if c.peek(k).is_none() {
                        missing += 1;
                        c.get(k);
                        c.insert(k.clone(), i as u64);
                    }
                }
                if missing == 0 {
                    break;
                }
            }
        }
    }

    /// One batch: `pattern.len()` gets walking the pattern cyclically from `offset`; returns the sum of the
    /// values found (a miss adds nothing, so a wrong sum reveals it).
    pub(crate) fn batch<Q>(&self, keys: &[K], pattern: &[u32], offset: usize) -> u64
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let (tail, head) = pattern.split_at(offset % pattern.len());
        match self {
            Self::Ours(c) | Self::OursFull(c) => walk(keys, head, tail, |k| c.get(k)),
            Self::Quick(c) => walk(keys, head, tail, |k| c.get(k)),
            Self::Lru(c) => walk(keys, head, tail, |k| c.lock().get(k).copied()),
            Self::Moka(c) => walk(keys, head, tail, |k| c.get(k)),
        }
    }
}
