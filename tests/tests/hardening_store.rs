//! User callbacks that panic or re-enter the cache: a key's `Hash` and `Eq`, a value's `Clone` and `Drop`.
//!
//! A panic injected at a chosen call of a user callback (a thread-local countdown) must leave the cache
//! consistent: the size bound holds, every entry is reachable through its key, the metrics add up, and no later
//! operation on any key panics. Each test is deterministic: a fixed-seed generator picks the operations and the
//! call at which to panic.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

use cache_core::clock::ManualClock;
use cache_core::{AsyncCache, Policy};

/// The payload of every injected panic (other panics are failures).
const INJECTED: &str = "injected panic";

thread_local! {
    /// User callbacks left before one panics (0: none will).
    static COUNTDOWN: Cell<u64> = const { Cell::new(0) };
}

/// Arms the countdown: the `n`th user callback from now on this thread panics (`0` disarms it).
fn arm(n: u64) {
    COUNTDOWN.with(|c| c.set(n));
}

/// Counts one user callback, panicking if it is the armed one.
fn tick() {
    COUNTDOWN.with(|c| match c.get() {
        0 => {}
        1 => {
            c.set(0);
            std::panic::panic_any(INJECTED);
        }
        n => c.set(n - 1),
    });
}

/// Keeps the injected panics out of the test output; any other panic is reported as usual.
fn quiet_injected_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&INJECTED)
                || std::env::var_os("LOUD").is_some()
            {
                default(info);
            }
        }));
    });
}

/// Runs `op`; `Ok` if it returned, `Err(())` if it panicked with the injected panic. Any other panic fails the
/// test (it means an earlier panic left the cache broken).
fn run<R>(what: &str, op: impl FnOnce() -> R) -> Result<R, ()> {
    match catch_unwind(AssertUnwindSafe(op)) {
        Ok(r) => Ok(r),
        Err(p) if p.downcast_ref::<&str>() == Some(&INJECTED) => Err(()),
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_string()));
            panic!("{what}: a panic that was not injected: {msg:?}")
        }
    }
}

/// A key whose `Hash` and `Eq` count towards the countdown.
#[derive(Debug, Clone, Copy)]
struct Touchy(u32);

impl Hash for Touchy {
    fn hash<H: Hasher>(&self, state: &mut H) {
        tick();
        self.0.hash(state);
    }
}

impl PartialEq for Touchy {
    fn eq(&self, other: &Self) -> bool {
        tick();
        self.0 == other.0
    }
}

impl Eq for Touchy {}

/// splitmix64: a tiny deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const KEYS: u32 = 40;
const SECOND: Duration = Duration::from_secs(1);

/// What the model knows of one key: its value and, if it has one, the second its TTL ends.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Known {
    value: u32,
    expires: Option<u64>,
}

struct Model {
    keys: BTreeMap<u32, Known>,
    now: u64,
    evictions: u64,
}

impl Model {
    fn expired(&self, k: &Known) -> bool {
        k.expires.is_some_and(|at| at <= self.now)
    }
}

