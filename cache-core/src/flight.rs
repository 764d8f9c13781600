//! Single flight: the table of loads in progress, one per key, and the slot their waiters watch.
//!
//! A flight is registered under the shard lock in the same critical section that found the key missing, so two
//! callers can never both become the loader of one key, and a loader never misses a value stored just before it
//! registered (the "check again once you lead" step is the lookup itself). The loader runs with no lock held.
//! Its [`LeaderGuard`] finishes the flight whatever happens: a value, an error, a panic or the caller's future
//! being dropped. In the last three cases the waiters are told to retry and one of them takes the load over
//! with its own future, so no waiter hangs and the key is never poisoned.
//!
//! `remove`, `insert` and `clear` *detach* a key's flight: the load goes on and its waiters still get its value,
//! but the value is not stored, so a load that started before a removal can never resurrect the entry.

use std::borrow::Borrow;
use std::error::Error;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use hashbrown::HashTable;
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::reentry::{self, RunId};

/// How a flight ended, as its waiters see it.
#[derive(Debug)]
pub(crate) enum Outcome<V> {
    /// Still loading.
    Pending,
    /// The loader produced a value.
    Value(V),
    /// A batch loader left the key out.
    Absent,
    /// The loader failed, panicked or was cancelled and its error is not shareable: try again (one waiter
    /// becomes the new loader).
    Retry,
    /// A batch loader returned an error, shared with every caller of the batch.
    Failed(Arc<dyn Error + Send + Sync>),
    /// A batch loader panicked.
    Panicked,
    /// The task running a windowed batch was dropped before it finished.
    Abandoned,
}

impl<V: Clone> Clone for Outcome<V> {
    fn clone(&self) -> Self {
        match self {
            Self::Pending => Self::Pending,
            Self::Value(v) => Self::Value(v.clone()),
            Self::Absent => Self::Absent,
            Self::Retry => Self::Retry,
            Self::Failed(e) => Self::Failed(Arc::clone(e)),
            Self::Panicked => Self::Panicked,
            Self::Abandoned => Self::Abandoned,
        }
    }
}

/// One load in progress, shared by its loader and its waiters.
#[derive(Debug)]
pub(crate) struct Flight<V> {
    outcome: Mutex<Outcome<V>>,
    done: Notify,
    /// The [`RunId`] of the load that will finish this flight, 0 until that load claims it (a windowed batch
    /// claims its flights when it starts). Written and read for re-entrancy checks only: the check that matters
    /// reads it on the thread that wrote it, so `Relaxed` suffices.
    run: AtomicU64,
}

impl<V: Clone> Flight<V> {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            outcome: Mutex::new(Outcome::Pending),
            done: Notify::new(),
            run: AtomicU64::new(0),
        })
    }

    /// Records which load will finish this flight, before that load's future is first polled.
    pub(crate) fn claim(&self, run: RunId) {
        self.run.store(run.get(), Ordering::Relaxed);
    }

    /// Whether the load that must finish this flight is being polled on this thread, further up the stack: then
    /// waiting for the flight would wait for oneself forever.
    pub(crate) fn is_led_from_here(&self) -> bool {
        reentry::is_running_here(self.run.load(Ordering::Relaxed))
    }

    /// Publishes the outcome and wakes every waiter. Only the first call counts.
    pub(crate) fn finish(&self, outcome: Outcome<V>) {
        {
            let mut slot = self.outcome.lock();
            if !matches!(*slot, Outcome::Pending) {
                return;
            }
            *slot = outcome;
        }
        self.done.notify_waiters();
    }

    /// Whether the outcome is published (a registered flight that is finished is stale: its key may load
    /// again).
    pub(crate) fn is_finished(&self) -> bool {
        !matches!(*self.outcome.lock(), Outcome::Pending)
    }

    /// Waits for the outcome. Dropping this future is harmless to everyone else.
    pub(crate) async fn wait(&self) -> Outcome<V> {
        loop {
            let notified = self.done.notified();
            let mut notified = std::pin::pin!(notified);
            // Register before looking, so a `finish` between the look and the await is not missed.
            notified.as_mut().enable();
            {
                let slot = self.outcome.lock();
                if !matches!(*slot, Outcome::Pending) {
                    return slot.clone();
                }
            }
            notified.await;
        }
    }
}

/// The flights of one shard, keyed by the cache key. Lives behind the shard lock.
#[derive(Debug)]
pub(crate) struct Flights<K, V> {
    table: HashTable<(K, Arc<Flight<V>>)>,
}

impl<K, V> Default for Flights<K, V> {
    fn default() -> Self {
        Self {
            table: HashTable::new(),
        }
    }
}

impl<K: Hash + Eq, V> Flights<K, V> {
    pub(crate) fn get<Q>(&self, hash: u64, key: &Q) -> Option<&Arc<Flight<V>>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.table
            .find(hash, |(k, _)| k.borrow() == key)
            .map(|(_, f)| f)
    }

    /// Registers `flight` for `key`, which has none.
    pub(crate) fn start(
        &mut self,
        hash: u64,
        key: K,
        flight: Arc<Flight<V>>,
        hasher: &impl BuildHasher,
    ) {
        self.table
            .insert_unique(hash, (key, flight), |(k, _)| hasher.hash_one(k));
    }

    /// Removes this exact flight if it is still registered; returns whether it was (i.e. not detached).
    pub(crate) fn end(&mut self, hash: u64, flight: &Arc<Flight<V>>) -> bool {
        match self.table.find_entry(hash, |(_, f)| Arc::ptr_eq(f, flight)) {
            Ok(entry) => {
                entry.remove();
                true
            }
            Err(_) => false,
        }
    }

    /// Detaches whatever flight `key` has: its result will not be stored.
    pub(crate) fn detach<Q>(&mut self, hash: u64, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Ok(entry) = self.table.find_entry(hash, |(k, _)| k.borrow() == key) {
            entry.remove();
        }
    }

    pub(crate) fn clear(&mut self) {
        self.table.clear();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_see_the_first_outcome_only() {
        let flight = Flight::<u32>::new();
        let waiter = {
            let flight = Arc::clone(&flight);
            tokio::spawn(async move { flight.wait().await })
        };
        tokio::task::yield_now().await;
        flight.finish(Outcome::Value(7));
        flight.finish(Outcome::Retry);
        assert!(matches!(waiter.await.unwrap(), Outcome::Value(7)));
        assert!(matches!(flight.wait().await, Outcome::Value(7)));
    }

    #[test]
    fn end_only_removes_the_same_flight() {
        let hasher = foldhash::fast::FixedState::with_seed(1);
        let mut flights = Flights::<u32, u32>::default();
        let a = Flight::new();
        let h = hasher.hash_one(1u32);
        flights.start(h, 1, Arc::clone(&a), &hasher);
        flights.detach(h, &1);
        let b = Flight::new();
        flights.start(h, 1, Arc::clone(&b), &hasher);
        assert!(!flights.end(h, &a), "a was detached");
        assert!(flights.get(h, &1).is_some());
        assert!(flights.end(h, &b));
        assert_eq!(flights.len(), 0);
    }
}
