//! The table and the dense slab of slots: finding a slot's table position, growing the table without losing
//! slots to a panicking `Hash`, and removing a slot by moving the last one into its hole.

use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;

use super::{Entry, Graveyard, Store, NEVER};
use crate::hooks::EvictionCause;

impl<K, V, S> Store<K, V, S>
where
    K: Hash + Eq,
    S: BuildHasher,
{
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
    pub(super) fn reserve_one(&mut self) {
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

    /// Removes the expired entry at slot `idx` (whose key hashes to `hash`) into `grave`, and counts the
    /// expiration.
    pub(super) fn expire_at(&mut self, hash: u64, idx: u32, grave: &mut Graveyard<K, V>) {
        grave.bury(self.remove_at(hash, idx), EvictionCause::Expired);
        self.counters.expirations += 1;
    }

    /// Removes the entry at slot `idx` (whose key hashes to `hash`), keeping the slab dense by moving the last
    /// entry into the hole. The moved entry's key is hashed before anything changes (that is user code, which
    /// may panic).
    pub(super) fn remove_at(&mut self, hash: u64, idx: u32) -> Entry<K, V> {
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
}
