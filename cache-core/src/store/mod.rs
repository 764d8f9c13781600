//! One shard's storage: a hash table of slot indices, a dense slab of entries, an eviction policy over the slot
//! indices and an ordered set of deadlines.
//!
//! Everything here takes `&mut self` and the current time as an argument: the store holds no lock, reads no
//! clock and knows nothing of concurrency. Entries that leave the store are handed back to the caller (see
//! [`Graveyard`]) so they are dropped after the shard lock is released.
//!
//! # Panic safety
//! The keys' `Hash` and `Eq` are user code and may panic at any call. Every mutation calls them only *before* it
//! changes anything (each removal hashes the entry it will move first; the table grows into a new table built
//! beside the old one), so a panic leaves the store as it was before the step that called them: each step of
//! a multi-step operation (a write's purge of expired entries, an eviction, the insert itself) is whole or
//! absent. Counters are bumped only after the step they count. Values are never cloned or dropped here.
//!
//! # Weights
//! A store built with a `max_weight` (a cache with a weigher) keeps each entry's weight (computed by the caller,
//! before it locks: the weigher is user code) beside its policy links, and the total: a write evicts until the
//! new entry fits both bounds, the count and the weight. An entry heavier than `max_weight` alone is not stored.
//! Without one, no weight is kept and nothing on the read path changes.

use std::borrow::Borrow;
use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;

use crossbeam_utils::CachePadded;

use crate::policy::{AnyPolicy, EvictionPolicy, Meta, Slots};
use crate::prefetch::{Probe, BUCKET, PREFETCH_MIN_ENTRIES};
// The order's mutex: `parking_lot`'s, or loom's in the loom models (see `crate::sync`).
use crate::sync::Mutex;

/// The deadline of an entry that never expires.
pub(crate) const NEVER: u64 = u64::MAX;

/// At most this many expired entries are reclaimed by one write, so no single insert pays for a mass expiry.
const PURGE_PER_WRITE: usize = 8;

/// A stored entry: just the key and the value.
///
/// The policy's links are *not* here but in a side vector of the same length (`Order::meta`): hits on other
/// cores read the entry, and replaying reads into the policy writes the links, so keeping the two apart keeps
/// the entries' cache lines read-only on the hit path. Deadlines live in another side vector, which a store
/// without any TTL never allocates ([`Store::deadline_of`]).
#[derive(Debug)]
pub(crate) struct Entry<K, V> {
    pub(crate) key: K,
    pub(crate) value: V,
}

/// What a shared (read-locked) lookup found.
pub(crate) enum Found<'a, V> {
    /// A live value, in this slot.
    Live(u32, &'a V),
    /// No entry.
    Absent,
    /// An expired entry: only an exclusive lookup may reclaim it.
    Expired,
    /// A live value, in this slot, due for a refresh (`refresh_after`; only in caches built with it).
    Stale(u32, &'a V),
}

pub(crate) use crate::grave::Graveyard;

mod refresh;
use refresh::Refresh;

/// Per-shard event counts. They live inside the shard, behind its lock, so counting costs no atomic operation
/// and no shared cache line.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counters {
    pub(crate) hits: u64,
    pub(crate) misses: u64,
    pub(crate) evictions: u64,
    pub(crate) expirations: u64,
    /// Values not stored because they weigh more than the store's `max_weight` alone.
    pub(crate) oversized: u64,
}

/// The eviction order: the policy and the links it keeps for each slot (`meta[i]` belongs to `entries[i]`), and
/// for a store with a weight bound, each slot's weight (`weight[i]`; empty otherwise).
#[derive(Debug)]
struct Order {
    policy: AnyPolicy,
    meta: Vec<Meta>,
    weight: Vec<u32>,
    /// Whether `weight` is kept (the store has a weight bound).
    weighted: bool,
}

impl Order {
    /// The policy, and the slots as it sees them.
    #[inline]
    fn parts(&mut self) -> (&mut AnyPolicy, Slots<'_>) {
        let slots = Slots {
            meta: &mut self.meta,
            weight: &self.weight,
        };
        (&mut self.policy, slots)
    }

    fn touch(&mut self, i: u32) {
        let (policy, mut slots) = self.parts();
        policy.touch(&mut slots, i);
    }

    fn touch_many(&mut self, idxs: &[u32]) {
        let (policy, mut slots) = self.parts();
        policy.touch_many(&mut slots, idxs);
    }

    /// Builds the policy's order if it is not kept yet (before the first eviction; `len` slots).
    fn prepare_eviction(&mut self, len: usize) {
        let (policy, mut slots) = self.parts();
        policy.order(&mut slots, len);
    }

