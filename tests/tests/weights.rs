//! Weights (`weigher` + `max_weight`): the bound on the total weight with every policy (LRU and LFU step by step
//! against a reference model, TinyLFU against the invariants), entries too heavy to fit, exact totals through
//! replacement, removal, expiry, `retain` and `clear`, loads, concurrent writers, a panicking weigher, zero
//! weights and the builder's errors.

use std::collections::{BTreeMap, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use cache_core::clock::ManualClock;
use cache_core::{AsyncCache, BuildError, EvictionCause, Policy};

/// A value that carries its own weight: `(weight, tag)`.
type Val = (u32, u64);
type Log = Arc<Mutex<Vec<(u8, Val, EvictionCause)>>>;

fn weighted(maxsize: usize, max_weight: u64, policy: Policy) -> (AsyncCache<u8, Val>, Log) {
    let log: Log = Arc::default();
    let seen = Arc::clone(&log);
    let cache = AsyncCache::builder()
        .maxsize(maxsize)
        .shards(1)
        .policy(policy)
        .weigher(|_k: &u8, v: &Val| v.0)
        .max_weight(max_weight)
        .on_evict(move |k, v, cause| seen.lock().unwrap().push((k, v, cause)))
        .build()
        .unwrap();
    (cache, log)
}

fn take(log: &Log) -> Vec<(u8, Val, EvictionCause)> {
    std::mem::take(&mut *log.lock().unwrap())
}

/// The total weight of what the cache holds, by visiting every entry (`retain` keeping all).
fn visited_weight<K, V>(cache: &AsyncCache<K, V>, weigh: impl Fn(&K, &V) -> u32) -> u64
where
    K: std::hash::Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    let mut total = 0;
    assert_eq!(
        cache.retain(|k, v| {
            total += u64::from(weigh(k, v));
            true
        }),
        0
    );
    total
}

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Debug, Clone, Copy)]
struct ModelEntry {
    value: Val,
    /// LRU: last use. LFU: when the entry reached its current frequency.
    tick: u64,
    freq: u64,
}

/// The reference: a map, a logical clock, a linear scan for the victim, and the weight rules of the builder's
/// docs (evict until the new entry fits both bounds; too heavy: not stored; a growing replacement is a use
/// first, and if the policy then picks it, it is stored as a new entry).
struct Model {
    lfu: bool,
    maxsize: usize,
    max_weight: u64,
    entries: BTreeMap<u8, ModelEntry>,
    tick: u64,
    log: Vec<(u8, Val, EvictionCause)>,
    evictions: u64,
    oversized: u64,
    /// Growing replacements whose entry the policy then picked as the victim.
    self_evicted: u64,
}

impl Model {
    fn new(policy: Policy, maxsize: usize, max_weight: u64) -> Self {
        Self {
            lfu: policy == Policy::Lfu,
            maxsize,
            max_weight,
            entries: BTreeMap::new(),
            tick: 0,
            log: Vec::new(),
            evictions: 0,
            oversized: 0,
            self_evicted: 0,
        }
    }

    fn weight(&self) -> u64 {
        self.entries.values().map(|e| u64::from(e.value.0)).sum()
    }

    fn use_(&mut self, k: u8) {
        self.tick += 1;
        let e = self.entries.get_mut(&k).unwrap();
        e.tick = self.tick;
        e.freq += 1;
    }

    fn get(&mut self, k: u8) -> Option<Val> {
        let value = self.entries.get(&k)?.value;
        self.use_(k);
        Some(value)
    }

    /// Evicts the victim; returns its key.
    fn evict(&mut self) -> u8 {
        let lfu = self.lfu;
        let (&k, _) = self
            .entries
            .iter()
            .min_by_key(|(_, e)| if lfu { (e.freq, e.tick) } else { (0, e.tick) })
            .unwrap();
        let e = self.entries.remove(&k).unwrap();
        self.log.push((k, e.value, EvictionCause::Evicted));
        self.evictions += 1;
        k
    }

    fn insert(&mut self, k: u8, value: Val) {
        let w = u64::from(value.0);
        if w > self.max_weight {
            if let Some(old) = self.entries.remove(&k) {
                self.log.push((k, old.value, EvictionCause::Replaced));
            }
            self.log.push((k, value, EvictionCause::Evicted));
            self.oversized += 1;
            return;
        }
        if let Some(old) = self.entries.get(&k).map(|e| e.value) {
            self.use_(k);
            let mut present = true;
            while self.weight() - u64::from(old.0) + w > self.max_weight {
                if self.evict() == k {
                    self.self_evicted += 1;
                    present = false;
                    break;
                }
            }
            if present {
                self.entries.get_mut(&k).unwrap().value = value;
                self.log.push((k, old, EvictionCause::Replaced));
                return;
            }
        }
        while self.entries.len() >= self.maxsize || self.weight() + w > self.max_weight {
            self.evict();
        }
        self.tick += 1;
        self.entries.insert(
            k,
            ModelEntry {
                value,
                tick: self.tick,
                freq: 1,
            },
        );
    }

    fn remove(&mut self, k: u8) -> Option<Val> {
        let e = self.entries.remove(&k)?;
        self.log.push((k, e.value, EvictionCause::Removed));
        Some(e.value)
    }
}

