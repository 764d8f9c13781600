//! Observability: `tracing` spans and events (feature `tracing`) and export through the `metrics` facade
//! (feature `metrics`).
//!
//! The load and eviction paths call the small functions here, one line each. With a feature off its half of
//! every function is compiled out: the types are zero-sized and the calls are empty, so a default build pays
//! nothing and depends on neither crate. Nothing here runs on the hit path.
//!
//! What is emitted (names are part of the contract, see `docs/observability.md`):
//!
//! | feature | what | when |
//! |---|---|---|
//! | `tracing` | span `cache.load` (DEBUG), fields `cache`, `outcome` (`ok`, `error`, `panicked`, `cancelled`, `tier`), `duration_us` | one per single-key load (`get_or_load`, `try_get_or_load`, `warmup`, the attribute); the loader runs inside it |
//! | `tracing` | span `cache.refresh` (DEBUG), same fields | one per refresh (spawned, or run by the `get_or_load` caller that claimed it) |
//! | `tracing` | event "load failed" (WARN) / "load panicked" (WARN) / "load cancelled" (DEBUG) | in the load's span |
//! | `tracing` | event "batch load" (DEBUG), fields `cache`, `keys`, `outcome`, `duration_us` | one per batch-loader call |
//! | `tracing` | event "entries left the cache" (TRACE), fields `evicted`, `expired`, `removed`, `replaced`, `cleared` | after an operation removed entries, once its lock is released |
//! | `metrics` | histogram `cache_load_duration_seconds{cache, outcome}` | every finished load of a *named* cache |
//! | `metrics` | counters and gauges of [`AsyncCache::export_metrics`] | when it is called |

use std::time::Duration;

use crate::hooks::EvictionCause;

/// How a load ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(any(feature = "tracing", feature = "metrics")), allow(dead_code))]
pub(crate) enum Outcome {
    /// The loader returned a value (stored, unless the key was removed meanwhile).
    Ok,
    /// The loader returned an error.
    Error,
    /// The loader panicked.
    Panicked,
    /// The caller running the load was dropped before it finished.
    Cancelled,
    /// No load ran: the value was found in the shared tier (feature `redis`).
    Tier,
}

impl Outcome {
    /// A value was published: loaded ([`Self::Ok`]) or, if not `loaded`, found in the shared tier.
    pub(crate) fn published(loaded: bool) -> Self {
        if loaded {
            Self::Ok
        } else {
            Self::Tier
        }
    }

    #[cfg(any(feature = "tracing", feature = "metrics"))]
    fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Panicked => "panicked",
            Self::Cancelled => "cancelled",
            Self::Tier => "tier",
        }
    }
}

/// The span of one load (zero-sized without the `tracing` feature).
#[derive(Debug)]
pub(crate) struct LoadSpan {
    #[cfg(feature = "tracing")]
    span: tracing::Span,
}

/// The span entered while a loader is polled (zero-sized without the `tracing` feature).
pub(crate) struct Entered<'a> {
    #[cfg(feature = "tracing")]
    _entered: tracing::span::Entered<'a>,
    #[cfg(not(feature = "tracing"))]
    _span: std::marker::PhantomData<&'a ()>,
}

/// A [`LoadSpan`] named `$name` (tracing wants the name as a literal, to keep it in static metadata).
macro_rules! load_span {
    ($name:literal, $cache:expr) => {{
        #[cfg(feature = "tracing")]
        {
            use tracing::field::Empty;
            let span = tracing::debug_span!(target: "cache_core", $name,
                cache = $cache, outcome = Empty, duration_us = Empty);
            LoadSpan { span }
        }
        #[cfg(not(feature = "tracing"))]
        {
            let _ = $cache;
            LoadSpan {}
        }
    }};
}

impl LoadSpan {
    /// Opens the span of a single-key load of the cache called `name`.
    #[inline]
    pub(crate) fn load(name: Option<&str>) -> Self {
        load_span!("cache.load", name)
    }

    /// Opens the span of a refresh of the cache called `name` (for `refresh_after`): spawned, or run by the caller
    /// that claimed it.
    #[inline]
    pub(crate) fn refresh(name: Option<&str>) -> Self {
        load_span!("cache.refresh", name)
    }

    /// Enters the span while the loader is polled, so the loader's own spans and events are its children.
    #[inline]
    pub(crate) fn enter(&self) -> Entered<'_> {
        Entered {
            #[cfg(feature = "tracing")]
            _entered: self.span.enter(),
            #[cfg(not(feature = "tracing"))]
            _span: std::marker::PhantomData,
        }
    }
}