/// Random operations with a panic injected into a user `Hash`/`Eq` call of most of them, checked against a model
/// after every operation: the cache stays consistent and usable whatever call panicked.
fn fuzz(seed: u64, maxsize: usize, shards: usize, policy: Policy, steps: usize) {
    quiet_injected_panics();
    let mut rng = Rng(seed);
    let clock = ManualClock::new();
    let cache: AsyncCache<Touchy, u32> = AsyncCache::builder()
        .maxsize(maxsize)
        .shards(shards)
        .policy(policy)
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut model = Model {
        keys: BTreeMap::new(),
        now: 0,
        evictions: 0,
    };
    let mut injected = 0;
    for step in 0..steps {
        let k = u32::try_from(rng.below(u64::from(KEYS))).unwrap();
        let v = u32::try_from(rng.below(1_000)).unwrap();
        let before = cache.metrics();
        let choice = rng.below(20);
        let what = format!("seed {seed} step {step} op {choice} key {k}");
        // Most operations get a panic at one of their first user callbacks; some run clean.
        arm(if rng.below(4) == 0 {
            0
        } else {
            1 + rng.below(6)
        });
        let mut touched: Vec<u32> = vec![k];
        // What an insert stores, if this is one.
        let mut stored = None;
        let outcome = match choice {
            0..=5 => {
                stored = Some(Known {
                    value: v,
                    expires: None,
                });
                run(&what, || cache.insert(Touchy(k), v))
            }
            6..=7 => {
                let ttl = 1 + rng.below(3);
                stored = Some(Known {
                    value: v,
                    expires: Some(model.now + ttl),
                });
                run(&what, || {
                    cache.insert_with_ttl(Touchy(k), v, Some(SECOND * u32::try_from(ttl).unwrap()));
                })
            }
            8..=12 => run(&what, || cache.get(&Touchy(k))).map(|got| {
                arm(0);
                let after = cache.metrics();
                assert_eq!(
                    after.hits + after.misses,
                    before.hits + before.misses + 1,
                    "{what}: a get counts once"
                );
                assert_eq!(after.hits - before.hits, u64::from(got.is_some()), "{what}");
                let live = model.keys.get(&k).filter(|known| !model.expired(known));
                if let (Some(got), Some(known)) = (got, live) {
                    assert_eq!(got, known.value, "{what}: a stale or foreign value");
                }
                assert!(
                    got.is_none() || live.is_some(),
                    "{what}: a value that should be gone"
                );
            }),
            13..=14 => run(&what, || cache.remove(&Touchy(k))).map(|_| {
                model.keys.remove(&k);
            }),
            15 => {
                let m = 2 + u32::try_from(rng.below(3)).unwrap();
                touched = (0..KEYS).filter(|x| x % m == 0).collect();
                run(&what, || cache.retain(|key, _| key.0 % m != 0)).map(|_| {
                    model.keys.retain(|x, _| x % m != 0);
                })
            }
            16 => {
                touched = (0..KEYS).collect();
                run(&what, || cache.purge_expired()).map(|_| ())
            }
            17..=18 => {
                let by = rng.below(2);
                clock.advance(SECOND * u32::try_from(by).unwrap());
                model.now += by;
                Ok(())
            }
            _ => {
                touched = (0..KEYS).collect();
                run(&what, || cache.clear()).map(|()| {
                    model.keys.clear();
                    model.evictions = 0;
                })
            }
        };
        arm(0);
        if let (Ok(()), Some(known)) = (outcome, stored) {
            model.keys.insert(k, known);
        }
        if outcome.is_err() {
            injected += 1;
            // The operation may or may not have happened: learn from the cache what became of its keys, and
            // check that it is one of the two.
            for &t in &touched {
                match (cache.peek(&Touchy(t)), model.keys.get(&t).copied()) {
                    (None, _) => {
                        model.keys.remove(&t);
                    }
                    (Some(got), Some(known)) if got == known.value && !model.expired(&known) => {}
                    (Some(got), _) => {
                        let known = stored.filter(|s| t == k && s.value == got);
                        let known = known.unwrap_or_else(|| {
                            panic!("{what}: key {t} holds {got}, which no operation stored")
                        });
                        // The insert happened.
                        model.keys.insert(t, known);
                    }
                }
            }
        }
        check(&cache, &mut model, maxsize, &what, step % 4 == 0);
    }
    assert!(
        injected > steps / 10,
        "seed {seed}: only {injected} panics injected"
    );
}

