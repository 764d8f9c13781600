//! An async-native, concurrent, bounded in-memory cache.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::time::Duration;
//! use cache_core::{AsyncCache, Policy};
//!
//! let cache: AsyncCache<u64, String> = AsyncCache::builder()
//!     .maxsize(10_000)
//!     .policy(Policy::Lru)
//!     .ttl(Duration::from_secs(60))
//!     .build()
//!     .expect("valid settings");
//!
//! // One load per key, however many callers miss at once.
//! let name = cache.get_or_load(42, async { "Ada".to_string() }).await;
//! assert_eq!(name, "Ada");
//! assert_eq!(cache.get(&42).as_deref(), Some("Ada"));
//! assert_eq!(cache.metrics().hits, 1);
//! # }
//! ```
//!
//! Or memoize an `async fn` with one attribute (default feature `macros`):
//!
//! ```
//! use cache_core::async_cache;
//!
//! #[async_cache(maxsize = 1000, ttl = 60)]
//! async fn fetch_user(id: u64) -> Result<String, std::io::Error> {
//!     Ok(format!("user-{id}")) // the slow query goes here
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! assert_eq!(fetch_user(7).await.unwrap(), "user-7"); // runs the body
//! assert_eq!(fetch_user(7).await.unwrap(), "user-7"); // a hit
//! assert_eq!(fetch_user::cache().metrics().hits, 1);
//! # }
//! ```
//!
//! # Design
//! Keys are spread over shards, each a single-threaded store behind a striped lock; no lock is held across an
//! `.await`, and entries leaving the cache are dropped after the lock is released. Time comes from a
//! [`clock::Clock`]; the default follows tokio's clock, so `tokio::time::pause()` drives TTLs in tests. The
//! reasoning is in the repository's `docs/design/`, the user guide in `docs/guide.md`.
//!
//! # Guarantees
//! * `len() <= maxsize()` at every moment. With `.shards(1)` the eviction order is exactly LRU or LFU, whatever
//!   the threads. Otherwise (the default) each shard applies the policy to its share of the keys, exactly as
//!   long as no reader has found the shard's lock taken; after that, one thread's hits in its order, but hits from
//!   different threads since the shard's last write not necessarily in the order they were made
//!   ([`CacheBuilder::shards`]).
//! * An expired entry is never returned, and it is evicted before any live entry. (With the default clock, a
//!   hit outside a current-thread runtime may notice an expiry up to a millisecond or so late: the exact bound
//!   is on [`clock::TokioClock`].)
//!
//! # Loading guarantees
//! * At most one load per key is in flight; concurrent callers share its value.
//! * A cancelled or panicking loader never strands its waiters: one of them takes over. The key is never
//!   poisoned.
//! * Errors are never cached. After a failed load, waiters retry one at a time.
//! * `remove`, `insert` and `clear` during a load win: the load's result is not stored.
//! * Batch loaders get distinct keys only, never a key someone else is loading, and what they leave out is not
//!   cached.
//!
//! # Features
//! | feature | default | what it adds |
//! |---|---|---|
//! | `macros` | yes | `#[async_cache]` and `#[derive(CacheIdentity)]`, re-exported from `cache-macros` |
//! | `redis` | no | `redis::RedisTier`: a shared second tier on Redis, `.name(..)` + `.redis(tier)` on the builder |
//! | `tracing` | no | a `tracing` span per load (outcome, duration) and events for failures and evictions (every name: `docs/observability.md`) |
//! | `metrics` | no | `AsyncCache::export_metrics`: the [`Metrics`] as counters and gauges of the `metrics` facade, and a load-time histogram |

mod batch;
mod bounds;
mod builder;
mod cache;
pub mod clock;
mod coarse;
mod flight;
mod grave;
mod hooks;
mod identity;
mod load;
mod load_future;
mod metrics;
mod model;
mod observe;
mod policy;
#[allow(unsafe_code)] // a CPU prefetch hint, see its docs
mod prefetch;
mod reaper;
mod reentry;
mod refresh;
mod sharded;
mod store;
#[allow(unsafe_code)] // a striped lock, see its docs
mod striped;
#[allow(unsafe_code)] // parking through `parking_lot_core`, see its docs
mod sync;
mod tier;
mod timebase;

#[cfg(feature = "redis")]
pub mod redis;

/// What `#[async_cache]` expansions call: not public API. The version in the name ties an expansion to the
/// runtime it was made for (`cache-core` pins `cache-macros` with `=`), so a mismatched pair fails to compile
/// instead of calling a changed function.
#[doc(hidden)]
#[path = "__private/mod.rs"]
pub mod __private_v0_1;

pub use batch::LoadError;
pub use bounds::{CacheKey, CacheValue};
pub use builder::{BuildError, CacheBuilder};
pub use cache::AsyncCache;
pub use hooks::EvictionCause;
pub use identity::{CacheIdentity, InstanceId};
pub use load::DEFAULT_WARMUP_CONCURRENCY;
pub use metrics::{LoadTime, Metrics};
pub use policy::{ParsePolicyError, Policy};

#[cfg(feature = "macros")]
pub use cache_macros::{async_cache, CacheIdentity};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// `docs/guide.md`'s examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/guide.md")]
struct GuideDoctests;
