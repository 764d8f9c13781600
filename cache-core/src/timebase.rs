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

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::runtime::{Handle, RuntimeFlavor};

use crate::clock::Clock;

/// How many (cache, runtime) records a thread keeps; the oldest goes first. A runtime whose record was dropped
/// is read afresh next time, which can only move the cache's time forward.
const RECORDS_PER_THREAD: usize = 16;

/// A cache's source of "now", in nanoseconds.
#[derive(Debug)]
pub(crate) struct Timebase {
    kind: Kind,
}

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
    /// Outside current-thread runtimes, the cache's time is [`system_nanos`] plus this. Only grows.
    off: AtomicU64,
    /// The latest time a runtime reading has given. Only grows.
    floor: AtomicU64,
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

fn context() -> Context {
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::CurrentThread => Context::Runtime(h.id()),
        _ => Context::System,
    }
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
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Self {
            kind: Kind::Tokio(Sources {
                id: NEXT_ID.fetch_add(1, Relaxed),
                off: AtomicU64::new(0),
                floor: AtomicU64::new(0),
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

    /// The cache's time now, in nanoseconds. Never less than an earlier reading on the same thread.
    pub(crate) fn now(&self) -> u64 {
        match &self.kind {
            Kind::Custom { clock, epoch } => nanos(clock.now().saturating_duration_since(*epoch)),
            Kind::Tokio(sources) => sources.now(context()),
        }
    }

    /// The reading of a hit, `peek` or `contains_key`.
    #[inline]
    pub(crate) fn now_read(&self) -> u64 {
        self.now()
    }

    /// The deadline `ttl` from `now`.
    pub(crate) fn deadline(now: u64, ttl: Duration) -> u64 {
        // `NEVER` is reserved for "no deadline", so a huge TTL saturates just below it.
        now.saturating_add(nanos(ttl)).min(crate::store::NEVER - 1)
    }
}

impl Sources {
    fn now(&self, context: Context) -> u64 {
        match context {
            Context::System => system_nanos().saturating_add(self.off.load(Relaxed)),
            Context::Runtime(runtime) => self.in_runtime(runtime),
        }
    }

    /// A reading inside a current-thread runtime (see the module docs).
    #[cold]
    fn in_runtime(&self, runtime: tokio::runtime::Id) -> u64 {
        let clock = tokio::time::Instant::now().into_std();
        let system = system_nanos();
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
}
