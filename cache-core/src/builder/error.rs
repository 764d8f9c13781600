//! [`BuildError`]: why a build was refused.

use std::error::Error;
use std::fmt;

#[cfg(doc)]
use super::CacheBuilder;

/// Why [`CacheBuilder::build`] refused its settings. `Display` says what to change; new variants may be added.
///
/// ```
/// use std::time::Duration;
/// use cache_core::{AsyncCache, BuildError};
///
/// let err = AsyncCache::<u64, u64>::builder().maxsize(10).ttl(Duration::ZERO).build().unwrap_err();
/// assert_eq!(err, BuildError::ZeroTtl);
/// let _: &dyn std::error::Error = &err;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// `.maxsize(n)` was never called.
    MissingMaxsize,
    /// `.maxsize(0)`: a cache must hold at least one entry.
    ZeroMaxsize,
    /// `.shards(0)`.
    ZeroShards,
    /// More shards than entries: some shard would hold nothing.
    TooManyShards {
        /// The requested shard count.
        shards: usize,
        /// The requested maxsize.
        maxsize: usize,
    },
    /// More shards than [`CacheBuilder::MAX_SHARDS`].
    ShardsOverLimit {
        /// The requested shard count.
        shards: usize,
        /// The most shards a cache may have.
        limit: usize,
    },
    /// A shard would hold `u32::MAX - 1` entries or more; use more shards.
    ShardTooLarge {
        /// The requested maxsize.
        maxsize: usize,
        /// The shard count.
        shards: usize,
    },
    /// `.ttl(Duration::ZERO)`: every entry would be expired on arrival. Leave the TTL unset for no expiry.
    ZeroTtl,
    /// `.refresh_after(Duration::ZERO)`: every hit would start a reload. Leave it unset for no refreshes.
    ZeroRefreshAfter,
    /// `.max_batch_size(0)`.
    ZeroBatchSize,
    /// `.weigher(f)` without `.max_weight(n)`: a weigher needs a bound to weigh against.
    MissingMaxWeight,
    /// `.max_weight(n)` without `.weigher(f)`: nothing would weigh the entries.
    MissingWeigher,
    /// `.max_weight(0)`: no entry of any weight would fit. (An entry may weigh 0, but the bound must be at least 1.)
    ZeroMaxWeight,
    /// More shards than units of weight: some shard would hold no weight.
    TooManyShardsForWeight {
        /// The requested shard count.
        shards: usize,
        /// The requested max_weight.
        max_weight: u64,
    },
    /// A shared tier (`.redis(tier)`) without `.name(..)`: the name is part of the tier's keys.
    MissingName,
    /// `.name(..)` is empty, longer than 64 characters, or has a character other than an ASCII letter, digit,
    /// `_`, `-` or `.`.
    InvalidName(String),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingMaxsize => {
                f.write_str("cache maxsize is not set: call `.maxsize(n)` with n >= 1")
            }
            Self::ZeroMaxsize => f.write_str("cache maxsize must be at least 1, got 0"),
            Self::ZeroShards => f.write_str("cache shards must be at least 1, got 0"),
            Self::TooManyShards { shards, maxsize } => write!(
                f,
                "cache shards ({shards}) must not exceed maxsize ({maxsize}): every shard needs room for an entry"
            ),
            Self::ShardsOverLimit { shards, limit } => write!(
                f,
                "cache shards ({shards}) must be at most {limit}: more shards only cost memory"
            ),
            Self::ShardTooLarge { maxsize, shards } => write!(
                f,
                "cache maxsize {maxsize} over {shards} shard(s) puts 2^32 - 1 or more entries in one shard: use more shards"
            ),
            Self::ZeroTtl => f.write_str(
                "cache ttl must be more than zero; leave it unset for entries that never expire",
            ),
            Self::ZeroRefreshAfter => f.write_str(
                "cache refresh_after must be more than zero; leave it unset for no background refreshes",
            ),
            Self::ZeroBatchSize => f.write_str("max_batch_size must be at least 1, got 0"),
            Self::MissingMaxWeight => f.write_str(
                "cache has a weigher but no max_weight: call `.max_weight(n)` with n >= 1",
            ),
            Self::MissingWeigher => f.write_str(
                "cache max_weight is set without a weigher: call `.weigher(|key, value| weight)`",
            ),
            Self::ZeroMaxWeight => f.write_str("cache max_weight must be at least 1, got 0"),
            Self::TooManyShardsForWeight { shards, max_weight } => write!(
                f,
                "cache shards ({shards}) must not exceed max_weight ({max_weight}): every shard needs some weight"
            ),
            Self::MissingName => f.write_str(
                "a cache with a shared tier needs a name: call `.name(\"...\")` (it is part of the tier's keys)",
            ),
            Self::InvalidName(name) => write!(
                f,
                "cache name {name:?} is invalid: use 1 to 64 ASCII letters, digits, `_`, `-` or `.`"
            ),
        }
    }
}

impl Error for BuildError {}
