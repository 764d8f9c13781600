//! The guard of the flights one batch call leads: it delivers the batch's result to every flight, and if it is
//! dropped first (its caller was cancelled, something panicked, the runtime dropped the batch task), it
//! unregisters the rest and tells their waiters to retry.

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use crate::flight::{Flight, Outcome};
use crate::load::share;
use crate::reentry::RunId;
use crate::AsyncCache;
use crate::{CacheKey, CacheValue};

/// A key waiting in (or sent with) a batch, with the flight its callers watch.
pub(super) type Queued<K, V> = (u64, K, Arc<Flight<V>>);

/// The flights a batch call leads. Dropped before they are all delivered (the caller of `get_many` was
/// cancelled or something panicked, or the runtime dropped the batch task), it unregisters the rest and tells
/// their waiters to retry.
pub(super) struct BatchLeader<K, V>
where
    K: CacheKey,
    V: CacheValue,
{
    cache: AsyncCache<K, V>,
    keys: Vec<Queued<K, V>>,
}

impl<K, V> BatchLeader<K, V>
where
    K: CacheKey,
    V: CacheValue,
{
    /// The guard of `keys` (each already registered as led by this call), for `cache`. Built before the first
    /// flight is registered, so that a panic anywhere after (a user `Hash`, `Eq` or `Clone`, or the loader)
    /// unregisters every flight it leads.
    pub(super) fn new(cache: &AsyncCache<K, V>, keys: Vec<Queued<K, V>>) -> Self {
        Self {
            cache: cache.clone(),
            keys,
        }
    }

    /// The cache the batch is for.
    pub(super) fn cache(&self) -> &AsyncCache<K, V> {
        &self.cache
    }

    /// Takes the lead of one more key's flight.
    pub(super) fn lead(&mut self, hash: u64, key: K, flight: Arc<Flight<V>>) {
        self.keys.push((hash, key, flight));
    }

    /// Whether this guard leads no flight.
    pub(super) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Hands every flight over to `into` (the pending batch), leaving this guard empty.
    pub(super) fn hand_over(&mut self, into: &mut Vec<Queued<K, V>>) {
        into.append(&mut self.keys);
    }

    /// Records `run` as the load that will finish every flight led here (for re-entrancy checks).
    pub(super) fn claim(&self, run: RunId) {
        for (_, _, flight) in &self.keys {
            flight.claim(run);
        }
    }

    /// The keys to ask the loader for, each once. (A key can be queued twice when a removal detached its first
    /// flight and a later `load` queued a new one in the same batch.)
    pub(super) fn distinct_keys(&self) -> Vec<K> {
        let mut seen = HashSet::with_capacity(self.keys.len());
        self.keys
            .iter()
            .filter(|(_, k, _)| seen.insert(k))
            .map(|(_, k, _)| k.clone())
            .collect()
    }

    /// Stores what was found (for flights still attached), copies it into `out`, and finishes every flight: with
    /// its value, as absent, or with the batch's failure. A flight leaves `self.keys` only once it is finished,
    /// so if user code panics midway, `Drop` still finishes the rest.
    pub(super) fn deliver(
        &mut self,
        result: Result<Vec<(K, V)>, Outcome<V>>,
        out: &mut HashMap<K, V>,
    ) {
        match result {
            Ok(found) => {
                let found: HashMap<K, V> = found.into_iter().collect();
                let mut panicked = None;
                while let Some((hash, key, flight)) = self.keys.last() {
                    let (hash, flight) = (*hash, Arc::clone(flight));
                    if let Some(v) = found.get(key) {
                        // Before any lock. If `expire_after` or the weigher panics, this key fails as panicked
                        // (its waiters do not retry a batch that would panic again), the others are stored, and
                        // the panic goes on at the end.
                        let terms = std::panic::catch_unwind(AssertUnwindSafe(|| {
                            self.cache.terms_for(crate::hooks::Ttl::Default, key, v)
                        }));
                        let terms = match terms {
                            Ok(terms) => terms,
                            Err(panic) => {
                                self.cache.forget(hash, &flight);
                                flight.publish(Outcome::Panicked);
                                self.keys.pop();
                                panicked.get_or_insert(panic);
                                continue;
                            }
                        };
                        // By reference, each copy made in a small frame: see `docs/design/large-values.md`.
                        self.cache
                            .store(hash, key.clone(), v.clone(), terms, Some(&flight));
                        share(&flight, v);
                        out.insert(key.clone(), v.clone());
                    } else {
                        self.cache.forget(hash, &flight);
                        flight.publish(Outcome::Absent);
                    }
                    self.keys.pop();
                }
                if let Some(panic) = panicked {
                    std::panic::resume_unwind(panic);
                }
            }
            Err(outcome) => self.abandon(&outcome),
        }
    }

    /// Unregisters every flight still held and finishes it with `outcome`.
    pub(super) fn abandon(&mut self, outcome: &Outcome<V>) {
        while let Some((hash, _, flight)) = self.keys.last() {
            let (hash, flight) = (*hash, Arc::clone(flight));
            self.cache.forget(hash, &flight);
            flight.publish(outcome.clone());
            self.keys.pop();
        }
    }
}

impl<K, V> Drop for BatchLeader<K, V>
where
    K: CacheKey,
    V: CacheValue,
{
    fn drop(&mut self) {
        self.abandon(&Outcome::Retry);
    }
}
