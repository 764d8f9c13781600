//! The shards and their locks: the only place that locks a shard.
//!
//! Each shard is a [`Store`] plus the [`Flights`] of its keys behind a reader-striped lock ([`Striped`]), padded
//! to its own cache line. A key's shard comes from bits of its hash that the hash table itself does not use for
//! probing.
//!
//! # The read path
//! A hit ([`Sharded::read`]) locks only the calling thread's stripe and reads the store through a shared
//! reference: it writes nothing another core writes. What a hit must change is kept in the stripe ([`HitLog`]):
//! its hit/miss counts and the slot it read, appended to the stripe's read buffer. Every exclusive lock
//! ([`Sharded::lock`], [`Sharded::each`], [`Sharded::try_lock_each`]) first *replays* every stripe's buffered
//! reads into the eviction policy, in the order each stripe recorded them, before anything can change: so the
//! buffered slot numbers are still valid, and every eviction decision sees every read that finished before it.
//! A stripe whose buffer is full ([`READ_BUFFER`] reads) is replayed by its next reader, before it records its own
//! read, still under its read lock: that replay writes only the policy's order, under the store's lock on the
//! order ([`Store::replay_shared`]), so the readers of other stripes are not stopped. The buffered slots are valid
//! then too: the stripe lock keeps writers out, and every writer empties every buffer before it changes anything.
//!
//! One thread always uses the same stripe, so the reads of one thread reach the policy in exactly the order it
//! made them. Readers share stripe 0 until a reader first finds it taken ([`Striped::read`]): one buffer,
//! filled in the order the threads took the lock, so the eviction order is exact whatever the threads. A cache
//! built with `.shards(1)` has only that stripe, for good. Once readers have spread over several stripes, reads
//! made by different threads since the last exclusive lock are replayed stripe by stripe, so their relative
//! order is kept only per thread (see `docs/design/read-path.md`).

use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

use crossbeam_utils::CachePadded;

use crate::flight::{Flight, Flights};
use crate::grave::Graveyard;
use crate::hooks::{Listener, Mailbox};
use crate::prefetch::PublishedProbe;
use crate::store::{Counters, Store};
use crate::striped::{ReadGuard, Striped, WriteGuard};

mod hit_log;
pub(crate) use hit_log::HitLog;

/// The hasher of keys: foldhash, seeded per cache (at random, unless a test fixes the seed: see
/// [`hasher`]). TinyLFU's frequency sketch is indexed by these hashes too, so a client that picks keys cannot
/// aim them at chosen counters.
pub(crate) type Hasher = foldhash::fast::SeedableRandomState;

/// A hasher seeded with `seed`, or at random (per cache, as `foldhash::fast::RandomState`) for `None`.
pub(crate) fn hasher(seed: Option<u64>) -> Hasher {
    match seed {
        Some(seed) => Hasher::with_seed(seed, foldhash::SharedSeed::global_fixed()),
        None => Hasher::random(),
    }
}

/// A stripe replays its reads into the policy once it has buffered this many (fewer in a small shard: see
/// [`HitLog::new`]).
pub(crate) const READ_BUFFER: usize = 1_024;

/// `repr(C)`: the store's hot fields first (see [`Store`]).
#[derive(Debug)]
#[repr(C)]
pub(crate) struct Shard<K, V> {
    pub(crate) store: Store<K, V, Hasher>,
    pub(crate) flights: Flights<K, V>,
}

/// A shard locked exclusively, with every stripe's buffered reads already replayed.
///
/// Publishes the store's [`Probe`](crate::prefetch::Probe) as it is released, while it still holds the lock.
/// Owns the [`Graveyard`] of what the operation removes ([`Self::split`]), which it drops after unlocking: no
/// key, value or flight is dropped under the lock.
pub(crate) struct ShardGuard<'a, K, V> {
    // Field order matters: `guard` unlocks before `grave` is dropped, and `post` (the listener calls) comes last.
    guard: WriteGuard<'a, Shard<K, V>, HitLog, PublishedProbe>,
    grave: Graveyard<K, V>,
    post: Post<'a, K, V>,
}

/// The shard's mailbox, if the cache has an eviction listener: delivers its queued calls when dropped, after
/// the lock is released.
struct Post<'a, K, V>(Option<&'a Mailbox<K, V>>);

impl<K, V> Drop for Post<'_, K, V> {
    fn drop(&mut self) {
        if let Some(mailbox) = self.0 {
            mailbox.deliver();
        }
    }
}

