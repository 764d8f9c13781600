//! Time: the default clock across tokio runtimes (paused, advanced, none), and `ManualClock`.
//!
//! Each test drives time with `tokio::time::pause()` / `advance()` or a `ManualClock`: none sleeps.

use std::time::Duration;

use cache_core::clock::{Clock, ManualClock};
use cache_core::AsyncCache;
use tokio::runtime::{Builder, Runtime};

/// A current-thread runtime whose clock starts paused.
fn paused() -> Runtime {
    Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime")
}

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn manual_clock_advance_saturates_instead_of_wrapping() {
    let clock = ManualClock::new();
    let start = clock.now();
    clock.advance(Duration::from_secs(1));
    let one = clock.now();
    clock.advance(Duration::MAX);
    let far = clock.now();
    assert!(
        far > one,
        "advance(Duration::MAX) moved the clock backwards"
    );
    assert!(clock.elapsed() >= Duration::from_secs(1));
    // Saturated: more advancing keeps it where it is, never earlier.
    clock.advance(Duration::from_secs(1));
    clock.advance(Duration::MAX);
    assert_eq!(clock.now(), far);
    assert!(far - start >= Duration::from_secs(100 * 365 * 24 * 3600));

    // A cache on the saturated clock still expires what it stored before.
    let clock = ManualClock::new();
    let cache = AsyncCache::builder()
        .maxsize(4)
        .ttl(Duration::from_secs(5))
        .clock(clock.clone())
        .build()
        .unwrap();
    cache.insert(1u8, 1u8);
    clock.advance(Duration::from_secs(1));
    clock.advance(Duration::MAX);
    assert_eq!(cache.get(&1), None);
}

/// A cache first used inside a paused runtime that had been advanced (a static cache, say, first touched in one
/// `#[tokio::test]`) keeps counting TTLs in every other runtime.
#[test]
fn a_cache_built_in_an_advanced_paused_runtime_counts_ttls_elsewhere() {
    let cache: AsyncCache<u32, u32> = paused().block_on(async {
        tokio::time::advance(HOUR).await;
        AsyncCache::builder()
            .maxsize(16)
            .ttl(Duration::from_secs(5))
            .build()
            .unwrap()
    });
    // Another paused runtime, its clock an hour behind the first one's.
    paused().block_on(async {
        cache.insert(1, 10);
        tokio::time::advance(Duration::from_secs(4)).await;
        assert_eq!(cache.get(&1), Some(10));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(cache.get(&1), None, "the TTL did not count in this runtime");
    });
}

/// What expired inside a paused runtime stays expired outside it (where the system clock is far behind), and in
/// a later runtime.
#[test]
fn an_entry_expired_in_a_paused_runtime_is_expired_everywhere() {
    let cache: AsyncCache<u32, u32> = AsyncCache::builder().maxsize(16).build().unwrap();
    cache.insert_with_ttl(1, 10, Some(HOUR));
    cache.insert_with_ttl(2, 20, Some(HOUR));
    cache.insert_with_ttl(3, 30, Some(3 * HOUR));
    paused().block_on(async {
        // The cache reads this runtime's clock (a write: hits alone would not, in a process that has not yet
        // written, loaded or built a cache in a current-thread runtime; `clock_first_runtime.rs`), then sees it
        // move two hours.
        cache.insert_with_ttl(4, 40, Some(HOUR));
        assert_eq!(cache.get(&1), Some(10));
        tokio::time::advance(2 * HOUR).await;
        assert_eq!(cache.get(&1), None);
        assert_eq!(cache.get(&4), None);
        assert_eq!(cache.get(&3), Some(30));
    });
    // Outside any runtime the system clock has moved by milliseconds, but the cache's time never goes back.
    assert!(
        !cache.contains_key(&2),
        "expired in the runtime, live outside"
    );
    assert_eq!(cache.peek(&2), None);
    assert_eq!(cache.get(&2), None);
    assert_eq!(cache.get(&3), Some(30));
    // Nor in a fresh paused runtime whose clock stands at the system clock's time.
    paused().block_on(async {
        assert_eq!(cache.get(&2), None);
        assert_eq!(cache.get(&3), Some(30));
        tokio::time::advance(HOUR).await;
        assert_eq!(cache.get(&3), None);
    });
}

/// Two paused runtimes used in turn: between two readings of one runtime the cache's time moves at least as
/// much as that runtime's clock, and never back behind the other runtime's readings.
#[test]
fn several_paused_runtimes_each_advance_the_cache_time() {
    let cache: AsyncCache<u32, u32> = AsyncCache::builder()
        .maxsize(16)
        .ttl(Duration::from_secs(10))
        .build()
        .unwrap();
    let (a, b) = (paused(), paused());
    a.block_on(async {
        cache.insert(1, 1); // expires at 10 s
        tokio::time::advance(Duration::from_secs(6)).await;
        assert_eq!(cache.get(&1), Some(1)); // 6 s
    });
    b.block_on(async {
        assert_eq!(cache.get(&1), Some(1)); // b's first reading: 6 s, where a left it
        tokio::time::advance(Duration::from_secs(3)).await;
        assert_eq!(cache.get(&1), Some(1)); // 9 s
        cache.insert(2, 2); // expires at 19 s
    });
    a.block_on(async {
        tokio::time::advance(Duration::from_secs(1)).await;
        // a moved 1 s since its reading at 6 s, but b's readings took the cache to 9 s: it stays there.
        assert_eq!(cache.get(&1), Some(1));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(cache.get(&1), None); // 10 s
        assert_eq!(cache.get(&2), Some(2));
    });
    b.block_on(async {
        tokio::time::advance(Duration::from_secs(9)).await;
        assert_eq!(cache.get(&2), Some(2)); // 9 + 9 = 18 s
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(cache.get(&2), None); // 19 s
    });
    // Outside, the system clock continues from there.
    assert!(!cache.contains_key(&1) && !cache.contains_key(&2));
}

/// Inside one paused runtime the cache follows that runtime's clock exactly: no expiry without an advance,
/// however long the test takes in real time, and expiry at the exact TTL.
#[tokio::test(start_paused = true)]
async fn a_paused_runtime_alone_sees_its_own_clock_exactly() {
    let cache = AsyncCache::builder()
        .maxsize(16)
        .ttl(Duration::from_millis(250))
        .build()
        .unwrap();
    cache.insert(1u8, 1u8);
    tokio::time::advance(Duration::from_millis(249)).await;
    assert_eq!(cache.get(&1), Some(1));
    assert!(cache.contains_key(&1));
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(cache.peek(&1), None);
    assert_eq!(cache.get(&1), None);
    assert_eq!(cache.metrics().expirations, 1);
}

/// A multi-thread runtime cannot be paused: it reads the system clock, which only moves forward.
#[test]
fn a_multi_thread_runtime_reads_the_system_clock() {
    let cache: AsyncCache<u32, u32> = AsyncCache::builder().maxsize(16).build().unwrap();
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .unwrap();
    let c = cache.clone();
    rt.block_on(async move {
        tokio::spawn(async move {
            c.insert_with_ttl(1, 1, Some(HOUR));
            assert_eq!(c.get(&1), Some(1));
        })
        .await
        .unwrap();
    });
    assert_eq!(cache.get(&1), Some(1));
}
