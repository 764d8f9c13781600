//! Synthetic request traces for the hit-ratio bench (`benches/benches/hit_ratio.rs`).
//!
//! Every trace is a `Vec<u64>` of keys, generated from a seed by [`SplitMix64`] and a table-driven Zipf sampler
//! written here (no `rand` version can change a trace). Nothing is downloaded: the traces named after real
//! workload families (`block-io`, `web-cdn`, `database`, `recommend`) are **synthetic stand-ins** shaped like
//! those families (loops and scans, one-hit wonders, periodic table scans, drifting popularity), not replays
//! of recorded traffic.
//!
//! Sizes follow a [`Scale`]: `unit` ids play the part of "1M ids", and each trace has `requests` requests. The
//! full run uses 1,000,000 and 2,000,000; the quick run a tenth of both, so every trace keeps its shape.
//!
//! Key spaces: the parts of one trace that must not share keys (a hot set and its scans, before and after a
//! phase change) draw from different regions, `region * 2^40 + i`.

use crate::SplitMix64;

/// How large the traces are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// The id count that plays "1M ids"; capacities are fractions of it.
    pub unit: usize,
    /// Requests per trace.
    pub requests: usize,
}

impl Scale {
    /// The full run: 1,000,000 ids, 2,000,000 requests per trace.
    pub const FULL: Self = Self {
        unit: 1_000_000,
        requests: 2_000_000,
    };
    /// The quick run (`BENCH_QUICK=1`): a tenth of the full one in both.
    pub const QUICK: Self = Self {
        unit: 100_000,
        requests: 200_000,
    };
}

/// One synthetic workload: how to generate it and the two capacities it is measured at.
#[derive(Debug, Clone, Copy)]
pub struct TraceSpec {
    /// Short name, used in tables, in the CSV and by the `HIT_RATIO_TRACES` filter.
    pub name: &'static str,
    /// One line on what it is and what it rewards.
    pub about: &'static str,
    /// The capacities measured, as divisors of [`Scale::unit`] (100 means 1 % of the unit).
    pub capacity_divisors: [usize; 2],
    generate: fn(Scale, &mut SplitMix64) -> Vec<u64>,
}

impl TraceSpec {
    /// The trace's keys at `scale`, from `seed`: the same for the same arguments.
    #[must_use]
    pub fn generate(&self, scale: Scale, seed: u64) -> Vec<u64> {
        // Each trace gets its own stream, so adding or reordering traces changes none of the others.
        let name_hash = self.name.bytes().fold(0xCBF2_9CE4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
        });
        let mut rng = SplitMix64::new(seed ^ name_hash);
        let keys = (self.generate)(scale, &mut rng);
        debug_assert_eq!(keys.len(), scale.requests);
        keys
    }

    /// The two capacities at `scale`.
    #[must_use]
    pub fn capacities(&self, scale: Scale) -> [usize; 2] {
        self.capacity_divisors.map(|d| scale.unit / d)
    }
}

/// Every trace of the bench, in the order the tables print them.
#[must_use]
pub fn all() -> Vec<TraceSpec> {
    vec![
        TraceSpec {
            name: "zipf-0.8",
            about: "Zipf s = 0.8 over 1M ids: mild skew, stationary",
            capacity_divisors: [100, 10],
            generate: |s, r| zipf(s, r, 0.8),
        },
        TraceSpec {
            name: "zipf-1.0",
            about: "Zipf s = 1.0 over 1M ids, stationary",
            capacity_divisors: [100, 10],
            generate: |s, r| zipf(s, r, 1.0),
        },
        TraceSpec {
            name: "zipf-1.2",
            about: "Zipf s = 1.2 over 1M ids: strong skew, stationary",
            capacity_divisors: [100, 10],
            generate: |s, r| zipf(s, r, 1.2),
        },
        TraceSpec {
            name: "scan-hot",
            about: "a hot set (Zipf 1.0 over 100k ids) for 200k requests, then a one-time scan of 100k new ids, repeated",
            capacity_divisors: [100, 20],
            generate: scan_hot,
        },
        TraceSpec {
            name: "loop",
            about: "a loop over 120k ids: 1.2x the larger capacity, 2.4x the smaller",
            capacity_divisors: [20, 10],
            generate: looping,
        },
        TraceSpec {
            name: "phase",
            about: "Zipf 1.0 over 1M ids; halfway, the popularity moves to 1M other ids (frequencies must age)",
            capacity_divisors: [100, 10],
            generate: phase,
        },
        TraceSpec {
            name: "sliding",
            about: "a sliding working set: new ids keep arriving, the newest are the likeliest (recency wins)",
            capacity_divisors: [100, 40],
            generate: sliding,
        },
        TraceSpec {
            name: "block-io",
            about: "stand-in for block I/O: runs of 64 from two loops (125k, 31k ids), one-time scans and Zipf 0.8",
            capacity_divisors: [100, 10],
            generate: block_io,
        },
        TraceSpec {
            name: "web-cdn",
            about: "stand-in for a web/CDN cache: Zipf 0.9 over 1M ids, 30 % of requests one-hit wonders",
            capacity_divisors: [100, 10],
            generate: web_cdn,
        },
        TraceSpec {
            name: "database",
            about: "stand-in for a database: Zipf 1.0 over 500k rows, every 250k requests a scan of one 100k-row table",
            capacity_divisors: [100, 10],
            generate: database,
        },
        TraceSpec {
            name: "recommend",
            about: "stand-in for recommendations: half a Zipf 0.7 long tail, half a 20k-item trending set that shifts",
            capacity_divisors: [100, 10],
            generate: recommend,
        },
        TraceSpec {
            name: "zigzag",
            about: "runs of 5k-100k new ids read forward then backward (each id twice), 20 % hot Zipf requests",
            capacity_divisors: [100, 20],
            generate: zigzag,
        },
    ]
}

