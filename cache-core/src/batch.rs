//! Batch loading: `get_many` (one loader call for the misses of one request) and the DataLoader-style `load`
//! (concurrent requests within a window coalesced into batch-loader calls).
//!
//! Both register a single-flight entry per missing key, exactly as `get_or_load` does, so a key that some other
//! caller is already loading is awaited, never loaded twice, and removal during a batch is handled by the same
//! detach rule. The windowed batches run on a spawned task: a caller that gives up never breaks the batch for
//! the others, and no lock is held while the batch loader runs.

use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::fmt;
use std::future::{poll_fn, Future};
use std::hash::Hash;
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use parking_lot::Mutex;

use crate::flight::{Flight, Outcome};
use crate::load::{share, Lookup};
use crate::model::{self, Spawner};
use crate::reentry::{self, RunId};
use crate::AsyncCache;

type SharedError = Arc<dyn Error + Send + Sync>;
type BatchResult<K, V> = Result<Vec<(K, V)>, SharedError>;

/// A batch loader with its output normalised to a list of pairs and its error type erased.
pub(crate) type BatchFn<K, V> =
    Arc<dyn Fn(Vec<K>) -> BoxFuture<'static, BatchResult<K, V>> + Send + Sync>;

pub(crate) fn infallible<K, V, F, Fut, M>(loader: F) -> BatchFn<K, V>
where
    F: Fn(Vec<K>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = M> + Send + 'static,
    M: IntoIterator<Item = (K, V)> + 'static,
{
    Arc::new(move |keys| {
        let fut = loader(keys);
        Box::pin(async move { Ok(fut.await.into_iter().collect()) })
    })
}

pub(crate) fn fallible<K, V, F, Fut, M, E>(loader: F) -> BatchFn<K, V>
where
    F: Fn(Vec<K>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<M, E>> + Send + 'static,
    M: IntoIterator<Item = (K, V)> + 'static,
    E: Error + Send + Sync + 'static,
{
    Arc::new(move |keys| {
        let fut = loader(keys);
        Box::pin(async move {
            match fut.await {
                Ok(found) => Ok(found.into_iter().collect()),
                Err(e) => Err(Arc::new(e) as SharedError),
            }
        })
    })
}

/// Why [`AsyncCache::try_load`] has no answer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum LoadError {
    /// The cache was built without `.batch_loader(..)` or `.try_batch_loader(..)`.
    NoBatchLoader,
    /// The batch loader returned this error (shared by every caller of that batch).
    Failed(Arc<dyn Error + Send + Sync>),
    /// The batch loader panicked.
    Panicked,
    /// `load` was called outside a tokio runtime: the batch needs one to run on.
    NoRuntime,
    /// The task running the batch was dropped before it finished (its runtime shut down, or the runtime has no
    /// time driver for the batch window). Nothing is left registered: the next call loads afresh.
    Abandoned,
    /// This `try_load` was made from within the loading of its own key (a batch loader asking for a key of its
    /// own batch), which would wait for itself forever, so it was refused. See the "Re-entrancy" section of
    /// [`AsyncCache::get_or_load`].
    Reentrant,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoBatchLoader => f.write_str(
                "this cache has no batch loader: build it with `.batch_loader(..)` to use `load`",
            ),
            Self::Failed(e) => write!(f, "the batch loader failed: {e}"),
            Self::Panicked => f.write_str("the batch loader panicked"),
            Self::NoRuntime => f.write_str(
                "`load` needs a tokio runtime to run its batches on; call it from within one",
            ),
            Self::Abandoned => f.write_str(
                "the batch task was dropped before it finished (its runtime shut down or has no time driver)",
            ),
            Self::Reentrant => f.write_str(crate::reentry::MESSAGE),
        }
    }
}

impl Error for LoadError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Failed(e) => Some(&**e),
            _ => None,
        }
    }
}

/// The builder's batch settings.
pub(crate) struct BatchConfig<K, V> {
    pub(crate) loader: Option<BatchFn<K, V>>,
    pub(crate) window: Duration,
    pub(crate) max_size: usize,
}

