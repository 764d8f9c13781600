//! Issue 15's loading defects, each pinned by a regression test: a load that waits on its own key (single key,
//! `get_many`, the windowed batch, the attribute) fails clearly instead of hanging and never wedges the key.
//! Deterministic: paused time on a current-thread runtime, where a timeout fires only once every task is blocked,
//! so a hang turns into a failure at once and a pass never depends on the wall clock.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use cache_core::{async_cache, AsyncCache, LoadError};
use futures::FutureExt;

/// Runs `fut`, failing the test (instead of hanging) if it does not finish within a minute of paused time.
async fn bounded<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), fut)
        .await
        .expect("hung: a load waited on itself")
}

/// Runs `fut` (bounded), expecting it to panic; returns the panic message.
async fn panic_message<T>(fut: impl Future<Output = T>) -> String {
    let Err(payload) = bounded(AssertUnwindSafe(fut).catch_unwind()).await else {
        panic!("expected a panic");
    };
    message(&*payload)
}

fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else {
        "<non-string panic>".to_string()
    }
}

const REENTRANT: &str = "re-entrant load";

#[tokio::test(start_paused = true)]
async fn get_or_load_of_its_own_key_panics_and_the_key_still_loads() {
    let cache = AsyncCache::<u64, u64>::new(10);
    let inner = cache.clone();
    let msg =
        panic_message(cache.get_or_load(
            1,
            async move { inner.get_or_load(1, async { 2 }).await + 1 },
        ))
        .await;
    assert!(msg.contains(REENTRANT), "{msg}");
    // Not wedged: the next call loads.
    assert_eq!(bounded(cache.get_or_load(1, async { 7 })).await, 7);
    assert_eq!(cache.get(&1), Some(7));
}

#[tokio::test(start_paused = true)]
async fn try_get_or_load_of_its_own_key_panics() {
    let cache = AsyncCache::<u64, u64>::new(10);
    let inner = cache.clone();
    let msg = panic_message(cache.try_get_or_load(1, async move {
        inner.try_get_or_load(1, async { Ok::<_, ()>(2) }).await
    }))
    .await;
    assert!(msg.contains(REENTRANT), "{msg}");
    let loaded: Result<u64, ()> = bounded(cache.try_get_or_load(1, async { Ok(8) })).await;
    assert_eq!(loaded, Ok(8));
}

#[tokio::test(start_paused = true)]
async fn a_loader_may_load_other_keys_even_nested() {
    let cache = AsyncCache::<u64, u64>::new(10);
    let (a, b) = (cache.clone(), cache.clone());
    let v = bounded(cache.get_or_load(1, async move {
        a.get_or_load(2, async move { b.get_or_load(3, async { 3 }).await * 10 })
            .await
            + 1
    }))
    .await;
    assert_eq!(v, 31);
    assert_eq!((cache.get(&2), cache.get(&3)), (Some(30), Some(3)));
}

/// Two loads of one key polled side by side by one task (`join!`) share one flight: the detection looks at
/// nesting, not at the task, so this legitimate pattern is not mistaken for re-entrancy.
#[tokio::test(start_paused = true)]
async fn siblings_in_one_task_share_the_flight() {
    let cache = AsyncCache::<u64, u64>::new(10);
    let runs = AtomicUsize::new(0);
    let load = || async {
        runs.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(5)).await;
        4
    };
    let (x, y) =
        bounded(async { tokio::join!(cache.get_or_load(1, load()), cache.get_or_load(1, load())) })
            .await;
    assert_eq!((x, y), (4, 4));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn get_many_whose_batch_fn_loads_its_own_key_panics_and_the_key_still_loads() {
    let cache = AsyncCache::<u64, u64>::new(10);
    let inner = cache.clone();
    let msg = panic_message(cache.get_many([1, 2], move |keys| {
        let inner = inner.clone();
        async move {
            let one = inner.get_or_load(1, async { 1 }).await;
            keys.into_iter().map(|k| (k, k + one)).collect::<Vec<_>>()
        }
    }))
    .await;
    assert!(msg.contains(REENTRANT), "{msg}");
    assert_eq!(bounded(cache.get_or_load(1, async { 5 })).await, 5);
    let got = bounded(cache.get_many([2], |keys| async move {
        keys.into_iter().map(|k| (k, k * 10)).collect::<Vec<_>>()
    }))
    .await;
    assert_eq!(got, HashMap::from([(2, 20)]));
}

