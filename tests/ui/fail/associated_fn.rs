use cache_core::{async_cache, CacheIdentity, InstanceId};

struct Service;

/// An associated fn without `self`, without `#[async_cache]` on the impl: the attribute cannot tell it from a
/// free fn.
impl Service {
    #[async_cache]
    async fn no_receiver(x: u64) -> u64 {
        x
    }
}

trait Repo {
    async fn find(&self, id: u64) -> u64;
}

#[derive(CacheIdentity)]
struct PgRepo {
    id: InstanceId,
}

/// A trait impl without `#[async_cache]` on the impl.
impl Repo for PgRepo {
    #[async_cache]
    async fn find(&self, id: u64) -> u64 {
        id
    }
}

fn main() {}
