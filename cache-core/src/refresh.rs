//! Refresh-ahead (`refresh_after`): `get_or_refresh`, `try_get_or_refresh`, and the background reload a stale hit
//! starts. The reasoning is in `docs/design/refresh.md`.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::Arc;

use crate::flight::{Flight, Outcome};
use crate::hooks::Ttl;
use crate::load::{share, PanicMark};
use crate::load_future::{LoadOne, Loaded};
use crate::observe::{self, LoadSpan};
use crate::reentry::RunId;
use crate::store::{Found, NEVER};
use crate::AsyncCache;

/// What a refreshing lookup found.
pub(crate) enum Read<V> {
    /// A live value, not due for a refresh (or one is in flight).
    Fresh(V),
    /// A live value due for a refresh.
    Stale(V),
    /// Nothing live: the loading path decides.
    Miss,
}

impl<K, V> AsyncCache<K, V>
where
    K: crate::CacheKey,
    V: crate::CacheValue,
{
    /// [`get_or_load`](Self::get_or_load) that also keeps the value fresh: in a cache built with
    /// [`refresh_after`](crate::CacheBuilder::refresh_after), a hit on a value that old returns it at once and
    /// spawns `load` on the current tokio runtime to reload the key in the background (one reload per key at a
    /// time, joined with any load of the key in flight; see `refresh_after` for the whole contract). Hence the
    /// `Send + 'static` bound, which `get_or_load` does not have: `get_or_load` refreshes too, but its claiming
    /// caller waits for its own future. Without `refresh_after` this is exactly `get_or_load`; outside a tokio
    /// runtime a due hit returns the value and refreshes nothing.
    ///
    /// # Panics
    /// As [`get_or_load`](Self::get_or_load). A panic of a background reload is caught by the runtime and counted
    /// in [`Metrics::refresh_failures`](crate::Metrics::refresh_failures); it reaches nobody.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use cache_core::AsyncCache;
    ///
    /// tokio::time::pause();
    /// let cache: AsyncCache<u64, String> =
    ///     AsyncCache::builder().maxsize(100).refresh_after(Duration::from_secs(10)).build().unwrap();
    /// let fetch = |id: u64, version: u32| async move { format!("user {id} v{version}") };
    /// assert_eq!(cache.get_or_refresh(1, fetch(1, 1)).await, "user 1 v1");
    /// tokio::time::advance(Duration::from_secs(11)).await;
    /// assert_eq!(cache.get_or_refresh(1, fetch(1, 2)).await, "user 1 v1"); // stale, served at once
    /// tokio::task::yield_now().await;
    /// assert_eq!(cache.get_or_refresh(1, fetch(1, 3)).await, "user 1 v2"); // refreshed meanwhile
    /// # }
    /// ```
    pub fn get_or_refresh<F>(&self, key: K, load: F) -> impl Future<Output = V> + use<'_, K, V, F>
    where
        F: Future<Output = V> + Send + 'static,
    {
        self.refreshing(key, load)
    }

    /// [`try_get_or_load`](Self::try_get_or_load) that also keeps the value fresh, as
    /// [`get_or_refresh`](Self::get_or_refresh). A background reload's error is dropped (counted in
    /// [`Metrics::refresh_failures`](crate::Metrics::refresh_failures)); the old value stays until its TTL and the
    /// next hit on it tries again.
    ///
    /// # Errors
    /// The error of this caller's own `load`, if it ran in the foreground (a miss) and failed.
    ///
    /// # Panics
    /// As [`try_get_or_load`](Self::try_get_or_load).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use cache_core::AsyncCache;
    ///
    /// tokio::time::pause();
    /// let cache: AsyncCache<&str, u32> =
    ///     AsyncCache::builder().maxsize(10).refresh_after(Duration::from_secs(1)).build().unwrap();
    /// assert_eq!(cache.try_get_or_refresh("k", async { Ok::<_, String>(1) }).await, Ok(1));
    /// tokio::time::advance(Duration::from_secs(2)).await;
    /// let stale = cache.try_get_or_refresh("k", async { Err("backend down".to_string()) }).await;
    /// assert_eq!(stale, Ok(1)); // the failing reload runs in the background
    /// tokio::task::yield_now().await;
    /// assert_eq!(cache.get(&"k"), Some(1));
    /// assert_eq!(cache.metrics().refresh_failures, 1);
    /// # }
    /// ```
    pub fn try_get_or_refresh<E, F>(
        &self,
        key: K,
        load: F,
    ) -> impl Future<Output = Result<V, E>> + use<'_, K, V, E, F>
    where
        F: Future<Output = Result<V, E>> + Send + 'static,
    {
        self.refreshing(key, load)
    }

    async fn refreshing<R, F>(&self, key: K, load: F) -> R
    where
        R: Loaded<V>,
        F: Future<Output = R> + Send + 'static,
    {
        if self.inner.config.refresh_after.is_some() {
            let hash = self.inner.shards.hash(&key);
            match self.read_refreshing(hash, &key) {
                Read::Fresh(value) => return R::found(value),
                Read::Stale(value) => {
                    self.refresh(hash, &key, || load);
                    return R::found(value);
                }
                Read::Miss => {}
            }
        }
        LoadOne::new(self, key, Ttl::Default, load)
            .without_refresh()
            .await
    }

    /// The fast path of a cached fn with `refresh_after`: a live value counted as a hit (a miss is not counted:
    /// the loading call that follows counts it); on a hit due for a refresh, `reload()` is spawned.
    pub(crate) fn hit_or_refresh<R, F>(&self, key: &K, reload: impl FnOnce() -> F) -> Option<V>
    where
        R: Loaded<V>,
        F: Future<Output = R> + Send + 'static,
    {
        let hash = self.inner.shards.hash(key);
        match self.read_refreshing(hash, key) {
            Read::Fresh(value) => Some(value),
            Read::Stale(value) => {
                self.refresh(hash, key, reload);
                Some(value)
            }
            Read::Miss => None,
        }
    }

    /// The read-locked lookup of a refreshing load: counts a hit, not a miss (the load that follows counts it).
    pub(crate) fn read_refreshing(&self, hash: u64, key: &K) -> Read<V> {
        self.inner.shards.read(hash, |shard, local| {
            match shard
                .store
                .find_shared(hash, key, || self.inner.time.now_read())
            {
                Found::Live(slot, value) => {
                    let value = value.clone();
                    local.hit(slot, true);
                    Read::Fresh(value)
                }
                Found::Stale(slot, value) => {
                    let value = value.clone();
                    local.hit(slot, true);
                    Read::Stale(value)
                }
                Found::Absent | Found::Expired => Read::Miss,
            }
        })
    }

    /// A hit found `key` due for a refresh: unless a refresh or load of it is in flight already, or there is no
    /// tokio runtime, registers a flight for it and spawns `load()` to reload it in the background.
    pub(crate) fn refresh<R, F>(&self, hash: u64, key: &K, load: impl FnOnce() -> F)
    where
        R: Loaded<V>,
        F: Future<Output = R> + Send + 'static,
    {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        // Everything that may panic (user `Clone`, the clock, a cached fn's copies of its arguments) before
        // anything is registered.
        let load = load();
        let Some((run, reload)) = self.claim_refresh(hash, key, Ttl::Default) else {
            return;
        };
        // From here on the guard ends the flight whatever happens, even if the task is dropped unpolled.
        runtime.spawn(async move {
            let reload = reload;
            let mut load = pin!(load);
            let loaded = poll_fn(|cx| reload.poll_load(run, load.as_mut(), cx)).await;
            reload.conclude(loaded);
        });
    }

    /// Claims the refresh of `key`, which a hit found due: unless a load or refresh of it is in flight already
    /// (its value will do), or the entry was refreshed, removed or expired since, or another hit claimed it first,
    /// registers a flight for the key (as a loading leader does) and returns the guard that must end it. A value
    /// the reload then stores gets its TTL from `ttl`.
    pub(crate) fn claim_refresh(
        &self,
        hash: u64,
        key: &K,
        ttl: Ttl,
    ) -> Option<(RunId, Reload<K, V>)> {
        // User `Clone` and the clock first: a panic there leaves nothing registered.
        let (kept, registered) = (key.clone(), key.clone());
        let now = self.inner.time.now();
        let (flight, old_deadline) = {
            let mut shard = self.inner.shards.lock(hash);
            let (s, grave) = shard.split();
            if s.flights.get(hash, key).is_some_and(|f| !f.is_published()) {
                return None;
            }
            // Refreshed, removed or expired since the read, or another hit claimed it first.
            let deadline = s.store.begin_refresh(hash, key, now)?;
            // A finished flight left registered by a panic in user code is stale.
            s.flights.detach(hash, key, grave);
            let flight = Flight::new();
            s.flights.register(hash, registered, Arc::clone(&flight));
            (flight, deadline)
        };
        let run = RunId::new();
        flight.claim(run);
        Some((
            run,
            Reload {
                cache: self.clone(),
                hash,
                key: kept,
                flight,
                ttl,
                registered: true,
                old_deadline,
                started: now,
                span: Some(LoadSpan::refresh(self.name())),
                mark: PanicMark::default(),
            },
        ))
    }
}