/// A windowed batch loader that asks `try_load`/`load` for keys. `inner` picks the call it makes.
fn batch_cache(
    inner: fn(AsyncCache<u64, u64>, u64) -> futures::future::BoxFuture<'static, String>,
) -> (AsyncCache<u64, u64>, Arc<Mutex<Vec<String>>>) {
    let me: Arc<OnceLock<AsyncCache<u64, u64>>> = Arc::default();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let first = Arc::new(AtomicBool::new(true));
    let (handle, record) = (Arc::clone(&me), Arc::clone(&seen));
    let cache = AsyncCache::builder()
        .maxsize(100)
        .batch_window(Duration::from_millis(5))
        .batch_loader(move |keys: Vec<u64>| {
            let cache = handle.get().expect("set after build").clone();
            let record = Arc::clone(&record);
            let first = Arc::clone(&first);
            async move {
                // Key 1 asks for key 1 (its own batch) the first time only; key 10 asks for key 11 (another).
                if keys.contains(&1) && first.swap(false, Ordering::SeqCst) {
                    let got = inner(cache.clone(), 1).await;
                    record.lock().unwrap().push(got);
                }
                if keys.contains(&10) {
                    let got = inner(cache.clone(), 11).await;
                    record.lock().unwrap().push(got);
                }
                keys.into_iter().map(|k| (k, k * 2)).collect::<Vec<_>>()
            }
        })
        .build()
        .unwrap();
    me.set(cache.clone()).unwrap();
    (cache, seen)
}

fn via_try_load(
    cache: AsyncCache<u64, u64>,
    key: u64,
) -> futures::future::BoxFuture<'static, String> {
    Box::pin(async move { format!("{:?}", cache.try_load(key).await) })
}

fn via_load(cache: AsyncCache<u64, u64>, key: u64) -> futures::future::BoxFuture<'static, String> {
    Box::pin(async move { format!("{:?}", cache.load(key).await) })
}

#[tokio::test(start_paused = true)]
async fn batch_loader_try_loading_its_own_key_gets_an_error_and_nothing_wedges() {
    let (cache, seen) = batch_cache(via_try_load);
    // The batch loader's own `try_load(1)` is refused; the batch itself goes on.
    assert_eq!(bounded(cache.load(1)).await, Some(2));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].contains("Reentrant"), "{seen:?}");
    assert!(
        LoadError::Reentrant.to_string().contains(REENTRANT),
        "{}",
        LoadError::Reentrant
    );
}

#[tokio::test(start_paused = true)]
async fn batch_loader_loading_its_own_key_fails_the_batch_and_the_key_is_not_wedged() {
    let (cache, _) = batch_cache(via_load);
    let outer = cache.clone();
    let caller = tokio::spawn(async move { outer.try_load(1).await });
    // The inner `load(1)` panics inside the batch loader: every caller of that batch is told.
    let got = bounded(caller).await.expect("no panic escapes try_load");
    assert!(matches!(got, Err(LoadError::Panicked)), "{got:?}");
    // Never wedged: a later `load` and `get_or_load` of the key complete.
    assert_eq!(bounded(cache.load(1)).await, Some(2));
    cache.remove(&1);
    assert_eq!(bounded(cache.get_or_load(1, async { 9 })).await, 9);
}

/// The reported defect exactly: every caller gave up (was dropped) while the batch loader waited on its own key;
/// later calls used to hang forever.
#[tokio::test(start_paused = true)]
async fn abandoned_self_loading_batch_does_not_wedge_the_key() {
    let (cache, _) = batch_cache(via_load);
    let outer = cache.clone();
    let caller = tokio::spawn(async move { outer.load(1).await });
    tokio::time::sleep(Duration::from_millis(1)).await;
    caller.abort();
    let _ = caller.await;
    assert_eq!(bounded(cache.get_or_load(1, async { 9 })).await, 9);
    cache.remove(&1);
    assert_eq!(bounded(cache.load(1)).await, Some(2));
}

#[tokio::test(start_paused = true)]
async fn batch_loader_may_load_keys_outside_its_batch() {
    let (cache, seen) = batch_cache(via_load);
    assert_eq!(bounded(cache.load(10)).await, Some(20));
    assert_eq!(*seen.lock().unwrap(), vec!["Some(22)".to_string()]);
}

#[async_cache(maxsize = 16)]
async fn countdown(n: u64, same: bool) -> u64 {
    match (n, same) {
        (0, _) => 0,
        // Awaits its own key: the inner call would wait for this very call.
        (_, true) => Box::pin(countdown(n, true)).await,
        (_, false) => Box::pin(countdown(n - 1, false)).await + 1,
    }
}

#[tokio::test(start_paused = true)]
async fn attribute_body_awaiting_its_own_args_panics_other_args_work() {
    let msg = panic_message(countdown(3, true)).await;
    assert!(msg.contains(REENTRANT), "{msg}");
    assert_eq!(bounded(countdown(3, false)).await, 3);
    // Not wedged: priming the key makes the same call return at once.
    countdown::cache().insert((3, true), 33);
    assert_eq!(bounded(countdown(3, true)).await, 33);
}

/// Large outputs: values of 64 KiB through every loading path, on a thread with the 2 MiB stack that test
/// threads get by default. In a debug build each layer of futures holds its own copies of a by-value output, so
/// these overflowed the stack before the loading paths were slimmed (`docs/design/large-values.md`). A 1 MiB
/// value cannot pass on 2 MiB in a debug build whatever the cache does (creating one in an async block and
/// handing it on already needs more): the 1 MiB test bounds the stack the paths need instead, at 32 values.
mod large {
    use super::*;

