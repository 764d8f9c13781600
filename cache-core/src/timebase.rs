//! A cache's time: the nanoseconds its deadlines are kept in, and how a reading of "now" is made.
//!
//! With a clock given to the builder ([`Kind::Custom`]) the cache's time is that clock's time since the cache
//! was built: one source, read as it is.
//!
//! With the default clock ([`TokioClock`](crate::clock::TokioClock)) there are several sources: the system's
//! monotonic clock, and the clock of each current-thread tokio runtime the cache is used from (the only kind
//! tokio can pause; multi-thread runtimes read the system clock). Their readings are not comparable with each
//! other (a paused runtime's clock may stand hours ahead of the system clock, or behind it), so the cache keeps
//! a time of its own, [`Sources`], built from each source's *progress*:
//!
//! * Outside current-thread runtimes the cache's time is the system clock plus an offset, `off`, which only
//!   grows.
//! * A current-thread runtime's reading is the cache's time at the cache's previous reading of that runtime (a
//!   record kept per thread, [`RECORDS`]) plus how far that runtime's clock has moved since, and at least the
//!   latest time any runtime reading has given, `floor`. The first reading of a runtime is the cache's current
//!   time (`floor`, or the system clock plus `off` if that is later): what a runtime's clock did before the
//!   cache first read it does not count.
//! * After a runtime reading, `off` is raised so that the system clock plus `off` is at least that reading:
//!   time outside runtimes continues from where the runtime took it, at the system clock's pace.
//!
//! So: the cache's time never goes backwards for anyone reading the system clock; inside one paused runtime it
//! moves exactly with that runtime's clock (and with what other runtimes' readings add); and what expired
//! inside a runtime is expired everywhere.
//!
//! # The read path
//! A hit outside current-thread runtimes reads the system clock through [`coarse`]: one atomic load of a value
//! a background thread refreshes every millisecond, instead of a clock read. Writes (and everything else that
//! needs the time: loads, removals, purges, reclaiming an expired entry) read the system clock itself. So a
//! hit may see the cache's time up to the coarse clock's lag behind, and an entry may be served that much past
//! its deadline, never more ([`Timebase::now_read`]).
//!
//! A hit outside current-thread runtimes also reads the system clock itself on every [`READ_REFRESH`]th read
//! on its thread, and moves the coarse clock up to that reading: a stale coarse time (a starved ticker, or a
//! forked child, which has no ticker thread) lasts at most max(ticker lag, [`READ_REFRESH`] - 1 reads on that
//! thread), even in a process that only reads.
//!
//! A write asks tokio (`Handle::try_current`) which kind of context its thread is in every time, unless the
//! thread was found in a multi-thread runtime during the current tick. A hit asks only once the process has
//! seen a current-thread runtime ([`CURRENT_THREAD_SEEN`]: set by any reading that asks and finds one, and by
//! a cache's build in one; never cleared). Until then a hit reads the coarse system time without asking, and
//! so do a hit's periodic precise reads: inside a paused runtime, hits on entries written elsewhere follow the
//! system clock until the first write, load or build in any current-thread runtime (the documented gap). Once
//! it is set, a hit asks every time, except on a thread found in a multi-thread runtime during the current
//! tick, whose answer is kept per thread ([`READ_SYSTEM`]) with the coarse time it was given at. "No runtime"
//! is never trusted without asking then: a thread may enter a current-thread runtime at any time.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;
use tokio::runtime::{Handle, RuntimeFlavor};

use crate::clock::Clock;
use crate::coarse;

/// How many (cache, runtime) records a thread keeps; the oldest goes first. A runtime whose record was dropped
/// is read afresh next time, which can only move the cache's time forward.
const RECORDS_PER_THREAD: usize = 16;

/// A cache's source of "now", in nanoseconds.
#[derive(Debug)]
pub(crate) struct Timebase {
    kind: Kind,
}

// One per cache, and `Tokio`'s size is the padding that keeps `off` on a cache line of its own: boxing it would
// add a dependent load to every hit.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Kind {
    /// A clock given to the builder, and the instant the cache was built.
    Custom {
        clock: Arc<dyn Clock>,
        epoch: Instant,
    },
    /// The default clock: the system clock and tokio runtimes' clocks.
    Tokio(Sources),
}

