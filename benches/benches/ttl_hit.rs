//! What a TTL (and `refresh_after`) costs a hit, measured in adjacent runs: a noise-robust companion to
//! `hit_path`'s TTL and refresh rows.
//!
//! `hit_alt` times every subject once per round, so the two halves of a TTL / plain ratio are taken seconds
//! apart, and on a busy machine single rounds moved by 2–20× there. This bench times only the two caches that
//! differ by the TTL alone (cache-core LRU, and the same with a one-hour default TTL), plus the TTL cache with
//! `refresh_after` of 30 minutes (no entry becomes due), one right after the other, in an order that rotates
//! every round, over many short rounds; each round gives one ratio per subject, and the median of those ratios
//! is the result (with their range). Scenarios: 100, 1,000 and 100,000 `u64` keys, every key
//! present, looked up in a fixed random order; 1 thread, and 2 threads each walking the order from its own
//! offset (the time is the slower thread's). Each scenario runs twice: on plain threads outside any tokio runtime,
//! and on threads inside a multi-thread tokio runtime (`Handle::enter`), where a service's hits happen. Until
//! the process has seen a current-thread runtime, a hit asks tokio nothing in either context; after it, a hit
//! outside any runtime asks on every hit and one inside a multi-thread runtime once per tick
//! (`docs/design/time.md`). Nothing here touches a current-thread runtime, so both contexts measure the first
//! case, a service's; a bench that adds a current-thread runtime must run it after these rows, or in its own
//! process.
//!
//! Run: `cargo bench -p cache-benches --bench ttl_hit` (under a minute; `BENCH_QUICK=1` for fewer rounds).

use std::hint::black_box;
use std::time::Duration;

use cache_benches::{access_pattern, quick, timed_on_threads, u64_key};
use cache_core::{AsyncCache, Policy};

/// Gets per timed batch and thread.
const BATCH: usize = 1 << 17;
/// Gets per timed batch and thread for moka (whose gets are about 50 times slower).
const MOKA_BATCH: usize = BATCH / 8;
const ROUNDS: usize = 41;
const ROUNDS_QUICK: usize = 9;

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A cache timed by the bench.
#[derive(Clone, Copy)]
enum Subject<'a> {
    Ours(&'a AsyncCache<u64, u64>),
    Moka(&'a moka::sync::Cache<u64, u64>),
}

impl Subject<'_> {
    fn get(self, k: &u64) -> Option<u64> {
        match self {
            Subject::Ours(c) => c.get(k),
            Subject::Moka(c) => c.get(k),
        }
    }

    /// Gets per batch and thread.
    fn batch_len(self) -> usize {
        match self {
            Subject::Ours(_) => BATCH,
            Subject::Moka(_) => MOKA_BATCH,
        }
    }
}

/// `len` gets in the order of `pattern` from `offset`; the sum of the values.
fn batch(cache: Subject<'_>, keys: &[u64], pattern: &[u32], offset: usize, len: usize) -> u64 {
    let (head, tail) = pattern.split_at(offset % pattern.len());
    let mut sum = 0u64;
    for &i in tail.iter().chain(head).take(len) {
        sum = sum.wrapping_add(cache.get(black_box(&keys[i as usize])).unwrap_or(0));
    }
    sum
}

fn main() {
    let rounds = if quick() { ROUNDS_QUICK } else { ROUNDS };
    println!(
        "ttl_hit: {BATCH} gets per batch and thread, {rounds} rounds (+1 warm-up); 1-minute load average at start: {}\n",
        std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|s| s.split_whitespace().next().map(str::to_owned))
            .unwrap_or_default()
    );
    println!("| context | keys | threads | plain ns/get (median) | TTL ns/get (median) | TTL / plain: median of per-round ratios (min–max) | TTL+refresh ns/get (median) | TTL+refresh / plain (min–max) | moka ns/get | moka-ttl ns/get | moka TTL / plain (min–max) |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .expect("a tokio runtime");
    for context in [None, Some(runtime.handle())] {
        let label = if context.is_some() {
            "multi-thread runtime"
        } else {
            "no runtime"
        };
        scenarios(rounds, label, context);
    }
}

