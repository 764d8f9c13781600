use std::sync::Arc;

use cache_core::{async_cache, CacheIdentity, InstanceId};

#[derive(CacheIdentity)]
struct Service {
    id: InstanceId,
    hits: u64,
}

impl Service {
    #[async_cache]
    async fn mut_self(&mut self, x: u64) -> u64 { self.hits += 1; x }

    #[async_cache]
    async fn by_value(self, x: u64) -> u64 { x }

    #[async_cache]
    async fn boxed(self: Box<Self>, x: u64) -> u64 { x }

    #[async_cache]
    async fn returns_self(self: Arc<Self>) -> Option<Self> { None }

    #[async_cache]
    async fn self_in_key(&self, other: &Self) -> bool { self.hits == other.hits }
}

fn main() {}