    /// Slot `i` was just added to `meta` (and `weight`): the policy learns of its entry, whose key hashes to
    /// `hash`.
    fn insert(&mut self, i: u32, hash: u64) {
        let (policy, mut slots) = self.parts();
        policy.insert(&mut slots, i, hash);
    }

    /// The slot to evict (the policy may rearrange its order to decide).
    fn victim(&mut self) -> Option<u32> {
        let (policy, mut slots) = self.parts();
        policy.victim(&mut slots)
    }

    /// The weight of slot `i` (0 without a weight bound).
    fn weight(&self, i: u32) -> u64 {
        self.weight.get(i as usize).map_or(0, |&w| u64::from(w))
    }

    /// While `Some(i)`, slot `i`'s entry should not be the victim (see `EvictionPolicy::keep`).
    fn keep(&mut self, i: Option<u32>) {
        self.policy.keep(i);
    }

    /// Slot `i`'s entry now weighs `weight`; returns what it weighed.
    fn reweigh(&mut self, i: u32, weight: u32) -> u64 {
        let old = std::mem::replace(&mut self.weight[i as usize], weight);
        let (policy, mut slots) = self.parts();
        policy.reweigh(&mut slots, i, u64::from(old));
        u64::from(old)
    }

    /// The entry of slot `i` leaves: the policy forgets it, and the last slot's links (and weight) move into its
    /// place. Returns its weight (0 without a weight bound).
    fn remove(&mut self, i: u32) -> u64 {
        let (policy, mut slots) = self.parts();
        policy.remove(&mut slots, i);
        self.meta.swap_remove(i as usize);
        if self.weighted {
            u64::from(self.weight.swap_remove(i as usize))
        } else {
            0
        }
    }

    /// The entry of slot `from` now sits at `to`.
    fn relocate(&mut self, from: u32, to: u32) {
        let (policy, mut slots) = self.parts();
        policy.relocate(&mut slots, from, to);
    }

    /// Forgets every entry and releases the links' memory.
    fn clear(&mut self) {
        self.policy.clear();
        self.meta = Vec::new();
        self.weight = Vec::new();
    }
}

/// `repr(C)`: the fields every hit reads (`table`, `entries`, `deadline_of`) come first, in declaration order, so
/// that they share as few cache lines as possible (with the fields of the lock in front of them: see
/// [`crate::striped::Striped`]). The order, which replays write, lives in an allocation of its own.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct Store<K, V, S> {
    table: HashTable<u32>,
    entries: Vec<Entry<K, V>>,
    /// The deadline of each slot, in nanoseconds since the cache was built ([`NEVER`] for none); empty while no
    /// entry has had a deadline since the store was built or cleared (then every deadline is `NEVER`).
    deadline_of: Vec<u64>,
    /// When each slot is due for a refresh: empty unless the cache was built with `refresh_after`.
    refresh: Refresh,
    /// The eviction order. Every exclusive operation reaches it through `&mut self` (`Mutex::get_mut`, no
    /// locking); a reader replaying its stripe's buffered reads under a shared lock locks it
    /// ([`Self::replay_shared`]), so replays never stop other readers. Written on every replay: boxed, on cache
    /// lines of its own, away from the fields every hit reads.
    order: Box<CachePadded<Mutex<Order>>>,
    /// `(deadline, slot)` for every entry that has a deadline, soonest first.
    deadlines: BTreeSet<(u64, u32)>,
    capacity: usize,
    /// The most total weight, for a cache with a weigher.
    max_weight: Option<u64>,
    /// What the entries weigh together (0 without a weight bound), expired ones not yet reclaimed included.
    weight: u64,
    hasher: S,
    pub(crate) counters: Counters,
    /// Where a lookup of the table reads first, for readers to prefetch before they lock (see
    /// [`crate::prefetch`]); zero while the store holds fewer than `prefetch_from` entries.
    probe: Probe,
    prefetch_from: usize,
}

impl<K, V, S> Store<K, V, S> {
    /// Where a lookup of the table reads first, or zero while the store holds too few entries to be worth
    /// prefetching.
    pub(crate) fn probe(&self) -> Probe {
        self.probe
    }
}

/// The address of the control bytes of a `hashbrown` table whose bucket `index` (a `u32`) is at `bucket`: the
/// buckets lie just below the control bytes, highest index lowest (see [`crate::prefetch`]; a test checks it).
fn table_ctrl(bucket: usize, index: usize) -> usize {
    bucket + (index + 1) * BUCKET
}

