//! Issue 13 refresh-ahead through `get_or_load` / `try_get_or_load` / `*_with_ttl` (whose futures may borrow, so
//! they cannot be spawned): the caller that claims a due entry's refresh runs it with its own future and waits
//! for it; every other caller gets the stored value at once. Deterministic: paused tokio time on a
//! current-thread runtime (or a `ManualClock`), `Notify` gates holding reloads open, a barrier for threads.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use cache_core::clock::ManualClock;
use cache_core::AsyncCache;
use futures::FutureExt;
use tokio::sync::Notify;
use tokio::time::advance;

mod common;
use common::{done, settle};

const S: fn(u64) -> Duration = Duration::from_secs;

/// TTL 60 s, refresh after 10 s; key 1 holds 10, due for a refresh (stored 11 s ago).
async fn due_cache() -> AsyncCache<u64, u64> {
    let cache = AsyncCache::builder()
        .maxsize(100)
        .ttl(S(60))
        .refresh_after(S(10))
        .build()
        .unwrap();
    cache.insert(1, 10);
    advance(S(11)).await;
    cache
}

/// A loader that counts its calls, waits for `gate` (if any) and returns `value`.
fn loader(
    calls: &Arc<AtomicUsize>,
    gate: Option<&Arc<Notify>>,
    value: u64,
) -> impl Future<Output = u64> + Send + 'static {
    let (calls, gate) = (Arc::clone(calls), gate.map(Arc::clone));
    async move {
        calls.fetch_add(1, SeqCst);
        if let Some(gate) = gate {
            gate.notified().await;
        }
        value
    }
}

/// Polls `fut` once (without a runtime waking it): whether it is still pending.
fn pending<F: Future + Unpin>(fut: &mut F) -> bool {
    let mut cx = std::task::Context::from_waker(futures::task::noop_waker_ref());
    std::pin::Pin::new(fut).poll(&mut cx).is_pending()
}

/// Spawns `get_or_load(1, load)`: the caller that claims the refresh.
fn claimer(
    cache: &AsyncCache<u64, u64>,
    load: impl Future<Output = u64> + Send + 'static,
) -> tokio::task::JoinHandle<u64> {
    let cache = cache.clone();
    tokio::spawn(async move { cache.get_or_load(1, load).await })
}

