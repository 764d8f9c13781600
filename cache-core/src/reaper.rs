//! The instance reaper: the cache of a cached method removes the entries of instances that were dropped.
//!
//! A method's key holds its receiver's [`InstanceId`](crate::InstanceId). When an `InstanceId` is dropped it
//! tells every registered [`RetireSink`] (see `crate::identity`); the cache of a cached method is one, and it
//! collects the dead identities here, sweeping its shards for their entries once enough have piled up, so that
//! the entries of dropped instances do not pin memory forever.

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::cache::Inner;
use crate::identity::RetireSink;
use crate::store::Graveyard;

/// Collects the identities of dropped instances and, once enough have piled up, removes their entries.
pub(crate) struct Reaper<K> {
    /// The identity part of a key.
    identity: fn(&K) -> u64,
    dead: Mutex<Vec<u64>>,
    /// How many dead identities to collect before sweeping the cache (a sweep visits every entry).
    threshold: usize,
}

impl<K, V> RetireSink for Inner<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    fn retire(&self, id: u64) {
        let Some(reaper) = &self.reaper else {
            return;
        };
        let dead: HashSet<u64> = {
            let mut dead = reaper.dead.lock();
            dead.push(id);
            if dead.len() < reaper.threshold {
                return;
            }
            std::mem::take(&mut *dead).into_iter().collect()
        };
        let mut skipped = false;
        let mut removed = Graveyard::new();
        for shard in self.shards.try_lock_each() {
            // `try_lock`: this runs inside a `Drop`, possibly on a thread that already holds a shard lock of
            // this cache (a cached value owning an `InstanceId`). A busy shard is swept next time instead.
            let Some(mut shard) = shard else {
                skipped = true;
                continue;
            };
            let (s, grave) = shard.split();
            s.store
                .retain(|k, _| !dead.contains(&(reaper.identity)(k)), grave);
            shard.bury_in(&mut removed);
        }
        if skipped {
            reaper.dead.lock().extend(dead);
        }
        drop(removed);
    }
}

impl<K> Reaper<K> {
    /// A reaper for a cache of `maxsize` entries whose keys carry the identity `identity` returns: it sweeps once
    /// `maxsize / 8` identities (at least 16, at most 4,096) have died.
    pub(crate) fn new(identity: fn(&K) -> u64, maxsize: usize) -> Self {
        Self {
            identity,
            dead: Mutex::new(Vec::new()),
            threshold: (maxsize / 8).clamp(16, 4096),
        }
    }
}

/// Registers `inner` (a cache with a reaper) to hear of every dropped `InstanceId` for as long as it lives.
pub(crate) fn listen<K, V>(inner: &Arc<Inner<K, V>>)
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    let weak = Arc::downgrade(inner);
    crate::identity::register_sink(weak);
}
