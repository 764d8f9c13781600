//! The checked dispatch: what a cached fn does with its cache, for key and value types that have the cache's
//! traits (and nothing, for those that do not).

use std::future::Future;
use std::hash::Hash;
use std::marker::PhantomData;

use futures::FutureExt;

use super::{build, configured, NoneMarker, OnceLock, Settings};
use crate::AsyncCache;

// ---- Checked dispatch ----
//
// Every generated call that needs the key's or the value's traits goes through `Checked<OK>`, where `OK` is a
// constant the expansion computes with `Probe`: whether the key type is `Hash + Eq + Clone + Send + Sync +
// 'static` and the value type `Clone + Send + Sync + 'static`. `Checked<true>` does the work; `Checked<false>`
// asks nothing of the types and is never run, because the expansion's own checks (`key_argument` & co. below)
// have already failed the build, with one error on each offending argument or output. So a type that is not a
// key gives that one error, not one per generated call.

/// Whether a type can be a key (`KEY`) or a cached value (`VALUE`): `Probe::<T>::KEY` is the inherent constant
/// (`true`) when `T` has the traits, else [`ProbeFallback`]'s (`false`). Only for concrete types.
pub struct Probe<T: ?Sized>(PhantomData<T>);

impl<T: Hash + Eq + Clone + Send + Sync + 'static> Probe<T> {
    /// `T` can be a key.
    pub const KEY: bool = true;
}

impl<T: Clone + Send + Sync + 'static> Probe<T> {
    /// `T` can be a cached value.
    pub const VALUE: bool = true;
}

/// The `false` answers of [`Probe`] (the expansion brings it into scope).
pub trait ProbeFallback {
    /// Not a key.
    const KEY: bool = false;
    /// Not a cached value.
    const VALUE: bool = false;
}

impl<T: ?Sized> ProbeFallback for Probe<T> {}

/// `Checked<true>`: the key and value types have the cache's traits. `Checked<false>`: they do not, the build
/// has failed already, and nothing of it runs.
pub struct Checked<const OK: bool>;

/// What a cached fn does with its cache, through [`Checked`].
pub trait Cached<K, V> {
    /// What the accessor's `static` holds: the cache, or `()` when the types are wrong.
    type Slot: Send + Sync + 'static;

    /// The cache of a free fn or an associated fn, built on first use.
    fn cache(
        slot: &'static OnceLock<Self::Slot>,
        settings: impl FnOnce() -> Settings,
    ) -> &'static AsyncCache<K, V>;

    /// The cache of a method, whose keys start with the receiver's identity (`identity` extracts it): when
    /// `InstanceId`s are dropped, their entries are swept out in batches.
    fn method_cache(
        slot: &'static OnceLock<Self::Slot>,
        settings: impl FnOnce() -> Settings,
        identity: fn(&K) -> u64,
    ) -> &'static AsyncCache<K, V>;

    /// The synchronous fast path: a live value, counted as a hit. A miss is not counted here; the loading call
    /// the fn makes next counts it.
    fn hit(cache: &AsyncCache<K, V>, key: &K) -> Option<V>;

