//! The first current-thread runtime a process uses a cache from: its own test binary, so that no other test has
//! used a cache in such a runtime before (the read path trusts "no runtime" differently until then).

use std::time::Duration;

use cache_core::AsyncCache;

#[test]
fn hits_in_the_first_paused_runtime_follow_its_clock_right_after_hits_outside() {
    const HOUR: Duration = Duration::from_secs(3600);
    let cache: AsyncCache<u32, u32> = AsyncCache::builder().maxsize(16).build().unwrap();
    cache.insert_with_ttl(1, 10, Some(HOUR));
    // Hits outside any runtime, then straight into a paused runtime, within the same millisecond or so.
    for _ in 0..200 {
        assert_eq!(cache.get(&1), Some(10));
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(async {
            assert_eq!(cache.get(&1), Some(10)); // the cache's first reading of this runtime
            tokio::time::advance(2 * HOUR).await;
            assert_eq!(
                cache.get(&1),
                None,
                "a hit read the system clock inside a paused runtime"
            );
        });
    assert_eq!(cache.get(&1), None);
}
