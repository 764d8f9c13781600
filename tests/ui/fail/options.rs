use cache_core::async_cache;

#[async_cache(size = 10)]
async fn unknown_option(x: u64) -> u64 { x }

#[async_cache(maxsize = 10, ttl = 5, maxsize = 20)]
async fn duplicate_option(x: u64) -> u64 { x }

#[async_cache(maxsize = "10")]
async fn maxsize_string(x: u64) -> u64 { x }

#[async_cache(maxsize = 0)]
async fn maxsize_zero(x: u64) -> u64 { x }

#[async_cache(maxsize)]
async fn missing_value(x: u64) -> u64 { x }

#[async_cache(policy = "fifo")]
async fn unknown_policy(x: u64) -> u64 { x }

#[async_cache(policy = lru)]
async fn policy_not_a_string(x: u64) -> u64 { x }

#[async_cache(skip_args = 2)]
async fn skip_too_many(x: u64) -> u64 { x }

#[async_cache(skip_args = true)]
async fn skip_bool(x: u64) -> u64 { x }

#[async_cache(crate = 3)]
async fn crate_not_a_path(x: u64) -> u64 { x }

#[async_cache(maxsize = 1 ttl = 2)]
async fn missing_comma(x: u64) -> u64 { x }

fn main() {}
