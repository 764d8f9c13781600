//! The cost of a hit through `#[async_cache]`, against the same lookup done by hand on the same cache.
//!
//! A plain `main` (`harness = false`) rather than criterion, because the figure that matters is a *ratio*
//! measured under the same conditions: the variants are timed in alternation (A B C A B C ..), several rounds,
//! and the table shows each one's median ns per call and its ratio to `AsyncCache::get`.
//!
//! * `#[async_cache(maxsize = 125_000)] async fn memo(key: u64) -> u64`, the cache pre-filled, so every call is a
//!   hit. Its cache is `memo::cache()`, keyed by `(u64,)`; the direct variants use that same cache and key.
//! * Variants: `memo(k).await`; `memo::cache().get(&(k,))`; `memo::cache().get_or_load((k,), ..).await`; and,
//!   as an outside reference, a `cached` `#[cached]` async fn (`cached` crate) with the same keys.
//! * Access: one hot key called repeatedly, then 100,000 keys in a fixed random order (one thread).
//! * The async variants run inside one `futures::executor::block_on` per timed batch (a hit never suspends).
//! * Also printed: the size of each future, which is what a `tokio::spawn` per call allocates and copies.
//!
//! Run: `cargo bench -p cache-benches --bench macro_hit` (`BENCH_QUICK=1` for fewer rounds).

use std::hint::black_box;
use std::time::{Duration, Instant};

use cache_benches::{access_pattern, quick, u64_key, Table};
use cache_core::async_cache;
use futures::executor::block_on;

const N: usize = 100_000;

/// The memoized function under test.
#[async_cache(maxsize = 125_000)]
async fn memo(key: u64) -> u64 {
    key ^ 1
}

#[cached::macros::cached(max_size = 125_000)]
async fn cached_memo(key: u64) -> u64 {
    key ^ 1
}

type Variant<'a> = (&'static str, Box<dyn Fn(&[u64]) -> u64 + 'a>);

fn variants<'a>() -> Vec<Variant<'a>> {
    vec![
        (
            "AsyncCache::get(&(k,))",
            Box::new(|keys: &[u64]| {
                let cache = memo::cache();
                keys.iter().fold(0u64, |sum, &k| {
                    sum.wrapping_add(cache.get(&(black_box(k),)).unwrap_or(0))
                })
            }),
        ),
        (
            "#[async_cache] memo(k).await",
            Box::new(|keys: &[u64]| {
                block_on(async {
                    let mut sum = 0u64;
                    for &k in keys {
                        sum = sum.wrapping_add(memo(black_box(k)).await);
                    }
                    sum
                })
            }),
        ),
        (
            "AsyncCache::get_or_load((k,), ..).await",
            Box::new(|keys: &[u64]| {
                let cache = memo::cache();
                block_on(async {
                    let mut sum = 0u64;
                    for &k in keys {
                        let v = cache
                            .get_or_load((black_box(k),), async { unreachable!() })
                            .await;
                        sum = sum.wrapping_add(v);
                    }
                    sum
                })
            }),
        ),
        (
            "cached #[cached] cached_memo(k).await (reference)",
            Box::new(|keys: &[u64]| {
                block_on(async {
                    let mut sum = 0u64;
                    for &k in keys {
                        sum = sum.wrapping_add(cached_memo(black_box(k)).await);
                    }
                    sum
                })
            }),
        ),
    ]
}

/// Times every variant over `keys`, alternating, `rounds` times; returns each round's ns per call of each variant
/// (`[variant][round]`).
fn measure(variants: &[Variant<'_>], keys: &[u64], rounds: usize) -> Vec<Vec<f64>> {
    let expected: u64 = keys.iter().fold(0u64, |s, &k| s.wrapping_add(k ^ 1));
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for round in 0..=rounds {
        for (i, (name, run)) in variants.iter().enumerate() {
            let start = Instant::now();
            let sum = black_box(run(keys));
            let took = start.elapsed();
            assert_eq!(
                sum, expected,
                "{name}: a call missed or returned a wrong value"
            );
            // Round 0 is a warm-up.
            if round > 0 {
                #[allow(clippy::cast_precision_loss)]
                times[i].push(took.as_secs_f64() * 1e9 / keys.len() as f64);
            }
        }
    }
    times
}

fn median_f64(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// "median (min-max)" of `variant`'s per-round ratio to variant 0 (`AsyncCache::get`) in the same round.
fn ratio_cell(times: &[Vec<f64>], variant: usize) -> String {
    let ratios: Vec<f64> = times[variant]
        .iter()
        .zip(&times[0])
        .map(|(t, get)| t / get)
        .collect();
    let min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let max = ratios.iter().copied().fold(0.0, f64::max);
    format!("{:.2}× ({min:.2}-{max:.2})", median_f64(&ratios))
}

fn main() {
    let rounds = if quick() { 5 } else { 21 };
    let keys: Vec<u64> = (0..N).map(u64_key).collect();
    block_on(async {
        for &k in &keys {
            assert_eq!(memo(k).await, k ^ 1);
            cached_memo(k).await;
        }
    });
    assert_eq!(memo::cache().len(), N, "every key is cached");

    let hot: Vec<u64> = vec![keys[0]; 1 << 18];
    let pattern: Vec<u64> = access_pattern(N, 1 << 18, 0x5EED_0003)
        .into_iter()
        .map(|i| keys[i as usize])
        .collect();

    let variants = variants();
    let one_key = measure(&variants, &hot, rounds);
    let spread = measure(&variants, &pattern, rounds);

    println!(
        "One thread; {} calls per batch, {rounds} rounds; ns/call = median of the rounds; ratio = median of the \
         per-round ratios to AsyncCache::get in the same round (min-max over the rounds)\n",
        hot.len()
    );
    let mut table = Table::new(&[
        "variant",
        "one hot key: ns/call",
        "ratio",
        "100k keys, random: ns/call",
        "ratio",
    ]);
    for (i, (name, _)) in variants.iter().enumerate() {
        table.row(vec![
            (*name).to_string(),
            format!("{:.1}", median_f64(&one_key[i])),
            ratio_cell(&one_key, i),
            format!("{:.1}", median_f64(&spread[i])),
            ratio_cell(&spread, i),
        ]);
    }
    println!("{}", table.render());

    let cache = memo::cache();
    let mut sizes = Table::new(&["future", "bytes"]);
    sizes.row(vec![
        "memo(k) (#[async_cache], body `key ^ 1`)".into(),
        std::mem::size_of_val(&memo(1)).to_string(),
    ]);
    sizes.row(vec![
        "get_or_load((k,), async { k ^ 1 })".into(),
        std::mem::size_of_val(&cache.get_or_load((1,), async { black_box(1u64) ^ 1 })).to_string(),
    ]);
    let loader = async {
        tokio::time::sleep(Duration::from_millis(1)).await;
        1u64
    };
    let loader_size = std::mem::size_of_val(&loader);
    sizes.row(vec![
        format!("get_or_load((k,), <a loader future of {loader_size} bytes: a tokio sleep>)"),
        std::mem::size_of_val(&cache.get_or_load((1,), loader)).to_string(),
    ]);
    sizes.row(vec![
        "cached_memo(k) (cached #[cached])".into(),
        std::mem::size_of_val(&cached_memo(1)).to_string(),
    ]);
    println!("{}", sizes.render());
}