    /// A large value that is cheap to tell apart.
    #[derive(Clone)]
    pub struct Big<const N: usize>([u8; N]);

    impl<const N: usize> Big<N> {
        #[inline(never)]
        pub fn new(seed: u8) -> Self {
            Self([seed; N])
        }
        pub fn seed(&self) -> u8 {
            assert!(self.0.iter().all(|b| *b == self.0[0]), "value torn");
            self.0[0]
        }
    }

    pub const K64: usize = 64 << 10;
    pub const M1: usize = 1 << 20;

    #[async_cache(maxsize = 8)]
    async fn big_k64(seed: u8) -> Big<K64> {
        tokio::task::yield_now().await;
        Big::new(seed)
    }

    #[async_cache(maxsize = 8)]
    async fn big_m1(seed: u8) -> Big<M1> {
        tokio::task::yield_now().await;
        Big::new(seed)
    }

    /// Runs `test` in a current-thread runtime on a fresh thread with a stack of `stack` bytes. A stack overflow
    /// aborts the test binary: that is the failure this guards against.
    fn on_stack<F, Fut>(stack: usize, test: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        std::thread::Builder::new()
            .stack_size(stack)
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .start_paused(true)
                    .build()
                    .unwrap();
                rt.block_on(Box::pin(bounded(test())));
            })
            .unwrap()
            .join()
            .expect("the test failed");
    }

    type Cache<const N: usize> = AsyncCache<u8, Big<N>>;
    type Attribute<const N: usize> = fn(u8) -> futures::future::BoxFuture<'static, Big<N>>;

    /// Every loading path with values of `N` bytes: miss, hit, and a waiter sharing a leader's load. Each call
    /// sits in its own small `async fn`, as it would in real code: one `async fn` awaiting many large outputs
    /// holds stack slots for each of them in a debug build, which alone would exhaust the stack.
    async fn every_path<const N: usize>(attribute: Attribute<N>) {
        let cache = Cache::<N>::builder()
            .maxsize(8)
            .batch_loader(|keys: Vec<u8>| async move {
                keys.into_iter()
                    .map(|k| (k, Big::new(k)))
                    .collect::<Vec<_>>()
            })
            .build()
            .unwrap();
        get_or_load(&cache, 1).await;
        get_or_load(&cache, 1).await;
        try_get_or_load(&cache, 2).await;
        try_get_or_load(&cache, 2).await;
        try_get_or_load_failing(&cache, 3).await;
        leader_and_waiter(&cache, 4).await;
        get_many(&cache, [1, 5, 6]).await;
        load(&cache, 7).await;
        load(&cache, 7).await;
        call(attribute, 8).await;
        call(attribute, 8).await;
    }

    async fn get_or_load<const N: usize>(cache: &Cache<N>, key: u8) {
        let got = cache.get_or_load(key, async move { Big::new(key) }).await;
        assert_eq!(got.seed(), key);
    }

    async fn try_get_or_load<const N: usize>(cache: &Cache<N>, key: u8) {
        let got: Result<Big<N>, ()> = cache
            .try_get_or_load(key, async move { Ok(Big::new(key)) })
            .await;
        assert_eq!(got.map(|b| b.seed()), Ok(key));
    }

    async fn try_get_or_load_failing<const N: usize>(cache: &Cache<N>, key: u8) {
        let got: Result<Big<N>, u8> = cache.try_get_or_load(key, async move { Err(key) }).await;
        assert_eq!(got.err(), Some(key));
    }

    async fn leader_and_waiter<const N: usize>(cache: &Cache<N>, key: u8) {
        let leader = async {
            let got = cache
                .get_or_load(key, async move {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    Big::new(key)
                })
                .await;
            assert_eq!(got.seed(), key);
        };
        let waiter = async {
            tokio::task::yield_now().await;
            let got = cache.get_or_load(key, async { Big::new(0) }).await;
            assert_eq!(got.seed(), key);
        };
        tokio::join!(leader, waiter);
    }

    async fn get_many<const N: usize>(cache: &Cache<N>, keys: [u8; 3]) {
        let got = cache
            .get_many(keys, |keys| async move {
                keys.into_iter()
                    .map(|k| (k, Big::new(k)))
                    .collect::<Vec<_>>()
            })
            .await;
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|(k, v)| v.seed() == *k));
    }

    async fn load<const N: usize>(cache: &Cache<N>, key: u8) {
        let got = cache.load(key).await;
        assert_eq!(got.map(|b| b.seed()), Some(key));
    }

    async fn call<const N: usize>(attribute: Attribute<N>, seed: u8) {
        let got = attribute(seed).await;
        assert_eq!(got.seed(), seed);
    }

    #[test]
    fn values_of_64_kib_load_on_a_2_mib_stack() {
        on_stack(2 << 20, || every_path::<K64>(|s| Box::pin(big_k64(s))));
    }

    #[test]
    fn values_of_1_mib_load_within_32_values_of_stack() {
        on_stack(32 << 20, || every_path::<M1>(|s| Box::pin(big_m1(s))));
    }
}
