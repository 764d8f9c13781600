//! Shuttle models of the flight table: a leader cancelled, panicking or failing while waiters join, and a
//! `get_many` leader cancelled while a single-key caller waits on its keys. Each model is run over many random
//! schedules (`check_random`) and over schedules with few preemptions (`check_pct`, which finds bugs that need a
//! specific short order of steps). Properties checked in every schedule: nobody hangs (shuttle fails a schedule
//! in which every task is blocked), at most one loader of a key runs at any moment, every caller gets a value
//! from a real load (or its own error), callers agree on it, and nothing stays registered in the flight table.
//!
//! Run: `RUSTFLAGS="--cfg shuttle" CARGO_TARGET_DIR=target/shuttle cargo test -p cache-core --lib shuttle --
//! --nocapture --test-threads=1` (prints the schedules explored per model; one test thread, because shuttle's panic
//! hook is process-wide and a failing model would otherwise also fail the others). `SHUTTLE_ITERS` sets the
//! schedules per model and strategy (default 2,000).

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::future::{AbortHandle, Abortable};
use futures::FutureExt;
use shuttle::future::{self as task, JoinHandle};

use crate::AsyncCache;

/// Random schedules per model and strategy.
fn iterations() -> usize {
    std::env::var("SHUTTLE_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000)
}

/// Runs `model` under both strategies, counting the schedules that ran to the end.
fn explore(name: &str, model: fn()) {
    let done = Arc::new(AtomicUsize::new(0));
    let n = iterations();
    let counter = Arc::clone(&done);
    let counted = move || {
        model();
        counter.fetch_add(1, Ordering::SeqCst);
    };
    let mut config = shuttle::Config::new();
    // Debug-build frames of the cache are large; shuttle's tasks run on stacks of this size.
    config.stack_size = 1 << 20;
    shuttle::Runner::new(shuttle::scheduler::RandomScheduler::new(n), config.clone())
        .run(counted.clone());
    shuttle::Runner::new(shuttle::scheduler::PctScheduler::new(3, n), config).run(counted);
    let explored = done.load(Ordering::SeqCst);
    println!("shuttle model {name}: {explored} schedules explored, all passed");
    assert_eq!(explored, 2 * n);
}

/// Counts the loads of a model and checks that no two run at once.
#[derive(Clone, Default)]
struct Loads {
    started: Arc<AtomicUsize>,
    running: Arc<AtomicUsize>,
}

/// One running load; dropping it (finished, cancelled or unwinding) ends it.
struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Loads {
    fn begin(&self) -> Running {
        self.started.fetch_add(1, Ordering::SeqCst);
        let before = self.running.fetch_add(1, Ordering::SeqCst);
        assert_eq!(before, 0, "two loads of one key ran at once");
        Running(Arc::clone(&self.running))
    }

    /// A loader that yields `steps` times, then returns `value`.
    fn load(&self, value: u64, steps: usize) -> impl Future<Output = u64> + Send + 'static {
        let loads = self.clone();
        async move {
            let _running = loads.begin();
            for _ in 0..steps {
                task::yield_now().await;
            }
            value
        }
    }
}

/// Spawns `fut` as a task that `abort` cancels: its future is dropped (shuttle 0.8's own `JoinHandle::abort`
/// only detaches the task).
fn spawn_cancellable<T: Send + 'static>(
    fut: impl Future<Output = T> + Send + 'static,
) -> (JoinHandle<Option<T>>, AbortHandle) {
    let (abort, registration) = AbortHandle::new_pair();
    let task = task::spawn(async move { Abortable::new(fut, registration).await.ok() });
    (task, abort)
}

fn spawn_get<F>(cache: &AsyncCache<u64, u64>, key: u64, load: F) -> JoinHandle<u64>
where
    F: Future<Output = u64> + Send + 'static,
{
    let cache = cache.clone();
    task::spawn(async move { cache.get_or_load(key, load).await })
}

/// Nothing of `key` left in the flight table.
fn no_flight(cache: &AsyncCache<u64, u64>, key: u64) {
    let hash = cache.inner.shards.hash(&key);
    assert!(
        cache
            .inner
            .shards
            .lock(hash)
            .flights
            .get(hash, &key)
            .is_none(),
        "a flight stayed registered"
    );
}

