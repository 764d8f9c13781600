//! `#[async_cache]` under concurrency: one body run for many concurrent callers, and recursion.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use cache_core::async_cache;
use tokio::sync::Notify;

/// Holds its body at `gate` until the test opens it; counts body runs in `runs`. Both are skipped.
#[async_cache(skip_args = 2)]
async fn held(gate: Arc<Notify>, runs: Arc<AtomicUsize>, x: u64) -> u64 {
    runs.fetch_add(1, Ordering::SeqCst);
    gate.notified().await;
    x * x
}

/// Yields until `cond` holds; never sleeps. Panics if it takes unreasonably many turns.
async fn until(mut cond: impl FnMut() -> bool) {
    for _ in 0..1_000_000 {
        if cond() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("condition never held");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_calls_run_the_body_once() {
    const CALLERS: u64 = 50;
    let gate = Arc::new(Notify::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| tokio::spawn(held(Arc::clone(&gate), Arc::clone(&runs), 7)))
        .collect();
    // Every caller has looked the key up (one miss each) and so either runs the body or waits for it.
    until(|| held::cache().metrics().misses == CALLERS).await;
    until(|| runs.load(Ordering::SeqCst) == 1).await;
    gate.notify_one();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 49);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let m = held::cache().metrics();
    assert_eq!((m.loads, m.size), (1, 1));
}

static FIB_RUNS: AtomicUsize = AtomicUsize::new(0);

/// Recursion needs boxing, as for any recursive async fn.
#[async_cache(maxsize = 1000)]
async fn fib(n: u32) -> u128 {
    FIB_RUNS.fetch_add(1, Ordering::SeqCst);
    if n < 2 {
        u128::from(n)
    } else {
        Box::pin(fib(n - 1)).await + Box::pin(fib(n - 2)).await
    }
}

#[tokio::test]
async fn recursion_completes_and_runs_each_key_once() {
    assert_eq!(fib(100).await, 354_224_848_179_261_915_075);
    assert_eq!(FIB_RUNS.load(Ordering::SeqCst), 101);
    assert_eq!(fib(100).await, 354_224_848_179_261_915_075);
    assert_eq!(FIB_RUNS.load(Ordering::SeqCst), 101);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recursion_is_spawnable() {
    let handle = tokio::spawn(fib(50));
    assert_eq!(handle.await.unwrap(), 12_586_269_025);
}
