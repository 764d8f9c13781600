use std::sync::LazyLock;

use cache_core::redis::RedisTier;
use cache_core::{async_cache, CacheIdentity, InstanceId};

static TIER: LazyLock<RedisTier> =
    LazyLock::new(|| RedisTier::new("redis://127.0.0.1:1/", "ui").unwrap());

#[async_cache(redis = "42")]
async fn not_a_tier(id: u64) -> u64 { id }

#[async_cache(redis = "String::from(\"redis://x\")")]
async fn a_url_is_not_a_tier(id: u64) -> u64 { id }

#[async_cache(redis = 3)]
async fn a_literal(id: u64) -> u64 { id }

#[async_cache(redis = "TIER.clone(")]
async fn does_not_parse(id: u64) -> u64 { id }

#[async_cache(name = "users")]
async fn name_without_redis(id: u64) -> u64 { id }

#[async_cache(redis = "&TIER", name = "has space")]
async fn bad_name(id: u64) -> u64 { id }

#[derive(CacheIdentity)]
struct Service {
    id: InstanceId,
}

impl Service {
    #[async_cache(redis = "&TIER")]
    async fn per_instance(&self, id: u64) -> u64 { id }
}

fn main() {}
