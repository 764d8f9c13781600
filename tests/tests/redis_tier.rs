//! The shared tier on a real `redis-server` (feature `redis`): `cargo test -p cache-tests --features redis
//! --test redis_tier`. Each test starts its own private server (see `redis_harness`), and replicas are separate
//! caches with separate tiers, as separate processes would have (one test uses separate processes).

mod redis_harness;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use cache_core::redis::{BreakerState, RedisTier};
use cache_core::AsyncCache;
use redis::Commands;
use redis_harness::{eventually, RedisServer};

/// Long enough that a loaded machine never fails a call: the tests of failures set their own.
const PATIENT: Duration = Duration::from_secs(5);
const LIMIT: Duration = Duration::from_secs(10);

fn tier(url: &str, namespace: &str) -> RedisTier {
    RedisTier::new(url, namespace).unwrap().timeout(PATIENT)
}

fn replica(tier: &RedisTier) -> AsyncCache<u64, String> {
    AsyncCache::builder()
        .maxsize(1_000)
        .name("users")
        .redis(tier.clone())
        .build()
        .unwrap()
}

/// The Redis key of `key` in cache "users" of `namespace`: the hex of its postcard bytes (a varint).
fn data_key(namespace: &str, key: u64) -> String {
    assert!(key < 128, "one-byte varints only");
    format!("{namespace}:users:v1:{key:02x}")
}

/// A loader that counts its runs.
async fn load(count: &AtomicUsize, value: &str) -> String {
    count.fetch_add(1, SeqCst);
    value.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_replica_hits_l2() {
    let server = RedisServer::start();
    let (ta, tb) = (tier(&server.url(), "t"), tier(&server.url(), "t"));
    let (a, b) = (replica(&ta), replica(&tb));
    let loads = AtomicUsize::new(0);
    assert_eq!(a.get_or_load(1, load(&loads, "one")).await, "one");
    assert_eq!(b.get_or_load(1, load(&loads, "other")).await, "one");
    assert_eq!(loads.load(SeqCst), 1);
    assert_eq!(
        b.get(&1).as_deref(),
        Some("one"),
        "the L2 hit is kept in L1"
    );
    assert_eq!((ta.metrics().misses, tb.metrics().hits), (1, 1));
    assert_eq!(b.metrics().loads, 0, "an L2 hit is not a load");
    // What A wrote: the versioned header, then postcard.
    let raw: Vec<u8> = server.conn().get(data_key("t", 1)).unwrap();
    assert_eq!(raw, [0xCA, 1, 3, b'o', b'n', b'e']);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_replicas_of_250_callers_load_a_cold_key_once() {
    let server = RedisServer::start();
    let replicas: Vec<_> = (0..4).map(|_| replica(&tier(&server.url(), "t"))).collect();
    let loads = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(tokio::sync::Barrier::new(1_000));
    let mut tasks = Vec::new();
    for cache in &replicas {
        for _ in 0..250 {
            let (cache, loads, start) = (cache.clone(), Arc::clone(&loads), Arc::clone(&start));
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                cache
                    .get_or_load(7, async move {
                        loads.fetch_add(1, SeqCst);
                        // Long enough for every replica to find the lease held.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        "seven".to_string()
                    })
                    .await
            }));
        }
    }
    for task in tasks {
        assert_eq!(
            tokio::time::timeout(LIMIT, task).await.unwrap().unwrap(),
            "seven"
        );
    }
    assert_eq!(loads.load(SeqCst), 1);
    for cache in &replicas {
        assert_eq!(cache.peek(&7).as_deref(), Some("seven"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_other_versions_are_misses_and_deleted() {
    let server = RedisServer::start();
    let t = tier(&server.url(), "t");
    let mut conn = server.conn();
    let loads = AtomicUsize::new(0);
    for (i, bad) in [
        b"garbage".to_vec(),
        vec![0xCA, 2, 3, b'o', b'l', b'd'],
        vec![0xCA, 1, 9],
        vec![],
    ]
    .into_iter()
    .enumerate()
    {
        let key = 10 + i as u64;
        let _: () = conn.set(data_key("t", key), &bad).unwrap();
        let cache = replica(&t);
        assert_eq!(
            cache.get_or_load(key, load(&loads, "fresh")).await,
            "fresh",
            "{bad:?}"
        );
        assert_eq!(loads.load(SeqCst), i + 1, "{bad:?} was a miss");
        // The bad bytes were deleted and the loaded value took their place.
        eventually("the fresh value lands", LIMIT, || {
            conn.get::<_, Vec<u8>>(data_key("t", key)).unwrap()
                == [0xCA, 1, 5, b'f', b'r', b'e', b's', b'h']
        })
        .await;
    }
    assert_eq!(t.metrics().undecodable, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_started_after_the_caches_is_used_once_up() {
    let port = redis_harness::free_port();
    let t = RedisTier::new(&redis_harness::url(port), "t")
        .unwrap()
        .timeout(Duration::from_millis(200))
        .breaker(2, Duration::from_millis(50));
    let a = replica(&t);
    let loads = AtomicUsize::new(0);
    // No server: every call is answered by the loader, never an error.
    for key in 0..5 {
        assert_eq!(a.get_or_load(key, load(&loads, "down")).await, "down");
    }
    assert_eq!(loads.load(SeqCst), 5);
    let m = t.metrics();
    assert!(m.errors >= 2 && m.skipped + m.errors >= 5, "{m:?}");
    let server = RedisServer::start_on(port);
    // The tier recovers by itself: a fresh key soon gets its lease from the server.
    let mut key = 100;
    let deadline = std::time::Instant::now() + LIMIT;
    while t.metrics().misses == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the tier never used the server"
        );
        key += 1;
        a.get_or_load(key, async { "up".to_string() }).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(t.metrics().breaker, BreakerState::Closed);
    let b = replica(&tier(&server.url(), "t"));
    assert_eq!(b.get_or_load(key, load(&loads, "again")).await, "up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_holder_aborted_mid_load_hands_the_load_over() {
    let server = RedisServer::start();
    let ta = tier(&server.url(), "t").lease_time(Duration::from_millis(300));
    let tb = tier(&server.url(), "t").lease_time(Duration::from_millis(300));
    let (a, b) = (replica(&ta), replica(&tb));
    let holder = tokio::spawn(async move { a.get_or_load(3, std::future::pending()).await });
    let mut conn = server.conn();
    eventually("A holds the lease", LIMIT, || {
        conn.exists::<_, bool>("t:users:v1:lease:03").unwrap()
    })
    .await;
    holder.abort();
    let loads = AtomicUsize::new(0);
    let got = tokio::time::timeout(LIMIT, b.get_or_load(3, load(&loads, "b"))).await;
    assert_eq!(got.unwrap(), "b");
    assert_eq!(loads.load(SeqCst), 1);
    // A holder that dies without a word (a killed process): the lease expires and a waiter takes over.
    let waits = tb.metrics().lease_waits;
    let _: () = redis::cmd("SET")
        .arg("t:users:v1:lease:04")
        .arg("dead-holder")
        .arg("PX")
        .arg(200)
        .query(&mut conn)
        .unwrap();
    let got = tokio::time::timeout(LIMIT, b.get_or_load(4, load(&loads, "b4"))).await;
    assert_eq!(got.unwrap(), "b4");
    assert_eq!(loads.load(SeqCst), 2);
    assert_eq!(tb.metrics().lease_waits, waits + 1);
}
