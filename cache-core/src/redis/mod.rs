//! A shared second tier on Redis (feature `redis`): one builder call turns a local cache into one that its
//! replicas share.
//!
//! ```no_run
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use cache_core::{redis::RedisTier, AsyncCache};
//!
//! let tier = RedisTier::new("redis://127.0.0.1:6379", "myapp")?; // does not connect
//! let users: AsyncCache<u64, String> =
//!     AsyncCache::builder().maxsize(10_000).name("users").redis(tier.clone()).build()?;
//! let name = users.get_or_load(42, async { "Ada".to_string() }).await;
//! # Ok(())
//! # }
//! ```
//!
//! # On a cached fn: `#[async_cache(redis = "..")]`
//! The attribute's option `redis` takes an expression that yields the tier (evaluated once, when the fn's cache
//! is built); the cache is named by the fn's path, `::` written `.` (or by `name = ".."`). Keys and values must
//! be `Serialize + DeserializeOwned`; methods taking `self` cannot be shared (see the attribute's docs).
//!
//! ```
//! use std::sync::LazyLock;
//! use std::time::Duration;
//! use cache_core::{async_cache, redis::RedisTier};
//!
//! // Nothing listens on port 1: every Redis call fails at once, and the fn's body serves.
//! static TIER: LazyLock<RedisTier> = LazyLock::new(|| {
//!     RedisTier::new("redis://127.0.0.1:1/", "shop").unwrap().timeout(Duration::from_millis(50))
//! });
//!
//! #[async_cache(ttl = 60, redis = "TIER.clone()")]
//! async fn price(sku: String) -> u64 {
//!     sku.len() as u64
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! assert_eq!(price("abc".into()).await, 3); // Redis is down: the body ran
//! assert_eq!(price("abc".into()).await, 3); // from L1
//! assert_eq!(price::cache().metrics().hits, 1);
//! assert_eq!(price::cache().name(), Some("rust_out.price")); // the doctest's crate is `rust_out`
//! assert!(TIER.metrics().errors >= 1);
//! # }
//! ```
//!
//! # What the tier does
//! * **Read path.** `get_or_load` and `try_get_or_load` (and their `_with_ttl` forms, and `#[async_cache]`
//!   functions with `redis = "..."`) look in L1 (this process's cache) first; on a miss, the one caller that leads
//!   the in-process load asks Redis: a value there is the answer (stored in L1 too). Otherwise it takes a lease
//!   on the key across replicas (`SET NX PX`) and runs the loader, whose value goes to L1 and Redis (with the
//!   same TTL, as `PX`) before the lease is released (compare-and-delete). A replica that finds the lease held
//!   waits, looking again with backoff (1 ms doubling to 20 ms), and reads the holder's value when it lands;
//!   if the holder dies, its lease expires ([`lease_time`](RedisTier::lease_time)) and one waiter takes over.
//!   So N replicas x M callers on one cold key run the loader once. Other loading paths (`get_many`, `load`,
//!   `warmup`) stay in-process.
//! * **Keys.** `{namespace}:{cache name}:v{version}:{key}`, the key being the hex of its postcard encoding
//!   (stable across processes and builds; never `std::hash`). Values carry a format header; one that does not
//!   decode (another format, another type, garbage) is a miss and is deleted.
//! * **TTL.** An L1 copy of a value from Redis expires no later than the Redis entry, and never later than
//!   [`max_l1_ttl`](RedisTier::max_l1_ttl) if set.
//! * **Invalidation.** `insert` (which writes the value to Redis), `remove` and `clear` (which delete there) are
//!   published on `{namespace}:invalidations`; every other replica drops its L1 copy (a replica ignores its own
//!   messages). When the subscription drops or is made again, messages may have been missed, so every cache on
//!   the tier drops **all** its L1 entries (not only those that came from Redis: another replica may have
//!   changed a key this one loaded itself) and, once a subscription has been lost, detaches its loads in
//!   progress, whose values then reach their callers but neither L1 nor Redis ([`RedisMetrics::resyncs`]
//!   counts resyncs). `remove(&q)` reaches Redis and
//!   the other replicas only when this replica holds the key (stored, live or expired, or loading it): the tier
//!   needs the owned key to encode it, and otherwise nothing is removed elsewhere. `insert` always reaches them.
//! * **Failure is never an error.** Every Redis call is bounded by [`timeout`](RedisTier::timeout) and goes
//!   through a circuit breaker: after [`breaker`](RedisTier::breaker) failures in a row, calls are skipped
//!   (callers are served from L1 and the loader, with no delay) until the cooldown has passed; then one probe
//!   call decides. A server that is down at start-up, killed, paused, full or answering garbage costs at most
//!   a timeout per call until the breaker opens, and the tier recovers by itself. Values whose encoding is over
//!   [`max_value_size`](RedisTier::max_value_size) stay in L1 only.
//!
//! # Replicas
//! One `RedisTier` (and its clones) is one replica: make one per process. Two caches in one process sharing a
//! tier are the same replica and do not invalidate each other's L1 through Redis. The tier starts its
//! connection and background tasks (the ordered writer, the subscriber) in the tokio runtime of the first call
//! that needs them; tokio's paused test clock does not mix with it (the timeouts are real time).