/// The spec called `name`, if there is one.
#[must_use]
pub fn by_name(name: &str) -> Option<TraceSpec> {
    all().into_iter().find(|t| t.name == name)
}

/// A Zipf distribution over ranks `0..n` (0 the most popular): rank `r` has weight `1 / (r + 1)^s`. Sampled by
/// a binary search in the cumulative weights: simple enough to be obviously right, and fast enough here.
#[derive(Debug, Clone)]
pub struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    /// The distribution over `n > 0` ranks with exponent `s >= 0`.
    #[must_use]
    pub fn new(n: usize, s: f64) -> Self {
        assert!(n > 0 && s >= 0.0, "Zipf over {n} ranks with exponent {s}");
        let mut total = 0.0;
        #[allow(clippy::cast_precision_loss)]
        let cumulative = (1..=n)
            .map(|k| {
                total += (k as f64).powf(-s);
                total
            })
            .collect();
        Self { cumulative }
    }

    /// One rank.
    pub fn sample(&self, rng: &mut SplitMix64) -> usize {
        let total = *self.cumulative.last().expect("n > 0");
        let u = unit_f64(rng) * total;
        self.cumulative
            .partition_point(|&c| c <= u)
            .min(self.cumulative.len() - 1)
    }

    /// The probability of rank `r`.
    #[must_use]
    pub fn probability(&self, r: usize) -> f64 {
        let total = *self.cumulative.last().expect("n > 0");
        let below = if r == 0 { 0.0 } else { self.cumulative[r - 1] };
        (self.cumulative[r] - below) / total
    }
}

/// A uniform `f64` in `[0, 1)`.
pub fn unit_f64(rng: &mut SplitMix64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let u = (rng.next_u64() >> 11) as f64;
    u * (1.0 / (1_u64 << 53) as f64)
}

const REGION: u64 = 1 << 40;

/// Key `i` of key region `region`.
fn key(region: u64, i: usize) -> u64 {
    region * REGION + i as u64
}

fn zipf(scale: Scale, rng: &mut SplitMix64, s: f64) -> Vec<u64> {
    let z = Zipf::new(scale.unit, s);
    (0..scale.requests).map(|_| key(0, z.sample(rng))).collect()
}

fn scan_hot(scale: Scale, rng: &mut SplitMix64) -> Vec<u64> {
    let hot = Zipf::new(scale.unit / 10, 1.0);
    let (hot_run, scan_len) = (scale.unit / 5, scale.unit / 10);
    let mut out = Vec::with_capacity(scale.requests + hot_run + scan_len);
    let mut fresh = 0;
    while out.len() < scale.requests {
        out.extend((0..hot_run).map(|_| key(0, hot.sample(rng))));
        out.extend((fresh..fresh + scan_len).map(|i| key(1, i)));
        fresh += scan_len;
    }
    out.truncate(scale.requests);
    out
}

fn looping(scale: Scale, _rng: &mut SplitMix64) -> Vec<u64> {
    let len = scale.unit / 10 * 12 / 10;
    (0..scale.requests).map(|i| key(0, i % len)).collect()
}

