pub(super) async fn ping() {
    let __async_cache_key = ();
    let __async_cache = ping::cache();
    if let ::core::option::Option::Some(__async_cache_hit) = ::cache_core::__private::hit(
        __async_cache,
        &__async_cache_key,
    ) {
        return __async_cache_hit;
    }
    ::cache_core::__private::value(
            __async_cache,
            __async_cache_key,
            async move {
                let __async_cache_ret: () = {};
                #[allow(unreachable_code)] __async_cache_ret
            },
        )
        .await
}
/// The cache behind the `#[async_cache]` fn `ping`.
pub(super) mod ping {
    #[allow(unused_imports, clippy::wildcard_imports)]
    use super::*;
    /// The cache of `ping`: keyed by its arguments (owned, in order), holding what it returned.
    /// At most 128 entries, LRU, no expiry; every result is stored.
    ///
    /// Use it to read metrics, clear, or prime (`insert`), peek at and remove entries.
    #[must_use]
    pub(in super::super) fn cache() -> &'static ::cache_core::AsyncCache<(), ()> {
        static __ASYNC_CACHE: ::cache_core::__private::OnceLock<
            ::cache_core::AsyncCache<(), ()>,
        > = ::cache_core::__private::OnceLock::new();
        __ASYNC_CACHE
            .get_or_init(|| ::cache_core::__private::build(
                128usize,
                ::cache_core::Policy::Lru,
                ::core::option::Option::None,
            ))
    }
}
