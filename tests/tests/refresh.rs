//! Issue 13 refresh-ahead (`refresh_after`, `get_or_refresh`, `try_get_or_refresh`). Deterministic: paused tokio
//! time on a current-thread runtime, or a `ManualClock`, with `Notify` gates holding reloads open; the
//! multi-thread test meets at a barrier and asserts what every interleaving must give.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use cache_core::clock::ManualClock;
use cache_core::{AsyncCache, BuildError, Policy};
use futures::FutureExt;
use tokio::sync::Notify;
use tokio::time::advance;

mod common;
use common::{done, settle};

const S: fn(u64) -> Duration = Duration::from_secs;

/// TTL 60 s, refresh after 10 s.
fn cache() -> AsyncCache<u64, u64> {
    AsyncCache::builder()
        .maxsize(100)
        .ttl(S(60))
        .refresh_after(S(10))
        .build()
        .unwrap()
}

/// A loader that counts its calls, waits for `gate` (if any) and returns `value`.
fn loader(
    calls: &Arc<AtomicUsize>,
    gate: Option<&Arc<Notify>>,
    value: u64,
) -> impl std::future::Future<Output = u64> + Send + 'static {
    let (calls, gate) = (Arc::clone(calls), gate.map(Arc::clone));
    async move {
        calls.fetch_add(1, SeqCst);
        if let Some(gate) = gate {
            gate.notified().await;
        }
        value
    }
}

#[tokio::test(start_paused = true)]
async fn a_stale_hit_returns_the_old_value_at_once_and_reloads_once() {
    let cache = cache();
    let calls = Arc::new(AtomicUsize::new(0));
    assert_eq!(cache.get_or_refresh(1, loader(&calls, None, 10)).await, 10);
    advance(S(9)).await;
    // Fresh: no reload.
    assert_eq!(cache.get_or_refresh(1, loader(&calls, None, 11)).await, 10);
    settle().await;
    assert_eq!(calls.load(SeqCst), 1);
    advance(S(2)).await;
    let gate = Arc::new(Notify::new());
    // Stale: the old value on the first poll, without waiting for the reload.
    let first = cache.get_or_refresh(1, loader(&calls, Some(&gate), 20));
    assert_eq!(first.now_or_never(), Some(10));
    settle().await;
    assert_eq!(calls.load(SeqCst), 2, "one reload started");
    // Meanwhile every hit gets the old value and starts nothing.
    for _ in 0..5 {
        assert_eq!(
            cache
                .get_or_refresh(1, loader(&calls, None, 30))
                .now_or_never(),
            Some(10)
        );
        assert_eq!(cache.get(&1), Some(10));
    }
    settle().await;
    assert_eq!(calls.load(SeqCst), 2);
    gate.notify_one();
    settle().await;
    assert_eq!(cache.get(&1), Some(20));
    let m = cache.metrics();
    assert_eq!((m.refreshes, m.refresh_failures, m.loads), (1, 0, 1));
    assert_eq!(m.misses, 1);
}

#[tokio::test(start_paused = true)]
async fn many_concurrent_stale_hits_start_one_reload() {
    let cache = cache();
    cache.insert(1, 10);
    advance(S(11)).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Notify::new());
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let (cache, load) = (cache.clone(), loader(&calls, Some(&gate), 100 + i));
            tokio::spawn(async move { cache.get_or_refresh(1, load).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(done(t).await, 10);
    }
    settle().await;
    assert_eq!(calls.load(SeqCst), 1);
    gate.notify_one();
    settle().await;
    assert_eq!(cache.get(&1), Some(100), "the first hit's loader reloaded");
    assert_eq!(cache.metrics().refreshes, 1);
}