/// The state of a cache's time under the default clock (see the module docs).
#[derive(Debug)]
struct Sources {
    /// Keys this cache's records in [`RECORDS`].
    id: u64,
    /// Outside current-thread runtimes, the cache's time is [`system_nanos`] plus this. Only grows. Read by
    /// every hit on an entry with a deadline, written only by runtime readings: on a cache line of its own, away
    /// from the cache's busier fields.
    off: CachePadded<AtomicU64>,
    /// The latest time a runtime reading has given. Only grows.
    floor: AtomicU64,
    system: System,
}

/// Where system-clock readings come from.
#[derive(Debug)]
enum System {
    /// The system's monotonic clock, and [`coarse`] for hits.
    Real,
    /// Both set by hand, for tests of the read path's bound.
    #[cfg(test)]
    Manual(Arc<ManualSystem>),
}

/// A system clock and coarse clock moved by hand.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct ManualSystem {
    pub(crate) precise: AtomicU64,
    pub(crate) coarse: AtomicU64,
}

/// The cache's previous reading of one runtime's clock, on this thread.
struct Record {
    cache: u64,
    runtime: tokio::runtime::Id,
    /// The runtime's clock at that reading.
    clock: Instant,
    /// The cache's time it gave.
    time: u64,
}

thread_local! {
    static RECORDS: RefCell<Vec<Record>> = const { RefCell::new(Vec::new()) };
}

/// Where a reading comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    /// No runtime, or a multi-thread one: the system clock.
    System,
    /// A current-thread runtime, whose clock tokio may pause.
    Runtime(tokio::runtime::Id),
}

/// Every this many hits on a thread, one reads the system clock itself and moves the coarse clock up to it.
const READ_REFRESH: u32 = 256;

thread_local! {
    /// The coarse time of the tick during which this thread may read the system clock on the read path without
    /// asking tokio (0: ask). Set only in multi-thread runtimes.
    static READ_SYSTEM: Cell<u64> = const { Cell::new(0) };
    /// The coarse time of the tick during which this thread was found in a multi-thread runtime (0: none).
    static MULTI_THREAD: Cell<u64> = const { Cell::new(0) };
    /// Hits on this thread until the next one that reads the system clock itself.
    static READS_LEFT: Cell<u32> = const { Cell::new(READ_REFRESH) };
}

/// Whether anything in this process has found a current-thread runtime when asking tokio: a time reading
/// (every write, load, removal and purge asks, outside multi-thread runtimes) or a cache's build. Set once,
/// never cleared. While it is clear, hits do not ask tokio at all (see the module docs).
static CURRENT_THREAD_SEEN: AtomicBool = AtomicBool::new(false);

/// Whether hits must ask tokio where they are: a current-thread runtime has been seen in this process.
#[inline]
fn current_thread_seen() -> bool {
    CURRENT_THREAD_SEEN.load(Relaxed)
}

/// Records that a current-thread runtime has been seen (written once: later calls only read).
#[cold]
fn see_current_thread() {
    if !CURRENT_THREAD_SEEN.load(Relaxed) {
        CURRENT_THREAD_SEEN.store(true, Relaxed);
    }
}

/// A cache's build: asks tokio once whether this thread is in a current-thread runtime, so that a cache built
/// in one (a `#[tokio::test]`, say) has its hits there ask from the start.
pub(crate) fn note_build() {
    if Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::CurrentThread) {
        see_current_thread();
    }
}

/// Asks tokio where this thread is, and remembers the answer for the tick `at`.
fn context(at: u64) -> Context {
    let (read_system, multi, context) = match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::CurrentThread => {
            see_current_thread();
            (0, 0, Context::Runtime(h.id()))
        }
        Ok(_) => (at, at, Context::System),
        // Outside any runtime: never trusted without asking (the thread may enter a current-thread runtime).
        Err(_) => (0, 0, Context::System),
    };
    let _ = READ_SYSTEM.try_with(|c| c.set(read_system));
    let _ = MULTI_THREAD.try_with(|c| c.set(multi));
    context
}

/// Whether this hit is the thread's [`READ_REFRESH`]th since the last one that read the system clock itself.
#[inline]
fn refresh_due() -> bool {
    READS_LEFT
        .try_with(|c| {
            let left = c.get().saturating_sub(1);
            if left == 0 {
                c.set(READ_REFRESH);
                true
            } else {
                c.set(left);
                false
            }
        })
        .unwrap_or(true)
}

