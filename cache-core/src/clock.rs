//! Time sources for TTL expiry and load timing.
//!
//! The cache never sleeps and never spawns timers for expiry: it asks its [`Clock`] for the current time when it
//! needs one (only for entries that carry a deadline, and for load timing). The default clock,
//! [`TokioClock`], follows tokio's clock, so `tokio::time::pause()` and `tokio::time::advance()` drive expiry in
//! tests. [`ManualClock`] is a clock you move by hand, for tests that do not run inside a runtime.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A source of the current time.
///
/// Implementations must be monotonic: a later call never returns an earlier instant.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> Instant;
}

/// The default clock: `tokio::time::Instant::now()`.
///
/// Inside a runtime whose time is paused (`tokio::time::pause()`, which needs tokio's `test-util` feature in your
/// tests) it reads the paused clock, so TTLs can be tested with `tokio::time::advance()` and no real sleep.
/// Outside a runtime it reads the system's monotonic clock.
///
/// Cost: a hit on an entry that has a deadline reads the clock once (entries without one never do). On x86-64
/// Linux that is a vDSO `clock_gettime`, some 20-30 ns, and it also stops the CPU from overlapping the memory
/// stalls of back-to-back lookups; `docs/benchmarks.md` measures it. A service that reads a TTL cache in a
/// tight loop can supply a cheaper [`Clock`] (a coarse timestamp refreshed by a ticker task, say) with
/// `.clock(..)`, as long as it never runs backwards.
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }
}

/// A clock that only moves when told to. Clones share one time.
///
/// ```
/// use std::time::Duration;
/// use cache_core::{clock::ManualClock, AsyncCache};
///
/// let clock = ManualClock::new();
/// let cache = AsyncCache::builder()
///     .maxsize(10)
///     .ttl(Duration::from_secs(5))
///     .clock(clock.clone())
///     .build()
///     .unwrap();
/// cache.insert("a", 1);
/// clock.advance(Duration::from_secs(4));
/// assert_eq!(cache.get("a"), Some(1));
/// clock.advance(Duration::from_secs(1));
/// assert_eq!(cache.get("a"), None);
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

#[derive(Debug)]
struct ManualInner {
    base: Instant,
    offset_nanos: AtomicU64,
}

impl ManualClock {
    /// A clock standing at the moment it is created.
    #[must_use]
    pub fn new() -> Self {
        Self {
            inner: Arc::new(ManualInner {
                base: Instant::now(),
                offset_nanos: AtomicU64::new(0),
            }),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.inner.offset_nanos.fetch_add(nanos, Ordering::SeqCst);
    }

    /// How far the clock has been moved since it was created.
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.inner.offset_nanos.load(Ordering::SeqCst))
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.inner.base + self.elapsed()
    }
}

/// A clock plus the instant the cache was built: turns instants into nanoseconds since then, the unit the store
/// keeps deadlines in (8 bytes per entry instead of 16).
#[derive(Debug, Clone)]
pub(crate) struct Timebase {
    clock: Arc<dyn Clock>,
    epoch: Instant,
}

impl Timebase {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        let epoch = clock.now();
        Self { clock, epoch }
    }

    /// Nanoseconds since the cache was built.
    pub(crate) fn now(&self) -> u64 {
        let since = self.clock.now().saturating_duration_since(self.epoch);
        u64::try_from(since.as_nanos()).unwrap_or(u64::MAX - 1)
    }

    /// The deadline `ttl` from `now`.
    pub(crate) fn deadline(now: u64, ttl: Duration) -> u64 {
        let ttl = u64::try_from(ttl.as_nanos()).unwrap_or(u64::MAX);
        // `NEVER` is reserved for "no deadline", so a huge TTL saturates just below it.
        now.saturating_add(ttl).min(crate::store::NEVER - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new();
        let t0 = clock.now();
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.now() - t0, Duration::from_millis(1500));
        let shared = clock.clone();
        shared.advance(Duration::from_secs(1));
        assert_eq!(clock.elapsed(), Duration::from_millis(2500));
    }

    #[test]
    fn timebase_counts_from_its_creation() {
        let clock = ManualClock::new();
        clock.advance(Duration::from_secs(10));
        let tb = Timebase::new(Arc::new(clock.clone()));
        assert_eq!(tb.now(), 0);
        clock.advance(Duration::from_nanos(42));
        assert_eq!(tb.now(), 42);
        assert_eq!(Timebase::deadline(5, Duration::from_nanos(10)), 15);
        assert_eq!(
            Timebase::deadline(5, Duration::MAX),
            crate::store::NEVER - 1
        );
    }
}
