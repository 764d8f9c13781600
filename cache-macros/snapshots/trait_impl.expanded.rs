impl<T: Send> Repo for PgRepo<T> {
    async fn find(&self, name: &str) -> Option<Row> {
        const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
            #[allow(unused_imports)]
            use ::cache_core::__private_v0_1::ProbeFallback as _;
            ::cache_core::__private_v0_1::Probe::<(::core::primitive::u64, String)>::KEY
                && ::cache_core::__private_v0_1::Probe::<Row>::VALUE
        };
        let __async_cache_key = {
            let __async_cache_converted: String = name.to_lowercase();
            (::cache_core::__private_v0_1::identity(&*self), __async_cache_converted)
        };
        let __async_cache = Self::find_cache();
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
        >>::option(__async_cache, __async_cache_key, Self::find_uncached(self, name))
            .await
    }
    fn other(&self) {}
}
impl<T: Send> PgRepo<T> {
    /// Runs [`Self::find`] without its cache: no lookup, nothing stored.
    async fn find_uncached(&self, name: &str) -> Option<Row> {
        self.db.find(name).await
    }
    /// The cache of [`Self::find`]: keyed by the instance's identity and the `convert` expression, holding what it returned.
    /// At most 128 entries, LRU, no expiry; only `Some` values are stored.
    ///
    /// Shared by all instances; use it to read metrics, clear, or prime (`insert`), peek at and remove entries.
    #[must_use]
    fn find_cache() -> &'static ::cache_core::AsyncCache<
        (::core::primitive::u64, String),
        Row,
    > {
        PgRepo__find_cache()
    }
    /// Runs [`Self::find`]'s body without looking in its cache, stores a `Some` value (`None` is returned and the entry left as it was).
    /// Use it to refresh one entry.
    #[allow(dead_code)]
    async fn find_refresh(&self, name: &str) -> Option<Row> {
        const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
            #[allow(unused_imports)]
            use ::cache_core::__private_v0_1::ProbeFallback as _;
            ::cache_core::__private_v0_1::Probe::<(::core::primitive::u64, String)>::KEY
                && ::cache_core::__private_v0_1::Probe::<Row>::VALUE
        };
        let __async_cache_key = {
            let __async_cache_converted: String = name.to_lowercase();
            (::cache_core::__private_v0_1::identity(&*self), __async_cache_converted)
        };
        let __async_cache_ret = Self::find_uncached(self, name).await;
        <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::Cached<
            _,
            _,
        >>::store_option(Self::find_cache(), __async_cache_key, &__async_cache_ret);
        __async_cache_ret
    }
}
/// The cache of `PgRepo::find` (as `PgRepo::find_cache()` returns it), callable without naming the type's parameters.
/// At most 128 entries, LRU, no expiry; only `Some` values are stored.
#[must_use]
#[allow(non_snake_case)]
fn PgRepo__find_cache() -> &'static ::cache_core::AsyncCache<
    (::core::primitive::u64, String),
    Row,
> {
    ::cache_core::__private_v0_1::key_type::<String>();
    ::cache_core::__private_v0_1::cached_value::<Row>();
    const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
        #[allow(unused_imports)]
        use ::cache_core::__private_v0_1::ProbeFallback as _;
        ::cache_core::__private_v0_1::Probe::<(::core::primitive::u64, String)>::KEY
            && ::cache_core::__private_v0_1::Probe::<Row>::VALUE
    };
    static __ASYNC_CACHE: ::cache_core::__private_v0_1::OnceLock<
        <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::Cached<
            (::core::primitive::u64, String),
            Row,
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
            ::core::option::Option::None,
        ),
        |__async_cache_key: &(::core::primitive::u64, String)| __async_cache_key.0,
    )
}