/// Whether a read on this thread during the tick `at` (not 0) may read the system clock without asking tokio.
#[inline]
fn read_system(at: u64) -> bool {
    READ_SYSTEM.try_with(Cell::get).is_ok_and(|t| t == at)
}

/// Whether a write on this thread during the tick `at` may read the system clock without asking tokio: only in
/// a multi-thread runtime (whose handle every worker would otherwise clone).
#[inline]
fn write_system(at: u64) -> bool {
    at != 0 && MULTI_THREAD.try_with(Cell::get).is_ok_and(|t| t == at)
}

/// The instant every cache's system-clock readings count from.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Nanoseconds since [`epoch`] on the system's monotonic clock.
fn system_nanos() -> u64 {
    nanos(epoch().elapsed())
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Timebase {
    /// The time of a cache built with the default clock.
    pub(crate) fn tokio() -> Self {
        Self::with_system(System::Real)
    }

    /// The default clock's time with system readings set by hand.
    #[cfg(test)]
    pub(crate) fn manual_system(system: Arc<ManualSystem>) -> Self {
        Self::with_system(System::Manual(system))
    }

    fn with_system(system: System) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Self {
            kind: Kind::Tokio(Sources {
                id: NEXT_ID.fetch_add(1, Relaxed),
                off: CachePadded::new(AtomicU64::new(0)),
                floor: AtomicU64::new(0),
                system,
            }),
        }
    }

    /// The time of a cache built with `clock`.
    pub(crate) fn custom(clock: Arc<dyn Clock>) -> Self {
        let epoch = clock.now();
        Self {
            kind: Kind::Custom { clock, epoch },
        }
    }

    /// The cache's time now, in nanoseconds, read precisely: for writes, loads, removals, purges and
    /// reclaiming expired entries. Never less than an earlier `now` or `now_read` on the same thread.
    pub(crate) fn now(&self) -> u64 {
        match &self.kind {
            Kind::Custom { clock, epoch } => nanos(clock.now().saturating_duration_since(*epoch)),
            Kind::Tokio(sources) => sources.now(),
        }
    }

    /// The cache's time for a hit, `peek` or `contains_key`. Outside current-thread runtimes it may lag the time
    /// [`now`](Self::now) would give by the coarse clock's lag (see the module docs); otherwise it is `now`.
    #[inline]
    pub(crate) fn now_read(&self) -> u64 {
        match &self.kind {
            Kind::Tokio(sources) => sources.now_read(),
            Kind::Custom { .. } => self.now(),
        }
    }

    /// The deadline `ttl` from `now`.
    pub(crate) fn deadline(now: u64, ttl: Duration) -> u64 {
        // `NEVER` is reserved for "no deadline", so a huge TTL saturates just below it.
        now.saturating_add(nanos(ttl)).min(crate::store::NEVER - 1)
    }
}

impl Sources {
    /// The coarse clock's time (0 if it has none yet).
    #[inline]
    fn coarse(&self) -> u64 {
        match &self.system {
            System::Real => coarse::now(),
            #[cfg(test)]
            System::Manual(m) => m.coarse.load(Relaxed),
        }
    }

    /// The system clock's time.
    fn precise(&self) -> u64 {
        match &self.system {
            System::Real => {
                let now = system_nanos();
                coarse::push(now);
                now
            }
            #[cfg(test)]
            System::Manual(m) => m.precise.load(Relaxed),
        }
    }

    fn now(&self) -> u64 {
        let at = self.coarse();
        let context = if write_system(at) {
            Context::System
        } else {
            context(at)
        };
        match context {
            Context::System => {
                if at == 0 {
                    self.start();
                }
                self.precise().saturating_add(self.off.load(Relaxed))
            }
            Context::Runtime(runtime) => self.in_runtime(runtime),
        }
    }

    /// The system clock's time, moving the coarse clock up to it (a hit's periodic refresh).
    #[cold]
    fn precise_refresh(&self) -> u64 {
        match &self.system {
            System::Real => {
                let now = system_nanos();
                coarse::advance(now);
                now
            }
            #[cfg(test)]
            System::Manual(m) => {
                let now = m.precise.load(Relaxed);
                m.coarse.fetch_max(now, Relaxed);
                now
            }
        }
    }

