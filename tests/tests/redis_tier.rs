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
    subscribed(&tb).await;
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
    let tiers: Vec<_> = (0..4).map(|_| tier(&server.url(), "t")).collect();
    let replicas: Vec<_> = tiers.iter().map(replica).collect();
    for t in &tiers {
        subscribed(t).await;
    }
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

/// Loads fresh keys (101, 102, ...) through `cache` until the tier has counted more than `misses` L2 misses, that
/// is until Redis answers again after an outage, then checks the breaker closed. Returns the last key loaded
/// (its value, `value`, is now in L2). Fails after `LIMIT`, so a tier that never recovers is a failure, not a hang.
async fn until_the_tier_answers(
    t: &RedisTier,
    cache: &AsyncCache<u64, String>,
    misses: u64,
    value: &str,
) -> u64 {
    let mut key = 100;
    let deadline = std::time::Instant::now() + LIMIT;
    while t.metrics().misses <= misses {
        assert!(
            std::time::Instant::now() < deadline,
            "the tier never answered again"
        );
        key += 1;
        cache.get_or_load(key, async { value.to_string() }).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(t.metrics().breaker, BreakerState::Closed);
    key
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_started_after_the_caches_is_used_once_up() {
    let port = redis_harness::free_port();
    // Calls to a port nobody listens on fail at once (refused); the timeout is long so that, once the server is
    // up, the write of A's value (which releases its lease) cannot time out on a loaded machine and leave B
    // waiting out the lease.
    let t = RedisTier::new(&redis_harness::url(port), "t")
        .unwrap()
        .timeout(Duration::from_secs(2))
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
    let key = until_the_tier_answers(&t, &a, 0, "up").await;
    let b = replica(&tier(&server.url(), "t"));
    assert_eq!(b.get_or_load(key, load(&loads, "again")).await, "up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_holder_aborted_mid_load_hands_the_load_over() {
    let server = RedisServer::start();
    let ta = tier(&server.url(), "t").lease_time(Duration::from_millis(300));
    let tb = tier(&server.url(), "t").lease_time(Duration::from_millis(300));
    let (a, b) = (replica(&ta), replica(&tb));
    // A's loader runs only once A holds the lease: its first poll says so (a poll of Redis could miss a lease
    // that a stalled test thread saw expire).
    let started = Arc::new(tokio::sync::Notify::new());
    let holder = tokio::spawn({
        let started = Arc::clone(&started);
        async move {
            a.get_or_load(3, async move {
                started.notify_one();
                std::future::pending::<String>().await
            })
            .await
        }
    });
    tokio::time::timeout(LIMIT, started.notified())
        .await
        .expect("A took the lease and started its load");
    holder.abort();
    let loads = AtomicUsize::new(0);
    let got = tokio::time::timeout(LIMIT, b.get_or_load(3, load(&loads, "b"))).await;
    assert_eq!(got.unwrap(), "b");
    assert_eq!(loads.load(SeqCst), 1);
    // A holder that dies without a word (a killed process): the lease expires and a waiter takes over. The lease
    // expires once B is seen waiting on it (a lease set to expire by itself could do so before B first looks).
    let mut conn = server.conn();
    let waits = tb.metrics().lease_waits;
    let _: () = redis::cmd("SET")
        .arg("t:users:v1:lease:04")
        .arg("dead-holder")
        .query(&mut conn)
        .unwrap();
    let (got, ()) = tokio::join!(
        tokio::time::timeout(LIMIT, b.get_or_load(4, load(&loads, "b4"))),
        async {
            eventually("B waits on the dead holder's lease", LIMIT, || {
                tb.metrics().lease_waits > waits
            })
            .await;
            let _: () = conn.pexpire("t:users:v1:lease:04", 1).unwrap();
        }
    );
    assert_eq!(got.unwrap(), "b4");
    assert_eq!(loads.load(SeqCst), 2);
    assert_eq!(tb.metrics().lease_waits, waits + 1);
}

/// Waits until the tier's invalidation subscription is up (subscribing drops L1, as messages may have been
/// missed before it).
async fn subscribed(tier: &RedisTier) {
    eventually("the subscription is up", LIMIT, || {
        tier.metrics().subscribed
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_remove_and_clear_reach_the_other_replicas() {
    let server = RedisServer::start();
    let (ta, tb) = (tier(&server.url(), "t"), tier(&server.url(), "t"));
    let (a, b) = (replica(&ta), replica(&tb));
    subscribed(&ta).await;
    subscribed(&tb).await;
    let loads = AtomicUsize::new(0);
    for key in [1, 2] {
        a.get_or_load(key, load(&loads, "old")).await;
        assert_eq!(b.get_or_load(key, load(&loads, "x")).await, "old");
    }
    assert_eq!(loads.load(SeqCst), 2);
    // Usually within milliseconds; the polls allow the loaded-machine LIMIT (speed is a bench's business).
    let second = LIMIT;

    a.insert(1, "new".to_string());
    eventually("B drops its copy of 1", second, || !b.contains_key(&1)).await;
    assert_eq!(
        b.get_or_load(1, load(&loads, "x")).await,
        "new",
        "read from L2"
    );
    assert_eq!(
        a.get(&1).as_deref(),
        Some("new"),
        "A ignores its own message"
    );
    assert_eq!(b.peek(&2).as_deref(), Some("old"), "other keys stay");

    b.remove(&2);
    eventually("A drops its copy of 2", second, || !a.contains_key(&2)).await;
    let mut conn = server.conn();
    assert!(!conn.exists::<_, bool>(data_key("t", 2)).unwrap());

    a.get_or_load(3, load(&loads, "three")).await;
    b.get_or_load(3, load(&loads, "x")).await;
    a.clear();
    eventually("B is cleared", second, || b.is_empty()).await;
    eventually("Redis is cleared", LIMIT, || {
        !conn.exists::<_, bool>(data_key("t", 3)).unwrap()
    })
    .await;
    ta.flush().await;
    tb.flush().await;
    assert_eq!(ta.metrics().invalidations_sent, 2);
    assert_eq!(tb.metrics().invalidations_sent, 1);
    assert_eq!(tb.metrics().invalidations_received, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_test_and_started_again() {
    let mut server = RedisServer::start();
    let port = server.port;
    let t = RedisTier::new(&server.url(), "t")
        .unwrap()
        .timeout(Duration::from_millis(200))
        .breaker(2, Duration::from_millis(50));
    let a = replica(&t);
    subscribed(&t).await;
    let loads = AtomicUsize::new(0);
    a.get_or_load(1, load(&loads, "one")).await;
    server.kill();
    // The subscription dropped: messages may be missed from now on, so L1 drops what L2 gave it.
    eventually("L1 is dropped when the subscription goes", LIMIT, || {
        a.is_empty()
    })
    .await;
    for key in 10..20 {
        assert_eq!(a.get_or_load(key, load(&loads, "local")).await, "local");
    }
    assert_eq!(loads.load(SeqCst), 11);
    let m = t.metrics();
    assert!(m.errors >= 2 && !m.subscribed, "{m:?}");
    assert!(m.skipped > 0, "the breaker opened: {m:?}");
    assert_eq!(
        a.get(&15).as_deref(),
        Some("local"),
        "served from L1 meanwhile"
    );

    let _server = RedisServer::start_on(port);
    subscribed(&t).await;
    until_the_tier_answers(&t, &a, 1, "back").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_server_delays_callers_by_the_timeout_only() {
    let server = RedisServer::start();
    let t = RedisTier::new(&server.url(), "t")
        .unwrap()
        .timeout(Duration::from_millis(100))
        .breaker(2, Duration::from_millis(100));
    let a = replica(&t);
    let loads = AtomicUsize::new(0);
    a.get_or_load(1, load(&loads, "one")).await;
    server.pause();
    // SIGSTOP: connections stay open and nothing answers. Every call still completes, from the loader.
    for key in 10..16 {
        let got = tokio::time::timeout(LIMIT, a.get_or_load(key, load(&loads, "paused"))).await;
        assert_eq!(got.expect("never hangs"), "paused");
    }
    let m = t.metrics();
    assert!(m.errors >= 2 && m.skipped > 0, "the breaker opened: {m:?}");
    server.resume();
    let misses = t.metrics().misses;
    until_the_tier_answers(&t, &a, misses, "back").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_over_the_size_limit_stay_in_l1() {
    let server = RedisServer::start();
    let ta = tier(&server.url(), "t").max_value_size(1_024);
    let tb = tier(&server.url(), "t").max_value_size(1_024);
    let (a, b) = (replica(&ta), replica(&tb));
    subscribed(&ta).await;
    let big = "x".repeat(2_000);
    let loads = AtomicUsize::new(0);
    assert_eq!(a.get_or_load(1, load(&loads, &big)).await, big);
    assert_eq!(a.get(&1).as_deref(), Some(big.as_str()));
    // B finds no value (A released its lease without one) and loads for itself.
    assert_eq!(b.get_or_load(1, load(&loads, &big)).await, big);
    assert_eq!(loads.load(SeqCst), 2);
    assert_eq!(ta.metrics().oversized, 1);
    assert!(!server.conn().exists::<_, bool>(data_key("t", 1)).unwrap());
    // A small value still goes through.
    a.get_or_load(2, load(&loads, "small")).await;
    assert_eq!(b.get_or_load(2, load(&loads, "x")).await, "small");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_server_is_no_error() {
    let server = RedisServer::start();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg("1")
        .query(&mut server.conn())
        .unwrap();
    let (ta, tb) = (tier(&server.url(), "t"), tier(&server.url(), "t"));
    let (a, b) = (replica(&ta), replica(&tb));
    subscribed(&ta).await;
    let loads = AtomicUsize::new(0);
    // Every write (the lease, the value) is refused with OOM: both replicas load, nobody sees an error.
    assert_eq!(a.get_or_load(1, load(&loads, "one")).await, "one");
    assert_eq!(b.get_or_load(1, load(&loads, "one")).await, "one");
    assert_eq!(loads.load(SeqCst), 2);
    assert!(ta.metrics().errors >= 1 && tb.metrics().errors >= 1);
    assert_eq!(a.get(&1).as_deref(), Some("one"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_namespaces_share_nothing() {
    let server = RedisServer::start();
    let (ta, tb) = (tier(&server.url(), "a"), tier(&server.url(), "b"));
    let (a, b) = (replica(&ta), replica(&tb));
    subscribed(&ta).await;
    subscribed(&tb).await;
    let loads = AtomicUsize::new(0);
    assert_eq!(a.get_or_load(1, load(&loads, "in a")).await, "in a");
    assert_eq!(b.get_or_load(1, load(&loads, "in b")).await, "in b");
    assert_eq!(loads.load(SeqCst), 2);
    let a2 = replica(&tier(&server.url(), "a"));
    assert_eq!(a2.get_or_load(1, load(&loads, "x")).await, "in a");
    b.clear();
    b.insert(2, "b2".to_string());
    let mut conn = server.conn();
    eventually("b's clear and insert land", LIMIT, || {
        conn.exists::<_, bool>(data_key("b", 2)).unwrap()
    })
    .await;
    assert!(!conn.exists::<_, bool>(data_key("b", 1)).unwrap());
    assert!(
        conn.exists::<_, bool>(data_key("a", 1)).unwrap(),
        "a's entry survives b's clear"
    );
    assert_eq!(a.get(&1).as_deref(), Some("in a"), "and so does a's L1");
    assert_eq!(ta.metrics().invalidations_received, 0);
}

/// Run by `replicas_in_separate_processes_load_once` in child processes (does nothing when run directly).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_replica() {
    let Ok(url) = std::env::var("REDIS_TIER_CHILD_URL") else {
        return;
    };
    let client = redis::Client::open(url.as_str()).unwrap();
    let tier = tier(&url, "procs");
    let cache = replica(&tier);
    let value = cache
        .get_or_load(9, async move {
            let mut conn = client.get_connection().unwrap();
            let _: u64 = conn.incr("procs:loads", 1).unwrap();
            tokio::time::sleep(Duration::from_millis(300)).await;
            "nine".to_string()
        })
        .await;
    assert_eq!(value, "nine");
    // Writes go out in the background: before the process exits, let them reach Redis.
    tier.flush().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_in_separate_processes_load_once() {
    let server = RedisServer::start();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..3)
        .map(|_| {
            std::process::Command::new(&exe)
                .args(["--exact", "child_replica", "--test-threads=1", "--quiet"])
                .env("REDIS_TIER_CHILD_URL", server.url())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        let status = tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(status.success(), "a child replica failed");
    }
    let loads: u64 = server.conn().get("procs:loads").unwrap();
    assert_eq!(loads, 1, "three processes, one load");
}

/// Creates (or re-enables) the ACL user `name` (password `pw`, every key, channel and command).
fn allow_user(server: &RedisServer, name: &str) {
    let _: () = redis::cmd("ACL")
        .arg(&["SETUSER", name, "on", ">pw", "~*", "&*", "+@all"])
        .query(&mut server.conn())
        .unwrap();
}

/// Why a resubscription drops *every* L1 entry, not only those that came from L2: an entry this replica loaded
/// itself, while it could not hear the others, is just as stale once another replica changed the key meanwhile.
/// Replica A connects as an ACL user that the restarted server does not know yet, so A stays unsubscribed
/// (deterministically) while B, connected as the default user, changes the key; then A is let in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_changed_while_a_replica_was_deaf_is_dropped_when_it_resubscribes() {
    let mut server = RedisServer::start();
    let port = server.port;
    allow_user(&server, "a");
    // A is kept deaf by its ACL user, not by timeouts: a patient timeout, so that its last read (a probe on a
    // fresh connection) cannot time out on a loaded machine. Calls to the dead server fail at once (refused).
    let ta = RedisTier::new(&format!("redis://a:pw@127.0.0.1:{port}/"), "t")
        .unwrap()
        .timeout(PATIENT)
        .breaker(2, Duration::from_millis(50));
    let tb = tier(&server.url(), "t");
    let (a, b) = (replica(&ta), replica(&tb));
    subscribed(&ta).await;
    subscribed(&tb).await;
    let loads = AtomicUsize::new(0);
    a.get_or_load(1, load(&loads, "one")).await;

    server.kill();
    eventually(
        "A's L1 is dropped when its subscription goes",
        LIMIT,
        || a.is_empty() && !ta.metrics().subscribed,
    )
    .await;
    // Deaf and cut off, A loads key 2 itself: this value never was in L2.
    assert_eq!(a.get_or_load(2, load(&loads, "local")).await, "local");
    ta.flush().await;

    // The server is back, without user `a`: B reconnects, A cannot.
    let server = RedisServer::start_on(port);
    until_the_tier_answers(&tb, &b, tb.metrics().misses, "b").await;
    subscribed(&tb).await;
    b.insert(2, "new".to_string());
    tb.flush().await;
    assert_eq!(tb.metrics().invalidations_sent, 1);
    assert_eq!(
        a.peek(&2).as_deref(),
        Some("local"),
        "A missed the message: it was not subscribed"
    );

    // Read before A is let in: A retries its subscription every second and may be subscribed right after.
    let resyncs = ta.metrics().resyncs;
    allow_user(&server, "a");
    subscribed(&ta).await;
    assert!(ta.metrics().resyncs > resyncs);
    assert_eq!(a.peek(&2), None, "dropped on resubscription");
    assert_eq!(a.get_or_load(2, load(&loads, "x")).await, "new", "from L2");
    assert_eq!(loads.load(SeqCst), 2);
}

/// A load in progress when the subscription drops may end with a value that a missed message made stale: its
/// result goes to its callers, but neither into L1 nor into L2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_in_flight_across_a_resync_is_not_stored() {
    let server = RedisServer::start();
    let t = tier(&server.url(), "t");
    let a = replica(&t);
    subscribed(&t).await;
    let release = Arc::new(tokio::sync::Notify::new());
    let load = {
        let (a, release) = (a.clone(), Arc::clone(&release));
        tokio::spawn(async move {
            a.get_or_load(5, async move {
                release.notified().await;
                "five".to_string()
            })
            .await
        })
    };
    let mut conn = server.conn();
    eventually("A holds the lease", LIMIT, || {
        conn.exists::<_, bool>("t:users:v1:lease:05").unwrap()
    })
    .await;
    let resyncs = t.metrics().resyncs;
    let _: () = redis::cmd("CLIENT")
        .arg(&["KILL", "TYPE", "pubsub"])
        .query(&mut conn)
        .unwrap();
    eventually("the lost subscription resyncs", LIMIT, || {
        t.metrics().resyncs > resyncs
    })
    .await;
    release.notify_one();
    let got = tokio::time::timeout(LIMIT, load).await.unwrap().unwrap();
    assert_eq!(got, "five", "the caller gets its value");
    assert_eq!(a.peek(&5), None, "not stored in L1");
    t.flush().await;
    assert!(
        !conn.exists::<_, bool>(data_key("t", 5)).unwrap(),
        "nor in L2"
    );
    eventually("the lease is released", LIMIT, || {
        !conn.exists::<_, bool>("t:users:v1:lease:05").unwrap()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refreshed_l1_copy_keeps_the_tiers_l1_ttl_cap() {
    let server = RedisServer::start();
    let t = tier(&server.url(), "t").max_l1_ttl(Duration::from_secs(10));
    let clock = cache_core::clock::ManualClock::new();
    let cache: AsyncCache<u64, String> = AsyncCache::builder()
        .maxsize(100)
        .name("users")
        .refresh_after(Duration::from_secs(1))
        .clock(clock.clone())
        .redis(t.clone())
        .build()
        .unwrap();
    // Subscribing drops L1: wait for it, or the refresh below may find "one" gone from L1 and read it from L2.
    subscribed(&t).await;
    let loads = AtomicUsize::new(0);
    assert_eq!(cache.get_or_load(1, load(&loads, "one")).await, "one");
    clock.advance(Duration::from_secs(2));
    // Due for a refresh: this caller claims it and reloads with its own future.
    assert_eq!(cache.get_or_load(1, load(&loads, "two")).await, "two");
    assert_eq!((loads.load(SeqCst), cache.metrics().refreshes), (2, 1));
    clock.advance(Duration::from_secs(9));
    assert_eq!(cache.get(&1).as_deref(), Some("two"), "within the cap");
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        cache.get(&1),
        None,
        "no TTL of its own, yet the refreshed L1 copy ends 10 s after the refresh (max_l1_ttl)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_reaches_redis_and_the_other_replicas() {
    let server = RedisServer::start();
    let (ta, tb) = (tier(&server.url(), "t"), tier(&server.url(), "t"));
    let clock = cache_core::clock::ManualClock::new();
    let a: AsyncCache<u64, String> = AsyncCache::builder()
        .maxsize(100)
        .name("users")
        .refresh_after(Duration::from_secs(1))
        .clock(clock.clone())
        .redis(ta.clone())
        .build()
        .unwrap();
    let b = replica(&tb);
    subscribed(&ta).await;
    subscribed(&tb).await;
    let loads = AtomicUsize::new(0);
    assert_eq!(a.get_or_load(1, load(&loads, "one")).await, "one");
    assert_eq!(b.get_or_load(1, load(&loads, "x")).await, "one");
    clock.advance(Duration::from_secs(2));
    // A's caller claims the due refresh and reloads: the new value goes to Redis and B drops its old copy.
    assert_eq!(a.get_or_load(1, load(&loads, "two")).await, "two");
    assert_eq!((loads.load(SeqCst), a.metrics().refreshes), (2, 1));
    eventually("B drops its copy of 1", LIMIT, || !b.contains_key(&1)).await;
    assert_eq!(b.get_or_load(1, load(&loads, "y")).await, "two");
    assert_eq!(
        loads.load(SeqCst),
        2,
        "B read the refreshed value from Redis"
    );
    ta.flush().await;
    let raw: Vec<u8> = server.conn().get(data_key("t", 1)).unwrap();
    assert_eq!(&raw[raw.len() - 3..], b"two");
}
