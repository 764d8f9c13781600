//! Hit ratios on a Zipf trace, for `cache_core::AsyncCache` (LRU and LFU) and its peers in the same run.
//!
//! Not a timing benchmark: a plain `main` (`harness = false`) that replays one trace through every cache and
//! prints a markdown table.
//!
//! * Trace: Zipf with exponent 1.0 over 1,000,000 keys, 2,000,000 requests (200,000 with `BENCH_QUICK=1` or
//!   `--quick`), drawn with rand_distr from a Xoshiro256++ generator seeded with a fixed seed, so every run and
//!   every cache sees the same requests.
//! * Capacities: 1 % and 10 % of the key space (10,000 and 100,000 entries).
//! * Every request is a `get`; on a miss the key is inserted. The caches start empty.
//! * `cache-core` runs with `.shards(1)` (exact LRU or LFU over the whole cache) and, for comparison, with its
//!   default shard count. With one shard its LRU must make the same hit/miss decision as the `lru` crate at every
//!   single request: the bench replays both in lockstep and asserts it.
//!
//! Run: `cargo bench -p cache-benches --bench hit_ratio`.

use std::num::NonZeroUsize;
use std::time::Instant;

use cache_benches::{quick, Table};
use cache_core::{AsyncCache, Policy};
use rand::SeedableRng;
use rand_distr::{Distribution, Zipf};

const KEYS: usize = 1_000_000;
const SEED: u64 = 0x0005_EED0_21FF;

/// The share of requests that hit, as a percentage with two decimals.
fn pct(hits: usize, requests: usize) -> String {
    #[allow(clippy::cast_precision_loss)]
    let ratio = hits as f64 / requests as f64;
    format!("{:.2} %", ratio * 100.0)
}

/// Replays `trace` through `access` (which reports a hit, and inserts on a miss); returns the hits.
fn replay(trace: &[u64], mut access: impl FnMut(u64) -> bool) -> usize {
    trace.iter().filter(|&&k| access(k)).count()
}

fn ours(capacity: usize, policy: Policy, shards: Option<usize>) -> AsyncCache<u64, u64> {
    let builder = AsyncCache::builder().maxsize(capacity).policy(policy);
    let builder = match shards {
        Some(n) => builder.shards(n),
        None => builder,
    };
    builder.build().expect("valid cache settings")
}

fn ours_access(cache: &AsyncCache<u64, u64>) -> impl FnMut(u64) -> bool + '_ {
    move |k| {
        let hit = cache.get(&k).is_some();
        if !hit {
            cache.insert(k, k);
        }
        hit
    }
}

/// The expected hit ratio of a cache that always holds the `capacity` most popular keys, with no cold start:
/// `H(capacity) / H(KEYS)` for Zipf(1.0). An upper bound for any policy that does not know the future.
fn pinned_top_keys(capacity: usize) -> String {
    let harmonic = |n: usize| (1..=n).map(|i| 1.0 / i as f64).sum::<f64>();
    format!("{:.2} %", harmonic(capacity) / harmonic(KEYS) * 100.0)
}

fn main() {
    let requests = if quick() { 200_000 } else { 2_000_000 };
    let zipf = Zipf::new(KEYS as f64, 1.0).expect("valid Zipf parameters");
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(SEED);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let trace: Vec<u64> = (0..requests)
        .map(|_| zipf.sample(&mut rng) as u64)
        .collect();
    let distinct = {
        let mut t = trace.clone();
        t.sort_unstable();
        t.dedup();
        t.len()
    };
    println!(
        "Zipf(1.0) over {KEYS} keys: {requests} requests, {distinct} distinct keys, seed {SEED:#x}\n"
    );

    let capacities = [KEYS / 100, KEYS / 10];
    let names = [
        "cache-core LRU, shards(1)",
        "cache-core LFU, shards(1)",
        "cache-core LRU, default shards",
        "cache-core LFU, default shards",
        "lru (LruCache)",
        "moka::sync::Cache",
        "quick_cache::sync::Cache",
    ];
    // results[subject][capacity index]
    let mut results = vec![Vec::new(); names.len()];
    let mut identical = Vec::new();
    for &cap in &capacities {
        let started = Instant::now();

        // cache-core LRU with one shard and the lru crate, in lockstep.
        let lockstep = ours(cap, Policy::Lru, Some(1));
        let mut reference = lru::LruCache::new(NonZeroUsize::new(cap).expect("non-zero"));
        let (mut ours_hits, mut lru_hits) = (0, 0);
        for (i, &k) in trace.iter().enumerate() {
            let a = lockstep.get(&k).is_some();
            if !a {
                lockstep.insert(k, k);
            }
            let b = reference.get(&k).is_some();
            if !b {
                reference.put(k, k);
            }
            assert_eq!(
                a, b,
                "capacity {cap}: cache-core LRU (shards 1) and the lru crate disagree at request {i} (key {k})"
            );
            ours_hits += usize::from(a);
            lru_hits += usize::from(b);
        }
        assert_eq!(
            lockstep.metrics().hits,
            ours_hits as u64,
            "metrics count every hit"
        );
        identical.push(format!(
            "capacity {cap}: cache-core LRU with shards(1) and the lru crate made the same hit/miss decision on all \
             {requests} requests ({ours_hits} hits each)"
        ));
        results[0].push(ours_hits);
        results[4].push(lru_hits);

        let c = ours(cap, Policy::Lfu, Some(1));
        results[1].push(replay(&trace, ours_access(&c)));
        let c = ours(cap, Policy::Lru, None);
        results[2].push(replay(&trace, ours_access(&c)));
        let c = ours(cap, Policy::Lfu, None);
        results[3].push(replay(&trace, ours_access(&c)));

        let moka = moka::sync::Cache::new(cap as u64);
        results[5].push(replay(&trace, |k| {
            let hit = moka.get(&k).is_some();
            if !hit {
                moka.insert(k, k);
            }
            hit
        }));

        let quick = quick_cache::sync::Cache::new(cap);
        results[6].push(replay(&trace, |k| {
            let hit = quick.get(&k).is_some();
            if !hit {
                quick.insert(k, k);
            }
            hit
        }));
        eprintln!(
            "capacity {cap}: replayed in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }

    let mut header = vec!["cache".to_string()];
    header.extend(
        capacities
            .iter()
            .map(|c| format!("capacity {c} ({} %)", c * 100 / KEYS)),
    );
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut table = Table::new(&header);
    for (name, hits) in names.iter().zip(&results) {
        let mut row = vec![(*name).to_string()];
        row.extend(hits.iter().map(|&h| pct(h, requests)));
        table.row(row);
    }
    let mut row = vec!["reference: the top-C keys pinned, no cold start".to_string()];
    row.extend(capacities.iter().map(|&c| pinned_top_keys(c)));
    table.row(row);
    println!("{}", table.render());
    for line in identical {
        println!("{line}");
    }
}