    #[inline]
    fn now_read(&self) -> u64 {
        if refresh_due() {
            return self.now_read_refresh();
        }
        let at = self.coarse();
        if at != 0 && (!current_thread_seen() || read_system(at)) {
            return at.saturating_add(self.off.load(Relaxed));
        }
        self.now_read_slow(at)
    }

    /// Where a hit is: the system clock without asking tokio while no current-thread runtime has been seen.
    #[inline]
    fn read_context(at: u64) -> Context {
        if current_thread_seen() {
            context(at)
        } else {
            Context::System
        }
    }

    #[cold]
    #[inline(never)]
    fn now_read_slow(&self, at: u64) -> u64 {
        match Self::read_context(at) {
            Context::System if at != 0 => at.saturating_add(self.off.load(Relaxed)),
            Context::System => {
                self.start();
                self.precise().saturating_add(self.off.load(Relaxed))
            }
            Context::Runtime(runtime) => self.in_runtime(runtime),
        }
    }

    /// A hit that reads the system clock itself and moves the coarse clock up to it (see the module docs).
    #[cold]
    #[inline(never)]
    fn now_read_refresh(&self) -> u64 {
        let at = self.coarse();
        match Self::read_context(at) {
            Context::System => {
                if at == 0 {
                    self.start();
                }
                self.precise_refresh()
                    .saturating_add(self.off.load(Relaxed))
            }
            Context::Runtime(runtime) => self.in_runtime(runtime),
        }
    }

    /// Starts the coarse clock (the real one; a manual one needs no start).
    #[cold]
    fn start(&self) {
        if matches!(self.system, System::Real) {
            coarse::start(system_nanos);
        }
    }

