use cache_core::async_cache;

/// Not `Hash`: cannot be part of a key.
#[derive(Clone, PartialEq, Eq)]
struct NotHash(u64);

#[async_cache]
async fn key_not_hash(k: NotHash) -> u64 {
    k.0
}

/// Not `Clone`: cannot be handed out from the cache.
struct NotClone;

#[async_cache]
async fn value_not_clone(x: u64) -> NotClone {
    NotClone
}

/// A mistake in the body is reported on the body's line.
#[async_cache]
async fn body_mismatch(x: u64) -> u64 {
    "not a number"
}

fn main() {}