impl<K, V> ShardGuard<'_, K, V> {
    /// The shard and every stripe's state, all exclusive.
    pub(crate) fn parts(&mut self) -> (&mut Shard<K, V>, impl Iterator<Item = &mut HitLog>) {
        self.guard.parts()
    }

    /// The shard, and the graveyard for what leaves it (dropped once the lock is released).
    pub(crate) fn split(&mut self) -> (&mut Shard<K, V>, &mut Graveyard<K, V>) {
        (&mut self.guard, &mut self.grave)
    }

    /// Moves what this guard's graveyard holds into `into`, to be dropped later than at this unlock (after the
    /// last of several shards is released).
    pub(crate) fn bury_in(&mut self, into: &mut Graveyard<K, V>) {
        self.post_notices();
        into.append(&mut self.grave);
    }

    /// Queues the listener calls for what left the shard so far (still under the lock: so the calls are queued
    /// in the order the entries left).
    fn post_notices(&mut self) {
        if let Some(mailbox) = self.post.0 {
            if self.grave.has_notices() {
                mailbox.post_from(&mut self.grave);
            }
        }
    }
}

impl<K: Hash + Eq, V> ShardGuard<'_, K, V> {
    /// Unregisters `flight` of the key hashed to `hash` if it is still registered; returns whether it was.
    pub(crate) fn deregister_flight(&mut self, hash: u64, flight: &Arc<Flight<V>>) -> bool {
        let (shard, grave) = self.split();
        shard.flights.deregister(hash, flight, grave)
    }
}

impl<K, V> std::ops::Deref for ShardGuard<'_, K, V> {
    type Target = Shard<K, V>;
    fn deref(&self) -> &Shard<K, V> {
        &self.guard
    }
}

impl<K, V> std::ops::DerefMut for ShardGuard<'_, K, V> {
    fn deref_mut(&mut self) -> &mut Shard<K, V> {
        &mut self.guard
    }
}

impl<K, V> Drop for ShardGuard<'_, K, V> {
    fn drop(&mut self) {
        // Before `guard` unlocks (a struct's own `drop` runs before its fields'): the table cannot move meanwhile.
        self.guard.unlocked().publish(self.guard.store.probe());
        self.post_notices();
    }
}

/// One shard behind its lock, and beside the lock (for readers to prefetch from before they take it) where a
/// lookup of its table reads first.
type Locked<K, V> = Striped<Shard<K, V>, HitLog, PublishedProbe>;

#[derive(Debug)]
pub(crate) struct Sharded<K, V> {
    shards: Box<[CachePadded<Locked<K, V>>]>,
    hasher: Hasher,
    /// One mailbox per shard when the cache has an eviction listener.
    mail: Option<Box<[Mailbox<K, V>]>>,
}

impl<K: Hash + Eq, V> Sharded<K, V> {
    /// `maxsize` split over `shards` shards (`1 <= shards <= maxsize`, checked by the builder): the capacities
    /// sum to exactly `maxsize`, so the cache never holds more. Each shard's lock has `stripes` stripes (a power
    /// of two), or `capacity / 8` rounded up to a power of two if that is fewer (one under 16 entries).
    #[cfg_attr(not(test), allow(dead_code))] // the cache builds its shards with its own hasher
    pub(crate) fn new(
        maxsize: usize,
        shards: usize,
        stripes: usize,
        policy: crate::Policy,
    ) -> Self {
        Self::with_hasher(maxsize, None, shards, stripes, policy, Hasher::random())
    }

    /// [`Self::new`] with the given hasher of keys, and for a cache with a weigher, the most total weight (at
    /// least `shards`), shared out between the shards as `maxsize` is.
    pub(crate) fn with_hasher(
        maxsize: usize,
        max_weight: Option<u64>,
        shards: usize,
        stripes: usize,
        policy: crate::Policy,
        hasher: Hasher,
    ) -> Self {
        let base = maxsize / shards;
        let extra = maxsize % shards;
        let count = shards;
        let shards = (0..count)
            .map(|i| {
                let capacity = base + usize::from(i < extra);
                let max_weight = max_weight.map(|w| {
                    let n = count as u64;
                    w / n + u64::from((i as u64) < w % n)
                });
                let shard = Shard {
                    store: Store::new(capacity, max_weight, count, policy, hasher),
                    flights: Flights::default(),
                };
                // A shard of a handful of entries gets fewer stripes: a cache split into very many tiny shards
                // would otherwise pay for every stripe of every shard (both counts are powers of two).
                let stripes = stripes.min((capacity / 8).max(1).next_power_of_two());
                CachePadded::new(Striped::with_unlocked(
                    shard,
                    stripes,
                    || HitLog::new(capacity, stripes),
                    PublishedProbe::default(),
                ))
            })
            .collect();
        Self {
            shards,
            hasher,
            mail: None,
        }
    }

