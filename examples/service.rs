//! Cached methods on a service: each instance has its own results, keyed by its `InstanceId`.
//!
//! Run with `cargo run --example service`.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use cache_core::{async_cache, CacheIdentity, InstanceId};

/// A client for one region. `#[derive(CacheIdentity)]` uses the `InstanceId` field: every `new()` (and every
/// `clone()`) is a new identity, so results never leak from one instance to another, not even to a new one that
/// happens to live at a dropped one's address.
#[derive(CacheIdentity)]
struct UserService {
    id: InstanceId,
    region: &'static str,
    requests: AtomicUsize,
}

impl UserService {
    fn new(region: &'static str) -> Self {
        Self {
            id: InstanceId::new(),
            region,
            requests: AtomicUsize::new(0),
        }
    }

    /// A greeting from this region's backend; cached per instance and user for 30 s.
    #[async_cache(maxsize = 100, ttl = 30)]
    async fn greeting(&self, user: u64) -> String {
        self.requests.fetch_add(1, Ordering::Relaxed);
        tokio::task::yield_now().await; // the remote call
        format!("hello user {user} from {}", self.region)
    }

    /// The same on a shared handle: `self: Arc<Self>` works too (so does `self: &Arc<Self>`).
    #[async_cache(maxsize = 100)]
    async fn profile(self: Arc<Self>, user: u64) -> Option<String> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        (user != 0).then(|| format!("profile {user} @ {}", self.region))
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

#[tokio::main]
async fn main() {
    {
        let eu = UserService::new("eu");
        let us = UserService::new("us");

        println!("{}", eu.greeting(1).await);
        println!("{}", eu.greeting(1).await); // cached for `eu`
        println!("{}", us.greeting(1).await); // `us` has its own entry
        println!(
            "requests: eu={} us={} (the second eu call was a hit)",
            eu.requests(),
            us.requests()
        );
    } // both dropped here

    // A new instance never sees a dropped one's results, even at the same address.
    let fresh = UserService::new("ap");
    println!("{}", fresh.greeting(1).await);

    // Methods on `Arc<Self>`; `None` is returned but not cached.
    let shared = Arc::new(fresh);
    println!("{:?}", Arc::clone(&shared).profile(5).await);
    println!("{:?}", Arc::clone(&shared).profile(0).await);

    // One cache per method, shared by all instances and keyed by (instance identity, args...).
    let cache = UserService::greeting_cache();
    println!(
        "greeting cache: {} entries, hits={} misses={}",
        cache.len(),
        cache.metrics().hits,
        cache.metrics().misses
    );
    println!(
        "this instance's entry for user 1: {:?}",
        cache.peek(&(shared.cache_identity(), 1))
    );
}
