//! What `#[async_cache]` expansions call. Not public API: names and signatures may change in any release.

use std::future::Future;

use futures::FutureExt;
use std::hash::Hash;
use std::time::Duration;

pub use std::sync::OnceLock;

use crate::{AsyncCache, CacheIdentity, Policy};

/// Builds the cache of one cached function. The macro has checked the settings at compile time.
#[must_use]
pub fn build<K, V>(maxsize: usize, policy: Policy, ttl_nanos: Option<u64>) -> AsyncCache<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    build_with(maxsize, policy, ttl_nanos, None)
}

/// Builds the cache of one cached method, whose keys start with the receiver's identity (`identity` extracts
/// it). When `InstanceId`s are dropped, their entries are swept out in batches.
#[must_use]
pub fn build_method<K, V>(
    maxsize: usize,
    policy: Policy,
    ttl_nanos: Option<u64>,
    identity: fn(&K) -> u64,
) -> AsyncCache<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    build_with(maxsize, policy, ttl_nanos, Some(identity))
}

/// # Panics
/// Only if the macro let through a setting the builder refuses (a bug in the macro).
fn build_with<K, V>(
    maxsize: usize,
    policy: Policy,
    ttl_nanos: Option<u64>,
    identity: Option<fn(&K) -> u64>,
) -> AsyncCache<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    let mut builder = AsyncCache::builder().maxsize(maxsize).policy(policy);
    builder.reap_identity = identity;
    if let Some(nanos) = ttl_nanos {
        builder = builder.ttl(Duration::from_nanos(nanos));
    }
    match builder.build() {
        Ok(cache) => cache,
        Err(e) => panic!("#[async_cache] produced invalid settings: {e}"),
    }
}

/// The identity of a cached method's receiver.
#[inline]
pub fn identity<T: CacheIdentity + ?Sized>(receiver: &T) -> u64 {
    receiver.cache_identity()
}

/// The synchronous fast path of a cached fn: a live value, counted as a hit. A miss is not counted here; the
/// loading call the fn makes next counts it.
#[inline]
pub fn hit<K, V>(cache: &AsyncCache<K, V>, key: &K) -> Option<V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    cache.get_uncounted_miss(key)
}

// The three below are plain `fn`s returning the cache's own future: no extra `async` layer, so a cached fn's
// future is no bigger than `get_or_load`'s.

/// A body returning a plain value: single flight, always cached.
pub fn value<K, V, F>(
    cache: &AsyncCache<K, V>,
    key: K,
    body: F,
) -> impl Future<Output = V> + use<'_, K, V, F>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    F: Future<Output = V>,
{
    cache.get_or_load(key, body)
}

/// A body returning `Result<T, E>`: only `Ok` is cached, errors go to the caller.
pub fn result<K, V, E, F>(
    cache: &AsyncCache<K, V>,
    key: K,
    body: F,
) -> impl Future<Output = Result<V, E>> + use<'_, K, V, E, F>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    F: Future<Output = Result<V, E>>,
{
    cache.try_get_or_load(key, body)
}

/// Marks a body's `None`: not an error, just nothing to cache.
#[derive(Debug)]
pub struct NoneMarker;

/// A body returning `Option<T>`: only `Some` is cached; `None` goes to the caller and the next call runs the
/// body again.
pub fn option<K, V, F>(
    cache: &AsyncCache<K, V>,
    key: K,
    body: F,
) -> impl Future<Output = Option<V>> + use<'_, K, V, F>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    F: Future<Output = Option<V>>,
{
    cache
        .try_get_or_load(key, body.map(|found| found.ok_or(NoneMarker)))
        .map(Result::ok)
}
