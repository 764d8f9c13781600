//! `#[async_cache(redis = "..")]` on a real `redis-server` (feature `redis`): `cargo test -p cache-tests
//! --features redis --test redis_macro`. Each test has its own server and its own cached fns (a cached fn's cache
//! is a `static`, built once with the tier its `redis` expression yields), and a second replica is an
//! `AsyncCache` built with the same name and another tier, as another process would build it.

mod redis_harness;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::OnceLock;
use std::time::Duration;

use cache_core::redis::RedisTier;
use cache_core::AsyncCache;
use redis::Commands;
use redis_harness::{eventually, RedisServer};

/// Long enough that a loaded machine never fails a call: the test of an outage sets its own.
const PATIENT: Duration = Duration::from_secs(5);
const LIMIT: Duration = Duration::from_secs(10);

fn tier(url: &str) -> RedisTier {
    RedisTier::new(url, "m").unwrap().timeout(PATIENT)
}

/// The tier a test gives its cached fns (set once, before the first call builds the cache).
fn given(slot: &OnceLock<RedisTier>) -> RedisTier {
    slot.get().expect("the test sets the tier first").clone()
}

async fn subscribed(tier: &RedisTier) {
    eventually("the subscription is up", LIMIT, || {
        tier.metrics().subscribed
    })
    .await;
}

/// A replica in another process: a builder-made cache with the name the attribute documents.
fn replica(name: &str, tier: &RedisTier) -> AsyncCache<(u64,), String> {
    AsyncCache::builder()
        .maxsize(100)
        .name(name)
        .redis(tier.clone())
        .build()
        .unwrap()
}

mod shared_l2 {
    use super::*;
    use cache_core::async_cache;

    pub static TIER: OnceLock<RedisTier> = OnceLock::new();
    pub static LOADS: AtomicUsize = AtomicUsize::new(0);

