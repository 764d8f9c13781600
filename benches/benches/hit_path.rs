//! The hit path: time per `get` of a key that is present, for `cache_core::AsyncCache` and its peers in the
//! same run.
//!
//! * 100,000 entries, all present (every cache gets a capacity of 125,000 so that the sharded ones, whose shards
//!   each own an equal share of the capacity, keep every key; this is checked before timing).
//! * Keys: scrambled `u64`s, and 16-byte `String`s looked up by `&str` (every cache here takes borrowed keys).
//! * Values: `u64`. Each cache uses its default hasher.
//! * `cache-core` runs four ways: LRU (`cache-core`), LFU (`cache-core-lfu`), LRU with a default TTL of one hour
//!   (`cache-core-ttl`: every entry has a deadline, so every hit also reads the (coarse) clock), and that with
//!   `refresh_after` of 30 minutes (`cache-core-refresh`: every hit also compares the entry's refresh time; no
//!   entry becomes due during the run, so no reload runs).
//! * Peers with expiry set: `moka-sync-ttl` (moka's `time_to_live` of one hour) beside `cache-core-ttl`.
//!   quick_cache and `lru` have no TTL, so they have no such row.
//! * Access pattern: 2^20 uniformly random indices into the key set, fixed seed, replayed cyclically.
//! * Threads: 1, and 2 (each thread walks the pattern from its own offset, both start together at a barrier;
//!   the time of an iteration is the wall time of one `get` on *each* thread, so the throughput criterion
//!   prints, `Throughput::Elements(threads)`, is the aggregate gets/s).
//! * `moka::future::Cache::get(&k).await` is polled inside a single `futures::executor::block_on` around the
//!   whole timed loop (a hit never suspends), so no per-call executor cost is counted.
//!
//! A second group, `loading_api_hit`, times a hit through each cache's *loading* API on one thread
//! (`AsyncCache::get_or_load`, moka `get_with`, quick_cache `get_or_insert_async`, and a `cached` `#[cached]`
//! async fn): the reference the `#[async_cache]` macro's hit path will be compared with.
//!
//! * A third key set, `u64_hot`: 1,000 `u64` keys, small enough to stay in the CPU caches, so the figure is the
//!   cost of the hit path itself rather than of memory latency.
//!
//! No group runs a cache inside a tokio current-thread runtime (the async peers are polled by
//! `futures::executor::block_on`, not tokio). Keep it so, or put such a group last: a cache built, written or
//! loaded inside one sets a process-wide flag after which every TTL hit outside runtimes asks tokio where it
//! is, 4-5 ns more (`docs/design/time.md`, "The read path").
//!
//! Run: `cargo bench -p cache-benches --bench hit_path` (add `-- --quick` for a smoke run, or a filter such as
//! `-- u64_1t`).

use std::borrow::Borrow;
use std::hash::Hash;
use std::hint::black_box;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use cache_benches::{access_pattern, string_key, u64_key};
use cache_core::{AsyncCache, Policy};
use criterion::{BenchmarkId, Criterion, Throughput};
use futures::executor::block_on;
use parking_lot::Mutex;

/// Entries in every cache.
const N: usize = 100_000;
/// Entries in the hot-set groups (`u64_hot_*`): small enough to stay in the CPU caches.
const N_HOT: usize = 1_000;
/// Capacity of every cache in `loading_api_hit`: room to spare, so no shard of a sharded cache overflows.
const CAPACITY: usize = N + N / 4;
/// Length of the access pattern (a power of two, 4 MiB of indices).
const PATTERN_LEN: usize = 1 << 20;

/// One cache under test, behind the operations the bench needs.
enum Subject<K: Hash + Eq> {
    Ours(AsyncCache<K, u64>),
    MokaSync(moka::sync::Cache<K, u64>),
    MokaFuture(moka::future::Cache<K, u64>),
    Quick(quick_cache::sync::Cache<K, u64>),
    Lru(Mutex<lru::LruCache<K, u64>>),
}

/// Walks the access pattern cyclically from an offset.
struct Cursor<'a> {
    pattern: &'a [u32],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn new(pattern: &'a [u32], offset: usize) -> Self {
        Self {
            pattern,
            i: offset % pattern.len(),
        }
    }

    #[inline(always)]
    fn next(&mut self) -> usize {
        let idx = self.pattern[self.i] as usize;
        self.i += 1;
        if self.i == self.pattern.len() {
            self.i = 0;
        }
        idx
    }
}