    /// A reading inside a current-thread runtime (see the module docs).
    #[cold]
    fn in_runtime(&self, runtime: tokio::runtime::Id) -> u64 {
        let clock = tokio::time::Instant::now().into_std();
        let system = self.precise();
        let floor = self.floor.load(Relaxed);
        let fresh = || floor.max(system.saturating_add(self.off.load(Relaxed)));
        let time = RECORDS
            .try_with(|records| {
                let mut records = records.borrow_mut();
                let found = records
                    .iter_mut()
                    .find(|r| r.cache == self.id && r.runtime == runtime);
                match found {
                    Some(r) => {
                        let moved = nanos(clock.saturating_duration_since(r.clock));
                        let time = r.time.saturating_add(moved).max(floor);
                        (r.clock, r.time) = (clock, time);
                        time
                    }
                    None => {
                        let time = fresh();
                        if records.len() == RECORDS_PER_THREAD {
                            records.remove(0);
                        }
                        records.push(Record {
                            cache: self.id,
                            runtime,
                            clock,
                            time,
                        });
                        time
                    }
                }
            })
            // The thread is exiting: a fresh reading.
            .unwrap_or_else(|_| fresh());
        if time > floor {
            self.floor.fetch_max(time, Relaxed);
        }
        if time > system.saturating_add(self.off.load(Relaxed)) {
            self.off.fetch_max(time - system, Relaxed);
        }
        time
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn a_custom_clock_counts_from_the_build() {
        let clock = ManualClock::new();
        clock.advance(Duration::from_secs(10));
        let tb = Timebase::custom(Arc::new(clock.clone()));
        assert_eq!(tb.now(), 0);
        clock.advance(Duration::from_nanos(42));
        assert_eq!(tb.now(), 42);
        assert_eq!(tb.now_read(), 42);
        assert_eq!(Timebase::deadline(5, Duration::from_nanos(10)), 15);
        assert_eq!(
            Timebase::deadline(5, Duration::MAX),
            crate::store::NEVER - 1
        );
    }

    #[test]
    fn system_readings_never_go_backwards() {
        let tb = Timebase::tokio();
        let mut last = tb.now();
        for _ in 0..1_000 {
            let now = tb.now();
            assert!(now >= last);
            last = now;
        }
    }

    #[test]
    fn records_per_thread_are_bounded_and_a_dropped_one_only_moves_time_forward() {
        let caches: Vec<Timebase> = (0..RECORDS_PER_THREAD + 4)
            .map(|_| Timebase::tokio())
            .collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let first: Vec<u64> = caches.iter().map(Timebase::now).collect();
            assert_eq!(RECORDS.with(|r| r.borrow().len()), RECORDS_PER_THREAD);
            tokio::time::advance(Duration::from_secs(1)).await;
            // The most recent records were kept: those caches see exactly the runtime's second. Read them
            // first, before the others' fresh readings push them out.
            for (tb, before) in caches.iter().zip(&first).rev().take(RECORDS_PER_THREAD) {
                assert_eq!(tb.now(), before + 1_000_000_000);
            }
            // The oldest were dropped: read afresh, never earlier than before.
            for (tb, before) in caches.iter().zip(&first).take(4) {
                assert!(tb.now() >= *before);
            }
        });
    }

    /// A system clock at `precise` whose coarse clock lags it by `lag`.
    fn set(system: &ManualSystem, precise: u64, lag: u64) {
        system.precise.store(precise, Relaxed);
        system.coarse.store(precise - lag, Relaxed);
    }

    #[test]
    fn a_read_uses_the_coarse_clock_and_a_write_the_precise_one() {
        let system = Arc::new(ManualSystem::default());
        set(&system, 1_000_000, 0);
        let tb = Timebase::manual_system(Arc::clone(&system));
        assert_eq!(tb.now(), 1_000_000);
        assert_eq!(tb.now_read(), 1_000_000);
        set(&system, 1_700_000, 600_000);
        assert_eq!(tb.now(), 1_700_000);
        assert_eq!(tb.now_read(), 1_100_000);
    }

    /// The bound of the read path: an entry is served at most the coarse clock's lag past its deadline, never
    /// later, and a write or reclaim sees the precise time.
    #[test]
    fn a_hit_serves_an_entry_at_most_the_coarse_lag_past_its_deadline() {
        const TTL: u64 = 5_000_000_000;
        for lag in [0, 1, 1_000_000, 3_000_000] {
            let system = Arc::new(ManualSystem::default());
            set(&system, 10_000_000_000, 0);
            let cache = crate::AsyncCache::builder()
                .maxsize(8)
                .ttl(Duration::from_nanos(TTL))
                .timebase(Timebase::manual_system(Arc::clone(&system)))
                .build()
                .unwrap();
            cache.insert(1u8, 1u8);
            let deadline = 10_000_000_000 + TTL;
            // The system clock is `lag` past the deadline, less a nanosecond: the coarse clock has not reached it.
            if lag > 0 {
                set(&system, deadline + lag - 1, lag);
                assert_eq!(cache.peek(&1), Some(1), "lag {lag}");
                assert!(cache.contains_key(&1));
                assert_eq!(cache.get(&1), Some(1));
            }
            // `lag` past it: expired, whatever the coarse clock's lag up to `lag`.
            set(&system, deadline + lag, lag);
            assert_eq!(cache.peek(&1), None, "lag {lag}");
            assert!(!cache.contains_key(&1));
            assert_eq!(cache.get(&1), None);
            // The hit reclaimed it with the precise time: gone, and counted once.
            assert_eq!(cache.len(), 0);
            assert_eq!(cache.metrics().expirations, 1);
        }
    }

    /// A process that only reads (a forked child has no ticker, a starved ticker stops) still moves the coarse
    /// clock: every `READ_REFRESH`th hit on a thread reads the system clock and pushes it, so an expired entry
    /// is served by at most `READ_REFRESH - 1` hits on that thread.
    #[test]
    fn reads_alone_refresh_a_stale_coarse_clock_within_read_refresh_hits() {
        let system = Arc::new(ManualSystem::default());
        set(&system, 10_000_000_000, 0);
        let cache = crate::AsyncCache::builder()
            .maxsize(8)
            .ttl(Duration::from_secs(1))
            .timebase(Timebase::manual_system(Arc::clone(&system)))
            .build()
            .unwrap();
        cache.insert(1u8, 1u8);
        // The system clock is an hour past the deadline; the coarse clock never moves by itself.
        system
            .precise
            .store(10_000_000_000 + 3_600_000_000_000, Relaxed);
        let served = (0..READ_REFRESH)
            .take_while(|_| cache.get(&1) == Some(1))
            .count();
        assert!(served < READ_REFRESH as usize, "served {served} times");
        assert_eq!(cache.get(&1), None);
        assert_eq!(system.coarse.load(Relaxed), system.precise.load(Relaxed));
        assert_eq!(cache.metrics().expirations, 1);
    }
}
