use std::sync::LazyLock;

use cache_core::redis::RedisTier;

static TIER: LazyLock<RedisTier> =
    LazyLock::new(|| RedisTier::new("redis://127.0.0.1:1/", "ui").unwrap());

mod a_module_whose_name_is_rather_long {
    pub mod and_another_one_inside_it {
        use cache_core::async_cache;

        // `long_path.a_module_whose_name_is_rather_long.and_another_one_inside_it.user`: over 64 characters.
        #[async_cache(redis = "&super::super::TIER")]
        pub async fn user(id: u64) -> u64 { id }

        // Named: fine.
        #[async_cache(redis = "&super::super::TIER", name = "users")]
        pub async fn named(id: u64) -> u64 { id }
    }
}

fn main() {}
