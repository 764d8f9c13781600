//! The store on its own: build a cache, load through it, read its metrics.
use std::time::Duration;

use cache_core::{AsyncCache, Policy};

#[tokio::main]
async fn main() {
    let cache: AsyncCache<u64, String> = AsyncCache::builder()
        .maxsize(1_000)
        .policy(Policy::Lru)
        .ttl(Duration::from_secs(60))
        .build()
        .expect("valid settings");
    for round in 0..3 {
        let name = cache
            .get_or_load(42, async {
                println!("  (loading user 42)");
                "Ada".to_string()
            })
            .await;
        println!("round {round}: {name}");
    }
    let m = cache.metrics();
    println!(
        "hits={} misses={} loads={} size={}",
        m.hits, m.misses, m.loads, m.size
    );
}
