//! Soak: minutes of random mixes of every operation from many tasks on a multi-thread runtime, checking
//! invariants as it goes and watching resident memory (issue 15, "Tail latency and soak"). Not run by CI.
//!
//! * Runtime: tokio multi-thread, 4 workers (on however many CPUs the machine has). Tasks: 16 workers doing random
//!   operations on two caches, 2 tasks churning method-cache instances, 1 maintenance task (`clear` or
//!   `retain` every 20–300 ms), 1 monitor.
//! * Caches (`AsyncCache<u64, Val>`, each with a batch loader for `load`): "lru": 1,024 entries, default TTL
//!   200 ms, keys 0..4,096, batch window 1 ms, batches of at most 16; "lfu, 1 shard": `Policy::Lfu`,
//!   `.shards(1)`, 256 entries, no default TTL, keys 0..1,024, batch window 2 ms; "tinylfu": `Policy::TinyLfu`,
//!   512 entries, default TTL 500 ms, keys 0..2,048, batch window 1 ms. A third of the keys drawn
//!   come from the first 32 (hot keys: loads of one key meet).
//! * Operations (weights per 1,000): `get` 250, `peek` 60, `contains_key` 20, `insert` 100, `insert_with_ttl`
//!   80 (a third `None`, else 1–100 ms), `remove` 50, `get_or_load` 120 (loader ready at once, after a yield,
//!   or after a 0–2 ms sleep), `try_get_or_load` whose loader fails half the time 40, a loader that panics
//!   (caught with `catch_unwind`) 10, a `get_or_load` cancelled by `tokio::time::timeout` 20, dropped after one
//!   poll 15, spawned and `JoinHandle::abort`ed 15, `get_many` of 2–8 keys 40 (a fifth of them under a
//!   timeout), `load` through the batch loader 50, `warmup` of 1–4 keys 10, `purge_expired` 5; plus `clear`
//!   and `retain` from the maintenance task.
//! * Instance churn: `#[derive(CacheIdentity)] struct Tenant { id: InstanceId, tag }` with two cached methods
//!   (`profile`, TTL 50 ms, and `lookup`, whose body fails every third call); a pool of 32 live instances
//!   shared by the churn tasks, one replaced by a new instance on ~30 % of the iterations (the old one dropped),
//!   1–4 concurrent calls per iteration, some under a timeout.
//! * Values are versioned: every write (an insert, or a loader run) carries a fresh version from one global
//!   counter, and the value records its key, version and TTL and a payload derived from the version. Every
//!   value read (get, peek, remove, every loading call, get_many, load) is checked:
//!   - it is the key's value and intact;
//!   - **no value after `remove` / `clear`**: each key has a floor: before a `remove` (or a `clear`) starts, the
//!     floor is the lowest version still being written to that key (or the next version if none is), and it
//!     is published once the `remove` (`clear`) has returned; a read that started after that must not return a
//!     lower version (a write still running during the removal may land after it: it is not below the floor);
//!   - **no value after `retain`** dropped it (retain keeps odd versions; an even version below the floor taken
//!     before the `retain` must not be read after it);
//!   - **no value after expiry**: every writer and reader of a version with a TTL notes `end + ttl` (`end`: when
//!     its call returned, so after the value was stored); a read that started more than 10 ms (the slack for a
//!     clock the cache may read coarsely) after the earliest such note must not return that version;
//!   - no cross-instance value: a method returns its instance's tag, checked by the caller;
//!   - errors are the loader's own, panics caught are the planted ones;
//!   - the monitor checks, every second: `len() <= maxsize`, `metrics().size <= maxsize`, the metrics' counters
//!     (hits, misses, evictions, expirations, loads, load failures, timed loads) never decrease between two
//!     snapshots with no `clear` in between, `load_time.count == loads + load_failures`, method caches'
//!     `len() <= maxsize`; and that every worker task made progress in the last 30 s (else a hang);
//!   - at the end: every task finishes within 30 s of being told to stop, every key's value passes the checks,
//!     and on a cleared cache 100 misses, 100 inserts and 100 hits are counted exactly.
//! * Resident memory (`/proc/self/statm`) is sampled every `SOAK_SAMPLE_SECS` (default 5) seconds. It must level
//!   off: over the last third of the run it may grow by at most 4 MiB or 10 % (whichever is larger) above its
//!   value at the start of that third.
//! * Exit status: 1 if any check failed (the first 20 failures are printed), else 0. `SOAK_FAULT=remove`,
//!   `clear`, `ttl` or `leak` plants a fault (removals or clears that skip the cache, TTLs not passed on, 1 KiB
//!   leaked per insert) to show that the checks catch it: each makes the run fail.
//!
//! Run: `SOAK_SECS=120 cargo bench -p cache-benches --bench soak` (`SOAK_SECS` defaults to 120;
//! `BENCH_QUICK=1` runs 10 s).

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_benches::{quick, SplitMix64, Table};
use cache_core::{async_cache, AsyncCache, CacheIdentity, InstanceId, Policy};
use futures::FutureExt;
use parking_lot::Mutex;

