//! The guard of a single-key load ([`Leader`]): it records the load, stores and shares the value, or tells the
//! waiters to retry when the load fails, panics or is cancelled; and the [`PanicMark`] that tells those apart.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::flight::{Flight, Outcome};
use crate::hooks::{Terms, Ttl};
use crate::load_future::Loaded;
use crate::observe::{self, LoadSpan};
use crate::reentry::{self, RunId};
use crate::tier::Fill;
use crate::AsyncCache;

/// Whether a panic escaped a loader: set while the loader is polled and kept once it returns, until the load's
/// guard has recorded the outcome. A guard dropped with the mark set was unwound by a panic of the loader (or of
/// user code run on its value: `expire_after`, the weigher, `Clone`), even if the caller then caught the panic,
/// when `std::thread::panicking()` is false again by the time the guard is dropped. A guard dropped with the mark
/// clear was cancelled (also when a panic elsewhere in the caller's task unwound it).
#[derive(Default)]
pub(crate) struct PanicMark(AtomicBool);

impl PanicMark {
    /// Polls a loader future as part of `run`, keeping the mark set unless it is pending.
    pub(crate) fn poll<F: Future>(
        &self,
        run: RunId,
        load: std::pin::Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Poll<F::Output> {
        self.0.store(true, Relaxed);
        let polled = reentry::poll_as(run, load, cx);
        if polled.is_pending() {
            self.0.store(false, Relaxed);
        }
        polled
    }

    /// A mark already set: for a guard made just before user code that may panic before any poll (a batch
    /// closure's call).
    pub(crate) fn armed() -> Self {
        Self(AtomicBool::new(true))
    }

    /// The outcome is recorded: a later `Drop` is not a panic of the loader.
    pub(crate) fn clear(&self) {
        self.0.store(false, Relaxed);
    }

    /// Whether a panic escaped the loader or the handling of its value.
    pub(crate) fn panicked(&self) -> bool {
        self.0.load(Relaxed)
    }
}

/// The caller running a single-key load. Dropped without `publish`/`fail` (cancelled, or unwinding from a
/// panic), it unregisters the flight and tells the waiters to retry.
pub(crate) struct Leader<'a, K, V>
where
    K: crate::CacheKey,
    V: crate::CacheValue,
{
    cache: &'a AsyncCache<K, V>,
    hash: u64,
    flight: Arc<Flight<V>>,
    started: u64,
    /// How the TTL of the value is decided.
    ttl: Ttl,
    /// Whether the flight may still be registered (so `Drop` must unregister it).
    registered: bool,
    /// The load's span, until its outcome is reported.
    span: Option<LoadSpan>,
    /// Whether a panic escaped the loader (see [`PanicMark`]).
    mark: PanicMark,
}

impl<'a, K, V> Leader<'a, K, V>
where
    K: crate::CacheKey,
    V: crate::CacheValue,
{
    pub(crate) fn new(
        cache: &'a AsyncCache<K, V>,
        hash: u64,
        flight: Arc<Flight<V>>,
        ttl: Ttl,
    ) -> Self {
        Self {
            cache,
            hash,
            flight,
            started: cache.inner.time.now(),
            ttl,
            registered: true,
            span: Some(LoadSpan::load(cache.name())),
            mark: PanicMark::default(),
        }
    }

    /// Polls the loader as part of `run`, inside the load's span.
    pub(crate) fn poll_load<F: Future>(
        &self,
        run: RunId,
        load: std::pin::Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Poll<F::Output> {
        let _in = self.enter();
        self.mark.poll(run, load, cx)
    }

    /// Enters the load's span while the loader is polled (see [`crate::observe`]).
    pub(crate) fn enter(&self) -> Option<observe::Entered<'_>> {
        self.span.as_ref().map(LoadSpan::enter)
    }

    /// Reports how the load ended (once).
    fn report(&mut self, outcome: observe::Outcome, took: Duration) {
        if let Some(span) = self.span.take() {
            observe::load_finished(&span, self.cache.name(), outcome, took);
        }
    }

    /// Ends the flight with what the loader returned, which is handed back: a value is stored (unless the
    /// flight was detached) and shared with the waiters; an error is counted and the waiters retry.
    ///
    /// With a shared tier, `fill` writes a stored value there too (and releases the lease across replicas); a
    /// value that was not stored (the flight was detached by a write) is not written, and `fill` is dropped,
    /// which releases the lease.
    pub(crate) fn conclude<R: Loaded<V>>(
        self,
        key: K,
        loaded: R,
        fill: Option<Box<dyn Fill<V>>>,
    ) -> R {
        match loaded.value() {
            Some(value) => {
                let terms = self.cache.terms_for(self.ttl, &key, value);
                let ttl = terms.ttl;
                if self.publish_as(key, value, terms, true) {
                    if let Some(fill) = fill {
                        fill.fill(value, ttl);
                    }
                }
            }
            None => self.fail(),
        }
        loaded
    }

    /// Ends the flight with a value found in the shared tier, which may live in L1 for `ttl` at most. Not a
    /// load: the load statistics are left alone.
    pub(crate) fn found(self, key: K, value: &V, ttl: Option<Duration>) {
        let terms = self.cache.terms_for(Ttl::Fixed(ttl), &key, value);
        self.publish_as(key, value, terms, false);
    }

    /// Stores a copy of the value (unless the flight was detached) and shares one with the waiters; returns
    /// whether it was stored. Takes the value by reference and makes each copy in its own small frame, so a large
    /// `V` is never on the stack more than once here (see `docs/design/large-values.md`).
    pub(super) fn publish(self, key: K, value: &V) -> bool {
        // Decide the TTL and weight before `registered` is cleared: if `expire_after` or the weigher panics,
        // `Drop` still unregisters the flight (and the waiters retry).
        let terms = self.cache.terms_for(self.ttl, &key, value);
        self.publish_as(key, value, terms, true)
    }

    /// [`publish`](Self::publish) with the TTL and weight decided; `load`: record it as a load.
    fn publish_as(mut self, key: K, value: &V, mut terms: Terms, load: bool) -> bool {
        let took = self.cache.since(self.started);
        if load {
            self.cache.inner.loads.lock().record(took, true);
        }
        // Counted: a panic from here on (a user `Clone`) is not a second outcome.
        self.mark.clear();
        self.report(observe::Outcome::published(load), took);
        if let Some(tier) = &self.cache.inner.tier {
            terms.ttl = tier.l1_ttl(terms.ttl);
        }
        // Copy before `registered` is cleared: if a user `Clone` panics, `Drop` still unregisters the flight
        // (and the waiters retry).
        let stored_copy = value.clone();
        // From here on `Drop` must not lock: `store` takes the shard lock and ends the flight itself.
        self.registered = false;
        let stored = self
            .cache
            .store(self.hash, key, stored_copy, terms, Some(&self.flight));
        crate::model::switch();
        // If this `Clone` panics, `Drop` tells the waiters to retry: they find the stored value.
        share(&self.flight, value);
        stored
    }

    fn fail(mut self) {
        let took = self.cache.since(self.started);
        self.cache.inner.loads.lock().record(took, false);
        self.mark.clear();
        self.report(observe::Outcome::Error, took);
        // `Drop` unregisters the flight and tells the waiters to retry.
    }
}

/// Finishes `flight` with a copy of `value`.
pub(crate) fn share<V: Clone>(flight: &Flight<V>, value: &V) {
    flight.publish(Outcome::Value(value.clone()));
}

impl<K, V> Drop for Leader<'_, K, V>
where
    K: crate::CacheKey,
    V: crate::CacheValue,
{
    fn drop(&mut self) {
        if self.registered {
            self.cache
                .inner
                .shards
                .lock(self.hash)
                .deregister_flight(self.hash, &self.flight);
            let took = self.cache.since(self.started);
            if self.mark.panicked() {
                self.cache.inner.loads.lock().record(took, false);
                self.report(observe::Outcome::Panicked, took);
            } else {
                self.report(observe::Outcome::Cancelled, took);
                crate::model::switch();
            }
        }
        // A no-op if the value was already published.
        self.flight.publish(Outcome::Retry);
    }
}
