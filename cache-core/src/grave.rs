//! The graveyard: user data (keys, values, flights holding a value) that leaves a shard under its lock, kept
//! until the lock is released and dropped then.
//!
//! A key's or value's `Drop` is user code: it may use the cache (which would wait forever for the lock its own
//! thread holds) and it may panic. So nothing of the user's is dropped under a shard lock: whatever a locked
//! operation removes goes into a [`Graveyard`], which every exclusive shard guard owns and drops right after
//! unlocking (`crate::sharded::ShardGuard`); an operation over every shard (`clear`, `retain`, `purge_expired`)
//! gathers the shards' graveyards into one, dropped once the last lock is released. Dropping a graveyard drops
//! every item even if some `Drop` panics, then passes the first panic on (unless the thread is already
//! unwinding: then the other panics are swallowed, as a second panic would abort).

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::flight::Flight;
use crate::hooks::{EvictionCause, Notice};
use crate::observe::Departures;
use crate::store::Entry;

/// User data removed under a lock, to be dropped after it is released.
pub(crate) struct Graveyard<K, V> {
    /// Entries removed one at a time (in the order they were removed).
    entries: Vec<Entry<K, V>>,
    /// Why each of `entries` left the store, for the eviction listener; `None` for a value that was never stored
    /// (a detached load's). Parallel to `entries`.
    causes: Vec<Option<EvictionCause>>,
    /// Whole slabs of entries, kept as they are rather than copied.
    slabs: Vec<Vec<Entry<K, V>>>,
    /// The slabs of cleared stores (their entries left by [`EvictionCause::Cleared`]).
    cleared: Vec<Vec<Entry<K, V>>>,
    /// Flights unregistered from a shard: the table's copy of the key and its share of the flight.
    flights: Vec<(K, Arc<Flight<V>>)>,
    /// How many entries left, by cause, for the `tracing` event (zero-sized without that feature).
    departures: Departures,
}

impl<K, V> Graveyard<K, V> {
    pub(crate) const fn new() -> Self {
        Self {
            entries: Vec::new(),
            causes: Vec::new(),
            slabs: Vec::new(),
            cleared: Vec::new(),
            flights: Vec::new(),
            departures: Departures::new(),
        }
    }

    /// Keeps an entry that was never stored (the eviction listener is not told of it).
    pub(crate) fn push(&mut self, entry: Entry<K, V>) {
        self.entries.push(entry);
        self.causes.push(None);
    }

    /// Keeps an entry that left the store for `cause`.
    pub(crate) fn bury(&mut self, entry: Entry<K, V>, cause: EvictionCause) {
        self.entries.push(entry);
        self.causes.push(Some(cause));
        self.departures.add(cause, 1);
    }

    /// Takes back the entry kept last (to hand its value to the caller of a removal).
    pub(crate) fn pop(&mut self) -> Option<Entry<K, V>> {
        self.causes.pop();
        self.entries.pop()
    }

    /// The value of the entry kept last.
    pub(crate) fn last_value(&self) -> Option<&V> {
        self.entries.last().map(|e| &e.value)
    }

    /// Keeps a whole slab of removed entries (the listener is not told of them).
    #[cfg(test)]
    pub(crate) fn push_slab(&mut self, slab: Vec<Entry<K, V>>) {
        if !slab.is_empty() {
            self.slabs.push(slab);
        }
    }

    /// Keeps the whole slab of a cleared store.
    pub(crate) fn push_cleared(&mut self, slab: Vec<Entry<K, V>>) {
        if !slab.is_empty() {
            self.departures.add(EvictionCause::Cleared, slab.len());
            self.cleared.push(slab);
        }
    }

    /// Whether anything kept is for the eviction listener.
    pub(crate) fn has_notices(&self) -> bool {
        !self.cleared.is_empty() || self.causes.iter().any(Option::is_some)
    }