    /// The fast path with `refresh_after` and a plain output: [`hit`](Self::hit), and on a hit due for a
    /// refresh, `reload()` (the body, owning its arguments) spawned in the background.
    fn hit_refreshing_value<F: Future<Output = V> + Send + 'static>(
        cache: &AsyncCache<K, V>,
        key: &K,
        reload: impl FnOnce() -> F,
    ) -> Option<V>;

    /// [`hit_refreshing_value`](Self::hit_refreshing_value) for a `Result` output: an `Err` of the reload
    /// leaves the entry as it was.
    fn hit_refreshing_result<E, F: Future<Output = Result<V, E>> + Send + 'static>(
        cache: &AsyncCache<K, V>,
        key: &K,
        reload: impl FnOnce() -> F,
    ) -> Option<V>;

    /// [`hit_refreshing_value`](Self::hit_refreshing_value) for an `Option` output: a `None` of the reload
    /// leaves the entry as it was.
    fn hit_refreshing_option<F: Future<Output = Option<V>> + Send + 'static>(
        cache: &AsyncCache<K, V>,
        key: &K,
        reload: impl FnOnce() -> F,
    ) -> Option<V>;

    /// A body returning a plain value: single flight, always cached.
    fn value<F: Future<Output = V>>(
        cache: &AsyncCache<K, V>,
        key: K,
        body: F,
    ) -> impl Future<Output = V>;

    /// A body returning `Result<T, E>`: only `Ok` is cached, errors go to the caller.
    fn result<E, F: Future<Output = Result<V, E>>>(
        cache: &AsyncCache<K, V>,
        key: K,
        body: F,
    ) -> impl Future<Output = Result<V, E>>;

    /// A body returning `Option<T>`: only `Some` is cached; `None` goes to the caller and the next call runs the
    /// body again.
    fn option<F: Future<Output = Option<V>>>(
        cache: &AsyncCache<K, V>,
        key: K,
        body: F,
    ) -> impl Future<Output = Option<V>>;

    /// `refresh` of a plain output: stores it.
    fn store_value(cache: &AsyncCache<K, V>, key: K, value: &V);

    /// `refresh` of a `Result` output: stores an `Ok` value; an error leaves the entry as it was.
    fn store_result<E>(cache: &AsyncCache<K, V>, key: K, value: &Result<V, E>);

    /// `refresh` of an `Option` output: stores a `Some` value; `None` leaves the entry as it was.
    fn store_option(cache: &AsyncCache<K, V>, key: K, value: &Option<V>);
}

impl<K, V> Cached<K, V> for Checked<true>
where
    K: crate::CacheKey,
    V: crate::CacheValue,
{
    type Slot = AsyncCache<K, V>;

    #[inline]
    fn cache(
        slot: &'static OnceLock<Self::Slot>,
        settings: impl FnOnce() -> Settings,
    ) -> &'static AsyncCache<K, V> {
        slot.get_or_init(|| build(configured(settings()), None))
    }

    #[inline]
    fn method_cache(
        slot: &'static OnceLock<Self::Slot>,
        settings: impl FnOnce() -> Settings,
        identity: fn(&K) -> u64,
    ) -> &'static AsyncCache<K, V> {
        slot.get_or_init(|| {
            let mut builder = configured(settings());
            builder.reap_identity = Some(identity);
            build(builder, None)
        })
    }

    #[inline]
    fn hit(cache: &AsyncCache<K, V>, key: &K) -> Option<V> {
        cache.get_uncounted_miss(key)
    }

    #[inline]
    fn hit_refreshing_value<F: Future<Output = V> + Send + 'static>(
        cache: &AsyncCache<K, V>,
        key: &K,
        reload: impl FnOnce() -> F,
    ) -> Option<V> {
        cache.hit_or_refresh(key, reload)
    }

    #[inline]
    fn hit_refreshing_result<E, F: Future<Output = Result<V, E>> + Send + 'static>(
        cache: &AsyncCache<K, V>,
        key: &K,
        reload: impl FnOnce() -> F,
    ) -> Option<V> {
        cache.hit_or_refresh(key, reload)
    }

    #[inline]
    fn hit_refreshing_option<F: Future<Output = Option<V>> + Send + 'static>(
        cache: &AsyncCache<K, V>,
        key: &K,
        reload: impl FnOnce() -> F,
    ) -> Option<V> {
        cache.hit_or_refresh(key, || reload().map(|found| found.ok_or(NoneMarker)))
    }

    // The three below return the cache's own future: no extra `async` layer, so a cached fn's future is no
    // bigger than `get_or_load`'s.

    #[inline]
    fn value<F: Future<Output = V>>(
        cache: &AsyncCache<K, V>,
        key: K,
        body: F,
    ) -> impl Future<Output = V> {
        cache.get_or_load(key, body)
    }

    #[inline]
    fn result<E, F: Future<Output = Result<V, E>>>(
        cache: &AsyncCache<K, V>,
        key: K,
        body: F,
    ) -> impl Future<Output = Result<V, E>> {
        cache.try_get_or_load(key, body)
    }

    #[inline]
    fn option<F: Future<Output = Option<V>>>(
        cache: &AsyncCache<K, V>,
        key: K,
        body: F,
    ) -> impl Future<Output = Option<V>> {
        cache
            .try_get_or_load(key, body.map(|found| found.ok_or(NoneMarker)))
            .map(Result::ok)
    }

    fn store_value(cache: &AsyncCache<K, V>, key: K, value: &V) {
        cache.insert(key, value.clone());
    }

    fn store_result<E>(cache: &AsyncCache<K, V>, key: K, value: &Result<V, E>) {
        if let Ok(value) = value {
            cache.insert(key, value.clone());
        }
    }

    fn store_option(cache: &AsyncCache<K, V>, key: K, value: &Option<V>) {
        if let Some(value) = value {
            cache.insert(key, value.clone());
        }
    }
}

