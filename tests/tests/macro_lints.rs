//! A caller with strict lints: the expansions add no warning. `cargo test` checks the rustc lints (a warning is
//! an error here); CI's `cargo clippy --all-targets -- -D warnings` checks the clippy ones.
#![deny(
    warnings,
    unused,
    unused_qualifications,
    unused_results,
    unreachable_pub,
    missing_docs,
    rust_2018_idioms,
    single_use_lifetimes,
    trivial_casts,
    clippy::all,
    clippy::pedantic
)]

use std::sync::Arc;

use cache_core::{async_cache, CacheIdentity, InstanceId};

/// A public module: its cached fns and their accessors must be documented.
pub mod api {
    use cache_core::async_cache;

    /// A user.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct User {
        /// The name.
        pub name: String,
    }

    /// Fetches a user.
    ///
    /// # Errors
    /// When `id` is 0.
    #[async_cache(maxsize = 100, policy = "lfu", ttl = 60, skip_args = 1)]
    pub async fn fetch_user(prefix: &str, id: u64) -> Result<User, String> {
        if id == 0 {
            return Err("no user 0".to_owned());
        }
        Ok(User {
            name: format!("{prefix}{id}"),
        })
    }

    /// Finds a name.
    #[async_cache(ttl = 0.5)]
    pub async fn find(name: &str) -> Option<usize> {
        (!name.is_empty()).then_some(name.len())
    }

    /// A crate-visible one.
    #[async_cache]
    pub(crate) async fn internal<'a>(name: &'a str, tags: &'a [u8]) -> usize {
        name.len() + tags.len()
    }

    /// Returns nothing, cached anyway.
    #[async_cache]
    pub async fn unit() {}
}

/// A service with cached methods.
#[derive(CacheIdentity)]
pub struct Service {
    id: InstanceId,
}

impl Service {
    /// A cached method.
    #[async_cache(maxsize = 10)]
    pub async fn get(&self, x: u32) -> u32 {
        x + 1
    }

    /// A cached method on `Arc<Self>`.
    #[async_cache]
    pub async fn shared(self: Arc<Self>, x: &str) -> String {
        x.to_uppercase()
    }

    #[async_cache]
    async fn private(&self) -> u8 {
        1
    }

    /// A tuple output and a method key: the generated accessor's type is complex, which is not the caller's
    /// doing (`clippy::type_complexity`).
    #[async_cache]
    pub async fn profile(&self, x: u64) -> (u64, u64, Vec<u8>) {
        (x, x, vec![1])
    }
}

#[tokio::test]
async fn strict_caller_compiles_and_runs() {
    assert_eq!(
        api::fetch_user("u", 1).await.map(|u| u.name),
        Ok("u1".to_owned())
    );
    assert!(api::fetch_user("u", 0).await.is_err());
    assert_eq!(api::find("abc").await, Some(3));
    assert_eq!(api::internal("a", &[1]).await, 2);
    api::unit().await;
    assert_eq!(api::unit::cache().len(), 1);
    assert_eq!(api::fetch_user::cache().len(), 1);
    let service = Service {
        id: InstanceId::new(),
    };
    assert_eq!(service.get(1).await, 2);
    assert_eq!(service.private().await, 1);
    assert_eq!(Service::private_cache().len(), 1);
    assert_eq!(service.profile(2).await, (2, 2, vec![1]));
    assert_eq!(Arc::new(service).shared("a").await, "A");
    assert_eq!(Service::get_cache().len(), 1);
}
