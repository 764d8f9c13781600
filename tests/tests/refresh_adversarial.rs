//! Adversarial tests of refresh-ahead through `get_or_load` (the claiming caller reloads in the foreground):
//! user code panicking while the refreshed value is stored, cancellation at every await point of the reload,
//! the TTL passing during a reload, and a stress run checking that a key never has two loads at once and that
//! every finished loader call is counted exactly once. Also: a panicking `get_many` batch closure counts as a
//! failed load. Deterministic where it matters: paused tokio time, `Notify` gates, counters, and timeouts that
//! turn a hang into a failure.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use cache_core::clock::ManualClock;
use cache_core::AsyncCache;
use futures::FutureExt;
use tokio::sync::Notify;
use tokio::time::advance;

mod common;
use common::{done, settle};

const S: fn(u64) -> Duration = Duration::from_secs;

/// The value that makes the user hooks below panic.
const POISON: u64 = 666;

/// Polls `fut` once (without a runtime waking it): whether it is still pending.
fn pending<F: Future + Unpin>(fut: &mut F) -> bool {
    let mut cx = std::task::Context::from_waker(futures::task::noop_waker_ref());
    std::pin::Pin::new(fut).poll(&mut cx).is_pending()
}

/// A value whose `Clone` panics for [`POISON`].
#[derive(Debug, PartialEq)]
struct Val(u64);

impl Clone for Val {
    fn clone(&self) -> Self {
        assert_ne!(self.0, POISON, "Clone panics");
        Val(self.0)
    }
}

/// The hook that panics on the reloaded value: the weigher, `expire_after`, or the value's `Clone`.
#[derive(Clone, Copy, Debug)]
enum Hook {
    Weigher,
    ExpireAfter,
    Clone,
}

/// TTL 60 s, refresh after 10 s, with `hook` panicking on [`POISON`]; key 1 holds 10, due (stored 11 s ago).
async fn due_cache_with(hook: Hook) -> AsyncCache<u64, Val> {
    let mut b = AsyncCache::builder()
        .maxsize(100)
        .ttl(S(60))
        .refresh_after(S(10));
    match hook {
        Hook::Weigher => {
            b = b
                .weigher(|_: &u64, v: &Val| {
                    assert_ne!(v.0, POISON, "weigher panics");
                    1
                })
                .max_weight(1_000);
        }
        Hook::ExpireAfter => {
            b = b.expire_after(|_: &u64, v: &Val| {
                assert_ne!(v.0, POISON, "expire_after panics");
                Some(S(60))
            });
        }
        Hook::Clone => {}
    }
    let cache = b.build().unwrap();
    cache.insert(1, Val(10));
    advance(S(11)).await;
    cache
}

/// A panic of user code run on the reloaded value (before it is stored) reaches the claimer, keeps the old
/// value, counts one refresh failure (no load failure) and releases the claim: a caller that missed meanwhile
/// does not hang, and the next due hit refreshes.
#[tokio::test(start_paused = true)]
async fn a_hook_panicking_on_the_reloaded_value_releases_the_claim() {
    for hook in [Hook::Weigher, Hook::ExpireAfter, Hook::Clone] {
        let cache = due_cache_with(hook).await;
        let gate = Arc::new(Notify::new());
        let claim = {
            let (cache, gate) = (cache.clone(), Arc::clone(&gate));
            tokio::spawn(async move {
                AssertUnwindSafe(cache.get_or_load(1, async {
                    gate.notified().await;
                    Val(POISON)
                }))
                .catch_unwind()
                .await
                .is_err()
            })
        };
        settle().await;
        // Another caller gets the old value at once.
        assert_eq!(
            cache.get_or_load(1, async { Val(1) }).now_or_never(),
            Some(Val(10)),
            "{hook:?}"
        );
        gate.notify_one();
        assert!(done(claim).await, "{hook:?}: the panic reached the claimer");
        assert_eq!(
            cache.get(&1),
            Some(Val(10)),
            "{hook:?}: the old value stays"
        );
        let m = cache.metrics();
        assert_eq!(
            (m.refreshes, m.refresh_failures, m.loads, m.load_failures),
            (0, 1, 0, 0),
            "{hook:?}"
        );
        // Not wedged: the next due hit claims the refresh again.
        let next = tokio::time::timeout(S(60), cache.get_or_load(1, async { Val(20) }));
        assert_eq!(next.await.expect("hung"), Val(20), "{hook:?}");
        assert_eq!(cache.metrics().refreshes, 1, "{hook:?}");
    }
}

