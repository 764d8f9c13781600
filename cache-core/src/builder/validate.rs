//! [`CacheBuilder::build`]: checks the settings, then builds the cache.

use std::time::Duration;

use super::{BuildError, CacheBuilder};
use crate::batch::BatchConfig;
use crate::timebase::Timebase;
use crate::AsyncCache;
use crate::{CacheKey, CacheValue};

/// Each shard should hold at least this many entries when the shard count is chosen automatically: small caches
/// get one shard, and with it one policy over all their keys (striped, so that hits still scale: see
/// [`CacheBuilder::shards`]).
const MIN_AUTO_SHARD_CAPACITY: usize = 512;

impl<K, V> CacheBuilder<K, V>
where
    K: CacheKey,
    V: CacheValue,
{
    /// Checks the settings and builds the cache.
    ///
    /// ```
    /// use cache_core::{AsyncCache, BuildError};
    ///
    /// let cache = AsyncCache::<String, u64>::builder().maxsize(100).build()?;
    /// assert_eq!(cache.maxsize(), 100);
    /// let err = AsyncCache::<String, u64>::builder().maxsize(4).shards(8).build().unwrap_err();
    /// assert_eq!(err, BuildError::TooManyShards { shards: 8, maxsize: 4 });
    /// println!("{err}"); // says what to change
    /// # Ok::<(), BuildError>(())
    /// ```
    ///
    /// # Errors
    /// [`BuildError`] when `maxsize` is missing or 0, `shards` is 0, more than `maxsize` or more than
    /// [`MAX_SHARDS`](Self::MAX_SHARDS), a shard would hold more than `u32::MAX - 1` entries, `ttl` or
    /// `refresh_after` is zero, `max_batch_size` is 0, or of `weigher` and `max_weight` only one is set,
    /// `max_weight` is 0 or less than `shards`.
    pub fn build(self) -> Result<AsyncCache<K, V>, BuildError> {
        let maxsize = self.maxsize.ok_or(BuildError::MissingMaxsize)?;
        if maxsize == 0 {
            return Err(BuildError::ZeroMaxsize);
        }
        let max_weight = match (self.hooks.weigher.is_some(), self.max_weight) {
            (_, Some(0)) => return Err(BuildError::ZeroMaxWeight),
            (true, Some(w)) => Some(w),
            (true, None) => return Err(BuildError::MissingMaxWeight),
            (false, Some(_)) => return Err(BuildError::MissingWeigher),
            (false, None) => None,
        };
        let shards = match self.shards {
            Some(0) => return Err(BuildError::ZeroShards),
            Some(n) if n > Self::MAX_SHARDS => {
                return Err(BuildError::ShardsOverLimit {
                    shards: n,
                    limit: Self::MAX_SHARDS,
                })
            }
            Some(n) if n > maxsize => return Err(BuildError::TooManyShards { shards: n, maxsize }),
            Some(n) if max_weight.is_some_and(|w| (n as u64) > w) => {
                return Err(BuildError::TooManyShardsForWeight {
                    shards: n,
                    max_weight: max_weight.unwrap_or_default(),
                })
            }
            Some(n) => n,
            // Each shard gets at least one unit of weight.
            None => max_weight.map_or(auto_shards(maxsize), |w| {
                auto_shards(maxsize).min(1 << w.min(1 << 20).ilog2())
            }),
        };
        if maxsize.div_ceil(shards) >= u32::MAX as usize {
            return Err(BuildError::ShardTooLarge { maxsize, shards });
        }
        if self.ttl == Some(Duration::ZERO) {
            return Err(BuildError::ZeroTtl);
        }
        if self.refresh_after == Some(Duration::ZERO) {
            return Err(BuildError::ZeroRefreshAfter);
        }
        if self.max_batch_size == 0 {
            return Err(BuildError::ZeroBatchSize);
        }
        if let Some(name) = &self.name {
            if !valid_name(name) {
                return Err(BuildError::InvalidName(name.clone()));
            }
        }
        let tier = match (self.tier, &self.name) {
            (Some(make), Some(name)) => Some(make(name)),
            (Some(_), None) => return Err(BuildError::MissingName),
            (None, _) => None,
        };
        // Built in a current-thread runtime: from now on, hits ask tokio where they are (`timebase.rs`).
        crate::timebase::note_build();
        let time = self.clock.map_or_else(Timebase::tokio, Timebase::custom);
        #[cfg(test)]
        let time = self.test_time.unwrap_or(time);
        Ok(AsyncCache::from_parts(
            crate::cache::Config {
                maxsize,
                shards,
                exact_order: self.shards == Some(1),
                policy: self.policy,
                ttl: self.ttl,
                refresh_after: self.refresh_after,
                max_weight,
                seed: self.seed,
                name: self.name,
            },
            time,
            BatchConfig {
                loader: self.batch_loader,
                window: self.batch_window,
                max_size: self.max_batch_size,
            },
            self.reap_identity,
            self.hooks,
            tier,
        ))
    }
}

/// A cache name: 1 to 64 ASCII letters, digits, `_`, `-`, `.` (safe inside a shared tier's keys and patterns).
pub(crate) fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn auto_shards(maxsize: usize) -> usize {
    let cores = crate::striped::cpus();
    let wanted = (cores * 4).min(maxsize / MIN_AUTO_SHARD_CAPACITY).max(1);
    // A power of two, rounded down.
    1 << wanted.ilog2()
}
