//! Eviction policies.
//!
//! A policy orders the slots of one shard's store and names the next victim. It knows nothing of keys, values,
//! locks or time: the store tells it which slot index was inserted, touched, removed or moved, and asks it for a
//! victim when the shard is full. Adding a policy means a new file here, a variant of [`AnyPolicy`] and of
//! [`crate::Policy`]; the store does not change.
//!
//! A policy's per-entry links ([`Meta`]) live in a vector the store keeps beside its entries, slot for slot, and
//! lends to every call ([`MetaSlots`]); the policy keeps only its list heads (and, for LFU, its buckets). Hits
//! do not call the policy directly: they are buffered and replayed in batches ([`EvictionPolicy::touch_many`])
//! under the shard's exclusive lock or under the store's own lock on the order (see `crate::sharded`), so only
//! the replaying thread ever writes the links, and the entries that other cores read stay untouched.

mod lfu;
mod lru;
#[cfg(test)]
mod replay_speed;
mod sketch;
mod tinylfu;

pub(crate) use lfu::Lfu;
pub(crate) use lru::Lru;
pub(crate) use tinylfu::TinyLfu;

/// The largest shard that starts unordered (uses only stamped until its first eviction, then sorted). The sort
/// runs under the shard's lock at that first eviction, so it is bounded: 1.7–1.9 ms for this many entries on the
/// machine of `docs/benchmarks.md` (measured: 5.5 ms for 100,000, 62 ms for 1,000,000). Larger shards keep their
/// order from the start.
pub(crate) const UNORDERED_MAX: usize = 32_768;

/// The slots of `idxs` below `count`, in order (the store never passes another; a debug build says so if it does).
pub(crate) fn valid_slots(count: usize, idxs: &[u32]) -> impl Iterator<Item = u32> + '_ {
    idxs.iter().copied().filter(move |&i| {
        debug_assert!((i as usize) < count, "slot {i} of {count}");
        (i as usize) < count
    })
}

/// Stamps the slots of `idxs` in turn with `*next`, `*next + 1`, … and calls `also` on each. The counter is kept
/// in a local meanwhile: one store per slot, no loop-carried trip through memory.
#[inline]
pub(crate) fn stamp_each(
    slots: &mut impl MetaSlots,
    idxs: impl Iterator<Item = u32>,
    next: &mut u64,
    mut also: impl FnMut(u32),
) {
    let mut stamp = *next;
    for i in idxs {
        set_stamp(slots.meta_mut(i), stamp);
        stamp += 1;
        also(i);
    }
    *next = stamp;
}

/// "No slot": the null link of the index-linked lists.
pub(crate) const NIL: u32 = u32::MAX;

/// A policy's links for one slot: 8 bytes. What they mean
/// is the policy's business (LRU: previous and next in recency order; LFU: previous and next in the frequency
/// bucket, whose id LFU keeps in a side vector of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meta {
    pub(crate) prev: u32,
    pub(crate) next: u32,
}

impl Default for Meta {
    fn default() -> Self {
        Self {
            prev: NIL,
            next: NIL,
        }
    }
}

/// The slots' [`Meta`], by slot index, as the store lends them to the policy.
pub(crate) trait MetaSlots {
    fn meta(&self, idx: u32) -> &Meta;
    fn meta_mut(&mut self, idx: u32) -> &mut Meta;
    /// How many slots there are.
    fn count(&self) -> usize;
    /// The weight of the entry in slot `idx`: what the cache's weigher said, or 1 for every entry of a cache
    /// without one (so that a policy sizing its regions in weight sizes them in entries then).
    #[inline]
    fn weight(&self, _idx: u32) -> u64 {
        1
    }
}

/// The slots as a store lends them: each one's [`Meta`] and, for a cache with a weigher, its weight (`weight` is
/// empty without one: every entry weighs 1).
pub(crate) struct Slots<'a> {
    pub(crate) meta: &'a mut [Meta],
    pub(crate) weight: &'a [u32],
}

impl MetaSlots for Slots<'_> {
    #[inline]
    fn meta(&self, idx: u32) -> &Meta {
        &self.meta[idx as usize]
    }
    #[inline]
    fn meta_mut(&mut self, idx: u32) -> &mut Meta {
        &mut self.meta[idx as usize]
    }
    #[inline]
    fn count(&self) -> usize {
        self.meta.len()
    }
    #[inline]
    fn weight(&self, idx: u32) -> u64 {
        self.weight.get(idx as usize).map_or(1, |&w| u64::from(w))
    }
}

