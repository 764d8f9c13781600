/// Looks a user up.
pub async fn fetch_user(db: &Db, name: &str, id: u64) -> Result<User, DbError> {
    let __async_cache_key = (
        <str as ::std::borrow::ToOwned>::to_owned(name),
        ::core::clone::Clone::clone(&id),
    );
    let __async_cache = fetch_user::cache();
    if let ::core::option::Option::Some(__async_cache_hit) = ::cache_core::__private::hit(
        __async_cache,
        &__async_cache_key,
    ) {
        return ::core::result::Result::Ok(__async_cache_hit);
    }
    ::cache_core::__private::result(
            __async_cache,
            __async_cache_key,
            async move {
                let __async_cache_ret: Result<User, DbError> = {
                    db.query(name, id).await
                };
                #[allow(unreachable_code)] __async_cache_ret
            },
        )
        .await
}
/// The cache behind the `#[async_cache]` fn `fetch_user`.
pub mod fetch_user {
    #[allow(unused_imports, clippy::wildcard_imports)]
    use super::*;
    /// The cache of `fetch_user`: keyed by its arguments (owned, in order), holding what it returned.
    /// At most 1000 entries, LFU, TTL 60s; only `Ok` values are stored.
    ///
    /// Use it to read metrics, clear, or prime (`insert`), peek at and remove entries.
    #[must_use]
    pub fn cache() -> &'static ::cache_core::AsyncCache<
        (::std::string::String, u64),
        User,
    > {
        static __ASYNC_CACHE: ::cache_core::__private::OnceLock<
            ::cache_core::AsyncCache<(::std::string::String, u64), User>,
        > = ::cache_core::__private::OnceLock::new();
        __ASYNC_CACHE
            .get_or_init(|| ::cache_core::__private::build(
                1000usize,
                ::cache_core::Policy::Lfu,
                ::core::option::Option::Some(60000000000u64),
            ))
    }
}