/// The next version a write takes.
static VERSION: AtomicU64 = AtomicU64::new(1);
/// How late, past its deadline, an expired value may still be returned (a clock read coarsely).
const SLACK: Duration = Duration::from_millis(10);
/// The message of every planted panic and error, so that the panic hook keeps quiet about them.
const PLANNED: &str = "soak: planned";
/// Worker tasks doing cache operations (many of them wait on timers and batch windows, so more than cores).
const WORKERS: usize = 16;
/// Tasks churning method-cache instances.
const CHURNERS: usize = 2;
/// A worker that has made no progress for this long is hung.
const HANG: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------------------
// Failures
// ---------------------------------------------------------------------------------------------------------

/// A fault planted on purpose (`SOAK_FAULT`), to show that the checks catch it: `remove` (removals skip the
/// cache), `clear` (clears skip the cache), `ttl` (`insert_with_ttl` stores without the TTL its value claims), `leak` (1 KiB leaked per `insert`).
fn fault(name: &str) -> bool {
    static FAULT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    FAULT.get_or_init(|| std::env::var("SOAK_FAULT").unwrap_or_default()) == name
}

static VIOLATIONS: AtomicU64 = AtomicU64::new(0);
static MESSAGES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Records a violated invariant (printed at once for the first 20).
fn violation(msg: String) {
    let n = VIOLATIONS.fetch_add(1, Ordering::SeqCst);
    if n < 20 {
        eprintln!("VIOLATION: {msg}");
        MESSAGES.lock().unwrap_or_else(|p| p.into_inner()).push(msg);
    }
}

macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            violation(format!($($msg)+));
        }
    };
}

// ---------------------------------------------------------------------------------------------------------
// Versioned values and per-key bookkeeping
// ---------------------------------------------------------------------------------------------------------

/// A cached value: which key and write it came from, its TTL, and a payload derived from the version.
#[derive(Clone, Debug)]
struct Val {
    key: u64,
    version: u64,
    ttl: Option<Duration>,
    payload: Box<[u8]>,
}

impl Val {
    fn new(key: u64, version: u64, ttl: Option<Duration>) -> Self {
        #[allow(clippy::cast_possible_truncation)]
        let payload = vec![version as u8; (version % 61) as usize].into_boxed_slice();
        Self {
            key,
            version,
            ttl,
            payload,
        }
    }

    fn intact(&self) -> bool {
        #[allow(clippy::cast_possible_truncation)]
        let byte = self.version as u8;
        self.payload.len() == (self.version % 61) as usize
            && self.payload.iter().all(|&b| b == byte)
    }
}

/// What the soak knows about one key of one cache.
#[derive(Default)]
struct KeyState {
    inner: Mutex<KeyInner>,
    /// No read starting after this was published may return a lower version (remove, clear).
    floor: AtomicU64,
    /// No read starting after this was published may return a lower *even* version (retain).
    even_floor: AtomicU64,
}

#[derive(Default)]
struct KeyInner {
    /// Versions being written to this key now.
    pending: Vec<u64>,
    /// For recent versions with a TTL: the earliest `end + ttl` noted by a writer or reader.
    dead_after: VecDeque<(u64, Instant)>,
}

impl KeyState {
    /// The lowest version that may still be stored for this key after a removal that starts now.
    fn safe_floor(&self) -> u64 {
        let inner = self.inner.lock();
        let next = VERSION.load(Ordering::SeqCst);
        inner
            .pending
            .iter()
            .copied()
            .min()
            .map_or(next, |p| p.min(next))
    }
}

/// A write in progress: its version is pending on its key until this is dropped (also on cancellation).
struct Write<'a> {
    key: &'a KeyState,
    version: u64,
}

impl Drop for Write<'_> {
    fn drop(&mut self) {
        let mut inner = self.key.inner.lock();
        if let Some(i) = inner.pending.iter().position(|&v| v == self.version) {
            inner.pending.swap_remove(i);
        }
    }
}

/// Taken right before a read: the key's floors then, and the time.
struct ReadStart {
    at: Instant,
    floor: u64,
    even_floor: u64,
}

// ---------------------------------------------------------------------------------------------------------
// The caches under test
// ---------------------------------------------------------------------------------------------------------

/// One cache with its key range and bookkeeping.
struct Subject {
    name: &'static str,
    cache: AsyncCache<u64, Val>,
    keys: Vec<KeyState>,
    default_ttl: Option<Duration>,
    /// Odd while a `clear` runs; bumped before and after each.
    clear_epoch: AtomicU64,
}

/// Count of operations by kind, for the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Op {
    Get,
    Peek,
    ContainsKey,
    Insert,
    InsertWithTtl,
    Remove,
    GetOrLoad,
    TryGetOrLoad,
    PanickingLoad,
    CancelTimeout,
    CancelDrop,
    CancelAbort,
    GetMany,
    Load,
    Warmup,
    PurgeExpired,
    Clear,
    Retain,
    MethodCall,
    NewInstance,
}

