//! A cached database lookup: `#[async_cache]` on a free fn, with a TTL, single flight and metrics.
//!
//! Run with `cargo run --example fetch_user`.
use std::time::Duration;

use cache_core::async_cache;

#[derive(Debug, Clone)]
struct User {
    id: u64,
    name: String,
}

#[derive(Debug)]
struct DbError(String);

/// A stand-in for a database connection.
struct Db;

/// One connection for the whole program (so spawned tasks can borrow it).
static DB: Db = Db;

impl Db {
    async fn query_user(&self, id: u64) -> Result<User, DbError> {
        // A slow round trip (kept tiny so the example finishes at once).
        tokio::time::sleep(Duration::from_millis(2)).await;
        println!("    db: SELECT * FROM users WHERE id = {id}");
        if id == 0 {
            Err(DbError("there is no user 0".into()))
        } else {
            Ok(User {
                id,
                name: format!("user-{id}"),
            })
        }
    }
}

/// Looks a user up. The connection (`skip_args = 1`) is not part of the key, only `id` is; only `Ok` results
/// are cached, for 50 ms.
#[async_cache(maxsize = 1000, ttl = 0.05, skip_args = 1)]
async fn fetch_user(db: &Db, id: u64) -> Result<User, DbError> {
    db.query_user(id).await
}

#[tokio::main]
async fn main() {
    let db = &DB;

    println!("first call for user 42 (a miss: queries):");
    let user = fetch_user(db, 42).await.expect("user 42 exists");
    println!("  got {} (id {})", user.name, user.id);

    println!("second call (a hit: no query):");
    let user = fetch_user(db, 42).await.expect("user 42 exists");
    println!("  got {}", user.name);

    println!("ten concurrent calls for user 7 (one query, shared by all):");
    let tasks: Vec<_> = (0..10).map(|_| tokio::spawn(fetch_user(&DB, 7))).collect();
    let mut answers = 0;
    for task in tasks {
        if task.await.expect("no panic").is_ok() {
            answers += 1;
        }
    }
    println!("  {answers} answers");

    println!("errors are returned, never cached (two calls, two queries):");
    for _ in 0..2 {
        if let Err(DbError(e)) = fetch_user(db, 0).await {
            println!("  error: {e}");
        }
    }

    println!("prime an entry through the accessor (no query):");
    let cache = fetch_user::cache();
    cache.insert(
        (1,),
        User {
            id: 1,
            name: "Ada".into(),
        },
    );
    println!("  got {}", fetch_user(db, 1).await.expect("primed").name);

    println!("after the 50 ms TTL, user 42 is queried again:");
    tokio::time::sleep(Duration::from_millis(60)).await;
    fetch_user(db, 42).await.expect("user 42 exists");

    let m = cache.metrics();
    println!(
        "metrics: hits={} misses={} hit rate={:.0}% loads={} load failures={} size={}/{} mean load={:?}",
        m.hits,
        m.misses,
        m.hit_rate() * 100.0,
        m.loads,
        m.load_failures,
        m.size,
        m.maxsize,
        m.load_time.mean(),
    );
}