/// Random inserts (weights up to a third of the bound, now and then 0 or too heavy), gets and removes on a
/// one-shard LRU and LFU cache, compared at every step with the model: values, listener calls (so the victims,
/// in order), and the metrics.
#[test]
fn lru_and_lfu_match_a_weighted_reference_model() {
    const MAXSIZE: usize = 8;
    const MAX_WEIGHT: u64 = 100;
    for policy in [Policy::Lru, Policy::Lfu] {
        let mut self_evicted = 0;
        for seed in 0..20 {
            let (cache, log) = weighted(MAXSIZE, MAX_WEIGHT, policy);
            let mut model = Model::new(policy, MAXSIZE, MAX_WEIGHT);
            let mut rng = Rng(seed);
            for step in 0..1_500u64 {
                let k = rng.below(16) as u8;
                let ctx = format!("{policy:?} seed {seed} step {step}");
                match rng.below(10) {
                    0..=4 => {
                        let w = match rng.below(20) {
                            0 => 0,
                            1 => 101 + rng.below(50) as u32,
                            _ => rng.below(MAX_WEIGHT / 3) as u32 + 1,
                        };
                        cache.insert(k, (w, step));
                        model.insert(k, (w, step));
                    }
                    5..=8 => assert_eq!(cache.get(&k), model.get(k), "{ctx}"),
                    _ => assert_eq!(cache.remove(&k), model.remove(k), "{ctx}"),
                }
                assert_eq!(take(&log), std::mem::take(&mut model.log), "{ctx}");
                let m = cache.metrics();
                assert_eq!(m.weight, model.weight(), "{ctx}");
                assert_eq!(m.size, model.entries.len(), "{ctx}");
                assert_eq!(
                    (m.evictions, m.oversized),
                    (model.evictions, model.oversized),
                    "{ctx}"
                );
                assert!(m.weight <= MAX_WEIGHT && m.size <= MAXSIZE, "{ctx}");
            }
            assert_eq!(visited_weight(&cache, |_, v| v.0), model.weight());
            self_evicted += model.self_evicted;
        }
        // LRU never picks the entry just used; LFU may, and the runs cover that path.
        assert_eq!(self_evicted == 0, policy == Policy::Lru, "{policy:?}");
    }
}

/// TinyLFU decides its victims by estimated frequency, so no simple model says which: the test checks what
/// must hold whatever it picks. Every present key has its latest value, the bounds hold, the total is exact,
/// and every key that disappeared was reported to the listener.
#[test]
fn tinylfu_keeps_the_weight_bound_and_exact_totals() {
    const MAXSIZE: usize = 64;
    const MAX_WEIGHT: u64 = 1_000;
    for seed in 0..10 {
        let (cache, log) = weighted(MAXSIZE, MAX_WEIGHT, Policy::TinyLfu);
        // The latest value written for each key (whether or not the cache kept it).
        let mut latest: HashMap<u8, Val> = HashMap::new();
        let mut rng = Rng(seed);
        for step in 0..4_000u64 {
            // Skewed keys, so that frequencies differ.
            let k = (rng.below(128) * rng.below(128) / 127) as u8;
            match rng.below(10) {
                0..=3 => {
                    let w = match rng.below(30) {
                        0 => 0,
                        1 => 1_001,
                        _ => rng.below(120) as u32 + 1,
                    };
                    cache.insert(k, (w, step));
                    latest.insert(k, (w, step));
                }
                4..=8 => {
                    if let Some(v) = cache.get(&k) {
                        assert_eq!(Some(&v), latest.get(&k), "seed {seed} step {step}");
                    }
                }
                _ => {
                    cache.remove(&k);
                    latest.remove(&k);
                }
            }
            let m = cache.metrics();
            assert!(m.weight <= MAX_WEIGHT && m.size <= MAXSIZE);
            if step % 100 == 0 {
                assert_eq!(visited_weight(&cache, |_, v| v.0), m.weight);
            }
        }
        let calls = take(&log);
        let evicted = calls
            .iter()
            .filter(|c| c.2 == EvictionCause::Evicted)
            .count();
        let m = cache.metrics();
        assert_eq!(evicted as u64, m.evictions + m.oversized, "seed {seed}");
        assert!(m.evictions > 100, "the bound was reached: {m:?}");
        // Keys written last and absent now were reported leaving with that value.
        for (k, v) in &latest {
            if cache.peek(k).is_none() {
                assert!(
                    calls.iter().any(|c| c.0 == *k && c.1 == *v),
                    "seed {seed}: key {k} vanished unreported"
                );
            }
        }
    }
}

/// Under TinyLFU a scan of one-off entries does not flush a popular working set, with weights as without:
/// admission still compares frequencies when the window and main are sized in weight. LRU, for contrast, keeps
/// none of it.
#[test]
fn tinylfu_admission_works_in_weight() {
    for maxsize in [1_000, 200, 100, 100_000] {
        tinylfu_keeps_hot_keys_through_a_scan(maxsize);
    }
}

/// `tinylfu_admission_works_in_weight` for one `maxsize`: 1,000 (a weigher's bound comes long before half the
/// entries), 200 (half the entries are reached one insert before the first eviction: the hot keys' uses are
/// then all from before half full), 100 (the same without the weigher mattering) and 100,000 (a shard above
/// the unordered size, ordered from the start: its sketch must start at half the weight).
fn tinylfu_keeps_hot_keys_through_a_scan(maxsize: usize) {
    let hot_kept = |policy| {
        let cache: AsyncCache<u32, u32> = AsyncCache::builder()
            .maxsize(maxsize)
            .shards(1)
            .policy(policy)
            .hasher_seed(7)
            .weigher(|_, w: &u32| *w)
            .max_weight(1_000)
            .build()
            .unwrap();
        // 40 hot keys of weight 10 (400), read often.
        for _ in 0..20 {
            for k in 0..40 {
                if cache.get(&k).is_none() {
                    cache.insert(k, 10);
                }
            }
        }
        // A scan: 300 new keys of weight 10, each read once after its insert.
        for k in 1_000..1_300 {
            cache.insert(k, 10);
            cache.get(&k);
        }
        assert!(cache.weight() <= 1_000);
        (0..40).filter(|k| cache.contains_key(k)).count()
    };
    let tiny = hot_kept(Policy::TinyLfu);
    assert!(
        tiny >= 36,
        "maxsize {maxsize}: TinyLFU kept {tiny} of 40 hot keys"
    );
    assert_eq!(hot_kept(Policy::Lru), 0, "maxsize {maxsize}");
}

