//! Lookups: the exclusive one (which counts and touches), the shared one of the read path, and the replay of
//! the reads it recorded.

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};

use super::{Found, Graveyard, Store};

impl<K, V, S> Store<K, V, S>
where
    K: Hash + Eq,
    S: BuildHasher,
{
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
            self.expire_at(hash, i, grave);
            self.counters.misses += u64::from(MISSES);
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
}
