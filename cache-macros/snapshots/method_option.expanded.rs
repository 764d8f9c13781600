impl UserService {
    pub(crate) async fn user(&self, id: &UserId) -> Option<User> {
        const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
            #[allow(unused_imports)]
            use ::cache_core::__private_v0_1::ProbeFallback as _;
            ::cache_core::__private_v0_1::Probe::<(::core::primitive::u64, UserId)>::KEY
                && ::cache_core::__private_v0_1::Probe::<User>::VALUE
        };
        let __async_cache_key = (
            ::cache_core::__private_v0_1::identity(&*self),
            <::cache_core::__private_v0_1::Checked<
                __ASYNC_CACHE_TYPES_OK,
            > as ::cache_core::__private_v0_1::KeyPart<UserId, UserId>>::key_part(id),
        );
        let __async_cache = Self::user_cache();
        if let ::core::option::Option::Some(__async_cache_hit) = <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::Cached<
            _,
            _,
        >>::hit(__async_cache, &__async_cache_key) {
            return ::core::option::Option::Some(__async_cache_hit);
        }
        <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::Cached<
            _,
            _,
        >>::option(__async_cache, __async_cache_key, Self::user_uncached(self, id))
            .await
    }
    /// Runs [`Self::user`] without its cache: no lookup, nothing stored.
    pub(crate) async fn user_uncached(&self, id: &UserId) -> Option<User> {
        self.db.find(id).await
    }
    /// The cache of [`Self::user`]: keyed by the instance's identity and the arguments (owned, in order), holding what it returned.
    /// At most 128 entries, LRU, TTL 0.5s; only `Some` values are stored.
    ///
    /// Shared by all instances; use it to read metrics, clear, or prime (`insert`), peek at and remove entries.
    #[must_use]
    pub(crate) fn user_cache() -> &'static ::cache_core::AsyncCache<
        (::core::primitive::u64, UserId),
        User,
    > {
        ::cache_core::__private_v0_1::borrowed_key_argument::<UserId>();
        ::cache_core::__private_v0_1::cached_value::<User>();
        const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
            #[allow(unused_imports)]
            use ::cache_core::__private_v0_1::ProbeFallback as _;
            ::cache_core::__private_v0_1::Probe::<(::core::primitive::u64, UserId)>::KEY
                && ::cache_core::__private_v0_1::Probe::<User>::VALUE
        };
        static __ASYNC_CACHE: ::cache_core::__private_v0_1::OnceLock<
            <::cache_core::__private_v0_1::Checked<
                __ASYNC_CACHE_TYPES_OK,
            > as ::cache_core::__private_v0_1::Cached<
                (::core::primitive::u64, UserId),
                User,
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
                ::core::option::Option::Some(500000000u64),
                ::core::option::Option::None,
            ),
            |__async_cache_key: &(::core::primitive::u64, UserId)| __async_cache_key.0,
        )
    }
    /// Runs [`Self::user`]'s body without looking in its cache, stores a `Some` value (`None` is returned and the entry left as it was).
    /// Use it to refresh one entry.
    #[allow(dead_code)]
    pub(crate) async fn user_refresh(&self, id: &UserId) -> Option<User> {
        const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
            #[allow(unused_imports)]
            use ::cache_core::__private_v0_1::ProbeFallback as _;
            ::cache_core::__private_v0_1::Probe::<(::core::primitive::u64, UserId)>::KEY
                && ::cache_core::__private_v0_1::Probe::<User>::VALUE
        };
        let __async_cache_key = (
            ::cache_core::__private_v0_1::identity(&*self),
            <::cache_core::__private_v0_1::Checked<
                __ASYNC_CACHE_TYPES_OK,
            > as ::cache_core::__private_v0_1::KeyPart<UserId, UserId>>::key_part(id),
        );
        let __async_cache_ret = Self::user_uncached(self, id).await;
        <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::Cached<
            _,
            _,
        >>::store_option(Self::user_cache(), __async_cache_key, &__async_cache_ret);
        __async_cache_ret
    }
}