/// A shard ordered from the start (above the unordered size) whose weigher bounds it at far fewer entries than
/// half its `maxsize`: its sketch starts at half its weight, so new hot keys are admitted over cold ones.
#[test]
fn an_ordered_weighted_tinylfu_shard_admits_new_hot_keys() {
    let cache: AsyncCache<u32, u32> = AsyncCache::builder()
        .maxsize(100_000)
        .shards(1)
        .policy(Policy::TinyLfu)
        .hasher_seed(7)
        .weigher(|_, w: &u32| *w)
        .max_weight(1_000)
        .build()
        .unwrap();
    for k in 10_000..10_200 {
        cache.insert(k, 10);
    }
    let mut hits = 0;
    for _ in 0..20 {
        for k in 0..40 {
            if cache.get(&k).is_some() {
                hits += 1;
            } else {
                cache.insert(k, 10);
            }
        }
    }
    // LRU would hit 19 x 40 = 760 times; without a sketch every contest is 0 against 0 and main never changes.
    assert!(hits >= 600, "{hits} hits");
}

#[test]
fn an_entry_heavier_than_the_bound_is_not_stored() {
    for policy in [Policy::Lru, Policy::Lfu, Policy::TinyLfu] {
        let (cache, log) = weighted(10, 100, policy);
        cache.insert(1, (60, 0));
        cache.insert(2, (101, 0));
        assert!(!cache.contains_key(&2));
        // Over a live value: the old one goes too (its key would otherwise keep a stale value).
        cache.insert(1, (500, 1));
        assert!(!cache.contains_key(&1));
        assert_eq!(
            take(&log),
            [
                (2, (101, 0), EvictionCause::Evicted),
                (1, (60, 0), EvictionCause::Replaced),
                (1, (500, 1), EvictionCause::Evicted),
            ],
            "{policy:?}"
        );
        let m = cache.metrics();
        assert_eq!((m.oversized, m.evictions, m.weight, m.size), (2, 0, 0, 0));
        // Exactly the bound fits.
        cache.insert(3, (100, 0));
        assert_eq!(cache.weight(), 100);
    }
}

/// With several shards the bound is per shard, as `maxsize` is: 4 shards of 400 hold 100 each.
#[test]
fn the_heaviest_entry_is_a_shards_share() {
    let cache: AsyncCache<u64, u32> = AsyncCache::builder()
        .maxsize(4_000)
        .shards(4)
        .weigher(|_, w: &u32| *w)
        .max_weight(400)
        .build()
        .unwrap();
    for k in 0..16 {
        cache.insert(k, 100);
        cache.insert(k + 100, 101);
    }
    assert_eq!(cache.metrics().oversized, 16);
    assert!((100..116).all(|k| !cache.contains_key(&k)));
    assert!(cache.weight() <= 400);
    assert_eq!(visited_weight(&cache, |_, w| *w), cache.weight());
}

/// The weight is kept with the entry: a weigher that answers differently each time still leaves exact totals.
#[test]
fn replacement_changes_the_total_exactly() {
    let next = Arc::new(AtomicU32::new(0));
    let answer = Arc::clone(&next);
    let cache: AsyncCache<u8, &str> = AsyncCache::builder()
        .maxsize(10)
        .weigher(move |_, _| answer.load(Ordering::SeqCst))
        .max_weight(1_000)
        .build()
        .unwrap();
    let mut model = HashMap::new();
    let mut rng = Rng(3);
    for _ in 0..500 {
        let k = rng.below(6) as u8;
        let w = rng.below(150) as u32;
        next.store(w, Ordering::SeqCst);
        match rng.below(4) {
            0 => {
                cache.remove(&k);
                model.remove(&k);
            }
            _ => {
                cache.insert(k, "v");
                model.insert(k, u64::from(w));
            }
        }
        // Six keys of at most 149 never reach the bound: nothing is evicted, the total is the model's.
        assert_eq!(cache.weight(), model.values().sum::<u64>());
    }
    assert_eq!(cache.metrics().evictions, 0);
    cache.retain(|k, _| k % 2 == 0);
    model.retain(|k, _| k % 2 == 0);
    assert_eq!(cache.weight(), model.values().sum::<u64>());
    cache.clear();
    assert_eq!((cache.weight(), cache.metrics().weight), (0, 0));
}

/// Expired entries weigh until reclaimed (as they count in `len`), and give their weight back when they are:
/// by `purge_expired`, or first, when a write must make room.
#[test]
fn expired_entries_give_their_weight_back() {
    let clock = ManualClock::new();
    let log: Log = Arc::default();
    let seen = Arc::clone(&log);
    let cache: AsyncCache<u8, Val> = AsyncCache::builder()
        .maxsize(10)
        .clock(clock.clone())
        .expire_after(|_, v: &Val| (v.1 > 0).then(|| Duration::from_secs(v.1)))
        .weigher(|_, v: &Val| v.0)
        .max_weight(100)
        .on_evict(move |k, v, cause| seen.lock().unwrap().push((k, v, cause)))
        .build()
        .unwrap();
    cache.insert(1, (40, 5));
    cache.insert(2, (40, 0));
    clock.advance(Duration::from_secs(6));
    assert_eq!(cache.weight(), 80, "not reclaimed yet");
    // 80 + 30 > 100: the expired entry goes first, and the live one stays.
    cache.insert(3, (30, 0));
    assert_eq!(take(&log), [(1, (40, 5), EvictionCause::Expired)]);
    assert_eq!(cache.weight(), 70);
    cache.insert(4, (10, 1));
    clock.advance(Duration::from_secs(2));
    assert_eq!(cache.purge_expired(), 1);
    assert_eq!(cache.weight(), 70);
    assert_eq!(cache.metrics().evictions, 0);
}

/// Entries of weight 0 are allowed: they count toward `maxsize` only, which still bounds them.
#[test]
fn zero_weight_entries_are_bounded_by_maxsize() {
    for policy in [Policy::Lru, Policy::Lfu, Policy::TinyLfu] {
        let (cache, _log) = weighted(8, 50, policy);
        for k in 0..100 {
            cache.insert(k, (0, 0));
            assert!(cache.len() <= 8);
        }
        assert_eq!(cache.len(), 8, "{policy:?}");
        assert_eq!(cache.weight(), 0);
        // A weighed entry fits beside them, displacing one by count.
        cache.insert(200, (50, 0));
        assert_eq!((cache.len(), cache.weight()), (8, 50));
        assert!(cache.contains_key(&200));
    }
}