/// The same, with the old value expired while the reload ran: the caller that missed waits for the reload,
/// and after its panic takes the load over with its own future (one load: no hang, no second loader at once).
#[tokio::test(start_paused = true)]
async fn a_hook_panicking_on_the_reloaded_value_hands_the_load_to_a_waiter() {
    for hook in [Hook::Weigher, Hook::ExpireAfter, Hook::Clone] {
        let cache = due_cache_with(hook).await;
        let gate = Arc::new(Notify::new());
        let claim = {
            let (cache, gate) = (cache.clone(), Arc::clone(&gate));
            tokio::spawn(async move {
                AssertUnwindSafe(cache.get_or_load(1, async {
                    gate.notified().await;
                    Val(POISON)
                }))
                .catch_unwind()
                .await
                .is_err()
            })
        };
        settle().await;
        advance(S(50)).await; // 61 s: the old value expired
        let calls = Arc::new(AtomicUsize::new(0));
        let waiter = {
            let (cache, calls) = (cache.clone(), Arc::clone(&calls));
            tokio::spawn(async move {
                cache
                    .get_or_load(1, async move {
                        calls.fetch_add(1, SeqCst);
                        Val(30)
                    })
                    .await
            })
        };
        settle().await;
        assert!(
            !waiter.is_finished(),
            "{hook:?}: the miss waits for the reload"
        );
        assert_eq!(calls.load(SeqCst), 0, "{hook:?}");
        gate.notify_one();
        assert!(done(claim).await, "{hook:?}");
        assert_eq!(done(waiter).await, Val(30), "{hook:?}");
        assert_eq!(calls.load(SeqCst), 1, "{hook:?}");
        assert_eq!(cache.get(&1), Some(Val(30)), "{hook:?}");
    }
}

/// A claimer cancelled after its loader was polled `k` times (at each of its await points): the claim is
/// released, the old value stays, nothing is counted, and the next due hit claims the refresh.
#[tokio::test(start_paused = true)]
async fn a_claimer_cancelled_at_any_await_point_releases_the_claim() {
    for k in 1..=4usize {
        let cache: AsyncCache<u64, u64> = AsyncCache::builder()
            .maxsize(10)
            .ttl(S(60))
            .refresh_after(S(10))
            .build()
            .unwrap();
        cache.insert(1, 10);
        advance(S(11)).await;
        let polls = Arc::new(AtomicUsize::new(0));
        let mut claim = {
            let polls = Arc::clone(&polls);
            Box::pin(cache.get_or_load(1, async move {
                // Four await points; each returns Pending once.
                for _ in 0..4 {
                    polls.fetch_add(1, SeqCst);
                    let mut once = false;
                    std::future::poll_fn(|_| {
                        if std::mem::replace(&mut once, true) {
                            std::task::Poll::Ready(())
                        } else {
                            std::task::Poll::Pending
                        }
                    })
                    .await;
                }
                20
            }))
        };
        for _ in 0..k {
            assert!(pending(&mut claim), "k={k}");
        }
        assert_eq!(polls.load(SeqCst), k, "k={k}");
        // Meanwhile others get the old value at once.
        assert_eq!(cache.get_or_load(1, async { 99 }).now_or_never(), Some(10));
        drop(claim);
        assert_eq!(cache.get(&1), Some(10), "k={k}");
        let m = cache.metrics();
        assert_eq!(
            (m.refreshes, m.refresh_failures, m.loads, m.load_failures),
            (0, 0, 0, 0),
            "k={k}: a cancellation counts nowhere"
        );
        assert_eq!(
            cache.get_or_load(1, async { 30 }).now_or_never(),
            Some(30),
            "k={k}: the next due hit claims the refresh"
        );
    }
}