    /// Calls `listener` for every entry that leaves a shard from now on (see [`Mailbox`]).
    pub(crate) fn listen(&mut self, listener: &Listener<K, V>) {
        self.mail = Some(
            (0..self.shards.len())
                .map(|_| Mailbox::new(std::sync::Arc::clone(listener)))
                .collect(),
        );
    }

    /// Whether the cache has an eviction listener.
    pub(crate) fn listening(&self) -> bool {
        self.mail.is_some()
    }

    /// How many listener calls panicked.
    pub(crate) fn listener_panics(&self) -> u64 {
        self.mail
            .iter()
            .flat_map(|m| m.iter())
            .map(Mailbox::panics)
            .sum()
    }

    fn mailbox(&self, i: usize) -> Option<&Mailbox<K, V>> {
        self.mail.as_ref().map(|m| &m[i])
    }

    #[inline]
    pub(crate) fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The shard of `hash`. Bits 16..48 pick it: the table probes with the low bits and tags with the top
    /// seven, so the shard choice does not thin out either.
    #[inline]
    fn shard_of(&self, hash: u64) -> &Locked<K, V> {
        &self.shards[self.index_of(hash)]
    }

    #[inline]
    #[allow(clippy::cast_possible_truncation)]
    fn index_of(&self, hash: u64) -> usize {
        let n = self.shards.len() as u64;
        (((hash >> 16) & 0xffff_ffff).wrapping_mul(n) >> 32) as usize
    }

    /// Runs `f` on the shard of `hash` under its read lock: shared access to the shard, exclusive access to the
    /// calling thread's stripe. If the stripe's buffer is full, its reads are replayed first, still under the
    /// read lock (other readers go on meanwhile: see [`Store::replay_shared`]).
    #[inline]
    pub(crate) fn read<R>(&self, hash: u64, f: impl FnOnce(&Shard<K, V>, &mut HitLog) -> R) -> R {
        let shard = self.shard_of(hash);
        // Before the lock, whose atomic operation no later load may pass: see `crate::prefetch`.
        shard.unlocked().prefetch(hash);
        Self::read_in(shard.read(), f)
    }

    /// [`Self::read`] on the stripe of thread number `thread` (tests pick stripes with it).
    #[cfg(test)]
    fn read_as<R>(
        &self,
        thread: usize,
        hash: u64,
        f: impl FnOnce(&Shard<K, V>, &mut HitLog) -> R,
    ) -> R {
        Self::read_in(self.shard_of(hash).read_as(thread), f)
    }

    #[inline]
    fn read_in<R>(
        mut guard: ReadGuard<'_, Shard<K, V>, HitLog, PublishedProbe>,
        f: impl FnOnce(&Shard<K, V>, &mut HitLog) -> R,
    ) -> R {
        let (shard, log) = guard.parts();
        if log.is_full() {
            shard.store.replay_shared(log.take_reads());
        }
        f(shard, log)
    }

    /// Locks the shard of `hash` exclusively.
    #[inline]
    pub(crate) fn lock(&self, hash: u64) -> ShardGuard<'_, K, V> {
        let i = self.index_of(hash);
        exclusive(self.shards[i].write(), self.mailbox(i))
    }

    /// Every shard, locked exclusively one at a time (never two at once).
    pub(crate) fn each(&self) -> impl Iterator<Item = ShardGuard<'_, K, V>> {
        self.shards
            .iter()
            .enumerate()
            .map(move |(i, s)| exclusive(s.write(), self.mailbox(i)))
    }

    /// Hands every shard to `f`, each locked exclusively in turn (never two at once), and returns what `f` removed
    /// from all of them: the caller drops it once nothing is locked any more, so no user `Drop` runs under a lock
    /// (each shard's listener calls run as its lock is released).
    #[must_use = "drop what was removed only after every lock is released"]
    pub(crate) fn sweep(&self, mut f: impl FnMut(&mut ShardGuard<'_, K, V>)) -> Graveyard<K, V> {
        let mut dead = Graveyard::new();
        for mut shard in self.each() {
            f(&mut shard);
            shard.bury_in(&mut dead);
        }
        dead
    }

    /// Every shard, each locked exclusively if that is possible without waiting (`None` if it is busy).
    pub(crate) fn try_lock_each(&self) -> impl Iterator<Item = Option<ShardGuard<'_, K, V>>> {
        self.shards
            .iter()
            .enumerate()
            .map(move |(i, s)| s.try_write().map(|g| exclusive(g, self.mailbox(i))))
    }

    pub(crate) fn count(&self) -> usize {
        self.shards.len()
    }

    /// How many stripes each shard's lock has, and whether its readers have spread over them yet.
    #[cfg(test)]
    pub(crate) fn stripes(&self) -> Vec<(usize, bool)> {
        self.shards
            .iter()
            .map(|s| (s.stripes(), s.spread()))
            .collect()
    }
}