/// `get_or_load`, `try_get_or_load`, `get_many` and the windowed `load` all weigh what they store.
#[tokio::test(start_paused = true)]
async fn loads_are_weighed() {
    let cache: AsyncCache<u64, Vec<u8>> = AsyncCache::builder()
        .maxsize(100)
        .weigher(|_, v: &Vec<u8>| u32::try_from(v.len()).unwrap())
        .max_weight(1_000)
        .batch_loader(|keys: Vec<u64>| async move {
            keys.into_iter()
                .map(|k| (k, vec![0; k as usize]))
                .collect::<Vec<_>>()
        })
        .build()
        .unwrap();
    cache.get_or_load(10, async { vec![0; 10] }).await;
    cache
        .try_get_or_load(20, async { Ok::<_, ()>(vec![0; 20]) })
        .await
        .unwrap();
    let got = cache
        .get_many(vec![30, 40], |keys| async move {
            keys.into_iter()
                .map(|k| (k, vec![0; k as usize]))
                .collect::<Vec<_>>()
        })
        .await;
    assert_eq!(got.len(), 2);
    assert_eq!(cache.load(50).await.map(|v| v.len()), Some(50));
    assert_eq!(cache.weight(), 150);
    // A load too heavy to store still reaches its caller.
    let big = cache.get_or_load(99, async { vec![0; 5_000] }).await;
    assert_eq!(big.len(), 5_000);
    assert!(!cache.contains_key(&99));
    assert_eq!(cache.metrics().oversized, 1);
    // Loads evict by weight like inserts: 10 entries of 100 fill it.
    for k in 1_000..1_010u64 {
        cache.get_or_load(k, async { vec![0; 100] }).await;
    }
    assert_eq!(cache.weight(), 1_000);
    assert!(cache.metrics().evictions >= 5);
}

/// Many threads insert, replace, read and remove on a sharded cache at once; a watcher checks the bound while
/// they run. At the end the total is what the entries present weigh.
#[test]
fn concurrent_writers_keep_the_bound_and_the_total() {
    const THREADS: u64 = 8;
    const MAX_WEIGHT: u64 = 4_000;
    for policy in [Policy::Lru, Policy::Lfu, Policy::TinyLfu] {
        let cache: AsyncCache<u64, u64> = AsyncCache::builder()
            .maxsize(2_048)
            .shards(4)
            .policy(policy)
            .weigher(|k, v| u32::try_from((k ^ v) % 97).unwrap())
            .max_weight(MAX_WEIGHT)
            .build()
            .unwrap();
        let start = Barrier::new(THREADS as usize + 1);
        let running = std::sync::atomic::AtomicBool::new(true);
        std::thread::scope(|s| {
            let writers: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (cache, start) = (&cache, &start);
                    s.spawn(move || {
                        let mut rng = Rng(t);
                        start.wait();
                        for _ in 0..3_000 {
                            let k = rng.below(600);
                            match rng.below(8) {
                                0 => {
                                    cache.remove(&k);
                                }
                                1..=3 => {
                                    cache.get(&k);
                                }
                                _ => cache.insert(k, rng.next()),
                            }
                        }
                    })
                })
                .collect();
            let watcher = s.spawn(|| {
                start.wait();
                let mut looks = 0u64;
                // At least one look even if the writers all finish before this thread runs (2 cores, 9 threads).
                loop {
                    let m = cache.metrics();
                    assert!(m.weight <= MAX_WEIGHT, "{m:?}");
                    looks += 1;
                    if !running.load(Ordering::Relaxed) {
                        break;
                    }
                    std::thread::yield_now();
                }
                looks
            });
            for w in writers {
                w.join().unwrap();
            }
            running.store(false, Ordering::Relaxed);
            assert!(watcher.join().unwrap() >= 1);
        });
        let m = cache.metrics();
        assert!(
            m.weight <= MAX_WEIGHT && m.size <= 2_048,
            "{policy:?}: {m:?}"
        );
        let weigh = |k: &u64, v: &u64| u32::try_from((k ^ v) % 97).unwrap();
        assert_eq!(visited_weight(&cache, weigh), m.weight, "{policy:?}");
        assert!(m.evictions > 0, "{policy:?}: the bound was reached");
    }
}

/// A weigher that panics stores nothing and changes nothing; the panic reaches the caller that stored the value.
#[tokio::test(start_paused = true)]
async fn a_panicking_weigher_changes_nothing() {
    let cache: AsyncCache<u64, u32> = AsyncCache::builder()
        .maxsize(4)
        .weigher(|_, v: &u32| {
            assert!(*v != 13, "unlucky");
            *v
        })
        .max_weight(100)
        .build()
        .unwrap();
    for k in 0..4 {
        cache.insert(k, 25);
    }
    let before = cache.metrics();
    assert!(catch_unwind(AssertUnwindSafe(|| cache.insert(9, 13))).is_err());
    assert!(catch_unwind(AssertUnwindSafe(|| cache.insert(0, 13))).is_err());
    assert!(catch_unwind(AssertUnwindSafe(|| cache.insert_with_ttl(1, 13, None))).is_err());
    assert_eq!(cache.metrics(), before);
    assert_eq!(cache.get(&0), Some(25));
    // A load whose value's weigher panics: the panic reaches the loader's caller, nothing is stored, and the
    // key can be loaded again.
    let task = tokio::spawn({
        let cache = cache.clone();
        async move { cache.get_or_load(7, async { 13 }).await }
    });
    assert!(task.await.unwrap_err().is_panic());
    assert!(!cache.contains_key(&7));
    assert_eq!(cache.get_or_load(7, async { 10 }).await, 10);
    // `get_many`: the other keys are stored, then the panic goes on.
    let many = tokio::spawn({
        let cache = cache.clone();
        async move {
            cache
                .get_many(vec![20, 21], |keys| async move {
                    keys.into_iter()
                        .map(|k| (k, if k == 20 { 13 } else { 1 }))
                        .collect::<Vec<_>>()
                })
                .await
        }
    });
    assert!(many.await.unwrap_err().is_panic());
    assert_eq!(cache.peek(&21), Some(1));
    assert!(!cache.contains_key(&20));
    assert_eq!(
        cache.weight(),
        visited_weight(&cache, |_, v| *v),
        "the total is exact"
    );
    assert!(cache.weight() <= 100);
}

