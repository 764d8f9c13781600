//! The hit path measured in *alternation*: a noise-robust companion to the criterion bench `hit_path`.
//!
//! Criterion times each subject in its own few-second slot, so on a small, shared machine a busy moment
//! penalises whichever subject happened to be timed then (its figures moved by 20–60 % between runs here). This
//! bench instead times every subject once per *round*, round-robin, over many rounds, and reports the median
//! and the minimum: a disturbance hits one round of every subject alike instead of one subject's whole slot.
//!
//! * Subjects: cache-core LRU (default settings), cache-core LFU, cache-core TinyLFU (default, and "full" as
//!   for LRU below), cache-core LRU with a default TTL of one hour
//!   (every entry has a deadline, so every hit also checks it against the cache's time), cache-core LRU "full" (first filled with
//!   as many *other* keys as its capacity, so that every shard has evicted before the measured keys go in: a
//!   cache-core policy only stamps uses until its shard first evicts, and keeps its exact order from then on, so
//!   the default subject, never full here, measures the first regime and this one the second), `quick_cache::sync::Cache`,
//!   `lru::LruCache` in a `parking_lot::Mutex`, and `moka::sync::Cache`, plain and with a one-hour
//!   `time_to_live` (the TTL peer). Values are `u64`; every cache uses its default hasher.
//! * Scenarios: 100,000 scrambled `u64` keys; 100,000 16-byte `String` keys looked up by `&str`; 1,000 `u64` keys
//!   (a hot set that stays in the CPU caches); 100 `u64` keys (a small cache: cache-core gives a cache under
//!   1,024 entries one shard, so this is the regime of the `#[async_cache]` default of 128). Every cache is built
//!   with capacity `n + n/4` (`2n` for the small cache: quick_cache, sharded, dropped keys of 100 at 125), so that
//!   no shard of a sharded cache overflows, and the bench asserts before timing that every key is present.
//! * A batch is `BATCH` gets following a fixed uniformly random access pattern over the key set (fixed seed; the
//!   same pattern for every subject). Every batch checks the sum of the values it found, so every get must hit.
//! * One round = one 1-thread batch of every subject, then one 2-thread batch of every subject, the subjects in
//!   an order shuffled every round (fixed seed), so that no subject always follows the same one. Each batch is
//!   preceded by an untimed pass over every key of that cache, so that it does not pay for the CPU caches the
//!   previous subject left cold (moka alone has ~22 MB of entries at 100,000 keys; the L3 is 32 MiB). 11 timed
//!   rounds (3 with `BENCH_QUICK=1` or `--quick`) after one untimed warm-up round.
//! * 2 threads: both run a whole batch concurrently (thread `t` starts the pattern at offset `t * BATCH / 2`),
//!   released together by a barrier; the time is the slower thread's, and the throughput is the aggregate,
//!   `2 * BATCH / time`.
//! * Reported per subject: 1-thread ns/get (median and minimum over the rounds), 1-thread M gets/s (from the
//!   median), 2-thread aggregate M gets/s (median and best), the scaling 2t/1t and the ratio of the subject's
//!   1-thread time to quick_cache's. The two ratios are medians of the per-round ratios: each pairs two
//!   measurements taken seconds apart, which cancels slow drifts in the machine's speed (single rounds of the
//!   100,000-key scenarios are noisy enough, though, that a ratio of the medians can be the steadier figure).
//! * Also printed per scenario: what a TTL costs a hit, the TTL subject's time over its plain twin's
//!   (cache-core TTL over cache-core LRU, moka TTL over moka), median and range of the per-round ratios at 1 and
//!   2 threads; likewise what TinyLFU costs a hit over LRU (cache-core TinyLFU over cache-core LRU, both never
//!   full, and the two "full" subjects); the spread of each subject's 1-thread times over the rounds (max/min), how much
//!   CPU other processes used during the rounds and how much the hypervisor stole (from `/proc/stat` and
//!   `/proc/self/stat`: a figure taken while another process was busy is suspect), and the load average; with
//!   `HIT_ALT_RAW=1`, every round's figures.
//!
//! Run: `cargo bench -p cache-benches --bench hit_alt` (1–2 minutes on 2 cores; `BENCH_QUICK=1` or
//! `-- --quick` for a smoke run, under a minute). `HIT_ALT_ONLY` keeps only the subjects whose names contain
//! one of its `;`-separated parts (`HIT_ALT_ONLY="cache-core LRU;moka"`), `HIT_ALT_SCENARIO` only the
//! scenarios whose titles contain it (`HIT_ALT_SCENARIO="hot set"`), `HIT_ALT_ROUNDS` sets the number of timed
//! rounds, `HIT_ALT_HASHER_SEED` makes every cache-core cache hash with that seed (a TinyLFU shard's state after
//! the fill depends on it; a random seed per cache otherwise).