mod codec;
mod link;
mod shared;

use std::error::Error;
use std::fmt;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::CacheBuilder;
use link::Link;

/// The settings of a tier handle (copied into each cache built with it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub(crate) timeout: Duration,
    pub(crate) lease: Duration,
    pub(crate) max_value_size: usize,
    pub(crate) max_l1_ttl: Option<Duration>,
    pub(crate) breaker_failures: u32,
    pub(crate) breaker_cooldown: Duration,
    pub(crate) version: u32,
}

/// A Redis server (or anything speaking its protocol) shared by the replicas of a service, as the second tier
/// of any number of caches. Cheap to clone; clones are the same replica.
///
/// Made by [`new`](Self::new) without connecting; the settings below apply to the caches built after them.
///
/// ```
/// use std::time::Duration;
/// use cache_core::redis::RedisTier;
///
/// let tier = RedisTier::new("redis://127.0.0.1:6379/0", "shop")?
///     .timeout(Duration::from_millis(50))
///     .max_value_size(256 * 1024);
/// assert_eq!(tier.namespace(), "shop");
/// assert!(RedisTier::new("not a url", "shop").is_err());
/// assert!(RedisTier::new("redis://127.0.0.1", "has space").is_err());
/// # Ok::<(), cache_core::redis::RedisTierError>(())
/// ```
#[derive(Clone)]
pub struct RedisTier {
    pub(crate) link: Arc<Link>,
    pub(crate) settings: Settings,
}

