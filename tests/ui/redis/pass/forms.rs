// Every form of `redis = ..` that yields a tier compiles, with the other options.
use std::sync::LazyLock;

use cache_core::redis::RedisTier;
use cache_core::async_cache;

static TIER: LazyLock<RedisTier> =
    LazyLock::new(|| RedisTier::new("redis://127.0.0.1:1/", "ui").unwrap());

fn tier() -> RedisTier {
    TIER.clone()
}

#[async_cache(redis = "TIER.clone()")]
async fn owned(id: u64) -> String { id.to_string() }

#[async_cache(redis = "&TIER", ttl = 60, refresh_after = 30)]
async fn lazy(id: u64) -> String { id.to_string() }

#[async_cache(redis = "&*TIER", name = "by-ref", maxsize = 10, policy = "lfu")]
async fn by_ref(name: &str, id: u64) -> Option<String> { Some(format!("{name}{id}")) }

#[async_cache(redis = tier(), skip_args = 1)]
async fn unquoted(_client: &(), id: u64) -> Result<String, std::io::Error> { Ok(id.to_string()) }

#[async_cache(redis = "tier()", key = String, convert = email.to_lowercase())]
async fn converted(email: &str) -> String { email.to_string() }

pub struct Repo;

#[async_cache]
impl Repo {
    #[async_cache(redis = "tier()")]
    pub async fn find(id: u64) -> Vec<u8> { vec![id as u8] }
}

fn main() {
    let _ = (owned::cache(), lazy::cache(), by_ref::cache(), unquoted::cache(), converted::cache());
    let _ = Repo::find_cache();
}
