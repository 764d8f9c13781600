//! Instance identity for cached methods.
//!
//! A cached method keys its entries on the receiver's identity as well as its arguments. The identity cannot be
//! the receiver's address: when an instance is dropped, the next one may be allocated at the same address and
//! would then see the old instance's results (one user's data served to another). [`InstanceId`] is a number
//! drawn from a process-wide counter instead: never reused while the process lives.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A process-unique identity. Every `new()`, `default()` **and `clone()`** draws a fresh one, so a cloned
/// service is a new instance with its own cached results. (Share an instance through `Arc` to share them.)
///
/// ```
/// use cache_core::InstanceId;
/// let a = InstanceId::new();
/// let b = a.clone();
/// assert_ne!(a, b);
/// assert_ne!(InstanceId::default(), InstanceId::default());
/// ```
#[derive(PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceId(u64);

impl InstanceId {
    /// A fresh identity, different from every other one made in this process.
    ///
    /// ```
    /// use cache_core::InstanceId;
    ///
    /// assert_ne!(InstanceId::new(), InstanceId::new());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self(NEXT_ID.fetch_add(1, Ordering::Relaxed))
    }

    /// The identity as a number (for logging; the cache uses it in keys). Never 0, never reused in this
    /// process.
    ///
    /// ```
    /// use cache_core::InstanceId;
    ///
    /// let id = InstanceId::new();
    /// assert_ne!(id.get(), 0);
    /// assert_ne!(id.get(), InstanceId::new().get());
    /// ```
    #[must_use]
    pub fn get(&self) -> u64 {
        self.0
    }
}

impl Default for InstanceId {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for InstanceId {
    /// A **fresh** identity: the clone is another instance.
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl fmt::Debug for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InstanceId({})", self.0)
    }
}

/// Types whose methods can be cached with `#[async_cache]`: they tell the cache which instance they are.
///
/// Most simply, hold an [`InstanceId`] field and derive it:
///
/// ```
/// use cache_core::{CacheIdentity, InstanceId};
///
/// #[derive(CacheIdentity)]
/// struct UserService {
///     id: InstanceId,
///     base_url: String,
/// }
///
/// let a = UserService { id: InstanceId::new(), base_url: "x".into() };
/// let b = UserService { id: InstanceId::new(), base_url: "x".into() };
/// assert_ne!(a.cache_identity(), b.cache_identity());
/// ```
///
/// A hand-written impl must return a value that no other instance, live or dropped, ever returns.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no cache identity, so its methods cannot be cached per instance",
    label = "`{Self}` does not implement `cache_core::CacheIdentity`",
    note = "add a field `id: cache_core::InstanceId` to `{Self}` and `#[derive(cache_core::CacheIdentity)]` to it (the raw address is not used: a new instance at a dropped one's address would see its results)"
)]
pub trait CacheIdentity {
    /// This instance's identity.
    fn cache_identity(&self) -> u64;
}

impl CacheIdentity for InstanceId {
    fn cache_identity(&self) -> u64 {
        self.0
    }
}

impl<T: CacheIdentity + ?Sized> CacheIdentity for std::sync::Arc<T> {
    fn cache_identity(&self) -> u64 {
        (**self).cache_identity()
    }
}

impl<T: CacheIdentity + ?Sized> CacheIdentity for Box<T> {
    fn cache_identity(&self) -> u64 {
        (**self).cache_identity()
    }
}

impl<T: CacheIdentity + ?Sized> CacheIdentity for &T {
    fn cache_identity(&self) -> u64 {
        (**self).cache_identity()
    }
}

/// Something that wants to hear about dropped [`InstanceId`]s: the cache of a cached method, which then removes
/// the dead instance's entries.
pub(crate) trait RetireSink: Send + Sync {
    /// The instance with this identity is gone.
    fn retire(&self, id: u64);
}

static SINKS: parking_lot::Mutex<Vec<std::sync::Weak<dyn RetireSink>>> =
    parking_lot::const_mutex(Vec::new());
static ANY_SINK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Registers a sink for the rest of its life (it is dropped from the list once gone).
pub(crate) fn register_sink(sink: std::sync::Weak<dyn RetireSink>) {
    SINKS.lock().push(sink);
    ANY_SINK.store(true, Ordering::Release);
}

impl Drop for InstanceId {
    /// Tells the caches of cached methods that this identity is gone, so they can drop its entries. Costs one
    /// atomic load when no method cache exists.
    fn drop(&mut self) {
        if !ANY_SINK.load(Ordering::Acquire) {
            return;
        }
        let sinks: Vec<std::sync::Arc<dyn RetireSink>> = {
            let mut sinks = SINKS.lock();
            sinks.retain(|s| s.strong_count() > 0);
            sinks.iter().filter_map(std::sync::Weak::upgrade).collect()
        };
        // Outside the registry lock: a sink may take its own locks.
        for sink in sinks {
            sink.retire(self.0);
        }
    }
}