/// The invariants, with no panic armed. `full`: also reclaims the expired entries and checks that no entry is
/// unreachable (the size equals the number of keys found).
fn check(
    cache: &AsyncCache<Touchy, u32>,
    model: &mut Model,
    maxsize: usize,
    what: &str,
    full: bool,
) {
    let m = cache.metrics();
    assert!(cache.len() <= maxsize, "{what}: {} entries", cache.len());
    assert_eq!(m.size, cache.len(), "{what}");
    let mut present = 0;
    for k in 0..KEYS {
        let got = cache.peek(&Touchy(k));
        match model.keys.get(&k).copied() {
            Some(known) if model.expired(&known) => {
                assert_eq!(got, None, "{what}: key {k} expired");
            }
            Some(known) => match got {
                Some(got) => {
                    assert_eq!(got, known.value, "{what}: key {k}");
                    present += 1;
                }
                None => {
                    // Gone without being removed: only eviction takes a live entry.
                    model.keys.remove(&k);
                    model.evictions += 1;
                }
            },
            None => assert_eq!(got, None, "{what}: key {k} was never stored or was removed"),
        }
    }
    assert_eq!(m.evictions, model.evictions, "{what}: evictions");
    if full {
        cache.purge_expired();
        let now = model.now;
        model
            .keys
            .retain(|_, k| k.expires.is_none_or(|at| at > now));
        assert_eq!(cache.len(), present, "{what}: entries that no key reaches");
        assert_eq!(present, model.keys.len(), "{what}");
    }
}

#[test]
fn panicking_hash_and_eq_never_corrupt_a_shard() {
    for seed in 0..24u64 {
        let (maxsize, shards) = [(8, 1), (16, 2), (24, 3), (100, 1)][(seed % 4) as usize];
        let policy = [Policy::Lru, Policy::Lfu, Policy::TinyLfu][(seed % 3) as usize];
        fuzz(seed, maxsize, shards, policy, 600);
    }
}

/// The reported case: with 100 entries, a removal whose `Hash`/`Eq` panics (at whichever call: the removed key's
/// hash, the lookup's comparison, or the hash of the entry moved into the hole) made about half of the next 2,000
/// operations on other keys panic. Now none does, and each key still has its value.
#[test]
fn a_panic_during_a_removal_leaves_every_other_key_usable() {
    quiet_injected_panics();
    for policy in [Policy::Lru, Policy::Lfu, Policy::TinyLfu] {
        for call in 1..=4 {
            let cache: AsyncCache<Touchy, u32> = AsyncCache::builder()
                .maxsize(100)
                .shards(1)
                .policy(policy)
                .build()
                .unwrap();
            for k in 0..100 {
                cache.insert(Touchy(k), k);
            }
            arm(call);
            let removed = run("remove", || cache.remove(&Touchy(0)));
            arm(0);
            assert!(matches!(removed, Ok(Some(0)) | Err(())), "{removed:?}");
            let mut failed = 0;
            for i in 0..2_000u32 {
                let k = 1 + i % 99;
                let ok = catch_unwind(AssertUnwindSafe(|| {
                    assert_eq!(cache.get(&Touchy(k)), Some(k));
                    cache.insert(Touchy(k), k);
                }));
                failed += u32::from(ok.is_err());
            }
            assert_eq!(failed, 0, "{policy}, panic at call {call}");
            assert_eq!(cache.len(), 100 - usize::from(removed.is_ok()));
        }
    }
}

/// A value counting its live copies, whose `Drop` panics (with the injected payload) if it is armed.
#[derive(Debug)]
struct Bomb {
    armed: bool,
    live: Arc<AtomicIsize>,
}

impl Bomb {
    fn new(armed: bool, live: &Arc<AtomicIsize>) -> Self {
        live.fetch_add(1, Ordering::SeqCst);
        Self {
            armed,
            live: Arc::clone(live),
        }
    }
}

impl Clone for Bomb {
    fn clone(&self) -> Self {
        Self::new(self.armed, &self.live)
    }
}

impl Drop for Bomb {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
        if self.armed && !std::thread::panicking() {
            std::panic::panic_any(INJECTED);
        }
    }
}

