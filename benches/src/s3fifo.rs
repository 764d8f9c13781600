//! A single-threaded reference S3-FIFO, for the hit-ratio bench only (not a cache-core policy).
//!
//! Written from the published description (Yang et al., "FIFO queues are all you need for cache eviction",
//! SOSP 2023): a small FIFO `S` of 10 % of the capacity, a main FIFO `M` with the rest, and a ghost FIFO `G` of
//! keys only, holding as many keys as `M` may hold. Each cached key has a 2-bit use count, capped at 3, raised by
//! every hit.
//!
//! * **Insert** (a miss): into `M` if the key is in `G` (it is taken out of `G`), else into `S`; use count 0.
//! * **Evict** (the cache is full and a new key comes): from `S` if `S` holds at least its share or `M` is
//!   empty, else from `M`, repeated until one key has left the cache:
//!   * `S`'s oldest key moves to `M` (use count cleared) if its count is above the promotion threshold (the
//!     paper's rule: above 1; [`S3FifoConfig::promote_above`] makes it 0 for the variant "used at all"),
//!     else it leaves the cache and its key enters `G` (whose oldest key goes if `G` is over its size);
//!   * `M`'s oldest key goes back to `M`'s head with its count lowered by one if the count is above 0, else it
//!     leaves the cache.
//!
//! **Filling `M`** ([`S3FifoConfig::fill_main`]): while the cache is not yet full, a new key goes into `M` once
//! `S` holds its share (libCacheSim's later S3FIFO.c, and quick_cache); the paper's version puts every new key
//! into `S`.
//!
//! **Adaptive variant** ([`S3FifoConfig::adaptive`], the bench's own idea, not from the paper): keys evicted
//! from `M` are remembered too, in a second ghost FIFO of the same size, and `S`'s share moves as in ARC: a key
//! that comes back while in `S`'s ghost says a larger `S` would have hit it (the share grows), one that comes back
//! while in `M`'s ghost says a larger `M` would have (the share shrinks). A step is [`S3FifoConfig::step`] of the
//! capacity (at least one entry) times the ratio of the other ghost's length to this one's when that is larger
//! (ARC's rule: the rarer signal weighs more). The share stays within 1 %-90 % of the capacity. A key found in
//! either ghost is inserted into `M`.
//!
//! Decisions depend only on the order of requests (no hashing, no randomness): the same trace gives the same
//! hits in every run.

use std::collections::{HashMap, VecDeque};

/// How an [`S3Fifo`] decides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct S3FifoConfig {
    /// A key leaving `S` moves to `M` if its use count is above this: 1 in the paper's listing, 0 to promote any
    /// key used while in `S`.
    pub promote_above: u8,
    /// `S`'s share of the capacity, in percent (10 in the paper); the starting share when adaptive.
    pub small_pct: usize,
    /// Whether `S`'s share adapts to ghost hits (this bench's variant; see the module docs).
    pub adaptive: bool,
    /// The adaptive step, as a fraction of the capacity (at least one entry a step).
    pub step: f64,
    /// While the cache is not yet full, a new key goes into `M` once `S` holds its share (libCacheSim's later
    /// S3FIFO.c, and quick_cache), instead of into `S` (the paper's version).
    pub fill_main: bool,
}

impl S3FifoConfig {
    /// The paper's S3-FIFO: `S` 10 %, promotion of keys used more than once while in `S`, fixed shares.
    pub const PAPER: Self = Self {
        promote_above: 1,
        small_pct: 10,
        adaptive: false,
        step: 0.0,
        fill_main: false,
    };
    /// As [`Self::PAPER`], but a key used once while in `S` is promoted too.
    pub const ANY_USE: Self = Self {
        promote_above: 0,
        ..Self::PAPER
    };
    /// As [`Self::ANY_USE`], filling `M` once `S` holds its share while the cache is not full.
    pub const FILL_MAIN: Self = Self {
        fill_main: true,
        ..Self::ANY_USE
    };
    /// As [`Self::FILL_MAIN`], with `S`'s share adapted by ghost hits, steps of 1/1,000 of the capacity.
    pub const ADAPTIVE: Self = Self {
        adaptive: true,
        step: 0.001,
        ..Self::FILL_MAIN
    };
}

/// The most a use count reaches (2 bits).
const MAX_FREQ: u8 = 3;

#[derive(Debug, Clone, Copy)]
struct Meta {
    freq: u8,
    main: bool,
}

