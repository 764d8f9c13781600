//! Helpers shared by the benchmarks in `benches/benches/`: key sets, fixed pseudo-random access patterns,
//! a quick mode for smoke runs, and markdown tables for the reports of the non-criterion benches; for the
//! hit-ratio bench, synthetic request traces ([`traces`]), the offline optimum ([`belady`])
//! and the report ([`hit_report`]), a reference S3-FIFO measured beside the policies ([`s3fifo`]), and recorded
//! traces read from files ([`trace_file`]).
//!
//! The benchmarks themselves are described in `docs/benchmarks.md`. Run them all with
//! `cargo bench -p cache-benches`, or one with `cargo bench -p cache-benches --bench <name>`.

pub mod belady;
pub mod hit_report;
pub mod machine;
pub mod s3fifo;
pub mod trace_file;
pub mod traces;

use std::fmt::Write as _;
use std::time::Duration;

/// Whether the bench should run a shortened version: `BENCH_QUICK` is set to anything but `0` or empty, or
/// `--quick` is among the arguments (as criterion accepts it too).
#[must_use]
pub fn quick() -> bool {
    let env = std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    env || std::env::args().any(|a| a == "--quick")
}

/// The SplitMix64 generator: tiny, fast and fully determined by its seed, for access patterns that must be
/// the same in every run and for every cache.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A pseudo-random index in `0..n` (`n > 0`), by multiply-shift (no modulo bias worth mentioning here).
    pub fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        #[allow(clippy::cast_possible_truncation)]
        let i = ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as usize;
        i
    }
}

/// `len` indices drawn uniformly from `0..n_keys` with a fixed seed: a random-but-fixed access pattern.
#[must_use]
pub fn access_pattern(n_keys: usize, len: usize, seed: u64) -> Vec<u32> {
    assert!(n_keys > 0 && u32::try_from(n_keys).is_ok());
    let mut rng = SplitMix64::new(seed);
    (0..len)
        .map(|_| u32::try_from(rng.below(n_keys)).expect("n_keys fits u32"))
        .collect()
}

/// The `i`-th `u64` key: the integers scrambled, so keys are not a dense range (which some hashers love).
#[must_use]
pub fn u64_key(i: usize) -> u64 {
    SplitMix64::new(i as u64).next_u64()
}

/// The `i`-th string key, exactly 16 bytes long (`k` and 15 digits).
#[must_use]
pub fn string_key(i: usize) -> String {
    let s = format!("k{i:015}");
    debug_assert_eq!(s.len(), 16);
    s
}

/// The median of some durations (the lower middle one for an even count); zero for none.
#[must_use]
pub fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or_default()
}

/// A duration in milliseconds with two decimals, e.g. `12.34 ms`.
#[must_use]
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// A markdown table built row by row and printed at the end.
#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names.
    #[must_use]
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(ToString::to_string).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; it must have one cell per column.
    pub fn row(&mut self, cells: Vec<String>) {
        assert_eq!(cells.len(), self.header.len(), "one cell per column");
        self.rows.push(cells);
    }

    /// The table as GitHub-flavoured markdown, columns padded for reading in a terminal.
    #[must_use]
    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| r[c].len())
                    .chain([self.header[c].len(), 3])
                    .max()
                    .unwrap_or(3)
            })
            .collect();
        let line = |cells: &[String]| {
            let mut s = String::from("|");
            for (cell, w) in cells.iter().zip(&widths) {
                let _ = write!(s, " {cell:<w$} |");
            }
            s.push('\n');
            s
        };
        let mut out = line(&self.header);
        out.push('|');
        for w in &widths {
            let _ = write!(out, " {} |", "-".repeat(*w));
        }
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
        }
        out
    }
}

/// Runs `work(thread_index)` on `threads` threads released together by a barrier (on the calling thread when
/// `threads` is 1); returns the slowest thread's time.
pub fn timed_on_threads<F>(threads: usize, work: F) -> std::time::Duration
where
    F: Fn(usize) + Sync,
{
    if threads == 1 {
        let start = std::time::Instant::now();
        work(0);
        return start.elapsed();
    }
    let barrier = std::sync::Barrier::new(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (barrier, work) = (&barrier, &work);
                s.spawn(move || {
                    barrier.wait();
                    let start = std::time::Instant::now();
                    work(t);
                    start.elapsed()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread panicked"))
            .max()
            .unwrap_or_default()
    })
}

/// The cache-core subject of the hit-path benches: `capacity` entries, `policy`, and a default TTL if given.
pub fn cache_core<K>(
    capacity: usize,
    policy: cache_core::Policy,
    ttl: Option<std::time::Duration>,
) -> cache_core::AsyncCache<K, u64>
where
    K: std::hash::Hash + Eq + Clone + Send + Sync + 'static,
{
    let b = cache_core::AsyncCache::builder()
        .maxsize(capacity)
        .policy(policy);
    let b = match ttl {
        Some(ttl) => b.ttl(ttl),
        None => b,
    };
    b.build().expect("valid settings")
}