/// A reload in progress: spawned by `get_or_refresh`, or run by the caller of `get_or_load` that found the entry
/// due. Dropped without `publish` (an error, a panic, its task dropped by a runtime shutting down, or its caller
/// cancelled) it unregisters the flight, lets its waiters retry and makes the entry due again.
pub(crate) struct Reload<K, V>
where
    K: crate::CacheKey,
    V: crate::CacheValue,
{
    cache: AsyncCache<K, V>,
    hash: u64,
    key: K,
    flight: Arc<Flight<V>>,
    /// How the TTL of the reloaded value is decided.
    ttl: Ttl,
    /// Whether the flight may still be registered (so `Drop` must unregister it).
    registered: bool,
    /// When the value being refreshed expires (the cache's clock; `NEVER` for no TTL).
    old_deadline: u64,
    /// When the reload started (the cache's clock), and its span until its outcome is reported.
    started: u64,
    span: Option<LoadSpan>,
    /// Whether a panic escaped the loader (see [`PanicMark`]).
    mark: PanicMark,
}

impl<K, V> Reload<K, V>
where
    K: crate::CacheKey,
    V: crate::CacheValue,
{
    /// Polls the loader as part of `run`, inside the reload's span (see [`crate::observe`]).
    pub(crate) fn poll_load<F: Future>(
        &self,
        run: RunId,
        load: std::pin::Pin<&mut F>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let _in = self.span.as_ref().map(LoadSpan::enter);
        self.mark.poll(run, load, cx)
    }

    /// Ends the reload with what the loader returned: a value is stored and shared, and handed back; an error
    /// is counted and dropped (`None`: the caller answers with the old value), unless the old value expired
    /// while the reload ran: then the error is handed back (an expired value is never an answer).
    pub(crate) fn conclude<R: Loaded<V>>(self, loaded: R) -> Option<R> {
        match loaded.value() {
            Some(value) => {
                self.publish(value);
                Some(loaded)
            }
            None => {
                let expired =
                    self.old_deadline != NEVER && self.old_deadline <= self.cache.inner.time.now();
                self.fail();
                expired.then_some(loaded)
            }
        }
    }

    /// Stores a copy of the value, restarting its age and TTL (unless a `remove`, `insert` or `clear` detached
    /// the flight), and shares one with the callers waiting for the key.
    fn publish(mut self, value: &V) {
        // Copies, the TTL and the weight first: if user code panics here, `Drop` still unregisters the flight
        // (and counts a failure).
        let mut terms = self.cache.terms_for(self.ttl, &self.key, value);
        let ttl = terms.ttl;
        // The shared tier's cap on L1 copies holds for a refreshed copy as for a loaded one.
        if let Some(tier) = &self.cache.inner.tier {
            terms.ttl = tier.l1_ttl(terms.ttl);
        }
        let (key, copy) = (self.key.clone(), value.clone());
        self.registered = false;
        let stored = self
            .cache
            .store(self.hash, key, copy, terms, Some(&self.flight));
        // A stored refresh is a new value, as an `insert` is: the shared tier gets it with its full TTL (so the
        // L1 copy never outlives the Redis entry) and the other replicas drop their old copies. A refresh that a
        // `remove`, `insert` or `clear` overtook stores nothing, here or there.
        if stored {
            if let Some(tier) = &self.cache.inner.tier {
                tier.inserted(&self.key, value, ttl);
            }
        }
        // Counted once stored: whoever sees the count sees the value.
        self.cache.inner.loads.lock().record_refresh(true);
        self.report(observe::Outcome::Ok);
        share(&self.flight, value);
    }

    fn fail(mut self) {
        self.cache.inner.loads.lock().record_refresh(false);
        self.mark.clear();
        self.report(observe::Outcome::Error);
        // `Drop` unregisters the flight and makes the entry due again.
    }
}