const OPS: [Op; 20] = [
    Op::Get,
    Op::Peek,
    Op::ContainsKey,
    Op::Insert,
    Op::InsertWithTtl,
    Op::Remove,
    Op::GetOrLoad,
    Op::TryGetOrLoad,
    Op::PanickingLoad,
    Op::CancelTimeout,
    Op::CancelDrop,
    Op::CancelAbort,
    Op::GetMany,
    Op::Load,
    Op::Warmup,
    Op::PurgeExpired,
    Op::Clear,
    Op::Retain,
    Op::MethodCall,
    Op::NewInstance,
];

/// Weights of the worker operations, per 1,000.
const WEIGHTS: [(Op, usize); 16] = [
    (Op::Get, 250),
    (Op::Peek, 60),
    (Op::ContainsKey, 20),
    (Op::Insert, 100),
    (Op::InsertWithTtl, 80),
    (Op::Remove, 50),
    (Op::GetOrLoad, 120),
    (Op::TryGetOrLoad, 40),
    (Op::PanickingLoad, 10),
    (Op::CancelTimeout, 20),
    (Op::CancelDrop, 15),
    (Op::CancelAbort, 15),
    (Op::GetMany, 40),
    (Op::Load, 50),
    (Op::Warmup, 10),
    (Op::PurgeExpired, 5),
];

static COUNTS: [AtomicU64; 20] = [const { AtomicU64::new(0) }; 20];

fn count(op: Op) {
    COUNTS[op as usize].fetch_add(1, Ordering::Relaxed);
}

impl Subject {
    fn new(
        name: &'static str,
        keys: usize,
        maxsize: usize,
        policy: Policy,
        shards: Option<usize>,
        ttl: Option<Duration>,
        window: Duration,
    ) -> Self {
        let b = AsyncCache::builder()
            .maxsize(maxsize)
            .policy(policy)
            .batch_window(window)
            .max_batch_size(16)
            .batch_loader(move |keys: Vec<u64>| async move {
                if keys.len() % 3 == 0 {
                    tokio::time::sleep(Duration::from_micros(300)).await;
                }
                // Keys divisible by 11 are "not found"; the rest get a fresh version each.
                keys.into_iter()
                    .filter(|k| k % 11 != 0)
                    .map(|k| (k, Val::new(k, VERSION.fetch_add(1, Ordering::SeqCst), ttl)))
                    .collect::<Vec<_>>()
            });
        let b = match shards {
            Some(n) => b.shards(n),
            None => b,
        };
        let b = match ttl {
            Some(t) => b.ttl(t),
            None => b,
        };
        Self {
            name,
            cache: b.build().expect("valid settings"),
            keys: (0..keys).map(|_| KeyState::default()).collect(),
            default_ttl: ttl,
            clear_epoch: AtomicU64::new(0),
        }
    }

    fn state(&self, key: u64) -> &KeyState {
        &self.keys[usize::try_from(key).expect("small key")]
    }

    /// A random key: a third of the time one of the 32 hot ones.
    fn key(&self, rng: &mut SplitMix64) -> u64 {
        let n = if rng.below(3) == 0 {
            32
        } else {
            self.keys.len()
        };
        rng.below(n) as u64
    }

    /// Starts a write to `key`: a fresh version, pending until the guard is dropped.
    fn begin(&self, key: u64) -> Write<'_> {
        let state = self.state(key);
        let mut inner = state.inner.lock();
        let version = VERSION.fetch_add(1, Ordering::SeqCst);
        inner.pending.push(version);
        drop(inner);
        Write {
            key: state,
            version,
        }
    }

    fn read_start(&self, key: u64) -> ReadStart {
        let state = self.state(key);
        ReadStart {
            floor: state.floor.load(Ordering::Acquire),
            even_floor: state.even_floor.load(Ordering::Acquire),
            at: Instant::now(),
        }
    }

    /// Checks a value that a read of `key` which began at `start` returned (`what` names the operation).
    fn check(&self, key: u64, start: &ReadStart, v: &Val, what: &str) {
        let name = self.name;
        check!(
            v.key == key,
            "{name}: {what}({key}) returned key {}'s value",
            v.key
        );
        check!(
            v.intact(),
            "{name}: {what}({key}) returned a corrupt value {v:?}"
        );
        check!(
            v.version >= start.floor,
            "{name}: {what}({key}) returned version {} after a remove/clear that set the floor {}",
            v.version,
            start.floor
        );
        check!(
            v.version % 2 == 1 || v.version >= start.even_floor,
            "{name}: {what}({key}) returned even version {} after a retain dropping even versions below {}",
            v.version,
            start.even_floor
        );
        self.note(key, v, Some(start.at), what);
    }

    /// Notes that `v` was in the cache when a call that began at `start` (if a read) returned just now, and
    /// checks that the read did not begin after `v` had certainly expired.
    fn note(&self, key: u64, v: &Val, start: Option<Instant>, what: &str) {
        let Some(ttl) = v.ttl else { return };
        let dead = Instant::now() + ttl;
        let mut inner = self.state(key).inner.lock();
        match inner
            .dead_after
            .iter_mut()
            .find(|(ver, _)| *ver == v.version)
        {
            Some((_, known)) => {
                if let Some(start) = start {
                    check!(
                        start <= *known + SLACK,
                        "{}: {what}({key}) returned version {} {:?} after its expiry (TTL {ttl:?})",
                        self.name,
                        v.version,
                        start - *known
                    );
                }
                *known = (*known).min(dead);
            }
            None => {
                if inner.dead_after.len() == 8 {
                    inner.dead_after.pop_front();
                }
                inner.dead_after.push_back((v.version, dead));
            }
        }
    }

    /// Runs `remove_all` (a `clear` or a `retain`) and publishes the floors taken before it into `floor_of`.
    fn removing_all(&self, floor_of: impl Fn(&KeyState) -> &AtomicU64, remove_all: impl FnOnce()) {
        let floors: Vec<u64> = self.keys.iter().map(KeyState::safe_floor).collect();
        remove_all();
        for (state, f) in self.keys.iter().zip(floors) {
            floor_of(state).fetch_max(f, Ordering::Release);
        }
    }

    fn clear(&self) {
        self.clear_epoch.fetch_add(1, Ordering::SeqCst);
        self.removing_all(
            |s| &s.floor,
            || {
                if !fault("clear") {
                    self.cache.clear();
                }
            },
        );
        self.clear_epoch.fetch_add(1, Ordering::SeqCst);
    }

    fn retain(&self) {
        let name = self.name;
        self.removing_all(
            |s| &s.even_floor,
            || {
                self.cache.retain(|k, v| {
                    check!(v.key == *k && v.intact(), "{name}: retain saw {k} → {v:?}");
                    v.version % 2 == 1
                });
            },
        );
    }
}

