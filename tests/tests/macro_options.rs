//! `#[async_cache]`: paths in signatures resolved as written (`super::`, `self::`, `crate::`), `result = true` /
//! `option = true` for aliased outputs, constant option values, and the `uncached` / `refresh` companions.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cache_core::{async_cache, CacheIdentity, InstanceId, Policy};

mod macro_common;

use macro_common::Calls;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct User {
    name: String,
}

mod paths {
    use cache_core::async_cache;

    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub(crate) struct Tag(pub(crate) u8);

    /// `super::`, `self::` and `crate::` in the arguments and the output.
    #[async_cache]
    pub(crate) async fn relative(
        user: &super::User,
        tag: self::Tag,
        again: crate::paths::Tag,
    ) -> super::User {
        super::User {
            name: format!("{}{}{}", user.name, tag.0, again.0),
        }
    }

    #[async_cache(key = super::User, convert = user.clone())]
    pub(crate) async fn converted(user: &super::User) -> Option<self::Tag> {
        u8::try_from(user.name.len()).ok().map(Tag)
    }
}

#[tokio::test]
async fn paths_resolve_as_written() {
    let ada = User {
        name: "ada".to_owned(),
    };
    let out = paths::relative(&ada, paths::Tag(1), paths::Tag(2)).await;
    assert_eq!(out.name, "ada12");
    assert_eq!(paths::relative::cache().len(), 1);
    assert_eq!(paths::converted(&ada).await, Some(paths::Tag(3)));
    assert_eq!(paths::converted::cache().peek(&ada), Some(paths::Tag(3)));
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ApiError;

type ApiResult<T> = Result<T, ApiError>;
type Found = Option<u64>;

static ALIASED: Calls = Calls::new();

/// An alias of `Result` under another name: `result = true` caches only `Ok`.
#[async_cache(result = true)]
async fn aliased(x: u64) -> ApiResult<u64> {
    ALIASED.hit();
    if x == 0 {
        Err(ApiError)
    } else {
        Ok(x * 2)
    }
}

static FOUND: Calls = Calls::new();

/// A non-generic alias of `Option`: `option = true` caches only `Some`.
#[async_cache(option = true)]
async fn found(x: u64) -> Found {
    FOUND.hit();
    (x > 0).then_some(x)
}

static ERRORS_TOO: Calls = Calls::new();

/// `result = false`: a `Result` cached as is, errors included (they are `Clone`).
#[async_cache(result = false)]
async fn errors_too(x: u64) -> Result<u64, ApiError> {
    ERRORS_TOO.hit();
    if x == 0 {
        Err(ApiError)
    } else {
        Ok(x)
    }
}

#[tokio::test]
async fn result_and_option_flags() {
    assert_eq!(aliased(0).await, Err(ApiError));
    assert_eq!(aliased(0).await, Err(ApiError));
    assert_eq!(ALIASED.get(), 2, "errors are not cached");
    assert_eq!(aliased(2).await, Ok(4));
    assert_eq!(aliased(2).await, Ok(4));
    assert_eq!(ALIASED.get(), 3);
    let _: &cache_core::AsyncCache<(u64,), u64> = aliased::cache();

    assert_eq!(found(0).await, None);
    assert_eq!(found(0).await, None);
    assert_eq!(FOUND.get(), 2, "`None` is not cached");
    assert_eq!(found(5).await, Some(5));
    assert_eq!(found(5).await, Some(5));
    assert_eq!(FOUND.get(), 3);

    assert_eq!(errors_too(0).await, Err(ApiError));
    assert_eq!(errors_too(0).await, Err(ApiError));
    assert_eq!(
        ERRORS_TOO.get(),
        1,
        "with `result = false` the error is cached"
    );
}

const MAX_USERS: usize = 7;
const TTL_SECS: u64 = 30;

mod limits {
    pub const MAX: usize = 3;
}

#[async_cache(maxsize = MAX_USERS, ttl = TTL_SECS)]
async fn constants(x: u64) -> u64 {
    x
}

#[async_cache(maxsize = 10 * 1024, ttl = Duration::from_millis(500), policy = "lfu")]
async fn expressions(x: u64) -> u64 {
    x
}

#[async_cache(maxsize = limits::MAX, ttl = 0.25 * 2.0)]
async fn paths_and_floats(x: u64) -> u64 {
    x
}

#[tokio::test]
async fn constant_option_values() {
    let c = constants::cache();
    assert_eq!(c.maxsize(), MAX_USERS);
    assert_eq!(c.default_ttl(), Some(Duration::from_secs(TTL_SECS)));
    let e = expressions::cache();
    assert_eq!(e.maxsize(), 10 * 1024);
    assert_eq!(e.default_ttl(), Some(Duration::from_millis(500)));
    assert_eq!(e.policy(), Policy::Lfu);
    let p = paths_and_floats::cache();
    assert_eq!(p.maxsize(), limits::MAX);
    assert_eq!(p.default_ttl(), Some(Duration::from_millis(500)));
    assert_eq!(
        constants(1).await + expressions(1).await + paths_and_floats(1).await,
        3
    );
}

const NO_TTL: u64 = 0;

/// A constant TTL of zero is refused when the cache is built, naming the fn.
#[async_cache(ttl = NO_TTL)]
async fn zero_ttl(x: u64) -> u64 {
    x
}

#[test]
#[should_panic(expected = "#[async_cache] on `zero_ttl`: `ttl` must be positive")]
fn zero_constant_ttl_is_refused_when_built() {
    let _ = zero_ttl::cache();
}

static COUNTED: Calls = Calls::new();

#[async_cache(skip_args = 1)]
async fn counted(offset: u64, x: u64) -> Result<u64, String> {
    COUNTED.hit();
    if x == 0 {
        Err("zero".to_owned())
    } else {
        Ok(x + offset)
    }
}

#[tokio::test]
async fn uncached_and_refresh() {
    assert_eq!(counted(0, 1).await, Ok(1));
    assert_eq!(counted(0, 1).await, Ok(1));
    assert_eq!(COUNTED.get(), 1);
    // The body, no cache: runs, and stores nothing.
    assert_eq!(counted::uncached(10, 1).await, Ok(11));
    assert_eq!(COUNTED.get(), 2);
    assert_eq!(counted(0, 1).await, Ok(1), "the entry is unchanged");
    // Refresh: runs and replaces the entry.
    assert_eq!(counted::refresh(10, 1).await, Ok(11));
    assert_eq!(COUNTED.get(), 3);
    assert_eq!(counted(0, 1).await, Ok(11));
    assert_eq!(COUNTED.get(), 3);
    // An error from a refresh leaves the entry alone.
    assert_eq!(counted::refresh(0, 0).await, Err("zero".to_owned()));
    assert!(!counted::cache().contains_key(&(0,)));
    assert_eq!(counted::cache().peek(&(1,)), Some(11));
}

#[derive(CacheIdentity)]
struct Service {
    id: InstanceId,
    calls: AtomicUsize,
}

impl Service {
    #[async_cache]
    async fn double(&self, x: u64) -> u64 {
        self.calls.fetch_add(1, Ordering::SeqCst);
        x * 2
    }
}

#[tokio::test]
async fn method_uncached_and_refresh() {
    let s = Service {
        id: InstanceId::new(),
        calls: AtomicUsize::new(0),
    };
    assert_eq!(s.double(2).await, 4);
    assert_eq!(s.double(2).await, 4);
    assert_eq!(s.calls.load(Ordering::SeqCst), 1);
    assert_eq!(s.double_uncached(2).await, 4);
    assert_eq!(s.calls.load(Ordering::SeqCst), 2);
    Service::double_cache().clear();
    assert_eq!(s.double_refresh(3).await, 6);
    assert_eq!(s.calls.load(Ordering::SeqCst), 3);
    assert_eq!(s.double(3).await, 6);
    assert_eq!(
        s.calls.load(Ordering::SeqCst),
        3,
        "refresh stored the entry"
    );
}
