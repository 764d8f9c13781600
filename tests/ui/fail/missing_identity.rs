use cache_core::async_cache;

struct NoIdentity {
    base: u64,
}

impl NoIdentity {
    #[async_cache]
    async fn get(&self, x: u64) -> u64 {
        self.base + x
    }
}

fn main() {}
