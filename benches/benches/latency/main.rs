//! Tail latency: every operation of a 2-thread mixed load timed on its own and recorded in an HDR histogram,
//! for `cache_core::AsyncCache` and its peers in the same run (issue 15, "Tail latency and soak").
//!
//! * Load: 2 threads, each doing 90 % lookups and 10 % `insert`s on 100,000 keys for `LATENCY_SECS` seconds
//!   (default 3) per subject, after an untimed warm-up of a quarter of that. Keys are drawn from a **Zipf(1.0)**
//!   distribution over the 100,000 keys (rank 0 the most popular: about 8 % of the draws; set
//!   `LATENCY_DIST=uniform` for uniform draws), into a cache of capacity 50,000, so inserts evict and some
//!   lookups miss. The draws are precomputed (2^20 per thread, fixed seeds; the op kind is drawn with them), so
//!   the random generator is not timed. Keys are scrambled `u64`s, values `u64`s derived from the key.
//! * Scenario `get`: the lookup is a plain `get` (cache-core, `quick_cache::sync::Cache`, `moka::sync::Cache`).
//!   Scenario `get_or_load`: the lookup is a loading call whose miss runs a tiny async loader (ready at once:
//!   it bumps a per-thread counter and returns the value), i.e. cache-core `get_or_load`, quick_cache
//!   `get_or_insert_async` and `moka::future::Cache::get_with`; each thread drives its loop in its own tokio
//!   current-thread runtime. Inserts are `insert` (awaited for moka's future cache).
//! * Timing: `std::time::Instant::now()` right before and right after each operation (clock_gettime through the
//!   vDSO); the difference, in ns, goes into the thread's `hdrhistogram::Histogram` (3 significant digits).
//!   The threads' histograms are merged. The bench first measures and prints the cost of the timestamp read
//!   itself, which every recorded latency includes once. A closed loop: each thread issues its next operation
//!   when the previous one returns, so these are service times, not response times under a fixed arrival rate
//!   (a stall delays the operations behind it, and those are not recorded as late).
//! * Rounds: `LATENCY_ROUNDS` (default 5) rounds; in each, every subject of a scenario runs once, in an order
//!   shuffled every round (fixed seed), on a freshly built cache prefilled with the 50,000 most popular keys.
//!   Reported per subject: the median over the rounds of p50, p99, p99.9, max and throughput, each with its
//!   spread (min–max over the rounds), and the per-round ratio of the subject's p99.9 to quick_cache's (the goal
//!   of issue 15: cache-core's p99.9 no worse than quick_cache's); then the same percentiles (medians) for the
//!   lookups alone and the inserts alone. Also printed: the load average and how much
//!   CPU other processes used during each scenario. `LATENCY_RAW=1` prints every round's figures.
//! * Checks, asserted in every mode: every value returned is the key's value; each thread's histogram holds
//!   exactly its timed operations; every loading subject ran its loader at least once (the scenario has
//!   misses); for cache-core, its metrics count exactly the lookups made (`hits + misses`, and the misses equal
//!   the lookups that found nothing), its `loads` equal the loader runs, and `len() <= maxsize`.
//!
//! Run: `cargo bench -p cache-benches --bench latency` (about 2 minutes). Quick mode (`BENCH_QUICK=1` or
//! `-- --quick`): 0.2 s per subject, 2 rounds, the same checks; a few seconds, for CI smoke runs.

use std::cell::Cell;
use std::convert::Infallible;
use std::hint::black_box;
use std::num::NonZeroUsize;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use cache_benches::machine::{uptime, Ticks};
use cache_benches::{quick, u64_key, SplitMix64, Table};
use cache_core::AsyncCache;
use hdrhistogram::Histogram;
use rand::SeedableRng;
use rand_distr::{Distribution, Zipf};

/// Distinct keys drawn from.
const KEYS: usize = 100_000;
/// Capacity of every cache: half the keys, so that inserts evict and lookups can miss.
const CAPACITY: usize = 50_000;
/// Threads running operations at once.
const THREADS: usize = 2;
/// Share of inserts among the operations, in percent.
const INSERT_PERCENT: u64 = 10;
/// Precomputed draws per thread, replayed cyclically (2^20: 4 MiB per thread).
const PATTERN_LEN: usize = 1 << 20;
/// The bit of a draw that marks an insert (the low bits are the key's index).
const INSERT_BIT: u32 = 1 << 31;
/// Largest latency the histograms hold exactly (60 s); anything longer is recorded as 60 s.
const MAX_NS: u64 = 60_000_000_000;
/// The reference subject of the ratio column.
const REFERENCE: &str = "quick_cache";

