//! The user's callbacks that decide about entries: the TTL of a stored value (`expire_after`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Decides the TTL of a value stored without an explicit one (see [`CacheBuilder::expire_after`]).
///
/// [`CacheBuilder::expire_after`]: crate::CacheBuilder::expire_after
pub(crate) type ExpireFn<K, V> = Arc<dyn Fn(&K, &V) -> Option<Duration> + Send + Sync>;

/// The callbacks given to the builder.
pub(crate) struct Hooks<K, V> {
    pub(crate) expire_after: Option<ExpireFn<K, V>>,
}

impl<K, V> Default for Hooks<K, V> {
    fn default() -> Self {
        Self { expire_after: None }
    }
}

impl<K, V> fmt::Debug for Hooks<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("expire_after", &self.expire_after.is_some())
            .finish()
    }
}

/// How a store decides the TTL of the value it stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ttl {
    /// `expire_after` if set, otherwise the cache's default TTL.
    Default,
    /// Exactly this (`None`: never expires): an explicit `*_with_ttl`.
    Fixed(Option<Duration>),
}
