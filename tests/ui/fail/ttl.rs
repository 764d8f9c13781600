use cache_core::async_cache;

#[async_cache(ttl = -5)]
async fn negative(x: u64) -> u64 { x }

#[async_cache(ttl = 0)]
async fn zero(x: u64) -> u64 { x }

#[async_cache(ttl = 0.0)]
async fn zero_float(x: u64) -> u64 { x }

#[async_cache(ttl = "60")]
async fn string(x: u64) -> u64 { x }

#[async_cache(ttl = 5ms)]
async fn unit_suffix(x: u64) -> u64 { x }

fn main() {}