#[test]
fn one_without_the_other_is_a_build_error() {
    let base = || AsyncCache::<u64, u64>::builder().maxsize(100);
    let err = |b: cache_core::CacheBuilder<u64, u64>| b.build().unwrap_err();
    assert_eq!(err(base().weigher(|_, _| 1)), BuildError::MissingMaxWeight);
    assert_eq!(err(base().max_weight(10)), BuildError::MissingWeigher);
    assert_eq!(
        err(base().weigher(|_, _| 1).max_weight(0)),
        BuildError::ZeroMaxWeight
    );
    assert_eq!(
        err(base().weigher(|_, _| 1).max_weight(3).shards(4)),
        BuildError::TooManyShardsForWeight {
            shards: 4,
            max_weight: 3
        }
    );
    for e in [
        BuildError::MissingMaxWeight,
        BuildError::MissingWeigher,
        BuildError::ZeroMaxWeight,
    ] {
        assert!(e.to_string().contains("max_weight"), "{e}");
    }
    // Chosen automatically, the shard count stays within the weight: every shard can hold something.
    let cache = AsyncCache::<u64, u64>::builder()
        .maxsize(1_000_000)
        .weigher(|_, _| 1)
        .max_weight(2)
        .build()
        .unwrap();
    assert!(cache.shards() <= 2);
    assert_eq!(cache.max_weight(), Some(2));
    assert_eq!(cache.metrics().max_weight, Some(2));
    cache.insert(1, 1);
    cache.insert(2, 2);
    cache.insert(3, 3);
    assert!(cache.weight() <= 2);
    // Without a weigher nothing is weighed.
    let plain = AsyncCache::<u64, u64>::new(10);
    plain.insert(1, 1);
    assert_eq!((plain.weight(), plain.max_weight()), (0, None));
}

/// A background refresh (`refresh_after`) weighs the value it stores: the entry's weight becomes the new one's,
/// and a reload too heavy to store takes the entry out (counted as oversized).
#[tokio::test(start_paused = true)]
async fn refreshes_are_weighed() {
    let cache: AsyncCache<u64, u32> = AsyncCache::builder()
        .maxsize(10)
        .refresh_after(Duration::from_secs(10))
        .weigher(|_, w: &u32| *w)
        .max_weight(100)
        .build()
        .unwrap();
    let settle = || tokio::time::sleep(Duration::from_micros(1));
    assert_eq!(cache.get_or_refresh(1, async { 30 }).await, 30);
    assert_eq!(cache.weight(), 30);
    tokio::time::advance(Duration::from_secs(11)).await;
    // Stale: the old value at once, the reload stores 70 in the background.
    assert_eq!(cache.get_or_refresh(1, async { 70 }).await, 30);
    settle().await;
    assert_eq!((cache.peek(&1), cache.weight()), (Some(70), 70));
    tokio::time::advance(Duration::from_secs(11)).await;
    assert_eq!(cache.get_or_refresh(1, async { 500 }).await, 70);
    settle().await;
    assert_eq!((cache.peek(&1), cache.weight()), (None, 0));
    assert_eq!(cache.metrics().oversized, 1);
}

/// A TinyLFU (or LRU) cache of one shard and `maxsize` entries; with `weight` `Some((max_weight, w))`, every
/// entry weighs `w` under that bound, else there is no weigher.
fn maxsize_bound(
    policy: Policy,
    maxsize: usize,
    weight: Option<(u64, u32)>,
) -> AsyncCache<u64, u32> {
    let builder = AsyncCache::builder()
        .maxsize(maxsize)
        .shards(1)
        .policy(policy)
        .hasher_seed(7);
    match weight {
        Some((max_weight, _)) => builder
            .weigher(|_, w: &u32| *w)
            .max_weight(max_weight)
            .build()
            .unwrap(),
        None => builder.build().unwrap(),
    }
}

/// Reads the `hot` keys `rounds` times (inserting each one missing, of weight `w`), then scans the `scan` keys
/// (each inserted, of weight `w`, and read once): how many of the hot keys `cache` keeps.
fn hot_kept_after_a_scan(
    cache: &AsyncCache<u64, u32>,
    hot: std::ops::Range<u64>,
    rounds: usize,
    w: u32,
    scan: std::ops::Range<u64>,
) -> usize {
    for _ in 0..rounds {
        for k in hot.clone() {
            if cache.get(&k).is_none() {
                cache.insert(k, w);
            }
        }
    }
    for k in scan {
        cache.insert(k, w);
        cache.get(&k);
    }
    hot.filter(|k| cache.contains_key(k)).count()
}

/// 400 hot keys used 20 times, then a scan of 3,000 one-off keys (insert and get): how many hot keys are kept.
fn hot_kept_through_a_scan(policy: Policy, weight: Option<(u64, u32)>) -> usize {
    let cache = maxsize_bound(policy, 1_000, weight);
    let w = weight.map_or(1, |(_, w)| w);
    let kept = hot_kept_after_a_scan(&cache, 0..400, 20, w, 1_000_000..1_003_000);
    assert!(cache.len() <= 1_000);
    kept
}

