use cache_core::async_cache;

struct Math;
struct Math2;

#[async_cache(ttl = 60)]
impl Math {
    #[async_cache]
    async fn square(x: u64) -> u64 { x * x }
}

#[async_cache]
impl Math {
    fn nothing_cached() {}
}

#[async_cache]
impl Clone for &'static Math2 {
    fn clone(&self) -> Self { self }
}

#[async_cache]
impl Math {
    #[async_cache(maxsize = 0)]
    async fn bad_option(x: u64) -> u64 { x }
}

fn main() {}
