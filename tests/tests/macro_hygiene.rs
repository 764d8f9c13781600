//! The expansions name everything by absolute path: a caller that shadows `core`, `std`, `cache_core`, the
//! prelude (`Option`, `Result`, `Box`, `Some`, `Clone`, ...) and `u64` still compiles and works.
#![allow(dead_code, non_camel_case_types, non_upper_case_globals)]

mod core {}
mod std {}
mod cache_core {}
mod tokio {}

struct Option;
struct Result;
struct Box;
struct Vec;
struct String;
struct Send;
struct Sync;
struct Clone;
struct Hash;
struct Eq;
struct Future;
struct OnceLock;
struct Arc;
struct AsyncCache;
struct Policy;
struct CacheIdentity;
struct u64;
struct str;
const Some: () = ();
const None: () = ();
const Ok: () = ();
const Err: () = ();
fn identity() {}
fn build() {}
fn value() {}
fn cache() {}

/// A user type named like nothing in the prelude.
#[derive(::core::clone::Clone, ::core::fmt::Debug, ::core::cmp::PartialEq)]
struct Answer(::core::primitive::u32);

#[::cache_core::async_cache(maxsize = 10, ttl = 1.5, skip_args = 1)]
async fn plain(
    _unused: ::core::primitive::u8,
    x: ::core::primitive::u32,
    name: &::core::primitive::str,
) -> Answer {
    Answer(x + ::core::primitive::u32::try_from(name.len()).unwrap_or(0))
}

#[::cache_core::async_cache(policy = "lfu")]
async fn fallible(
    x: ::core::primitive::u32,
) -> ::core::result::Result<Answer, ::std::string::String> {
    if x == 0 {
        ::core::result::Result::Err("zero".into())
    } else {
        ::core::result::Result::Ok(Answer(x))
    }
}

#[::cache_core::async_cache]
async fn maybe(x: ::core::primitive::u32) -> ::core::option::Option<Answer> {
    (x > 0).then_some(Answer(x))
}

#[derive(::cache_core::CacheIdentity)]
struct Service {
    id: ::cache_core::InstanceId,
}

impl Service {
    #[::cache_core::async_cache]
    async fn get(&self, x: ::core::primitive::u32) -> Answer {
        Answer(x * 2)
    }

    #[::cache_core::async_cache]
    async fn shared(self: ::std::sync::Arc<Self>, x: ::core::primitive::u32) -> Answer {
        Answer(x * 3)
    }
}

/// No prelude at all: the expansion needs none.
#[no_implicit_prelude]
mod without_prelude {
    #[::cache_core::async_cache(maxsize = 4)]
    pub(super) async fn triple(x: u32) -> ::core::option::Option<u32> {
        x.checked_mul(3)
    }

    #[derive(::cache_core::CacheIdentity)]
    pub(super) struct Bare(pub(super) ::cache_core::InstanceId);

    impl Bare {
        #[::cache_core::async_cache]
        pub(super) async fn id(&self, salt: &str) -> ::std::string::String {
            ::std::format!("{}{salt}", self.0.get())
        }
    }
}

#[test]
fn shadowed_names_do_not_leak_into_expansions() {
    let rt = ::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        assert_eq!(plain(0, 1, "ab").await, Answer(3));
        assert_eq!(plain::cache().len(), 1);
        assert_eq!(fallible(2).await, ::core::result::Result::Ok(Answer(2)));
        assert!(fallible(0).await.is_err());
        assert_eq!(maybe(0).await, ::core::option::Option::None);
        assert_eq!(maybe(4).await, ::core::option::Option::Some(Answer(4)));
        let service = Service {
            id: ::cache_core::InstanceId::new(),
        };
        assert_eq!(service.get(5).await, Answer(10));
        assert_eq!(Service::get_cache().len(), 1);
        let shared = ::std::sync::Arc::new(service);
        assert_eq!(shared.shared(5).await, Answer(15));
        assert_eq!(
            without_prelude::triple(2).await,
            ::core::option::Option::Some(6)
        );
        assert_eq!(without_prelude::triple::cache().len(), 1);
        let bare = without_prelude::Bare(::cache_core::InstanceId::new());
        assert!(bare.id("!").await.ends_with('!'));
    });
}

/// Arguments named like the expansion's own locals are neither shadowed nor confused with them.
#[::cache_core::async_cache]
async fn collides(
    __async_cache: ::core::primitive::u64,
    __async_cache_key: ::core::primitive::u64,
) -> ::core::primitive::u64 {
    __async_cache * 10 + __async_cache_key
}

#[test]
fn arguments_named_like_generated_locals_keep_their_values() {
    let rt = ::tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        ::core::assert_eq!(collides(3, 4).await, 34);
        ::core::assert_eq!(collides(3, 4).await, 34);
        ::core::assert_eq!(collides(4, 3).await, 43);
        ::core::assert_eq!(collides::cache().len(), 2);
    });
}
