//! What `#[async_cache(redis = "...")]` expansions call: the build of a cache shared through a
//! [`RedisTier`](crate::redis::RedisTier), and the checks of its types. Not public API.
//!
//! Everything here exists with and without `cache-core`'s feature `redis`, so that an expansion in a build
//! without it fails with exactly one error, from [`redis_feature`], on the `redis = ".."` expression: without
//! the feature the checks ask nothing and the probes say "not shared", so nothing else is reported.

use super::{Cached, Checked, OnceLock, Probe, Settings};
use crate::AsyncCache;

/// Whether `cache-core` has its feature `redis`, which `redis = ".."` needs: implemented for [`RedisEnabled`]
/// only with the feature, so [`redis_feature`] (spanned on the expression) is the one error without it.
#[diagnostic::on_unimplemented(
    message = "`#[async_cache(redis = ..)]` needs the feature `redis` of `cache-core`",
    label = "this needs `cache-core`'s feature `redis`",
    note = "enable it in Cargo.toml: `cache-core = {{ version = \"..\", features = [\"redis\"] }}`"
)]
pub trait RedisFeature {}

/// See [`RedisFeature`].
pub struct RedisEnabled;

#[cfg(feature = "redis")]
impl RedisFeature for RedisEnabled {}

/// Fails to compile without `cache-core`'s feature `redis` (called as `redis_feature::<RedisEnabled>()`).
#[inline(always)]
pub const fn redis_feature<T: RedisFeature>() {}

/// The tier as the expansion holds it: a `RedisTier` (`()` without the feature, where nothing runs).
#[cfg(feature = "redis")]
pub type SharedTier = crate::redis::RedisTier;
/// The tier as the expansion holds it: a `RedisTier` (`()` without the feature, where nothing runs).
#[cfg(not(feature = "redis"))]
pub type SharedTier = ();

/// Whether `path` (`module::path::fn`) written with `.` for `::` is a valid cache name: 1 to 64 ASCII letters,
/// digits, `_`, `-` or `.` (as `CacheBuilder::name` requires).
#[must_use]
pub const fn shared_name_ok(path: &str) -> bool {
    let bytes = path.as_bytes();
    let mut i = 0;
    let mut len = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b':' {
            if i + 1 < bytes.len() && bytes[i + 1] == b':' {
                i += 1;
            } else {
                return false;
            }
        } else if !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.') {
            return false;
        }
        len += 1;
        i += 1;
    }
    len >= 1 && len <= 64
}

/// The `false` answers of [`Probe`]'s shared-tier questions (the expansion brings it into scope).
pub trait SharedProbeFallback {
    /// Not a key of a cache shared through Redis.
    const SHARED_KEY: bool = false;
    /// Not a value of a cache shared through Redis.
    const SHARED_VALUE: bool = false;
}

impl<T: ?Sized> SharedProbeFallback for Probe<T> {}

/// Building a cache shared through Redis, through [`Checked`] (as [`Cached`]).
pub trait SharedCached<K, V>: Cached<K, V> {
    /// The cache of a free or associated fn named `path` (`::` is written `.` in the tier), shared through the
    /// tier `tier()` returns; both called once, when the cache is built.
    fn shared_cache(
        slot: &'static OnceLock<Self::Slot>,
        settings: impl FnOnce() -> Settings,
        path: &'static str,
        tier: fn() -> SharedTier,
    ) -> &'static AsyncCache<K, V>;
}

/// Wrong types, or no feature: the build has failed already, and none of this runs.
impl<K, V> SharedCached<K, V> for Checked<false> {
    fn shared_cache(
        _: &'static OnceLock<()>,
        _: impl FnOnce() -> Settings,
        _: &'static str,
        _: fn() -> SharedTier,
    ) -> &'static AsyncCache<K, V> {
        unreachable!(
            "#[async_cache(redis = ..)] with wrong types or without the feature does not compile"
        )
    }
}

#[cfg(feature = "redis")]
pub use with_feature::*;

#[cfg(not(feature = "redis"))]
pub use without_feature::*;

#[cfg(feature = "redis")]
mod with_feature {
    use std::hash::Hash;
    use std::sync::LazyLock;

    use serde::de::DeserializeOwned;
    use serde::Serialize;

    use super::super::{CachedValue, Checked, KeyArgument, KeyType, OnceLock, Probe, Settings};
    use super::SharedCached;
    use crate::redis::RedisTier;
    use crate::AsyncCache;

