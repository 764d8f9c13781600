//! Model-based tests: random operation sequences on a one-shard cache, compared step by step with a tiny,
//! obviously correct reference LRU/LFU that keeps a logical clock. TinyLFU runs against the same reference with
//! its victims taken from the cache (they depend on its sketch), everything else checked alike.
//!
//! The caches hold at most 8 entries, so every write reclaims all expired entries (the store reclaims up to 8
//! per write): the model can then say exactly which entries are stored at every step.

use std::collections::BTreeMap;
use std::time::Duration;

use cache_core::clock::ManualClock;
use cache_core::{AsyncCache, Policy};
use proptest::prelude::*;

const KEYS: u8 = 12;
const SECOND: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
enum Op {
    Insert(u8, u32),
    InsertTtl(u8, u32, Option<u8>),
    Get(u8),
    Peek(u8),
    Contains(u8),
    Remove(u8),
    Clear,
    Advance(u8),
    Purge,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..KEYS, any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
        2 => (0..KEYS, any::<u32>(), proptest::option::of(1..4u8)).prop_map(|(k, v, t)| Op::InsertTtl(k, v, t)),
        5 => (0..KEYS).prop_map(Op::Get),
        1 => (0..KEYS).prop_map(Op::Peek),
        1 => (0..KEYS).prop_map(Op::Contains),
        1 => (0..KEYS).prop_map(Op::Remove),
        1 => Just(Op::Clear),
        1 => (0..3u8).prop_map(Op::Advance),
        1 => Just(Op::Purge),
    ]
}

#[derive(Debug, Clone)]
struct ModelEntry {
    value: u32,
    /// Seconds since start; `None` never expires.
    deadline: Option<u64>,
    /// LRU: last use. LFU: when the entry reached its current frequency.
    tick: u64,
    freq: u64,
}

/// The reference: a map, a logical clock, a linear scan for the victim.
#[derive(Debug)]
struct Model {
    policy: Policy,
    capacity: usize,
    default_ttl: Option<u64>,
    entries: BTreeMap<u8, ModelEntry>,
    now: u64,
    tick: u64,
    hits: u64,
    misses: u64,
    evictions: u64,
    expirations: u64,
}

impl Model {
    fn expired(&self, e: &ModelEntry) -> bool {
        e.deadline.is_some_and(|d| d <= self.now)
    }

    fn live(&self, k: u8) -> Option<u32> {
        self.entries
            .get(&k)
            .filter(|e| !self.expired(e))
            .map(|e| e.value)
    }

    fn touch(&mut self, k: u8) {
        self.tick += 1;
        let tick = self.tick;
        let e = self.entries.get_mut(&k).unwrap();
        e.tick = tick;
        e.freq += 1;
    }

    fn purge(&mut self) -> usize {
        let dead: Vec<u8> = self
            .entries
            .iter()
            .filter(|(_, e)| self.expired(e))
            .map(|(k, _)| *k)
            .collect();
        for k in &dead {
            self.entries.remove(k);
        }
        self.expirations += dead.len() as u64;
        dead.len()
    }

    fn get(&mut self, k: u8) -> Option<u32> {
        match self.entries.get(&k) {
            None => {
                self.misses += 1;
                None
            }
            Some(e) if self.expired(e) => {
                self.entries.remove(&k);
                self.misses += 1;
                self.expirations += 1;
                None
            }
            Some(e) => {
                let v = e.value;
                self.hits += 1;
                self.touch(k);
                Some(v)
            }
        }
    }

    /// `gone(key)`: whether the cache no longer holds `key` (TinyLFU's victim is the cache's choice: the model
    /// checks only that exactly one live entry, not the new one, made room).
    fn insert(&mut self, k: u8, value: u32, ttl: Option<u64>, gone: impl Fn(u8) -> bool) {
        self.purge();
        let deadline = ttl.map(|t| self.now + t);
        if let Some(e) = self.entries.get_mut(&k) {
            e.value = value;
            e.deadline = deadline;
            self.touch(k);
            return;
        }
        if self.entries.len() >= self.capacity && self.policy == Policy::TinyLfu {
            let victims: Vec<u8> = self.entries.keys().copied().filter(|&v| gone(v)).collect();
            assert_eq!(
                victims.len(),
                1,
                "one live entry makes room for {k}: {victims:?}"
            );
            self.entries.remove(&victims[0]);
            self.evictions += 1;
        } else if self.entries.len() >= self.capacity {
            let victim = *self
                .entries
                .iter()
                .min_by_key(|(_, e)| match self.policy {
                    Policy::Lfu => (e.freq, e.tick),
                    _ => (0, e.tick),
                })
                .unwrap()
                .0;
            self.entries.remove(&victim);
            self.evictions += 1;
        }
        self.tick += 1;
        self.entries.insert(
            k,
            ModelEntry {
                value,
                deadline,
                tick: self.tick,
                freq: 1,
            },
        );
    }
}