impl MetaSlots for Vec<Meta> {
    #[inline]
    fn meta(&self, idx: u32) -> &Meta {
        &self[idx as usize]
    }
    #[inline]
    fn meta_mut(&mut self, idx: u32) -> &mut Meta {
        &mut self[idx as usize]
    }
    #[inline]
    fn count(&self) -> usize {
        self.len()
    }
}

/// A use stamp kept in a slot's [`Meta`] while a policy is still unordered (its two links are not in use then).
#[inline]
pub(crate) fn stamp_of(m: &Meta) -> u64 {
    (u64::from(m.prev) << 32) | u64::from(m.next)
}

/// Stores a use stamp in a slot's [`Meta`] (see [`stamp_of`]).
#[inline]
pub(crate) fn set_stamp(m: &mut Meta, stamp: u64) {
    #[allow(clippy::cast_possible_truncation)] // the two halves of a u64
    {
        m.prev = (stamp >> 32) as u32;
        m.next = stamp as u32;
    }
}

/// Points the neighbours of a list position at new slots: `prev`'s `next` (or the list's `head`, when `prev` is
/// `NIL`) becomes `after_prev`, and `next`'s `prev` (or `tail`) becomes `before_next`.
fn relink(
    slots: &mut impl MetaSlots,
    (prev, next): (u32, u32),
    (after_prev, before_next): (u32, u32),
    head: &mut u32,
    tail: &mut u32,
) {
    if prev == NIL {
        *head = after_prev;
    } else {
        slots.meta_mut(prev).next = after_prev;
    }
    if next == NIL {
        *tail = before_next;
    } else {
        slots.meta_mut(next).prev = before_next;
    }
}

/// Takes slot `idx` out of the list whose ends are `head` and `tail`: its neighbours (or the list's ends) point
/// past it. Its own links are left as they were.
#[inline]
pub(crate) fn unlink(slots: &mut impl MetaSlots, idx: u32, head: &mut u32, tail: &mut u32) {
    let (prev, next) = {
        let m = slots.meta(idx);
        (m.prev, m.next)
    };
    relink(slots, (prev, next), (next, prev), head, tail);
}

/// An entry's `Meta` has moved into slot `to` (the store's swap-remove): its neighbours (or the list's ends)
/// point at `to` instead of its old slot.
#[inline]
pub(crate) fn link_moved(slots: &mut impl MetaSlots, to: u32, head: &mut u32, tail: &mut u32) {
    let (prev, next) = {
        let m = slots.meta(to);
        (m.prev, m.next)
    };
    relink(slots, (prev, next), (to, to), head, tail);
}

/// Links slot `idx` in at the front of the list whose ends are `head` and `tail` (its own links are overwritten).
#[inline]
pub(crate) fn link_front(slots: &mut impl MetaSlots, idx: u32, head: &mut u32, tail: &mut u32) {
    let old_head = *head;
    let m = slots.meta_mut(idx);
    m.prev = NIL;
    m.next = old_head;
    if old_head == NIL {
        *tail = idx;
    } else {
        slots.meta_mut(old_head).prev = idx;
    }
    *head = idx;
}