/// A claimer whose reload fails after the old value's TTL has passed must not answer with that expired value
/// (every other read says it is gone): it gets its error. Before the TTL, an error answers with the old value.
#[tokio::test(start_paused = true)]
async fn an_error_after_the_old_value_expired_is_the_claimers_answer() {
    let cache: AsyncCache<u64, u64> = AsyncCache::builder()
        .maxsize(10)
        .ttl(S(60))
        .refresh_after(S(10))
        .build()
        .unwrap();
    cache.insert(1, 10);
    advance(S(11)).await;
    // Fails within the TTL: stale-if-error.
    let quick = cache.try_get_or_load(1, async {
        tokio::time::sleep(S(5)).await;
        Err::<u64, &str>("down")
    });
    assert_eq!(quick.await, Ok(10));
    // Fails after the TTL (60 s) passed: the old value is gone.
    let slow = cache.try_get_or_load(1, async {
        tokio::time::sleep(S(100)).await;
        Err::<u64, &str>("down")
    });
    assert_eq!(slow.await, Err("down"), "an expired value was answered");
    assert_eq!(cache.get(&1), None);
    let m = cache.metrics();
    assert_eq!((m.refresh_failures, m.load_failures), (2, 0));
}

/// A panicking `get_many` batch closure counts as a failed load, as the windowed `load` counts one: a panic in
/// its future and a panic in the closure call itself. A cancelled `get_many` counts nowhere.
#[tokio::test(start_paused = true)]
async fn a_panicking_get_many_batch_counts_as_a_failed_load() {
    let cache: AsyncCache<u64, u64> = AsyncCache::new(10);
    let in_future = cache.get_many([1, 2], |_keys| async {
        tokio::task::yield_now().await;
        panic!("batch future panics");
        #[allow(unreachable_code)]
        HashMap::<u64, u64>::new()
    });
    assert!(AssertUnwindSafe(in_future).catch_unwind().await.is_err());
    let m = cache.metrics();
    assert_eq!((m.loads, m.load_failures), (0, 1));
    let in_call = cache.get_many([1, 2], |_keys| -> std::future::Ready<HashMap<u64, u64>> {
        panic!("batch closure panics")
    });
    assert!(AssertUnwindSafe(in_call).catch_unwind().await.is_err());
    let m = cache.metrics();
    assert_eq!((m.loads, m.load_failures), (0, 2));
    // Cancelled while the batch is pending: neither.
    let never = Arc::new(Notify::new());
    let mut cancelled = Box::pin(cache.get_many([1, 2], |keys| {
        let never = Arc::clone(&never);
        async move {
            never.notified().await;
            keys.into_iter().map(|k| (k, k)).collect::<HashMap<_, _>>()
        }
    }));
    assert!(pending(&mut cancelled));
    drop(cancelled);
    let m = cache.metrics();
    assert_eq!((m.loads, m.load_failures), (0, 2));
    // Not poisoned, and a success counts as a load.
    let got = cache
        .get_many([1, 2], |keys| async move {
            keys.into_iter()
                .map(|k| (k, k * 10))
                .collect::<HashMap<_, _>>()
        })
        .await;
    assert_eq!(got.len(), 2);
    let m = cache.metrics();
    assert_eq!((m.loads, m.load_failures), (1, 2));
}

/// A key's loader calls, to check that two never run at once.
#[derive(Default)]
struct Key {
    running: AtomicUsize,
    overlaps: AtomicUsize,
}

/// Marks one loader call running until dropped (returned or cancelled).
struct Running<'a>(&'a Key);

