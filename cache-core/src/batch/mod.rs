//! Batch loading: [`get_many`](crate::AsyncCache::get_many) (one loader call for the misses of one request,
//! in `get_many.rs`) and the DataLoader-style [`load`](crate::AsyncCache::load) (concurrent requests within a
//! window coalesced into batch-loader calls, in `window.rs`). Both lead their keys' flights through a
//! `leader::BatchLeader`, which delivers or abandons every flight it holds whatever happens.
//!
//! Both register a single-flight entry per missing key, exactly as `get_or_load` does, so a key that some other
//! caller is already loading is awaited, never loaded twice, and removal during a batch is handled by the same
//! detach rule. The windowed batches run on a spawned task: a caller that gives up never breaks the batch for
//! the others, and no lock is held while the batch loader runs.

use std::error::Error;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::flight::Flight;
use crate::AsyncCache;
use crate::{CacheKey, CacheValue};

mod get_many;
mod leader;
mod window;

pub(crate) use window::Batcher;
pub use window::LoadError;

impl<K, V> AsyncCache<K, V>
where
    K: CacheKey,
    V: CacheValue,
{
    /// Unregisters `flight` if it is still registered (a no-op otherwise): a safety net so that a finished
    /// flight can never block its key, whatever path finished it.
    pub(crate) fn forget(&self, hash: u64, flight: &Arc<Flight<V>>) {
        self.inner.shards.lock(hash).deregister_flight(hash, flight);
    }
}

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

/// The builder's batch settings.
pub(crate) struct BatchConfig<K, V> {
    pub(crate) loader: Option<BatchFn<K, V>>,
    pub(crate) window: Duration,
    pub(crate) max_size: usize,
}