    #[async_cache(maxsize = 100, redis = "given(&TIER)")]
    pub async fn user(id: u64) -> String {
        LOADS.fetch_add(1, SeqCst);
        format!("user-{id}")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_fn_and_a_builder_cache_of_the_same_name_share_l2() {
    use shared_l2::{user, LOADS, TIER};
    let server = RedisServer::start();
    TIER.set(tier(&server.url())).unwrap();
    let mine = given(&TIER);
    // The documented name: the module path, `::` written `.`, then the fn.
    assert_eq!(user::cache().name(), Some("redis_macro.shared_l2.user"));
    let other_tier = tier(&server.url());
    let other = replica("redis_macro.shared_l2.user", &other_tier);
    subscribed(&mine).await;
    subscribed(&other_tier).await;

    // The fn loads; the other replica finds the value in L2.
    assert_eq!(user(1).await, "user-1");
    mine.flush().await;
    let loads = AtomicUsize::new(0);
    let got = other
        .get_or_load((1,), async {
            loads.fetch_add(1, SeqCst);
            "other".to_string()
        })
        .await;
    assert_eq!(got, "user-1");
    assert_eq!((LOADS.load(SeqCst), loads.load(SeqCst)), (1, 0), "one load");
    let raw: Vec<u8> = server
        .conn()
        .get("m:redis_macro.shared_l2.user:v1:01")
        .unwrap();
    assert_eq!(raw[..2], [0xCA, 1], "the tier's value format");

    // The other way: the builder cache loads, the fn finds the value in L2.
    other
        .get_or_load((2,), async { "from the other".to_string() })
        .await;
    other_tier.flush().await;
    assert_eq!(user(2).await, "from the other");
    assert_eq!(LOADS.load(SeqCst), 1, "an L2 hit runs no body");
    assert_eq!(mine.metrics().hits, 1);

    // An insert on the other replica reaches the fn's L1.
    other.insert((1,), "changed".to_string());
    eventually("the fn's copy of 1 is dropped", LIMIT, || {
        user::cache().peek(&(1,)).is_none()
    })
    .await;
    assert_eq!(user(1).await, "changed");
    assert_eq!(LOADS.load(SeqCst), 1);
}

mod outage {
    use super::*;
    use cache_core::async_cache;

    pub static TIER: OnceLock<RedisTier> = OnceLock::new();
    pub static LOADS: AtomicUsize = AtomicUsize::new(0);

    pub struct Db;

    /// A `Result` output (only `Ok` is cached), a skipped argument, a borrowed key.
    #[async_cache(redis = "given(&TIER)", skip_args = 1, ttl = 60)]
    pub async fn price(_db: &Db, sku: &str) -> Result<u64, String> {
        LOADS.fetch_add(1, SeqCst);
        if sku.is_empty() {
            Err("no sku".to_string())
        } else {
            Ok(sku.len() as u64)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_the_body_serves_every_call() {
    use outage::{price, Db, LOADS, TIER};
    // Port 1: nobody listens there, and unlike a released ephemeral port no other test's server can take it.
    TIER.set(
        RedisTier::new(&redis_harness::url(1), "m")
            .unwrap()
            .timeout(Duration::from_millis(100))
            .breaker(2, Duration::from_secs(60)),
    )
    .unwrap();
    for sku in ["a", "bb", "ccc"] {
        let got = tokio::time::timeout(LIMIT, price(&Db, sku)).await;
        assert_eq!(got.expect("never hangs"), Ok(sku.len() as u64));
    }
    assert_eq!(price(&Db, "").await, Err("no sku".to_string()));
    assert_eq!(LOADS.load(SeqCst), 4);
    // Served from L1 now, with no Redis call.
    assert_eq!(price(&Db, "bb").await, Ok(2));
    assert_eq!(LOADS.load(SeqCst), 4);
    assert_eq!(price::cache().metrics().hits, 1);
    let m = given(&TIER).metrics();
    assert!(m.errors >= 2 && m.skipped >= 1, "the breaker opened: {m:?}");
}

mod ttl_in_l2 {
    use super::*;
    use cache_core::async_cache;

    pub static TIER: OnceLock<RedisTier> = OnceLock::new();
    pub static LOADS: AtomicUsize = AtomicUsize::new(0);

    #[async_cache(redis = "given(&TIER)", ttl = 30)]
    pub async fn token(id: u64) -> String {
        LOADS.fetch_add(1, SeqCst);
        format!("token-{id}")
    }

    #[async_cache(redis = "given(&TIER)", ttl = 1.5, name = "short")]
    pub async fn short(id: u64) -> String {
        LOADS.fetch_add(1, SeqCst);
        format!("short-{id}")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ttl_is_the_l2_entrys_expiry() {
    use ttl_in_l2::{short, token, LOADS, TIER};
    let server = RedisServer::start();
    TIER.set(tier(&server.url())).unwrap();
    let mine = given(&TIER);
    let mut conn = server.conn();
    // Built, and subscribed: a load in flight when the first subscription comes up is not stored (a resync).
    let _ = (token::cache(), short::cache());
    subscribed(&mine).await;

    assert_eq!(token(5).await, "token-5");
    mine.flush().await;
    let pttl: i64 = conn.pttl("m:redis_macro.ttl_in_l2.token:v1:05").unwrap();
    assert!(0 < pttl && pttl <= 30_000, "PX from `ttl = 30`: {pttl} ms");

    // `name` replaces the path; a short TTL: the entry leaves Redis by itself, and L1 with it.
    assert_eq!(short::cache().name(), Some("short"));
    assert_eq!(short(6).await, "short-6");
    mine.flush().await;
    let pttl: i64 = conn.pttl("m:short:v1:06").unwrap();
    // 1.5 s, not less: a loaded machine may stall between the write and this read, and an expired key (-2) would
    // not tell "written with PX" from "never written".
    assert!(0 < pttl && pttl <= 1_500, "PX from `ttl = 1.5`: {pttl} ms");
    eventually("the L2 entry expires", LIMIT, || {
        !conn.exists::<_, bool>("m:short:v1:06").unwrap()
    })
    .await;
    // L1's own TTL (1.5 s from an earlier store) has passed too; a hit may notice it up to the coarse clock's lag
    // late.
    eventually("the L1 copy expires", LIMIT, || {
        !short::cache().contains_key(&(6,))
    })
    .await;
    assert_eq!(short(6).await, "short-6");
    assert_eq!(LOADS.load(SeqCst), 3, "loaded again after expiry");
}

mod associated {
    use super::*;
    use cache_core::async_cache;

    pub static TIER: OnceLock<RedisTier> = OnceLock::new();
    pub static LOADS: AtomicUsize = AtomicUsize::new(0);

    pub struct Catalog;

    #[async_cache]
    impl Catalog {
        /// An associated fn (no `self`), an `Option` output, a refresh-ahead.
        #[async_cache(redis = "given(&TIER)", refresh_after = 0.05)]
        pub async fn item(id: u64) -> Option<String> {
            let n = LOADS.fetch_add(1, SeqCst);
            (id != 0).then(|| format!("item-{id}#{n}"))
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_associated_fn_is_named_by_its_type_and_refreshes() {
    use associated::{Catalog, LOADS, TIER};
    let server = RedisServer::start();
    TIER.set(tier(&server.url())).unwrap();
    let name = "redis_macro.associated.Catalog.item";
    assert_eq!(Catalog::item_cache().name(), Some(name));
    subscribed(&given(&TIER)).await;

    assert_eq!(Catalog::item(0).await, None, "None is not cached");
    assert_eq!(Catalog::item(1).await.as_deref(), Some("item-1#1"));
    given(&TIER).flush().await;
    let other = replica(name, &tier(&server.url()));
    assert_eq!(
        other.get_or_load((1,), async { "x".into() }).await,
        "item-1#1"
    );

    // Past `refresh_after`, a hit returns the value and reloads in the background (into this replica's L1).
    // Well past it: the hit reads the coarse clock, which a starved ticker thread may leave a little behind.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(Catalog::item(1).await.as_deref(), Some("item-1#1"));
    eventually("the refresh lands", LIMIT, || {
        Catalog::item_cache().peek(&(1,)).as_deref() == Some("item-1#2")
    })
    .await;
    assert_eq!(LOADS.load(SeqCst), 3);
}