    /// Moves every entry that left the store with a cause into `out`, in the order they left (a cleared slab
    /// last: nothing leaves a store after its clear within one lock), as listener calls. Runs no user code.
    pub(crate) fn take_notices(&mut self, out: &mut Vec<Notice<K, V>>) {
        let mut kept = Vec::new();
        for (entry, cause) in self.entries.drain(..).zip(self.causes.drain(..)) {
            match cause {
                Some(cause) => out.push((entry.key, entry.value, cause)),
                None => kept.push(entry),
            }
        }
        self.causes.resize(kept.len(), None);
        self.entries = kept;
        for slab in self.cleared.drain(..) {
            out.extend(
                slab.into_iter()
                    .map(|e| (e.key, e.value, EvictionCause::Cleared)),
            );
        }
    }

    /// Keeps a flight's key and handle that left its table.
    pub(crate) fn push_flight(&mut self, key: K, flight: Arc<Flight<V>>) {
        self.flights.push((key, flight));
    }

    /// Moves everything `other` keeps into this one (without copying slabs), forgetting the causes: a shard
    /// with a listener posts its notices before this ([`crate::sharded::ShardGuard::bury_in`]).
    pub(crate) fn append(&mut self, other: &mut Self) {
        if !other.entries.is_empty() {
            self.slabs.push(std::mem::take(&mut other.entries));
        }
        other.causes.clear();
        self.slabs.append(&mut other.slabs);
        self.slabs.append(&mut other.cleared);
        self.flights.append(&mut other.flights);
        self.departures.merge(&mut other.departures);
    }

    /// How many entries are kept (for tests).
    #[cfg(test)]
    pub(crate) fn entries(&self) -> usize {
        self.entries.len()
            + self
                .slabs
                .iter()
                .chain(&self.cleared)
                .map(Vec::len)
                .sum::<usize>()
    }
}

impl<K, V> Default for Graveyard<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V> std::fmt::Debug for Graveyard<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graveyard")
            .field("entries", &self.entries.len())
            .field("slabs", &self.slabs.len())
            .field("flights", &self.flights.len())
            .finish()
    }
}

impl<K, V> Drop for Graveyard<K, V> {
    fn drop(&mut self) {
        self.departures.report();
        let mut first = None;
        drop_each(&mut self.entries, &mut first);
        for mut slab in std::mem::take(&mut self.slabs) {
            drop_each(&mut slab, &mut first);
        }
        for mut slab in std::mem::take(&mut self.cleared) {
            drop_each(&mut slab, &mut first);
        }
        drop_each(&mut self.flights, &mut first);
        if let Some(panic) = first {
            if !std::thread::panicking() {
                resume_unwind(panic);
            }
        }
    }
}

/// Drops every item of `items`, each on its own, so that a panicking `Drop` does not keep the others alive;
/// keeps the first panic in `first`.
fn drop_each<T>(items: &mut Vec<T>, first: &mut Option<Box<dyn Any + Send>>) {
    if !std::mem::needs_drop::<T>() {
        return;
    }
    for item in items.drain(..) {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| drop(item))) {
            first.get_or_insert(panic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Noisy<'a>(&'a AtomicUsize, bool);

    impl Drop for Noisy<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
            assert!(!self.1, "a Drop that panics");
        }
    }

    /// Every item is dropped though two drops panic, and the first panic comes out at the end.
    #[test]
    fn drops_everything_then_passes_the_first_panic_on() {
        let dropped = AtomicUsize::new(0);
        let mut grave: Graveyard<u32, Noisy<'_>> = Graveyard::new();
        let mut other = Graveyard::new();
        for i in 0..10 {
            grave.push(Entry {
                key: i,
                value: Noisy(&dropped, i == 3),
            });
        }
        other.push_slab(
            (10..20)
                .map(|i| Entry {
                    key: i,
                    value: Noisy(&dropped, i == 15),
                })
                .collect(),
        );
        grave.append(&mut other);
        assert_eq!(grave.entries(), 20);
        drop(other);
        let panic = catch_unwind(AssertUnwindSafe(|| drop(grave))).unwrap_err();
        assert_eq!(dropped.load(Ordering::SeqCst), 20);
        assert_eq!(
            panic.downcast_ref::<&str>(),
            Some(&"a Drop that panics"),
            "the first panic"
        );
    }
}
