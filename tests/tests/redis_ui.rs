//! Compile-time behaviour of `#[async_cache(redis = "..")]` with `cache-core`'s feature `redis`: `ui/redis/pass`
//! must compile, `ui/redis/fail` must fail with the messages in its `.stderr` snapshots. Refresh them with
//! `TRYBUILD=overwrite cargo test -p cache-tests --features redis --test redis_ui` and read every changed message.
//! (Without the feature, `macro_ui` checks the one error that names it.)

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/redis/pass/*.rs");
    t.compile_fail("ui/redis/fail/*.rs");
}
