use cache_core::async_cache;

/// Not `Hash`: cannot be part of a key.
#[derive(Clone, PartialEq, Eq)]
struct NotHash(u64);

#[async_cache]
async fn key_not_hash(k: NotHash) -> u64 {
    k.0
}

/// `f64` is neither `Hash` nor `Eq`.
#[async_cache]
async fn float_key(x: f64) -> u64 {
    x as u64
}

/// `Rc` is not `Send`.
#[async_cache]
async fn rc_key(name: std::rc::Rc<str>) -> usize {
    name.len()
}

/// A handle after the key argument: it would be part of the key.
struct Pool;

#[async_cache]
async fn handle_second(id: u64, pool: &Pool) -> u64 {
    let _ = pool;
    id
}

/// Not `Clone`: cannot be handed out from the cache.
struct NotClone;

#[async_cache]
async fn value_not_clone(x: u64) -> NotClone {
    let _ = x;
    NotClone
}

/// `key = Type` that is not a key.
#[async_cache(key = NotHash, convert = NotHash(x))]
async fn bad_key_type(x: u64) -> u64 {
    x
}

/// A mistake in the body is reported on the body's line.
#[async_cache]
async fn body_mismatch(x: u64) -> u64 {
    "not a number"
}

fn main() {}
