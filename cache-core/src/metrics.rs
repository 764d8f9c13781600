//! Metrics: a snapshot type, and the load-time accumulator.
//!
//! Hit, miss, eviction and expiration counts live inside each shard, behind the lock the operation takes anyway,
//! so the hit path pays one plain increment and shares no cache line across cores. Load statistics are kept
//! behind one small lock: loads are the slow path by definition.

use std::time::Duration;

/// A point-in-time view of a cache's counters, from [`crate::AsyncCache::metrics`].
///
/// Counts are exact when read after the operations they count have finished. `clear()` resets them (except
/// `listener_panics`). New fields may be added.
///
/// ```
/// use cache_core::AsyncCache;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let cache = AsyncCache::new(1);
/// cache.get_or_load(1, async { "one" }).await; // a miss, then a load
/// cache.get_or_load(1, async { "one" }).await; // a hit
/// cache.insert(2, "two");                      // evicts 1
/// let m = cache.metrics();
/// assert_eq!((m.hits, m.misses, m.loads, m.evictions), (1, 1, 1, 1));
/// assert_eq!((m.size, m.maxsize), (1, 1));
/// assert_eq!(m.load_time.count, 1);
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Lookups (`get`, and the cache check of the loading operations) that found a live value.
    pub hits: u64,
    /// Lookups that found nothing, or only an expired value.
    pub misses: u64,
    /// Entries stored now.
    pub size: usize,
    /// The most entries the cache holds.
    pub maxsize: usize,
    /// Live entries removed by the eviction policy to make room (for an entry count or, with a
    /// [`weigher`](crate::CacheBuilder::weigher), a weight over its bound).
    pub evictions: u64,
    /// Entries removed because their TTL had passed (on read, on write, or by `purge_expired`).
    pub expirations: u64,
    /// Loader calls that produced a result: one per `get_or_load` leader that finished, one per batch call.
    pub loads: u64,
    /// Loader calls that returned an error or panicked. Cancelled loads count in neither.
    pub load_failures: u64,
    /// How long the finished loader calls (successful or failed) took.
    pub load_time: LoadTime,
    /// Refreshes (see [`refresh_after`](crate::CacheBuilder::refresh_after)), in the background or run by the
    /// caller that claimed them, whose loader produced a value. Not counted in `loads` or `load_time`.
    pub refreshes: u64,
    /// Refreshes whose loader returned an error or panicked (the old value stays until its TTL). Not counted in
    /// `load_failures` or `load_time`. Cancelled refreshes (their task or caller dropped) count in neither.
    pub refresh_failures: u64,
    /// What the stored entries weigh together by the [`weigher`](crate::CacheBuilder::weigher), counting expired
    /// entries not yet reclaimed (as `size` does); 0 without a weigher.
    pub weight: u64,
    /// The most total weight the cache holds: [`max_weight`](crate::CacheBuilder::max_weight), `None` without a
    /// weigher.
    pub max_weight: Option<u64>,
    /// Values not stored because they alone weigh more than their shard's share of `max_weight` (each one is
    /// handed to the [`on_evict`](crate::CacheBuilder::on_evict) listener as
    /// [`Evicted`](crate::EvictionCause::Evicted), but counts here, not in `evictions`).
    pub oversized: u64,
    /// Calls of the [`on_evict`](crate::CacheBuilder::on_evict) listener that panicked (each panic is caught;
    /// the entry is gone and counted all the same). Not reset by `clear()`.
    pub listener_panics: u64,
}

impl Metrics {
    /// `hits / (hits + misses)`, or `0.0` when nothing was looked up.
    ///
    /// ```
    /// let cache = cache_core::AsyncCache::new(10);
    /// assert_eq!(cache.metrics().hit_rate(), 0.0);
    /// cache.insert(1, 1);
    /// cache.get(&1);
    /// cache.get(&1);
    /// cache.get(&1);
    /// cache.get(&2);
    /// assert_eq!(cache.metrics().hit_rate(), 0.75);
    /// ```
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn hit_rate(&self) -> f64 {
        let total = self.hits + self.misses;
        if total == 0 {
            0.0
        } else {
            self.hits as f64 / total as f64
        }
    }
}

/// Durations of finished loader calls (successful or failed; cancelled ones are not timed), as measured by the
/// cache's clock.
///
/// ```
/// use std::time::Duration;
/// use cache_core::AsyncCache;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let cache = AsyncCache::new(10);
/// for (key, ms) in [(1, 10), (2, 30)] {
///     cache.get_or_load(key, async move {
///         tokio::time::sleep(Duration::from_millis(ms)).await;
///         key
///     }).await;
/// }
/// let t = cache.metrics().load_time;
/// assert_eq!((t.count, t.min, t.max), (2, Duration::from_millis(10), Duration::from_millis(30)));
/// assert_eq!(t.mean(), Duration::from_millis(20));
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadTime {
    /// How many loader calls were timed.
    pub count: u64,
    /// Their summed duration.
    pub total: Duration,
    /// The shortest (zero when `count` is 0).
    pub min: Duration,
    /// The longest (zero when `count` is 0).
    pub max: Duration,
}

impl LoadTime {
    /// `total / count`, or zero when nothing was timed.
    ///
    /// ```
    /// let cache = cache_core::AsyncCache::<u64, u64>::new(10);
    /// assert_eq!(cache.metrics().load_time.mean(), std::time::Duration::ZERO);
    /// ```
    #[must_use]
    pub fn mean(&self) -> Duration {
        if self.count == 0 {
            Duration::ZERO
        } else {
            let nanos = self.total.as_nanos() / u128::from(self.count);
            Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
        }
    }

    pub(crate) fn record(&mut self, took: Duration) {
        self.min = if self.count == 0 {
            took
        } else {
            self.min.min(took)
        };
        self.max = self.max.max(took);
        self.total = self.total.saturating_add(took);
        self.count += 1;
    }
}

/// The load counters of one cache.
#[derive(Debug, Default)]
pub(crate) struct LoadStats {
    pub(crate) loads: u64,
    pub(crate) failures: u64,
    pub(crate) time: LoadTime,
    pub(crate) refreshes: u64,
    pub(crate) refresh_failures: u64,
}

impl LoadStats {
    pub(crate) fn record(&mut self, took: Duration, ok: bool) {
        if ok {
            self.loads += 1;
        } else {
            self.failures += 1;
        }
        self.time.record(took);
    }

    /// A background refresh ended with a value (`ok`) or an error or panic.
    pub(crate) fn record_refresh(&mut self, ok: bool) {
        if ok {
            self.refreshes += 1;
        } else {
            self.refresh_failures += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_rate_is_zero_when_nothing_was_asked() {
        assert!(Metrics::default().hit_rate().abs() < f64::EPSILON);
        let m = Metrics {
            hits: 3,
            misses: 1,
            ..Metrics::default()
        };
        assert!((m.hit_rate() - 0.75).abs() < 1e-12);
    }

    #[test]
    fn load_time_tracks_min_max_mean() {
        let mut t = LoadTime::default();
        assert_eq!(t.mean(), Duration::ZERO);
        t.record(Duration::from_millis(30));
        t.record(Duration::from_millis(10));
        t.record(Duration::from_millis(20));
        assert_eq!(t.count, 3);
        assert_eq!(t.min, Duration::from_millis(10));
        assert_eq!(t.max, Duration::from_millis(30));
        assert_eq!(t.total, Duration::from_millis(60));
        assert_eq!(t.mean(), Duration::from_millis(20));
    }
}
