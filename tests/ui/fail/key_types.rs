use cache_core::async_cache;

/// `convert` must produce the `key` type: the mismatch is reported on the expression.
#[async_cache(key = String, convert = id)]
async fn convert_mismatch(id: u64) -> u64 { id }

/// `result = true` on an output that is not a `Result`.
#[async_cache(result = true)]
async fn result_on_plain(x: u64) -> u64 { x }

fn main() {}
