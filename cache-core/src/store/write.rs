//! Writes: insert (making room by expiry or eviction), remove, purge, retain, clear.

use std::borrow::Borrow;
use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;

use super::{table_ctrl, Entry, Graveyard, Store, NEVER, PURGE_PER_WRITE};
use crate::hooks::EvictionCause;
use crate::policy::Meta;
use crate::prefetch::Probe;

impl<K, V, S> Store<K, V, S>
where
    K: Hash + Eq,
    S: BuildHasher,
{
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
        // A reweigh below sets the policy's `keep` and ends it; should a user's `Hash` or `Eq` have panicked in
        // between (the store survives that), it would still be set: every write starts without it.
        self.order.get_mut().keep(None);
        if self.has_deadlines() {
            self.purge_expired(now, PURGE_PER_WRITE, grave);
        }
        let mut existing = self.find(hash, &key);
        if let Some(i) = existing {
            if Self::expired(self.deadline(i), || now) {
                // An expired entry is gone for every purpose: the key comes back as a new entry (for LFU, with a
                // fresh count), exactly as if the entry had been reclaimed already.
                self.expire_at(hash, i, grave);
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
                // Not its own victim while another entry can go (TinyLFU: it would leave as an eviction, come
                // back as a new key and meet its own ghost).
                self.order.get_mut().keep(Some(i));
                existing = self.room_to_reweigh(i, weight, now, grave);
                self.order.get_mut().keep(None);
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
            self.order.get_mut().prepare_eviction(len);
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
                self.expire_at(hash, i, grave);
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
                self.order.get_mut().prepare_eviction(len);
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
                    self.expire_at(hash, i, grave);
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
}