fn run(policy: Policy, capacity: usize, default_ttl: Option<u8>, ops: &[Op]) {
    let clock = ManualClock::new();
    let mut builder = AsyncCache::<u8, u32>::builder()
        .maxsize(capacity)
        .policy(policy)
        .shards(1)
        .clock(clock.clone());
    if let Some(t) = default_ttl {
        builder = builder.ttl(SECOND * u32::from(t));
    }
    let cache = builder.build().unwrap();
    let mut model = Model {
        policy,
        capacity,
        default_ttl: default_ttl.map(u64::from),
        entries: BTreeMap::new(),
        now: 0,
        tick: 0,
        hits: 0,
        misses: 0,
        evictions: 0,
        expirations: 0,
    };
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Insert(k, v) => {
                cache.insert(k, v);
                model.insert(k, v, model.default_ttl, |g| !cache.contains_key(&g));
            }
            Op::InsertTtl(k, v, t) => {
                cache.insert_with_ttl(k, v, t.map(|t| SECOND * u32::from(t)));
                model.insert(k, v, t.map(u64::from), |g| !cache.contains_key(&g));
            }
            Op::Get(k) => assert_eq!(cache.get(&k), model.get(k), "step {step}: {op:?}"),
            Op::Peek(k) => assert_eq!(cache.peek(&k), model.live(k), "step {step}: {op:?}"),
            Op::Contains(k) => assert_eq!(
                cache.contains_key(&k),
                model.live(k).is_some(),
                "step {step}: {op:?}"
            ),
            Op::Remove(k) => {
                let expected = model.live(k);
                model.entries.remove(&k);
                assert_eq!(cache.remove(&k), expected, "step {step}: {op:?}");
            }
            Op::Clear => {
                cache.clear();
                model.entries.clear();
                (model.hits, model.misses, model.evictions, model.expirations) = (0, 0, 0, 0);
            }
            Op::Advance(s) => {
                clock.advance(SECOND * u32::from(s));
                model.now += u64::from(s);
            }
            Op::Purge => assert_eq!(cache.purge_expired(), model.purge(), "step {step}"),
        }
        let m = cache.metrics();
        assert_eq!(
            m.size,
            model.entries.len(),
            "size after step {step}: {op:?}"
        );
        assert_eq!(cache.len(), model.entries.len(), "len after step {step}");
        assert!(cache.len() <= capacity);
        assert_eq!(
            (m.hits, m.misses, m.evictions, m.expirations),
            (model.hits, model.misses, model.evictions, model.expirations),
            "hits, misses, evictions, expirations after step {step}: {op:?}"
        );
        for k in 0..KEYS {
            assert_eq!(
                cache.peek(&k),
                model.live(k),
                "key {k} after step {step}: {op:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn lru_matches_the_reference(
        capacity in 1..=8usize,
        ttl in proptest::option::of(1..4u8),
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        run(Policy::Lru, capacity, ttl, &ops);
    }

    #[test]
    fn lfu_matches_the_reference(
        capacity in 1..=8usize,
        ttl in proptest::option::of(1..4u8),
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        run(Policy::Lfu, capacity, ttl, &ops);
    }

    /// TinyLFU picks its own victims; everything else (values, TTL, expired entries reclaimed before any live one
    /// is evicted, the new entry always stored, metrics) must match the reference.
    #[test]
    fn tinylfu_keeps_the_store_contract(
        capacity in 1..=8usize,
        ttl in proptest::option::of(1..4u8),
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        run(Policy::TinyLfu, capacity, ttl, &ops);
    }
}

/// The `lru` crate's documented behaviour, step by step, as a fixed regression case.
#[test]
fn lru_exact_order_fixed_case() {
    let cache = AsyncCache::builder().maxsize(3).shards(1).build().unwrap();
    for k in ["a", "b", "c"] {
        cache.insert(k.to_string(), k.len());
    }
    assert_eq!(cache.get("a"), Some(1));
    assert_eq!(cache.peek("b"), Some(1)); // no refresh: "b" stays least recent
    cache.insert("d".to_string(), 1);
    assert!(!cache.contains_key("b"));
    cache.insert("c".to_string(), 9); // a write refreshes
    cache.insert("e".to_string(), 1);
    assert!(!cache.contains_key("a"));
    assert!(cache.contains_key("c") && cache.contains_key("d") && cache.contains_key("e"));
}

#[test]
fn lfu_ties_go_to_the_first_to_reach_the_count() {
    let cache = AsyncCache::builder()
        .maxsize(3)
        .policy(Policy::Lfu)
        .shards(1)
        .build()
        .unwrap();
    for k in 1..=3u32 {
        cache.insert(k, k);
    }
    cache.get(&2);
    cache.get(&1); // 2 and 1 both at 2 uses; 3 at 1
    cache.insert(4, 4); // evicts 3 (least used)
    assert!(!cache.contains_key(&3));
    cache.get(&4); // 2, 1 and 4 now at 2 uses; 2 reached it first, then 1, then 4
    cache.insert(5, 5);
    assert!(!cache.contains_key(&2), "2 reached 2 uses first");
    assert!(cache.contains_key(&1) && cache.contains_key(&4) && cache.contains_key(&5));
    cache.insert(6, 6); // 5 has 1 use: it goes before the 2-use entries
    assert!(!cache.contains_key(&5));
    assert!(cache.contains_key(&1) && cache.contains_key(&4) && cache.contains_key(&6));
}
