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

use cache_benches::machine::uptime;
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

mod monitor;
mod ops;
mod subject;
mod tenants;
mod values;

use monitor::*;
use ops::*;
use subject::*;
use tenants::*;
use values::*;

fn env_secs(name: &str, default: f64) -> f64 {
    std::env::var(name).map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name} must be a number of seconds, not `{v}`"))
    })
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