impl<K, V, S> Store<K, V, S>
where
    K: Hash + Eq,
    S: BuildHasher,
{
    /// A store holding at most `capacity` entries (`1..=u32::MAX - 1`; the builder checks) weighing at most
    /// `max_weight` together (if given, at least 1), one of `shards` alike (which decides from what size its
    /// [`probe`](Self::probe) is worth prefetching).
    pub(crate) fn new(
        capacity: usize,
        max_weight: Option<u64>,
        shards: usize,
        policy: crate::Policy,
        hasher: S,
    ) -> Self {
        debug_assert!(capacity >= 1 && capacity < u32::MAX as usize);
        debug_assert!(max_weight != Some(0));
        Self {
            table: HashTable::new(),
            entries: Vec::new(),
            deadline_of: Vec::new(),
            refresh: Refresh::new(NEVER),
            order: Box::new(CachePadded::new(Mutex::new(Order {
                policy: AnyPolicy::new(policy, capacity, max_weight, shards),
                meta: Vec::new(),
                weight: Vec::new(),
                weighted: max_weight.is_some(),
            }))),
            deadlines: BTreeSet::new(),
            capacity,
            max_weight,
            weight: 0,
            hasher,
            counters: Counters::default(),
            probe: Probe::default(),
            prefetch_from: PREFETCH_MIN_ENTRIES.div_ceil(shards.max(1)),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Makes every value stored from now on due for a refresh `after` nanoseconds after it is stored (called
    /// once, on an empty store).
    pub(crate) fn set_refresh_after(&mut self, after: u64) {
        debug_assert!(self.entries.is_empty());
        self.refresh = Refresh::new(after);
    }

    /// Whether values are due for refreshes (then a store needs the time).
    pub(crate) fn refreshes(&self) -> bool {
        self.refresh.enabled()
    }

    /// Starts a refresh of `key` if it is live and due at `now`: marks it so that no other hit starts one until
    /// the refresh stores a value or [`Self::end_refresh`]; returns the entry's deadline if it did.
    pub(crate) fn begin_refresh(&mut self, hash: u64, key: &K, now: u64) -> Option<u64> {
        let i = self.find(hash, key)?;
        match self.refresh.get(i) {
            Some(due) if due <= now && !Self::expired(self.deadline(i), || now) => {
                self.refresh.begin(i);
                Some(self.deadline(i))
            }
            _ => None,
        }
    }

    /// A refresh of `key` ended without storing a value: if the entry is still marked, it is due again at once.
    pub(crate) fn end_refresh(&mut self, hash: u64, key: &K) {
        if let Some(i) = self.find(hash, key) {
            self.refresh.reset(i);
        }
    }

    /// What the entries weigh together (0 without a weight bound).
    pub(crate) fn weight(&self) -> u64 {
        self.weight
    }

    /// Whether one more entry weighing `weight` fits the weight bound as it is now (always without one).
    fn fits(&self, weight: u32) -> bool {
        self.max_weight
            .is_none_or(|max| self.weight + u64::from(weight) <= max)
    }

    /// Whether any entry carries a deadline (if none does, the callers need not read the clock).
    pub(crate) fn has_deadlines(&self) -> bool {
        !self.deadlines.is_empty()
    }

    #[inline]
    fn find<Q>(&self, hash: u64, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let entries = &self.entries;
        self.table
            .find(hash, |&i| entries[i as usize].key.borrow() == key)
            .copied()
    }

    #[inline]
    fn expired(deadline: u64, now: impl FnOnce() -> u64) -> bool {
        deadline != NEVER && deadline <= now()
    }

    /// The deadline of slot `i`.
    #[inline]
    fn deadline(&self, i: u32) -> u64 {
        self.deadline_of.get(i as usize).copied().unwrap_or(NEVER)
    }

    /// Sets the deadline of slot `i` (which exists), allocating the side vector on the first real deadline.
    fn set_deadline(&mut self, i: u32, deadline: u64) {
        if self.deadline_of.is_empty() {
            if deadline == NEVER {
                return;
            }
            let mut all = Vec::with_capacity(self.entries.capacity());
            all.resize(self.entries.len(), NEVER);
            self.deadline_of = all;
        }
        self.deadline_of[i as usize] = deadline;
    }

    /// Keys and values of the live entries, in slab order (for tests and iteration).
    #[cfg(test)]
    pub(crate) fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|e| &e.key)
    }
}

mod read;
mod slots;
mod write;

#[cfg(test)]
mod tests;