/// A loader's delay: none, a yield, or a short sleep.
async fn delay(kind: usize) {
    match kind % 10 {
        0..=6 => {}
        7 | 8 => tokio::task::yield_now().await,
        _ => tokio::time::sleep(Duration::from_micros(100 * (kind as u64 % 20))).await,
    }
}

/// The planted error of failing loaders.
#[derive(Debug)]
struct Planned;

/// One random operation of a worker on `s`.
#[allow(clippy::too_many_lines)]
async fn operation(s: &Arc<Subject>, op: Op, rng: &mut SplitMix64) {
    let cache = &s.cache;
    let key = s.key(rng);
    let ttl = s.default_ttl;
    match op {
        Op::Get | Op::Peek => {
            let start = s.read_start(key);
            let got = if op == Op::Get {
                cache.get(&key)
            } else {
                cache.peek(&key)
            };
            if let Some(v) = got {
                s.check(key, &start, &v, if op == Op::Get { "get" } else { "peek" });
            }
        }
        Op::ContainsKey => {
            std::hint::black_box(cache.contains_key(&key));
        }
        Op::Insert => {
            let w = s.begin(key);
            let v = Val::new(key, w.version, ttl);
            cache.insert(key, v.clone());
            if fault("leak") {
                std::mem::forget(vec![1u8; 1024]);
            }
            s.note(key, &v, None, "insert");
        }
        Op::InsertWithTtl => {
            let t = match rng.below(3) {
                0 => None,
                _ => Some(Duration::from_millis(1 + rng.below(100) as u64)),
            };
            let w = s.begin(key);
            let v = Val::new(key, w.version, t);
            cache.insert_with_ttl(key, v.clone(), if fault("ttl") { None } else { t });
            s.note(key, &v, None, "insert_with_ttl");
        }
        Op::Remove => {
            let state = s.state(key);
            let start = s.read_start(key);
            let floor = state.safe_floor();
            let removed = if fault("remove") {
                None
            } else {
                cache.remove(&key)
            };
            if let Some(v) = removed {
                s.check(key, &start, &v, "remove");
            }
            state.floor.fetch_max(floor, Ordering::Release);
        }
        Op::GetOrLoad => {
            let w = s.begin(key);
            let start = s.read_start(key);
            let (version, d) = (w.version, rng.below(1000));
            let v = cache
                .get_or_load(key, async move {
                    delay(d).await;
                    Val::new(key, version, ttl)
                })
                .await;
            s.check(key, &start, &v, "get_or_load");
        }
        Op::TryGetOrLoad => {
            let w = s.begin(key);
            let start = s.read_start(key);
            let (version, d, fail) = (w.version, rng.below(1000), rng.below(2) == 0);
            let got = cache
                .try_get_or_load(key, async move {
                    delay(d).await;
                    if fail {
                        Err(Planned)
                    } else {
                        Ok(Val::new(key, version, ttl))
                    }
                })
                .await;
            match got {
                Ok(v) => s.check(key, &start, &v, "try_get_or_load"),
                Err(Planned) => check!(
                    fail,
                    "{}: try_get_or_load got an error its loader did not return",
                    s.name
                ),
            }
        }
        Op::PanickingLoad => {
            let start = s.read_start(key);
            let d = rng.below(1000);
            let got = AssertUnwindSafe(cache.get_or_load(key, async move {
                delay(d).await;
                panic!("{PLANNED} loader panic")
            }))
            .catch_unwind()
            .await;
            match got {
                Ok(v) => s.check(key, &start, &v, "get_or_load (panicking loader)"),
                Err(payload) => {
                    let msg = panic_message(payload.as_ref());
                    check!(
                        msg.contains(PLANNED),
                        "{}: get_or_load panicked with {msg:?}",
                        s.name
                    );
                }
            }
        }
        Op::CancelTimeout | Op::CancelDrop => {
            let w = s.begin(key);
            let start = s.read_start(key);
            let (version, d) = (w.version, rng.below(20));
            let load = cache.get_or_load(key, async move {
                if op == Op::CancelDrop {
                    tokio::task::yield_now().await;
                } else {
                    tokio::time::sleep(Duration::from_micros(200 * d as u64)).await;
                }
                Val::new(key, version, ttl)
            });
            let got = if op == Op::CancelTimeout {
                let limit = Duration::from_micros(100 + rng.below(2000) as u64);
                tokio::time::timeout(limit, load).await.ok()
            } else {
                load.now_or_never()
            };
            if let Some(v) = got {
                s.check(key, &start, &v, "get_or_load (cancelled)");
            }
        }
        Op::CancelAbort => {
            let (s2, d) = (Arc::clone(s), rng.below(20));
            let task = tokio::spawn(async move {
                let w = s2.begin(key);
                let start = s2.read_start(key);
                let version = w.version;
                let v = s2
                    .cache
                    .get_or_load(key, async move {
                        tokio::time::sleep(Duration::from_micros(100 * d as u64)).await;
                        Val::new(key, version, ttl)
                    })
                    .await;
                s2.check(key, &start, &v, "get_or_load (aborted task)");
            });
            if rng.below(2) == 0 {
                tokio::task::yield_now().await;
            } else {
                tokio::time::sleep(Duration::from_micros(rng.below(1000) as u64)).await;
            }
            task.abort();
            match task.await {
                Ok(()) => {}
                Err(e) => check!(
                    e.is_cancelled(),
                    "{}: an aborted load task panicked: {e}",
                    s.name
                ),
            }
        }
        Op::GetMany => {
            let n = 2 + rng.below(7);
            let keys: Vec<u64> = (0..n).map(|_| s.key(rng)).collect();
            let distinct: HashSet<u64> = keys.iter().copied().collect();
            let writes: Vec<Write<'_>> = distinct.iter().map(|&k| s.begin(k)).collect();
            let versions: Arc<HashMap<u64, u64>> = Arc::new(
                distinct
                    .iter()
                    .copied()
                    .zip(writes.iter().map(|w| w.version))
                    .collect(),
            );
            let starts: HashMap<u64, ReadStart> =
                distinct.iter().map(|&k| (k, s.read_start(k))).collect();
            let d = rng.below(1000);
            let many = cache.get_many(keys, |missing| {
                let versions = Arc::clone(&versions);
                async move {
                    delay(d).await;
                    missing
                        .into_iter()
                        .filter(|k| k % 5 != 0)
                        .map(|k| (k, Val::new(k, versions[&k], ttl)))
                        .collect::<Vec<_>>()
                }
            });
            let got = if rng.below(5) == 0 {
                tokio::time::timeout(Duration::from_micros(500), many)
                    .await
                    .ok()
            } else {
                Some(many.await)
            };
            for (k, v) in got.into_iter().flatten() {
                match starts.get(&k) {
                    Some(start) => s.check(k, start, &v, "get_many"),
                    None => violation(format!("{}: get_many returned unrequested key {k}", s.name)),
                }
            }
            drop(writes);
        }
        Op::Load => {
            // The caller's own write marker covers the batch's value, whose version is taken later.
            let w = s.begin(key);
            let start = s.read_start(key);
            if let Some(v) = cache.load(key).await {
                s.check(key, &start, &v, "load");
            }
            drop(w);
        }
        Op::Warmup => {
            let n = 1 + rng.below(4);
            let keys: Vec<u64> = (0..n).map(|_| s.key(rng)).collect();
            let writes: Vec<Write<'_>> = keys.iter().map(|&k| s.begin(k)).collect();
            let entries: Vec<(u64, _)> = keys
                .iter()
                .zip(&writes)
                .map(|(&k, w)| {
                    let version = w.version;
                    (k, async move { Val::new(k, version, ttl) })
                })
                .collect();
            let stored = cache.warmup(entries).await;
            check!(
                stored <= n,
                "{}: warmup stored {stored} of {n} entries",
                s.name
            );
            drop(writes);
        }
        Op::PurgeExpired => {
            std::hint::black_box(cache.purge_expired());
        }
        _ => unreachable!("not a worker operation: {op:?}"),
    }
    count(op);
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------------------
// Method caches with instance churn
// ---------------------------------------------------------------------------------------------------------

static TAG: AtomicU64 = AtomicU64::new(1);
static LOOKUP_CALLS: AtomicU64 = AtomicU64::new(0);
/// `Tenant::profile`'s maxsize.
const PROFILE_MAX: usize = 256;
/// `Tenant::lookup`'s maxsize.
const LOOKUP_MAX: usize = 128;

#[derive(CacheIdentity)]
struct Tenant {
    id: InstanceId,
    tag: u64,
}

impl Tenant {
    fn new() -> Self {
        Self {
            id: InstanceId::new(),
            tag: TAG.fetch_add(1, Ordering::Relaxed),
        }
    }

    #[async_cache(maxsize = 256, ttl = 0.05)]
    async fn profile(&self, x: u64) -> (u64, u64, Vec<u8>) {
        if x % 4 == 0 {
            tokio::task::yield_now().await;
        }
        #[allow(clippy::cast_possible_truncation)]
        let payload = vec![self.tag as u8; 32];
        (self.tag, x, payload)
    }

    #[async_cache(maxsize = 128)]
    async fn lookup(&self, x: u64) -> Result<(u64, u64), String> {
        if LOOKUP_CALLS.fetch_add(1, Ordering::Relaxed) % 3 == 0 {
            Err(format!("{PLANNED} method error"))
        } else {
            Ok((self.tag, x))
        }
    }
}

/// One iteration of instance churn on the shared `pool`.
async fn churn(pool: &Mutex<Vec<Arc<Tenant>>>, rng: &mut SplitMix64) {
    let tenant = {
        let mut pool = pool.lock();
        if pool.len() < 32 {
            pool.push(Arc::new(Tenant::new()));
            count(Op::NewInstance);
        } else if rng.below(10) < 3 {
            let i = rng.below(pool.len());
            pool[i] = Arc::new(Tenant::new());
            count(Op::NewInstance);
        }
        let i = rng.below(pool.len());
        Arc::clone(&pool[i])
    };
    let calls = 1 + rng.below(4);
    let xs: Vec<u64> = (0..calls).map(|_| rng.below(16) as u64).collect();
    let t = &tenant;
    let all = futures::future::join_all(xs.iter().map(|&x| async move {
        let (tag, got_x, payload) = t.profile(x).await;
        check!(
            tag == t.tag && got_x == x && payload.len() == 32,
            "instance {}: profile({x}) returned instance {tag}'s value for {got_x}",
            t.tag
        );
        match t.lookup(x).await {
            Ok((tag, got_x)) => check!(
                tag == t.tag && got_x == x,
                "instance {}: lookup({x}) returned instance {tag}'s value for {got_x}",
                t.tag
            ),
            Err(e) => check!(e.contains(PLANNED), "lookup failed with {e:?}"),
        }
        count(Op::MethodCall);
    }));
    if rng.below(5) == 0 {
        let _ = tokio::time::timeout(Duration::from_micros(50), all).await;
    } else {
        all.await;
    }
    check!(
        Tenant::profile_cache().len() <= PROFILE_MAX && Tenant::lookup_cache().len() <= LOOKUP_MAX,
        "a method cache exceeds its maxsize: profile {}, lookup {}",
        Tenant::profile_cache().len(),
        Tenant::lookup_cache().len()
    );
}

// ---------------------------------------------------------------------------------------------------------
// Monitoring
// ---------------------------------------------------------------------------------------------------------

/// Resident memory in bytes, from `/proc/self/statm` (0 where it cannot be read).
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

fn mib(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let m = bytes as f64 / (1 << 20) as f64;
    format!("{m:.1} MiB")
}

/// The counters that only grow between two `clear`s.
fn counters(m: &cache_core::Metrics) -> [(&'static str, u64); 7] {
    [
        ("hits", m.hits),
        ("misses", m.misses),
        ("evictions", m.evictions),
        ("expirations", m.expirations),
        ("loads", m.loads),
        ("load_failures", m.load_failures),
        ("load_time.count", m.load_time.count),
    ]
}

/// Checks one subject's metrics against its previous snapshot (if no `clear` ran in between) and its size.
fn monitor_subject(s: &Subject, prev: &mut Option<(u64, cache_core::Metrics)>) {
    let before = s.clear_epoch.load(Ordering::SeqCst);
    let m = s.cache.metrics();
    let after = s.clear_epoch.load(Ordering::SeqCst);
    let len = s.cache.len();
    check!(len <= s.cache.maxsize(), "{}: len {len} > maxsize", s.name);
    check!(
        m.size <= m.maxsize,
        "{}: metrics size {} > maxsize {}",
        s.name,
        m.size,
        m.maxsize
    );
    check!(
        m.load_time.count == m.loads + m.load_failures,
        "{}: {} timed loads but {} loads + {} failures",
        s.name,
        m.load_time.count,
        m.loads,
        m.load_failures
    );
    if before != after || before % 2 == 1 {
        *prev = None;
        return;
    }
    if let Some((epoch, old)) = prev {
        if *epoch == before {
            for ((name, was), (_, now)) in counters(old).into_iter().zip(counters(&m)) {
                check!(
                    now >= was,
                    "{}: metric {name} went down from {was} to {now} without a clear",
                    s.name
                );
            }
        }
    }
    *prev = Some((before, m));
}

/// Checks every key's value and the exact metrics of a quiet, cleared cache (after the tasks stopped).
fn final_checks(s: &Subject) {
    println!(
        "{}: metrics since its last clear: {:?}",
        s.name,
        s.cache.metrics()
    );
    for key in 0..s.keys.len() as u64 {
        let start = s.read_start(key);
        if let Some(v) = s.cache.peek(&key) {
            s.check(key, &start, &v, "final peek");
        }
    }
    let m = s.cache.metrics();
    check!(
        m.load_time.count == m.loads + m.load_failures,
        "{}: at the end, {} timed loads but {} loads + {} failures",
        s.name,
        m.load_time.count,
        m.loads,
        m.load_failures
    );
    s.clear();
    for key in 0..100u64 {
        check!(
            s.cache.get(&key).is_none(),
            "{}: a value after clear",
            s.name
        );
        let w = s.begin(key);
        s.cache
            .insert_with_ttl(key, Val::new(key, w.version, None), None);
        check!(
            s.cache.get(&key).is_some(),
            "{}: no value after insert",
            s.name
        );
    }
    let m = s.cache.metrics();
    check!(
        m.hits == 100 && m.misses == 100 && m.size == 100,
        "{}: after clear, 100 misses, inserts and hits counted as {} misses, {} hits, size {}",
        s.name,
        m.misses,
        m.hits,
        m.size
    );
}

fn env_secs(name: &str, default: f64) -> f64 {
    std::env::var(name).map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name} must be a number of seconds, not `{v}`"))
    })
}

