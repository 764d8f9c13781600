//! Single flight: the table of loads in progress, one per key, and the slot their waiters watch.
//!
//! A flight is registered under the shard lock in the same critical section that found the key missing, so two
//! callers can never both become the loader of one key, and a loader never misses a value stored just before it
//! registered (the "check again once you lead" step is the lookup itself). The loader runs with no lock held.
//! Its guard (`load::leader::Leader`, whose `Drop` covers the unhappy paths) publishes an outcome whatever
//! happens: a value, an error, a panic or the caller's future being dropped. In the last three cases the waiters
//! are told to retry and one of them takes the load over with its own future, so no waiter hangs and the key is
//! never poisoned.
//!
//! A flight's life has two halves, each with its own verbs:
//!
//! * **Its outcome** ([`Flight`]): the loader [`publish`](Flight::publish)es it once; waiters
//!   [`wait`](Flight::wait) for it. A published flight is done for its waiters.
//! * **Its registration** ([`Flights`], the shard's table, which decides whether the value is stored): a miss
//!   [`register`](Flights::register)s it; the loader that stores its value [`deregister`](Flights::deregister)s its
//!   own flight in the same critical section (and learns whether it was still registered); `remove`, `insert`
//!   and `clear` [`detach`](Flights::detach) the key's flight ([`detach_all`](Flights::detach_all) for every key).
//!   A detached load goes on and its waiters still get its value, but the value is not stored, so a load that
//!   started before a removal can never resurrect the entry.

use std::borrow::Borrow;
use std::error::Error;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use hashbrown::HashTable;
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::grave::Graveyard;

use crate::reentry::{self, RunId};

/// How a flight ended, as its waiters see it.
#[derive(Debug, Clone)]
pub(crate) enum Outcome<V> {
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

/// One load in progress, shared by its loader and its waiters.
#[derive(Debug)]
pub(crate) struct Flight<V> {
    /// `None` while the load runs; how it ended once it has.
    outcome: Mutex<Option<Outcome<V>>>,
    done: Notify,
    /// The [`RunId`] of the load that will finish this flight, 0 until that load claims it (a windowed batch
    /// claims its flights when it starts). Written and read for re-entrancy checks only: the check that matters
    /// reads it on the thread that wrote it, so `Relaxed` suffices.
    run: AtomicU64,
}

impl<V: Clone> Flight<V> {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            outcome: Mutex::new(None),
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
    pub(crate) fn publish(&self, outcome: Outcome<V>) {
        {
            let mut slot = self.outcome.lock();
            if slot.is_some() {
                return;
            }
            *slot = Some(outcome);
        }
        crate::model::switch();
        self.done.notify_waiters();
    }

    /// Whether the outcome is published (a registered flight that is published is stale: its key may load
    /// again).
    pub(crate) fn is_published(&self) -> bool {
        self.outcome.lock().is_some()
    }

    /// [`wait`](Self::wait), owning its flight (so the future can be stored).
    pub(crate) async fn wait_owned(self: Arc<Self>) -> Outcome<V> {
        self.wait().await
    }

    /// Waits for the outcome. Dropping this future is harmless to everyone else.
    pub(crate) async fn wait(&self) -> Outcome<V> {
        loop {
            let notified = self.done.notified();
            let mut notified = std::pin::pin!(notified);
            // Register before looking, so a `publish` between the look and the await is not missed.
            notified.as_mut().enable();
            crate::model::switch();
            {
                if let Some(outcome) = &*self.outcome.lock() {
                    return outcome.clone();
                }
            }
            notified.await;
        }
    }
}

/// The flights of one shard, keyed by the cache key. Lives behind the shard lock.
///
/// Panic safety: each registration keeps its key's hash, so growing the table calls no user `Hash` (hashbrown
/// drops the items it has not placed yet if a rehash panics, under the lock); lookups call the user's `Eq` before
/// anything changes. Whatever leaves the table goes into the caller's [`Graveyard`], to be dropped after the
/// lock is released (a key's `Drop` may use the cache).
#[derive(Debug)]
pub(crate) struct Flights<K, V> {
    table: HashTable<Registered<K, V>>,
}

/// One registered flight: its key (and the key's hash) and the flight.
#[derive(Debug)]
struct Registered<K, V> {
    hash: u64,
    key: K,
    flight: Arc<Flight<V>>,
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
            .find(hash, |r| r.key.borrow() == key)
            .map(|r| &r.flight)
    }

    /// The key of the flight registered for `key`, if any.
    pub(crate) fn key<Q>(&self, hash: u64, key: &Q) -> Option<&K>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.table
            .find(hash, |r| r.key.borrow() == key)
            .map(|r| &r.key)
    }

    /// Registers `flight` for `key` (whose hash is `hash`), which has none.
    pub(crate) fn register(&mut self, hash: u64, key: K, flight: Arc<Flight<V>>) {
        self.table
            .insert_unique(hash, Registered { hash, key, flight }, |r| r.hash);
    }

    /// The loader's own deregistration: removes this exact flight, into `grave`, if it is still registered;
    /// returns whether it was (`false`: it was detached, so its value must not be stored).
    pub(crate) fn deregister(
        &mut self,
        hash: u64,
        flight: &Arc<Flight<V>>,
        grave: &mut Graveyard<K, V>,
    ) -> bool {
        match self
            .table
            .find_entry(hash, |r| Arc::ptr_eq(&r.flight, flight))
        {
            Ok(entry) => {
                let (r, _) = entry.remove();
                grave.push_flight(r.key, r.flight);
                true
            }
            Err(_) => false,
        }
    }

    /// Detaches whatever flight `key` has (into `grave`): its result will not be stored.
    pub(crate) fn detach<Q>(&mut self, hash: u64, key: &Q, grave: &mut Graveyard<K, V>)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Ok(entry) = self.table.find_entry(hash, |r| r.key.borrow() == key) {
            let (r, _) = entry.remove();
            grave.push_flight(r.key, r.flight);
        }
    }

    /// Detaches every flight, into `grave`.
    pub(crate) fn detach_all(&mut self, grave: &mut Graveyard<K, V>) {
        for r in std::mem::take(&mut self.table) {
            grave.push_flight(r.key, r.flight);
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[tokio::test]
    async fn waiters_see_the_first_outcome_only() {
        let flight = Flight::<u32>::new();
        let waiter = {
            let flight = Arc::clone(&flight);
            tokio::spawn(async move { flight.wait().await })
        };
        tokio::task::yield_now().await;
        flight.publish(Outcome::Value(7));
        flight.publish(Outcome::Retry);
        assert!(matches!(waiter.await.unwrap(), Outcome::Value(7)));
        assert!(matches!(flight.wait().await, Outcome::Value(7)));
    }

    #[test]
    fn end_only_removes_the_same_flight() {
        let hasher = foldhash::fast::FixedState::with_seed(1);
        let mut flights = Flights::<u32, u32>::default();
        let mut grave = Graveyard::new();
        let a = Flight::new();
        let h = hasher.hash_one(1u32);
        flights.register(h, 1, Arc::clone(&a));
        flights.detach(h, &1, &mut grave);
        let b = Flight::new();
        flights.register(h, 1, Arc::clone(&b));
        assert!(!flights.deregister(h, &a, &mut grave), "a was detached");
        assert!(flights.get(h, &1).is_some());
        assert!(flights.deregister(h, &b, &mut grave));
        assert_eq!(flights.len(), 0);
    }
}