impl<'a> Running<'a> {
    fn start(key: &'a Key) -> Self {
        if key.running.fetch_add(1, SeqCst) != 0 {
            key.overlaps.fetch_add(1, SeqCst);
        }
        Running(key)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, SeqCst);
    }
}

/// Four worker threads of callers of `get_or_load`, `try_get_or_load` (errors), `get_many`, and callers
/// cancelled mid-load, on three keys, while the callers move a manual clock on (entries fall due and expire): no key ever has
/// two loader calls running at once, no caller hangs, and every loader call that returned is counted exactly
/// once (a value in `loads` or `refreshes`, an error in `load_failures` or `refresh_failures`).
#[test]
fn stress_one_loader_per_key_and_every_finished_call_counted_once() {
    for round in 0..3u64 {
        let clock = ManualClock::new();
        let cache: AsyncCache<u64, u64> = AsyncCache::builder()
            .maxsize(100)
            .ttl(S(20))
            .refresh_after(S(5))
            .clock(clock.clone())
            .build()
            .unwrap();
        let keys: Arc<[Key; 3]> = Arc::new(Default::default());
        let (ok, err) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut tasks = Vec::new();
            for t in 0..8u64 {
                let (cache, clock, keys, ok, err) = (
                    cache.clone(),
                    clock.clone(),
                    Arc::clone(&keys),
                    Arc::clone(&ok),
                    Arc::clone(&err),
                );
                tasks.push(tokio::spawn(async move {
                    for i in 0..300u64 {
                        // 8 x 300 x 50 ms: 120 s, six TTLs and 24 refresh periods.
                        clock.advance(Duration::from_millis(50));
                        let k = (i + t) % 3;
                        let key = &keys[k as usize];
                        let yields = (i * 7 + t + round) % 4;
                        let load = async {
                            let _running = Running::start(key);
                            for _ in 0..yields {
                                tokio::task::yield_now().await;
                            }
                            ok.fetch_add(1, SeqCst);
                            i
                        };
                        match (i + t) % 5 {
                            0 => {
                                let r = cache.try_get_or_load(k, async {
                                    let _running = Running::start(key);
                                    for _ in 0..yields {
                                        tokio::task::yield_now().await;
                                    }
                                    err.fetch_add(1, SeqCst);
                                    Err::<u64, ()>(())
                                });
                                let _ = r.await;
                            }
                            1 => {
                                // Cancelled after one poll if still pending.
                                let mut f = Box::pin(cache.get_or_load(k, load));
                                std::future::poll_fn(|cx| {
                                    let _ = f.as_mut().poll(cx);
                                    std::task::Poll::Ready(())
                                })
                                .await;
                            }
                            2 => {
                                let got = cache
                                    .get_many([k], |ks| async {
                                        let _running = Running::start(key);
                                        for _ in 0..yields {
                                            tokio::task::yield_now().await;
                                        }
                                        ok.fetch_add(1, SeqCst);
                                        ks.into_iter().map(|k| (k, i)).collect::<Vec<_>>()
                                    })
                                    .await;
                                assert_eq!(got.len(), 1);
                            }
                            _ => {
                                cache.get_or_load(k, load).await;
                            }
                        }
                    }
                }));
            }
            for task in tasks {
                tokio::time::timeout(Duration::from_secs(60), task)
                    .await
                    .expect("a caller hung")
                    .expect("a caller panicked");
            }
        });
        for (k, key) in keys.iter().enumerate() {
            assert_eq!(
                key.overlaps.load(SeqCst),
                0,
                "round {round}: key {k} loaded twice at once"
            );
            assert_eq!(key.running.load(SeqCst), 0);
        }
        let m = cache.metrics();
        assert_eq!(
            m.loads + m.refreshes,
            ok.load(SeqCst) as u64,
            "round {round}: values counted once ({m:?})"
        );
        assert_eq!(
            m.load_failures + m.refresh_failures,
            err.load(SeqCst) as u64,
            "round {round}: errors counted once ({m:?})"
        );
        assert!(m.refreshes > 0, "round {round}: the run refreshed ({m:?})");
    }
}
