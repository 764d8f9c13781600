/// Looks a user up.
pub async fn fetch_user(db: &Db, name: &str, id: u64) -> Result<User, DbError> {
    const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
        #[allow(unused_imports)]
        use ::cache_core::__private_v0_1::ProbeFallback as _;
        ::cache_core::__private_v0_1::Probe::<(::std::string::String, u64)>::KEY
            && ::cache_core::__private_v0_1::Probe::<User>::VALUE
    };
    let __async_cache_key = (
        <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::KeyPart<
            str,
            ::std::string::String,
        >>::key_part(name),
        <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::KeyPart<u64, u64>>::key_part(&id),
    );
    let __async_cache = __async_cache_cache_fetch_user();
    if let ::core::option::Option::Some(__async_cache_hit) = <::cache_core::__private_v0_1::Checked<
        __ASYNC_CACHE_TYPES_OK,
    > as ::cache_core::__private_v0_1::Cached<
        _,
        _,
    >>::hit(__async_cache, &__async_cache_key) {
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
            __async_cache_uncached_fetch_user(db, name, id),
        )
        .await
}
/// Runs `fetch_user` without its cache: no lookup, nothing stored.
#[doc(hidden)]
pub async fn __async_cache_uncached_fetch_user(
    db: &Db,
    name: &str,
    id: u64,
) -> Result<User, DbError> {
    db.query(name, id).await
}
/// The cache of `fetch_user`: keyed by the arguments (owned, in order), holding what it returned.
/// At most 1000 entries, LFU, TTL 60s; only `Ok` values are stored.
///
/// Use it to read metrics, clear, or prime (`insert`), peek at and remove entries.
#[doc(hidden)]
#[must_use]
pub fn __async_cache_cache_fetch_user() -> &'static ::cache_core::AsyncCache<
    (::std::string::String, u64),
    User,
> {
    ::cache_core::__private_v0_1::borrowed_key_argument::<str>();
    ::cache_core::__private_v0_1::key_argument::<u64>();
    ::cache_core::__private_v0_1::cached_value::<User>();
    const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
        #[allow(unused_imports)]
        use ::cache_core::__private_v0_1::ProbeFallback as _;
        ::cache_core::__private_v0_1::Probe::<(::std::string::String, u64)>::KEY
            && ::cache_core::__private_v0_1::Probe::<User>::VALUE
    };
    static __ASYNC_CACHE: ::cache_core::__private_v0_1::OnceLock<
        <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::Cached<
            (::std::string::String, u64),
            User,
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
            1000usize,
            ::cache_core::Policy::Lfu,
            ::core::option::Option::Some(60000000000u64),
            ::core::option::Option::None,
        ),
    )
}
/// Runs `fetch_user`'s body without looking in its cache, stores an `Ok` value (an error is returned and the entry left as it was).
/// Use it to refresh one entry.
#[doc(hidden)]
#[allow(dead_code)]
pub async fn __async_cache_refresh_fetch_user(
    db: &Db,
    name: &str,
    id: u64,
) -> Result<User, DbError> {
    const __ASYNC_CACHE_TYPES_OK: ::core::primitive::bool = {
        #[allow(unused_imports)]
        use ::cache_core::__private_v0_1::ProbeFallback as _;
        ::cache_core::__private_v0_1::Probe::<(::std::string::String, u64)>::KEY
            && ::cache_core::__private_v0_1::Probe::<User>::VALUE
    };
    let __async_cache_key = (
        <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::KeyPart<
            str,
            ::std::string::String,
        >>::key_part(name),
        <::cache_core::__private_v0_1::Checked<
            __ASYNC_CACHE_TYPES_OK,
        > as ::cache_core::__private_v0_1::KeyPart<u64, u64>>::key_part(&id),
    );
    let __async_cache_ret = __async_cache_uncached_fetch_user(db, name, id).await;
    <::cache_core::__private_v0_1::Checked<
        __ASYNC_CACHE_TYPES_OK,
    > as ::cache_core::__private_v0_1::Cached<
        _,
        _,
    >>::store_result(
        __async_cache_cache_fetch_user(),
        __async_cache_key,
        &__async_cache_ret,
    );
    __async_cache_ret
}
/// The cache behind the `#[async_cache]` fn `fetch_user`: `fetch_user::cache()`, `fetch_user::uncached(..)`, `fetch_user::refresh(..)`.
pub mod fetch_user {
    #[allow(unused_imports)]
    pub use super::__async_cache_cache_fetch_user as cache;
    #[allow(unused_imports)]
    pub use super::__async_cache_uncached_fetch_user as uncached;
    #[allow(unused_imports)]
    pub use super::__async_cache_refresh_fetch_user as refresh;
}
