//! A microbenchmark of the replay of hits (`touch_many`) on a full shard, TinyLFU against LRU, for profiling the
//! policies' share of the hit path (`cargo test --release -p cache-core --lib replay_speed -- --ignored
//! --nocapture`). Not a test: it asserts only that every measured key stays present.

use std::collections::HashMap;

use super::{AnyPolicy, EvictionPolicy, Meta};

/// A store in miniature: keys to dense slots, evicting as the store does.
struct Sim {
    p: AnyPolicy,
    slots: Vec<Meta>,
    slot_of: HashMap<u64, u32>,
    key_of: Vec<u64>,
    capacity: usize,
    ordered: bool,
    /// Mixed into every key's hash (a cache's hasher seed).
    seed: u64,
}

impl Sim {
    fn new(kind: crate::Policy, capacity: usize, shards: usize) -> Self {
        Self {
            p: AnyPolicy::new(kind, capacity, None, shards),
            slots: Vec::new(),
            slot_of: HashMap::new(),
            key_of: Vec::new(),
            capacity,
            ordered: false,
            seed: std::env::var("REPLAY_SEED")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0x5555),
        }
    }

    fn access(&mut self, key: u64) -> bool {
        if let Some(&i) = self.slot_of.get(&key) {
            self.p.touch(&mut self.slots, i);
            return true;
        }
        if self.key_of.len() == self.capacity {
            if !self.ordered {
                self.p.order(&mut self.slots, self.key_of.len());
                self.ordered = true;
            }
            let v = self.p.victim(&mut self.slots).unwrap();
            self.p.remove(&mut self.slots, v);
            self.slots.swap_remove(v as usize);
            self.slot_of.remove(&self.key_of[v as usize]);
            self.key_of.swap_remove(v as usize);
            let last = u32::try_from(self.slots.len()).unwrap();
            if v != last {
                self.p.relocate(&mut self.slots, last, v);
                self.slot_of.insert(self.key_of[v as usize], v);
            }
        }
        let idx = u32::try_from(self.slots.len()).unwrap();
        self.slots.push(Meta::default());
        self.p.insert(
            &mut self.slots,
            idx,
            (key ^ self.seed).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        self.slot_of.insert(key, idx);
        self.key_of.push(key);
        false
    }
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A full shard of `capacity` whose `n` measured keys are all present, and a uniformly random pattern of
/// their slots.
fn full(kind: crate::Policy, capacity: usize, n: usize, shards: usize) -> (Sim, Vec<u32>) {
    let mut sim = Sim::new(kind, capacity, shards);
    for k in 0..capacity as u64 {
        sim.access(1_000_000 + k);
    }
    // As the hit_alt bench fills its "full" subjects: every key inserted, then the missing ones again (a `get`
    // that misses and an insert) until a pass finds them all; a present key is only peeked at.
    for k in 0..n as u64 {
        sim.access(k);
    }
    // `REPLAY_TRACE=1`: each round's count of keys found missing, and a TinyLFU shard's lists after it (how a
    // shard comes to end window-wide: docs/design/eviction-policy.md, *Known limits*, *The hit path's remaining cost*).
    let trace = std::env::var_os("REPLAY_TRACE").is_some();
    for round in 1..=64 {
        let mut missing = 0;
        for k in 0..n as u64 {
            if !sim.slot_of.contains_key(&k) {
                sim.access(k);
                missing += 1;
            }
        }
        if trace {
            if let AnyPolicy::TinyLfu(p) = &sim.p {
                eprintln!(
                    "  round {round}: {missing} missing; after it {}",
                    p.summary()
                );
            }
        }
        if missing == 0 {
            break;
        }
    }
    let slots: Vec<u32> = (0..n as u64).map(|k| sim.slot_of[&k]).collect();
    let mut rng = 7u64;
    let pattern: Vec<u32> = (0..1 << 19)
        .map(|_| slots[(splitmix(&mut rng) % n as u64) as usize])
        .collect();
    (sim, pattern)
}

/// ns per replayed hit, one pass over the pattern in buffers of 1,024 (as a stripe replays).
fn replay(sim: &mut Sim, pattern: &[u32]) -> f64 {
    let t = std::time::Instant::now();
    for chunk in pattern.chunks(1_024) {
        sim.p.touch_many(&mut sim.slots, chunk);
    }
    #[allow(clippy::cast_precision_loss)]
    let ns = t.elapsed().as_nanos() as f64 / pattern.len() as f64;
    ns
}

#[test]
#[ignore = "a microbenchmark: run with --release --ignored --nocapture"]
fn replay_speed() {
    // One shard of each hit_alt scenario on 2 cores: 100,000 keys in 125,000 (8 shards of 15,625), 1,000 in 1,250
    // (2 shards of 625: the builder keeps at least 512 entries a shard), 100 in 200 (one shard). Until
    // 2026-12-03's fourth session the middle one was one shard of 1,250, which hit_alt never had.
    // `REPLAY_ONLY=<capacity>` runs one of the three shards, `REPLAY_TIME=lru` or `tinylfu` replays only that
    // policy's (for `perf stat`: the difference between two round counts is then that policy's replays).
    let only: Option<usize> = std::env::var("REPLAY_ONLY")
        .ok()
        .and_then(|v| v.parse().ok());
    let time = std::env::var("REPLAY_TIME").unwrap_or_default();
    for (capacity, n, shards) in [(15_625, 12_500, 8), (625, 500, 2), (200, 100, 1)] {
        if only.is_some_and(|c| c != capacity) {
            continue;
        }
        // `REPLAY_KEYS=<n>` measures n keys instead (with `REPLAY_ONLY`): a shard of a hit_alt cache holds its
        // share of the keys give or take a few (the hash decides), and over window + protected (1 % + 79.2 % of
        // the shard) the surplus cycles between probation and protected.
        let n = std::env::var("REPLAY_KEYS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|_| only.is_some())
            .unwrap_or(n);
        let (mut lru, pattern) = full(crate::Policy::Lru, capacity, n, shards);
        let (mut tiny, tiny_pattern) = full(crate::Policy::TinyLfu, capacity, n, shards);
        let (mut l, mut t, mut ratios) = (f64::INFINITY, f64::INFINITY, Vec::new());
        let rounds = std::env::var("REPLAY_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(25);
        for _ in 0..rounds {
            let a = if time != "tinylfu" {
                replay(&mut lru, &pattern)
            } else {
                1.0
            };
            let b = if time != "lru" {
                replay(&mut tiny, &tiny_pattern)
            } else {
                1.0
            };
            l = l.min(a);
            t = t.min(b);
            ratios.push(b / a);
        }
        ratios.sort_by(f64::total_cmp);
        if time.is_empty() {
            eprintln!(
                "capacity {capacity}, {n} keys: LRU {l:.2} ns/hit, TinyLFU {t:.2} ns/hit (min) ratio of mins \
                 {:.2}x, median per-round ratio {:.2}x",
                t / l,
                ratios[ratios.len() / 2]
            );
        } else {
            eprintln!("capacity {capacity}, {n} keys: only {time} replayed (no times: for perf or cachegrind)");
        }
        if let AnyPolicy::TinyLfu(p) = &tiny.p {
            eprintln!("  TinyLFU after: {}", p.summary());
        }
        for k in 0..n as u64 {
            assert!(lru.slot_of.contains_key(&k) && tiny.slot_of.contains_key(&k));
        }
    }
}
