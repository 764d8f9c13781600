// Without `cache-core`'s feature `redis`: one error, on the expression, naming the feature.
use cache_core::async_cache;

fn tier() -> u8 { 0 }

#[async_cache(redis = "tier()", ttl = 60)]
async fn user(id: u64) -> String { id.to_string() }

fn main() {}
