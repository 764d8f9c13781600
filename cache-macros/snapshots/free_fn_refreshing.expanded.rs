pub async fn rate(client: &Client, currency: &str, day: u32) -> Result<Rate, Error> {
    const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
        #[allow(unused_imports)]
        use ::cache_core::__private_v0_1::ProbeFallback as _;
        ::cache_core::__private_v0_1::Probe::<(::std::string::String, u32)>::KEY
            && ::cache_core::__private_v0_1::Probe::<Rate>::VALUE
    };
    let __async_cache_key = (
        <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::KeyPart<
            str,
            ::std::string::String,
        >>::key_part(currency),
        <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::KeyPart<u32, u32>>::key_part(&day),
    );
    let __async_cache = __async_cache_cache_rate();
    if let ::core::option::Option::Some(__async_cache_hit) = <::cache_core::__private_v0_1::Checked<
        __ASYNC_CACHE_TYPES_OK,
    > as ::cache_core::__private_v0_1::Cached<
        _,
        _,
    >>::hit_refreshing_result(
        __async_cache,
        &__async_cache_key,
        || {
            let __async_cache_owned0 = ::std::borrow::ToOwned::to_owned(client);
            let __async_cache_owned1 = ::std::borrow::ToOwned::to_owned(currency);
            let __async_cache_owned2 = ::core::clone::Clone::clone(&day);
            async move {
                let client = ::cache_core::__private_v0_1::borrowed(
                    &__async_cache_owned0,
                );
                let currency = ::cache_core::__private_v0_1::borrowed(
                    &__async_cache_owned1,
                );
                let day = __async_cache_owned2;
                __async_cache_uncached_rate(client, currency, day).await
            }
        },
    ) {
        return ::core::result::Result::Ok(__async_cache_hit);
    }
    <::cache_core::__private_v0_1::Checked<
        __ASYNC_CACHE_TYPES_OK,
    > as ::cache_core::__private_v0_1::Cached<
        _,
        _,
    >>::result(
            __async_cache,
            __async_cache_key,
            __async_cache_uncached_rate(client, currency, day),
        )
        .await
}
/// Runs `rate` without its cache: no lookup, nothing stored.
#[doc(hidden)]
pub async fn __async_cache_uncached_rate(
    client: &Client,
    currency: &str,
    day: u32,
) -> Result<Rate, Error> {
    client.rate(currency, day).await
}
/// The cache of `rate`: keyed by the arguments (owned, in order), holding what it returned.
/// At most 128 entries, LRU, TTL 60s, refreshed after 30s; only `Ok` values are stored.
///
/// Use it to read metrics, clear, or prime (`insert`), peek at and remove entries.
#[doc(hidden)]
#[must_use]
pub fn __async_cache_cache_rate() -> &'static ::cache_core::AsyncCache<
    (::std::string::String, u32),
    Rate,
> {
    ::cache_core::__private_v0_1::borrowed_key_argument::<str>();
    ::cache_core::__private_v0_1::key_argument::<u32>();
    ::cache_core::__private_v0_1::cached_value::<Rate>();
    const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
        #[allow(unused_imports)]
        use ::cache_core::__private_v0_1::ProbeFallback as _;
        ::cache_core::__private_v0_1::Probe::<(::std::string::String, u32)>::KEY
            && ::cache_core::__private_v0_1::Probe::<Rate>::VALUE
    };
    static __ASYNC_CACHE: ::cache_core::__private_v0_1::OnceLock<
        <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::Cached<
            (::std::string::String, u32),
            Rate,
        >>::Slot,
    > = ::cache_core::__private_v0_1::OnceLock::new();
    <::cache_core::__private_v0_1::Checked<
        __ASYNC_CACHE_TYPES_OK,
    > as ::cache_core::__private_v0_1::Cached<
        _,
        _,
    >>::cache(
        &__ASYNC_CACHE,
        || (
            128usize,
            ::cache_core::Policy::Lru,
            ::core::option::Option::Some(60000000000u64),
            ::core::option::Option::Some(30000000000u64),
        ),
    )
}
/// Runs `rate`'s body without looking in its cache, stores an `Ok` value (an error is returned and the entry left as it was).
/// Use it to refresh one entry.
#[doc(hidden)]
#[allow(dead_code)]
pub async fn __async_cache_refresh_rate(
    client: &Client,
    currency: &str,
    day: u32,
) -> Result<Rate, Error> {
    const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
        #[allow(unused_imports)]
        use ::cache_core::__private_v0_1::ProbeFallback as _;
        ::cache_core::__private_v0_1::Probe::<(::std::string::String, u32)>::KEY
            && ::cache_core::__private_v0_1::Probe::<Rate>::VALUE
    };
    let __async_cache_key = (
        <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::KeyPart<
            str,
            ::std::string::String,
        >>::key_part(currency),
        <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::KeyPart<u32, u32>>::key_part(&day),
    );
    let __async_cache_ret = __async_cache_uncached_rate(client, currency, day).await;
    <::cache_core::__private_v0_1::Checked<
        __ASYNC_CACHE_TYPES_OK,
    > as ::cache_core::__private_v0_1::Cached<
        _,
        _,
    >>::store_result(__async_cache_cache_rate(), __async_cache_key, &__async_cache_ret);
    __async_cache_ret
}
/// The cache behind the `#[async_cache]` fn `rate`: `rate::cache()`, `rate::uncached(..)`, `rate::refresh(..)`.
pub mod rate {
    #[allow(unused_imports)]
    pub use super::__async_cache_cache_rate as cache;
    #[allow(unused_imports)]
    pub use super::__async_cache_uncached_rate as uncached;
    #[allow(unused_imports)]
    pub use super::__async_cache_refresh_rate as refresh;
}
