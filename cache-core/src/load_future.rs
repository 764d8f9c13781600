//! The future of `get_or_load` / `try_get_or_load`: look up, wait for another caller's load, or lead one.
//!
//! Written by hand rather than as an `async fn` because of large values in debug builds: there every layer of
//! `async` code keeps its own stack slots for each value-sized temporary it could hold, and for a 64 KiB `V`
//! those added up past a 2 MiB thread stack. Here each phase is its own small function, called one at a time
//! from `poll`, so only one phase's temporaries are on the stack at once, and no value-sized state is kept in
//! the future between polls (see `docs/design/large-values.md`).

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;

use crate::flight::{Flight, Outcome};
use crate::load::{Leader, Lookup};
use crate::reentry::{self, RunId};
use crate::refresh::{Read, Reload};
use crate::tier::{Fetched, Fill};
use crate::AsyncCache;

/// What a single-key loader returns: the value itself (`get_or_load`) or a `Result` of it (`try_get_or_load`).
pub(crate) trait Loaded<V>: Sized {
    /// The answer for a value that was found (a hit, or another caller's load).
    fn found(value: V) -> Self;
    /// The value to store and share, if the load succeeded.
    fn value(&self) -> Option<&V>;
}

impl<V> Loaded<V> for V {
    fn found(value: V) -> Self {
        value
    }
    fn value(&self) -> Option<&V> {
        Some(self)
    }
}

impl<V, E> Loaded<V> for Result<V, E> {
    fn found(value: V) -> Self {
        Ok(value)
    }
    fn value(&self) -> Option<&V> {
        self.as_ref().ok()
    }
}

/// Where a [`LoadOne`] is.
enum State<'a, K, V, F>
where
    K: crate::CacheKey,
    V: crate::CacheValue,
{
    /// About to look the key up; `first`: the lookup counts a hit or a miss (a retry's does not).
    Look { first: bool },
    /// Waiting for another caller's load.
    Wait {
        flight: Arc<Flight<V>>,
        outcome: BoxFuture<'static, Outcome<V>>,
    },
    /// Leading, with a shared tier: asking it for the value (or for the right to load) first.
    Fetch {
        fetch: BoxFuture<'static, Fetched<V>>,
        run: RunId,
        leader: Leader<'a, K, V>,
    },
    /// Running this caller's own load (boxed once it leads: pinned without `unsafe`, and a large loader future
    /// is then off the stack too; the hit path never allocates).
    Lead {
        // Declared first so that it is dropped first: a cancelled loader is gone before `leader`'s `Drop` lets a
        // waiter start the next load (the order an `async fn` has).
        load: Pin<Box<F>>,
        /// Where the value goes in the shared tier (dropped unused: the lease across replicas is released).
        fill: Option<Box<dyn Fill<V>>>,
        run: RunId,
        leader: Leader<'a, K, V>,
    },
    /// Refreshing: this caller found the value due for a refresh (`refresh_after`) and claimed its reload, which
    /// it runs with its own load (boxed, as in `Lead`).
    Refresh {
        // First, so that a cancelled loader is dropped before `reload`'s `Drop` lets a waiter load.
        load: Pin<Box<F>>,
        run: RunId,
        reload: Reload<K, V>,
        /// The value found, the answer if the reload fails (boxed: see the module docs on large values).
        stale: Box<V>,
    },
    /// Finished.
    Done,
}

/// The future returned by `get_or_load` (`R = V`) and `try_get_or_load` (`R = Result<V, E>`).
pub(crate) struct LoadOne<'a, K, V, R, F>
where
    K: crate::CacheKey,
    V: crate::CacheValue,
{
    cache: &'a AsyncCache<K, V>,
    /// Computed on the first poll (a user `Hash` runs when the future is polled, as for an `async fn`).
    hash: Option<u64>,
    /// Taken when the load is stored.
    key: Option<K>,
    /// Taken (and boxed) when this caller leads; dropped unpolled otherwise.
    load: Option<F>,
    /// How the TTL of the loaded value is decided, if this caller leads.
    ttl: crate::hooks::Ttl,
    /// Whether a hit on a value due for a refresh (`refresh_after`) runs the reload here (`get_or_load`).
    refresh: bool,
    state: State<'a, K, V, F>,
    /// Set by a phase that moved to another phase without anything to wait for: `poll` goes on at once.
    again: bool,
    _output: PhantomData<fn() -> R>,
}

