//! Memory overhead per entry, for `cache_core::AsyncCache` and its peers in the same run.
//!
//! Not a timing benchmark: a plain `main` (`harness = false`) with a counting global allocator. For each cache:
//! record the live heap bytes, build a cache of capacity 1,000,000 and insert 1,000,000 distinct `u64` keys with
//! `u64` values, then report
//!
//! * **overhead/entry** = (live bytes after the fill − live bytes before) / entries held − 16, the bytes each
//!   entry costs beyond its own key and value;
//! * **peak/entry** = the same with the peak live bytes during the fill (growth of tables and slabs);
//! * **left after drop**: live bytes once the cache is dropped, minus the baseline (should be 0).
//!
//! Rows marked "2x the keys" insert 2,000,000 distinct keys instead (every shard evicts, so side tables that a
//! policy allocates at a shard's first eviction, TinyLFU's ghosts, are counted: its steady state).
//!
//! "entries held" is what the cache reports holding after the fill: sharded caches split the capacity into
//! equal shares per shard, so a shard that receives more than its share of keys evicts a few.
//!
//! The allocator counts every thread's allocations, so the numbers are only right while nothing else runs:
//! each cache is measured alone, one after the other.
//!
//! Run: `cargo bench -p cache-benches --bench memory` (`BENCH_QUICK=1` fills 100,000 entries instead).

// A global allocator has to `unsafe impl GlobalAlloc`; the rest of the workspace denies unsafe code.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_benches::{quick, u64_key, Table};
use cache_core::AsyncCache;

/// Forwards every call to [`System`] unchanged and keeps count of the live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    fn grew(by: usize) {
        let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }

    fn shrank(by: usize) {
        LIVE.fetch_sub(by, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged and returns its result
// unchanged, so `System`'s guarantees carry over; the only addition is relaxed atomic bookkeeping of sizes,
// which neither allocates nor touches the memory. The bookkeeping of a failed (null) allocation is skipped.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            Self::grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            Self::grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` was allocated by `System` through this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        Self::shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::realloc`'s contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            Self::shrank(layout.size());
            Self::grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Bytes of one entry's own key and value (`u64`, `u64`).
const PAYLOAD: f64 = 16.0;

struct Measured {
    name: &'static str,
    held: usize,
    bytes: usize,
    peak: usize,
    left: isize,
}

/// Measures one cache: `build` makes it, `fill` inserts the `n` keys and returns how many entries it holds.
fn measure<C>(
    name: &'static str,
    n: usize,
    build: impl FnOnce() -> C,
    fill: impl FnOnce(&C, usize) -> usize,
) -> Measured {
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let cache = build();
    let held = fill(&cache, n);
    let after = LIVE.load(Ordering::SeqCst);
    let peak = PEAK.load(Ordering::SeqCst);
    drop(cache);
    let left = LIVE.load(Ordering::SeqCst);
    #[allow(clippy::cast_possible_wrap)]
    Measured {
        name,
        held,
        bytes: after - before,
        peak: peak - before,
        left: left as isize - before as isize,
    }
}

/// Builds a default-shards cache-core cache of `n` entries under `policy`.
fn ours(policy: cache_core::Policy, n: usize) -> impl FnOnce() -> AsyncCache<u64, u64> {
    move || {
        AsyncCache::<u64, u64>::builder()
            .maxsize(n)
            .policy(policy)
            .build()
            .expect("valid settings")
    }
}

/// Inserts every key of `keys` (as its own value) into a cache-core cache; returns the entries it holds.
fn fill_ours(keys: &[u64]) -> impl FnOnce(&AsyncCache<u64, u64>, usize) -> usize + '_ {
    move |c, _| {
        keys.iter().for_each(|&k| c.insert(k, k));
        c.len()
    }
}

fn per_entry(bytes: usize, held: usize) -> String {
    #[allow(clippy::cast_precision_loss)]
    let each = bytes as f64 / held.max(1) as f64;
    format!("{:.1}", each - PAYLOAD)
}

fn main() {
    let n = if quick() { 100_000 } else { 1_000_000 };
    let keys: Vec<u64> = (0..n).map(u64_key).collect();
    let keys = &keys;
    // Twice as many keys: every shard has evicted by the end, so policies that allocate side tables at a
    // shard's first eviction (TinyLFU's ghosts and saturation bits) are measured in their steady state.
    let twice: Vec<u64> = (0..2 * n).map(u64_key).collect();
    let twice = &twice;

    let results = vec![
        measure(
            "cache-core AsyncCache (LRU, default shards)",
            n,
            || AsyncCache::<u64, u64>::new(n),
            |c, _| {
                keys.iter().for_each(|&k| c.insert(k, k));
                c.len()
            },
        ),
        measure(
            "cache-core AsyncCache (LFU, default shards)",
            n,
            ours(cache_core::Policy::Lfu, n),
            fill_ours(keys),
        ),
        measure(
            "cache-core AsyncCache (TinyLFU, default shards)",
            n,
            ours(cache_core::Policy::TinyLfu, n),
            fill_ours(keys),
        ),
        measure(
            "cache-core AsyncCache (TinyLFU, default shards), 2x the keys",
            n,
            ours(cache_core::Policy::TinyLfu, n),
            fill_ours(twice),
        ),
        measure(
            "cache-core AsyncCache (LRU, shards(1))",
            n,
            || {
                AsyncCache::<u64, u64>::builder()
                    .maxsize(n)
                    .shards(1)
                    .build()
                    .expect("valid settings")
            },
            |c, _| {
                keys.iter().for_each(|&k| c.insert(k, k));
                c.len()
            },
        ),
        measure(
            "moka::sync::Cache",
            n,
            || moka::sync::Cache::<u64, u64>::new(n as u64),
            |c, _| {
                keys.iter().for_each(|&k| c.insert(k, k));
                c.run_pending_tasks();
                usize::try_from(c.entry_count()).expect("fits")
            },
        ),
        measure(
            "quick_cache::sync::Cache",
            n,
            || quick_cache::sync::Cache::<u64, u64>::new(n),
            |c, _| {
                keys.iter().for_each(|&k| c.insert(k, k));
                c.len()
            },
        ),
        measure(
            "quick_cache::sync::Cache, 2x the keys",
            n,
            || quick_cache::sync::Cache::<u64, u64>::new(n),
            |c, _| {
                twice.iter().for_each(|&k| c.insert(k, k));
                c.len()
            },
        ),
        measure(
            "lru::LruCache (in a Mutex)",
            n,
            || {
                parking_lot::Mutex::new(lru::LruCache::<u64, u64>::new(
                    NonZeroUsize::new(n).expect("non-zero"),
                ))
            },
            |c, _| {
                let mut c = c.lock();
                keys.iter().for_each(|&k| {
                    c.put(k, k);
                });
                c.len()
            },
        ),
    ];

    println!("{n} distinct u64 keys with u64 values inserted into a cache of capacity {n}\n");
    let mut table = Table::new(&[
        "cache",
        "entries held",
        "MiB after fill",
        "overhead B/entry",
        "peak overhead B/entry",
        "bytes left after drop",
    ]);
    for m in &results {
        #[allow(clippy::cast_precision_loss)]
        let mib = m.bytes as f64 / (1024.0 * 1024.0);
        table.row(vec![
            m.name.to_string(),
            m.held.to_string(),
            format!("{mib:.1}"),
            per_entry(m.bytes, m.held),
            per_entry(m.peak, m.held),
            m.left.to_string(),
        ]);
    }
    println!("{}", table.render());
}