/// The leader is cancelled (its task aborted) at a random point while two waiters join: one of them takes the
/// load over, both get its value, and it is cached.
fn leader_cancelled() {
    task::block_on(async {
        let cache = AsyncCache::<u64, u64>::new(10);
        let loads = Loads::default();
        let (leader, cancel) = {
            let (cache, load) = (cache.clone(), loads.load(10, 2));
            spawn_cancellable(async move { cache.get_or_load(1, load).await })
        };
        let w1 = spawn_get(&cache, 1, loads.load(20, 1));
        let w2 = spawn_get(&cache, 1, loads.load(30, 1));
        task::yield_now().await;
        cancel.abort();
        let (a, b) = (w1.await.unwrap(), w2.await.unwrap());
        assert_eq!(a, b, "waiters disagree");
        assert!([10, 20, 30].contains(&a));
        assert_eq!(cache.get(&1), Some(a));
        assert!(loads.started.load(Ordering::SeqCst) >= 1);
        // The leader was cancelled, or finished first and then shares the value.
        let led = leader.await.unwrap();
        assert!(led.is_none() || led == Some(a));
        no_flight(&cache, 1);
    });
}

/// The leader's load panics while two waiters join: the panic reaches the leader only, a waiter takes over.
fn leader_panics() {
    task::block_on(async {
        let cache = AsyncCache::<u64, u64>::new(10);
        let loads = Loads::default();
        let leader = {
            let (cache, loads) = (cache.clone(), loads.clone());
            task::spawn(async move {
                let load = async move {
                    let _running = loads.begin();
                    task::yield_now().await;
                    panic!("loader failed");
                };
                AssertUnwindSafe(cache.get_or_load(1, load))
                    .catch_unwind()
                    .await
                    .ok()
            })
        };
        let w1 = spawn_get(&cache, 1, loads.load(20, 1));
        let w2 = spawn_get(&cache, 1, loads.load(30, 1));
        let (a, b) = (w1.await.unwrap(), w2.await.unwrap());
        assert_eq!(a, b, "waiters disagree");
        // The leader either panicked or (if it started after a waiter) shared the waiter's load.
        let led = leader.await.unwrap();
        assert!(led.is_none() || led == Some(a));
        assert_eq!(cache.get(&1), Some(a));
        no_flight(&cache, 1);
    });
}

/// The leader's load fails while two waiters join: its error reaches it alone; the waiters retry one at a time
/// and share the first success; the failure is not cached.
fn leader_errors() {
    task::block_on(async {
        let cache = AsyncCache::<u64, u64>::new(10);
        let loads = Loads::default();
        let spawn_try = |value: Result<u64, u64>| {
            let (cache, loads) = (cache.clone(), loads.clone());
            task::spawn(async move {
                let load = async move {
                    let _running = loads.begin();
                    task::yield_now().await;
                    value
                };
                cache.try_get_or_load(1, load).await
            })
        };
        let failing = spawn_try(Err(7));
        let w1 = spawn_try(Ok(20));
        let w2 = spawn_try(Ok(30));
        let (a, b) = (w1.await.unwrap(), w2.await.unwrap());
        let (a, b) = (a.expect("a waiter's own load succeeds"), b.unwrap());
        assert_eq!(a, b, "waiters disagree");
        match failing.await.unwrap() {
            Err(e) => assert_eq!(e, 7),
            Ok(v) => assert_eq!(v, a, "a late caller shares the cached value"),
        }
        assert_eq!(cache.get(&1), Some(a));
        no_flight(&cache, 1);
    });
}

/// A `get_many` that leads keys 1 and 2 is cancelled at a random point while a `get_or_load` of key 2 waits on
/// it: the waiter takes over key 2; nothing stays registered.
fn get_many_cancelled() {
    task::block_on(async {
        let cache = AsyncCache::<u64, u64>::new(10);
        let loads = Loads::default();
        let (batch, cancel) = {
            let (cache, loads) = (cache.clone(), loads.clone());
            spawn_cancellable(async move {
                cache
                    .get_many([1, 2], move |keys| {
                        let loads = loads.clone();
                        async move {
                            // `loads` counts key 2's loaders: this batch is one only if it leads key 2.
                            let _running = keys.contains(&2).then(|| loads.begin());
                            task::yield_now().await;
                            task::yield_now().await;
                            keys.into_iter()
                                .map(|k| (k, k * 100))
                                .collect::<HashMap<_, _>>()
                        }
                    })
                    .await
            })
        };
        let waiter = spawn_get(&cache, 2, loads.load(2, 1));
        task::yield_now().await;
        cancel.abort();
        let got = waiter.await.unwrap();
        assert!(got == 200 || got == 2, "{got}");
        if let Some(found) = batch.await.unwrap() {
            // Not cancelled in time: it loaded (or shared) both keys.
            assert_eq!(found.get(&2), Some(&got));
        }
        assert_eq!(cache.get(&2), Some(got));
        no_flight(&cache, 1);
        no_flight(&cache, 2);
    });
}

