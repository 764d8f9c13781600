//! The cache builder and its validation errors.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::batch::BatchFn;
use crate::clock::Clock;
#[cfg(doc)]
use crate::clock::TokioClock;
#[cfg(test)]
use crate::timebase::Timebase;
#[cfg(doc)]
use crate::AsyncCache;
use crate::Policy;

mod batch;
mod error;
mod settings;
mod validate;

pub use error::BuildError;
#[cfg(feature = "redis")]
pub(crate) use validate::valid_name;

/// Configures and builds an [`AsyncCache`]. Start from [`AsyncCache::builder`].
///
/// ```
/// use std::time::Duration;
/// use cache_core::{AsyncCache, Policy};
///
/// let cache: AsyncCache<u64, String> = AsyncCache::builder()
///     .maxsize(10_000)
///     .policy(Policy::Lfu)
///     .ttl(Duration::from_secs(60))
///     .build()?;
/// assert_eq!(cache.maxsize(), 10_000);
/// # Ok::<(), cache_core::BuildError>(())
/// ```
#[must_use = "a builder does nothing until `.build()`"]
pub struct CacheBuilder<K, V> {
    maxsize: Option<usize>,
    max_weight: Option<u64>,
    policy: Policy,
    ttl: Option<Duration>,
    refresh_after: Option<Duration>,
    shards: Option<usize>,
    batch_loader: Option<BatchFn<K, V>>,
    batch_window: Duration,
    max_batch_size: usize,
    /// `None`: the default, [`TokioClock`].
    clock: Option<Arc<dyn Clock>>,
    seed: Option<u64>,
    /// Tests: the cache's time, instead of the one `clock` gives.
    #[cfg(test)]
    test_time: Option<Timebase>,
    /// Set for the caches of cached methods: the identity part of their keys, to drop dead instances' entries.
    pub(crate) reap_identity: Option<fn(&K) -> u64>,
    hooks: crate::hooks::Hooks<K, V>,
    /// The cache's name (in a shared tier's keys).
    name: Option<String>,
    /// Makes the shared tier, given the cache's name (feature `redis`: [`CacheBuilder::redis`]).
    pub(crate) tier: Option<TierMaker<K, V>>,
    _types: PhantomData<fn() -> (K, V)>,
}

/// Makes a cache's shared tier from the cache's name.
pub(crate) type TierMaker<K, V> =
    Box<dyn FnOnce(&str) -> Arc<dyn crate::tier::Tier<K, V>> + Send + Sync>;

impl<K, V> fmt::Debug for CacheBuilder<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheBuilder")
            .field("maxsize", &self.maxsize)
            .field("max_weight", &self.max_weight)
            .field("policy", &self.policy)
            .field("ttl", &self.ttl)
            .field("refresh_after", &self.refresh_after)
            .field("shards", &self.shards)
            .field("batch_loader", &self.batch_loader.is_some())
            .field("batch_window", &self.batch_window)
            .field("max_batch_size", &self.max_batch_size)
            .field("clock", &self.clock)
            .field("hooks", &self.hooks)
            .field("name", &self.name)
            .field("tier", &self.tier.is_some())
            .finish()
    }
}

impl<K, V> Default for CacheBuilder<K, V> {
    fn default() -> Self {
        Self {
            maxsize: None,
            max_weight: None,
            policy: Policy::Lru,
            ttl: None,
            refresh_after: None,
            shards: None,
            batch_loader: None,
            batch_window: Duration::from_millis(5),
            max_batch_size: 100,
            clock: None,
            seed: None,
            #[cfg(test)]
            test_time: None,
            reap_identity: None,
            hooks: crate::hooks::Hooks::default(),
            name: None,
            tier: None,
            _types: PhantomData,
        }
    }
}

impl<K, V> CacheBuilder<K, V> {
    /// The most shards a cache may have (and never more than its `maxsize`: each shard holds at least one
    /// entry). More is a [`BuildError::ShardsOverLimit`]. Each shard costs some memory up front whatever it
    /// holds (`docs/design/sharding.md`).
    ///
    /// ```
    /// use cache_core::{AsyncCache, BuildError, CacheBuilder};
    ///
    /// let too_many = CacheBuilder::<u64, u64>::MAX_SHARDS + 1;
    /// let err = AsyncCache::<u64, u64>::builder().maxsize(1 << 20).shards(too_many).build().unwrap_err();
    /// assert!(matches!(err, BuildError::ShardsOverLimit { .. }));
    /// ```
    pub const MAX_SHARDS: usize = 1_024;
}