/// `iters` lookups with `get`, summing the values found (so nothing is optimised away).
#[inline(always)]
fn drive<K, Q, F>(keys: &[K], pattern: &[u32], offset: usize, iters: u64, mut get: F) -> u64
where
    K: Borrow<Q>,
    Q: ?Sized,
    F: FnMut(&Q) -> Option<u64>,
{
    let mut cursor = Cursor::new(pattern, offset);
    let mut sum = 0u64;
    for _ in 0..iters {
        let key: &Q = keys[cursor.next()].borrow();
        sum = sum.wrapping_add(get(black_box(key)).unwrap_or(0));
    }
    sum
}

impl<K> Subject<K>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
{
    fn all(capacity: usize) -> Vec<(&'static str, Self)> {
        let cap = NonZeroUsize::new(capacity).expect("non-zero");
        let ours = |policy, ttl| Self::Ours(cache_benches::cache_core(capacity, policy, ttl));
        vec![
            ("cache-core", ours(Policy::Lru, None)),
            ("cache-core-lfu", ours(Policy::Lfu, None)),
            (
                "cache-core-ttl",
                ours(Policy::Lru, Some(Duration::from_secs(3600))),
            ),
            (
                "cache-core-refresh",
                Self::Ours(
                    AsyncCache::builder()
                        .maxsize(capacity)
                        .ttl(Duration::from_secs(3600))
                        .refresh_after(Duration::from_secs(1800))
                        .build()
                        .expect("valid settings"),
                ),
            ),
            (
                "moka-sync",
                Self::MokaSync(moka::sync::Cache::new(capacity as u64)),
            ),
            (
                "moka-sync-ttl",
                Self::MokaSync(
                    moka::sync::Cache::builder()
                        .max_capacity(capacity as u64)
                        .time_to_live(Duration::from_secs(3600))
                        .build(),
                ),
            ),
            (
                "moka-future",
                Self::MokaFuture(moka::future::Cache::new(capacity as u64)),
            ),
            (
                "quick_cache",
                Self::Quick(quick_cache::sync::Cache::new(capacity)),
            ),
            ("lru+Mutex", Self::Lru(Mutex::new(lru::LruCache::new(cap)))),
        ]
    }

    fn fill(&self, keys: &[K]) {
        for (i, k) in keys.iter().enumerate() {
            let (k, v) = (k.clone(), i as u64);
            match self {
                Self::Ours(c) => c.insert(k, v),
                Self::MokaSync(c) => c.insert(k, v),
                Self::MokaFuture(c) => block_on(c.insert(k, v)),
                Self::Quick(c) => c.insert(k, v),
                Self::Lru(c) => {
                    c.lock().put(k, v);
                }
            }
        }
        match self {
            Self::MokaSync(c) => c.run_pending_tasks(),
            Self::MokaFuture(c) => block_on(c.run_pending_tasks()),
            _ => {}
        }
    }

    /// `iters` gets over the pattern from `offset`; returns the sum of the values found.
    fn run<Q>(&self, keys: &[K], pattern: &[u32], offset: usize, iters: u64) -> u64
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self {
            Self::Ours(c) => drive(keys, pattern, offset, iters, |k| c.get(k)),
            Self::MokaSync(c) => drive(keys, pattern, offset, iters, |k| c.get(k)),
            Self::Quick(c) => drive(keys, pattern, offset, iters, |k| c.get(k)),
            Self::Lru(c) => drive(keys, pattern, offset, iters, |k| c.lock().get(k).copied()),
            Self::MokaFuture(c) => block_on(async {
                let mut cursor = Cursor::new(pattern, offset);
                let mut sum = 0u64;
                for _ in 0..iters {
                    let key: &Q = keys[cursor.next()].borrow();
                    sum = sum.wrapping_add(c.get(black_box(key)).await.unwrap_or(0));
                }
                sum
            }),
        }
    }
}

/// Runs `iters` operations on each of `threads` threads started together; returns the longest thread's time.
fn timed_parallel<F>(threads: usize, iters: u64, work: F) -> Duration
where
    F: Fn(usize, u64) -> u64 + Sync,
{
    cache_benches::timed_on_threads(threads, |t| {
        black_box(work(t, iters));
    })
}

fn bench_keys<K, Q>(c: &mut Criterion, label: &str, keys: &[K])
where
    K: Hash + Eq + Clone + Send + Sync + 'static + Borrow<Q>,
    Q: Hash + Eq + ?Sized,
{
    let pattern = access_pattern(keys.len(), PATTERN_LEN, 0x5EED_0001);
    // Room to spare, so no shard of a sharded cache overflows.
    let subjects = Subject::<K>::all(keys.len() + keys.len() / 4);
    for (name, subject) in &subjects {
        subject.fill(keys);
        // Every key must be present: one full pass must find them all.
        let probe: Vec<u32> = (0..u32::try_from(keys.len()).expect("fits")).collect();
        let expected: u64 = (0..keys.len() as u64).sum();
        let found = subject.run::<Q>(keys, &probe, 0, keys.len() as u64);
        assert_eq!(
            found, expected,
            "{name}: not every key is present after the fill"
        );
    }
    for threads in [1usize, 2] {
        let mut group = c.benchmark_group(format!("{label}_{threads}t"));
        group.throughput(Throughput::Elements(threads as u64));
        for (name, subject) in &subjects {
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter_custom(|iters| {
                    timed_parallel(threads, iters, |t, iters| {
                        subject.run::<Q>(keys, &pattern, t * PATTERN_LEN / threads, iters)
                    })
                });
            });
        }
        group.finish();
    }
}

