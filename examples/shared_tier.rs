//! Two replicas of a service sharing one Redis (feature `redis`):
//! `cargo run --example shared_tier --features redis`.
//!
//! Starts a private `redis-server` on a free loopback port (killed at the end), or says how to install one.
//! Each replica is a local cache plus its own `RedisTier`, as two processes would have.
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cache_core::{redis::RedisTier, AsyncCache};

/// The private server, killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server() -> Option<(Server, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .ok()?;
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Some((server, format!("redis://127.0.0.1:{port}/")))
}

static DB_CALLS: AtomicUsize = AtomicUsize::new(0);

/// The slow query both replicas would run.
async fn query_user(id: u64) -> String {
    DB_CALLS.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(50)).await;
    format!("user-{id}")
}

/// One replica: an in-process cache whose misses go to the shared tier first. The two-line opt-in is
/// `.name(..)` and `.redis(..)`.
fn replica(url: &str) -> (AsyncCache<u64, String>, RedisTier) {
    let tier = RedisTier::new(url, "example").expect("a valid URL and namespace");
    let cache = AsyncCache::builder()
        .maxsize(10_000)
        .ttl(Duration::from_secs(60))
        .name("users")
        .redis(tier.clone())
        .build()
        .expect("valid settings");
    (cache, tier)
}

#[tokio::main]
async fn main() {
    let Some((_server, url)) = start_server() else {
        eprintln!(
            "This example needs `redis-server` on the PATH. Install it with\n  \
             sudo apt-get install redis-server   (Debian/Ubuntu)\n  \
             brew install redis                   (macOS)\n\
             and run it again; it starts its own private server on a free port."
        );
        std::process::exit(1);
    };
    let (a, tier_a) = replica(&url);
    let (b, tier_b) = replica(&url);

    // Both replicas miss user 1 at once: one database call between them.
    let (ua, ub) = tokio::join!(
        a.get_or_load(1, query_user(1)),
        b.get_or_load(1, query_user(1))
    );
    println!(
        "replica A: {ua}, replica B: {ub}, database calls: {}",
        DB_CALLS.load(Ordering::SeqCst)
    );

    // A writes; B drops its stale copy (pub/sub) and reads the new value from Redis.
    while !tier_b.metrics().subscribed {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    a.insert(1, "user-1 (renamed)".to_string());
    let deadline = Instant::now() + Duration::from_secs(1);
    while b.contains_key(&1) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let fresh = b.get_or_load(1, query_user(1)).await;
    println!("after A's insert, replica B reads: {fresh}");
    println!("database calls in all: {}", DB_CALLS.load(Ordering::SeqCst));
    println!("tier A: {:?}", tier_a.metrics());
    println!("tier B: {:?}", tier_b.metrics());
}
