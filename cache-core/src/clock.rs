//! Time sources for TTL expiry and load timing.
//!
//! The cache never sleeps and never spawns timers for expiry: it reads the time when it needs it (only for
//! entries that carry a deadline, and for load timing). The default clock, [`TokioClock`], follows tokio's
//! clock, so `tokio::time::pause()` and `tokio::time::advance()` drive expiry in tests; its docs give the exact
//! rule when one cache is used from several runtimes. [`ManualClock`] is a clock you move by hand, for tests that
//! do not run inside a runtime.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A source of the current time.
///
/// Implementations must be monotonic: a later call never returns an earlier instant. The cache reads it on every
/// operation that needs the time, so it should be cheap.
///
/// ```
/// use std::time::Instant;
/// use cache_core::{clock::Clock, AsyncCache};
///
/// #[derive(Debug)]
/// struct SystemClock;
///
/// impl Clock for SystemClock {
///     fn now(&self) -> Instant {
///         Instant::now()
///     }
/// }
///
/// let cache = AsyncCache::<u64, u64>::builder().maxsize(10).clock(SystemClock).build()?;
/// # Ok::<(), cache_core::BuildError>(())
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> Instant;
}

/// The default clock: tokio's time, kept monotonic per cache across runtimes.
///
/// Inside a current-thread runtime (the kind `#[tokio::test]` builds, and the only kind whose time tokio can
/// pause; `tokio::time::pause()` needs tokio's `test-util` feature in your tests) the cache reads that
/// runtime's clock, so TTLs can be tested with `tokio::time::advance()` and no real sleep. Elsewhere (no
/// runtime, or a multi-thread one) it reads the system's monotonic clock.
///
/// Those clocks disagree: a paused runtime's clock may stand hours ahead of the system clock, or behind it. So
/// a cache does not compare their readings; it keeps a time of its own, moved by each clock's *progress*:
///
/// * **It never goes backwards.** Whatever expired in one runtime is expired in every other one and outside.
/// * **Inside a current-thread runtime** the cache's time moves by as much as that runtime's clock has moved
///   since the cache's previous reading of it (taken on the same thread), and never falls behind a reading
///   made in another runtime. A cache used from one paused runtime alone therefore follows its clock exactly:
///   nothing expires without an `advance`, and an entry expires when the runtime's clock reaches its TTL. The
///   cache's first reading of a runtime is where the runtime starts counting: an `advance` made before the
///   cache was first used in that runtime does not count.
/// * **Outside current-thread runtimes** the cache's time moves with the system clock, from wherever a
///   runtime reading last took it.
///
/// A cache built inside a paused runtime whose clock had been advanced (a `static` first touched in one
/// `#[tokio::test]`, say) therefore counts TTLs normally everywhere else.
///
/// # Cost, and how late a hit may notice an expiry
/// Entries without a deadline never need the time. Outside current-thread runtimes, a hit (`get`, `peek`,
/// `contains_key`, the hit of `get_or_load`) on an entry with a deadline does not read the system clock (50-80
/// ns on small VMs): it reads a copy that a background thread, `cache-core-clock` (started by the first
/// operation that needs the time), refreshes every millisecond. So **an entry is never served after its TTL
/// plus that copy's lag**: one millisecond, plus however long the thread waits for a CPU after its tick. Writes
/// read the system clock itself and move the copy forward whenever it lags by more than 2 ms, so under write
/// traffic the lag stays under 2 ms even if the thread is starved; and every 256th hit on a thread reads the
/// system clock itself and moves the copy up to it, so even in a process that only reads (a forked child has no
/// clock thread) a stale time lasts at most max(the thread's lag, 255 hits on that thread). Writes, loads, removals and
/// `purge_expired` use the exact time, and no entry expires before its TTL.
///
/// Inside a current-thread runtime, writes, loads, removals and purges read that runtime's clock. Hits do too
/// (a clock read per hit) once the process has *seen* a current-thread runtime: once any cache has been built
/// inside one, or anything has read the time inside one (a write that stores a TTL, a load, a removal or a
/// purge). A `#[tokio::test]` that builds or fills its cache (every `#[async_cache]` function's first call
/// loads) has done so before its first hit, so a paused-time test sees an expiry the moment `advance` reaches
/// it. Until then hits do not ask tokio where they are and read the system clock's copy, as outside runtimes:
/// that keeps a hit outside any runtime cheap, and a service with no current-thread runtime never pays for the
/// question. The one case this changes: a cache whose entries were all written outside current-thread runtimes,
/// read by hits alone inside a paused runtime, in a process where no cache has yet been built, written or
/// loaded inside any current-thread runtime: those hits follow the system clock (an `advance` does not expire
/// them) until the first such build, write or load anywhere in the process. After it, the runtime's clock
/// counts from the cache's first reading of it, as above. Once a current-thread runtime has been seen, whether
/// a thread is in one is asked of tokio on each hit, except in a multi-thread runtime (asked once per
/// millisecond there); writes always ask (`docs/design/time.md` has the details).
///
/// ```
/// use std::time::Duration;
/// use cache_core::AsyncCache;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// // In a `#[tokio::test(start_paused = true)]`: the default clock follows the paused time.
/// let cache = AsyncCache::builder().maxsize(10).ttl(Duration::from_secs(30)).build().unwrap();
/// cache.insert(1, "one");
/// tokio::time::advance(Duration::from_secs(29)).await;
/// assert_eq!(cache.get(&1), Some("one"));
/// tokio::time::advance(Duration::from_secs(1)).await;
/// assert_eq!(cache.get(&1), None);
/// # }
/// ```
///
/// [`CacheBuilder::clock`](crate::CacheBuilder::clock) takes any other [`Clock`], read as it is on every
/// operation that needs the time.
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
    /// The most `offset_nanos` may reach: `u64::MAX`, or less where `Instant` cannot represent `base` plus that.
    max_nanos: u64,
    offset_nanos: AtomicU64,
}

