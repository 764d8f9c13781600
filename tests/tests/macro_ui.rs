//! Compile-time behaviour of `#[async_cache]` and `#[derive(CacheIdentity)]`: `ui/pass` must compile,
//! `ui/fail` must fail with the messages in its `.stderr` snapshots. Refresh the snapshots with
//! `TRYBUILD=overwrite cargo test -p cache-tests --test macro_ui` and read every changed message.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
    // `redis = ".."` without `cache-core`'s feature `redis` (with it, `redis_ui` checks the attribute).
    #[cfg(not(feature = "redis"))]
    t.compile_fail("ui/no_redis/*.rs");
}