/// A key waiting in (or sent with) a batch, with the flight its callers watch.
type Queued<K, V> = (u64, K, Arc<Flight<V>>);

/// The batch being collected.
struct Pending<K, V> {
    /// Which batch this is; the window timer only flushes the batch it was started for.
    id: u64,
    keys: Vec<Queued<K, V>>,
}

pub(crate) struct Batcher<K, V> {
    config: BatchConfig<K, V>,
    pending: Mutex<Pending<K, V>>,
}

impl<K, V> Batcher<K, V> {
    /// How many keys wait in the window (for the shuttle models).
    #[cfg(all(test, shuttle))]
    pub(crate) fn queued(&self) -> usize {
        self.pending.lock().keys.len()
    }

    pub(crate) fn new(config: BatchConfig<K, V>) -> Self {
        Self {
            config,
            pending: Mutex::new(Pending {
                id: 0,
                keys: Vec::new(),
            }),
        }
    }
}

impl<K, V> AsyncCache<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// Returns the values of `keys`: hits from the cache, and every miss from **one** `batch_fn` call with the
    /// missing keys, deduplicated. Keys `batch_fn` leaves out are absent from the result and not cached; loaded
    /// values are stored with the default TTL. Keys another caller is already loading are awaited, not loaded
    /// twice (if that other load is abandoned, those keys go to a further `batch_fn` call).
    ///
    /// If `batch_fn` panics the panic reaches this caller, and callers waiting on these keys take their loads
    /// over. Dropping this future is safe in the same way.
    ///
    /// # Panics
    /// If `batch_fn` panics, or if `batch_fn` asks the cache for a key of its own batch (or this call is made
    /// from within the load of one of `keys`): that would wait for itself forever, so the inner call panics
    /// ("re-entrant load", see [`get_or_load`](Self::get_or_load)'s Re-entrancy section) and every key is
    /// released for later calls.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::collections::HashMap;
    /// let cache = cache_core::AsyncCache::new(100);
    /// cache.insert(1u64, "one".to_string());
    /// let got = cache
    ///     .get_many([1, 2, 3, 2], |missing| async move {
    ///         assert_eq!(missing.len(), 2); // 2 and 3, once each
    ///         missing.into_iter().filter(|k| *k != 3).map(|k| (k, format!("#{k}"))).collect::<HashMap<_, _>>()
    ///     })
    ///     .await;
    /// assert_eq!(got.len(), 2);
    /// assert_eq!(got[&2], "#2");
    /// assert!(!cache.contains_key(&3));
    /// # }
    /// ```
    pub async fn get_many<I, F, Fut, M>(&self, keys: I, mut batch_fn: F) -> HashMap<K, V>
    where
        I: IntoIterator<Item = K>,
        F: FnMut(Vec<K>) -> Fut,
        Fut: Future<Output = M>,
        M: IntoIterator<Item = (K, V)>,
    {
        let mut seen = HashSet::new();
        let mut todo: Vec<(u64, K)> = keys
            .into_iter()
            .filter(|k| seen.insert(k.clone()))
            .map(|k| (self.inner.shards.hash(&k), k))
            .collect();
        drop(seen);
        let mut out = HashMap::with_capacity(todo.len());
        let mut first = true;
        while !todo.is_empty() {
            // The guard exists before the first flight is registered, so a panic anywhere below (a user
            // `Hash`, `Eq` or `Clone`, or `batch_fn`) unregisters every flight this call leads.
            let mut leader = BatchLeader {
                cache: self.clone(),
                keys: Vec::new(),
            };
            let mut waits = Vec::new();
            for (hash, key) in todo.drain(..) {
                match self.lookup_or_join(hash, &key, first) {
                    Lookup::Hit(v) => {
                        out.insert(key, v);
                    }
                    Lookup::Lead(flight) => leader.keys.push((hash, key, flight)),
                    Lookup::Wait(flight) => waits.push((hash, key, flight)),
                    // `leader`'s `Drop` unregisters the flights this call already leads.
                    Lookup::Reentrant => panic!("{}", reentry::MESSAGE),
                }
            }
            first = false;
            let run = RunId::new();
            for (_, _, flight) in &leader.keys {
                flight.claim(run);
            }
            let batch_fn = &mut batch_fn;
            // The keys this call leads are delivered as soon as `batch_fn` returns, without waiting for the keys
            // others lead: two calls that each wait on the other's keys never deadlock.
            let load = async move {
                let mut loaded = HashMap::new();
                if !leader.keys.is_empty() {
                    let started = self.inner.time.now();
                    let keys = leader.distinct_keys();
                    let mut call = pin!(batch_fn(keys));
                    let found = poll_fn(|cx| reentry::poll_as(run, call.as_mut(), cx)).await;
                    let found: Vec<(K, V)> = found.into_iter().collect();
                    self.inner.loads.lock().record(self.since(started), true);
                    leader.deliver(Ok(found), &mut loaded);
                }
                loaded
            };
            let waiting = futures::future::join_all(waits.iter().map(|(_, _, f)| f.wait()));
            let (loaded, outcomes) = futures::future::join(load, waiting).await;
            out.extend(loaded);
            for ((hash, key, flight), outcome) in waits.into_iter().zip(outcomes) {
                match outcome {
                    Outcome::Value(v) => {
                        out.insert(key, v);
                    }
                    Outcome::Retry | Outcome::Pending | Outcome::Abandoned => {
                        self.forget(hash, &flight);
                        todo.push((hash, key));
                    }
                    Outcome::Absent | Outcome::Failed(_) | Outcome::Panicked => {}
                }
            }
        }
        out
    }

    /// Loads `key` through the builder's batch loader, DataLoader style: `load` calls arriving within the batch
    /// window are coalesced into batch-loader calls of at most `max_batch_size` distinct keys (a full batch is
    /// sent at once). Hits are served from the cache; a key already being loaded (by `load`, `get_many` or
    /// `get_or_load`) is awaited, not loaded twice. Returns `None` if the batch loader left the key out, or
    /// failed, or the cache has no batch loader ([`try_load`](Self::try_load) tells these apart).
    ///
    /// The batch runs on a task spawned on the current tokio runtime (which needs its time driver), so a caller
    /// that is dropped never breaks the batch for the others.
    ///
    /// # Panics
    /// If the batch loader panics, every caller of that batch panics with "the batch loader panicked". If this
    /// call is made from within the loading of `key` itself (the batch loader asking for a key of its own batch,
    /// which would wait for itself forever), it panics with "re-entrant load" (so that batch fails as
    /// panicked, and its keys are released: later calls load them afresh).
    pub async fn load(&self, key: K) -> Option<V> {
        match self.try_load(key).await {
            Ok(found) => found,
            Err(e @ (LoadError::Panicked | LoadError::Reentrant)) => panic!("{e}"),
            Err(_) => None,
        }
    }

    /// [`load`](Self::load), with the reason when there is no value.
    ///
    /// # Errors
    /// [`LoadError::NoBatchLoader`] without a batch loader; [`LoadError::NoRuntime`] outside a tokio runtime;
    /// [`LoadError::Failed`] with the batch loader's error; [`LoadError::Panicked`] if it panicked;
    /// [`LoadError::Abandoned`] if the batch's task was dropped (its runtime shut down);
    /// [`LoadError::Reentrant`] if this call is made from within the loading of `key` itself (a batch loader
    /// asking for a key of its own batch), which would otherwise wait for itself forever. `Ok(None)`: the batch
    /// loader left the key out.
    pub async fn try_load(&self, key: K) -> Result<Option<V>, LoadError> {
        if self.inner.batcher.config.loader.is_none() {
            return Err(LoadError::NoBatchLoader);
        }
        let Some(runtime) = Spawner::current() else {
            return Err(LoadError::NoRuntime);
        };
        let hash = self.inner.shards.hash(&key);
        let mut first = true;
        loop {
            let flight = match self.lookup_or_join(hash, &key, first) {
                Lookup::Hit(v) => return Ok(Some(v)),
                Lookup::Wait(flight) => flight,
                Lookup::Reentrant => return Err(LoadError::Reentrant),
                Lookup::Lead(flight) => {
                    // Guarded from registration on: if cloning the key panics, the flight is unregistered.
                    let mut queued = BatchLeader {
                        cache: self.clone(),
                        keys: Vec::with_capacity(1),
                    };
                    queued.keys.push((hash, key.clone(), Arc::clone(&flight)));
                    self.enqueue(&runtime, queued);
                    flight
                }
            };
            first = false;
            match flight.wait().await {
                Outcome::Value(v) => return Ok(Some(v)),
                Outcome::Absent => return Ok(None),
                Outcome::Failed(e) => return Err(LoadError::Failed(e)),
                Outcome::Panicked => return Err(LoadError::Panicked),
                Outcome::Abandoned => {
                    self.forget(hash, &flight);
                    return Err(LoadError::Abandoned);
                }
                // A single-key loader failed or was cancelled: load through the batch instead.
                Outcome::Retry | Outcome::Pending => self.forget(hash, &flight),
            }
        }
    }

    /// Unregisters `flight` if it is still registered (a no-op otherwise): a safety net so that a finished
    /// flight can never block its key, whatever path finished it.
    pub(crate) fn forget(&self, hash: u64, flight: &Arc<Flight<V>>) {
        self.inner.shards.lock(hash).end_flight(hash, flight);
    }

    /// Adds a key (in its one-key guard) to the batch being collected: starts the window timer on the first key,
    /// sends the batch at once when it is full.
    fn enqueue(&self, runtime: &Spawner, mut queued: BatchLeader<K, V>) {
        let batcher = &self.inner.batcher;
        let (full, timer) = {
            let mut pending = batcher.pending.lock();
            pending.keys.append(&mut queued.keys);
            if pending.keys.len() >= batcher.config.max_size {
                pending.id += 1;
                (Some(std::mem::take(&mut pending.keys)), None)
            } else if pending.keys.len() == 1 {
                (None, Some(pending.id))
            } else {
                (None, None)
            }
        };
        drop(queued); // empty now: its key is in the pending batch
        if let Some(batch) = full {
            let leader = BatchLeader {
                cache: self.clone(),
                keys: batch,
            };
            // If the runtime drops this task unpolled, the leader's `Drop` unregisters the keys.
            runtime.spawn(leader.run());
        } else if let Some(id) = timer {
            let timer = WindowTimer {
                cache: self.clone(),
                id,
                fired: false,
            };
            runtime.spawn(timer.fire());
        }
    }
}