/// A single-key load (or a refresh) of the cache called `name` ended with `outcome` after `took`: records both
/// on its span, emits an event for a failure, and (feature `metrics`, named caches) records the duration.
#[inline]
pub(crate) fn load_finished(span: &LoadSpan, name: Option<&str>, outcome: Outcome, took: Duration) {
    // (Each is used by some feature only.)
    let _ = (span, name, outcome, took);
    #[cfg(feature = "tracing")]
    {
        let span = &span.span;
        span.record("outcome", outcome.as_str());
        span.record("duration_us", micros(took));
        let _in = span.enter();
        match outcome {
            Outcome::Ok | Outcome::Tier => {}
            Outcome::Error => tracing::warn!(target: "cache_core", "load failed"),
            Outcome::Panicked => tracing::warn!(target: "cache_core", "load panicked"),
            Outcome::Cancelled => tracing::debug!(target: "cache_core", "load cancelled"),
        }
    }
    #[cfg(feature = "metrics")]
    record_load(name, outcome, took);
}

/// A batch-loader call of `keys` distinct keys for the cache called `name` ended with `outcome` after `took`.
#[inline]
pub(crate) fn batch_finished(name: Option<&str>, keys: usize, outcome: Outcome, took: Duration) {
    let _ = (name, keys, outcome, took);
    #[cfg(feature = "tracing")]
    tracing::debug!(target: "cache_core", cache = name, keys, outcome = outcome.as_str(),
        duration_us = micros(took), "batch load");
    #[cfg(feature = "metrics")]
    record_load(name, outcome, took);
}

/// A refresh of the cache called `name` (see [`LoadSpan::refresh`]) ended: as [`load_finished`].
#[inline]
pub(crate) fn refresh_finished(
    span: &LoadSpan,
    name: Option<&str>,
    outcome: Outcome,
    took: Duration,
) {
    load_finished(span, name, outcome, took);
}

#[cfg(feature = "tracing")]
fn micros(took: Duration) -> u64 {
    u64::try_from(took.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(feature = "metrics")]
fn record_load(name: Option<&str>, outcome: Outcome, took: Duration) {
    // Unnamed caches (the attribute's) record no histogram: their loads would all share one label.
    if let Some(name) = name {
        metrics::histogram!("cache_load_duration_seconds",
            "cache" => name.to_owned(), "outcome" => outcome.as_str())
        .record(took.as_secs_f64());
    }
}

/// How many entries left a store, by cause, within one locked operation (zero-sized without `tracing`).
/// Kept by the graveyard and reported when it is dropped, after the lock is released.
#[derive(Debug, Default)]
pub(crate) struct Departures {
    #[cfg(feature = "tracing")]
    counts: [u32; 5],
}

impl Departures {
    pub(crate) const fn new() -> Self {
        Self {
            #[cfg(feature = "tracing")]
            counts: [0; 5],
        }
    }

    /// `n` entries left for `cause`.
    #[inline]
    pub(crate) fn add(&mut self, cause: EvictionCause, n: usize) {
        #[cfg(feature = "tracing")]
        {
            let i = match cause {
                EvictionCause::Evicted => 0,
                EvictionCause::Expired => 1,
                EvictionCause::Removed => 2,
                EvictionCause::Replaced => 3,
                EvictionCause::Cleared => 4,
            };
            self.counts[i] = self.counts[i].saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        }
        #[cfg(not(feature = "tracing"))]
        let _ = (cause, n);
    }

    /// Takes `other`'s counts into this one.
    #[inline]
    pub(crate) fn merge(&mut self, other: &mut Self) {
        #[cfg(feature = "tracing")]
        for (mine, theirs) in self.counts.iter_mut().zip(&mut other.counts) {
            *mine = mine.saturating_add(std::mem::take(theirs));
        }
        #[cfg(not(feature = "tracing"))]
        let _ = other;
    }

    /// Emits one TRACE event with the counts, if any entry left.
    #[inline]
    pub(crate) fn report(&mut self) {
        #[cfg(feature = "tracing")]
        if self.counts != [0; 5] {
            let [evicted, expired, removed, replaced, cleared] = std::mem::take(&mut self.counts);
            tracing::trace!(target: "cache_core", evicted, expired, removed, replaced, cleared,
                "entries left the cache");
        }
    }
}

#[cfg(feature = "metrics")]
mod export;
#[cfg(feature = "metrics")]
pub(crate) use export::Exported;
