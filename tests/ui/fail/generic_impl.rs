use cache_core::{async_cache, CacheIdentity, InstanceId};

#[derive(CacheIdentity)]
struct Repo<T> {
    id: InstanceId,
    items: Vec<T>,
}

impl<T: Clone + Send + Sync + 'static> Repo<T> {
    #[async_cache]
    async fn first(&self, n: usize) -> Option<T> {
        self.items.get(n).cloned()
    }
}

fn main() {}