/// The interface between a store and its eviction policy. Slot indices are dense (`0..len`).
pub(crate) trait EvictionPolicy {
    /// A new entry now lives at `idx` (its `Meta` is the default); `hash` is its key's hash (by the cache's
    /// seeded hasher), for policies that estimate key frequencies.
    fn insert(&mut self, slots: &mut impl MetaSlots, idx: u32, hash: u64);
    /// The entry at `idx` was read (`get`) or overwritten (`insert` of an existing key).
    fn touch(&mut self, slots: &mut impl MetaSlots, idx: u32);
    /// [`touch`](Self::touch) for each of `idxs`, in order (replayed reads). A slot out of range is skipped:
    /// the store never passes one, and a policy must not corrupt itself if it did.
    fn touch_many(&mut self, slots: &mut impl MetaSlots, idxs: &[u32]) {
        for i in valid_slots(slots.count(), idxs) {
            self.touch(slots, i);
        }
    }
    /// The entry at `idx` is about to leave (it is still in its slot).
    fn remove(&mut self, slots: &mut impl MetaSlots, idx: u32);
    /// The entry that was at `from` now sits at `to`, `Meta` included (the store keeps its slots dense): fix
    /// whatever pointed at `from`.
    fn relocate(&mut self, slots: &mut impl MetaSlots, from: u32, to: u32);
    /// The store is about to evict: make the order exact if it is not maintained yet. `len` is the number of
    /// slots. (A policy may leave its order unbuilt until the store first fills up, recording only use stamps
    /// until then: see `Lru`.)
    fn order(&mut self, slots: &mut impl MetaSlots, len: usize);
    /// The slot to evict next, if any entry is tracked; the store removes it at once. Only called after
    /// [`order`](Self::order), when the store is full and about to insert a new entry. A policy may rearrange its
    /// order first (TinyLFU moves an admitted candidate into its main region), which is why it takes the slots.
    fn victim(&mut self, slots: &mut impl MetaSlots) -> Option<u32>;
    /// The entry at `idx` now weighs `slots.weight(idx)` instead of `old` (an insert replaced its value). Only
    /// policies that size their regions in weight care.
    fn reweigh(&mut self, _slots: &mut impl MetaSlots, _idx: u32, _old: u64) {}
    /// While `Some(idx)`, the store is making room for the entry at `idx` to weigh more (an insert replacing its
    /// value): the policy should not name it as the victim while another entry can go. Only TinyLFU needs this
    /// (LRU and LFU rank the entry, just used, behind the others); `None` ends it.
    fn keep(&mut self, _idx: Option<u32>) {}
    /// Forget every entry.
    fn clear(&mut self);
}

/// The policies the store can run, dispatched without a virtual call.
// One per shard, never moved once built: boxing TinyLFU's state (a few hundred bytes) would only add an
// indirection to every hit.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum AnyPolicy {
    Lru(Lru),
    Lfu(Lfu),
    TinyLfu(TinyLfu),
}

impl AnyPolicy {
    /// `capacity`: the most slots the store will have (LFU sizes its side vector by it). `max_weight`: the most
    /// total weight it will hold, for a cache with a weigher (TinyLFU sizes its regions in weight then, in
    /// entries otherwise). LRU and LFU need not know: the store evicts their victims until the new entry fits.
    /// `shards`: how many stores alike the cache has (TinyLFU sizes its adaptation steps by the whole cache).
    pub(crate) fn new(
        kind: crate::Policy,
        capacity: usize,
        max_weight: Option<u64>,
        shards: usize,
    ) -> Self {
        match kind {
            crate::Policy::Lru => Self::Lru(Lru::new(capacity <= UNORDERED_MAX)),
            crate::Policy::Lfu => Self::Lfu(Lfu::new(capacity, capacity <= UNORDERED_MAX)),
            crate::Policy::TinyLfu => Self::TinyLfu(TinyLfu::new(
                capacity,
                max_weight.unwrap_or(capacity as u64),
                capacity <= UNORDERED_MAX,
                shards,
            )),
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            AnyPolicy::Lru($p) => $e,
            AnyPolicy::Lfu($p) => $e,
            AnyPolicy::TinyLfu($p) => $e,
        }
    };
}

impl EvictionPolicy for AnyPolicy {
    #[inline]
    fn insert(&mut self, slots: &mut impl MetaSlots, idx: u32, hash: u64) {
        dispatch!(self, p => p.insert(slots, idx, hash));
    }
    #[inline]
    fn touch(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        dispatch!(self, p => p.touch(slots, idx));
    }
    fn touch_many(&mut self, slots: &mut impl MetaSlots, idxs: &[u32]) {
        dispatch!(self, p => p.touch_many(slots, idxs));
    }
    #[inline]
    fn remove(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        dispatch!(self, p => p.remove(slots, idx));
    }
    #[inline]
    fn relocate(&mut self, slots: &mut impl MetaSlots, from: u32, to: u32) {
        dispatch!(self, p => p.relocate(slots, from, to));
    }
    fn order(&mut self, slots: &mut impl MetaSlots, len: usize) {
        dispatch!(self, p => p.order(slots, len));
    }
    #[inline]
    fn victim(&mut self, slots: &mut impl MetaSlots) -> Option<u32> {
        dispatch!(self, p => p.victim(slots))
    }
    fn reweigh(&mut self, slots: &mut impl MetaSlots, idx: u32, old: u64) {
        dispatch!(self, p => p.reweigh(slots, idx, old));
    }
    fn keep(&mut self, idx: Option<u32>) {
        dispatch!(self, p => p.keep(idx));
    }
    fn clear(&mut self) {
        dispatch!(self, p => p.clear());
    }
}

