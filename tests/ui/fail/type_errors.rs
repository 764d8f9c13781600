//! Each key argument that is not a key, and an output that cannot be cached, gives exactly one error, on that
//! argument's or output's type, saying how to fix it; nothing else (rustc's own errors about the generated code
//! would name private internals).

use std::collections::HashMap;

use cache_core::{async_cache, CacheIdentity, InstanceId};

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

/// A `HashMap` is not `Hash`.
#[async_cache]
async fn map_key(filter: HashMap<String, u64>) -> usize {
    filter.len()
}

/// Two arguments that are not keys: one error on each.
#[async_cache]
async fn two_bad(x: f64, name: std::rc::Rc<str>) -> u64 {
    x as u64 + name.len() as u64
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

/// A method: the argument's error as for a free fn.
#[derive(CacheIdentity)]
struct Service {
    id: InstanceId,
}

impl Service {
    #[async_cache]
    async fn price(&self, amount: f64) -> u64 {
        amount as u64
    }
}

/// A mistake in the body is reported on the body's line.
#[async_cache]
async fn body_mismatch(x: u64) -> u64 {
    "not a number"
}

fn main() {}
