//! `#[async_cache]` on an impl: cached methods in trait impls, associated fns without `self`, and generic impls
//! whose cache is reached without naming a type parameter.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_core::{async_cache, AsyncCache, CacheIdentity, InstanceId};

/// A repository trait with an async method.
trait Repo {
    async fn find(&self, id: u64) -> Option<String>;
    fn calls(&self) -> usize;
}

#[derive(CacheIdentity)]
struct PgRepo {
    id: InstanceId,
    calls: AtomicUsize,
}

impl PgRepo {
    fn new() -> Self {
        Self {
            id: InstanceId::new(),
            calls: AtomicUsize::new(0),
        }
    }
}

#[async_cache]
impl Repo for PgRepo {
    #[async_cache(maxsize = 100)]
    async fn find(&self, id: u64) -> Option<String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        (id > 0).then(|| format!("row {id}"))
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn trait_impl_methods_are_cached() {
    let repo = PgRepo::new();
    assert_eq!(repo.find(1).await.as_deref(), Some("row 1"));
    assert_eq!(repo.find(1).await.as_deref(), Some("row 1"));
    assert_eq!(repo.calls(), 1);
    assert_eq!(repo.find(0).await, None);
    assert_eq!(repo.find(0).await, None);
    assert_eq!(repo.calls(), 3, "`None` is not cached");
    // Per instance, as inherent methods.
    let other = PgRepo::new();
    assert_eq!(other.find(1).await.as_deref(), Some("row 1"));
    assert_eq!(other.calls(), 1);
    // The accessor, in an inherent impl beside the trait impl, and beside the impl.
    let cache: &'static AsyncCache<(u64, u64), String> = PgRepo::find_cache();
    assert!(std::ptr::eq(cache, PgRepo__find_cache()));
    assert_eq!(cache.maxsize(), 100);
    assert_eq!(cache.peek(&(repo.id.get(), 1)).as_deref(), Some("row 1"));
    // The companions.
    assert_eq!(repo.find_uncached(1).await.as_deref(), Some("row 1"));
    assert_eq!(repo.calls(), 4);
    assert_eq!(repo.find_refresh(2).await.as_deref(), Some("row 2"));
    assert_eq!(repo.find(2).await.as_deref(), Some("row 2"));
    assert_eq!(repo.calls(), 5);
}

/// Through the trait, generically.
async fn via_trait<R: Repo>(repo: &R) -> Option<String> {
    repo.find(7).await
}

#[tokio::test]
async fn called_through_the_trait() {
    let repo = PgRepo::new();
    assert_eq!(via_trait(&repo).await.as_deref(), Some("row 7"));
    assert_eq!(via_trait(&repo).await.as_deref(), Some("row 7"));
    assert_eq!(repo.calls(), 1);
}

static SQUARES: AtomicUsize = AtomicUsize::new(0);

struct Math;

#[async_cache]
impl Math {
    /// An associated fn without `self`: keyed by its arguments alone.
    #[async_cache]
    async fn square(x: u64) -> u64 {
        SQUARES.fetch_add(1, Ordering::SeqCst);
        x * x
    }

    /// Not cached: no attribute.
    fn plain() -> u8 {
        1
    }
}

#[tokio::test]
async fn associated_fns_without_self() {
    assert_eq!(Math::square(3).await, 9);
    assert_eq!(Math::square(3).await, 9);
    assert_eq!(SQUARES.load(Ordering::SeqCst), 1);
    let cache: &'static AsyncCache<(u64,), u64> = Math::square_cache();
    assert_eq!(cache.peek(&(3,)), Some(9));
    assert_eq!(Math__square_cache().len(), 1);
    assert_eq!(Math::square_uncached(4).await, 16);
    assert_eq!(Math::plain(), 1);
}

#[derive(CacheIdentity)]
struct Store<T> {
    id: InstanceId,
    items: PhantomData<T>,
}

#[async_cache]
impl<T: Send + Sync> Store<T> {
    /// One cache for every `T`: the key and value do not mention it.
    #[async_cache]
    async fn size(&self, n: u32) -> u64 {
        u64::from(n) * std::mem::size_of::<T>() as u64
    }
}

#[tokio::test]
async fn generic_impl_accessor_needs_no_type_parameter() {
    let bytes: Store<u8> = Store {
        id: InstanceId::new(),
        items: PhantomData,
    };
    let words: Store<u64> = Store {
        id: InstanceId::new(),
        items: PhantomData,
    };
    assert_eq!(bytes.size(2).await, 2);
    assert_eq!(words.size(2).await, 16);
    // Reached without naming `T`.
    assert_eq!(Store__size_cache().len(), 2);
    assert!(std::ptr::eq(Store::<u8>::size_cache(), Store__size_cache()));
}
