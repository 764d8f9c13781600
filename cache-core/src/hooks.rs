//! The user's callbacks about entries: the TTL of a stored value (`expire_after`), its weight (`weigher`) and the
//! eviction listener (`on_evict`), with the per-shard queue that delivers its calls.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Decides the TTL of a value stored without an explicit one (see [`CacheBuilder::expire_after`]).
///
/// [`CacheBuilder::expire_after`]: crate::CacheBuilder::expire_after
pub(crate) type ExpireFn<K, V> = Arc<dyn Fn(&K, &V) -> Option<Duration> + Send + Sync>;

/// Weighs a stored value (see [`CacheBuilder::weigher`]).
///
/// [`CacheBuilder::weigher`]: crate::CacheBuilder::weigher
pub(crate) type WeighFn<K, V> = Arc<dyn Fn(&K, &V) -> u32 + Send + Sync>;

/// The callbacks given to the builder.
pub(crate) struct Hooks<K, V> {
    pub(crate) expire_after: Option<ExpireFn<K, V>>,
    pub(crate) weigher: Option<WeighFn<K, V>>,
    pub(crate) on_evict: Option<Listener<K, V>>,
}

impl<K, V> Default for Hooks<K, V> {
    fn default() -> Self {
        Self {
            expire_after: None,
            weigher: None,
            on_evict: None,
        }
    }
}

impl<K, V> fmt::Debug for Hooks<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("expire_after", &self.expire_after.is_some())
            .field("weigher", &self.weigher.is_some())
            .field("on_evict", &self.on_evict.is_some())
            .finish()
    }
}

/// How a store decides the TTL of the value it stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ttl {
    /// `expire_after` if set, otherwise the cache's default TTL.
    Default,
    /// Exactly this (`None`: never expires): an explicit `*_with_ttl`.
    Fixed(Option<Duration>),
}

/// How a value is stored, as the user's callbacks decided before any lock was taken (see
/// `AsyncCache::terms_for`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Terms {
    /// Its TTL (`None`: never expires).
    pub(crate) ttl: Option<Duration>,
    /// Its weight (0 for a cache without a weigher: unused then).
    pub(crate) weight: u32,
}

/// Why an entry left the cache: the third argument of the [`on_evict`](crate::CacheBuilder::on_evict) listener.
/// New causes may be added.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use cache_core::{AsyncCache, EvictionCause};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = seen.clone();
/// let cache = AsyncCache::builder()
///     .maxsize(1)
///     .on_evict(move |key: u64, _value: u64, cause| log.lock().unwrap().push((key, cause)))
///     .build()?;
/// cache.insert(1, 10);
/// cache.insert(1, 11); // replaced
/// cache.insert(2, 20); // 1 evicted
/// cache.remove(&2);
/// assert_eq!(
///     *seen.lock().unwrap(),
///     [(1, EvictionCause::Replaced), (1, EvictionCause::Evicted), (2, EvictionCause::Removed)]
/// );
/// # Ok::<(), cache_core::BuildError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EvictionCause {
    /// Pushed out to make room for another entry by the eviction policy (the cache was full).
    Evicted,
    /// Its TTL ran out: reclaimed by a lookup, a write, [`purge_expired`](crate::AsyncCache::purge_expired), or
    /// a full cache making room (expired entries go first).
    Expired,
    /// Removed by [`remove`](crate::AsyncCache::remove) or [`retain`](crate::AsyncCache::retain) (or the
    /// reaping of a dropped instance's entries, for cached methods).
    Removed,
    /// Its value was replaced by an insert or a load of the same key (the listener gets the old value).
    Replaced,
    /// Dropped by [`clear`](crate::AsyncCache::clear).
    Cleared,
}

/// The eviction listener (see [`CacheBuilder::on_evict`](crate::CacheBuilder::on_evict)).
pub(crate) type Listener<K, V> = Arc<dyn Fn(K, V, EvictionCause) + Send + Sync>;

/// One call of the listener, waiting to be made.
pub(crate) type Notice<K, V> = (K, V, EvictionCause);

/// A shard's queue of listener calls. Notices are queued under the shard's lock, in the order the shard's
/// entries left it, and delivered after it is released, by one thread at a time (whoever finds no delivery in
/// progress), in queue order: so the calls for one key are made in the order its entries left, and never under
/// a shard lock.
pub(crate) struct Mailbox<K, V> {
    listener: Listener<K, V>,
    pending: parking_lot::Mutex<Vec<Notice<K, V>>>,
    delivering: parking_lot::Mutex<()>,
    /// Listener calls that panicked (each caught and counted; delivery goes on).
    panics: std::sync::atomic::AtomicU64,
}

impl<K, V> Mailbox<K, V> {
    pub(crate) fn new(listener: Listener<K, V>) -> Self {
        Self {
            listener,
            pending: parking_lot::Mutex::new(Vec::new()),
            delivering: parking_lot::Mutex::new(()),
            panics: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Queues the notices `grave` holds (called under the shard's lock; runs no user code).
    pub(crate) fn post_from(&self, grave: &mut crate::grave::Graveyard<K, V>) {
        grave.take_notices(&mut self.pending.lock());
    }

    /// How many listener calls panicked.
    pub(crate) fn panics(&self) -> u64 {
        self.panics.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Makes every queued call, unless another thread (or this one, from inside the listener) is delivering
    /// already: that one then makes them. Called with no shard lock held.
    pub(crate) fn deliver(&self) {
        use std::panic::{catch_unwind, AssertUnwindSafe};
        loop {
            let Some(turn) = self.delivering.try_lock() else {
                return;
            };
            loop {
                let batch = std::mem::take(&mut *self.pending.lock());
                if batch.is_empty() {
                    break;
                }
                for (key, value, cause) in batch {
                    if catch_unwind(AssertUnwindSafe(|| (self.listener)(key, value, cause)))
                        .is_err()
                    {
                        self.panics
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            }
            drop(turn);
            // A notice queued after the last look, while this thread still held the turn, is delivered here.
            if self.pending.lock().is_empty() {
                return;
            }
        }
    }
}

impl<K, V> fmt::Debug for Mailbox<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailbox")
            .field("pending", &self.pending.lock().len())
            .field("panics", &self.panics())
            .finish_non_exhaustive()
    }
}