/// A FIFO of keys without values, holding at most `cap` keys; a key can be taken out from anywhere.
#[derive(Debug, Default)]
struct Ghost {
    /// Keys in insertion order, each with the sequence number it entered with (stale once taken out).
    order: VecDeque<(u64, u64)>,
    /// The keys in the ghost and their sequence numbers.
    live: HashMap<u64, u64>,
    next: u64,
    cap: usize,
}

impl Ghost {
    fn new(cap: usize) -> Self {
        Self {
            cap,
            ..Self::default()
        }
    }

    fn len(&self) -> usize {
        self.live.len()
    }

    fn contains(&self, key: u64) -> bool {
        self.live.contains_key(&key)
    }

    fn push(&mut self, key: u64) {
        if self.cap == 0 {
            return;
        }
        let seq = self.next;
        self.next += 1;
        self.live.insert(key, seq);
        self.order.push_back((key, seq));
        while self.live.len() > self.cap {
            let (old, old_seq) = self.order.pop_front().expect("every live key is queued");
            if self.live.get(&old) == Some(&old_seq) {
                self.live.remove(&old);
            }
        }
        // Keys taken out leave stale entries behind; drop them before they outnumber the live ones.
        if self.order.len() > 2 * self.cap + 64 {
            let live = &self.live;
            self.order.retain(|(k, s)| live.get(k) == Some(s));
        }
    }

    /// Whether `key` was in the ghost; it is not any more.
    fn take(&mut self, key: u64) -> bool {
        self.live.remove(&key).is_some()
    }
}

/// A single-threaded S3-FIFO cache of `u64` keys (no values: the bench only counts hits).
#[derive(Debug)]
pub struct S3Fifo {
    capacity: usize,
    config: S3FifoConfig,
    /// `S`'s share in entries (moves when adaptive).
    small_target: usize,
    small_min: usize,
    small_max: usize,
    map: HashMap<u64, Meta>,
    /// Oldest at the front.
    small: VecDeque<u64>,
    /// Oldest at the front.
    main: VecDeque<u64>,
    ghost: Ghost,
    /// Keys evicted from `M` (adaptive only).
    main_ghost: Ghost,
}

impl S3Fifo {
    /// An empty cache for at most `capacity` keys.
    #[must_use]
    pub fn new(capacity: usize, config: S3FifoConfig) -> Self {
        let small_target = (capacity * config.small_pct / 100).max(1);
        // As many keys as M holds; when S's share moves, as many as M holds at the paper's 10 %.
        let ghost_cap = if config.adaptive {
            capacity - capacity / 10
        } else {
            capacity.saturating_sub(small_target)
        };
        Self {
            capacity,
            config,
            small_target,
            small_min: (capacity / 100).max(1),
            small_max: (capacity * 9 / 10).max(1),
            map: HashMap::with_capacity(capacity),
            small: VecDeque::new(),
            main: VecDeque::new(),
            ghost: Ghost::new(ghost_cap),
            main_ghost: Ghost::new(if config.adaptive { ghost_cap } else { 0 }),
        }
    }

    /// One request: a hit raises the key's use count; a miss inserts the key. Returns whether it hit.
    pub fn access(&mut self, key: u64) -> bool {
        if let Some(meta) = self.map.get_mut(&key) {
            meta.freq = (meta.freq + 1).min(MAX_FREQ);
            return true;
        }
        self.insert(key);
        false
    }

    fn insert(&mut self, key: u64) {
        if self.capacity == 0 {
            return;
        }
        let small_ghost = self.ghost.take(key);
        let main_ghost = self.main_ghost.take(key);
        if self.config.adaptive {
            self.adapt(small_ghost, main_ghost);
        }
        let filling = self.config.fill_main
            && self.map.len() < self.capacity
            && self.small.len() >= self.small_target;
        while self.map.len() >= self.capacity {
            self.evict();
        }
        let main = small_ghost || main_ghost || filling;
        self.map.insert(key, Meta { freq: 0, main });
        if main {
            self.main.push_back(key);
        } else {
            self.small.push_back(key);
        }
    }

    fn adapt(&mut self, small_ghost: bool, main_ghost: bool) {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let step = ((self.capacity as f64 * self.config.step) as usize).max(1);
        let (s, m) = (self.ghost.len().max(1), self.main_ghost.len().max(1));
        if small_ghost {
            let step = step * (m / s).max(1);
            self.small_target = (self.small_target + step).min(self.small_max);
        } else if main_ghost {
            let step = step * (s / m).max(1);
            self.small_target = self.small_target.saturating_sub(step).max(self.small_min);
        }
    }