#[tokio::test(start_paused = true)]
async fn the_claiming_caller_reloads_with_its_future_and_every_other_caller_gets_the_old_value_at_once(
) {
    let cache = due_cache().await;
    let (calls, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
    let first = claimer(&cache, loader(&calls, Some(&gate), 20));
    settle().await;
    assert!(!first.is_finished(), "the claimer waits for its reload");
    assert_eq!(calls.load(SeqCst), 1);
    // Everyone else: the stored value on the first poll, their futures never run.
    let borrowed = String::from("borrowed by the loader");
    for _ in 0..5 {
        let load = async { borrowed.len() as u64 };
        assert_eq!(cache.get_or_load(1, load).now_or_never(), Some(10));
        let load = async { Ok::<u64, ()>(borrowed.len() as u64) };
        assert_eq!(cache.try_get_or_load(1, load).now_or_never(), Some(Ok(10)));
        let load = async { unreachable!() };
        assert_eq!(
            cache.get_or_load_with_ttl(1, None, load).now_or_never(),
            Some(10)
        );
        assert_eq!(cache.get(&1), Some(10));
    }
    gate.notify_one();
    assert_eq!(
        done(first).await,
        20,
        "the claimer gets the value it loaded"
    );
    assert_eq!(cache.get(&1), Some(20));
    assert_eq!(calls.load(SeqCst), 1);
    let m = cache.metrics();
    assert_eq!((m.refreshes, m.refresh_failures), (1, 0));
    assert_eq!(
        (m.loads, m.load_failures, m.misses),
        (0, 0, 0),
        "a refresh is not a load"
    );
    assert_eq!(m.hits, 1 + 5 * 4 + 1, "every call above was a hit");
}

#[tokio::test(start_paused = true)]
async fn a_refresh_restarts_the_age_and_takes_the_claimers_ttl() {
    let cache = due_cache().await; // t = 11
    let v = cache
        .get_or_load_with_ttl(1, Some(S(100)), async { 20 })
        .await;
    assert_eq!(v, 20);
    // Due again at 21, expires at 111 (the claimer's TTL, not the default 60).
    advance(S(9)).await; // 20
    assert_eq!(
        cache.get_or_load(1, async { unreachable!("fresh") }).await,
        20
    );
    advance(S(90)).await; // 110: past the old and the default TTL, due
    assert_eq!(cache.peek(&1), Some(20));
    advance(S(1)).await; // 111
    assert_eq!(cache.peek(&1), None);
    let m = cache.metrics();
    assert_eq!((m.refreshes, m.loads), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn a_failed_refresh_answers_with_the_old_value_and_the_next_due_hit_tries_again() {
    let cache = due_cache().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let failing = |calls: &Arc<AtomicUsize>| {
        let calls = Arc::clone(calls);
        async move {
            calls.fetch_add(1, SeqCst);
            Err::<u64, String>("backend down".into())
        }
    };
    assert_eq!(cache.try_get_or_load(1, failing(&calls)).await, Ok(10));
    let m = cache.metrics();
    assert_eq!(
        (m.refreshes, m.refresh_failures, m.load_failures),
        (0, 1, 0)
    );
    assert_eq!(cache.try_get_or_load(1, failing(&calls)).await, Ok(10));
    assert_eq!(calls.load(SeqCst), 2, "due again at once after a failure");
    advance(S(48)).await; // 59 s
    assert_eq!(cache.get(&1), Some(10));
    advance(S(1)).await; // 60 s: the old value's TTL
    assert_eq!(cache.get(&1), None);
    assert_eq!(cache.metrics().refresh_failures, 2);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_refresh_reaches_its_caller_keeps_the_old_value_and_counts_a_refresh_failure() {
    let cache = due_cache().await;
    let panicking = cache.get_or_load(1, async { panic!("reload panics") });
    let caught = AssertUnwindSafe(panicking).catch_unwind().await;
    assert!(
        caught.is_err(),
        "the caller's own future panicked: the panic is its"
    );
    assert_eq!(cache.get(&1), Some(10));
    let m = cache.metrics();
    assert_eq!((m.refresh_failures, m.load_failures), (1, 0));
    // Not poisoned: the next due hit claims the refresh.
    assert_eq!(cache.get_or_load(1, async { 20 }).await, 20);
    assert_eq!(cache.metrics().refreshes, 1);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_claimer_releases_the_refresh_and_a_waiter_takes_the_load_over() {
    let cache = due_cache().await;
    let (calls, never) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
    let mut claim = Box::pin(cache.get_or_load(1, loader(&calls, Some(&never), 20)));
    assert!(pending(&mut claim));
    // The value expires while the reload is held: a caller that misses waits for it, it does not load.
    advance(S(50)).await;
    let waiter = claimer(&cache, loader(&calls, None, 30));
    settle().await;
    assert!(!waiter.is_finished());
    drop(claim);
    assert_eq!(
        done(waiter).await,
        30,
        "the waiter loaded with its own future"
    );
    assert_eq!(calls.load(SeqCst), 2);
    let m = cache.metrics();
    assert_eq!(
        (m.refreshes, m.refresh_failures),
        (0, 0),
        "cancelled: neither"
    );
    assert_eq!((m.loads, m.load_failures), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_claimer_leaves_the_entry_due() {
    let cache = due_cache().await;
    let (calls, never) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
    let mut claim = Box::pin(cache.get_or_load(1, loader(&calls, Some(&never), 20)));
    assert!(pending(&mut claim));
    assert_eq!(
        cache
            .get_or_load(1, loader(&calls, None, 30))
            .now_or_never(),
        Some(10)
    );
    drop(claim);
    // The next due hit claims the refresh again.
    assert_eq!(cache.get_or_load(1, loader(&calls, None, 40)).await, 40);
    assert_eq!(calls.load(SeqCst), 2);
    assert_eq!(cache.metrics().refreshes, 1);
}

#[tokio::test(start_paused = true)]
async fn remove_insert_and_clear_during_a_refresh_win() {
    for write in ["remove", "insert", "clear"] {
        let cache = due_cache().await;
        let (calls, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
        let first = claimer(&cache, loader(&calls, Some(&gate), 20));
        settle().await;
        match write {
            "remove" => assert_eq!(cache.remove(&1), Some(10)),
            "insert" => cache.insert(1, 99),
            _ => cache.clear(),
        }
        gate.notify_one();
        assert_eq!(
            done(first).await,
            20,
            "{write}: the claimer still gets its value"
        );
        let expected = (write == "insert").then_some(99);
        assert_eq!(cache.get(&1), expected, "{write} was undone by the refresh");
        // A later load does not find a stale flight either.
        if write != "insert" {
            assert_eq!(cache.get_or_load(1, async { 50 }).await, 50, "{write}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn loads_get_many_and_load_join_a_refresh_in_flight() {
    let batch_calls = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&batch_calls);
    let cache: AsyncCache<u64, u64> = AsyncCache::builder()
        .maxsize(100)
        .ttl(S(60))
        .refresh_after(S(10))
        .batch_loader(move |keys: Vec<u64>| {
            seen.lock().unwrap().push(keys.clone());
            async move { keys.into_iter().map(|k| (k, k + 100)).collect::<Vec<_>>() }
        })
        .build()
        .unwrap();
    cache.insert(1, 10);
    advance(S(11)).await;
    let (calls, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
    let first = claimer(&cache, loader(&calls, Some(&gate), 20));
    settle().await;
    // While the entry is live, everything gets the old value at once.
    let many = cache.get_many([1], |_| async { unreachable!("a hit") as Vec<_> });
    assert_eq!(many.now_or_never().map(|m| m[&1]), Some(10));
    assert_eq!(cache.load(1).now_or_never(), Some(Some(10)));
    // It expires while the reload is held: every kind of load waits for the reload.
    advance(S(50)).await;
    let c = cache.clone();
    let load =
        tokio::spawn(async move { c.get_or_load(1, async { unreachable!("joined") }).await });
    let c = cache.clone();
    let try_load = tokio::spawn(async move {
        let load = async { Err::<u64, ()>(()) };
        c.try_get_or_load(
            1,
            load.map(|_| -> Result<u64, ()> { unreachable!("joined") }),
        )
        .await
    });
    let (c, got) = (cache.clone(), Arc::new(Mutex::new(Vec::new())));
    let got_many = Arc::clone(&got);
    let many = tokio::spawn(async move {
        c.get_many([1, 2], move |keys| {
            got_many.lock().unwrap().push(keys.clone());
            async move { keys.into_iter().map(|k| (k, k + 200)).collect::<Vec<_>>() }
        })
        .await
    });
    let c = cache.clone();
    let batch = tokio::spawn(async move { c.load(1).await });
    settle().await;
    assert!(!load.is_finished() && !try_load.is_finished() && !many.is_finished());
    assert!(!batch.is_finished());
    gate.notify_one();
    assert_eq!(done(first).await, 20);
    assert_eq!(done(load).await, 20);
    assert_eq!(done(try_load).await, Ok(20));
    let many = done(many).await;
    assert_eq!((many[&1], many[&2]), (20, 202));
    assert_eq!(done(batch).await, Some(20));
    assert_eq!(calls.load(SeqCst), 1, "never two loads of the key");
    assert_eq!(
        *got.lock().unwrap(),
        vec![vec![2]],
        "get_many loaded only the other key"
    );
    assert!(
        batch_calls.lock().unwrap().is_empty(),
        "load joined the reload"
    );
    assert_eq!(cache.get(&1), Some(20));
}

#[tokio::test(start_paused = true)]
async fn a_spawned_refresh_in_flight_is_joined_not_repeated() {
    let cache = due_cache().await;
    let (calls, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
    assert_eq!(
        cache
            .get_or_refresh(1, loader(&calls, Some(&gate), 20))
            .await,
        10
    );
    settle().await;
    assert_eq!(
        cache
            .get_or_load(1, loader(&calls, None, 30))
            .now_or_never(),
        Some(10)
    );
    advance(S(50)).await;
    let waiter = claimer(&cache, loader(&calls, None, 40));
    settle().await;
    gate.notify_one();
    assert_eq!(done(waiter).await, 20);
    assert_eq!(calls.load(SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_reload_that_asks_for_its_own_key_gets_the_old_value() {
    let cache = due_cache().await;
    let inner = cache.clone();
    let v = cache
        .get_or_load(1, async move {
            inner.get_or_load(1, async { unreachable!() }).await + 1
        })
        .await;
    assert_eq!(v, 11);
    assert_eq!(cache.get(&1), Some(11));
}

/// `get_or_load` needs no runtime: outside one the claimer refreshes all the same.
#[test]
fn without_a_runtime_get_or_load_still_refreshes() {
    let clock = ManualClock::new();
    let cache: AsyncCache<u64, u64> = AsyncCache::builder()
        .maxsize(10)
        .refresh_after(S(10))
        .clock(clock.clone())
        .build()
        .unwrap();
    cache.insert(1, 10);
    clock.advance(S(11));
    let refreshed = cache.get_or_load(1, async { 20 }).now_or_never();
    assert_eq!(
        refreshed,
        Some(20),
        "a loader that is ready at once: no executor needed"
    );
    assert_eq!(cache.get(&1), Some(20));
    assert_eq!(cache.metrics().refreshes, 1);
}

/// Real threads meet at a barrier and all hit the due entry: in every interleaving exactly one loader runs, its
/// caller gets its own value, every other caller the old value or that one.
#[test]
fn concurrent_due_hits_on_threads_run_one_reload() {
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
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4u64)
        .map(|i| {
            let (cache, barrier, calls) = (cache.clone(), Arc::clone(&barrier), Arc::clone(&calls));
            std::thread::spawn(move || {
                barrier.wait();
                let load = async move {
                    calls.fetch_add(1, SeqCst);
                    100 + i
                };
                let got = cache.get_or_load(1, load).now_or_never();
                (i, got.expect("a ready loader completes on the first poll"))
            })
        })
        .collect();
    let got: Vec<(u64, u64)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(calls.load(SeqCst), 1);
    let stored = cache.get(&1).unwrap();
    let claimers: Vec<_> = got.iter().filter(|(i, v)| *v == 100 + i).collect();
    assert_eq!(claimers.len(), 1, "{got:?}");
    assert_eq!(stored, claimers[0].1);
    assert!(got.iter().all(|(_, v)| *v == 10 || *v == stored), "{got:?}");
    assert_eq!(cache.metrics().refreshes, 1);
}
