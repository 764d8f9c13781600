pub(super) async fn ping() {
    const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
        #[allow(unused_imports)]
        use ::cache_core::__private_v0_1::ProbeFallback as _;
        ::cache_core::__private_v0_1::Probe::<()>::KEY
            && ::cache_core::__private_v0_1::Probe::<()>::VALUE
    };
    let __async_cache_key = ();
    let __async_cache = __async_cache_cache_ping();
    if let ::core::option::Option::Some(__async_cache_hit) = <::cache_core::__private_v0_1::Checked<
        __ASYNC_CACHE_TYPES_OK,
    > as ::cache_core::__private_v0_1::Cached<
        _,
        _,
    >>::hit(__async_cache, &__async_cache_key) {
        return __async_cache_hit;
    }
    <::cache_core::__private_v0_1::Checked<
        __ASYNC_CACHE_TYPES_OK,
    > as ::cache_core::__private_v0_1::Cached<
        _,
        _,
    >>::value(__async_cache, __async_cache_key, __async_cache_uncached_ping())
        .await
}
/// Runs `ping` without its cache: no lookup, nothing stored.
#[doc(hidden)]
pub(super) async fn __async_cache_uncached_ping() {}
/// The cache of `ping`: keyed by the arguments (owned, in order), holding what it returned.
/// At most 128 entries, LRU, no expiry; every result is stored.
///
/// Use it to read metrics, clear, or prime (`insert`), peek at and remove entries.
#[doc(hidden)]
#[must_use]
pub(super) fn __async_cache_cache_ping() -> &'static ::cache_core::AsyncCache<(), ()> {
    ::cache_core::__private_v0_1::cached_value::<()>();
    const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
        #[allow(unused_imports)]
        use ::cache_core::__private_v0_1::ProbeFallback as _;
        ::cache_core::__private_v0_1::Probe::<()>::KEY
            && ::cache_core::__private_v0_1::Probe::<()>::VALUE
    };
    static __ASYNC_CACHE: ::cache_core::__private_v0_1::OnceLock<
        <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::Cached<(), ()>>::Slot,
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
            ::core::option::Option::None,
            ::core::option::Option::None,
        ),
    )
}
/// Runs `ping`'s body without looking in its cache, stores what it returns.
/// Use it to refresh one entry.
#[doc(hidden)]
#[allow(dead_code)]
pub(super) async fn __async_cache_refresh_ping() {
    const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
        #[allow(unused_imports)]
        use ::cache_core::__private_v0_1::ProbeFallback as _;
        ::cache_core::__private_v0_1::Probe::<()>::KEY
            && ::cache_core::__private_v0_1::Probe::<()>::VALUE
    };
    let __async_cache_key = ();
    let __async_cache_ret = __async_cache_uncached_ping().await;
    <::cache_core::__private_v0_1::Checked<
        __ASYNC_CACHE_TYPES_OK,
    > as ::cache_core::__private_v0_1::Cached<
        _,
        _,
    >>::store_value(__async_cache_cache_ping(), __async_cache_key, &__async_cache_ret);
    __async_cache_ret
}
/// The cache behind the `#[async_cache]` fn `ping`: `ping::cache()`, `ping::uncached(..)`, `ping::refresh(..)`.
pub(super) mod ping {
    #[allow(unused_imports)]
    pub(in super::super) use super::__async_cache_cache_ping as cache;
    #[allow(unused_imports)]
    pub(in super::super) use super::__async_cache_uncached_ping as uncached;
    #[allow(unused_imports)]
    pub(in super::super) use super::__async_cache_refresh_ping as refresh;
}