    /// Removes one key from the cache (moving others between the queues on the way).
    fn evict(&mut self) {
        loop {
            if self.small.len() >= self.small_target || self.main.is_empty() {
                let key = self
                    .small
                    .pop_front()
                    .expect("a full cache has a key in S or M");
                let meta = self.map.get_mut(&key).expect("queued keys are cached");
                if meta.freq > self.config.promote_above {
                    *meta = Meta {
                        freq: 0,
                        main: true,
                    };
                    self.main.push_back(key);
                    continue;
                }
                self.map.remove(&key);
                self.ghost.push(key);
                return;
            }
            let key = self.main.pop_front().expect("checked: M is not empty");
            let meta = self.map.get_mut(&key).expect("queued keys are cached");
            if meta.freq > 0 {
                meta.freq -= 1;
                self.main.push_back(key);
                continue;
            }
            self.map.remove(&key);
            self.main_ghost.push(key);
            return;
        }
    }

    /// Keys cached.
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no key is cached.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Whether `key` is cached (not a use).
    #[must_use]
    pub fn contains(&self, key: u64) -> bool {
        self.map.contains_key(&key)
    }

    /// Whether `key` is cached in `M`.
    #[must_use]
    pub fn in_main(&self, key: u64) -> bool {
        self.map.get(&key).is_some_and(|m| m.main)
    }

    /// Whether `key` is in `S`'s ghost.
    #[must_use]
    pub fn in_ghost(&self, key: u64) -> bool {
        self.ghost.contains(key)
    }

    /// Keys in `S` and in `M`.
    #[must_use]
    pub fn queue_lens(&self) -> (usize, usize) {
        (self.small.len(), self.main.len())
    }

    /// `S`'s share in entries (fixed unless adaptive).
    #[must_use]
    pub fn small_target(&self) -> usize {
        self.small_target
    }