/// Windowed batches: three `try_load` callers (keys 1, 2, 1; batches of at most 2 keys), the first cancelled at
/// a random point; with `runtime_gone`, every background task (window timers, batches) is also aborted at a
/// random point, as a runtime shutting down drops them. Every remaining caller gets its value or
/// `LoadError::Abandoned` (only when the runtime went), nothing stays registered or queued, and a later `load`
/// of each key completes.
fn batch_window(runtime_gone: bool) {
    use crate::model::shuttle_runtime::{abort_tasks, forget_tasks};
    use crate::LoadError;

    forget_tasks();
    task::block_on(async {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let cache = AsyncCache::<u64, u64>::builder()
            .maxsize(10)
            .max_batch_size(2)
            .batch_loader(move |keys: Vec<u64>| {
                counted.fetch_add(1, Ordering::SeqCst);
                async move {
                    task::yield_now().await;
                    keys.into_iter().map(|k| (k, k * 2)).collect::<Vec<_>>()
                }
            })
            .build()
            .unwrap();
        let spawn_load = |key: u64| {
            let cache = cache.clone();
            task::spawn(async move { cache.try_load(key).await })
        };
        let (_cancelled, cancel) = {
            let cache = cache.clone();
            spawn_cancellable(async move { cache.try_load(1).await })
        };
        let others = [(2, spawn_load(2)), (1, spawn_load(1))];
        task::yield_now().await;
        cancel.abort();
        if runtime_gone {
            task::yield_now().await;
            abort_tasks();
        }
        for (key, caller) in others {
            match caller.await.unwrap() {
                Ok(Some(v)) => assert_eq!(v, key * 2),
                Err(LoadError::Abandoned) => assert!(runtime_gone, "abandoned with a live runtime"),
                other => panic!("unexpected {other:?}"),
            }
        }
        if !runtime_gone {
            // Everything queued was sent; a cancelled caller never breaks the batch for the others.
            assert!(calls.load(Ordering::SeqCst) >= 1);
        }
        // The cancelled caller's key may still be queued in a window whose timer is alive: let it fire.
        for _ in 0..8 {
            task::yield_now().await;
        }
        no_flight_or_pending(&cache, 1, runtime_gone);
        no_flight_or_pending(&cache, 2, runtime_gone);
        for key in [1, 2] {
            assert_eq!(
                cache.try_load(key).await.unwrap(),
                Some(key * 2),
                "key {key} wedged"
            );
        }
    });
}

/// Nothing of `key` registered, and nothing queued. (After the runtime went, a window timer aborted before it
/// fired takes its batch back when it is dropped, so the same holds.)
fn no_flight_or_pending(cache: &AsyncCache<u64, u64>, key: u64, _runtime_gone: bool) {
    let hash = cache.inner.shards.hash(&key);
    let registered = cache
        .inner
        .shards
        .lock(hash)
        .flights
        .get(hash, &key)
        .is_some_and(|f| !f.is_published());
    let queued = cache.inner.batcher.queued() > 0;
    assert!(
        !registered && !queued,
        "key {key}: registered {registered}, queued {queued}"
    );
}

fn batch_caller_cancelled() {
    batch_window(false);
}

fn batch_runtime_gone() {
    batch_window(true);
}

#[test]
fn shuttle_batch_window_caller_cancelled() {
    explore("batch window, caller cancelled", batch_caller_cancelled);
}

#[test]
fn shuttle_batch_window_runtime_gone() {
    explore("batch window, runtime gone", batch_runtime_gone);
}

#[test]
fn shuttle_leader_cancelled_while_waiters_join() {
    explore("leader cancelled", leader_cancelled);
}

#[test]
fn shuttle_leader_panics_while_waiters_join() {
    explore("leader panics", leader_panics);
}

#[test]
fn shuttle_leader_errors_while_waiters_join() {
    explore("leader errors", leader_errors);
}

#[test]
fn shuttle_get_many_cancelled_while_a_waiter_joins() {
    explore("get_many cancelled", get_many_cancelled);
}
