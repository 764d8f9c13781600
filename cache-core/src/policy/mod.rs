//! Eviction policies.
//!
//! A policy orders the slots of one shard's store and names the next victim. It knows nothing of keys, values,
//! locks or time: the store tells it which slot index was inserted, touched, removed or moved, and asks it for a
//! victim when the shard is full. Adding a policy means a new file here, a variant of [`AnyPolicy`] and of
//! [`crate::Policy`]; the store does not change.

mod lfu;
mod lru;

pub(crate) use lfu::Lfu;
pub(crate) use lru::Lru;

/// "No slot": the null link of the index-linked lists.
pub(crate) const NIL: u32 = u32::MAX;

/// The interface between a store and its eviction policy. Slot indices are dense (`0..len`).
pub(crate) trait EvictionPolicy {
    /// A new entry now lives at `idx`.
    fn insert(&mut self, idx: u32);
    /// The entry at `idx` was read (`get`) or overwritten (`insert` of an existing key).
    fn touch(&mut self, idx: u32);
    /// The entry at `idx` is gone.
    fn remove(&mut self, idx: u32);
    /// The entry at `from` moved to the free slot `to` (the store keeps its slots dense).
    fn relocate(&mut self, from: u32, to: u32);
    /// The slot to evict next, if any entry is tracked.
    fn victim(&self) -> Option<u32>;
    /// Forget every entry.
    fn clear(&mut self);
}

/// The policies the store can run, dispatched without a virtual call.
#[derive(Debug)]
pub(crate) enum AnyPolicy {
    Lru(Lru),
    Lfu(Lfu),
}

impl AnyPolicy {
    pub(crate) fn new(kind: crate::Policy, capacity: usize) -> Self {
        match kind {
            crate::Policy::Lru => Self::Lru(Lru::with_capacity(capacity)),
            crate::Policy::Lfu => Self::Lfu(Lfu::with_capacity(capacity)),
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            AnyPolicy::Lru($p) => $e,
            AnyPolicy::Lfu($p) => $e,
        }
    };
}

impl EvictionPolicy for AnyPolicy {
    #[inline]
    fn insert(&mut self, idx: u32) {
        dispatch!(self, p => p.insert(idx));
    }
    #[inline]
    fn touch(&mut self, idx: u32) {
        dispatch!(self, p => p.touch(idx));
    }
    #[inline]
    fn remove(&mut self, idx: u32) {
        dispatch!(self, p => p.remove(idx));
    }
    #[inline]
    fn relocate(&mut self, from: u32, to: u32) {
        dispatch!(self, p => p.relocate(from, to));
    }
    #[inline]
    fn victim(&self) -> Option<u32> {
        dispatch!(self, p => p.victim())
    }
    fn clear(&mut self) {
        dispatch!(self, p => p.clear());
    }
}

/// Makes room for index `idx` in a per-slot vector without letting `Vec`'s doubling overshoot the shard's
/// capacity (a full cache would otherwise carry up to 2x slack).
pub(crate) fn slot_mut<T: Default>(v: &mut Vec<T>, idx: u32, capacity: usize) -> &mut T {
    let idx = idx as usize;
    if idx >= v.len() {
        if v.len() == v.capacity() {
            let want = v
                .capacity()
                .max(4)
                .min(capacity.saturating_sub(v.len()).max(1));
            v.reserve_exact(want);
        }
        v.resize_with(idx + 1, T::default);
    }
    &mut v[idx]
}

/// Which entry a full cache evicts to make room.
///
/// Parses from `"lru"` / `"lfu"` (any case) and displays as those names.
///
/// ```
/// use cache_core::Policy;
/// assert_eq!("LFU".parse::<Policy>().unwrap(), Policy::Lfu);
/// assert_eq!(Policy::Lru.to_string(), "lru");
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
}

impl Policy {
    /// The lowercase name, as parsed.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Lru => "lru",
            Self::Lfu => "lfu",
        }
    }
}

impl std::fmt::Display for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a [`Policy`] from a string it does not name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsePolicyError {
    input: String,
}

impl std::fmt::Display for ParsePolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown cache policy {:?}: expected \"lru\" or \"lfu\"",
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
        } else {
            Err(ParsePolicyError {
                input: s.to_owned(),
            })
        }
    }
}
