//! The builder's validation: every setting is either built or refused with a `BuildError`, never a panic.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use cache_core::{AsyncCache, BuildError, CacheBuilder};
use proptest::prelude::*;

const MAX_SHARDS: usize = CacheBuilder::<u64, u64>::MAX_SHARDS;

#[test]
fn absurd_shard_counts_are_an_error_not_a_panic() {
    let err = AsyncCache::<u64, u64>::builder()
        .maxsize(usize::MAX)
        .shards(usize::MAX)
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            BuildError::ShardsOverLimit {
                shards: usize::MAX,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("at most"), "{err}");
}

#[test]
fn shards_are_bounded_by_what_the_capacity_can_use() {
    let limit = MAX_SHARDS;
    // The limit itself builds (with room for an entry per shard) ...
    let cache = AsyncCache::<u64, u64>::builder()
        .maxsize(limit * 4)
        .shards(limit)
        .build()
        .unwrap();
    assert_eq!(cache.shards(), limit);
    // ... one more does not, whatever the capacity.
    assert_eq!(
        AsyncCache::<u64, u64>::builder()
            .maxsize(usize::MAX / 2)
            .shards(limit + 1)
            .build()
            .unwrap_err(),
        BuildError::ShardsOverLimit {
            shards: limit + 1,
            limit
        }
    );
    // 65,536 shards, which allocated ~44 MiB up front, are refused.
    assert!(matches!(
        AsyncCache::<u64, u64>::builder()
            .maxsize(1 << 20)
            .shards(1 << 16)
            .build(),
        Err(BuildError::ShardsOverLimit { .. })
    ));
    // More shards than entries stays its own error.
    assert!(matches!(
        AsyncCache::<u64, u64>::builder()
            .maxsize(3)
            .shards(4)
            .build(),
        Err(BuildError::TooManyShards { .. })
    ));
}

/// Values that tend to break arithmetic, and some ordinary ones.
fn size() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0usize),
        Just(1),
        Just(usize::MAX),
        Just(usize::MAX / 2),
        Just(u32::MAX as usize),
        Just(u32::MAX as usize - 1),
        Just(MAX_SHARDS),
        Just(MAX_SHARDS + 1),
        1..5_000usize,
        any::<usize>(),
    ]
}

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::MAX),
        Just(Duration::from_nanos(1)),
        (0..u64::MAX, 0..1_000_000_000u32).prop_map(|(s, n)| Duration::new(s, n)),
        (0..10_000u64).prop_map(Duration::from_millis),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn random_builder_settings_build_or_refuse_without_panicking(
        maxsize in proptest::option::of(size()),
        shards in proptest::option::of(size()),
        ttl in proptest::option::of(duration()),
        batch in proptest::option::of(size()),
        window in proptest::option::of(duration()),
    ) {
        let built = catch_unwind(AssertUnwindSafe(|| {
            let mut b: CacheBuilder<u64, u64> = AsyncCache::builder();
            if let Some(n) = maxsize { b = b.maxsize(n); }
            if let Some(n) = shards { b = b.shards(n); }
            if let Some(d) = ttl { b = b.ttl(d); }
            if let Some(n) = batch { b = b.max_batch_size(n); }
            if let Some(d) = window { b = b.batch_window(d); }
            b.build()
        }));
        let built = built.map_err(|_| TestCaseError::fail("build() panicked"))?;
        if let Ok(cache) = built {
            let maxsize = maxsize.unwrap();
            prop_assert_eq!(cache.maxsize(), maxsize);
            prop_assert!(cache.shards() >= 1);
            prop_assert!(cache.shards() <= maxsize.min(MAX_SHARDS));
            // And it works: a write, a read, a purge.
            let used = catch_unwind(AssertUnwindSafe(|| {
                cache.insert(1, 1);
                let got = cache.get(&1);
                cache.purge_expired();
                got
            })).map_err(|_| TestCaseError::fail("a built cache panicked"))?;
            prop_assert!(got_is_consistent(used, ttl));
        }
    }
}

/// An entry just written is there, unless its TTL is so short that it may have passed already.
fn got_is_consistent(got: Option<u64>, ttl: Option<Duration>) -> bool {
    got == Some(1) || ttl.is_some_and(|t| t < Duration::from_secs(1))
}