fn hit_path(c: &mut Criterion) {
    let keys: Vec<u64> = (0..N).map(u64_key).collect();
    bench_keys::<u64, u64>(c, "u64", &keys);
    let keys: Vec<String> = (0..N).map(string_key).collect();
    bench_keys::<String, str>(c, "str16", &keys);
    // A hot set that stays in the CPU caches: what a hit costs when memory latency is not the bottleneck.
    let keys: Vec<u64> = (0..N_HOT).map(u64_key).collect();
    bench_keys::<u64, u64>(c, "u64_hot", &keys);
}

#[cached::macros::cached(max_size = 125_000)]
async fn cached_memo(key: u64) -> u64 {
    key ^ 1
}

fn loading_api_hit(c: &mut Criterion) {
    let keys: Vec<u64> = (0..N).map(u64_key).collect();
    let pattern = access_pattern(keys.len(), PATTERN_LEN, 0x5EED_0002);
    let ours = AsyncCache::new(CAPACITY);
    let moka = moka::future::Cache::new(CAPACITY as u64);
    let quick = quick_cache::sync::Cache::new(CAPACITY);
    block_on(async {
        for &k in &keys {
            ours.insert(k, k ^ 1);
            moka.insert(k, k ^ 1).await;
            quick.insert(k, k ^ 1);
            cached_memo(k).await;
        }
        moka.run_pending_tasks().await;
    });

    let mut group = c.benchmark_group("loading_api_hit_1t");
    group.throughput(Throughput::Elements(1));
    let mut bench = |name: &str, f: &dyn Fn(u64) -> u64| {
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                black_box(f(iters));
                start.elapsed()
            });
        });
    };
    let each = |iters: u64, f: &mut dyn FnMut(u64)| {
        let mut cursor = Cursor::new(&pattern, 0);
        for _ in 0..iters {
            f(keys[cursor.next()]);
        }
    };
    bench("cache-core get_or_load", &|iters| {
        block_on(async {
            let mut cursor = Cursor::new(&pattern, 0);
            let mut sum = 0u64;
            for _ in 0..iters {
                let k = black_box(keys[cursor.next()]);
                sum = sum.wrapping_add(ours.get_or_load(k, async { unreachable!() }).await);
            }
            sum
        })
    });
    bench("cache-core get (reference)", &|iters| {
        let mut sum = 0u64;
        each(iters, &mut |k| {
            sum = sum.wrapping_add(ours.get(&black_box(k)).unwrap_or(0));
        });
        sum
    });
    bench("moka-future get_with", &|iters| {
        block_on(async {
            let mut cursor = Cursor::new(&pattern, 0);
            let mut sum = 0u64;
            for _ in 0..iters {
                let k = black_box(keys[cursor.next()]);
                sum = sum.wrapping_add(moka.get_with(k, async { unreachable!() }).await);
            }
            sum
        })
    });
    bench("quick_cache get_or_insert_async", &|iters| {
        block_on(async {
            let mut cursor = Cursor::new(&pattern, 0);
            let mut sum = 0u64;
            for _ in 0..iters {
                let k = black_box(keys[cursor.next()]);
                let v = quick
                    .get_or_insert_async::<u64, ()>(&k, async { unreachable!() })
                    .await
                    .unwrap_or(0);
                sum = sum.wrapping_add(v);
            }
            sum
        })
    });
    bench("cached #[cached] async fn", &|iters| {
        block_on(async {
            let mut cursor = Cursor::new(&pattern, 0);
            let mut sum = 0u64;
            for _ in 0..iters {
                sum = sum.wrapping_add(cached_memo(black_box(keys[cursor.next()])).await);
            }
            sum
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_millis(2500))
        .sample_size(10)
        .without_plots()
}

// `criterion_group!`/`criterion_main!` would generate an undocumented `pub fn`, which the workspace lints refuse;
// this is what they expand to.
fn main() {
    let mut c = config().configure_from_args();
    hit_path(&mut c);
    loading_api_hit(&mut c);
    c.final_summary();
}
