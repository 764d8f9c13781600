//! The gap of the read path's shortcut: hits inside a paused current-thread runtime in a process where nothing has
//! yet been written, loaded or built inside any current-thread runtime. Its own test binary, with one test, so
//! that the process-wide "a current-thread runtime has been seen" flag is clear when it starts
//! (`docs/design/time.md`, "The read path").

use std::time::Duration;

use cache_core::AsyncCache;

const HOUR: Duration = Duration::from_secs(3600);

/// In the gap, hits inside a paused runtime read the system clock (an `advance` does not expire anything); the
/// first write in that runtime ends the gap, and is the cache's first reading of the runtime: its clock counts
/// from there (the advance made before does not), exactly.
#[test]
fn hits_in_a_paused_runtime_follow_the_system_clock_until_a_write_there() {
    let cache: AsyncCache<u32, u32> = AsyncCache::builder().maxsize(16).build().unwrap();
    cache.insert_with_ttl(1, 10, Some(HOUR));
    for _ in 0..200 {
        assert_eq!(cache.get(&1), Some(10));
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(async {
            // (1) The gap: no current-thread runtime seen yet, so hits here do not ask tokio and read the system
            // clock. 600 hits: the periodic precise reads (every 256th hit on a thread) do not ask either.
            assert_eq!(cache.get(&1), Some(10));
            tokio::time::advance(2 * HOUR).await;
            for _ in 0..600 {
                assert_eq!(
                    cache.get(&1),
                    Some(10),
                    "a hit asked tokio before any write in a current-thread runtime"
                );
            }
            assert_eq!(cache.peek(&1), Some(10));
            assert!(cache.contains_key(&1));

            // (2) A write here ends the gap for the whole process. It is the cache's first reading of this
            // runtime: the runtime's two hours before it do not count.
            cache.insert_with_ttl(2, 20, Some(HOUR));
            assert_eq!(cache.get(&1), Some(10));
            assert_eq!(cache.get(&2), Some(20));
            // From the write on, hits follow the runtime's clock. Key 1 was written outside, milliseconds of
            // real time before key 2: half an hour leaves it live, an hour expires both, key 2 exactly then.
            tokio::time::advance(HOUR / 2).await;
            assert_eq!(cache.get(&1), Some(10));
            tokio::time::advance(HOUR / 2 - Duration::from_nanos(1)).await;
            assert_eq!(cache.get(&2), Some(20), "key 2 expired early");
            tokio::time::advance(Duration::from_nanos(1)).await;
            assert_eq!(
                cache.get(&2),
                None,
                "a hit read the system clock after a write in this runtime"
            );
            assert_eq!(cache.get(&1), None);
        });
    // What expired in the runtime stays expired outside it.
    assert_eq!(cache.get(&1), None);
    assert!(!cache.contains_key(&2));
}