    /// Keys in `S`'s ghost.
    #[must_use]
    pub fn ghost_len(&self) -> usize {
        self.ghost.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SplitMix64;

    /// The paper's listing, written as plainly as possible (linear searches in vectors): the reference model.
    struct Model {
        cap: usize,
        small_target: usize,
        ghost_cap: usize,
        promote_above: u8,
        fill_main: bool,
        /// (key, freq), oldest first.
        small: Vec<(u64, u8)>,
        main: Vec<(u64, u8)>,
        ghost: Vec<u64>,
    }

    impl Model {
        fn new(cap: usize, config: S3FifoConfig) -> Self {
            let small_target = (cap * config.small_pct / 100).max(1);
            Self {
                cap,
                small_target,
                ghost_cap: cap.saturating_sub(small_target),
                promote_above: config.promote_above,
                fill_main: config.fill_main,
                small: Vec::new(),
                main: Vec::new(),
                ghost: Vec::new(),
            }
        }

        fn access(&mut self, key: u64) -> bool {
            for q in [&mut self.small, &mut self.main] {
                if let Some(e) = q.iter_mut().find(|e| e.0 == key) {
                    e.1 = (e.1 + 1).min(3);
                    return true;
                }
            }
            if self.cap == 0 {
                return false;
            }
            let in_ghost = self.ghost.iter().position(|&g| g == key);
            if let Some(i) = in_ghost {
                self.ghost.remove(i);
            }
            let filling = self.fill_main
                && self.small.len() + self.main.len() < self.cap
                && self.small.len() >= self.small_target;
            while self.small.len() + self.main.len() >= self.cap {
                self.evict();
            }
            if in_ghost.is_some() || filling {
                self.main.push((key, 0));
            } else {
                self.small.push((key, 0));
            }
            false
        }

        fn evict(&mut self) {
            loop {
                if self.small.len() >= self.small_target || self.main.is_empty() {
                    let (k, f) = self.small.remove(0);
                    if f > self.promote_above {
                        self.main.push((k, 0));
                        continue;
                    }
                    if self.ghost_cap > 0 {
                        self.ghost.push(k);
                        if self.ghost.len() > self.ghost_cap {
                            self.ghost.remove(0);
                        }
                    }
                    return;
                }
                let (k, f) = self.main.remove(0);
                if f > 0 {
                    self.main.push((k, f - 1));
                    continue;
                }
                return;
            }
        }
    }

    fn skewed_trace(len: usize, keys: usize, seed: u64) -> Vec<u64> {
        let mut rng = SplitMix64::new(seed);
        (0..len)
            .map(|_| {
                // Half the requests on a small hot set, half spread wide: promotions, ghost hits and M's
                // reinsertions all happen.
                if rng.below(2) == 0 {
                    rng.below(keys / 8 + 1) as u64
                } else {
                    rng.below(keys) as u64
                }
            })
            .collect()
    }

    #[test]
    fn matches_the_plain_model_request_by_request() {
        for (round, config) in [
            S3FifoConfig::PAPER,
            S3FifoConfig::ANY_USE,
            S3FifoConfig::FILL_MAIN,
        ]
        .into_iter()
        .cycle()
        .take(48)
        .enumerate()
        {
            let cap = [0, 1, 2, 3, 7, 10, 25, 64][round % 8];
            let trace = skewed_trace(4_000, 3 * cap + 5, round as u64);
            let mut fast = S3Fifo::new(cap, config);
            let mut model = Model::new(cap, config);
            for (i, &k) in trace.iter().enumerate() {
                assert_eq!(
                    fast.access(k),
                    model.access(k),
                    "round {round} ({config:?}), capacity {cap}: request {i} (key {k})"
                );
                assert_eq!(fast.in_ghost(k), model.ghost.contains(&k));
            }
            assert_eq!(fast.ghost_len(), model.ghost.len());
            let (s, m) = fast.queue_lens();
            assert_eq!((s, m), (model.small.len(), model.main.len()));
        }
    }

    #[test]
    fn capacity_is_never_exceeded_and_the_queues_account_for_every_key() {
        for config in [
            S3FifoConfig::PAPER,
            S3FifoConfig::ANY_USE,
            S3FifoConfig::FILL_MAIN,
            S3FifoConfig::ADAPTIVE,
        ] {
            for cap in [1, 2, 10, 100] {
                let mut cache = S3Fifo::new(cap, config);
                for (i, k) in skewed_trace(20_000, 4 * cap, cap as u64)
                    .into_iter()
                    .enumerate()
                {
                    cache.access(k);
                    let (s, m) = cache.queue_lens();
                    assert!(
                        cache.len() <= cap,
                        "{config:?} cap {cap}: {} keys",
                        cache.len()
                    );
                    assert_eq!(s + m, cache.len(), "{config:?} cap {cap} at {i}");
                    assert!(cache.contains(k), "the key just requested is cached");
                    assert!(cache.ghost_len() <= cap);
                }
                assert_eq!(cache.len(), cap, "a trace over 4x the capacity fills it");
            }
        }
    }

    #[test]
    fn a_one_hit_wonder_scan_does_not_evict_a_key_used_often() {
        for config in [
            S3FifoConfig::PAPER,
            S3FifoConfig::ANY_USE,
            S3FifoConfig::FILL_MAIN,
            S3FifoConfig::ADAPTIVE,
        ] {
            let mut cache = S3Fifo::new(100, config);
            // Used three times (two hits): above the paper's threshold too.
            assert!(!cache.access(7));
            assert!(cache.access(7));
            assert!(cache.access(7));
            for k in 1_000..11_000 {
                assert!(!cache.access(k), "{config:?}: a scan key hit");
            }
            assert!(cache.in_main(7), "{config:?}: the used key moved to M");
            assert!(
                cache.access(7),
                "{config:?}: a scan of 100x the capacity evicted it"
            );
        }
    }

    #[test]
    fn the_promotion_threshold_is_the_papers_or_any_use() {
        // A key used once while in S (one hit) moves to M only with the "any use" rule.
        for (config, promoted) in [(S3FifoConfig::PAPER, false), (S3FifoConfig::ANY_USE, true)] {
            let mut cache = S3Fifo::new(10, config);
            cache.access(1);
            assert!(cache.access(1));
            // Ten new keys: the last one's insert evicts 1 from S.
            for k in 100..110 {
                cache.access(k);
            }
            assert_eq!(cache.in_main(1), promoted, "{config:?}");
            assert_eq!(cache.in_ghost(1), !promoted, "{config:?}");
        }
    }

    #[test]
    fn filling_sends_new_keys_to_main_once_small_holds_its_share() {
        let mut cache = S3Fifo::new(10, S3FifoConfig::FILL_MAIN);
        for k in 0..10 {
            cache.access(k);
        }
        assert_eq!(
            cache.queue_lens(),
            (1, 9),
            "S took its share (1), M the rest"
        );
        assert!(!cache.in_main(0) && (1..10).all(|k| cache.in_main(k)));
        // Full: a new key goes to S (evicting 0 from it), and M's keys stay.
        cache.access(10);
        assert_eq!(cache.queue_lens(), (1, 9));
        assert!(!cache.in_main(10) && cache.in_ghost(0));
        // The paper's version puts everything in S while filling.
        let mut paper = S3Fifo::new(10, S3FifoConfig::ANY_USE);
        for k in 0..10 {
            paper.access(k);
        }
        assert_eq!(paper.queue_lens(), (10, 0));
    }

    #[test]
    fn a_ghost_hit_goes_to_main() {
        let mut cache = S3Fifo::new(10, S3FifoConfig::PAPER);
        assert!(!cache.access(1));
        // Nine more keys fill the cache; the eleventh evicts 1, unused, from S into the ghost.
        for k in 2..=11 {
            assert!(!cache.access(k));
        }
        assert!(!cache.contains(1));
        assert!(cache.in_ghost(1));
        assert!(!cache.access(1), "a ghost is not a hit");
        assert!(cache.in_main(1), "a key back from the ghost goes to M");
        assert!(!cache.in_ghost(1), "and leaves the ghost");
        assert!(!cache.in_main(11), "a new key goes to S");
    }

    #[test]
    fn main_reinserts_used_keys_and_evicts_unused_ones_first() {
        let mut cache = S3Fifo::new(10, S3FifoConfig::ANY_USE);
        // Keys 0..10 fill S and get one hit each. The next insert moves them all to M (counts cleared), whose
        // oldest, 0, then goes; new keys without a use pass through S (target 1) into the ghost.
        for k in 0..10 {
            cache.access(k);
        }
        for k in 0..10 {
            assert!(cache.access(k));
        }
        for k in 100..110 {
            cache.access(k);
        }
        let in_main: Vec<u64> = (0..10).filter(|&k| cache.in_main(k)).collect();
        assert_eq!(in_main, (1..10).collect::<Vec<_>>());
        // One more use of 1, M's oldest. Six keys used while in S then each push one key out of M: 1 is
        // reinserted (its count back to 0) and 2..=6 go, oldest first.
        assert!(cache.access(1));
        for k in 200..206 {
            cache.access(k);
            assert!(cache.access(k));
        }
        assert!(cache.in_main(1), "the key used in M was reinserted");
        assert!(
            (2..=6).all(|k| !cache.contains(k)),
            "unused keys went in FIFO order"
        );
        assert!((7..=9).all(|k| cache.in_main(k)));
    }

    #[test]
    fn adaptive_small_queue_grows_on_small_ghost_hits_and_shrinks_on_main_ones() {
        // Runs of new keys read forward then backward (each key twice, 200 keys apart at most): S's share of 10
        // keys turns every second read into a ghost hit, so S must grow.
        let cap = 1_000;
        let mut adaptive = S3Fifo::new(cap, S3FifoConfig::ADAPTIVE);
        let mut fixed = S3Fifo::new(cap, S3FifoConfig::ANY_USE);
        let start = adaptive.small_target();
        let (mut hits_adaptive, mut hits_fixed) = (0, 0);
        for run in 0..200_u64 {
            let keys: Vec<u64> = (0..200).map(|i| run * 1_000 + i).collect();
            for &k in keys.iter().chain(keys.iter().rev()) {
                hits_adaptive += usize::from(adaptive.access(k));
                hits_fixed += usize::from(fixed.access(k));
            }
        }
        assert!(
            adaptive.small_target() > 2 * start,
            "S grew: {start} -> {}",
            adaptive.small_target()
        );
        assert!(
            hits_adaptive > hits_fixed + 10_000,
            "adaptive {hits_adaptive} against fixed {hits_fixed}"
        );

        // A loop over 1.2x the capacity with S at 90 % (filling S only): keys evicted from M come back while in M's ghost
        // (and the ones from S while in S's ghost, fewer once S shrinks), so S shrinks towards its floor.
        let mut cache = S3Fifo::new(
            cap,
            S3FifoConfig {
                small_pct: 90,
                fill_main: false,
                ..S3FifoConfig::ADAPTIVE
            },
        );
        let before = cache.small_target();
        for _ in 0..40 {
            for k in 0..1_200 {
                cache.access(k);
                cache.access(k);
            }
        }
        assert!(
            cache.small_target() < before / 2,
            "S shrank: {before} -> {}",
            cache.small_target()
        );
    }
}
