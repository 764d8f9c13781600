//! Loading under a stampede: many concurrent callers missing on the same cold keys, for
//! `cache_core::AsyncCache::get_or_load` and its peers in the same run.
//!
//! Not a criterion bench: a plain `main` (`harness = false`) that runs each scenario several times and prints a
//! markdown table of loader invocations and wall times.
//!
//! * Runtime: tokio multi-thread, 2 worker threads. Every caller is its own `tokio::spawn`ed task; the tasks are
//!   spawned keys-interleaved (k0, k1, .., k0, k1, ..) and the wall time runs from the first spawn to the last
//!   join.
//! * Loader: counts its invocation in an `AtomicUsize`, sleeps 1 ms (`tokio::time::sleep`), returns `2 * key`.
//!   Every caller checks the value it got.
//! * Scenarios: 1 cold key × 10,000 callers; 100 cold keys × 100 callers each.
//! * Subjects: a baseline that only spawns and joins the tasks (each returns its value at once, no cache, no
//!   loader: the fixed cost of the harness), `AsyncCache::get_or_load`, `moka::future::Cache::get_with`,
//!   `quick_cache::sync::Cache::get_or_insert_async`, and `cached`'s `#[cached]` async fn with
//!   `sync_writes = "by_key"` and without it (its default, which does not deduplicate).
//! * Each scenario runs 5 times (2 with `BENCH_QUICK=1` or `--quick`) on a fresh cache (for `cached`, whose cache
//!   is a global static, on fresh keys). `cache-core` must call the loader exactly once per key: asserted.
//! * Also printed: the size of each caller task's future (`size_of` of the future handed to `tokio::spawn`),
//!   which every spawn allocates and moves.
//!
//! Run: `cargo bench -p cache-benches --bench loading`.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_benches::{median, ms, quick, Table};
use cache_core::AsyncCache;

const LOAD_TIME: Duration = Duration::from_millis(1);

/// The loader every cache calls: counts, sleeps, answers.
async fn load(key: u64, calls: &AtomicUsize) -> u64 {
    calls.fetch_add(1, Ordering::Relaxed);
    tokio::time::sleep(LOAD_TIME).await;
    key * 2
}

static CACHED_BY_KEY_CALLS: AtomicUsize = AtomicUsize::new(0);
static CACHED_PLAIN_CALLS: AtomicUsize = AtomicUsize::new(0);

#[cached::macros::cached(sync_writes = "by_key")]
async fn cached_by_key(key: u64) -> u64 {
    load(key, &CACHED_BY_KEY_CALLS).await
}

#[cached::macros::cached]
async fn cached_plain(key: u64) -> u64 {
    load(key, &CACHED_PLAIN_CALLS).await
}

/// The size in bytes of the future of the last `stampede`'s tasks: what each `tokio::spawn` allocates and moves.
static TASK_FUTURE_BYTES: AtomicUsize = AtomicUsize::new(0);

/// One run: `callers` tasks per key for `keys` keys (numbered from `base`), each calling `call(key)`. Returns the
/// wall time; panics if a caller got a wrong value.
async fn stampede<F, Fut>(keys: u64, callers: usize, base: u64, call: F) -> Duration
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = u64> + Send + 'static,
{
    TASK_FUTURE_BYTES.store(std::mem::size_of::<Fut>(), Ordering::Relaxed);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(callers * keys as usize);
    for _ in 0..callers {
        for k in base..base + keys {
            tasks.push((k, tokio::spawn(call(k))));
        }
    }
    for (k, task) in tasks {
        let v = task.await.expect("caller task panicked");
        assert_eq!(v, k * 2, "a caller got a wrong value for key {k}");
    }
    start.elapsed()
}

/// The results of one subject in one scenario.
#[derive(Default)]
struct Runs {
    times: Vec<Duration>,
    calls: Vec<usize>,
    /// Size of each caller task's future.
    task_bytes: usize,
}

impl Runs {
    fn push(&mut self, time: Duration, calls: usize) {
        self.times.push(time);
        self.calls.push(calls);
    }
}

const SUBJECTS: [&str; 6] = [
    "baseline: spawn + join only (no cache, no loader)",
    "cache-core get_or_load",
    "moka future get_with",
    "quick_cache get_or_insert_async",
    "cached #[cached(sync_writes = \"by_key\")]",
    "cached #[cached] (no sync_writes)",
];