fn bombs(maxsize: usize, shards: usize, clock: &ManualClock) -> AsyncCache<u32, Bomb> {
    AsyncCache::builder()
        .maxsize(maxsize)
        .shards(shards)
        .clock(clock.clone())
        .build()
        .unwrap()
}

/// The reported case: values whose `Drop` panics stopped `clear()` after the first shard (3,591 of 4,096 entries
/// left on 8 shards, the metrics half reset), and `retain` likewise. Now every shard is emptied and reset, every
/// value is dropped, and then the first panic is passed on.
#[test]
fn a_panicking_drop_does_not_stop_clear_or_retain() {
    quiet_injected_panics();
    let clock = ManualClock::new();
    let live = Arc::new(AtomicIsize::new(0));
    let cache = bombs(16_384, 8, &clock);
    let fill = |cache: &AsyncCache<u32, Bomb>| {
        for k in 0..4_096 {
            cache.insert(k, Bomb::new(k % 97 == 0, &live));
        }
        for k in 1..97 {
            assert!(cache.get(&k).is_some());
        }
        assert_eq!(cache.len(), 4_096);
    };
    fill(&cache);
    assert!(
        run("clear", || cache.clear()).is_err(),
        "the panic is passed on"
    );
    assert_eq!(cache.len(), 0);
    assert_eq!(cache.metrics().hits, 0, "every shard's metrics are reset");
    assert_eq!(live.load(Ordering::SeqCst), 0, "every value was dropped");

    fill(&cache);
    assert!(run("retain", || cache.retain(|k, _| k % 2 == 0)).is_err());
    assert_eq!(cache.len(), 2_048);
    assert_eq!(live.load(Ordering::SeqCst), 2_048);
    assert!((0..4_096).all(|k| cache.contains_key(&k) == (k % 2 == 0)));

    // The rest go through `purge_expired`: every expired entry is reclaimed, though some drops panic.
    assert!(run("clear", || cache.clear()).is_err());
    for k in 0..4_096 {
        cache.insert_with_ttl(k, Bomb::new(k % 97 == 0, &live), Some(SECOND));
    }
    clock.advance(SECOND);
    assert!(run("purge_expired", || cache.purge_expired()).is_err());
    assert_eq!(cache.len(), 0);
    assert_eq!(cache.metrics().expirations, 4_096);
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

/// A panicking `Drop` of a value that `remove`, a replacing `insert` or an eviction lets go reaches that caller
/// only after the operation is complete.
#[test]
fn a_panicking_drop_reaches_the_caller_after_the_operation() {
    quiet_injected_panics();
    let clock = ManualClock::new();
    let live = Arc::new(AtomicIsize::new(0));
    let cache = bombs(4, 1, &clock);
    cache.insert(1, Bomb::new(true, &live));
    // Replaced: the new value is stored.
    assert!(run("insert", || cache.insert(1, Bomb::new(false, &live))).is_err());
    assert!(cache.peek(&1).is_some_and(|b| !b.armed));
    // Evicted: the new key is stored, the size bound holds.
    for k in 2..=4 {
        cache.insert(k, Bomb::new(k == 2, &live));
    }
    cache.get(&1);
    assert!(run("evicting insert", || cache
        .insert(5, Bomb::new(false, &live)))
    .is_err());
    assert_eq!(cache.len(), 4);
    assert!(cache.contains_key(&5) && !cache.contains_key(&2));
    assert_eq!(cache.metrics().evictions, 1);
    // Removed while expired (its value is not handed back, so the cache drops it).
    cache.insert_with_ttl(6, Bomb::new(true, &live), Some(SECOND));
    clock.advance(SECOND);
    assert!(run("remove", || cache.remove(&6)).is_err());
    assert!(!cache.contains_key(&6));
    cache.clear();
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

/// Times the hooks below ran (each one called the cache from a `Drop`).
static REENTERED: AtomicUsize = AtomicUsize::new(0);

type Hooked = AsyncCache<RKey, RVal>;

/// A key whose `Drop` uses the cache it belongs to (if it has one): a lookup, an insert and a remove.
#[derive(Clone)]
struct RKey {
    id: u32,
    cache: Option<Hooked>,
}

/// A value whose `Drop` does the same.
#[derive(Clone)]
struct RVal {
    cache: Option<Hooked>,
}

impl RKey {
    fn hooked(id: u32, cache: &Hooked) -> Self {
        Self {
            id,
            cache: Some(cache.clone()),
        }
    }

    fn plain(id: u32) -> Self {
        Self { id, cache: None }
    }
}

impl RVal {
    fn hooked(cache: &Hooked) -> Self {
        Self {
            cache: Some(cache.clone()),
        }
    }
}

impl Hash for RKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl PartialEq for RKey {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for RKey {}

/// Uses `cache` on the current thread: if a shard lock of it is held here, this waits forever.
fn reenter(cache: Option<Hooked>) {
    if let Some(cache) = cache {
        let _ = cache.get(&RKey::plain(u32::MAX));
        cache.insert(RKey::plain(u32::MAX - 1), RVal { cache: None });
        cache.remove(&RKey::plain(u32::MAX - 1));
        REENTERED.fetch_add(1, Ordering::SeqCst);
    }
}

impl Drop for RKey {
    fn drop(&mut self) {
        reenter(self.cache.take());
    }
}

impl Drop for RVal {
    fn drop(&mut self) {
        reenter(self.cache.take());
    }
}

/// Runs `scenario` on a fresh one-shard cache (so that every key shares the lock) on a thread of its own, with
/// a paused tokio runtime; a hang becomes a failure after 30 s (a deadlock: the scenario never finishes). Checks
/// that the hooks ran.
fn no_deadlock<F, Fut>(name: &str, scenario: F)
where
    F: FnOnce(Hooked, ManualClock) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let before = REENTERED.load(Ordering::SeqCst);
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let clock = ManualClock::new();
        let cache: Hooked = AsyncCache::builder()
            .maxsize(4)
            .shards(1)
            .clock(clock.clone())
            .batch_loader(|keys: Vec<RKey>| async move {
                keys.into_iter()
                    .map(|k| {
                        let v = RVal {
                            cache: k.cache.clone(),
                        };
                        (k, v)
                    })
                    .collect::<Vec<_>>()
            })
            .build()
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(scenario(cache, clock));
        let _ = done.send(());
    });
    match finished.recv_timeout(Duration::from_secs(30)) {
        Ok(()) => {}
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{name}: deadlock (a key or value was dropped under a shard lock)")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!("{name}: panicked"),
    }
    assert!(
        REENTERED.load(Ordering::SeqCst) > before,
        "{name}: no hook ran"
    );
}

