//! The shards and their locks: the only place that locks a shard.
//!
//! Each shard is a [`Store`] plus the [`Flights`] of its keys behind one `parking_lot` mutex, padded to its own
//! cache line so two cores working on two shards never share one. A key's shard comes from bits of its hash that
//! the hash table itself does not use for probing.

use std::hash::{BuildHasher, Hash};

use crossbeam_utils::CachePadded;
use parking_lot::{Mutex, MutexGuard};

use crate::flight::Flights;
use crate::store::Store;

/// The hasher of keys: foldhash, seeded per cache.
pub(crate) type Hasher = foldhash::fast::RandomState;

#[derive(Debug)]
pub(crate) struct Shard<K, V> {
    pub(crate) store: Store<K, V, Hasher>,
    pub(crate) flights: Flights<K, V>,
}

/// A shard behind its lock, on its own cache line.
type Locked<K, V> = CachePadded<Mutex<Shard<K, V>>>;

#[derive(Debug)]
pub(crate) struct Sharded<K, V> {
    shards: Box<[Locked<K, V>]>,
    hasher: Hasher,
}

impl<K: Hash + Eq, V> Sharded<K, V> {
    /// `maxsize` split over `shards` shards (`1 <= shards <= maxsize`, checked by the builder): the capacities
    /// sum to exactly `maxsize`, so the cache never holds more.
    pub(crate) fn new(maxsize: usize, shards: usize, policy: crate::Policy) -> Self {
        let hasher = Hasher::default();
        let base = maxsize / shards;
        let extra = maxsize % shards;
        let shards = (0..shards)
            .map(|i| {
                let capacity = base + usize::from(i < extra);
                CachePadded::new(Mutex::new(Shard {
                    store: Store::new(capacity, policy, hasher),
                    flights: Flights::default(),
                }))
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

    /// Locks the shard of `hash`. Bits 16..48 pick it: the table probes with the low bits and tags with the top
    /// seven, so the shard choice does not thin out either.
    #[inline]
    pub(crate) fn lock(&self, hash: u64) -> MutexGuard<'_, Shard<K, V>> {
        let n = self.shards.len() as u64;
        let i = ((hash >> 16) & 0xffff_ffff).wrapping_mul(n) >> 32;
        #[allow(clippy::cast_possible_truncation)]
        self.shards[i as usize].lock()
    }

    /// Every shard, one at a time (never two locks at once).
    pub(crate) fn each(&self) -> impl Iterator<Item = MutexGuard<'_, Shard<K, V>>> {
        self.shards.iter().map(|s| s.lock())
    }

    /// Every shard's lock, unlocked (for `try_lock`).
    pub(crate) fn locks(&self) -> impl Iterator<Item = &Mutex<Shard<K, V>>> {
        self.shards.iter().map(|s| &**s)
    }

    pub(crate) fn count(&self) -> usize {
        self.shards.len()
    }
}