/// The shard of `guard`, every stripe's buffered reads replayed into its policy (oldest first within each
/// stripe).
fn exclusive<'a, K: Hash + Eq, V>(
    guard: WriteGuard<'a, Shard<K, V>, HitLog, PublishedProbe>,
    mailbox: Option<&'a Mailbox<K, V>>,
) -> ShardGuard<'a, K, V> {
    let mut guard = ShardGuard {
        guard,
        grave: Graveyard::new(),
        post: Post(mailbox),
    };
    let (shard, logs) = guard.parts();
    for log in logs {
        shard.store.replay(log.take_reads());
    }
    guard
}

/// The counters of one exclusively locked shard: the store's own plus every stripe's hits and misses.
pub(crate) fn counters<K, V>(guard: &mut ShardGuard<'_, K, V>) -> Counters {
    let (shard, logs) = guard.parts();
    let mut c = shard.store.counters;
    for log in logs {
        // Every buffer was replayed when the guard was taken, so every recorded hit is in `hits`.
        debug_assert_eq!(log.buffered, 0);
        debug_assert!(log.hits >= log.uncounted);
        c.hits += log.hits.saturating_sub(log.uncounted);
        c.misses += log.misses;
    }
    c
}

/// Zeroes the counters of one exclusively locked shard, the stripes' included.
pub(crate) fn reset_counters<K, V>(guard: &mut ShardGuard<'_, K, V>) {
    let (shard, logs) = guard.parts();
    shard.store.counters = Counters::default();
    for log in logs {
        log.hits = 0;
        log.uncounted = 0;
        log.misses = 0;
    }
}