/// Real threads: every hit meets at a barrier, then all hit the stale entry at once. In every interleaving
/// exactly one reload runs and every caller gets the old value.
#[test]
fn concurrent_stale_hits_on_threads_start_one_reload() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let clock = ManualClock::new();
    let cache: AsyncCache<u64, u64> = AsyncCache::builder()
        .maxsize(100)
        .refresh_after(S(10))
        .clock(clock.clone())
        .build()
        .unwrap();
    cache.insert(1, 10);
    clock.advance(S(11));
    let calls = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Notify::new());
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let (cache, barrier, handle) =
                (cache.clone(), Arc::clone(&barrier), rt.handle().clone());
            let load = loader(&calls, Some(&gate), 100 + i);
            std::thread::spawn(move || {
                let _runtime = handle.enter();
                barrier.wait();
                cache.get_or_refresh(1, load).now_or_never()
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), Some(10));
    }
    rt.block_on(async {
        tokio::time::timeout(S(10), async {
            while calls.load(SeqCst) == 0 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the reload never started");
        gate.notify_one();
        tokio::time::timeout(S(10), async {
            while cache.metrics().refreshes == 0 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the reload never finished");
    });
    assert_eq!(calls.load(SeqCst), 1);
    assert!((100..104).contains(&cache.get(&1).unwrap()));
}

#[tokio::test(start_paused = true)]
async fn a_load_during_a_refresh_joins_it() {
    let cache = cache();
    cache.insert(1, 10);
    advance(S(11)).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Notify::new());
    assert_eq!(
        cache
            .get_or_refresh(1, loader(&calls, Some(&gate), 20))
            .await,
        10
    );
    settle().await;
    // The value expires while the reload is held: a caller that misses waits for the reload, not a new load.
    advance(S(50)).await;
    assert_eq!(cache.get(&1), None);
    let waiter = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.get_or_load(1, async { unreachable!("joined") }).await })
    };
    let refresher = {
        let (cache, load) = (cache.clone(), loader(&calls, None, 30));
        tokio::spawn(async move { cache.get_or_refresh(1, load).await })
    };
    settle().await;
    assert!(!waiter.is_finished() && !refresher.is_finished());
    gate.notify_one();
    assert_eq!(done(waiter).await, 20);
    assert_eq!(done(refresher).await, 20);
    assert_eq!(calls.load(SeqCst), 1, "never two loads of the key");
    assert_eq!(cache.get(&1), Some(20));
}