impl<K, V> Reload<K, V>
where
    K: crate::CacheKey,
    V: crate::CacheValue,
{
    /// Reports how the reload ended (once; see [`crate::observe`]).
    fn report(&mut self, outcome: observe::Outcome) {
        if let Some(span) = self.span.take() {
            let took = self.cache.since(self.started);
            observe::refresh_finished(&span, self.cache.name(), outcome, took);
        }
    }
}

impl<K, V> Drop for Reload<K, V>
where
    K: crate::CacheKey,
    V: crate::CacheValue,
{
    fn drop(&mut self) {
        if self.registered {
            let (cache, hash, key) = (&self.cache, self.hash, &self.key);
            let mut shard = cache.inner.shards.lock(hash);
            shard.deregister_flight(hash, &self.flight);
            let (s, _) = shard.split();
            // The keys' `Eq` may panic, and this may run while unwinding: catch it (the entry then stays marked,
            // refreshed by no hit until it is stored again or expires).
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if s.flights.get(hash, key).is_none() {
                    s.store.end_refresh(hash, key);
                }
            }));
            drop(shard);
            if self.mark.panicked() {
                cache.inner.loads.lock().record_refresh(false);
                self.report(observe::Outcome::Panicked);
            } else {
                self.report(observe::Outcome::Cancelled);
            }
        }
        self.flight.publish(Outcome::Retry);
    }
}