/// The window of one pending batch. Dropped before it fired (its runtime shut down, or has no time driver), it
/// takes the batch back and abandons its flights, so no key stays registered and the next `load` starts a new
/// window.
struct WindowTimer<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    cache: AsyncCache<K, V>,
    id: u64,
    fired: bool,
}

impl<K, V> WindowTimer<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// Takes the pending batch if it is still this timer's (it may have been sent already because it filled up).
    fn take(&mut self) -> Vec<Queued<K, V>> {
        self.fired = true;
        let mut pending = self.cache.inner.batcher.pending.lock();
        if pending.id != self.id {
            return Vec::new();
        }
        pending.id += 1;
        std::mem::take(&mut pending.keys)
    }

    async fn fire(mut self) {
        model::sleep(self.cache.inner.batcher.config.window).await;
        let keys = self.take();
        if !keys.is_empty() {
            let leader = BatchLeader {
                cache: self.cache.clone(),
                keys,
            };
            leader.run().await;
        }
    }
}

impl<K, V> Drop for WindowTimer<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn drop(&mut self) {
        if !self.fired {
            let keys = self.take();
            let mut leader = BatchLeader {
                cache: self.cache.clone(),
                keys,
            };
            leader.abandon(&Outcome::Abandoned);
        }
    }
}