/// The value stored under `key`, so that every value read can be checked.
fn value_of(key: u64) -> u64 {
    key.rotate_left(17) ^ 0x5A5A_0F0F_C3C3_9696
}

/// A histogram for nanosecond latencies, 1 ns to 60 s, 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_NS, 3).expect("valid histogram bounds")
}

/// Nanoseconds of a duration, saturated to the histogram's range.
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos())
        .unwrap_or(MAX_NS)
        .clamp(1, MAX_NS)
}

/// How the keys are drawn.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dist {
    Zipf,
    Uniform,
}

impl Dist {
    fn from_env() -> Self {
        match std::env::var("LATENCY_DIST").as_deref() {
            Ok("uniform") => Self::Uniform,
            Ok("zipf") | Err(_) => Self::Zipf,
            Ok(other) => panic!("LATENCY_DIST must be `zipf` or `uniform`, not `{other}`"),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Zipf => "Zipf(1.0)",
            Self::Uniform => "uniform",
        }
    }
}

/// Thread `thread`'s draws: key index in the low bits, [`INSERT_BIT`] for an insert.
fn pattern(dist: Dist, thread: usize) -> Vec<u32> {
    let seed = 0x1A7E_0000 + thread as u64;
    let mut ops = SplitMix64::new(seed ^ 0xFFFF);
    let kind = |ops: &mut SplitMix64| {
        if ops.below(100) < INSERT_PERCENT as usize {
            INSERT_BIT
        } else {
            0
        }
    };
    match dist {
        Dist::Zipf => {
            #[allow(clippy::cast_precision_loss)]
            let zipf = Zipf::new(KEYS as f64, 1.0).expect("valid Zipf parameters");
            let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(seed);
            (0..PATTERN_LEN)
                .map(|_| {
                    // Zipf draws ranks 1..=KEYS as floats.
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let rank = zipf.sample(&mut rng) as u32 - 1;
                    rank | kind(&mut ops)
                })
                .collect()
        }
        Dist::Uniform => {
            let mut rng = SplitMix64::new(seed);
            (0..PATTERN_LEN)
                .map(|_| u32::try_from(rng.below(KEYS)).expect("fits u32") | kind(&mut ops))
                .collect()
        }
    }
}

mod run;
mod subjects;

use run::*;
use subjects::*;

/// The median of some numbers (the lower middle one for an even count).
fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(f64::NAN)
}

/// `median [min–max]` of some numbers, with `decimals` decimals, each divided by `unit`.
fn spread(xs: &[f64], unit: f64, decimals: usize) -> String {
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!(
        "{:.d$} [{:.d$}–{:.d$}]",
        median(xs) / unit,
        lo / unit,
        hi / unit,
        d = decimals
    )
}

/// A setting from the environment, or its default.
fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not `{v}`")),
        Err(_) => default,
    }
}