use std::borrow::Borrow;
use std::hash::Hash;
use std::hint::black_box;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use cache_benches::machine::Ticks;
use cache_benches::{access_pattern, quick, string_key, u64_key, SplitMix64, Table};
use cache_core::{AsyncCache, Policy};
use parking_lot::Mutex;

/// Gets per batch (per thread): a power of two, 2 MiB of indices. 2^19 rather than 2^20 keeps a full run
/// within about two minutes on 2 cores (moka alone takes ~1.4 µs per get on 100,000 keys).
const BATCH: usize = 1 << 19;
/// Timed rounds (after one warm-up round).
const ROUNDS: usize = 11;
/// Timed rounds in quick mode.
const ROUNDS_QUICK: usize = 3;

mod subjects;

use subjects::*;

/// Whether `HIT_ALT_ONLY` (subject names, or parts of them, separated by `;`) selects the subject `name`; every
/// subject when it is unset.
fn selected(name: &str) -> bool {
    std::env::var("HIT_ALT_ONLY").map_or(true, |only| {
        only.split(';')
            .any(|part| !part.is_empty() && name.contains(part))
    })
}

/// Looks up `keys[i]` for every index of `first`, then of `second`, summing the values found.
#[inline(always)]
fn walk<K, Q, F>(keys: &[K], first: &[u32], second: &[u32], mut get: F) -> u64
where
    K: Borrow<Q>,
    Q: ?Sized,
    F: FnMut(&Q) -> Option<u64>,
{
    let mut sum = 0u64;
    for &i in first.iter().chain(second) {
        let key: &Q = keys[i as usize].borrow();
        sum = sum.wrapping_add(get(black_box(key)).unwrap_or(0));
    }
    sum
}

/// Times one batch on `threads` threads released together; returns the slowest thread's time.
fn timed<F>(threads: usize, work: F) -> Duration
where
    F: Fn(usize) + Sync,
{
    cache_benches::timed_on_threads(threads, work)
}