#[tokio::test(start_paused = true)]
async fn a_failed_refresh_keeps_the_old_value_until_its_ttl() {
    let cache = cache();
    cache.insert(1, 10);
    advance(S(11)).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let failing = |calls: &Arc<AtomicUsize>| {
        let calls = Arc::clone(calls);
        async move {
            calls.fetch_add(1, SeqCst);
            Err::<u64, String>("backend down".into())
        }
    };
    assert_eq!(cache.try_get_or_refresh(1, failing(&calls)).await, Ok(10));
    settle().await;
    assert_eq!(cache.get(&1), Some(10));
    let m = cache.metrics();
    assert_eq!(
        (m.refreshes, m.refresh_failures, m.load_failures),
        (0, 1, 0)
    );
    // The next stale hit tries again (one at a time).
    assert_eq!(cache.try_get_or_refresh(1, failing(&calls)).await, Ok(10));
    settle().await;
    assert_eq!(calls.load(SeqCst), 2);
    assert_eq!(cache.metrics().refresh_failures, 2);
    advance(S(48)).await; // 59 s
    assert_eq!(cache.get(&1), Some(10));
    advance(S(1)).await; // 60 s: the TTL
    assert_eq!(cache.get(&1), None);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_refresh_keeps_the_old_value_until_its_ttl() {
    let cache = cache();
    cache.insert(1, 10);
    advance(S(11)).await;
    let panicking = async { panic!("reload panics") };
    assert_eq!(cache.get_or_refresh(1, panicking).await, 10);
    settle().await;
    assert_eq!(cache.get(&1), Some(10));
    assert_eq!(cache.metrics().refresh_failures, 1);
    // Not poisoned: the next stale hit refreshes.
    assert_eq!(cache.get_or_refresh(1, async { 20 }).await, 10);
    settle().await;
    assert_eq!(cache.get(&1), Some(20));
    assert_eq!(cache.metrics().refreshes, 1);
}

#[tokio::test(start_paused = true)]
async fn remove_insert_and_clear_during_a_refresh_win() {
    for write in ["remove", "insert", "clear"] {
        let cache = cache();
        cache.insert(1, 10);
        advance(S(11)).await;
        let calls = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Notify::new());
        assert_eq!(
            cache
                .get_or_refresh(1, loader(&calls, Some(&gate), 20))
                .await,
            10
        );
        settle().await;
        match write {
            "remove" => assert_eq!(cache.remove(&1), Some(10)),
            "insert" => cache.insert(1, 99),
            _ => cache.clear(),
        }
        gate.notify_one();
        settle().await;
        let expected = (write == "insert").then_some(99);
        assert_eq!(cache.get(&1), expected, "{write} was undone by the refresh");
        assert_eq!(calls.load(SeqCst), 1);
        // The reload ran to the end and is counted (after `clear` reset the metrics), but its value was not
        // stored.
        assert_eq!(cache.metrics().refreshes, 1, "{write}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_refresh_restarts_the_age_and_the_ttl() {
    let cache = cache();
    cache.insert(1, 10); // t = 0, expires at 60
    advance(S(11)).await;
    assert_eq!(cache.get_or_refresh(1, async { 20 }).await, 10);
    settle().await; // stored at 11: expires at 71, due again at 21
    advance(S(9)).await; // 20 s
    let calls = Arc::new(AtomicUsize::new(0));
    assert_eq!(cache.get_or_refresh(1, loader(&calls, None, 30)).await, 20);
    settle().await;
    assert_eq!(calls.load(SeqCst), 0, "fresh again until 21 s");
    advance(S(45)).await; // 65 s: past the first TTL
    assert_eq!(cache.get(&1), Some(20));
    advance(S(6)).await; // 71 s
    assert_eq!(cache.get(&1), None);
}

#[tokio::test(start_paused = true)]
async fn get_and_peek_never_refresh() {
    let cache = cache();
    cache.insert(1, 10);
    advance(S(11)).await;
    assert_eq!(cache.get(&1), Some(10));
    assert_eq!(cache.peek(&1), Some(10));
    assert!(cache.contains_key(&1));
    settle().await;
    assert_eq!(
        cache.metrics().refreshes + cache.metrics().refresh_failures,
        0
    );
    // Still due: the first refreshing hit reloads.
    assert_eq!(cache.get_or_refresh(1, async { 20 }).await, 10);
    settle().await;
    assert_eq!(cache.get(&1), Some(20));
}

#[tokio::test(start_paused = true)]
async fn get_many_and_load_return_the_stale_value_without_refreshing() {
    let batch_calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&batch_calls);
    let cache: AsyncCache<u64, u64> = AsyncCache::builder()
        .maxsize(10)
        .refresh_after(S(10))
        .batch_loader(move |keys: Vec<u64>| {
            seen.fetch_add(1, SeqCst);
            async move { keys.into_iter().map(|k| (k, k + 100)).collect::<Vec<_>>() }
        })
        .build()
        .unwrap();
    cache.insert(1, 10);
    cache.insert(2, 20);
    advance(S(11)).await;
    let many = cache
        .get_many([1, 2], |_| async {
            unreachable!("all hits") as Vec<(u64, u64)>
        })
        .await;
    assert_eq!((many[&1], many[&2]), (10, 20));
    assert_eq!(cache.load(1).await, Some(10));
    settle().await;
    assert_eq!(batch_calls.load(SeqCst), 0);
    assert_eq!(cache.metrics().refreshes, 0);
    assert_eq!(cache.get(&1), Some(10));
}

#[test]
fn without_a_runtime_nothing_is_spawned() {
    let clock = ManualClock::new();
    let cache: AsyncCache<u64, u64> = AsyncCache::builder()
        .maxsize(10)
        .refresh_after(S(10))
        .clock(clock.clone())
        .build()
        .unwrap();
    cache.insert(1, 10);
    clock.advance(S(11));
    let calls = Arc::new(AtomicUsize::new(0));
    let stale = cache
        .get_or_refresh(1, loader(&calls, None, 20))
        .now_or_never()
        .expect("a hit completes on its first poll");
    assert_eq!(stale, 10);
    assert_eq!(calls.load(SeqCst), 0);
    assert_eq!(cache.metrics().refreshes, 0);
    // Nothing was marked: inside a runtime the next hit refreshes.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        assert_eq!(cache.get_or_refresh(1, loader(&calls, None, 20)).await, 10);
        tokio::task::yield_now().await;
    });
    assert_eq!(calls.load(SeqCst), 1);
    assert_eq!(cache.get(&1), Some(20));
}

