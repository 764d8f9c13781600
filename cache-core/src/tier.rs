//! The seam between the in-process cache (L1) and a shared second tier (L2, feature `redis`).
//!
//! The cache's generic code only knows this erased interface, so it carries no serialization bounds: those are
//! on the builder method that makes a tier (`CacheBuilder::redis`). Without the feature no tier exists and every
//! hook below is a `None` check.

use std::sync::Weak;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::cache::Inner;

/// What the shared tier said about a key the in-process leader missed.
#[cfg_attr(not(feature = "redis"), allow(dead_code))] // made only by a tier
pub(crate) enum Fetched<V> {
    /// The shared tier has it; the L1 copy may live for `ttl` at most (never past the shared entry).
    Hit { value: V, ttl: Option<Duration> },
    /// It does not: this caller runs the loader and hands the value to the `Fill` (which holds the lease across
    /// replicas, if it got one; dropped unused, it releases it).
    Load(Box<dyn Fill<V>>),
}

/// Where a loaded value goes in the shared tier.
pub(crate) trait Fill<V>: Send {
    /// Writes `value` (with the TTL it got in L1, before any L1 cap) and releases the lease.
    fn fill(self: Box<Self>, value: &V, ttl: Option<Duration>);
}

/// A shared tier behind one cache.
pub(crate) trait Tier<K, V>: Send + Sync {
    /// Called once, when the cache exists: the tier may now deliver invalidations to it.
    fn attach(&self, cache: Weak<Inner<K, V>>);
    /// L1 missed and this caller leads the in-process flight: look in the shared tier, or wait for another
    /// replica's load, or get the right to load.
    fn fetch(&self, key: &K) -> BoxFuture<'static, Fetched<V>>;
    /// The TTL of an L1 copy of a value stored with `ttl` (an optional cap on L1 lifetimes).
    fn l1_ttl(&self, ttl: Option<Duration>) -> Option<Duration>;
    /// `insert` stored a value: write it to the shared tier and tell the other replicas.
    fn inserted(&self, key: &K, value: &V, ttl: Option<Duration>);
    /// `remove` removed a key: delete it from the shared tier and tell the other replicas.
    fn removed(&self, key: &K);
    /// `clear`: delete this cache's entries from the shared tier and tell the other replicas.
    fn cleared(&self);
}