/// Which entry a full cache evicts to make room.
///
/// Parses from `"lru"` / `"lfu"` / `"tinylfu"` (any case) and displays as those names.
///
/// ```
/// use cache_core::Policy;
/// assert_eq!("LFU".parse::<Policy>().unwrap(), Policy::Lfu);
/// assert_eq!(Policy::Lru.to_string(), "lru");
/// assert_eq!("TinyLFU".parse::<Policy>().unwrap(), Policy::TinyLfu);
/// assert!("fifo".parse::<Policy>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Policy {
    /// Least recently used: `get` and `insert` refresh an entry; `peek` and `contains_key` do not.
    #[default]
    Lru,
    /// Least frequently used: `get` and `insert` count one use each; among entries with equal counts the one that
    /// reached that count first is evicted first.
    Lfu,
    /// Adaptive W-TinyLFU, for skewed, looping or mixed traffic: recent use decides *what stays* among the
    /// entries of a small recency window and of a main region, and an estimate of each key's recent frequency
    /// decides *which new entry earns a place in main*. The window's share adapts to the workload as it runs.
    ///
    /// * `get` and `insert` count a use; `peek` and `contains_key` do not. A `get` that misses followed by the
    ///   `insert` (or load) of that key counts once.
    /// * An inserted entry is always stored: a `get` right after `insert` finds it. Whether it stays depends on
    ///   how it fares afterwards: a new entry that is not used again before newer ones push it out of the window
    ///   is evicted without displacing a more popular entry, so a one-off scan does not flush the cache.
    /// * Frequencies are estimated with a compact sketch (4-bit counters, about 8 bytes per entry, halved
    ///   periodically so that old popularity fades), indexed by the cache's own randomly seeded hash.
    ///
    /// ```
    /// use cache_core::{AsyncCache, Policy};
    ///
    /// let cache = AsyncCache::builder()
    ///     .maxsize(1_000)
    ///     .policy(Policy::TinyLfu)
    ///     .build()?;
    /// cache.insert(1u64, "one");
    /// assert_eq!(cache.get(&1), Some("one"));
    /// # Ok::<(), cache_core::BuildError>(())
    /// ```
    TinyLfu,
}

impl Policy {
    /// The lowercase name, as parsed (and as `Display` prints it).
    ///
    /// ```
    /// use cache_core::Policy;
    ///
    /// assert_eq!(Policy::TinyLfu.name(), "tinylfu");
    /// assert_eq!("LRU".parse::<Policy>(), Ok(Policy::Lru)); // parsing ignores case
    /// ```
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Lru => "lru",
            Self::Lfu => "lfu",
            Self::TinyLfu => "tinylfu",
        }
    }
}

impl std::fmt::Display for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a [`Policy`] from a string it does not name; `Display` lists the valid names.
///
/// ```
/// use cache_core::Policy;
///
/// let err = "fifo".parse::<Policy>().unwrap_err();
/// assert_eq!(err.to_string(), r#"unknown cache policy "fifo": expected "lru", "lfu" or "tinylfu""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsePolicyError {
    input: String,
}

impl std::fmt::Display for ParsePolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown cache policy {:?}: expected \"lru\", \"lfu\" or \"tinylfu\"",
            self.input
        )
    }
}

impl std::error::Error for ParsePolicyError {}

impl std::str::FromStr for Policy {
    type Err = ParsePolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("lru") {
            Ok(Self::Lru)
        } else if s.eq_ignore_ascii_case("lfu") {
            Ok(Self::Lfu)
        } else if s.eq_ignore_ascii_case("tinylfu") {
            Ok(Self::TinyLfu)
        } else {
            Err(ParsePolicyError {
                input: s.to_owned(),
            })
        }
    }
}