/// Wrong key or value types: the build has failed already (see the checked dispatch above), so none of these
/// runs.
impl<K, V> Cached<K, V> for Checked<false> {
    type Slot = ();

    fn cache(_: &'static OnceLock<()>, _: impl FnOnce() -> Settings) -> &'static AsyncCache<K, V> {
        unreachable!("#[async_cache] with wrong key or value types does not compile")
    }

    fn method_cache(
        _: &'static OnceLock<()>,
        _: impl FnOnce() -> Settings,
        _: fn(&K) -> u64,
    ) -> &'static AsyncCache<K, V> {
        unreachable!("#[async_cache] with wrong key or value types does not compile")
    }

    fn hit(_: &AsyncCache<K, V>, _: &K) -> Option<V> {
        unreachable!("#[async_cache] with wrong key or value types does not compile")
    }

    fn hit_refreshing_value<F: Future<Output = V> + Send + 'static>(
        _: &AsyncCache<K, V>,
        _: &K,
        _: impl FnOnce() -> F,
    ) -> Option<V> {
        unreachable!("#[async_cache] with wrong key or value types does not compile")
    }

    fn hit_refreshing_result<E, F: Future<Output = Result<V, E>> + Send + 'static>(
        _: &AsyncCache<K, V>,
        _: &K,
        _: impl FnOnce() -> F,
    ) -> Option<V> {
        unreachable!("#[async_cache] with wrong key or value types does not compile")
    }

    fn hit_refreshing_option<F: Future<Output = Option<V>> + Send + 'static>(
        _: &AsyncCache<K, V>,
        _: &K,
        _: impl FnOnce() -> F,
    ) -> Option<V> {
        unreachable!("#[async_cache] with wrong key or value types does not compile")
    }

    fn value<F: Future<Output = V>>(
        _: &AsyncCache<K, V>,
        _: K,
        body: F,
    ) -> impl Future<Output = V> {
        body
    }

    fn result<E, F: Future<Output = Result<V, E>>>(
        _: &AsyncCache<K, V>,
        _: K,
        body: F,
    ) -> impl Future<Output = Result<V, E>> {
        body
    }

    fn option<F: Future<Output = Option<V>>>(
        _: &AsyncCache<K, V>,
        _: K,
        body: F,
    ) -> impl Future<Output = Option<V>> {
        body
    }

    fn store_value(_: &AsyncCache<K, V>, _: K, _: &V) {}

    fn store_result<E>(_: &AsyncCache<K, V>, _: K, _: &Result<V, E>) {}

    fn store_option(_: &AsyncCache<K, V>, _: K, _: &Option<V>) {}
}

/// One key part: the argument (`&B`, or `&T` for a by-value `T`) made owned (`O`), through [`Checked`].
pub trait KeyPart<B: ?Sized, O> {
    /// `B::to_owned` (a clone for a sized type).
    fn key_part(borrowed: &B) -> O;
}

impl<B: ?Sized + ToOwned<Owned = O>, O> KeyPart<B, O> for Checked<true> {
    #[inline(always)]
    fn key_part(borrowed: &B) -> O {
        borrowed.to_owned()
    }
}

impl<B: ?Sized, O> KeyPart<B, O> for Checked<false> {
    fn key_part(_: &B) -> O {
        unreachable!("#[async_cache] with wrong key or value types does not compile")
    }
}
