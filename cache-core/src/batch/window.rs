//! The DataLoader window: [`AsyncCache::load`] and [`AsyncCache::try_load`] queue their misses in the pending
//! batch, which is sent when it is full or when its window ends, on a task of its own.

use std::collections::HashMap;
use std::error::Error;
use std::fmt;
use std::future::poll_fn;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use parking_lot::Mutex;

use super::leader::{BatchLeader, Queued};
use super::BatchConfig;
use crate::flight::Outcome;
use crate::load::Lookup;
use crate::model::{self, Spawner};
use crate::observe;
use crate::reentry::{self, RunId};
use crate::AsyncCache;
use crate::{CacheKey, CacheValue};

/// Why [`AsyncCache::try_load`] has no answer. `Display` says what happened; new variants may be added.
///
/// ```
/// use cache_core::{AsyncCache, LoadError};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let cache = AsyncCache::<u64, u64>::new(10); // no batch loader
/// assert!(matches!(cache.try_load(1).await, Err(LoadError::NoBatchLoader)));
/// # }
/// ```
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
    K: CacheKey,
    V: CacheValue,
{
    /// Loads `key` through the builder's batch loader, DataLoader style: `load` calls arriving within the batch
    /// window are coalesced into batch-loader calls of at most `max_batch_size` distinct keys (a full batch is
    /// sent at once). Hits are served from the cache; a key already being loaded (by `load`, `get_many` or
    /// `get_or_load`) is awaited, not loaded twice. Returns `None` if the batch loader left the key out, or
    /// failed, or the cache has no batch loader ([`try_load`](Self::try_load) tells these apart).
    ///
    /// The batch runs on a task spawned on the current tokio runtime (which needs its time driver), so a caller
    /// that is dropped never breaks the batch for the others.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use cache_core::AsyncCache;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), cache_core::BuildError> {
    /// let calls = Arc::new(AtomicUsize::new(0));
    /// let counter = calls.clone();
    /// let cache: AsyncCache<u64, u64> = AsyncCache::builder()
    ///     .maxsize(100)
    ///     .batch_loader(move |ids: Vec<u64>| {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///         async move { ids.into_iter().map(|id| (id, id * 10)).collect::<Vec<_>>() }
    ///     })
    ///     .build()?;
    /// let (a, b, c) = tokio::join!(cache.load(1), cache.load(2), cache.load(1));
    /// assert_eq!((a, b, c), (Some(10), Some(20), Some(10)));
    /// assert_eq!(calls.load(Ordering::SeqCst), 1); // one batch: keys [1, 2]
    /// assert_eq!(cache.load(2).await, Some(20));   // a hit: no call
    /// assert_eq!(calls.load(Ordering::SeqCst), 1);
    /// # Ok(())
    /// # }
    /// ```
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
    /// ```
    /// use cache_core::{AsyncCache, LoadError};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), cache_core::BuildError> {
    /// let cache: AsyncCache<u64, u64> = AsyncCache::builder()
    ///     .maxsize(100)
    ///     .batch_loader(|ids: Vec<u64>| async move {
    ///         ids.into_iter().filter(|id| id % 2 == 0).map(|id| (id, id)).collect::<Vec<_>>()
    ///     })
    ///     .build()?;
    /// assert_eq!(cache.try_load(2).await.unwrap(), Some(2));
    /// assert_eq!(cache.try_load(3).await.unwrap(), None); // left out by the loader: not cached
    /// assert!(matches!(AsyncCache::<u64, u64>::new(1).try_load(1).await, Err(LoadError::NoBatchLoader)));
    /// # Ok(())
    /// # }
    /// ```
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
                    let mut queued = BatchLeader::new(self, Vec::with_capacity(1));
                    queued.lead(hash, key.clone(), Arc::clone(&flight));
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
                Outcome::Retry => self.forget(hash, &flight),
            }
        }
    }

    /// Adds a key (in its one-key guard) to the batch being collected: starts the window timer on the first key,
    /// sends the batch at once when it is full.
    fn enqueue(&self, runtime: &Spawner, mut queued: BatchLeader<K, V>) {
        let batcher = &self.inner.batcher;
        let (full, timer) = {
            let mut pending = batcher.pending.lock();
            queued.hand_over(&mut pending.keys);
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
            let leader = BatchLeader::new(self, batch);
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
    K: CacheKey,
    V: CacheValue,
{
    cache: AsyncCache<K, V>,
    id: u64,
    fired: bool,
}

impl<K, V> WindowTimer<K, V>
where
    K: CacheKey,
    V: CacheValue,
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
            let leader = BatchLeader::new(&self.cache, keys);
            leader.run().await;
        }
    }
}

impl<K, V> Drop for WindowTimer<K, V>
where
    K: CacheKey,
    V: CacheValue,
{
    fn drop(&mut self) {
        if !self.fired {
            let keys = self.take();
            let mut leader = BatchLeader::new(&self.cache, keys);
            leader.abandon(&Outcome::Abandoned);
        }
    }
}

impl<K, V> BatchLeader<K, V>
where
    K: CacheKey,
    V: CacheValue,
{
    /// Calls the batch loader for this windowed batch and finishes every flight in it.
    async fn run(mut self) {
        let Some(loader) = self.cache().inner.batcher.config.loader.clone() else {
            return;
        };
        let keys = self.distinct_keys();
        let asked = keys.len();
        let run = RunId::new();
        self.claim(run);
        let started = self.cache().inner.time.now();
        let call = std::panic::catch_unwind(AssertUnwindSafe(|| loader(keys)));
        let result = match call {
            Ok(mut fut) => {
                AssertUnwindSafe(poll_fn(|cx| reentry::poll_as(run, fut.as_mut(), cx)))
                    .catch_unwind()
                    .await
            }
            Err(panic) => Err(panic),
        };
        let took = self.cache().since(started);
        let result = match result {
            Ok(Ok(found)) => Ok(found),
            Ok(Err(e)) => Err(Outcome::Failed(e)),
            Err(_panic) => Err(Outcome::Panicked),
        };
        self.cache().inner.loads.lock().record(took, result.is_ok());
        let outcome = match &result {
            Ok(_) => observe::Outcome::Ok,
            Err(Outcome::Panicked) => observe::Outcome::Panicked,
            Err(_) => observe::Outcome::Error,
        };
        observe::batch_finished(self.cache().name(), asked, outcome, took);
        let mut sink = HashMap::new();
        self.deliver(result, &mut sink);
    }
}
