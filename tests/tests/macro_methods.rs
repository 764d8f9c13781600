//! `#[async_cache]` on methods and `#[derive(CacheIdentity)]`: per-instance keys, receivers, the
//! `<Type>::<method>_cache()` accessor, and no stale hits when a new instance reuses a dropped one's address.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use cache_core::{async_cache, AsyncCache, CacheIdentity, InstanceId};

#[derive(CacheIdentity)]
struct Scaler {
    id: InstanceId,
    factor: u64,
    calls: AtomicUsize,
}

impl Scaler {
    fn new(factor: u64) -> Self {
        Self {
            id: InstanceId::new(),
            factor,
            calls: AtomicUsize::new(0),
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Scales `x` by this instance's factor.
    #[async_cache(maxsize = 10_000)]
    async fn scale(&self, x: u64) -> u64 {
        self.calls.fetch_add(1, Ordering::SeqCst);
        x * self.factor
    }

    #[async_cache(maxsize = 10_000)]
    async fn scale_arc(self: Arc<Self>, x: u64) -> u64 {
        self.calls.fetch_add(1, Ordering::SeqCst);
        x * self.factor
    }

    #[async_cache]
    async fn scale_ref_arc(self: &Arc<Self>, x: u64) -> u64 {
        self.calls.fetch_add(1, Ordering::SeqCst);
        x * self.factor
    }

    /// No arguments besides `self`: keyed on the instance alone.
    #[async_cache]
    async fn describe(&self) -> String {
        self.calls.fetch_add(1, Ordering::SeqCst);
        format!("x{}", self.factor)
    }
}

#[tokio::test]
async fn ref_self_caches_per_instance() {
    let two = Scaler::new(2);
    let three = Scaler::new(3);
    assert_eq!(two.scale(5).await, 10);
    assert_eq!(two.scale(5).await, 10);
    assert_eq!(two.calls(), 1);
    // Same argument, another instance: its own entry, never the other's.
    assert_eq!(three.scale(5).await, 15);
    assert_eq!(three.calls(), 1);
    assert_eq!(three.scale(5).await, 15);
    assert_eq!(three.calls(), 1);

    let cache: &'static AsyncCache<(u64, u64), u64> = Scaler::scale_cache();
    assert_eq!(cache.get(&(two.id.get(), 5)), Some(10));
    assert_eq!(cache.get(&(three.cache_identity(), 5)), Some(15));
}

#[tokio::test]
async fn no_argument_method() {
    let s = Scaler::new(4);
    assert_eq!(s.describe().await, "x4");
    assert_eq!(s.describe().await, "x4");
    assert_eq!(s.calls(), 1);
    let cache: &AsyncCache<(u64,), String> = Scaler::describe_cache();
    assert!(cache.contains_key(&(s.id.get(),)));
}

#[tokio::test]
async fn arc_receivers() {
    let a = Arc::new(Scaler::new(2));
    let b = Arc::new(Scaler::new(7));
    assert_eq!(Arc::clone(&a).scale_arc(3).await, 6);
    assert_eq!(Arc::clone(&a).scale_arc(3).await, 6);
    assert_eq!(Arc::clone(&b).scale_arc(3).await, 21);
    assert_eq!((a.calls(), b.calls()), (1, 1));

    assert_eq!(a.scale_ref_arc(4).await, 8);
    assert_eq!(a.scale_ref_arc(4).await, 8);
    assert_eq!(b.scale_ref_arc(4).await, 28);
    assert_eq!((a.calls(), b.calls()), (2, 2));
    assert_eq!(Scaler::scale_ref_arc_cache().len(), 2);
}

#[tokio::test]
async fn a_clone_is_another_instance() {
    #[derive(Clone, CacheIdentity)]
    struct Named {
        id: InstanceId,
    }
    let a = Named {
        id: InstanceId::new(),
    };
    let b = a.clone();
    assert_ne!(a.cache_identity(), b.cache_identity());
}

/// An instance whose answer differs from every earlier instance's.
#[derive(CacheIdentity)]
struct Session {
    id: InstanceId,
    user: u64,
}

impl Session {
    // Room for every entry (the capacity is split over shards).
    #[async_cache(maxsize = 100_000)]
    async fn whoami(&self) -> u64 {
        self.user
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_new_instance_at_a_reused_address_never_sees_old_results() {
    let mut on_stack = HashSet::new();
    let mut on_heap = HashSet::new();
    for user in 0..1000 {
        {
            // On the stack of this future: the same slot every iteration, dropped at the end of the block.
            let session = Session {
                id: InstanceId::new(),
                user,
            };
            assert_eq!(session.whoami().await, user);
            on_stack.insert(std::ptr::from_ref(&session) as usize);
        }

        // On the heap: the allocator hands the freed block back.
        let boxed = Box::new(Session {
            id: InstanceId::new(),
            user: user + 10_000,
        });
        assert_eq!(boxed.whoami().await, user + 10_000);
        on_heap.insert(std::ptr::from_ref(&*boxed) as usize);
    }
    // The test means something only if addresses were in fact reused.
    assert!(on_stack.len() < 1000, "no stack address was reused");
    assert!(on_heap.len() < 1000, "no heap address was reused");
    assert_eq!(Session::whoami_cache().len(), 2000);
}

/// Tuple struct with the identity field marked explicitly, and a generic struct.
#[derive(CacheIdentity)]
struct Tenant(#[cache_identity] Arc<Scaler>, String);

#[derive(CacheIdentity)]
struct Repo<T> {
    store: T,
    instance: InstanceId,
}

impl<T: Send + Sync> Repo<T> {
    /// In a generic impl: fine while the key and output do not mention `T`.
    #[async_cache]
    async fn count(&self, x: u32) -> usize {
        let _ = &self.store;
        x as usize
    }
}

#[tokio::test]
async fn derive_variants() {
    let scaler = Arc::new(Scaler::new(1));
    let tenant = Tenant(Arc::clone(&scaler), "acme".into());
    assert_eq!(tenant.cache_identity(), scaler.cache_identity());
    // The identity is the marked field's alone: the other field plays no part.
    let other = Tenant(Arc::clone(&scaler), "globex".into());
    assert_eq!(other.cache_identity(), tenant.cache_identity());
    assert_eq!(tenant.1, "acme");
    let elsewhere = Tenant(Arc::new(Scaler::new(1)), "acme".into());
    assert_ne!(elsewhere.cache_identity(), tenant.cache_identity());

    let a = Repo {
        store: vec![1u8],
        instance: InstanceId::new(),
    };
    let b = Repo {
        store: "s",
        instance: InstanceId::new(),
    };
    assert_eq!(a.cache_identity(), a.instance.get());
    assert_eq!(a.count(3).await, 3);
    assert_eq!(b.count(3).await, 3);
    // One static for every `T`, keyed by instance.
    assert_eq!(Repo::<Vec<u8>>::count_cache().len(), 2);
}

fn assert_send<T: Send>(_: T) {}

#[test]
fn method_futures_are_send() {
    let s = Scaler::new(1);
    assert_send(s.scale(1));
    assert_send(Arc::new(Scaler::new(1)).scale_arc(1));
}
