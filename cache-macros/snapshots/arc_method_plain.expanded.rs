impl UserService {
    async fn names(self: Arc<Self>) -> Vec<String> {
        const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
            #[allow(unused_imports)]
            use my::cache::__private_v0_1::ProbeFallback as _;
            my::cache::__private_v0_1::Probe::<(::core::primitive::u64,)>::KEY
                && my::cache::__private_v0_1::Probe::<Vec<String>>::VALUE
        };
        let __async_cache_key = (my::cache::__private_v0_1::identity(&*self),);
        let __async_cache = Self::names_cache();
        if let ::core::option::Option::Some(__async_cache_hit) = <my::cache::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as my::cache::__private_v0_1::Cached<
            _,
            _,
        >>::hit(__async_cache, &__async_cache_key) {
            return __async_cache_hit;
        }
        <my::cache::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as my::cache::__private_v0_1::Cached<
            _,
            _,
        >>::value(__async_cache, __async_cache_key, Self::names_uncached(self))
            .await
    }
    /// Runs [`Self::names`] without its cache: no lookup, nothing stored.
    async fn names_uncached(self: Arc<Self>) -> Vec<String> {
        self.all().await
    }
    /// The cache of [`Self::names`]: keyed by the instance's identity and the arguments (owned, in order), holding what it returned.
    /// At most 128 entries, LRU, no expiry; every result is stored.
    ///
    /// Shared by all instances; use it to read metrics, clear, or prime (`insert`), peek at and remove entries.
    #[must_use]
    fn names_cache() -> &'static my::cache::AsyncCache<
        (::core::primitive::u64,),
        Vec<String>,
    > {
        my::cache::__private_v0_1::cached_value::<Vec<String>>();
        const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
            #[allow(unused_imports)]
            use my::cache::__private_v0_1::ProbeFallback as _;
            my::cache::__private_v0_1::Probe::<(::core::primitive::u64,)>::KEY
                && my::cache::__private_v0_1::Probe::<Vec<String>>::VALUE
        };
        static __ASYNC_CACHE: my::cache::__private_v0_1::OnceLock<
            <my::cache::__private_v0_1::Checked<
                __ASYNC_CACHE_TYPES_OK,
            > as my::cache::__private_v0_1::Cached<
                (::core::primitive::u64,),
                Vec<String>,
            >>::Slot,
        > = my::cache::__private_v0_1::OnceLock::new();
        <my::cache::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as my::cache::__private_v0_1::Cached<
            _,
            _,
        >>::method_cache(
            &__ASYNC_CACHE,
            || (
                128usize,
                my::cache::Policy::Lru,
                ::core::option::Option::None,
                ::core::option::Option::None,
            ),
            |__async_cache_key: &(::core::primitive::u64,)| __async_cache_key.0,
        )
    }
    /// Runs [`Self::names`]'s body without looking in its cache, stores what it returns.
    /// Use it to refresh one entry.
    #[allow(dead_code)]
    async fn names_refresh(self: Arc<Self>) -> Vec<String> {
        const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
            #[allow(unused_imports)]
            use my::cache::__private_v0_1::ProbeFallback as _;
            my::cache::__private_v0_1::Probe::<(::core::primitive::u64,)>::KEY
                && my::cache::__private_v0_1::Probe::<Vec<String>>::VALUE
        };
        let __async_cache_key = (my::cache::__private_v0_1::identity(&*self),);
        let __async_cache_ret = Self::names_uncached(self).await;
        <my::cache::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as my::cache::__private_v0_1::Cached<
            _,
            _,
        >>::store_value(Self::names_cache(), __async_cache_key, &__async_cache_ret);
        __async_cache_ret
    }
}
