use cache_core::async_cache;

struct Service;

impl Service {
    #[async_cache]
    async fn no_receiver(x: u64) -> u64 {
        x
    }
}

fn main() {}
