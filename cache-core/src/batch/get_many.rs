//! [`AsyncCache::get_many`]: the hits of one request from the cache, its misses from one batch-loader call.

use std::collections::{HashMap, HashSet};
use std::future::{poll_fn, Future};
use std::pin::pin;

use super::leader::BatchLeader;
use crate::flight::Outcome;
use crate::load::{Lookup, PanicMark};
use crate::observe;
use crate::reentry::{self, RunId};
use crate::AsyncCache;
use crate::{CacheKey, CacheValue};

impl<K, V> AsyncCache<K, V>
where
    K: CacheKey,
    V: CacheValue,
{
    /// Returns the values of `keys`: hits from the cache, and every miss from **one** `batch_fn` call with the
    /// missing keys, deduplicated. Keys `batch_fn` leaves out are absent from the result and not cached; loaded
    /// values are stored with the default TTL. Keys another caller is already loading are awaited, not loaded
    /// twice (if that other load is abandoned, those keys go to a further `batch_fn` call).
    ///
    /// If `batch_fn` panics the panic reaches this caller, and callers waiting on these keys take their loads
    /// over. Dropping this future is safe in the same way.
    ///
    /// # Panics
    /// If `batch_fn` panics, or if `batch_fn` asks the cache for a key of its own batch (or this call is made
    /// from within the load of one of `keys`): that would wait for itself forever, so the inner call panics
    /// ("re-entrant load", see [`get_or_load`](Self::get_or_load)'s Re-entrancy section) and every key is
    /// released for later calls.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::collections::HashMap;
    /// let cache = cache_core::AsyncCache::new(100);
    /// cache.insert(1u64, "one".to_string());
    /// let got = cache
    ///     .get_many([1, 2, 3, 2], |missing| async move {
    ///         assert_eq!(missing.len(), 2); // 2 and 3, once each
    ///         missing.into_iter().filter(|k| *k != 3).map(|k| (k, format!("#{k}"))).collect::<HashMap<_, _>>()
    ///     })
    ///     .await;
    /// assert_eq!(got.len(), 2);
    /// assert_eq!(got[&2], "#2");
    /// assert!(!cache.contains_key(&3));
    /// # }
    /// ```
    pub async fn get_many<I, F, Fut, M>(&self, keys: I, mut batch_fn: F) -> HashMap<K, V>
    where
        I: IntoIterator<Item = K>,
        F: FnMut(Vec<K>) -> Fut,
        Fut: Future<Output = M>,
        M: IntoIterator<Item = (K, V)>,
    {
        let mut seen = HashSet::new();
        let mut todo: Vec<(u64, K)> = keys
            .into_iter()
            .filter(|k| seen.insert(k.clone()))
            .map(|k| (self.inner.shards.hash(&k), k))
            .collect();
        drop(seen);
        let mut out = HashMap::with_capacity(todo.len());
        let mut first = true;
        while !todo.is_empty() {
            // Before the first flight is registered (see `BatchLeader::new`).
            let mut leader = BatchLeader::new(self, Vec::new());
            let mut waits = Vec::new();
            for (hash, key) in todo.drain(..) {
                match self.lookup_or_join(hash, &key, first) {
                    Lookup::Hit(v) => {
                        out.insert(key, v);
                    }
                    Lookup::Lead(flight) => leader.lead(hash, key, flight),
                    Lookup::Wait(flight) => waits.push((hash, key, flight)),
                    // `leader`'s `Drop` unregisters the flights this call already leads.
                    Lookup::Reentrant => panic!("{}", reentry::MESSAGE),
                }
            }
            first = false;
            let run = RunId::new();
            leader.claim(run);
            let batch_fn = &mut batch_fn;
            // The keys this call leads are delivered as soon as `batch_fn` returns, without waiting for the keys
            // others lead: two calls that each wait on the other's keys never deadlock.
            let load = async move {
                let mut loaded = HashMap::new();
                if !leader.is_empty() {
                    let keys = leader.distinct_keys();
                    // Counts a panic of `batch_fn` (its call, its future or its output) as a failed load.
                    let call = BatchCall::new(self, keys.len());
                    let mut fut = pin!(batch_fn(keys));
                    let found = poll_fn(|cx| call.mark.poll(run, fut.as_mut(), cx)).await;
                    let found: Vec<(K, V)> = found.into_iter().collect();
                    let (started, asked) = (call.started, call.asked);
                    call.mark.clear();
                    let took = self.since(started);
                    self.inner.loads.lock().record(took, true);
                    observe::batch_finished(self.name(), asked, observe::Outcome::Ok, took);
                    leader.deliver(Ok(found), &mut loaded);
                }
                loaded
            };
            let waiting = futures::future::join_all(waits.iter().map(|(_, _, f)| f.wait()));
            let (loaded, outcomes) = futures::future::join(load, waiting).await;
            out.extend(loaded);
            for ((hash, key, flight), outcome) in waits.into_iter().zip(outcomes) {
                match outcome {
                    Outcome::Value(v) => {
                        out.insert(key, v);
                    }
                    Outcome::Retry | Outcome::Abandoned => {
                        self.forget(hash, &flight);
                        todo.push((hash, key));
                    }
                    Outcome::Absent | Outcome::Failed(_) | Outcome::Panicked => {}
                }
            }
        }
        out
    }
}

/// One `batch_fn` call of `get_many`: dropped with its mark set (armed before the call, kept once its future
/// returns, until the outcome is recorded), `batch_fn` panicked and the load is counted as failed, as the
/// windowed batch counts one. Dropped with the mark clear, it was cancelled (also when a panic elsewhere in the
/// caller's task unwound it): counted nowhere.
struct BatchCall<'c, K, V>
where
    K: CacheKey,
    V: CacheValue,
{
    cache: &'c AsyncCache<K, V>,
    started: u64,
    asked: usize,
    mark: PanicMark,
}

impl<'c, K, V> BatchCall<'c, K, V>
where
    K: CacheKey,
    V: CacheValue,
{
    fn new(cache: &'c AsyncCache<K, V>, asked: usize) -> Self {
        Self {
            cache,
            started: cache.inner.time.now(),
            asked,
            mark: PanicMark::armed(),
        }
    }
}

impl<K, V> Drop for BatchCall<'_, K, V>
where
    K: CacheKey,
    V: CacheValue,
{
    fn drop(&mut self) {
        if self.mark.panicked() {
            let took = self.cache.since(self.started);
            self.cache.inner.loads.lock().record(took, false);
            observe::batch_finished(
                self.cache.name(),
                self.asked,
                observe::Outcome::Panicked,
                took,
            );
        }
    }
}
