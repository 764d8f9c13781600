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

use crate::hooks::EvictionCause;
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
    fn order(&mut self, len: usize) {
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
                policy: AnyPolicy::new(policy, capacity, max_weight),
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
    /// the refresh stores a value or [`Self::end_refresh`]; returns whether it did.
    pub(crate) fn begin_refresh(&mut self, hash: u64, key: &K, now: u64) -> bool {
        let Some(i) = self.find(hash, key) else {
            return false;
        };
        match self.refresh.get(i) {
            Some(due) if due <= now && !Self::expired(self.deadline(i), || now) => {
                self.refresh.begin(i);
                true
            }
            _ => false,
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

    /// Looks `key` up and returns what `read` makes of its value (a clone), then refreshes the entry for the
    /// policy, counting a hit only when `HITS` and a miss only when `MISSES` (a retried lookup is not a new
    /// request; a fast-path lookup that falls back to a counted one must not count its miss). `read` runs first:
    /// if it panics (a user `Clone`), nothing is counted or refreshed. An expired entry is removed (counted as an
    /// expiration) and never returned.
    #[inline]
    pub(crate) fn lookup<Q, R, const HITS: bool, const MISSES: bool>(
        &mut self,
        hash: u64,
        key: &Q,
        now: impl FnOnce() -> u64,
        grave: &mut Graveyard<K, V>,
        read: impl FnOnce(&V) -> R,
    ) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let Some(i) = self.find(hash, key) else {
            self.counters.misses += u64::from(MISSES);
            return None;
        };
        if Self::expired(self.deadline(i), now) {
            grave.bury(self.remove_at(hash, i), EvictionCause::Expired);
            self.counters.misses += u64::from(MISSES);
            self.counters.expirations += 1;
            return None;
        }
        let value = read(&self.entries[i as usize].value);
        self.counters.hits += u64::from(HITS);
        self.order.get_mut().touch(i);
        Some(value)
    }

    /// Looks `key` up through a shared reference (under a read lock): counts nothing and touches nothing. The
    /// caller records the hit and the slot it read, and hands the slot to [`Self::replay`] later.
    #[inline]
    pub(crate) fn find_shared<Q>(
        &self,
        hash: u64,
        key: &Q,
        now: impl FnOnce() -> u64,
    ) -> Found<'_, V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let Some(i) = self.find(hash, key) else {
            return Found::Absent;
        };
        if let Some(due) = self.refresh.get(i) {
            return self.find_refreshing(i, due, now());
        }
        if Self::expired(self.deadline(i), now) {
            Found::Expired
        } else {
            Found::Live(i, &self.entries[i as usize].value)
        }
    }

    /// [`Self::find_shared`] in a cache that refreshes: one reading of the time for the deadline and the refresh.
    #[inline]
    fn find_refreshing(&self, i: u32, due: u64, now: u64) -> Found<'_, V> {
        let value = &self.entries[i as usize].value;
        if Self::expired(self.deadline(i), || now) {
            Found::Expired
        } else if due <= now {
            Found::Stale(i, value)
        } else {
            Found::Live(i, value)
        }
    }

    /// Applies reads recorded under read locks, oldest first, as if each had been an exclusive lookup. Every slot
    /// must still hold the entry that was read: the store has not changed since (the caller replays before any
    /// change).
    pub(crate) fn replay(&mut self, slots: &[u32]) {
        self.order.get_mut().touch_many(slots);
    }

    /// [`Self::replay`] under a shared lock, for a reader whose stripe's buffer is full: the same condition
    /// holds (the caller's stripe lock keeps every writer out, and every writer replays all buffers before it
    /// changes anything), and only the order is written, under its own lock, so other readers go on meanwhile.
    #[cold]
    #[inline(never)]
    pub(crate) fn replay_shared(&self, slots: &[u32]) {
        self.order.lock().touch_many(slots);
    }

    /// The stored key equal to `key`, live or expired (the shared tier needs the owned key of a removal).
    pub(crate) fn key<Q>(&self, hash: u64, key: &Q) -> Option<&K>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.find(hash, key).map(|i| &self.entries[i as usize].key)
    }

    /// Looks `key` up without counting or touching it. An expired entry is not returned.
    pub(crate) fn peek<Q>(&self, hash: u64, key: &Q, now: impl FnOnce() -> u64) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let i = self.find(hash, key)?;
        (!Self::expired(self.deadline(i), now)).then_some(&self.entries[i as usize].value)
    }

    /// Inserts or replaces `key`. A new key in a full store first displaces an expired entry if there is one,
    /// otherwise the policy's victim, until it fits (in count and, with a weight bound, in weight: `weight` is
    /// ignored without one). `deadline` is [`NEVER`] or nanoseconds since the epoch; `now` is only read when
    /// deadlines exist.
    ///
    /// With a weight bound: a value heavier than the bound alone is not stored (it goes to `grave` as evicted,
    /// and a live value it would replace as replaced); a replacement that makes its entry heavier first counts
    /// as a use of it, then evicts the policy's victims until it fits, and should the policy pick the entry
    /// itself, the value is stored as a new entry.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn insert(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        deadline: u64,
        weight: u32,
        now: u64,
        grave: &mut Graveyard<K, V>,
    ) {
        if self.has_deadlines() {
            self.purge_expired(now, PURGE_PER_WRITE, grave);
        }
        let mut existing = self.find(hash, &key);
        if let Some(i) = existing {
            if Self::expired(self.deadline(i), || now) {
                // An expired entry is gone for every purpose: the key comes back as a new entry (for LFU, with a
                // fresh count), exactly as if the entry had been reclaimed already.
                grave.bury(self.remove_at(hash, i), EvictionCause::Expired);
                self.counters.expirations += 1;
                existing = None;
            }
        }
        if let Some(max) = self.max_weight {
            if u64::from(weight) > max {
                if let Some(i) = existing {
                    grave.bury(self.remove_at(hash, i), EvictionCause::Replaced);
                }
                grave.bury(Entry { key, value }, EvictionCause::Evicted);
                self.counters.oversized += 1;
                return;
            }
            if let Some(i) = existing {
                self.order.get_mut().touch(i);
                existing = self.room_to_reweigh(i, weight, now, grave);
                if let Some(i) = existing {
                    let old = self.order.get_mut().reweigh(i, weight);
                    self.weight = self.weight - old + u64::from(weight);
                }
            }
        }
        if let Some(i) = existing {
            let old_deadline = self.deadline(i);
            let old_value = std::mem::replace(&mut self.entries[i as usize].value, value);
            self.set_deadline(i, deadline);
            self.refresh.restart(i, now);
            grave.bury(
                Entry {
                    key,
                    value: old_value,
                },
                EvictionCause::Replaced,
            );
            if old_deadline != NEVER {
                self.deadlines.remove(&(old_deadline, i));
            }
            if deadline != NEVER {
                self.deadlines.insert((deadline, i));
            }
            if self.max_weight.is_none() {
                // (A weighted replacement was touched before it made room.)
                self.order.get_mut().touch(i);
            }
            return;
        }
        if self.entries.len() >= self.capacity || !self.fits(weight) {
            // The first eviction of the store's life builds the policy's order (see `policy::lru`).
            let len = self.entries.len();
            self.order.get_mut().order(len);
            while self.entries.len() >= self.capacity || !self.fits(weight) {
                if self.make_room(now, grave).is_none() {
                    debug_assert!(false, "nothing to evict from a store that is full");
                    break;
                }
            }
        }
        // Grow the table first: that calls the user's `Hash`, and if it panics the store must not already hold an
        // entry the table and the policy do not know.
        self.reserve_one();
        let idx = u32::try_from(self.entries.len()).expect("capacity is below u32::MAX");
        if self.entries.len() == self.entries.capacity() {
            // Grow by doubling, but never past the capacity: a full cache carries no slack.
            let want = self
                .entries
                .len()
                .max(4)
                .min(self.capacity - self.entries.len());
            self.entries.reserve_exact(want);
            let order = self.order.get_mut();
            order.meta.reserve_exact(want);
            if order.weighted {
                order.weight.reserve_exact(want);
            }
            if !self.deadline_of.is_empty() {
                self.deadline_of.reserve_exact(want);
            }
            self.refresh.reserve_exact(want);
        }
        self.entries.push(Entry { key, value });
        let order = self.order.get_mut();
        order.meta.push(Meta::default());
        if order.weighted {
            order.weight.push(weight);
            self.weight += u64::from(weight);
        }
        if self.deadline_of.is_empty() {
            self.set_deadline(idx, deadline);
        } else {
            self.deadline_of.push(deadline);
        }
        self.refresh.push(now);
        let (entries, hasher) = (&self.entries, &self.hasher);
        let bucket = self
            .table
            .insert_unique(hash, idx, |&i| hasher.hash_one(&entries[i as usize].key));
        // The table may have grown (moved) just before: the new bucket locates it.
        let ctrl = table_ctrl(
            std::ptr::from_ref(bucket.get()).addr(),
            bucket.bucket_index(),
        );
        self.probe = if self.entries.len() >= self.prefetch_from {
            Probe {
                ctrl,
                mask: self.table.num_buckets() - 1,
            }
        } else {
            Probe::default()
        };
        self.order.get_mut().insert(idx, hash);
        if deadline != NEVER {
            self.deadlines.insert((deadline, idx));
        }
    }

    /// Removes one entry: the soonest-expiring one if it has expired, otherwise the policy's victim. Returns the
    /// slot it was in (into which the last slot's entry moved), or `None` if there was none to remove.
    fn make_room(&mut self, now: u64, grave: &mut Graveyard<K, V>) -> Option<u32> {
        if let Some(&(deadline, i)) = self.deadlines.first() {
            if deadline <= now {
                let hash = self.hasher.hash_one(&self.entries[i as usize].key);
                grave.bury(self.remove_at(hash, i), EvictionCause::Expired);
                self.counters.expirations += 1;
                return Some(i);
            }
        }
        let i = self.order.get_mut().victim()?;
        let hash = self.hasher.hash_one(&self.entries[i as usize].key);
        grave.bury(self.remove_at(hash, i), EvictionCause::Evicted);
        self.counters.evictions += 1;
        Some(i)
    }

    /// Evicts until the entry of slot `i` may weigh `weight` (at most the bound) instead of what it weighs now.
    /// Returns the slot it is in then, or `None` if it was evicted itself (the policy ranked it last).
    fn room_to_reweigh(
        &mut self,
        mut i: u32,
        weight: u32,
        now: u64,
        grave: &mut Graveyard<K, V>,
    ) -> Option<u32> {
        let max = self.max_weight.unwrap_or(u64::MAX);
        let old = self.order.get_mut().weight(i);
        let mut ordered = false;
        while self.weight - old + u64::from(weight) > max {
            if !ordered {
                let len = self.entries.len();
                self.order.get_mut().order(len);
                ordered = true;
            }
            let last = u32::try_from(self.entries.len() - 1).expect("slot indices fit u32");
            let removed = self.make_room(now, grave)?;
            if removed == i {
                return None;
            }
            if i == last {
                // The last slot's entry moved into the hole.
                i = removed;
            }
        }
        Some(i)
    }

    /// Removes `key` into `grave`; returns whether it was there and live (an expired value is not handed back).
    pub(crate) fn remove<Q>(
        &mut self,
        hash: u64,
        key: &Q,
        now: impl FnOnce() -> u64,
        grave: &mut Graveyard<K, V>,
    ) -> Option<bool>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let i = self.find(hash, key)?;
        let live = !Self::expired(self.deadline(i), now);
        let cause = if live {
            EvictionCause::Removed
        } else {
            EvictionCause::Expired
        };
        grave.bury(self.remove_at(hash, i), cause);
        Some(live)
    }

    /// Reclaims up to `limit` expired entries; returns how many.
    pub(crate) fn purge_expired(
        &mut self,
        now: u64,
        limit: usize,
        grave: &mut Graveyard<K, V>,
    ) -> usize {
        let mut purged = 0;
        while purged < limit {
            match self.deadlines.first() {
                Some(&(deadline, i)) if deadline <= now => {
                    let hash = self.hasher.hash_one(&self.entries[i as usize].key);
                    grave.bury(self.remove_at(hash, i), EvictionCause::Expired);
                    self.counters.expirations += 1;
                    purged += 1;
                }
                _ => break,
            }
        }
        purged
    }

    /// Removes the entries `keep` refuses, into `grave`; returns how many. Walks the slab from the end, so the
    /// entry each removal moves into the hole has already been looked at.
    pub(crate) fn retain(
        &mut self,
        mut keep: impl FnMut(&K, &V) -> bool,
        grave: &mut Graveyard<K, V>,
    ) -> usize {
        let mut removed = 0;
        for i in (0..self.entries.len()).rev() {
            let entry = &self.entries[i];
            if !keep(&entry.key, &entry.value) {
                let hash = self.hasher.hash_one(&entry.key);
                #[allow(clippy::cast_possible_truncation)] // slot indices fit u32
                grave.bury(self.remove_at(hash, i as u32), EvictionCause::Removed);
                removed += 1;
            }
        }
        removed
    }

    /// Removes every entry into `grave` and releases the memory.
    pub(crate) fn clear(&mut self, grave: &mut Graveyard<K, V>) {
        self.table = HashTable::new();
        self.probe = Probe::default();
        self.order.get_mut().clear();
        self.weight = 0;
        self.deadline_of = Vec::new();
        self.refresh.clear();
        self.deadlines = BTreeSet::new();
        grave.push_cleared(std::mem::take(&mut self.entries));
    }

    /// The table position holding slot `idx`, found through `hash`. A `Hash` impl that disagrees with itself
    /// could make the lookup miss; a linear scan then keeps the store consistent instead of panicking.
    fn table_slot(&mut self, hash: u64, idx: u32) -> Option<&mut u32> {
        // Two lookups keep the borrow checker happy without unsafe; the scan only runs for broken `Hash` impls.
        if self.table.find(hash, |&i| i == idx).is_some() {
            self.table.find_mut(hash, |&i| i == idx)
        } else {
            self.table.iter_mut().find(|i| **i == idx)
        }
    }

    /// Makes room in the table for one more slot without reallocating, calling the user's `Hash` only while
    /// nothing has changed: `HashTable::reserve` may rehash in place, and a `Hash` that panics there loses the
    /// slots not yet placed (hashbrown drops them, and the store would keep entries no lookup reaches). So the
    /// table is rebuilt beside the old one, with as many buckets as `reserve` would choose, and swapped in only
    /// once every hash is computed. It runs as rarely as `reserve` would grow or rehash.
    fn reserve_one(&mut self) {
        if self.table.len() < self.table.capacity() {
            return;
        }
        let buckets = self.table.num_buckets();
        // hashbrown's load factor: 7/8, or one bucket short of full under 8 buckets.
        let full = if buckets < 8 {
            buckets.saturating_sub(1)
        } else {
            buckets / 8 * 7
        };
        let want = self.table.len() + 1;
        // Like `reserve`: as many buckets again if only deleted slots filled it, otherwise twice as many.
        let capacity = if want <= full / 2 {
            full
        } else {
            want.max(full + 1)
        };
        let (entries, hasher) = (&self.entries, &self.hasher);
        let rehash = |&i: &u32| hasher.hash_one(&entries[i as usize].key);
        let mut table = HashTable::with_capacity(capacity);
        for i in &self.table {
            // Never grows: `table` has room for every slot (the closure is only there for the signature).
            table.insert_unique(rehash(i), *i, rehash);
        }
        self.table = table;
    }

    /// Removes the entry at slot `idx` (whose key hashes to `hash`), keeping the slab dense by moving the last
    /// entry into the hole. The moved entry's key is hashed before anything changes (that is user code, which
    /// may panic).
    fn remove_at(&mut self, hash: u64, idx: u32) -> Entry<K, V> {
        let last = u32::try_from(self.entries.len() - 1).expect("slot indices fit u32");
        let moved_hash =
            (idx != last).then(|| self.hasher.hash_one(&self.entries[last as usize].key));
        if self
            .table
            .find_entry(hash, |&i| i == idx)
            .map(|e| e.remove())
            .is_err()
        {
            // Broken `Hash` impl: find the slot by scanning.
            self.table.retain(|i| *i != idx);
        }
        self.weight -= self.order.get_mut().remove(idx);
        let entry = self.entries.swap_remove(idx as usize);
        self.refresh.swap_remove(idx);
        let deadline = if self.deadline_of.is_empty() {
            NEVER
        } else {
            self.deadline_of.swap_remove(idx as usize)
        };
        if deadline != NEVER {
            self.deadlines.remove(&(deadline, idx));
        }
        if let Some(moved_hash) = moved_hash {
            let moved_deadline = self.deadline(idx);
            if let Some(slot) = self.table_slot(moved_hash, last) {
                *slot = idx;
            }
            self.order.get_mut().relocate(last, idx);
            if moved_deadline != NEVER {
                self.deadlines.remove(&(moved_deadline, last));
                self.deadlines.insert((moved_deadline, idx));
            }
        }
        entry
    }

    /// Keys and values of the live entries, in slab order (for tests and iteration).
    #[cfg(test)]
    pub(crate) fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|e| &e.key)
    }
}

#[cfg(test)]
mod tests;