impl ManualClock {
    /// A clock standing at the moment it is created.
    ///
    /// ```
    /// use cache_core::clock::ManualClock;
    ///
    /// assert_eq!(ManualClock::new().elapsed(), std::time::Duration::ZERO);
    /// ```
    #[must_use]
    pub fn new() -> Self {
        let base = Instant::now();
        Self {
            inner: Arc::new(ManualInner {
                base,
                max_nanos: max_offset(base),
                offset_nanos: AtomicU64::new(0),
            }),
        }
    }

    /// Moves the clock forward by `by`. It saturates: once it has been moved by `u64::MAX` nanoseconds (about
    /// 584 years; less where the platform's `Instant` cannot go that far) it stays there, never wrapping
    /// around to an earlier time. Every clone sees the move.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::clock::{Clock, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let before = clock.now();
    /// clock.clone().advance(Duration::from_secs(2));
    /// assert_eq!(clock.now() - before, Duration::from_secs(2));
    /// ```
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let max = self.inner.max_nanos;
        // `fetch_update` with a closure that always returns `Some` cannot fail.
        let _ = self
            .inner
            .offset_nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(by).min(max))
            });
    }

    /// How far the clock has been moved since it was created.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::clock::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// clock.advance(Duration::from_millis(1_500));
    /// assert_eq!(clock.elapsed(), Duration::from_millis(1_500));
    /// ```
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.inner.offset_nanos.load(Ordering::SeqCst))
    }
}

/// The largest number of nanoseconds that can be added to `base` (at most `u64::MAX`).
fn max_offset(base: Instant) -> u64 {
    if base.checked_add(Duration::from_nanos(u64::MAX)).is_some() {
        return u64::MAX;
    }
    // Binary search for the largest representable offset.
    let (mut lo, mut hi) = (0u64, u64::MAX);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if base.checked_add(Duration::from_nanos(mid)).is_some() {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
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
}
