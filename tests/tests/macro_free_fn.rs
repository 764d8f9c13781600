//! `#[async_cache]` on free fns: the key, the accessor, what is cached for `Result` and `Option`, TTL and policy,
//! visibility and `Send`.
//!
//! Every test uses its own cached fns: their caches are statics shared by the tests of this binary.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cache_core::{async_cache, Policy};

/// Counts body runs of one fn.
struct Calls(AtomicUsize);

impl Calls {
    const fn new() -> Self {
        Self(AtomicUsize::new(0))
    }

    fn hit(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

static DOUBLE: Calls = Calls::new();

#[async_cache]
async fn double(x: u64) -> u64 {
    DOUBLE.hit();
    x * 2
}

#[tokio::test]
async fn caches_by_argument() {
    assert_eq!(double(2).await, 4);
    assert_eq!(double(2).await, 4);
    assert_eq!(double(3).await, 6);
    assert_eq!(DOUBLE.get(), 2);
    let m = double::cache().metrics();
    assert_eq!((m.hits, m.misses, m.size), (1, 2, 2));
}

/// A stand-in for a connection: not part of the key.
struct Db {
    suffix: &'static str,
}

static GREET: Calls = Calls::new();

#[async_cache(skip_args = 1)]
async fn greet(db: &Db, name: &str, times: u8) -> String {
    GREET.hit();
    format!("{}{}", name.repeat(usize::from(times)), db.suffix)
}

#[tokio::test]
async fn skip_args_and_str_keys() {
    let a = Db { suffix: "!" };
    let b = Db { suffix: "?" };
    assert_eq!(greet(&a, "hi", 2).await, "hihi!");
    // The connection is skipped: same key, cached answer.
    assert_eq!(greet(&b, "hi", 2).await, "hihi!");
    assert_eq!(greet(&b, "hi", 1).await, "hi?");
    assert_eq!(GREET.get(), 2);
    // `&str` is keyed as `String`; borrowed lookups work through the accessor.
    let cache: &'static cache_core::AsyncCache<(String, u8), String> = greet::cache();
    assert_eq!(cache.peek(&("hi".to_owned(), 2)).as_deref(), Some("hihi!"));
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct UserId(u64);

static BY_REF: Calls = Calls::new();

/// `&T` is keyed as `T::Owned` (here `UserId`).
#[async_cache]
async fn by_ref(id: &UserId, tags: &[u8]) -> usize {
    BY_REF.hit();
    usize::try_from(id.0).unwrap() + tags.len()
}

#[tokio::test]
async fn ref_args_are_keyed_owned() {
    assert_eq!(by_ref(&UserId(1), &[1, 2]).await, 3);
    assert_eq!(by_ref(&UserId(1), &[1, 2]).await, 3);
    assert_eq!(BY_REF.get(), 1);
    let cache: &cache_core::AsyncCache<(UserId, Vec<u8>), usize> = by_ref::cache();
    assert!(cache.contains_key(&(UserId(1), vec![1, 2])));
}

static NOTHING: Calls = Calls::new();

#[async_cache]
async fn no_args() -> u32 {
    NOTHING.hit();
    7
}

#[tokio::test]
async fn no_args_key_is_unit() {
    assert_eq!(no_args().await, 7);
    assert_eq!(no_args().await, 7);
    assert_eq!(NOTHING.get(), 1);
    assert_eq!(no_args::cache().get(&()), Some(7));
}

#[derive(Debug, Clone, PartialEq)]
struct User {
    name: String,
}

static FETCH: Calls = Calls::new();

#[async_cache(maxsize = 1000)]
async fn fetch_user(id: u64) -> User {
    FETCH.hit();
    User {
        name: format!("user{id}"),
    }
}

#[tokio::test]
async fn accessor_clear_metrics_and_priming() {
    let cache = fetch_user::cache();
    assert_eq!(cache.maxsize(), 1000);
    assert_eq!(cache.policy(), Policy::Lru);
    assert_eq!(cache.default_ttl(), None);

    // Prime an entry: the body never runs for it.
    let ada = User { name: "Ada".into() };
    cache.insert((42,), ada.clone());
    assert_eq!(fetch_user(42).await, ada);
    assert_eq!(FETCH.get(), 0);

    assert_eq!(fetch_user(1).await.name, "user1");
    assert_eq!(FETCH.get(), 1);
    let m = cache.metrics();
    assert_eq!((m.hits, m.misses, m.loads), (1, 1, 1));

    cache.clear();
    assert!(cache.is_empty());
    assert_eq!(cache.metrics().hits, 0);
    assert_eq!(fetch_user(42).await.name, "user42");
    assert_eq!(FETCH.get(), 2);
    assert_eq!(cache.remove(&(42,)).map(|u| u.name), Some("user42".into()));
}

static FALLIBLE: Calls = Calls::new();

#[async_cache]
async fn fallible(x: i64) -> Result<i64, String> {
    FALLIBLE.hit();
    if x < 0 {
        Err(format!("negative: {x}"))
    } else {
        Ok(x * 10)
    }
}

#[tokio::test]
async fn result_caches_only_ok() {
    assert_eq!(fallible(1).await, Ok(10));
    assert_eq!(fallible(1).await, Ok(10));
    assert_eq!(FALLIBLE.get(), 1);
    // Errors reach every caller and are never stored.
    assert_eq!(fallible(-1).await, Err("negative: -1".into()));
    assert_eq!(fallible(-1).await, Err("negative: -1".into()));
    assert_eq!(FALLIBLE.get(), 3);
    let cache: &cache_core::AsyncCache<(i64,), i64> = fallible::cache();
    assert_eq!(cache.len(), 1);
    assert!(!cache.contains_key(&(-1,)));
}

static IO: Calls = Calls::new();

/// A `Result` alias with one parameter (`io::Result<T>`) caches `T` as well.
#[async_cache]
async fn io_alias(fail: bool) -> std::io::Result<u8> {
    IO.hit();
    if fail {
        Err(std::io::Error::other("boom"))
    } else {
        Ok(1)
    }
}

#[tokio::test]
async fn result_alias_and_question_mark() {
    assert_eq!(io_alias(false).await.unwrap(), 1);
    assert_eq!(io_alias(false).await.unwrap(), 1);
    assert!(io_alias(true).await.is_err());
    assert!(io_alias(true).await.is_err());
    assert_eq!(IO.get(), 3);
    assert_eq!(question_mark("12").await.unwrap(), 24);
    assert!(question_mark("x").await.is_err());
}

/// `?` converts errors as in any async fn.
#[async_cache]
async fn question_mark(s: &str) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    let n: u32 = s.parse()?;
    Ok(n * 2)
}

static FIND: Calls = Calls::new();

#[async_cache]
async fn find(id: u64) -> Option<String> {
    FIND.hit();
    (id % 2 == 0).then(|| format!("even {id}"))
}

#[tokio::test]
async fn option_caches_only_some() {
    assert_eq!(find(2).await.as_deref(), Some("even 2"));
    assert_eq!(find(2).await.as_deref(), Some("even 2"));
    assert_eq!(FIND.get(), 1);
    // `None` is returned, not cached: the next call asks again.
    assert_eq!(find(1).await, None);
    assert_eq!(find(1).await, None);
    assert_eq!(FIND.get(), 3);
    let cache: &cache_core::AsyncCache<(u64,), String> = find::cache();
    assert_eq!(cache.len(), 1);
}

static TTL_INT: Calls = Calls::new();

#[async_cache(ttl = 60)]
async fn ttl_int(x: u8) -> u8 {
    TTL_INT.hit();
    x
}

#[tokio::test(start_paused = true)]
async fn integer_ttl_expires_with_paused_time() {
    assert_eq!(
        ttl_int::cache().default_ttl(),
        Some(Duration::from_secs(60))
    );
    ttl_int(1).await;
    tokio::time::advance(Duration::from_secs(59)).await;
    ttl_int(1).await;
    assert_eq!(TTL_INT.get(), 1);
    tokio::time::advance(Duration::from_secs(1)).await;
    ttl_int(1).await;
    assert_eq!(TTL_INT.get(), 2);
}

static TTL_FLOAT: Calls = Calls::new();

#[async_cache(ttl = 0.25)]
async fn ttl_float(x: u8) -> u8 {
    TTL_FLOAT.hit();
    x
}

#[tokio::test(start_paused = true)]
async fn float_ttl_expires_with_paused_time() {
    assert_eq!(
        ttl_float::cache().default_ttl(),
        Some(Duration::from_millis(250))
    );
    ttl_float(1).await;
    tokio::time::advance(Duration::from_millis(249)).await;
    ttl_float(1).await;
    assert_eq!(TTL_FLOAT.get(), 1);
    tokio::time::advance(Duration::from_millis(1)).await;
    ttl_float(1).await;
    assert_eq!(TTL_FLOAT.get(), 2);
}

#[async_cache(maxsize = 2)]
async fn lru(x: u8) -> u8 {
    x
}

#[tokio::test]
async fn lru_policy_evicts_the_least_recent() {
    let cache = lru::cache();
    assert_eq!(cache.policy(), Policy::Lru);
    lru(1).await;
    lru(2).await;
    lru(1).await; // 1 is now more recent than 2
    lru(3).await; // evicts 2
    assert!(cache.contains_key(&(1,)));
    assert!(!cache.contains_key(&(2,)));
    assert!(cache.contains_key(&(3,)));
    assert_eq!(cache.metrics().evictions, 1);
}

#[async_cache(maxsize = 2, policy = "LFU")]
async fn lfu(x: u8) -> u8 {
    x
}

#[tokio::test]
async fn lfu_policy_evicts_the_least_frequent() {
    let cache = lfu::cache();
    assert_eq!(cache.policy(), Policy::Lfu);
    lfu(1).await;
    lfu(1).await;
    lfu(1).await;
    lfu(2).await;
    lfu(2).await; // 2 is now the most recent, but 1 is used more
    lfu(3).await; // evicts 2
    assert!(cache.contains_key(&(1,)));
    assert!(!cache.contains_key(&(2,)));
    assert!(cache.contains_key(&(3,)));
}

mod users {
    use cache_core::async_cache;

    /// Public, cached, and called from another module.
    #[async_cache]
    pub async fn lookup(id: u32) -> String {
        format!("u{id}")
    }

    /// Crate-visible: its accessor is too.
    #[async_cache]
    pub(crate) async fn internal(id: u32) -> u32 {
        id + 1
    }

    pub(crate) mod nested {
        use cache_core::async_cache;

        /// Visible in `users`, and so is its accessor.
        #[async_cache]
        pub(super) async fn up_one(id: u32) -> u32 {
            id + 2
        }

        /// Private: its accessor is usable here.
        #[async_cache]
        async fn private(id: u32) -> u32 {
            id + 3
        }

        pub(crate) async fn call_private() -> (u32, usize) {
            (private(1).await, private::cache().len())
        }
    }

    pub(crate) async fn call_up_one() -> (u32, usize) {
        (nested::up_one(1).await, nested::up_one::cache().len())
    }
}

#[tokio::test]
async fn keeps_visibility() {
    assert_eq!(users::lookup(1).await, "u1");
    assert_eq!(users::lookup::cache().len(), 1);
    assert_eq!(users::internal(1).await, 2);
    assert_eq!(users::internal::cache().len(), 1);
    assert_eq!(users::call_up_one().await, (3, 1));
    assert_eq!(users::nested::call_private().await, (4, 1));
}

fn assert_send<T: Send>(_: T) {}

#[test]
fn futures_are_send() {
    assert_send(double(1));
    assert_send(greet(&Db { suffix: "" }, "x", 1));
    assert_send(fallible(1));
    assert_send(find(1));
    assert_send(users::lookup(1));
}

/// Its own fn: `caches_by_argument` counts `double`'s body runs and metrics, and the tests run in parallel.
#[async_cache]
async fn triple(x: u64) -> u64 {
    x * 3
}

#[tokio::test]
async fn spawnable() {
    let handle = tokio::spawn(triple(14));
    assert_eq!(handle.await.unwrap(), 42);
}
