use std::sync::LazyLock;

use cache_core::redis::RedisTier;
use cache_core::async_cache;

static TIER: LazyLock<RedisTier> =
    LazyLock::new(|| RedisTier::new("redis://127.0.0.1:1/", "ui").unwrap());

/// `Hash + Eq + Clone`, but not serde.
#[derive(Clone, Hash, PartialEq, Eq)]
pub struct UserId(u64);

#[derive(Clone)]
pub struct Profile;

#[async_cache(redis = "&TIER")]
async fn key_not_serde(id: UserId) -> u64 { id.0 }

#[async_cache(redis = "&TIER")]
async fn borrowed_key_not_serde(id: &UserId) -> u64 { id.0 }

#[async_cache(redis = "&TIER", key = UserId, convert = UserId(id))]
async fn key_type_not_serde(id: u64) -> u64 { id }

#[async_cache(redis = "&TIER")]
async fn value_not_serde(id: u64) -> Profile { let _ = id; Profile }

#[async_cache(redis = "&TIER")]
async fn not_a_key_at_all(x: f64) -> u64 { x as u64 }

fn main() {}