/// Runs subject `s` once; returns the wall time and the loader invocations.
async fn run_once(s: usize, keys: u64, callers: usize, base: u64) -> (Duration, usize) {
    let calls = Arc::new(AtomicUsize::new(0));
    let capacity = 10_000;
    match s {
        0 => {
            let time = stampede(keys, callers, base, |k| async move { k * 2 }).await;
            (time, 0)
        }
        1 => {
            let cache = AsyncCache::<u64, u64>::new(capacity);
            let time = stampede(keys, callers, base, |k| {
                let (cache, calls) = (cache.clone(), Arc::clone(&calls));
                async move { cache.get_or_load(k, load(k, &calls)).await }
            })
            .await;
            (time, calls.load(Ordering::SeqCst))
        }
        2 => {
            let cache = moka::future::Cache::<u64, u64>::new(capacity as u64);
            let time = stampede(keys, callers, base, |k| {
                let (cache, calls) = (cache.clone(), Arc::clone(&calls));
                async move { cache.get_with(k, load(k, &calls)).await }
            })
            .await;
            (time, calls.load(Ordering::SeqCst))
        }
        3 => {
            let cache = Arc::new(quick_cache::sync::Cache::<u64, u64>::new(capacity));
            let time = stampede(keys, callers, base, |k| {
                let (cache, calls) = (Arc::clone(&cache), Arc::clone(&calls));
                async move {
                    let load = async { Ok::<_, std::convert::Infallible>(load(k, &calls).await) };
                    match cache.get_or_insert_async(&k, load).await {
                        Ok(v) => v,
                        Err(never) => match never {},
                    }
                }
            })
            .await;
            (time, calls.load(Ordering::SeqCst))
        }
        4 => {
            let before = CACHED_BY_KEY_CALLS.load(Ordering::SeqCst);
            let time = stampede(keys, callers, base, cached_by_key).await;
            (time, CACHED_BY_KEY_CALLS.load(Ordering::SeqCst) - before)
        }
        _ => {
            let before = CACHED_PLAIN_CALLS.load(Ordering::SeqCst);
            let time = stampede(keys, callers, base, cached_plain).await;
            (time, CACHED_PLAIN_CALLS.load(Ordering::SeqCst) - before)
        }
    }
}

fn main() {
    let reps = if quick() { 2 } else { 5 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let scenarios: [(&str, u64, usize); 2] = [
        ("1 key × 10,000 callers", 1, 10_000),
        ("100 keys × 100 callers", 100, 100),
    ];

    let mut table = Table::new(&[
        "scenario",
        "cache",
        "loader calls (per run)",
        "calls per key",
        "task future (bytes)",
        "median wall",
        "min wall",
    ]);
    // Fresh keys for every run, so the global caches of the `cached` functions are always cold.
    let mut base = 0u64;
    for (label, keys, callers) in scenarios {
        let mut runs: Vec<Runs> = SUBJECTS.iter().map(|_| Runs::default()).collect();
        for _ in 0..reps {
            // Interleave the subjects, so a noisy moment of the machine does not hit one subject only.
            for (s, r) in runs.iter_mut().enumerate() {
                let (time, calls) = runtime.block_on(run_once(s, keys, callers, base));
                base += keys;
                r.push(time, calls);
                r.task_bytes = TASK_FUTURE_BYTES.load(Ordering::Relaxed);
            }
        }
        for (name, r) in SUBJECTS.iter().zip(&runs) {
            if name.starts_with("cache-core") {
                assert!(
                    r.calls.iter().all(|&c| c == keys as usize),
                    "{label}: cache-core must load each key exactly once, got {:?} loader calls for {keys} keys",
                    r.calls
                );
            }
            let (lo, hi) = (
                r.calls.iter().min().copied().unwrap_or(0),
                r.calls.iter().max().copied().unwrap_or(0),
            );
            let baseline = name.starts_with("baseline");
            let calls = if baseline {
                "–".to_string()
            } else if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}–{hi}")
            };
            #[allow(clippy::cast_precision_loss)]
            let per_key =
                r.calls.iter().sum::<usize>() as f64 / (r.calls.len() as f64 * keys as f64);
            let per_key = if baseline {
                "–".to_string()
            } else {
                format!("{per_key:.2}")
            };
            table.row(vec![
                label.to_string(),
                (*name).to_string(),
                calls,
                per_key,
                r.task_bytes.to_string(),
                ms(median(&r.times)),
                ms(r.times.iter().min().copied().unwrap_or_default()),
            ]);
        }
    }
    println!(
        "tokio multi-thread runtime, 2 workers; loader sleeps {LOAD_TIME:?}; {reps} runs per cell\n"
    );
    println!("{}", table.render());
}