/// The flights a batch call leads. Dropped before they are all delivered (the caller of `get_many` was
/// cancelled or something panicked, or the runtime dropped the batch task), it unregisters the rest and tells
/// their waiters to retry.
struct BatchLeader<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    cache: AsyncCache<K, V>,
    keys: Vec<Queued<K, V>>,
}

impl<K, V> BatchLeader<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// The keys to ask the loader for, each once. (A key can be queued twice when a removal detached its first
    /// flight and a later `load` queued a new one in the same batch.)
    fn distinct_keys(&self) -> Vec<K> {
        let mut seen = HashSet::with_capacity(self.keys.len());
        self.keys
            .iter()
            .filter(|(_, k, _)| seen.insert(k))
            .map(|(_, k, _)| k.clone())
            .collect()
    }

    /// Calls the batch loader for this windowed batch and finishes every flight in it.
    async fn run(mut self) {
        let Some(loader) = self.cache.inner.batcher.config.loader.clone() else {
            return;
        };
        let keys = self.distinct_keys();
        let run = RunId::new();
        for (_, _, flight) in &self.keys {
            flight.claim(run);
        }
        let started = self.cache.inner.time.now();
        let call = std::panic::catch_unwind(AssertUnwindSafe(|| loader(keys)));
        let result = match call {
            Ok(mut fut) => {
                AssertUnwindSafe(poll_fn(|cx| reentry::poll_as(run, fut.as_mut(), cx)))
                    .catch_unwind()
                    .await
            }
            Err(panic) => Err(panic),
        };
        let took = self.cache.since(started);
        let result = match result {
            Ok(Ok(found)) => Ok(found),
            Ok(Err(e)) => Err(Outcome::Failed(e)),
            Err(_panic) => Err(Outcome::Panicked),
        };
        self.cache.inner.loads.lock().record(took, result.is_ok());
        let mut sink = HashMap::new();
        self.deliver(result, &mut sink);
    }

    /// Stores what was found (for flights still attached), copies it into `out`, and finishes every flight: with
    /// its value, as absent, or with the batch's failure. A flight leaves `self.keys` only once it is finished,
    /// so if user code panics midway, `Drop` still finishes the rest.
    fn deliver(&mut self, result: Result<Vec<(K, V)>, Outcome<V>>, out: &mut HashMap<K, V>) {
        match result {
            Ok(found) => {
                let found: HashMap<K, V> = found.into_iter().collect();
                let mut panicked = None;
                while let Some((hash, key, flight)) = self.keys.last() {
                    let (hash, flight) = (*hash, Arc::clone(flight));
                    if let Some(v) = found.get(key) {
                        // Before any lock. If `expire_after` panics, this key fails as panicked (its waiters do
                        // not retry a batch that would panic again), the others are stored, and the panic goes
                        // on at the end.
                        let ttl = std::panic::catch_unwind(AssertUnwindSafe(|| {
                            self.cache.ttl_for(crate::hooks::Ttl::Default, key, v)
                        }));
                        let ttl = match ttl {
                            Ok(ttl) => ttl,
                            Err(panic) => {
                                self.cache.forget(hash, &flight);
                                flight.finish(Outcome::Panicked);
                                self.keys.pop();
                                panicked.get_or_insert(panic);
                                continue;
                            }
                        };
                        // By reference, each copy made in a small frame: see `docs/design/large-values.md`.
                        self.cache
                            .store(hash, key.clone(), v.clone(), ttl, Some(&flight));
                        share(&flight, v);
                        out.insert(key.clone(), v.clone());
                    } else {
                        self.cache.forget(hash, &flight);
                        flight.finish(Outcome::Absent);
                    }
                    self.keys.pop();
                }
                if let Some(panic) = panicked {
                    std::panic::resume_unwind(panic);
                }
            }
            Err(outcome) => self.abandon(&outcome),
        }
    }

    /// Unregisters every flight still held and finishes it with `outcome`.
    fn abandon(&mut self, outcome: &Outcome<V>) {
        while let Some((hash, _, flight)) = self.keys.last() {
            let (hash, flight) = (*hash, Arc::clone(flight));
            self.cache.forget(hash, &flight);
            flight.finish(outcome.clone());
            self.keys.pop();
        }
    }
}

impl<K, V> Drop for BatchLeader<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn drop(&mut self) {
        self.abandon(&Outcome::Retry);
    }
}