/// A weigher whose bound comes after `maxsize` (everything the shard holds weighs at most 1 % of `max_weight`,
/// or nothing): TinyLFU's regions must fill by count, and admission keep the hot keys through a scan as it does
/// without a weigher. (Before: the shares were shares of `max_weight` only, every entry sat in the window, main
/// stayed empty and the scan flushed the hot keys as under LRU.)
#[test]
fn tinylfu_admission_works_when_maxsize_binds_before_the_weight() {
    let unweighted = hot_kept_through_a_scan(Policy::TinyLfu, None);
    let lru = hot_kept_through_a_scan(Policy::Lru, None);
    assert!(
        unweighted >= lru + 300,
        "the scenario tells them apart: TinyLFU {unweighted}, LRU {lru}"
    );
    // The documented "no weight limit" idiom, a bound 100 times what the shard holds, and weightless entries.
    for weight in [(u64::MAX, 10), (1_000_000, 10), (1_000, 0)] {
        let kept = hot_kept_through_a_scan(Policy::TinyLfu, Some(weight));
        assert!(
            kept + 10 >= unweighted,
            "{weight:?}: TinyLFU kept {kept} of 400 hot keys, {unweighted} without a weigher"
        );
        assert_eq!(hot_kept_through_a_scan(Policy::Lru, Some(weight)), lru);
    }
}

/// A weigher whose bound is twice what the shard holds at `maxsize`: protected must be bounded by count too, so
/// that probation keeps room for a new hot set to be admitted into. A new hot set of 400 keys (of 1,000 the
/// shard held, used for a long time) is taken in as fast as without a weigher. (Before: protected held the whole
/// of main, probation stayed empty, and the new set reached about half its hits after 200 rounds.)
#[test]
fn tinylfu_takes_in_a_new_hot_set_when_maxsize_binds_before_the_weight() {
    let hits_in_round = |weight: Option<(u64, u32)>, round: usize| {
        let cache = maxsize_bound(Policy::TinyLfu, 1_000, weight);
        let w = weight.map_or(1, |(_, w)| w);
        let use_ = |k: u64| {
            let hit = cache.get(&k).is_some();
            if !hit {
                cache.insert(k, w);
            }
            hit
        };
        for _ in 0..15 {
            (0..1_000).for_each(|k| {
                use_(k);
            });
        }
        use_(5_000_000);
        for _ in 0..15 {
            (0..1_000).for_each(|k| {
                use_(k);
            });
        }
        let mut hits = 0;
        for _ in 0..round {
            hits = (1_000_000..1_000_400).filter(|&k| use_(k)).count();
        }
        hits
    };
    let unweighted = hits_in_round(None, 20);
    assert!(unweighted >= 390, "without a weigher: {unweighted} of 400");
    for max_weight in [20_000, 15_000] {
        let weighted = hits_in_round(Some((max_weight, 10)), 20);
        assert!(
            weighted + 10 >= unweighted,
            "max_weight {max_weight}: {weighted} of 400 hits in round 20, {unweighted} without a weigher"
        );
    }
}

/// 300 hot keys used 20 times, then 2,500 one-off keys (insert and get), in a cache of `maxsize(10_000)`,
/// `max_weight(10_000)` and one shard, each key weighing `weight(key)`: how many hot keys are kept.
fn hot_kept_with_weights(policy: Policy, weight: fn(u64) -> u32) -> usize {
    let cache = maxsize_bound(policy, 10_000, Some((10_000, 0)));
    for _ in 0..20 {
        for k in 0..300 {
            if cache.get(&k).is_none() {
                cache.insert(k, weight(k));
            }
        }
    }
    for k in 1_000..3_500 {
        cache.insert(k, weight(k));
        cache.get(&k);
    }
    assert!(cache.weight() <= 10_000);
    (0..300).filter(|k| cache.contains_key(k)).count()
}

/// `tinylfu_keeps_hot_keys_through_a_scan` with weights that vary from key to key (5 to 15, by a hash of the
/// key): TinyLFU keeps the hot keys as it does when every key weighs 10. (Before: after a lighter new entry
/// replaced a heavier candidate that left, or for the second victim of one insert, the window was short of its
/// share by a mean entry and main's victim went without a contest: a quarter to a half of the evictions, and
/// the scan flushed the hot keys as under LRU.)
#[test]
fn tinylfu_keeps_hot_keys_through_a_scan_with_varied_weights() {
    let varied =
        |k: u64| 5 + u32::try_from((k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) % 11).unwrap();
    let even = |_: u64| 10;
    let lru = hot_kept_with_weights(Policy::Lru, varied);
    let uniform = hot_kept_with_weights(Policy::TinyLfu, even);
    assert!(
        uniform >= lru + 200,
        "the scenario tells them apart: TinyLFU {uniform}, LRU {lru}"
    );
    let kept = hot_kept_with_weights(Policy::TinyLfu, varied);
    assert!(
        kept + 15 >= uniform,
        "varied weights: TinyLFU kept {kept} of 300 hot keys, {uniform} with every key weighing 10 (LRU {lru})"
    );
}

/// A replacement that makes its entry heavier counts as a use of it and then makes room: the entry itself is not
/// the one evicted (it would leave as an eviction, come back as a new key, find its own ghost and move
/// TinyLFU's window, and be counted again). 100 keys used 4 times fill `maxsize(100)` / `max_weight(100)`; a new
/// key X goes in at weight 1, then again at weight 2: one other entry makes room, as under LRU. (Before: X, the
/// window's only entry, lost the contest at the window's end and was evicted, then one more entry.)
#[test]
fn a_heavier_replacement_does_not_evict_its_own_entry() {
    for policy in [Policy::TinyLfu, Policy::Lru] {
        let log: Log = Arc::default();
        let seen = Arc::clone(&log);
        let cache = AsyncCache::builder()
            .maxsize(100)
            .shards(1)
            .policy(policy)
            .hasher_seed(3)
            .weigher(|_k: &u8, v: &Val| v.0)
            .max_weight(100)
            .on_evict(move |k, v, cause| seen.lock().unwrap().push((k, v, cause)))
            .build()
            .unwrap();
        for _ in 0..4 {
            for k in 0..100 {
                if cache.get(&k).is_none() {
                    cache.insert(k, (1, 0));
                }
            }
        }
        cache.insert(200, (1, 0));
        take(&log);
        cache.insert(200, (2, 1));
        let log = take(&log);
        assert_eq!(cache.peek(&200), Some((2, 1)), "{policy:?}");
        let evicted: Vec<u8> = log
            .iter()
            .filter(|e| e.2 == EvictionCause::Evicted)
            .map(|e| e.0)
            .collect();
        assert_eq!(evicted.len(), 1, "{policy:?}: evicted {evicted:?}");
        assert_ne!(evicted[0], 200, "{policy:?}");
        assert!(
            log.contains(&(200, (1, 0), EvictionCause::Replaced)),
            "{policy:?}: {log:?}"
        );
        assert_eq!((cache.len(), cache.weight()), (99, 100), "{policy:?}");
    }
}

