//! What `#[async_cache]` expansions call. Not public API: names and signatures may change in any release.

use std::future::Future;

use futures::FutureExt;
use std::hash::Hash;
use std::marker::PhantomData;
use std::time::Duration;

pub use std::sync::OnceLock;

use crate::{AsyncCache, CacheIdentity, Policy};

/// The settings of a cached fn's cache: `maxsize`, policy, TTL in nanoseconds (`None`: no expiry),
/// `refresh_after` in nanoseconds (`None`: no refreshes).
pub type Settings = (usize, Policy, Option<u64>, Option<u64>);

/// # Panics
/// Only if the macro let through a setting the builder refuses (a bug in the macro).
fn build<K, V>(
    (maxsize, policy, ttl_nanos, refresh_nanos): Settings,
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
    if let Some(nanos) = refresh_nanos {
        builder = builder.refresh_after(Duration::from_nanos(nanos));
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
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    type Slot = AsyncCache<K, V>;

    #[inline]
    fn cache(
        slot: &'static OnceLock<Self::Slot>,
        settings: impl FnOnce() -> Settings,
    ) -> &'static AsyncCache<K, V> {
        slot.get_or_init(|| build(settings(), None))
    }

    #[inline]
    fn method_cache(
        slot: &'static OnceLock<Self::Slot>,
        settings: impl FnOnce() -> Settings,
        identity: fn(&K) -> u64,
    ) -> &'static AsyncCache<K, V> {
        slot.get_or_init(|| build(settings(), Some(identity)))
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

// ---- Option values and trait checks ----

/// `ttl = <constant expression>`: seconds as a number, or a `Duration`.
pub trait TtlValue {
    /// The TTL in whole nanoseconds, or why it is not a valid TTL.
    ///
    /// # Errors
    /// Zero, negative, not finite, or too long.
    fn ttl_nanos(self) -> Result<u64, &'static str>;
}

const ZERO_TTL: &str =
    "must be positive (a zero TTL would expire every entry at once; omit `ttl` for no expiry)";
const LONG_TTL: &str = "is too long (at most about 584 years; omit `ttl` for no expiry)";

impl TtlValue for Duration {
    fn ttl_nanos(self) -> Result<u64, &'static str> {
        match u64::try_from(self.as_nanos()) {
            Ok(0) => Err(ZERO_TTL),
            Ok(nanos) => Ok(nanos),
            Err(_) => Err(LONG_TTL),
        }
    }
}

macro_rules! ttl_seconds {
    ($($int:ty)*) => {$(
        impl TtlValue for $int {
            #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation, clippy::cast_lossless)]
            fn ttl_nanos(self) -> Result<u64, &'static str> {
                if self <= 0 as $int {
                    return Err(ZERO_TTL);
                }
                (self as u128)
                    .checked_mul(1_000_000_000)
                    .and_then(|n| u64::try_from(n).ok())
                    .ok_or(LONG_TTL)
            }
        }
    )*};
}

ttl_seconds!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize);

impl TtlValue for f64 {
    #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
    fn ttl_nanos(self) -> Result<u64, &'static str> {
        let nanos = (self * 1e9).round();
        if nanos.is_nan() || nanos < 1.0 {
            Err(ZERO_TTL)
        } else if nanos >= 18_446_744_073_709_551_616.0 {
            Err(LONG_TTL)
        } else {
            Ok(nanos as u64)
        }
    }
}

impl TtlValue for f32 {
    fn ttl_nanos(self) -> Result<u64, &'static str> {
        f64::from(self).ttl_nanos()
    }
}

/// The TTL of `#[async_cache(ttl = <expr>)]` on `function`.
///
/// # Panics
/// When the value is not a valid TTL, with a message naming the function and the option (the attribute's
/// documented contract: constant expressions are checked when the cache is built).
#[must_use]
#[track_caller]
pub fn ttl_nanos<T: TtlValue>(value: T, function: &str) -> Option<u64> {
    match value.ttl_nanos() {
        Ok(nanos) => Some(nanos),
        Err(why) => panic!("#[async_cache] on `{function}`: `ttl` {why}"),
    }
}