    impl<T: Hash + Eq + Clone + Send + Sync + 'static + Serialize + DeserializeOwned> Probe<T> {
        /// `T` can be a key of a cache shared through Redis.
        pub const SHARED_KEY: bool = true;
    }

    impl<T: Clone + Send + Sync + 'static + Serialize + DeserializeOwned> Probe<T> {
        /// `T` can be a value of a cache shared through Redis.
        pub const SHARED_VALUE: bool = true;
    }

    impl<K, V> SharedCached<K, V> for Checked<true>
    where
        K: crate::CacheKey + Serialize + DeserializeOwned,
        V: crate::CacheValue + Serialize + DeserializeOwned,
    {
        fn shared_cache(
            slot: &'static OnceLock<AsyncCache<K, V>>,
            settings: impl FnOnce() -> Settings,
            path: &'static str,
            tier: fn() -> RedisTier,
        ) -> &'static AsyncCache<K, V> {
            slot.get_or_init(|| build(settings(), path, tier()))
        }
    }

    /// The cache of the cached fn at `path`, named after it and shared through `tier`.
    fn build<K, V>(settings: Settings, path: &str, tier: RedisTier) -> AsyncCache<K, V>
    where
        K: crate::CacheKey + Serialize + DeserializeOwned,
        V: crate::CacheValue + Serialize + DeserializeOwned,
    {
        let builder = super::super::configured(settings)
            .name(&path.replace("::", "."))
            .redis(tier);
        super::super::build(builder, Some(path))
    }

    /// What `redis = ".."` may yield: the tier, a reference to it, or a reference to a `LazyLock` holding it.
    #[diagnostic::on_unimplemented(
        message = "`redis = ..` must yield a `cache_core::redis::RedisTier`, and this is `{Self}`",
        label = "not a `RedisTier`",
        note = "write an expression of type `RedisTier` or `&RedisTier`, such as `redis = \"TIER.clone()\"` with \
                `static TIER: LazyLock<RedisTier>`, or `redis = \"tier()\"` with `fn tier() -> RedisTier`"
    )]
    pub trait TierValue {
        /// The tier (a clone: clones are the same replica).
        fn tier(self) -> RedisTier;
    }

    impl TierValue for RedisTier {
        fn tier(self) -> RedisTier {
            self
        }
    }

    impl TierValue for &RedisTier {
        fn tier(self) -> RedisTier {
            self.clone()
        }
    }

    impl<F: FnOnce() -> RedisTier> TierValue for &LazyLock<RedisTier, F> {
        fn tier(self) -> RedisTier {
            RedisTier::clone(self)
        }
    }

    /// The tier of `redis = <expr>` (spanned on the expression by the attribute, so a wrong type is reported
    /// there).
    #[inline]
    pub fn tier_value<T: TierValue>(value: T) -> RedisTier {
        value.tier()
    }

    /// A key argument of a cache shared through Redis.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be part of the key of a cache shared through Redis: a key argument must be \
                   `Hash + Eq + Clone + Send + Sync + 'static` and `serde::Serialize + serde::de::DeserializeOwned`",
        label = "this argument is part of the key",
        note = "derive `Serialize, Deserialize` (serde) on it; if the result does not depend on it, leave it out \
                with `skip_args = n`; or say what the key is with `key = Type, convert = expr`"
    )]
    pub trait SharedKeyArgument: KeyArgument + Serialize + DeserializeOwned {}

    #[diagnostic::do_not_recommend]
    impl<T: KeyArgument + Serialize + DeserializeOwned> SharedKeyArgument for T {}

    /// A key argument taken by reference (`&T`) of a cache shared through Redis: the key holds `T::Owned`.
    #[diagnostic::on_unimplemented(
        message = "`&{Self}` cannot be part of the key of a cache shared through Redis: the key holds \
                   `<{Self} as ToOwned>::Owned`, which must be `Hash + Eq + Clone + Send + Sync + 'static` and \
                   `serde::Serialize + serde::de::DeserializeOwned`",
        label = "this argument is part of the key",
        note = "derive `Serialize, Deserialize` (serde) on it; if the result does not depend on it, leave it out \
                with `skip_args = n`; or say what the key is with `key = Type, convert = expr`"
    )]
    pub trait SharedBorrowedKeyArgument: ToOwned<Owned: SharedKeyArgument> {}

    #[diagnostic::do_not_recommend]
    impl<T: ?Sized + ToOwned<Owned: SharedKeyArgument>> SharedBorrowedKeyArgument for T {}

    /// The `key = Type` of a cache shared through Redis.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be the key of a cache shared through Redis: `key = Type` must be \
                   `Hash + Eq + Clone + Send + Sync + 'static` and `serde::Serialize + serde::de::DeserializeOwned`",
        label = "the key type",
        note = "derive `Hash, PartialEq, Eq, Clone, Serialize, Deserialize` on it, or convert to a type that has them"
    )]
    pub trait SharedKeyType: KeyType + Serialize + DeserializeOwned {}

    #[diagnostic::do_not_recommend]
    impl<T: KeyType + Serialize + DeserializeOwned> SharedKeyType for T {}

    /// What a cache shared through Redis stores.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be cached in Redis: what `#[async_cache(redis = ..)]` stores must be \
                   `Clone + Send + Sync + 'static` and `serde::Serialize + serde::de::DeserializeOwned`",
        label = "the cached value",
        note = "derive `Clone, Serialize, Deserialize` on it (serde), or cache it without `redis`"
    )]
    pub trait SharedValue: CachedValue + Serialize + DeserializeOwned {}

    #[diagnostic::do_not_recommend]
    impl<T: CachedValue + Serialize + DeserializeOwned> SharedValue for T {}

    /// Checks one key argument (spanned on it by the attribute).
    #[inline(always)]
    pub const fn shared_key_argument<T: SharedKeyArgument>() {}

    /// Checks one key argument taken by reference.
    #[inline(always)]
    pub const fn shared_borrowed_key_argument<T: ?Sized + SharedBorrowedKeyArgument>() {}

    /// Checks the `key = Type` type.
    #[inline(always)]
    pub const fn shared_key_type<T: SharedKeyType>() {}

    /// Checks the cached value type.
    #[inline(always)]
    pub const fn shared_value<T: SharedValue>() {}
}

/// Without the feature: [`redis_feature`] has failed the build; these ask nothing, so nothing else is reported.
#[cfg(not(feature = "redis"))]
mod without_feature {
    use super::SharedTier;

    /// Any value (nothing runs).
    #[inline]
    pub fn tier_value<T>(_: T) -> SharedTier {}

    /// Asks nothing.
    #[inline(always)]
    pub const fn shared_key_argument<T>() {}

    /// Asks nothing.
    #[inline(always)]
    pub const fn shared_borrowed_key_argument<T: ?Sized>() {}

    /// Asks nothing.
    #[inline(always)]
    pub const fn shared_key_type<T>() {}

    /// Asks nothing.
    #[inline(always)]
    pub const fn shared_value<T>() {}
}
