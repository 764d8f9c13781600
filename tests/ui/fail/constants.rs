use cache_core::async_cache;

const ZERO: usize = 0;

/// A constant `maxsize` is checked at compile time, naming the fn.
#[async_cache(maxsize = ZERO)]
async fn zero_maxsize(x: u64) -> u64 { x }

/// A `ttl` that names nothing.
#[async_cache(ttl = forever)]
async fn unknown_constant(x: u64) -> u64 { x }

/// A `maxsize` that is not a `usize`.
#[async_cache(maxsize = 1.5 * 2.0)]
async fn float_maxsize(x: u64) -> u64 { x }

fn main() {}