#[test]
fn a_reload_dropped_with_its_runtime_leaves_nothing_behind() {
    let clock = ManualClock::new();
    let cache: AsyncCache<u64, u64> = AsyncCache::builder()
        .maxsize(10)
        .ttl(S(60))
        .refresh_after(S(10))
        .clock(clock.clone())
        .build()
        .unwrap();
    cache.insert(1, 10);
    clock.advance(S(11));
    let calls = Arc::new(AtomicUsize::new(0));
    let never = Arc::new(Notify::new());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        assert_eq!(
            cache
                .get_or_refresh(1, loader(&calls, Some(&never), 20))
                .await,
            10
        );
        tokio::task::yield_now().await;
    });
    assert_eq!(calls.load(SeqCst), 1);
    drop(rt); // the reload's task is dropped mid-load
    assert_eq!(cache.metrics().refresh_failures, 0, "cancelled, not failed");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        // Due again: a new refresh starts, and succeeds.
        assert_eq!(cache.get_or_refresh(1, loader(&calls, None, 30)).await, 10);
        tokio::task::yield_now().await;
        assert_eq!(cache.get(&1), Some(30));
        // After expiry a load does not hang on the dropped reload's flight.
        clock.advance(S(61));
        assert_eq!(cache.get_or_load(1, async { 40 }).await, 40);
    });
    assert_eq!(calls.load(SeqCst), 2);
}

#[test]
fn refresh_after_is_checked_by_the_builder() {
    let zero = AsyncCache::<u64, u64>::builder()
        .maxsize(1)
        .refresh_after(Duration::ZERO)
        .build();
    assert_eq!(zero.unwrap_err(), BuildError::ZeroRefreshAfter);
    assert!(BuildError::ZeroRefreshAfter
        .to_string()
        .contains("refresh_after"));
}

/// `refresh_after >= ttl` is allowed: values with the default TTL expire before they are due, so they are never
/// refreshed; a value stored with a longer TTL still is.
#[tokio::test(start_paused = true)]
async fn refresh_after_at_or_past_the_ttl_refreshes_only_longer_lived_values() {
    let cache: AsyncCache<u64, u64> = AsyncCache::builder()
        .maxsize(10)
        .ttl(S(10))
        .refresh_after(S(10))
        .build()
        .unwrap();
    cache.insert(1, 10);
    cache.insert_with_ttl(2, 20, Some(S(100)));
    advance(S(10)).await;
    let calls = Arc::new(AtomicUsize::new(0));
    assert_eq!(
        cache.get_or_refresh(1, loader(&calls, None, 11)).await,
        11,
        "expired: a plain load"
    );
    assert_eq!(
        cache.get_or_refresh(2, loader(&calls, None, 21)).await,
        20,
        "stale: refreshed"
    );
    settle().await;
    assert_eq!(cache.get(&2), Some(21));
    let m = cache.metrics();
    assert_eq!((m.loads, m.refreshes), (1, 1));
}

/// Without `refresh_after`, `get_or_refresh` is `get_or_load`.
#[tokio::test(start_paused = true)]
async fn without_refresh_after_get_or_refresh_only_loads() {
    let cache: AsyncCache<u64, u64> = AsyncCache::builder()
        .maxsize(10)
        .ttl(S(60))
        .build()
        .unwrap();
    assert_eq!(cache.get_or_refresh(1, async { 10 }).await, 10);
    advance(S(59)).await;
    assert_eq!(cache.get_or_refresh(1, async { unreachable!() }).await, 10);
    settle().await;
    assert_eq!(cache.metrics().refreshes, 0);
}

// ---- `#[async_cache(refresh_after = secs)]`: the body reloads in the background. ----

static RATE_CALLS: AtomicUsize = AtomicUsize::new(0);

/// A key argument by reference, a skipped one by reference: the reload owns copies of both.
#[cache_core::async_cache(maxsize = 10, ttl = 60, refresh_after = 10, skip_args = 1)]
async fn rate(bank: &String, currency: &str) -> u64 {
    assert_eq!(bank, "central");
    let n = RATE_CALLS.fetch_add(1, SeqCst) as u64;
    u64::from(currency == "usd") * 1_000 + n
}

#[tokio::test(start_paused = true)]
async fn the_attribute_refreshes_a_free_fn_with_its_body() {
    let bank = "central".to_string();
    assert_eq!(rate(&bank, "usd").await, 1_000);
    advance(S(11)).await;
    assert_eq!(
        rate(&bank, "usd").await,
        1_000,
        "stale: the old value at once"
    );
    settle().await;
    assert_eq!(RATE_CALLS.load(SeqCst), 2);
    assert_eq!(rate(&bank, "usd").await, 1_001, "refreshed");
    let m = rate::cache().metrics();
    assert_eq!((m.loads, m.refreshes, m.misses), (1, 1, 1));
    // The reload restarted the TTL: alive past the first value's 60 s.
    advance(S(55)).await;
    assert_eq!(rate::cache().peek(&("usd".to_string(),)), Some(1_001));
}