// `load` is only ever pinned inside its own `Box`, never in place, so moving a `LoadOne` is fine.
impl<K, V, R, F> Unpin for LoadOne<'_, K, V, R, F>
where
    K: crate::CacheKey,
    V: crate::CacheValue,
{
}

impl<'a, K, V, R, F> LoadOne<'a, K, V, R, F>
where
    K: crate::CacheKey,
    V: crate::CacheValue,
    R: Loaded<V>,
    F: Future<Output = R>,
{
    pub(crate) fn new(
        cache: &'a AsyncCache<K, V>,
        key: K,
        ttl: crate::hooks::Ttl,
        load: F,
    ) -> Self {
        Self {
            cache,
            hash: None,
            key: Some(key),
            load: Some(load),
            ttl,
            refresh: cache.inner.config.refresh_after.is_some(),
            state: State::Look { first: true },
            again: false,
            _output: PhantomData,
        }
    }

    /// This load never refreshes a value due for one (`get_or_refresh`, which spawns its refreshes, on a miss).
    pub(crate) fn without_refresh(mut self) -> Self {
        self.refresh = false;
        self
    }

    fn key(&self) -> &K {
        self.key
            .as_ref()
            .expect("the key is taken only when the load is stored")
    }

    /// Looks up: a hit is the answer; otherwise wait for the key's flight, or lead a new one.
    fn look(&mut self, first: bool) -> Poll<R> {
        let hash = match self.hash {
            Some(hash) => hash,
            None => {
                let hash = self.cache.inner.shards.hash(self.key());
                self.hash = Some(hash);
                hash
            }
        };
        if first && self.refresh {
            match self.cache.read_refreshing(hash, self.key()) {
                Read::Fresh(v) => {
                    self.state = State::Done;
                    return Poll::Ready(R::found(v));
                }
                Read::Stale(v) => return self.claim_refresh(hash, v),
                // Not counted as a miss yet: the lookup below counts it.
                Read::Miss => {}
            }
        }
        match self.cache.lookup_or_join(hash, self.key(), first) {
            Lookup::Hit(v) => {
                self.state = State::Done;
                return Poll::Ready(R::found(v));
            }
            Lookup::Wait(flight) => {
                let outcome = Box::pin(Flight::wait_owned(Arc::clone(&flight)));
                self.state = State::Wait { flight, outcome };
            }
            Lookup::Lead(flight) => {
                let run = RunId::new();
                flight.claim(run);
                // The guard exists from here on: if boxing fails or anything below panics, the flight ends.
                let leader = Leader::new(self.cache, hash, flight, self.ttl);
                if let Some(tier) = &self.cache.inner.tier {
                    let fetch = tier.fetch(self.key());
                    self.state = State::Fetch { fetch, run, leader };
                } else {
                    self.lead_with(run, leader, None);
                }
            }
            Lookup::Reentrant => panic!("{}", reentry::MESSAGE),
        }
        self.again = true;
        Poll::Pending
    }

    /// A hit found `stale` due for a refresh: the old value at once if another caller refreshes it (or loads the
    /// key); otherwise this caller claims the reload and runs it with its own load.
    fn claim_refresh(&mut self, hash: u64, stale: V) -> Poll<R> {
        let Some((run, reload)) = self.cache.claim_refresh(hash, self.key(), self.ttl) else {
            self.state = State::Done;
            return Poll::Ready(R::found(stale));
        };
        let load = Box::pin(self.load.take().expect("a caller refreshes at most once"));
        self.state = State::Refresh {
            load,
            run,
            reload,
            stale: Box::new(stale),
        };
        self.again = true;
        Poll::Pending
    }

    /// Polls this caller's reload: a value is stored and is the answer; after an error the old value is (the
    /// error, if the old value expired meanwhile).
    fn refresh(&mut self, cx: &mut Context<'_>) -> Poll<R> {
        let State::Refresh {
            load, run, reload, ..
        } = &mut self.state
        else {
            unreachable!("called in the Refresh state")
        };
        let polled = reload.poll_load(*run, load.as_mut(), cx);
        let Poll::Ready(loaded) = polled else {
            return Poll::Pending;
        };
        let State::Refresh { reload, stale, .. } = std::mem::replace(&mut self.state, State::Done)
        else {
            unreachable!("still in the Refresh state")
        };
        Poll::Ready(match reload.conclude(loaded) {
            Some(loaded) => loaded,
            None => R::found(*stale),
        })
    }

    /// Waits for another caller's load: its value is the answer; otherwise look again (one waiter leads).
    fn wait(&mut self, cx: &mut Context<'_>) -> Poll<R> {
        let State::Wait { flight, outcome } = &mut self.state else {
            unreachable!("called in the Wait state")
        };
        let Poll::Ready(outcome) = outcome.as_mut().poll(cx) else {
            return Poll::Pending;
        };
        if let Outcome::Value(v) = outcome {
            self.state = State::Done;
            return Poll::Ready(R::found(v));
        }
        let flight = Arc::clone(flight);
        let hash = self.hash.expect("hashed before waiting");
        self.cache.forget(hash, &flight);
        self.state = State::Look { first: false };
        self.again = true;
        Poll::Pending
    }

    /// Starts this caller's own load.
    fn lead_with(&mut self, run: RunId, leader: Leader<'a, K, V>, fill: Option<Box<dyn Fill<V>>>) {
        let load = Box::pin(self.load.take().expect("a caller leads at most once"));
        self.state = State::Lead {
            load,
            fill,
            run,
            leader,
        };
    }

    /// Waits for the shared tier: its value is the answer; otherwise run this caller's own load.
    fn fetch(&mut self, cx: &mut Context<'_>) -> Poll<R> {
        let State::Fetch { fetch, .. } = &mut self.state else {
            unreachable!("called in the Fetch state")
        };
        let Poll::Ready(fetched) = fetch.as_mut().poll(cx) else {
            return Poll::Pending;
        };
        let State::Fetch { run, leader, .. } = std::mem::replace(&mut self.state, State::Done)
        else {
            unreachable!("still in the Fetch state")
        };
        match fetched {
            Fetched::Hit { value, ttl } => {
                let key = self.key.take().expect("the key is taken only here");
                leader.found(key, &value, ttl);
                Poll::Ready(R::found(value))
            }
            Fetched::Load(fill) => {
                self.lead_with(run, leader, Some(fill));
                self.again = true;
                Poll::Pending
            }
        }
    }

    /// Polls this caller's own load; its outcome ends the flight and is the answer.
    fn lead(&mut self, cx: &mut Context<'_>) -> Poll<R> {
        let State::Lead {
            run, load, leader, ..
        } = &mut self.state
        else {
            unreachable!("called in the Lead state")
        };
        let polled = leader.poll_load(*run, load.as_mut(), cx);
        let Poll::Ready(loaded) = polled else {
            return Poll::Pending;
        };
        let State::Lead { leader, fill, .. } = std::mem::replace(&mut self.state, State::Done)
        else {
            unreachable!("still in the Lead state")
        };
        let key = self.key.take().expect("the key is taken only here");
        Poll::Ready(leader.conclude(key, loaded, fill))
    }
}

impl<K, V, R, F> Future for LoadOne<'_, K, V, R, F>
where
    K: crate::CacheKey,
    V: crate::CacheValue,
    R: Loaded<V>,
    F: Future<Output = R>,
{
    type Output = R;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<R> {
        let this = self.get_mut();
        loop {
            let polled = match this.state {
                State::Look { first } => this.look(first),
                State::Wait { .. } => this.wait(cx),
                State::Fetch { .. } => this.fetch(cx),
                State::Lead { .. } => this.lead(cx),
                State::Refresh { .. } => this.refresh(cx),
                State::Done => panic!("`get_or_load` future polled after it completed"),
            };
            if !(polled.is_pending() && std::mem::take(&mut this.again)) {
                return polled;
            }
            crate::model::switch();
        }
    }
}
