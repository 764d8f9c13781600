//! Methods and derives in the forms users write.
#![deny(warnings)]

use std::sync::Arc;

use cache_core::{async_cache, AsyncCache, CacheIdentity, InstanceId};

#[derive(CacheIdentity)]
struct Service {
    id: InstanceId,
}

impl Service {
    #[async_cache]
    async fn explicit_ref(self: &Self, x: u8) -> u8 {
        x
    }

    #[async_cache]
    async fn named_lifetime<'a>(&'a self, x: &'a str) -> usize {
        x.len()
    }

    #[async_cache]
    async fn arc(self: Arc<Self>) -> u8 {
        1
    }

    #[async_cache]
    async fn ref_arc(self: &Arc<Self>) -> u8 {
        2
    }

    /// `Self` may appear in the error type: only `Ok` values are stored.
    #[async_cache]
    async fn self_in_error(&self) -> Result<u8, Box<Self>> {
        Ok(3)
    }
}

/// Generic struct: the identity field is found by type; the impl is generic too.
#[derive(CacheIdentity)]
struct Repo<T> {
    items: Vec<T>,
    id: InstanceId,
}

impl<T: Send + Sync> Repo<T> {
    #[async_cache]
    async fn len(&self) -> usize {
        self.items.len()
    }
}

/// A generic identity field, marked.
#[derive(CacheIdentity)]
struct Wrapper<I>(String, #[cache_identity] I);

/// A re-exported runtime.
mod runtime {
    pub use cache_core::*;
}

#[derive(runtime::CacheIdentity)]
#[cache_identity(crate = "crate::runtime")]
struct Elsewhere {
    id: runtime::InstanceId,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let s = Service { id: InstanceId::new() };
    assert_eq!(s.explicit_ref(1).await, 1);
    assert_eq!(s.named_lifetime("ab").await, 2);
    assert!(s.self_in_error().await.is_ok());
    let _: &AsyncCache<(u64, String), usize> = Service::named_lifetime_cache();
    let s = Arc::new(s);
    assert_eq!(s.ref_arc().await, 2);
    assert_eq!(s.arc().await, 1);

    let repo = Repo { items: vec!['a'], id: InstanceId::new() };
    assert_eq!(repo.len().await, 1);
    let w = Wrapper("w".to_owned(), Arc::new(repo));
    assert_eq!(w.cache_identity(), w.1.cache_identity());
    assert!(!w.0.is_empty());
    let e = Elsewhere { id: InstanceId::new() };
    assert_eq!(e.cache_identity(), e.id.get());
}