static PROFILE_CALLS: AtomicUsize = AtomicUsize::new(0);

#[derive(cache_core::CacheIdentity)]
struct Profiles {
    id: cache_core::InstanceId,
    fail: std::sync::atomic::AtomicBool,
}

impl Profiles {
    #[cache_core::async_cache(maxsize = 10, refresh_after = 0.5)]
    async fn profile(self: Arc<Self>, user: u64) -> Result<String, String> {
        let n = PROFILE_CALLS.fetch_add(1, SeqCst);
        if self.fail.load(SeqCst) {
            return Err("down".into());
        }
        Ok(format!("user {user} v{n}"))
    }
}

#[tokio::test(start_paused = true)]
async fn the_attribute_refreshes_an_arc_self_method_and_keeps_the_value_on_errors() {
    let profiles = Arc::new(Profiles {
        id: cache_core::InstanceId::new(),
        fail: false.into(),
    });
    let p = || Arc::clone(&profiles);
    assert_eq!(p().profile(7).await.unwrap(), "user 7 v0");
    advance(Duration::from_millis(600)).await;
    profiles.fail.store(true, SeqCst);
    assert_eq!(
        p().profile(7).await.unwrap(),
        "user 7 v0",
        "stale, reload fails"
    );
    settle().await;
    assert_eq!(Profiles::profile_cache().metrics().refresh_failures, 1);
    profiles.fail.store(false, SeqCst);
    assert_eq!(
        p().profile(7).await.unwrap(),
        "user 7 v0",
        "still stale: tries again"
    );
    settle().await;
    assert_eq!(p().profile(7).await.unwrap(), "user 7 v2");
    assert_eq!(PROFILE_CALLS.load(SeqCst), 3);
    assert_eq!(Profiles::profile_cache().metrics().refreshes, 1);
}

/// Removing an entry moves the store's last entry into its slot: the moved entry keeps its own refresh time.
#[tokio::test(start_paused = true)]
async fn refresh_times_follow_entries_moved_by_removals() {
    let cache = cache();
    cache.insert(1, 10);
    cache.insert(2, 20);
    advance(S(8)).await;
    cache.insert(3, 30); // due at 18 s; 1 and 2 at 10 s
    advance(S(3)).await; // 11 s
    assert_eq!(cache.remove(&1), Some(10)); // 3 moves into 1's slot
    let calls = Arc::new(AtomicUsize::new(0));
    assert_eq!(cache.get_or_refresh(3, loader(&calls, None, 31)).await, 30);
    settle().await;
    assert_eq!(calls.load(SeqCst), 0, "3 is fresh");
    assert_eq!(cache.get_or_refresh(2, loader(&calls, None, 21)).await, 20);
    settle().await;
    assert_eq!(calls.load(SeqCst), 1, "2 is stale");
    assert_eq!(cache.get(&2), Some(21));
}

/// Every policy, several shards, a weigher: a stale hit reloads once and the value is replaced.
#[tokio::test(start_paused = true)]
async fn refresh_works_with_every_policy_and_sharding() {
    for policy in [Policy::Lru, Policy::Lfu, Policy::TinyLfu] {
        let cache: AsyncCache<u64, u64> = AsyncCache::builder()
            .maxsize(4_096)
            .shards(4)
            .policy(policy)
            .weigher(|_, v: &u64| u32::from(*v >= 1_000) + 1)
            .max_weight(100_000)
            .ttl(S(60))
            .refresh_after(S(10))
            .build()
            .unwrap();
        for k in 0..100 {
            cache.insert(k, k);
        }
        advance(S(11)).await;
        let calls = Arc::new(AtomicUsize::new(0));
        for k in 0..100 {
            assert_eq!(
                cache
                    .get_or_refresh(k, loader(&calls, None, k + 1_000))
                    .await,
                k
            );
        }
        settle().await;
        assert_eq!(calls.load(SeqCst), 100, "{policy}");
        for k in 0..100 {
            assert_eq!(cache.get(&k), Some(k + 1_000), "{policy}");
        }
        let m = cache.metrics();
        assert_eq!(m.refreshes, 100, "{policy}");
        assert_eq!(m.weight, 200, "{policy}: reloaded values weigh 2");
    }
}