/// Keys and values whose `Drop` uses the same cache, dropped by every path that lets go of one: each is dropped
/// only after the shard lock is released, so none of these waits on itself.
#[test]
#[allow(clippy::mutable_key_type)] // `RKey` hashes and compares by `id` only
fn keys_and_values_are_dropped_after_the_lock_is_released() {
    quiet_injected_panics();
    no_deadlock("insert replacing", |c, _| async move {
        c.insert(RKey::hooked(1, &c), RVal::hooked(&c));
        c.insert(RKey::hooked(1, &c), RVal::hooked(&c));
    });
    no_deadlock("remove", |c, _| async move {
        c.insert(RKey::hooked(1, &c), RVal::hooked(&c));
        drop(c.remove(&RKey::plain(1)));
    });
    no_deadlock("eviction", |c, _| async move {
        for k in 0..6 {
            c.insert(RKey::hooked(k, &c), RVal::hooked(&c));
        }
    });
    no_deadlock("expiry on get, write and purge", |c, clock| async move {
        for k in 0..3 {
            c.insert_with_ttl(RKey::hooked(k, &c), RVal::hooked(&c), Some(SECOND));
        }
        clock.advance(SECOND);
        assert!(c.get(&RKey::plain(0)).is_none());
        c.insert(RKey::plain(9), RVal { cache: None });
        c.purge_expired();
    });
    no_deadlock("clear and retain", |c, _| async move {
        for k in 0..4 {
            c.insert(RKey::hooked(k, &c), RVal::hooked(&c));
        }
        c.retain(|k, _| k.id % 2 == 0);
        c.clear();
    });
    no_deadlock("get_or_load", |c, _| async move {
        let v = c
            .get_or_load(RKey::hooked(1, &c), async { RVal { cache: None } })
            .await;
        drop(v);
    });
    no_deadlock("get_or_load whose loader panics", |c, _| async move {
        let load = AssertUnwindSafe(c.get_or_load(RKey::hooked(1, &c), async {
            std::panic::panic_any(INJECTED)
        }));
        assert!(futures::FutureExt::catch_unwind(load).await.is_err());
    });
    no_deadlock(
        "remove, insert and clear during get_or_load",
        |c, _| async move {
            for detach in 0..3 {
                drop(c.remove(&RKey::plain(1)));
                let (tx, rx) = tokio::sync::oneshot::channel::<()>();
                let loading = {
                    let c = c.clone();
                    tokio::spawn(async move {
                        let v = c
                            .get_or_load(RKey::hooked(1, &c), async move {
                                rx.await.unwrap();
                                RVal { cache: None }
                            })
                            .await;
                        drop(v);
                    })
                };
                tokio::task::yield_now().await;
                match detach {
                    0 => drop(c.remove(&RKey::plain(1))),
                    1 => c.insert(RKey::plain(1), RVal { cache: None }),
                    _ => c.clear(),
                }
                tx.send(()).expect("the load is running");
                loading.await.unwrap();
            }
        },
    );
    no_deadlock("get_many and load", |c, _| async move {
        let got = c
            .get_many(
                [RKey::hooked(1, &c), RKey::hooked(2, &c)],
                |keys| async move {
                    keys.into_iter()
                        .map(|k| (k, RVal { cache: None }))
                        .collect::<Vec<_>>()
                },
            )
            .await;
        assert_eq!(got.len(), 2);
        drop(got);
        assert!(c.load(RKey::hooked(3, &c)).await.is_some());
    });
}