impl fmt::Debug for RedisTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTier")
            .field("namespace", &self.link.namespace)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl RedisTier {
    /// The default [`timeout`](Self::timeout) of one Redis call.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(100);
    /// The default [`lease_time`](Self::lease_time).
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(5);
    /// The default [`max_value_size`](Self::max_value_size): 1 MiB.
    pub const DEFAULT_MAX_VALUE_SIZE: usize = 1 << 20;

    /// A tier on the server at `url` (`redis://host:port/db`, `rediss://` is not built in), with keys under
    /// `namespace` (1 to 64 ASCII letters, digits, `_`, `-`, `.`). Does not connect: a server that is down now
    /// is fine.
    ///
    /// # Errors
    /// [`RedisTierError`] for a URL that does not parse or an invalid namespace.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::redis::RedisTier;
    ///
    /// // Nothing listens on port 1: the tier is made all the same, and a cache on it runs from L1 alone.
    /// let tier = RedisTier::new("redis://127.0.0.1:1/0", "shop")?;
    /// assert_eq!(tier.namespace(), "shop");
    /// assert!(matches!(
    ///     RedisTier::new("redis://127.0.0.1", "no spaces"),
    ///     Err(cache_core::redis::RedisTierError::InvalidNamespace(_))
    /// ));
    /// # Ok::<(), cache_core::redis::RedisTierError>(())
    /// ```
    pub fn new(url: &str, namespace: &str) -> Result<Self, RedisTierError> {
        if !crate::builder::valid_name(namespace) {
            return Err(RedisTierError::InvalidNamespace(namespace.to_owned()));
        }
        let client =
            redis::Client::open(url).map_err(|e| RedisTierError::InvalidUrl(e.to_string()))?;
        Ok(Self {
            link: Arc::new(Link::new(client, namespace.to_owned())),
            settings: Settings {
                timeout: Self::DEFAULT_TIMEOUT,
                lease: Self::DEFAULT_LEASE,
                max_value_size: Self::DEFAULT_MAX_VALUE_SIZE,
                max_l1_ttl: None,
                breaker_failures: 3,
                breaker_cooldown: Duration::from_secs(1),
                version: 1,
            },
        })
    }

    /// The namespace given to [`new`](Self::new).
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::redis::RedisTier;
    ///
    /// assert_eq!(RedisTier::new("redis://127.0.0.1/0", "shop.v2")?.namespace(), "shop.v2");
    /// # Ok::<(), cache_core::redis::RedisTierError>(())
    /// ```
    pub fn namespace(&self) -> &str {
        &self.link.namespace
    }

    /// The longest one Redis call may delay a caller (default 100 ms); a call that takes longer counts as a
    /// failure for the breaker. Zero is taken as 1 ms.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::redis::RedisTier;
    ///
    /// let tier = RedisTier::new("redis://127.0.0.1/0", "shop")?.timeout(Duration::from_millis(20));
    /// assert!(format!("{tier:?}").contains("timeout: 20ms"));
    /// # Ok::<(), cache_core::redis::RedisTierError>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long a lease to load a key lasts (default 5 s): the longest other replicas wait for a holder that
    /// died. A load that takes longer may run again on another replica (waiters give up after twice this).
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::redis::RedisTier;
    ///
    /// let tier = RedisTier::new("redis://127.0.0.1/0", "shop")?.lease_time(Duration::from_secs(30));
    /// assert!(format!("{tier:?}").contains("lease: 30s"));
    /// # Ok::<(), cache_core::redis::RedisTierError>(())
    /// ```
    pub fn lease_time(mut self, lease: Duration) -> Self {
        self.settings.lease = lease.max(Duration::from_millis(1));
        self
    }

    /// Values whose encoding is longer than this many bytes stay in L1 only (default 1 MiB).
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::redis::RedisTier;
    ///
    /// let tier = RedisTier::new("redis://127.0.0.1/0", "shop")?.max_value_size(64 * 1024);
    /// assert!(format!("{tier:?}").contains("max_value_size: 65536"));
    /// # Ok::<(), cache_core::redis::RedisTierError>(())
    /// ```
    pub fn max_value_size(mut self, bytes: usize) -> Self {
        self.settings.max_value_size = bytes;
        self
    }

    /// The longest an L1 copy lives (default: as long as its TTL, and never past the Redis entry).
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::redis::RedisTier;
    ///
    /// let tier = RedisTier::new("redis://127.0.0.1/0", "shop")?.max_l1_ttl(Duration::from_secs(10));
    /// assert!(format!("{tier:?}").contains("max_l1_ttl: Some(10s)"));
    /// # Ok::<(), cache_core::redis::RedisTierError>(())
    /// ```
    pub fn max_l1_ttl(mut self, ttl: Duration) -> Self {
        self.settings.max_l1_ttl = Some(ttl);
        self
    }

    /// The circuit breaker: open after `failures` failed calls in a row (default 3; 0 is taken as 1), and skip
    /// Redis for `cooldown` (default 1 s) before one probe call.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::redis::RedisTier;
    ///
    /// let tier = RedisTier::new("redis://127.0.0.1/0", "shop")?.breaker(5, Duration::from_millis(500));
    /// assert!(format!("{tier:?}").contains("breaker_failures: 5"));
    /// # Ok::<(), cache_core::redis::RedisTierError>(())
    /// ```
    pub fn breaker(mut self, failures: u32, cooldown: Duration) -> Self {
        self.settings.breaker_failures = failures.max(1);
        self.settings.breaker_cooldown = cooldown;
        self
    }

    /// The version in the keys (default 1): bump it when the value type changes, so that old and new replicas
    /// never read each other's values.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::redis::RedisTier;
    ///
    /// let tier = RedisTier::new("redis://127.0.0.1/0", "shop")?.version(2);
    /// assert!(format!("{tier:?}").contains("version: 2"));
    /// # Ok::<(), cache_core::redis::RedisTierError>(())
    /// ```
    pub fn version(mut self, version: u32) -> Self {
        self.settings.version = version;
        self
    }

    /// Waits until every write queued so far by the caches on this tier (loaded values, inserts, removals,
    /// clears, their invalidation messages, lease releases) has been sent to Redis, or has failed or been
    /// skipped. Writes are sent in order by a background task, so `get_or_load` returns without waiting for
    /// them; call this before a process exits (or in tests) so that what it loaded reaches the other replicas.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::redis::RedisTier;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), cache_core::redis::RedisTierError> {
    /// // With no server on port 1 a queued write fails (the breaker counts it); `flush` returns all the same.
    /// let tier = RedisTier::new("redis://127.0.0.1:1/0", "shop")?.timeout(Duration::from_millis(20));
    /// let users = cache_core::AsyncCache::<u64, String>::builder()
    ///     .maxsize(100)
    ///     .name("users")
    ///     .redis(tier.clone())
    ///     .build()
    ///     .unwrap();
    /// users.insert(1, "ada".to_owned());
    /// tokio::time::timeout(Duration::from_secs(10), tier.flush()).await.expect("flush returns");
    /// assert_eq!(users.get(&1).as_deref(), Some("ada")); // L1 keeps serving
    /// # Ok(())
    /// # }
    /// ```
    pub async fn flush(&self) {
        let (ack, done) = tokio::sync::oneshot::channel();
        let mut write = link::Write::new(Vec::new(), self.settings, 0);
        write.ack = Some(ack);
        self.link.send(write);
        let _ = done.await;
    }

    /// A snapshot of this replica's counters (all caches on the tier together).
    ///
    /// ```
    /// use cache_core::redis::RedisTier;
    ///
    /// let tier = RedisTier::new("redis://127.0.0.1:1/0", "shop")?;
    /// let m = tier.metrics();
    /// assert_eq!((m.hits, m.misses, m.errors), (0, 0, 0)); // nothing asked of Redis yet
    /// # Ok::<(), cache_core::redis::RedisTierError>(())
    /// ```
    pub fn metrics(&self) -> RedisMetrics {
        let s = &self.link.stats;
        RedisMetrics {
            hits: s.hits.load(Relaxed),
            misses: s.misses.load(Relaxed),
            errors: s.errors.load(Relaxed),
            skipped: s.skipped.load(Relaxed),
            breaker: self.link.breaker_state(),
            lease_waits: s.lease_waits.load(Relaxed),
            invalidations_sent: s.sent.load(Relaxed),
            invalidations_received: s.received.load(Relaxed),
            undecodable: s.undecodable.load(Relaxed),
            oversized: s.oversized.load(Relaxed),
            resyncs: s.resyncs.load(Relaxed),
            subscribed: s.subscribed.load(Relaxed),
        }
    }
}