/// The median of some numbers (the mean of the two middle ones for an even count).
fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn min(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// The 1-minute load average, as `/proc/loadavg` reports it (`?` where it cannot be read).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

/// Measures every subject, each built with room for `capacity` entries, on the key set `key(0..n)` and prints
/// its table. The "full" subject is first filled with as many other keys as the capacity, `key(n..)`.
fn scenario<K, Q>(
    title: &str,
    n: usize,
    capacity: usize,
    key: impl Fn(usize) -> K,
    rounds: usize,
    seed: u64,
) where
    K: Hash + Eq + Clone + Send + Sync + 'static + Borrow<Q>,
    Q: Hash + Eq + ?Sized,
{
    if std::env::var("HIT_ALT_SCENARIO").is_ok_and(|part| !title.contains(&*part)) {
        return;
    }
    let keys: Vec<K> = (0..n).map(&key).collect();
    let extra: Vec<K> = (n..n + capacity).map(&key).collect();
    let (keys, extra) = (&keys[..], &extra[..]);
    let pattern = access_pattern(n, BATCH, seed);
    // Key `i` holds the value `i`, so a batch that hits every time sums the pattern's indices.
    let expected = pattern
        .iter()
        .fold(0u64, |s, &i| s.wrapping_add(u64::from(i)));
    let subjects: Vec<_> = Subject::<K>::all(capacity)
        .into_iter()
        .filter(|(name, _)| selected(name))
        .collect();
    if subjects.is_empty() {
        println!("### {title}\n\nNo subject selected: `HIT_ALT_ONLY` matches parts of the names, e.g. \"LRU, full\".\n");
        return;
    }
    let all_keys: Vec<u32> = (0..u32::try_from(n).expect("fits u32")).collect();
    let all_sum: u64 = (0..n as u64).sum();
    for (name, subject) in &subjects {
        subject.fill(keys, extra);
        assert_eq!(
            subject.batch::<Q>(keys, &all_keys, 0),
            all_sum,
            "{name}: not every key is present after the fill"
        );
    }

    let ticks = Ticks::now();
    let s = subjects.len();
    // ns per get on 1 thread, and aggregate M gets/s on 2 threads, per subject and round.
    let mut one = vec![Vec::new(); s];
    let mut two = vec![Vec::new(); s];
    // The order of the subjects is shuffled every round (fixed seed), so that no subject always follows the
    // same one: a subject that runs after one with a large footprint (moka) finds less of its own data in
    // the CPU caches.
    let mut rng = SplitMix64::new(seed ^ 0x0DE2);
    for round in 0..=rounds {
        let mut order: Vec<usize> = (0..s).collect();
        for i in (1..s).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let mut round_one = vec![0.0; s];
        let mut round_two = vec![0.0; s];
        for (threads, out) in [(1usize, &mut round_one), (2, &mut round_two)] {
            for &j in &order {
                let (name, subject) = &subjects[j];
                // Untimed: one pass over every key, so the batch starts with this cache's data as warm as
                // its own use keeps it, not as cold as the previous subject left it.
                assert_eq!(subject.batch::<Q>(keys, &all_keys, 0), all_sum);
                let took = timed(threads, |t| {
                    let sum = black_box(subject.batch::<Q>(keys, &pattern, t * BATCH / threads));
                    assert_eq!(sum, expected, "{name}: a get missed");
                });
                #[allow(clippy::cast_precision_loss)]
                let gets = (threads * BATCH) as f64;
                out[j] = if threads == 1 {
                    took.as_secs_f64() * 1e9 / gets
                } else {
                    gets / took.as_secs_f64() / 1e6
                };
            }
        }
        // Round 0 is a warm-up.
        if round > 0 {
            for j in 0..s {
                one[j].push(round_one[j]);
                two[j].push(round_two[j]);
            }
        }
    }

    // Without the reference subject (filtered out), the ratio column compares with the first subject.
    let reference = subjects
        .iter()
        .position(|(name, _)| *name == REFERENCE)
        .unwrap_or(0);
    println!("### {title}\n");
    let ratio_header = format!("1t time / {}", subjects[reference].0);
    let mut table = Table::new(&[
        "subject",
        "1t ns/get: median (min)",
        "1t M gets/s",
        "2t aggregate M gets/s: median (best)",
        "scaling 2t/1t",
        &ratio_header,
    ]);
    let mut spread = Vec::new();
    for (j, (name, _)) in subjects.iter().enumerate() {
        let scaling: Vec<f64> = (0..rounds).map(|r| two[j][r] * one[j][r] / 1e3).collect();
        let vs_ref: Vec<f64> = (0..rounds).map(|r| one[j][r] / one[reference][r]).collect();
        table.row(vec![
            (*name).to_owned(),
            format!("{:.1} ({:.1})", median(&one[j]), min(&one[j])),
            format!("{:.2}", 1e3 / median(&one[j])),
            format!("{:.2} ({:.2})", median(&two[j]), max(&two[j])),
            format!("{:.2}×", median(&scaling)),
            format!("{:.2}×", median(&vs_ref)),
        ]);
        spread.push(format!("{name} {:.2}×", max(&one[j]) / min(&one[j])));
    }
    println!("{}", table.render());
    println!(
        "Spread of the 1t times over the rounds (max/min): {}. During the rounds {}; \
         1-minute load average after: {}.\n",
        spread.join(", "),
        ticks.others_since(),
        load_average()
    );
    // What a TTL costs a hit, and what TinyLFU costs over LRU: per round, one subject's time over its twin's, at
    // 1 and 2 threads (at 2 threads, the twin's aggregate throughput over the subject's).
    let at = |name: &str| subjects.iter().position(|(n, _)| *n == name);
    let ratios = |pairs: &[(&str, &str)]| {
        let mut rows = Vec::new();
        for &(subject, twin) in pairs {
            let (Some(t), Some(p)) = (at(subject), at(twin)) else {
                continue;
            };
            let r1: Vec<f64> = (0..rounds).map(|r| one[t][r] / one[p][r]).collect();
            let r2: Vec<f64> = (0..rounds).map(|r| two[p][r] / two[t][r]).collect();
            rows.push(format!(
                "{subject} / {twin}: 1t {:.2}× ({:.2}–{:.2}), 2t {:.2}× ({:.2}–{:.2})",
                median(&r1),
                min(&r1),
                max(&r1),
                median(&r2),
                min(&r2),
                max(&r2)
            ));
        }
        rows.join("; ")
    };
    println!(
        "TTL hit / plain hit, median of the per-round ratios (min–max): {}.\n",
        ratios(&[(OURS_TTL, OURS), (MOKA_TTL, MOKA)])
    );
    println!(
        "TinyLFU hit / LRU hit, median of the per-round ratios (min–max): {}.\n",
        ratios(&[(OURS_TINYLFU, OURS), (OURS_TINYLFU_FULL, OURS_FULL)])
    );
    if std::env::var_os("HIT_ALT_RAW").is_some() {
        for (j, (name, _)) in subjects.iter().enumerate() {
            let cells = |xs: &[f64]| {
                xs.iter()
                    .map(|x| format!("{x:.1}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            println!(
                "raw {name}: 1t ns/get [{}]; 2t M gets/s [{}]",
                cells(&one[j]),
                cells(&two[j])
            );
        }
        println!();
    }
}

fn main() {
    let rounds = std::env::var("HIT_ALT_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(if quick() { ROUNDS_QUICK } else { ROUNDS });
    let start = Instant::now();
    let load_before = load_average();
    println!(
        "hit_alt: {BATCH} gets per batch and thread, {rounds} rounds (+1 warm-up), subjects alternating; \
         {} CPUs; 1-minute load average at start: {load_before}\n",
        std::thread::available_parallelism().map_or(0, NonZeroUsize::get)
    );

    scenario::<u64, u64>(
        "u64 keys, 100,000 entries",
        100_000,
        125_000,
        u64_key,
        rounds,
        0x5EED_0A01,
    );
    scenario::<String, str>(
        "16-byte String keys (looked up by &str), 100,000 entries",
        100_000,
        125_000,
        string_key,
        rounds,
        0x5EED_0A02,
    );
    scenario::<u64, u64>(
        "u64 keys, 1,000 entries (hot set)",
        1_000,
        1_250,
        u64_key,
        rounds,
        0x5EED_0A03,
    );
    scenario::<u64, u64>(
        "u64 keys, 100 entries in a cache of 200 (a small cache: one shard)",
        100,
        200,
        u64_key,
        rounds,
        0x5EED_0A04,
    );

    println!(
        "Done in {:.0} s; 1-minute load average at start {load_before}, at end {}.",
        start.elapsed().as_secs_f64(),
        load_average()
    );
}