/// A value whose `Clone` counts towards the countdown.
#[derive(Debug, PartialEq)]
struct Fragile(u32);

impl Clone for Fragile {
    fn clone(&self) -> Self {
        tick();
        Self(self.0)
    }
}

/// A lookup whose value's `Clone` panics returns nothing, so it counts as neither a hit nor a miss (and does not
/// refresh the entry): on `get`, on the hit path of `get_or_load`, and on the exclusive lookup that reclaims.
#[test]
fn a_lookup_whose_clone_panics_is_not_a_hit() {
    quiet_injected_panics();
    let cache: AsyncCache<u32, Fragile> =
        AsyncCache::builder().maxsize(2).shards(1).build().unwrap();
    cache.insert(1, Fragile(1));
    cache.insert(2, Fragile(2));
    arm(1);
    assert!(run("get", || cache.get(&1)).is_err());
    arm(0);
    let m = cache.metrics();
    assert_eq!((m.hits, m.misses), (0, 0), "neither a hit nor a miss");
    // Key 1 was not refreshed: it is still the least recently used, and goes first.
    cache.insert(3, Fragile(3));
    assert!(!cache.contains_key(&1) && cache.contains_key(&2));
    assert_eq!(cache.get(&2), Some(Fragile(2)));
    assert_eq!(cache.metrics().hits, 1);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    arm(1);
    let loaded = run("get_or_load", || {
        runtime.block_on(cache.get_or_load(2, async { Fragile(0) }))
    });
    arm(0);
    assert!(loaded.is_err());
    let m = cache.metrics();
    assert_eq!(
        (m.hits, m.misses),
        (1, 0),
        "the failed get_or_load counted nothing"
    );
}