/// The counters of a [`RedisTier`] (one replica, all its caches).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisMetrics {
    /// L1 misses answered by Redis.
    pub hits: u64,
    /// L1 misses Redis did not have (this replica then loaded, holding the lease).
    pub misses: u64,
    /// Calls that failed or timed out.
    pub errors: u64,
    /// Calls not made because the breaker was open.
    pub skipped: u64,
    /// The breaker now.
    pub breaker: BreakerState,
    /// Loads that waited for another replica's lease.
    pub lease_waits: u64,
    /// Invalidation messages published (by `insert`, `remove`, `clear`).
    pub invalidations_sent: u64,
    /// Invalidation messages received from other replicas.
    pub invalidations_received: u64,
    /// Values in Redis that did not decode (treated as misses and deleted).
    pub undecodable: u64,
    /// Values over `max_value_size`, kept in L1 only.
    pub oversized: u64,
    /// Times the invalidation subscription was made or lost, each dropping every L1 entry of the tier's caches
    /// (and, after a loss, detaching their loads in progress): messages may have been missed.
    pub resyncs: u64,
    /// Whether the invalidation subscription is up.
    pub subscribed: bool,
}

/// The state of a tier's circuit breaker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BreakerState {
    /// Calls go to Redis.
    #[default]
    Closed,
    /// Calls are skipped until the cooldown has passed.
    Open,
    /// One probe call is out; the others are skipped.
    HalfOpen,
}

/// Why [`RedisTier::new`] refused its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisTierError {
    /// The URL did not parse (the parser's message).
    InvalidUrl(String),
    /// The namespace is empty, over 64 characters, or has a character other than an ASCII letter, digit, `_`,
    /// `-` or `.`.
    InvalidNamespace(String),
}

impl fmt::Display for RedisTierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl(e) => write!(f, "invalid Redis URL: {e}"),
            Self::InvalidNamespace(ns) => write!(
                f,
                "Redis namespace {ns:?} is invalid: use 1 to 64 ASCII letters, digits, `_`, `-` or `.`"
            ),
        }
    }
}

impl Error for RedisTierError {}

impl<K, V> CacheBuilder<K, V>
where
    K: crate::CacheKey + Serialize + DeserializeOwned,
    V: crate::CacheValue + Serialize + DeserializeOwned,
{
    /// Shares the cache through `tier` (feature `redis`): see [the module docs](crate::redis) for what that
    /// does. Needs [`name`](Self::name) (the build fails with [`BuildError::MissingName`](crate::BuildError)
    /// without it). Keys are deserialized too: an invalidation names its key by its bytes.
    ///
    /// ```
    /// use cache_core::{redis::RedisTier, AsyncCache, BuildError};
    ///
    /// let tier = RedisTier::new("redis://127.0.0.1:6379", "app").unwrap();
    /// let cache = AsyncCache::<String, u64>::builder().maxsize(100).redis(tier.clone()).build();
    /// assert_eq!(cache.unwrap_err(), BuildError::MissingName);
    /// let cache = AsyncCache::<String, u64>::builder().maxsize(100).name("counts").redis(tier).build();
    /// assert!(cache.is_ok()); // nothing connected yet
    /// ```
    pub fn redis(mut self, tier: RedisTier) -> Self {
        self.tier = Some(Box::new(move |name: &str| {
            shared::Shared::<K, V>::new(tier, name) as Arc<dyn crate::tier::Tier<K, V>>
        }));
        self
    }
}