/// Random one-shard caches (`maxsize` 5-24, `max_weight` the same, weight-1 entries, now and then a replacement
/// up to half the bound): a replacement that makes its entry heavier never evicts that entry while another
/// entry can go, under TinyLFU as under LRU. If the replaced key is logged as evicted, everything else went
/// first (the cache holds only it afterwards). (Before: when protected's hand had dropped the entry back to
/// probation's tail, TinyLFU found no victim in main, drained the window and then evicted the entry while
/// protected still held others: 146 of 25,507 such replacements in a review's search.)
#[test]
fn a_heavier_replacement_is_not_its_own_victim_while_others_can_go() {
    for policy in [Policy::TinyLfu, Policy::Lru] {
        let (mut replaced, mut wrong) = (0, Vec::new());
        for seed in 0..600u64 {
            let mut r = Rng(seed);
            let m = 5 + r.below(20);
            let log: Arc<Mutex<Vec<(u64, u32, EvictionCause)>>> = Arc::default();
            let seen = Arc::clone(&log);
            let cache = AsyncCache::builder()
                .maxsize(m as usize)
                .shards(1)
                .policy(policy)
                .hasher_seed(seed)
                .weigher(|_k: &u64, v: &u32| *v)
                .max_weight(m)
                .on_evict(move |k, v, cause| seen.lock().unwrap().push((k, v, cause)))
                .build()
                .unwrap();
            for step in 0..400 {
                let roll = r.below(10);
                if roll < 6 {
                    cache.get(&r.below(m));
                    continue;
                }
                let k = r.below(2 * m);
                let old = cache.peek(&k);
                let w = match old {
                    Some(_) if roll == 9 => 2 + r.below(m / 2) as u32,
                    _ => 1,
                };
                log.lock().unwrap().clear();
                cache.insert(k, w);
                if old.is_some_and(|o| w > o) {
                    replaced += 1;
                    let evicted_itself = log
                        .lock()
                        .unwrap()
                        .iter()
                        .any(|e| e.0 == k && e.2 == EvictionCause::Evicted);
                    if evicted_itself && cache.len() > 1 {
                        wrong.push((seed, step, k, cache.len()));
                    }
                }
            }
        }
        assert!(
            replaced > 1_000,
            "{policy:?}: only {replaced} heavier replacements"
        );
        assert!(
            wrong.is_empty(),
            "{policy:?}: {} of {replaced} heavier replacements evicted their own entry while others stayed \
             (seed, step, key, len after): {:?}",
            wrong.len(),
            &wrong[..wrong.len().min(5)]
        );
    }
}

thread_local! {
    /// While `Some(k)`, hashing any key other than `k` panics once (then disarms).
    static ARMED: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// A key whose `Hash` panics on demand ([`ARMED`]).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Touchy(u64);

impl std::hash::Hash for Touchy {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        if let Some(k) = ARMED.with(std::cell::Cell::get) {
            if k != self.0 {
                ARMED.with(|a| a.set(None));
                std::panic::panic_any("a user's Hash panicked");
            }
        }
        self.0.hash(state);
    }
}

/// A replacement's reweigh marks its entry as not-the-victim while it makes room; a user's `Hash` that panics
/// while a victim is removed (the store survives it) must not leave that mark behind. After such a panic the
/// cache must still take in new hot sets as a cache without the panic does, and the replaced entry must not be
/// pinned. (Before: the mark stayed; with the kept entry at probation's tail main's victim was "none" for good
/// and nothing was admitted again, 0 of a new hot set of 300 hit in its 40th round against 191 without the
/// panic; once TinyLFU took the entry ahead of a kept tail instead, the entry itself was never evicted.)
#[test]
fn a_panic_while_reweighing_leaves_admission_working() {
    let run = |panic: bool| {
        let cache: AsyncCache<Touchy, u32> = AsyncCache::builder()
            .maxsize(2_000)
            .shards(1)
            .policy(Policy::TinyLfu)
            .hasher_seed(1)
            .weigher(|_k: &Touchy, v: &u32| *v)
            .max_weight(1_000)
            .build()
            .unwrap();
        let use_key = |k: u64| {
            let hit = cache.get(&Touchy(k)).is_some();
            if !hit {
                cache.insert(Touchy(k), 1);
            }
            hit
        };
        for _ in 0..3 {
            (0..1_000).for_each(|k| {
                use_key(k);
            });
        }
        let kept = 999_999;
        cache.insert(Touchy(kept), 1);
        if panic {
            ARMED.with(|a| a.set(Some(kept)));
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| cache.insert(Touchy(kept), 5)));
        ARMED.with(|a| a.set(None));
        assert_eq!(
            outcome.is_err(),
            panic,
            "the injected panic fires only when armed"
        );
        let hits = [10_000u64, 20_000, 30_000].map(|base| {
            let mut hits = 0;
            for _ in 0..40 {
                hits = (base..base + 300).filter(|&k| use_key(k)).count();
            }
            hits
        });
        // The replaced entry, never used again, is not pinned either: a long run of new keys takes it out.
        (40_000..60_000).for_each(|k| {
            use_key(k);
        });
        assert!(
            cache.peek(&Touchy(kept)).is_none(),
            "panic {panic}: the replaced entry outlived 20,000 new keys"
        );
        hits
    };
    let (after, control) = (run(true), run(false));
    for (set, (a, c)) in after.iter().zip(control).enumerate() {
        assert!(
            *a * 2 >= c,
            "hot set {set}: {a} of 300 hit in its last round after the panic, {c} without it \
             (all: {after:?} against {control:?})"
        );
    }
}

