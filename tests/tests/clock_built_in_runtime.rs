//! A cache built inside a paused current-thread runtime, in a process where nothing else has touched a
//! current-thread runtime: the build alone makes later hits ask tokio where they are (`docs/design/time.md`,
//! "The read path"). Its own test binary, with one test, so that the process-wide flag is clear when it starts.

use std::time::Duration;

use cache_core::AsyncCache;

const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test(start_paused = true)]
async fn a_cache_built_in_a_paused_runtime_follows_its_clock() {
    // Built here, filled from a plain thread (no runtime: its writes read the system clock and do not look for a
    // current-thread runtime). The build is the only thing in this process that has seen one.
    let filled: AsyncCache<u32, u32> = AsyncCache::builder().maxsize(16).build().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| filled.insert_with_ttl(1, 10, Some(HOUR)));
    });
    assert_eq!(filled.get(&1), Some(10)); // the cache's first reading of this runtime
    tokio::time::advance(2 * HOUR).await;
    assert_eq!(
        filled.get(&1),
        None,
        "a hit read the system clock in the runtime the cache was built in"
    );

    // The usual test pattern: built and filled here, expiry exactly when the advance reaches the TTL.
    let cache = AsyncCache::builder()
        .maxsize(16)
        .ttl(Duration::from_millis(250))
        .build()
        .unwrap();
    cache.insert(1u8, 1u8);
    tokio::time::advance(Duration::from_millis(249)).await;
    for _ in 0..200 {
        assert_eq!(cache.get(&1), Some(1));
    }
    assert!(cache.contains_key(&1));
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(cache.peek(&1), None);
    assert_eq!(cache.get(&1), None);
    assert_eq!(cache.metrics().expirations, 1);
}
