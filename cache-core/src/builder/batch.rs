//! The batch-loading settings: the batch loader and how batches are gathered.

use std::error::Error;
use std::future::Future;
use std::time::Duration;

#[cfg(doc)]
use super::BuildError;
use super::CacheBuilder;
#[cfg(doc)]
use crate::AsyncCache;
use crate::{CacheKey, CacheValue};

impl<K, V> CacheBuilder<K, V>
where
    K: CacheKey,
    V: CacheValue,
{
    /// The loader behind [`AsyncCache::load`]: given distinct keys, it returns the values it found; keys it leaves
    /// out are absent and not cached. Never given a key another load is already fetching.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use cache_core::AsyncCache;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), cache_core::BuildError> {
    /// let cache: AsyncCache<u64, String> = AsyncCache::builder()
    ///     .maxsize(1_000)
    ///     .batch_loader(|ids: Vec<u64>| async move {
    ///         // one query for the whole batch: SELECT .. WHERE id IN (..)
    ///         ids.into_iter().filter(|id| *id != 0).map(|id| (id, format!("user-{id}"))).collect::<HashMap<_, _>>()
    ///     })
    ///     .build()?;
    /// let (a, b, none) = tokio::join!(cache.load(1), cache.load(2), cache.load(0)); // one batch-loader call
    /// assert_eq!((a.as_deref(), b.as_deref(), none), (Some("user-1"), Some("user-2"), None));
    /// # Ok(())
    /// # }
    /// ```
    pub fn batch_loader<F, Fut, M>(mut self, loader: F) -> Self
    where
        F: Fn(Vec<K>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = M> + Send + 'static,
        M: IntoIterator<Item = (K, V)> + 'static,
    {
        self.batch_loader = Some(crate::batch::infallible(loader));
        self
    }

    /// A fallible [`batch_loader`](Self::batch_loader): an error reaches every caller of that batch (as `None`
    /// from [`AsyncCache::load`], as the error from [`AsyncCache::try_load`]) and nothing is cached.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use cache_core::AsyncCache;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), cache_core::BuildError> {
    /// let cache: AsyncCache<u64, u64> = AsyncCache::builder()
    ///     .maxsize(100)
    ///     .try_batch_loader(|_ids: Vec<u64>| async {
    ///         Err::<HashMap<u64, u64>, _>(std::io::Error::other("backend down"))
    ///     })
    ///     .build()?;
    /// assert!(cache.try_load(1).await.is_err());
    /// assert!(cache.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn try_batch_loader<F, Fut, M, E>(mut self, loader: F) -> Self
    where
        F: Fn(Vec<K>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<M, E>> + Send + 'static,
        M: IntoIterator<Item = (K, V)> + 'static,
        E: Error + Send + Sync + 'static,
    {
        self.batch_loader = Some(crate::batch::fallible(loader));
        self
    }

    /// How long [`AsyncCache::load`] waits for more keys before calling the batch loader (default 5 ms). The
    /// window starts with the first key of a batch; a full batch ([`max_batch_size`](Self::max_batch_size)) is
    /// sent at once.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::AsyncCache;
    ///
    /// let cache = AsyncCache::<u64, u64>::builder()
    ///     .maxsize(100)
    ///     .batch_loader(|ids: Vec<u64>| async move { ids.into_iter().map(|id| (id, id * 2)).collect::<Vec<_>>() })
    ///     .batch_window(Duration::from_millis(1))
    ///     .build()?;
    /// # Ok::<(), cache_core::BuildError>(())
    /// ```
    pub fn batch_window(mut self, window: Duration) -> Self {
        self.batch_window = window;
        self
    }

    /// The most distinct keys in one batch-loader call (default 100; 0 is [`BuildError::ZeroBatchSize`]). A
    /// full batch is sent at once.
    ///
    /// ```
    /// use cache_core::{AsyncCache, BuildError};
    ///
    /// let err = AsyncCache::<u64, u64>::builder().maxsize(10).max_batch_size(0).build().unwrap_err();
    /// assert_eq!(err, BuildError::ZeroBatchSize);
    /// ```
    pub fn max_batch_size(mut self, size: usize) -> Self {
        self.max_batch_size = size;
        self
    }
}