/// `len` requests for keys log-uniform over `1..100_000` (skewed: key `k` about as likely as all of `2k..4k`).
fn skewed_trace(len: usize) -> Vec<u64> {
    let mut r = Rng(11);
    (0..len)
        .map(|_| {
            #[allow(clippy::cast_precision_loss)]
            let u = (r.next() >> 11) as f64 / (1u64 << 53) as f64;
            100_000f64.powf(u) as u64
        })
        .collect()
}

/// The hit ratio, in percent, of `cache` replaying `trace` (a miss inserts the key, of weight 1).
fn hit_ratio(cache: &AsyncCache<u64, u32>, trace: &[u64]) -> f64 {
    let hits = trace
        .iter()
        .filter(|&&k| {
            let hit = cache.get(&k).is_some();
            if !hit {
                cache.insert(k, 1);
            }
            hit
        })
        .count();
    #[allow(clippy::cast_precision_loss)]
    let pct = hits as f64 * 100.0 / trace.len() as f64;
    pct
}

/// A `maxsize` far above what a weigher lets a shard hold (the builder docs: a generous `maxsize` costs little)
/// still gives TinyLFU's hit ratio: skewed traffic through one shard bounded at 1,000 weight of weight-1
/// entries, with `maxsize` 2,000 and 1,000,000, against LRU. (Before: the adaptation's step was a share of
/// `maxsize`, 200 entries a ghost in a shard of 1,000, and the generous cache hit as LRU did.)
#[test]
fn a_generous_maxsize_keeps_tinylfu_ahead_of_lru() {
    let trace = skewed_trace(200_000);
    let hits = |policy: Policy, maxsize: usize| {
        let cache: AsyncCache<u64, u32> = AsyncCache::builder()
            .maxsize(maxsize)
            .shards(1)
            .policy(policy)
            .hasher_seed(5)
            .weigher(|_k: &u64, v: &u32| *v)
            .max_weight(1_000)
            .build()
            .unwrap();
        hit_ratio(&cache, &trace)
    };
    let (tight, generous, lru) = (
        hits(Policy::TinyLfu, 2_000),
        hits(Policy::TinyLfu, 1_000_000),
        hits(Policy::Lru, 1_000_000),
    );
    assert!(
        tight > lru + 3.0,
        "maxsize 2,000: {tight:.2} %, LRU {lru:.2} %"
    );
    assert!(
        generous >= tight - 1.0,
        "maxsize 1,000,000: {generous:.2} %, maxsize 2,000: {tight:.2} %, LRU {lru:.2} %"
    );
}

/// A one-shard TinyLFU or LRU cache bounded at 10,000 weight (`maxsize` 20,000), hashing with `seed`; with
/// `heavy_first`, first filled with 100 inserts of weight 200 (50 fit: its first eviction comes while it holds
/// 50 entries, which sized its sketch, saturation bits and ghost table before the fix).
fn heavy_then_light(policy: Policy, heavy_first: bool, seed: u64) -> AsyncCache<u64, u32> {
    let cache = AsyncCache::builder()
        .maxsize(20_000)
        .shards(1)
        .policy(policy)
        .hasher_seed(seed)
        .weigher(|_k: &u64, v: &u32| *v)
        .max_weight(10_000)
        .build()
        .unwrap();
    if heavy_first {
        for k in 1_000_000..1_000_100 {
            cache.insert(k, 200);
        }
    }
    cache
}

/// The hot keys of weight 1 that `heavy_then_light` keeps through a scan: 1,000 hot keys read 20 times each,
/// then 30,000 one-off keys of weight 1.
fn hot_light_keys_kept(policy: Policy, heavy_first: bool) -> usize {
    let cache = heavy_then_light(policy, heavy_first, 3);
    let kept = hot_kept_after_a_scan(&cache, 0..1_000, 20, 1, 100_000..130_000);
    assert!(cache.weight() <= 10_000);
    kept
}

/// A weighted TinyLFU shard whose first eviction came while it held a few heavy entries, and that later holds
/// thousands of light ones, keeps a hot set through a scan about as well as a shard that held light entries from
/// the start (it loses at most twice as many, and 1 % more): its sketch, saturation bits and ghost table grow
/// with the entries it holds. (Before: they stayed sized for the 50 heavy entries, and the scan took 150 of the
/// 1,000 hot keys where the reference lost 2; seeds 1-5 the same within 50.)
#[test]
fn tinylfu_keeps_a_light_hot_set_through_a_scan_after_heavy_entries() {
    let shifted = hot_light_keys_kept(Policy::TinyLfu, true);
    let light = hot_light_keys_kept(Policy::TinyLfu, false);
    let lru = hot_light_keys_kept(Policy::Lru, true);
    let report =
        format!("kept of 1,000: heavy first {shifted}, light from the start {light}, LRU {lru}");
    assert!(1_000 - shifted <= 2 * (1_000 - light) + 10, "{report}");
    assert!(shifted > lru + 500, "{report}");
}

/// `heavy_then_light` replaying a skewed trace of weight-1 keys (200,000 requests, keys log-uniform over
/// 100,000, as `a_generous_maxsize_keeps_tinylfu_ahead_of_lru`'s): the shard that started with heavy entries hits
/// within half a point of the one with light entries from the start, and a point above LRU. (Before: 72.30 %
/// against 73.80 %, LRU 71.36 %; after: 73.68 %.)
#[test]
fn tinylfu_hits_as_well_after_heavy_entries_gave_way_to_light_ones() {
    let trace = skewed_trace(200_000);
    let hits = |policy, heavy_first| hit_ratio(&heavy_then_light(policy, heavy_first, 1), &trace);
    let shifted = hits(Policy::TinyLfu, true);
    let light = hits(Policy::TinyLfu, false);
    let lru = hits(Policy::Lru, true);
    let report =
        format!("heavy first {shifted:.2} %, light from the start {light:.2} %, LRU {lru:.2} %");
    assert!(shifted >= light - 0.5, "{report}");
    assert!(shifted > lru + 1.0, "{report}");
}