#[cfg(all(test, loom))]
mod loom_model;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefetch::Probe;
    use crate::store::{Found, NEVER};

    fn get(s: &Sharded<u64, u64>, k: u64) -> Option<u64> {
        get_as(s, crate::striped::thread_number(), k)
    }

    /// [`get`] on the stripe of thread number `thread`.
    fn get_as(s: &Sharded<u64, u64>, thread: usize, k: u64) -> Option<u64> {
        let h = s.hash(&k);
        s.read_as(thread, h, |shard, log| {
            match shard.store.find_shared(h, &k, || 0) {
                Found::Live(slot, v) | Found::Stale(slot, v) => {
                    log.hit(slot, true);
                    Some(*v)
                }
                Found::Absent | Found::Expired => {
                    log.misses += 1;
                    None
                }
            }
        })
    }

    fn put(s: &Sharded<u64, u64>, k: u64, v: u64) {
        let h = s.hash(&k);
        let mut guard = s.lock(h);
        let (shard, grave) = guard.split();
        shard.store.insert(h, k, v, NEVER, 0, 0, grave);
    }

    /// Every exclusive guard publishes its store's probe as it lets go, so readers prefetch from where the
    /// table is now; a cache that holds fewer than about 16,384 entries publishes none (also when its tables have
    /// grown large by churning), and a clear takes it back.
    #[test]
    #[cfg_attr(miri, ignore)] // up to 240,000 inserts: safe code only, and slow under Miri
    fn readers_see_where_each_large_table_is() {
        let published = |s: &Sharded<u64, u64>| -> Vec<Probe> {
            s.shards.iter().map(|l| l.unlocked().load()).collect()
        };
        // (maxsize, shards, distinct keys inserted, published?)
        for (maxsize, shards, keys, large) in [
            (4_000, 8, 4_000, false),
            (12_000, 3, 12_000, false),
            // A full cache that keeps evicting: 1,500 entries a shard, in tables that grow far past that.
            (12_000, 8, 240_000, false),
            (40_000, 8, 40_000, true),
            (30_000, 3, 30_000, true),
        ] {
            let s = Sharded::new(maxsize, shards, 2, crate::Policy::Lru);
            for k in 0..keys {
                put(&s, k, k);
            }
            for (l, probe) in s.shards.iter().zip(published(&s)) {
                let guard = exclusive(l.write(), None);
                assert_eq!(probe, guard.store.probe(), "published by the last insert");
                assert_eq!(
                    probe != Probe::default(),
                    large,
                    "{maxsize} / {shards} / {keys}"
                );
            }
            for mut guard in s.each() {
                let (shard, grave) = guard.split();
                shard.store.clear(grave);
            }
            assert!(published(&s).iter().all(|p| *p == Probe::default()));
            // Reads go on as before.
            put(&s, 1, 10);
            assert_eq!(get(&s, 1), Some(10));
        }
    }

    /// Readers on several stripes fill and replay their buffers while a writer replaces values (small enough
    /// to run under Miri, which checks the striped lock's `unsafe` on this path).
    #[test]
    fn readers_replay_while_a_writer_writes() {
        const READS: u64 = READ_BUFFER as u64 + 44;
        let s = Sharded::new(64, 2, 4, crate::Policy::Lru);
        // Each thread on a stripe of its own from the start, whether or not the threads happen to meet.
        for shard in &*s.shards {
            shard.spread_now();
        }
        for k in 0..32 {
            put(&s, k, k);
        }
        std::thread::scope(|scope| {
            for t in 0..2 {
                let s = &s;
                scope.spawn(move || {
                    for i in 0..READS {
                        let k = (i * 5 + t) % 32;
                        let v = get(s, k).expect("no key is removed");
                        assert_eq!(v % 1_000, k, "a value stored for another key");
                    }
                });
            }
            scope.spawn(|| {
                for round in 1..4 {
                    for k in 0..32 {
                        put(&s, k, round * 1_000 + k);
                    }
                }
            });
        });
        let hits: u64 = s.each().map(|mut g| counters(&mut g).hits).sum();
        assert_eq!(hits, 2 * READS);
        assert_eq!(get(&s, 99), None);
    }

    /// The buffer sizes `HitLog::new` documents: the cap, the shard's capacity, and four slots per entry divided
    /// among the stripes, each rounded up to a power of two.
    #[test]
    fn read_buffers_are_sized_by_shard_and_stripes() {
        let len = |capacity, stripes| HitLog::new(capacity, stripes).reads.len();
        assert_eq!(len(100_000, 4), READ_BUFFER);
        assert_eq!(len(625, 4), 1_024);
        assert_eq!(len(128, 1), 128);
        assert_eq!(len(3, 1), 4);
        assert_eq!(len(512, 16), 128);
        assert_eq!(len(1, 1), 1);
    }

    /// A reader whose buffer is full replays it under its read lock: it neither waits for the readers of other
    /// stripes nor drops reads. (Were the replay to take every stripe, as a writer does, the loop below would
    /// wait forever for the stripe held here.)
    #[test]
    fn a_full_buffer_is_replayed_while_another_stripe_is_held() {
        const KEYS: u64 = 16;
        let s = Sharded::new(KEYS as usize, 1, 2, crate::Policy::Lru);
        assert_eq!(s.shards[0].stripes(), 2);
        // As if two readers had already met: each thread number on its own stripe.
        s.shards[0].spread_now();
        for k in 0..KEYS {
            put(&s, k, k);
        }
        // Make the shard ordered (its first eviction), so that the replays below move entries in the list.
        put(&s, KEYS, KEYS);
        assert_eq!(get(&s, 0), None, "0 was the least recently used");
        let held = s.shards[0].read_as(1);
        // Stripe 0 reads 1..KEYS over and over, then KEYS once more at the very end: it stays the newest.
        let reads = 3 * READ_BUFFER + 1;
        let key = |i: usize| {
            if i + 1 == reads {
                KEYS
            } else {
                1 + i as u64 % (KEYS - 1)
            }
        };
        for i in 0..reads {
            assert_eq!(get_as(&s, 0, key(i)), Some(key(i)));
        }
        {
            let mut guard = s.shards[0].read_as(0);
            let (_, log) = guard.parts();
            assert!(
                log.buffered < log.reads.len(),
                "the full buffers were replayed"
            );
        }
        drop(held);
        {
            let mut guard = s.lock(s.hash(&0u64));
            let (_, mut logs) = guard.parts();
            assert_eq!(
                logs.next().map(|l| l.hits - l.uncounted),
                Some(reads as u64)
            );
        }
        // The reads reached the policy in order: the least recently read goes first, KEYS last.
        let last_read = |k: u64| (0..reads).rev().find(|&i| key(i) == k);
        let oldest = (1..KEYS).min_by_key(|&k| last_read(k)).expect("keys");
        put(&s, 100, 100);
        assert_eq!(
            get(&s, oldest),
            None,
            "{oldest} was the least recently read"
        );
        assert_eq!(get(&s, KEYS), Some(KEYS));
    }
}
