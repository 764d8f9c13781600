//! The attribute's option values (`ttl`, `refresh_after`) and the checks of its key and value types.

use std::hash::Hash;
use std::time::Duration;

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
