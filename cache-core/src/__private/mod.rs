//! What `#[async_cache]` expansions call. Not public API: names and signatures may change in any release.

use std::time::Duration;

pub use std::sync::OnceLock;

use crate::{AsyncCache, CacheBuilder, CacheIdentity, Policy};

mod dispatch;
mod options;
/// A cache shared through Redis (`redis = ".."`).
mod shared;

pub use dispatch::{Cached, Checked, KeyPart, Probe, ProbeFallback};
pub use options::{
    borrowed_key_argument, cached_value, key_argument, key_type, ttl_nanos, BorrowedKeyArgument,
    CachedValue, KeyArgument, KeyType, OptionOutput, ResultOutput, TtlValue,
};
pub use shared::*;

/// The settings of a cached fn's cache: `maxsize`, policy, TTL in nanoseconds (`None`: no expiry),
/// `refresh_after` in nanoseconds (`None`: no refreshes).
pub type Settings = (usize, Policy, Option<u64>, Option<u64>);

/// A builder with the attribute's settings applied: the one place they are read. The caller adds what its kind
/// of cache needs and hands the builder to [`build`].
fn configured<K, V>((maxsize, policy, ttl_nanos, refresh_nanos): Settings) -> CacheBuilder<K, V>
where
    K: crate::CacheKey,
    V: crate::CacheValue,
{
    let mut builder = AsyncCache::builder().maxsize(maxsize).policy(policy);
    if let Some(nanos) = ttl_nanos {
        builder = builder.ttl(Duration::from_nanos(nanos));
    }
    if let Some(nanos) = refresh_nanos {
        builder = builder.refresh_after(Duration::from_nanos(nanos));
    }
    builder
}

/// Builds the cache of a cached fn (at `path`, where the expansion passes it).
///
/// # Panics
/// Only if the macro let through a setting the builder refuses (a bug in the macro).
fn build<K, V>(builder: CacheBuilder<K, V>, path: Option<&str>) -> AsyncCache<K, V>
where
    K: crate::CacheKey,
    V: crate::CacheValue,
{
    match (builder.build(), path) {
        (Ok(cache), _) => cache,
        (Err(e), Some(path)) => panic!("#[async_cache] on `{path}` produced invalid settings: {e}"),
        (Err(e), None) => panic!("#[async_cache] produced invalid settings: {e}"),
    }
}

/// The identity of a cached method's receiver.
#[inline]
pub fn identity<T: CacheIdentity + ?Sized>(receiver: &T) -> u64 {
    receiver.cache_identity()
}

/// An owned argument of a background reload, lent to the body as the reference type it takes.
#[inline(always)]
pub fn borrowed<O: std::borrow::Borrow<T>, T: ?Sized>(owned: &O) -> &T {
    owned.borrow()
}

/// The `refresh_after` of `#[async_cache(refresh_after = <expr>)]` on `function`, in nanoseconds.
///
/// # Panics
/// When the value is zero, negative or too long, with a message naming the function and the option.
#[must_use]
#[track_caller]
pub fn refresh_nanos<T: TtlValue>(value: T, function: &str) -> u64 {
    match value.ttl_nanos() {
        Ok(nanos) => nanos,
        Err(_) => panic!(
            "#[async_cache] on `{function}`: `refresh_after` must be a positive number of seconds (or a \
             `Duration`) of at most about 584 years; omit it for no refreshes"
        ),
    }
}

/// Marks a body's `None`: not an error, just nothing to cache.
#[derive(Debug)]
pub struct NoneMarker;
