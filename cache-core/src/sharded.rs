//! The shards and their locks: the only place that locks a shard.
//!
//! Each shard is a [`Store`] plus the [`Flights`] of its keys behind a reader-striped lock ([`Striped`]), padded
//! to its own cache line. A key's shard comes from bits of its hash that the hash table itself does not use for
//! probing.
//!
//! # The read path
//! A hit ([`Sharded::read`]) locks only the calling thread's stripe and reads the store through a shared
//! reference: it writes nothing another core writes. What a hit must change is kept in the stripe ([`Local`]):
//! its hit/miss counts and the slot it read, appended to the stripe's read buffer. Every exclusive lock
//! ([`Sharded::lock`], [`Sharded::each`], [`Sharded::try_lock_each`]) first *replays* every stripe's buffered
//! reads into the eviction policy, in the order each stripe recorded them, before anything can change: so the
//! buffered slot numbers are still valid, and every eviction decision sees every read that finished before it.
//! A stripe whose buffer fills up ([`READ_BUFFER`] reads) is replayed by the reader that filled it.
//!
//! One thread always uses the same stripe, so the reads of one thread reach the policy in exactly the order it
//! made them. A cache with a single shard gets a single stripe: all threads then share one buffer, filled in the
//! order they took the lock, and the eviction order is exact whatever the threads. With several stripes, reads
//! made by different threads since the last exclusive lock are replayed stripe by stripe, so their relative
//! order is kept only per thread (see `docs/design/read-path.md`).

use std::hash::{BuildHasher, Hash};

use crossbeam_utils::CachePadded;

use crate::flight::Flights;
use crate::store::{Counters, Store};
use crate::striped::{Striped, WriteGuard};

/// The hasher of keys: foldhash, seeded per cache.
pub(crate) type Hasher = foldhash::fast::RandomState;

/// A stripe replays its reads into the policy once it has buffered this many (fewer in a shard that holds fewer
/// entries: see [`Local::new`]).
pub(crate) const READ_BUFFER: usize = 256;

#[derive(Debug)]
pub(crate) struct Shard<K, V> {
    pub(crate) store: Store<K, V, Hasher>,
    pub(crate) flights: Flights<K, V>,
}

/// What the readers of one stripe record instead of writing to the shard.
#[derive(Debug)]
pub(crate) struct Local {
    pub(crate) hits: u64,
    pub(crate) misses: u64,
    /// How many of `reads` are filled.
    buffered: usize,
    /// Slots read since the last replay, oldest first. Allocated with the cache, so that recording a read
    /// allocates nothing.
    reads: Box<[u32]>,
}

impl Local {
    /// The state of one stripe of a shard holding up to `capacity` entries. The buffer is [`READ_BUFFER`] slots,
    /// or the shard's capacity rounded up to a power of two if that is smaller: a shard of a few entries gains
    /// nothing from a long buffer, and a cache split into very many shards would pay for every one.
    fn new(capacity: usize) -> Self {
        let len = capacity.next_power_of_two().clamp(1, READ_BUFFER);
        Self {
            hits: 0,
            misses: 0,
            buffered: 0,
            reads: vec![0; len].into_boxed_slice(),
        }
    }

    /// Records a hit on `slot` (counted only if `count`). [`Sharded::read`] makes sure the buffer has room.
    #[inline]
    pub(crate) fn hit(&mut self, slot: u32, count: bool) {
        self.hits += u64::from(count);
        if let Some(free) = self.reads.get_mut(self.buffered) {
            *free = slot;
            self.buffered += 1;
        }
    }

    fn is_full(&self) -> bool {
        self.buffered >= self.reads.len()
    }

    /// The buffered reads, oldest first, and empties the buffer. An empty buffer is not written to: the line
    /// belongs to the readers of that stripe.
    fn take_reads(&mut self) -> &[u32] {
        let n = self.buffered;
        if n != 0 {
            self.buffered = 0;
        }
        &self.reads[..n]
    }
}

/// A shard locked exclusively, with every stripe's buffered reads already replayed.
pub(crate) type ShardGuard<'a, K, V> = WriteGuard<'a, Shard<K, V>, Local>;

type Locked<K, V> = CachePadded<Striped<Shard<K, V>, Local>>;

#[derive(Debug)]
pub(crate) struct Sharded<K, V> {
    shards: Box<[Locked<K, V>]>,
    hasher: Hasher,
}

impl<K: Hash + Eq, V> Sharded<K, V> {
    /// `maxsize` split over `shards` shards (`1 <= shards <= maxsize`, checked by the builder): the capacities
    /// sum to exactly `maxsize`, so the cache never holds more. Each shard's lock has `stripes` stripes (a power
    /// of two), or fewer for a shard of under `8 * stripes` entries.
    pub(crate) fn new(
        maxsize: usize,
        shards: usize,
        stripes: usize,
        policy: crate::Policy,
    ) -> Self {
        let hasher = Hasher::default();
        let base = maxsize / shards;
        let extra = maxsize % shards;
        let shards = (0..shards)
            .map(|i| {
                let capacity = base + usize::from(i < extra);
                let shard = Shard {
                    store: Store::new(capacity, policy, hasher),
                    flights: Flights::default(),
                };
                // A shard of a handful of entries gets fewer stripes: a cache split into very many tiny shards
                // would otherwise pay for every stripe of every shard (both counts are powers of two).
                let stripes = stripes.min((capacity / 8).max(1).next_power_of_two());
                CachePadded::new(Striped::new(shard, stripes, || Local::new(capacity)))
            })
            .collect();
        Self { shards, hasher }
    }