fn phase(scale: Scale, rng: &mut SplitMix64) -> Vec<u64> {
    let z = Zipf::new(scale.unit, 1.0);
    let half = scale.requests / 2;
    (0..scale.requests)
        .map(|i| key(u64::from(i >= half), z.sample(rng)))
        .collect()
}

fn sliding(scale: Scale, rng: &mut SplitMix64) -> Vec<u64> {
    // The newest id advances by one every 4 requests; a request reads an id `age` behind it, where
    // `age = window * u^2` for a uniform `u`: the density of `age` falls with age, so the more recently an id
    // appeared the likelier its next read, which is the case LRU is optimal for among online policies.
    let window = scale.unit / 20;
    (0..scale.requests)
        .map(|i| {
            let newest = i / 4;
            let u = unit_f64(rng);
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let age = (window as f64 * u * u) as usize;
            key(0, newest.saturating_sub(age))
        })
        .collect()
}

fn block_io(scale: Scale, rng: &mut SplitMix64) -> Vec<u64> {
    const RUN: usize = 64;
    let (long_loop, short_loop) = (scale.unit / 8, scale.unit / 32);
    let random = Zipf::new(scale.unit / 2, 0.8);
    let (mut at_long, mut at_short, mut fresh) = (0, 0, 0);
    let mut out = Vec::with_capacity(scale.requests + RUN);
    while out.len() < scale.requests {
        let pick = unit_f64(rng);
        for _ in 0..RUN {
            let k = if pick < 0.30 {
                at_long += 1;
                key(1, at_long % long_loop)
            } else if pick < 0.50 {
                at_short += 1;
                key(2, at_short % short_loop)
            } else if pick < 0.75 {
                fresh += 1;
                key(3, fresh)
            } else {
                key(0, random.sample(rng))
            };
            out.push(k);
        }
    }
    out.truncate(scale.requests);
    out
}

fn web_cdn(scale: Scale, rng: &mut SplitMix64) -> Vec<u64> {
    let z = Zipf::new(scale.unit, 0.9);
    let mut fresh = 0;
    (0..scale.requests)
        .map(|_| {
            if unit_f64(rng) < 0.3 {
                fresh += 1;
                key(1, fresh)
            } else {
                key(0, z.sample(rng))
            }
        })
        .collect()
}

fn database(scale: Scale, rng: &mut SplitMix64) -> Vec<u64> {
    let rows = Zipf::new(scale.unit / 2, 1.0);
    let (period, table) = (scale.unit / 4, scale.unit / 10);
    let mut out = Vec::with_capacity(scale.requests + period + table);
    while out.len() < scale.requests {
        out.extend((0..period).map(|_| key(0, rows.sample(rng))));
        out.extend((0..table).map(|i| key(1, i)));
    }
    out.truncate(scale.requests);
    out
}

fn recommend(scale: Scale, rng: &mut SplitMix64) -> Vec<u64> {
    // Half the requests: a stable long tail. The other half: a trending set of `t` items whose popularity ranks
    // are reshuffled every epoch, while the set itself slides by half its size (half the items carry over).
    let tail = Zipf::new(scale.unit, 0.7);
    let t = scale.unit / 50;
    let trending = Zipf::new(t, 1.0);
    let epoch = scale.unit / 10;
    let mut shift = 0;
    (0..scale.requests)
        .map(|i| {
            if i % epoch == 0 {
                shift = rng.below(t);
            }
            if unit_f64(rng) < 0.5 {
                key(0, tail.sample(rng))
            } else {
                // 7919 is prime and t = 2^a 5^b, so `r -> r * 7919 + shift (mod t)` permutes the ranks.
                let slot = (trending.sample(rng) * 7919 + shift) % t;
                key(1, (i / epoch) * (t / 2) + slot)
            }
        })
        .collect()
}

fn zigzag(scale: Scale, rng: &mut SplitMix64) -> Vec<u64> {
    let hot = Zipf::new(scale.unit / 10, 1.0);
    let (shortest, longest) = (scale.unit / 200, scale.unit / 10);
    let mut out = Vec::with_capacity(scale.requests);
    let (mut base, mut run, mut step) = (0, 0, 0);
    while out.len() < scale.requests {
        if unit_f64(rng) < 0.2 {
            out.push(key(0, hot.sample(rng)));
            continue;
        }
        if step == 2 * run {
            base += run;
            run = shortest + rng.below(longest - shortest + 1);
            step = 0;
        }
        // Forward over `base..base + run`, then back down.
        let i = if step < run { step } else { 2 * run - 1 - step };
        out.push(key(1, base + i));
        step += 1;
    }
    out
}