/// Runs every subject of `scenario` for `rounds` rounds and prints its table.
fn scenario(scenario: Scenario, keys: &[u64], draws: &[Vec<u32>], rounds: usize, secs: f64) {
    let names = subject_names(scenario);
    let timed = Duration::from_secs_f64(secs);
    let warm = timed / 4;
    let before = Ticks::now();
    let mut figures: Vec<Vec<RoundFigures>> = vec![Vec::new(); names.len()];
    let mut rng = SplitMix64::new(0x0DE2 + scenario as u64);
    for _ in 0..rounds {
        let mut order: Vec<usize> = (0..names.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        for j in order {
            figures[j].push(run_subject(scenario, j, keys, draws, warm, timed));
        }
    }
    let others = before.others_since();

    let reference = names
        .iter()
        .position(|n| n.starts_with(REFERENCE))
        .expect("quick_cache is measured");
    println!(
        "### `{}`: 90 % lookups, 10 % inserts\n",
        names[0].trim_start_matches("cache-core ")
    );
    let mut table = Table::new(&[
        "subject",
        "p50 ns",
        "p99 ns",
        "p99.9 ns",
        "max µs",
        "M ops/s (2 threads)",
        "p99.9 / quick_cache's (per round)",
    ]);
    #[allow(clippy::cast_precision_loss)]
    let col = |j: usize, f: fn(&RoundFigures) -> u64| -> Vec<f64> {
        figures[j].iter().map(|r| f(r) as f64).collect()
    };
    for (j, name) in names.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let ratio: Vec<f64> = (0..rounds)
            .map(|r| figures[j][r].p999 as f64 / figures[reference][r].p999 as f64)
            .collect();
        let ops: Vec<f64> = figures[j].iter().map(|r| r.ops_per_sec).collect();
        table.row(vec![
            (*name).to_owned(),
            spread(&col(j, |r| r.p50), 1.0, 0),
            spread(&col(j, |r| r.p99), 1.0, 0),
            spread(&col(j, |r| r.p999), 1.0, 0),
            spread(&col(j, |r| r.max), 1e3, 0),
            spread(&ops, 1e6, 2),
            spread(&ratio, 1.0, 2),
        ]);
    }
    println!("{}", table.render());
    let mut by_kind = Table::new(&[
        "subject",
        "lookups: p50 / p99 / p99.9 ns, max µs",
        "inserts: p50 / p99 / p99.9 ns, max µs",
    ]);
    for (j, name) in names.iter().enumerate() {
        let cells = |kind: usize| {
            #[allow(clippy::cast_precision_loss)]
            let m: Vec<f64> = (0..4)
                .map(|f| {
                    median(
                        &figures[j]
                            .iter()
                            .map(|r| r.kinds[kind][f] as f64)
                            .collect::<Vec<_>>(),
                    )
                })
                .collect();
            format!("{:.0} / {:.0} / {:.0}, {:.0}", m[0], m[1], m[2], m[3] / 1e3)
        };
        by_kind.row(vec![(*name).to_owned(), cells(0), cells(1)]);
    }
    println!(
        "By operation (medians over the rounds):\n\n{}",
        by_kind.render()
    );
    let ours: Vec<f64> = (0..rounds)
        .map(|r| {
            #[allow(clippy::cast_precision_loss)]
            let x = figures[0][r].p999 as f64 / figures[reference][r].p999 as f64;
            x
        })
        .collect();
    let met = ours.iter().filter(|&&x| x <= 1.0).count();
    println!(
        "Cells: median [min–max] over {rounds} rounds. Goal (issue 15), {} p99.9 <= {}'s: met in {met} of {rounds} \
         rounds (median ratio {:.2}). During the rounds {others}; `uptime` after: {}.\n",
        names[0],
        names[reference],
        median(&ours),
        uptime()
    );
    if std::env::var_os("LATENCY_RAW").is_some() {
        for (j, name) in names.iter().enumerate() {
            let cells: Vec<String> = figures[j]
                .iter()
                .map(|r| {
                    format!(
                        "{}/{}/{}/{} ns {:.2} M ops/s ({} ops)",
                        r.p50,
                        r.p99,
                        r.p999,
                        r.max,
                        r.ops_per_sec / 1e6,
                        r.ops
                    )
                })
                .collect();
            println!("raw {name} (p50/p99/p99.9/max): {}", cells.join("; "));
        }
        println!();
    }
}

fn main() {
    let quick = quick();
    let secs: f64 = env_or("LATENCY_SECS", if quick { 0.2 } else { 3.0 });
    let rounds: usize = env_or("LATENCY_ROUNDS", if quick { 2 } else { 5 });
    assert!(
        secs > 0.0 && rounds > 0,
        "LATENCY_SECS and LATENCY_ROUNDS must be positive"
    );
    let dist = Dist::from_env();
    let started = Instant::now();
    let clocksource =
        std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
            .map_or_else(|_| "?".to_owned(), |s| s.trim().to_owned());
    println!(
        "latency: {THREADS} threads, {}% lookups / {INSERT_PERCENT}% inserts, {} keys over {KEYS} keys, capacity \
         {CAPACITY}; {secs} s timed (+{:.2} s warm-up) per subject and round, {rounds} rounds, subjects shuffled \
         every round; {} CPUs; `uptime` at start: {}\n",
        100 - INSERT_PERCENT,
        dist.describe(),
        secs / 4.0,
        std::thread::available_parallelism().map_or(0, NonZeroUsize::get),
        uptime()
    );

    let (per_call, empty) = timer_cost(if quick { 20 } else { 200 });
    println!(
        "Timer: `std::time::Instant::now()` (clocksource {clocksource}): {per_call:.1} ns per call (median of batch means); an empty \
         timed interval (two back-to-back reads) reads p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns. Every \
         latency below includes about one such interval.\n",
        empty.value_at_quantile(0.5),
        empty.value_at_quantile(0.99),
        empty.value_at_quantile(0.999),
        empty.max()
    );

    let keys: Vec<u64> = (0..KEYS).map(u64_key).collect();
    let draws: Vec<Vec<u32>> = (0..THREADS).map(|t| pattern(dist, t)).collect();
    scenario(Scenario::Get, &keys, &draws, rounds, secs);
    scenario(Scenario::GetOrLoad, &keys, &draws, rounds, secs);
    println!(
        "Done in {:.0} s; `uptime` at end: {}",
        started.elapsed().as_secs_f64(),
        uptime()
    );
}