fn uptime() -> String {
    std::process::Command::new("uptime")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "?".to_owned(), |s| s.trim().to_owned())
}

/// Spawns a worker loop that runs `step` until `stop`, counting its iterations in `progress`.
fn spawn_loop<F, Fut>(
    stop: &Arc<AtomicBool>,
    progress: &Arc<AtomicU64>,
    seed: u64,
    mut step: F,
) -> tokio::task::JoinHandle<()>
where
    F: FnMut(SplitMix64) -> Fut + Send + 'static,
    Fut: Future<Output = SplitMix64> + Send,
{
    let (stop, progress) = (Arc::clone(stop), Arc::clone(progress));
    tokio::spawn(async move {
        let mut rng = SplitMix64::new(seed);
        while !stop.load(Ordering::Relaxed) {
            rng = step(rng).await;
            progress.fetch_add(1, Ordering::Relaxed);
            // Let the other tasks of this worker thread run: a step that never waits would starve them.
            tokio::task::yield_now().await;
        }
    })
}

#[allow(clippy::too_many_lines)]
fn main() {
    let secs = env_secs("SOAK_SECS", if quick() { 10.0 } else { 120.0 });
    let sample = Duration::from_secs_f64(env_secs(
        "SOAK_SAMPLE_SECS",
        if quick() { 1.0 } else { 5.0 },
    ));
    let duration = Duration::from_secs_f64(secs);
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !panic_message(info.payload()).contains(PLANNED) {
            default_hook(info);
        }
    }));
    println!(
        "soak: {secs} s, {WORKERS} worker tasks + {CHURNERS} instance churners + maintenance + monitor on a 4-worker \
         tokio runtime; {} CPUs; `uptime` at start: {}\n",
        std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get),
        uptime()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let subjects = Arc::new([
        Arc::new(Subject::new(
            "lru",
            4096,
            1024,
            Policy::Lru,
            None,
            Some(Duration::from_millis(200)),
            Duration::from_millis(1),
        )),
        Arc::new(Subject::new(
            "lfu, 1 shard",
            1024,
            256,
            Policy::Lfu,
            Some(1),
            None,
            Duration::from_millis(2),
        )),
        Arc::new(Subject::new(
            "tinylfu",
            2048,
            512,
            Policy::TinyLfu,
            None,
            Some(Duration::from_millis(500)),
            Duration::from_millis(1),
        )),
    ]);
    let pool = Arc::new(Mutex::new(Vec::<Arc<Tenant>>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let progress: Vec<Arc<AtomicU64>> = (0..WORKERS + CHURNERS + 1)
        .map(|_| Arc::new(AtomicU64::new(0)))
        .collect();
    let started = Instant::now();

    let samples = runtime.block_on(async {
        let mut tasks = Vec::new();
        for (w, progress) in progress[..WORKERS].iter().enumerate() {
            let subjects = Arc::clone(&subjects);
            tasks.push(spawn_loop(&stop, progress, 0x50A4 + w as u64, move |mut rng| {
                let subjects = Arc::clone(&subjects);
                async move {
                    let s = &subjects[rng.below(subjects.len())];
                    let mut pick = rng.below(1000);
                    let op = WEIGHTS
                        .iter()
                        .find(|(_, w)| {
                            let hit = pick < *w;
                            pick = pick.saturating_sub(*w);
                            hit
                        })
                        .map_or(Op::Get, |(op, _)| *op);
                    operation(s, op, &mut rng).await;
                    rng
                }
            }));
        }
        for c in 0..CHURNERS {
            let pool = Arc::clone(&pool);
            tasks.push(spawn_loop(&stop, &progress[WORKERS + c], 0xC4A2 + c as u64, move |mut rng| {
                let pool = Arc::clone(&pool);
                async move {
                    churn(&pool, &mut rng).await;
                    rng
                }
            }));
        }
        {
            let subjects = Arc::clone(&subjects);
            tasks.push(spawn_loop(&stop, &progress[WORKERS + CHURNERS], 0x3A17, move |mut rng| {
                let subjects = Arc::clone(&subjects);
                async move {
                    tokio::time::sleep(Duration::from_millis(20 + rng.below(280) as u64)).await;
                    let s = &subjects[rng.below(subjects.len())];
                    if rng.below(2) == 0 {
                        s.clear();
                        count(Op::Clear);
                    } else {
                        s.retain();
                        count(Op::Retain);
                    }
                    rng
                }
            }));
        }

        // The monitor runs here.
        let mut prev: Vec<Option<(u64, cache_core::Metrics)>> = vec![None; subjects.len()];
        let mut last_progress: Vec<(u64, Instant)> = progress.iter().map(|_| (0, Instant::now())).collect();
        let mut samples = vec![(Duration::ZERO, rss_bytes(), 0u64)];
        let mut next_sample = sample;
        while started.elapsed() < duration {
            tokio::time::sleep(Duration::from_millis(250)).await;
            for (s, p) in subjects.iter().zip(&mut prev) {
                monitor_subject(s, p);
            }
            for (i, (p, (seen, at))) in progress.iter().zip(&mut last_progress).enumerate() {
                let now = p.load(Ordering::Relaxed);
                if now != *seen {
                    (*seen, *at) = (now, Instant::now());
                } else if at.elapsed() > HANG {
                    violation(format!("task {i} made no progress for {:?}", at.elapsed()));
                    *at = Instant::now();
                }
            }
            if started.elapsed() >= next_sample {
                let ops: u64 = COUNTS.iter().map(|c| c.load(Ordering::Relaxed)).sum();
                let rss = rss_bytes();
                println!(
                    "t = {:>4.0} s  rss {:>10}  ops {:>11}  lru len {:>4}  lfu len {:>3}  tinylfu len {:>3}  profile len {:>3}  violations {}",
                    started.elapsed().as_secs_f64(),
                    mib(rss),
                    ops,
                    subjects[0].cache.len(),
                    subjects[1].cache.len(),
                    subjects[2].cache.len(),
                    Tenant::profile_cache().len(),
                    VIOLATIONS.load(Ordering::Relaxed)
                );
                samples.push((started.elapsed(), rss, ops));
                next_sample += sample;
            }
        }
        stop.store(true, Ordering::SeqCst);
        for (i, task) in tasks.into_iter().enumerate() {
            match tokio::time::timeout(HANG, task).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => violation(format!("task {i} failed: {e}")),
                Err(_) => violation(format!("task {i} did not finish within {HANG:?} of the stop")),
            }
        }
        samples
    });
    let elapsed = started.elapsed();
    println!();
    for s in subjects.iter() {
        final_checks(s);
    }

    // Memory: must level off over the last third.
    let first = samples.first().map_or(0, |s| s.1);
    let last = samples.last().map_or(0, |s| s.1);
    let max = samples.iter().map(|s| s.1).max().unwrap_or(0);
    let third = duration.mul_f64(2.0 / 3.0);
    let tail: Vec<u64> = samples
        .iter()
        .filter(|s| s.0 >= third)
        .map(|s| s.1)
        .collect();
    let tail_start = tail.first().copied().unwrap_or(last);
    let growth = tail
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .saturating_sub(tail_start);
    let bound = (4 << 20).max(tail_start / 10);
    check!(
        growth <= bound,
        "resident memory grew by {} over the last third (bound {})",
        mib(growth),
        mib(bound)
    );

    let mut table = Table::new(&["operation", "count"]);
    for op in OPS {
        table.row(vec![
            format!("{op:?}"),
            COUNTS[op as usize].load(Ordering::Relaxed).to_string(),
        ]);
    }
    let total: u64 = COUNTS.iter().map(|c| c.load(Ordering::Relaxed)).sum();
    println!("\n{}", table.render());
    println!(
        "{total} operations in {:.0} s ({:.0} per second); resident memory: first {}, last {}, max {}, growth over the \
         last third {} (bound {}); instances created {}; `uptime` at end: {}",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        mib(first),
        mib(last),
        mib(max),
        mib(growth),
        mib(bound),
        TAG.load(Ordering::Relaxed) - 1,
        uptime()
    );
    let violations = VIOLATIONS.load(Ordering::SeqCst);
    if violations == 0 {
        println!("\nNo invariant violated.");
    } else {
        println!("\n{violations} violations; the first:");
        for m in MESSAGES.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            println!("  {m}");
        }
        std::process::exit(1);
    }
}
