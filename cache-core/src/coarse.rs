//! A coarse system clock for the read path: one atomic load instead of a clock read.
//!
//! A background thread (`cache-core-clock`, started by the first cache operation that needs the time) stores the
//! system clock, as [`timebase::system_nanos`](crate::timebase), every [`TICK`]. A hit on an entry with a
//! deadline compares it with that value instead of reading the clock (50-80 ns on the 2-vCPU machines of
//! `docs/benchmarks.md`, and it stops the CPU from overlapping the memory stalls of consecutive lookups). The
//! value lags the system clock by at most one tick plus however long the thread waits for a CPU after its
//! sleep; writes, which read the system clock anyway, push it forward when it lags by more than [`PUSH_LAG`]
//! (a starved or stopped ticker, or a forked child, which has no ticker thread), and so does every 256th hit on
//! each thread ([`advance`]), so a stale value lasts at most max(ticker lag, 255 hits on that thread) even in a
//! process that only reads.
//!
//! Until the thread has stored its first value (or if it could not be started), [`now`] is 0 and readers read
//! the system clock instead.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Once;
use std::time::Duration;

use crossbeam_utils::CachePadded;

/// How often the ticker thread stores the time.
pub(crate) const TICK: Duration = Duration::from_millis(1);

/// A write that finds the coarse clock lagging by more than this stores its own reading.
pub(crate) const PUSH_LAG: Duration = Duration::from_millis(2);

/// The system clock (nanoseconds since the process's time epoch) as of the latest tick; 0 until the first. On a
/// cache line of its own: every TTL hit reads it.
static NOW: CachePadded<AtomicU64> = CachePadded::new(AtomicU64::new(0));

/// The latest tick's time, or 0 if there is none yet.
#[inline]
pub(crate) fn now() -> u64 {
    NOW.load(Relaxed)
}

/// Starts the ticker thread, once per process. If the thread cannot be spawned, [`now`] stays 0.
#[cold]
pub(crate) fn start(system: fn() -> u64) {
    static START: Once = Once::new();
    START.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("cache-core-clock".to_owned())
            .spawn(move || loop {
                NOW.fetch_max(system().max(1), Relaxed);
                std::thread::sleep(TICK);
            });
        if spawned.is_ok() {
            NOW.fetch_max(system().max(1), Relaxed);
        }
    });
}

/// A writer's precise reading `system`: moves the coarse clock up to it if it lags by more than [`PUSH_LAG`].
#[inline]
pub(crate) fn push(system: u64) {
    let coarse = now();
    #[allow(clippy::cast_possible_truncation)] // 2 ms in nanoseconds
    if coarse != 0 && system > coarse + PUSH_LAG.as_nanos() as u64 {
        NOW.fetch_max(system, Relaxed);
    }
}

/// A hit's precise reading `system` (every 256th hit on a thread): moves the coarse clock up to it if it lags.
#[inline]
pub(crate) fn advance(system: u64) {
    let coarse = now();
    if coarse != 0 && system > coarse {
        NOW.fetch_max(system, Relaxed);
    }
}
