//! The bounds every cache key and value meets, named once.

use std::hash::Hash;

/// What a key of an [`AsyncCache`](crate::AsyncCache) must be: `Hash + Eq + Clone + Send + Sync + 'static`.
/// Every such type implements it (a blanket impl): use it to spell the bound in your own generic code.
///
/// ```
/// use cache_core::{AsyncCache, CacheKey, CacheValue};
///
/// fn warm<K: CacheKey, V: CacheValue>(cache: &AsyncCache<K, V>, entries: Vec<(K, V)>) {
///     for (k, v) in entries {
///         cache.insert(k, v);
///     }
/// }
///
/// let cache = AsyncCache::new(10);
/// warm(&cache, vec![("a".to_string(), 1), ("b".to_string(), 2)]);
/// assert_eq!(cache.get("b"), Some(2));
/// ```
pub trait CacheKey: Hash + Eq + Clone + Send + Sync + 'static {}

impl<T: Hash + Eq + Clone + Send + Sync + 'static> CacheKey for T {}

/// What a value of an [`AsyncCache`](crate::AsyncCache) must be: `Clone + Send + Sync + 'static`. Every such
/// type implements it (a blanket impl); see [`CacheKey`] for an example.
pub trait CacheValue: Clone + Send + Sync + 'static {}

impl<T: Clone + Send + Sync + 'static> CacheValue for T {}
