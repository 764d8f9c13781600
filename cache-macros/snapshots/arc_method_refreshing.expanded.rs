impl UserService {
    async fn names(self: &Arc<Self>, prefix: String) -> Option<Vec<String>> {
        const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
            #[allow(unused_imports)]
            use ::cache_core::__private_v0_1::ProbeFallback as _;
            ::cache_core::__private_v0_1::Probe::<(::core::primitive::u64, String)>::KEY
                && ::cache_core::__private_v0_1::Probe::<Vec<String>>::VALUE
        };
        let __async_cache_key = (
            ::cache_core::__private_v0_1::identity(&**self),
            <::cache_core::__private_v0_1::Checked<
                __ASYNC_CACHE_TYPES_OK,
            > as ::cache_core::__private_v0_1::KeyPart<
                String,
                String,
            >>::key_part(&prefix),
        );
        let __async_cache = Self::names_cache();
        if let ::core::option::Option::Some(__async_cache_hit) = <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::Cached<
            _,
            _,
        >>::hit_refreshing_option(
            __async_cache,
            &__async_cache_key,
            || {
                let __async_cache_this = ::std::sync::Arc::clone(&self);
                let __async_cache_owned1 = ::core::clone::Clone::clone(&prefix);
                async move {
                    let prefix = __async_cache_owned1;
                    Self::names_uncached(&__async_cache_this, prefix).await
                }
            },
        ) {
            return ::core::option::Option::Some(__async_cache_hit);
        }
        <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::Cached<
            _,
            _,
        >>::option(__async_cache, __async_cache_key, Self::names_uncached(self, prefix))
            .await
    }
    /// Runs [`Self::names`] without its cache: no lookup, nothing stored.
    async fn names_uncached(self: &Arc<Self>, prefix: String) -> Option<Vec<String>> {
        self.load(prefix).await
    }
    /// The cache of [`Self::names`]: keyed by the instance's identity and the arguments (owned, in order), holding what it returned.
    /// At most 128 entries, LRU, no expiry, refreshed after `REFRESH`; only `Some` values are stored.
    ///
    /// Shared by all instances; use it to read metrics, clear, or prime (`insert`), peek at and remove entries.
    #[must_use]
    fn names_cache() -> &'static ::cache_core::AsyncCache<
        (::core::primitive::u64, String),
        Vec<String>,
    > {
        ::cache_core::__private_v0_1::key_argument::<String>();
        ::cache_core::__private_v0_1::cached_value::<Vec<String>>();
        const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
            #[allow(unused_imports)]
            use ::cache_core::__private_v0_1::ProbeFallback as _;
            ::cache_core::__private_v0_1::Probe::<(::core::primitive::u64, String)>::KEY
                && ::cache_core::__private_v0_1::Probe::<Vec<String>>::VALUE
        };
        static __ASYNC_CACHE: ::cache_core::__private_v0_1::OnceLock<
            <::cache_core::__private_v0_1::Checked<
                __ASYNC_CACHE_TYPES_OK,
            > as ::cache_core::__private_v0_1::Cached<
                (::core::primitive::u64, String),
                Vec<String>,
            >>::Slot,
        > = ::cache_core::__private_v0_1::OnceLock::new();
        <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::Cached<
            _,
            _,
        >>::method_cache(
            &__ASYNC_CACHE,
            || (
                128usize,
                ::cache_core::Policy::Lru,
                ::core::option::Option::None,
                ::core::option::Option::Some(
                    ::cache_core::__private_v0_1::refresh_nanos(
                        const { REFRESH },
                        "names",
                    ),
                ),
            ),
            |__async_cache_key: &(::core::primitive::u64, String)| __async_cache_key.0,
        )
    }
    /// Runs [`Self::names`]'s body without looking in its cache, stores a `Some` value (`None` is returned and the entry left as it was).
    /// Use it to refresh one entry.
    #[allow(dead_code)]
    async fn names_refresh(self: &Arc<Self>, prefix: String) -> Option<Vec<String>> {
        const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
            #[allow(unused_imports)]
            use ::cache_core::__private_v0_1::ProbeFallback as _;
            ::cache_core::__private_v0_1::Probe::<(::core::primitive::u64, String)>::KEY
                && ::cache_core::__private_v0_1::Probe::<Vec<String>>::VALUE
        };
        let __async_cache_key = (
            ::cache_core::__private_v0_1::identity(&**self),
            <::cache_core::__private_v0_1::Checked<
                __ASYNC_CACHE_TYPES_OK,
            > as ::cache_core::__private_v0_1::KeyPart<
                String,
                String,
            >>::key_part(&prefix),
        );
        let __async_cache_ret = Self::names_uncached(self, prefix).await;
        <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::Cached<
            _,
            _,
        >>::store_option(Self::names_cache(), __async_cache_key, &__async_cache_ret);
        __async_cache_ret
    }
}