fn scenarios(rounds: usize, label: &str, context: Option<&tokio::runtime::Handle>) {
    for n in [100usize, 1_000, 100_000] {
        let keys: Vec<u64> = (0..n).map(u64_key).collect();
        let pattern = access_pattern(n, BATCH, 0x77_1E5 ^ n as u64);
        let expected = pattern
            .iter()
            .fold(0u64, |s, &i| s.wrapping_add(u64::from(i)));
        let capacity = n + n / 4;
        let plain = cache_benches::cache_core(capacity, Policy::Lru, None);
        let ttl = cache_benches::cache_core(capacity, Policy::Lru, Some(Duration::from_secs(3600)));
        let refresh: AsyncCache<u64, u64> = AsyncCache::builder()
            .maxsize(capacity)
            .ttl(Duration::from_secs(3600))
            .refresh_after(Duration::from_secs(1800))
            .build()
            .expect("valid settings");
        let moka = moka::sync::Cache::new(capacity as u64);
        let moka_ttl = moka::sync::Cache::builder()
            .max_capacity(capacity as u64)
            .time_to_live(Duration::from_secs(3600))
            .build();
        for (i, k) in keys.iter().enumerate() {
            plain.insert(*k, i as u64);
            ttl.insert(*k, i as u64);
            refresh.insert(*k, i as u64);
            moka.insert(*k, i as u64);
            moka_ttl.insert(*k, i as u64);
        }
        moka.run_pending_tasks();
        moka_ttl.run_pending_tasks();
        for threads in [1usize, 2] {
            let time = |cache: Subject<'_>| {
                let len = cache.batch_len();
                let took = timed_on_threads(threads, |t| {
                    let _entered = context.map(tokio::runtime::Handle::enter);
                    let sum = batch(cache, &keys, &pattern, t * BATCH / threads, len);
                    if len == BATCH {
                        assert_eq!(sum, expected, "a get missed");
                    }
                });
                #[allow(clippy::cast_precision_loss)]
                let ns = took.as_secs_f64() * 1e9 / len as f64;
                ns
            };
            let subjects = [
                Subject::Ours(&plain),
                Subject::Ours(&ttl),
                Subject::Ours(&refresh),
                Subject::Moka(&moka),
                Subject::Moka(&moka_ttl),
            ];
            let (mut p, mut t, mut f, mut r, mut rf) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let (mut m, mut mt, mut mr) = (Vec::new(), Vec::new(), Vec::new());
            for round in 0..=rounds {
                // Each round times every subject one after the other, starting with a different one each round.
                let mut ns = [0.0f64; 5];
                for j in 0..5 {
                    let which = (round + j) % 5;
                    ns[which] = time(subjects[which]);
                }
                if round > 0 {
                    p.push(ns[0]);
                    t.push(ns[1]);
                    f.push(ns[2]);
                    r.push(ns[1] / ns[0]);
                    rf.push(ns[2] / ns[0]);
                    m.push(ns[3]);
                    mt.push(ns[4]);
                    mr.push(ns[4] / ns[3]);
                }
            }
            let range = |xs: &[f64]| {
                xs.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &x| {
                    (lo.min(x), hi.max(x))
                })
            };
            let ((lo, hi), (flo, fhi), (mlo, mhi)) = (range(&r), range(&rf), range(&mr));
            println!(
                "| {label} | {n} | {threads} | {:.1} | {:.1} | {:.2}× ({lo:.2}–{hi:.2}) | {:.1} | {:.2}× ({flo:.2}–{fhi:.2}) | {:.1} | {:.1} | {:.2}× ({mlo:.2}–{mhi:.2}) |",
                median(&p),
                median(&t),
                median(&r),
                median(&f),
                median(&rf),
                median(&m),
                median(&mt),
                median(&mr)
            );
        }
    }
}