/// `result = true`: the output (an alias such as `ApiResult<User>`) is a `Result`; `Ok` is what is cached.
#[diagnostic::on_unimplemented(
    message = "`#[async_cache(result = true)]` needs a `Result` output, and `{Self}` is not one",
    label = "not a `Result`",
    note = "remove `result = true`, or return a `Result<T, E>` (or an alias of one)"
)]
pub trait ResultOutput {
    /// The `Ok` type.
    type Ok;
}

impl<T, E> ResultOutput for Result<T, E> {
    type Ok = T;
}

/// `option = true`: the output (an alias) is an `Option`; `Some` is what is cached.
#[diagnostic::on_unimplemented(
    message = "`#[async_cache(option = true)]` needs an `Option` output, and `{Self}` is not one",
    label = "not an `Option`",
    note = "remove `option = true`, or return an `Option<T>` (or an alias of one)"
)]
pub trait OptionOutput {
    /// The `Some` type.
    type Some;
}

impl<T> OptionOutput for Option<T> {
    type Some = T;
}

/// A key argument, once owned (`&T` becomes `T::Owned`): what a cache key part must be. The attribute checks each
/// key argument against it, on the argument's own type, so a missing trait is reported there, once.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be part of the cache key: a key argument must be `Hash + Eq + Clone + Send + Sync + 'static`",
    label = "this argument is part of the key",
    note = "if the result does not depend on it (a connection, a client), move it before the key arguments and leave it out with `skip_args = n`; to say what the key is, use `key = Type, convert = expr`; or wrap it in a newtype that implements `Hash + Eq + Clone`"
)]
pub trait KeyArgument: Hash + Eq + Clone + Send + Sync + 'static {}

#[diagnostic::do_not_recommend]
impl<T: Hash + Eq + Clone + Send + Sync + 'static> KeyArgument for T {}

/// A key argument taken by reference (`&T`): the key holds `T::Owned`.
#[diagnostic::on_unimplemented(
    message = "`&{Self}` cannot be part of the cache key: the key holds an owned copy, `<{Self} as ToOwned>::Owned`, which must be `Hash + Eq + Clone + Send + Sync + 'static`",
    label = "this argument is part of the key",
    note = "if the result does not depend on it (a connection, a client), move it before the key arguments and leave it out with `skip_args = n`; to say what the key is, use `key = Type, convert = expr`; or wrap it in a newtype that implements `Hash + Eq + Clone`"
)]
pub trait BorrowedKeyArgument: ToOwned<Owned: KeyArgument> {}

#[diagnostic::do_not_recommend]
impl<T: ?Sized + ToOwned<Owned: KeyArgument>> BorrowedKeyArgument for T {}

/// The key type of `key = Type`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a cache key: `key = Type` must be `Hash + Eq + Clone + Send + Sync + 'static`",
    label = "the key type",
    note = "derive `Hash, PartialEq, Eq, Clone` on it, or convert to a type that has them (a `String`, a tuple, a newtype)"
)]
pub trait KeyType: Hash + Eq + Clone + Send + Sync + 'static {}

#[diagnostic::do_not_recommend]
impl<T: Hash + Eq + Clone + Send + Sync + 'static> KeyType for T {}

/// What a cached fn stores: its output, or the `Ok` / `Some` value.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be cached: what `#[async_cache]` stores must be `Clone + Send + Sync + 'static` (every hit returns a clone)",
    label = "the cached value",
    note = "derive or implement `Clone` on it, or return an `Arc` of it"
)]
pub trait CachedValue: Clone + Send + Sync + 'static {}

#[diagnostic::do_not_recommend]
impl<T: Clone + Send + Sync + 'static> CachedValue for T {}

/// Checks one key argument (spanned on it by the attribute).
#[inline(always)]
pub const fn key_argument<T: KeyArgument>() {}

/// Checks one key argument taken by reference.
#[inline(always)]
pub const fn borrowed_key_argument<T: ?Sized + BorrowedKeyArgument>() {}

/// Checks the `key = Type` type.
#[inline(always)]
pub const fn key_type<T: KeyType>() {}

/// Checks the cached value type (spanned on the output by the attribute).
#[inline(always)]
pub const fn cached_value<T: CachedValue>() {}