    #[inline]
    pub(crate) fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.hasher.hash_one(key)
    }

    pub(crate) fn hasher(&self) -> &Hasher {
        &self.hasher
    }

    /// The shard of `hash`. Bits 16..48 pick it: the table probes with the low bits and tags with the top
    /// seven, so the shard choice does not thin out either.
    #[inline]
    fn shard_of(&self, hash: u64) -> &Striped<Shard<K, V>, Local> {
        let n = self.shards.len() as u64;
        let i = ((hash >> 16) & 0xffff_ffff).wrapping_mul(n) >> 32;
        #[allow(clippy::cast_possible_truncation)]
        &self.shards[i as usize]
    }

    /// Runs `f` on the shard of `hash` under its read lock: shared access to the shard, exclusive access to the
    /// calling thread's stripe. Replays the stripe's reads afterwards if its buffer is full.
    #[inline]
    pub(crate) fn read<R>(&self, hash: u64, f: impl FnOnce(&Shard<K, V>, &mut Local) -> R) -> R {
        let striped = self.shard_of(hash);
        let mut guard = striped.read();
        while guard.parts().1.is_full() {
            // Another thread sharing this stripe filled it and has not replayed it yet: replay it here rather
            // than drop this read.
            drop(guard);
            replay(striped);
            guard = striped.read();
        }
        let (out, full) = {
            let (shard, local) = guard.parts();
            let out = f(shard, local);
            (out, local.is_full())
        };
        drop(guard);
        if full {
            replay(striped);
        }
        out
    }

    /// Locks the shard of `hash` exclusively.
    #[inline]
    pub(crate) fn lock(&self, hash: u64) -> ShardGuard<'_, K, V> {
        replayed(self.shard_of(hash).write())
    }

    /// Every shard, locked exclusively one at a time (never two at once).
    pub(crate) fn each(&self) -> impl Iterator<Item = ShardGuard<'_, K, V>> {
        self.shards.iter().map(|s| replayed(s.write()))
    }

    /// Every shard, each locked exclusively if that is possible without waiting (`None` if it is busy).
    pub(crate) fn try_lock_each(&self) -> impl Iterator<Item = Option<ShardGuard<'_, K, V>>> {
        self.shards.iter().map(|s| s.try_write().map(replayed))
    }

    pub(crate) fn count(&self) -> usize {
        self.shards.len()
    }
}

/// Takes the exclusive lock of a shard just to replay its buffered reads. Out of line: it runs once per buffer
/// of reads, and inlined it would crowd the registers of the read path.
#[cold]
#[inline(never)]
fn replay<K: Hash + Eq, V>(striped: &Striped<Shard<K, V>, Local>) {
    drop(replayed(striped.write()));
}

/// Replays every stripe's buffered reads into the shard's policy, oldest first within each stripe.
fn replayed<K: Hash + Eq, V>(mut guard: ShardGuard<'_, K, V>) -> ShardGuard<'_, K, V> {
    let (shard, locals) = guard.parts();
    for local in locals {
        shard.store.replay(local.take_reads());
    }
    guard
}

/// The counters of one exclusively locked shard: the store's own plus every stripe's hits and misses.
pub(crate) fn counters<K, V>(guard: &mut ShardGuard<'_, K, V>) -> Counters {
    let (shard, locals) = guard.parts();
    let mut c = shard.store.counters;
    for local in locals {
        c.hits += local.hits;
        c.misses += local.misses;
    }
    c
}

/// Zeroes the counters of one exclusively locked shard, the stripes' included.
pub(crate) fn reset_counters<K, V>(guard: &mut ShardGuard<'_, K, V>) {
    let (shard, locals) = guard.parts();
    shard.store.counters = Counters::default();
    for local in locals {
        local.hits = 0;
        local.misses = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Found, NEVER};

    fn get(s: &Sharded<u64, u64>, k: u64) -> Option<u64> {
        let h = s.hash(&k);
        s.read(h, |shard, local| {
            match shard.store.find_shared(h, &k, || 0) {
                Found::Live(slot, v) => {
                    local.hit(slot, true);
                    Some(*v)
                }
                Found::Absent | Found::Expired => {
                    local.misses += 1;
                    None
                }
            }
        })
    }

    fn put(s: &Sharded<u64, u64>, k: u64, v: u64) {
        let h = s.hash(&k);
        let mut grave = Vec::new();
        s.lock(h).store.insert(h, k, v, NEVER, 0, &mut grave);
    }

    /// Readers on several stripes fill and replay their buffers while a writer replaces values (small enough
    /// to run under Miri, which checks the striped lock's `unsafe` on this path).
    #[test]
    fn readers_replay_while_a_writer_writes() {
        const READS: u64 = READ_BUFFER as u64 + 44;
        let s = Sharded::new(64, 2, 4, crate::Policy::Lru);
        for k in 0..32 {
            put(&s, k, k);
        }
        std::thread::scope(|scope| {
            for t in 0..2 {
                let s = &s;
                scope.spawn(move || {
                    for i in 0..READS {
                        let k = (i * 5 + t) % 32;
                        let v = get(s, k).expect("no key is removed");
                        assert_eq!(v % 1_000, k, "a value stored for another key");
                    }
                });
            }
            scope.spawn(|| {
                for round in 1..4 {
                    for k in 0..32 {
                        put(&s, k, round * 1_000 + k);
                    }
                }
            });
        });
        let hits: u64 = s.each().map(|mut g| counters(&mut g).hits).sum();
        assert_eq!(hits, 2 * READS);
        assert_eq!(get(&s, 99), None);
    }
}
