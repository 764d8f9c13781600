//! `#[async_cache(key = .., convert = ..)]`: keys the user computes (any argument types, normalised keys,
//! generic fns), `cached`'s quoted spelling, and `convert` on methods.

use std::collections::HashMap;
use std::fmt::Display;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_core::{async_cache, AsyncCache, CacheIdentity, InstanceId};

mod macro_common;

use macro_common::Calls;

static NORMALISED: Calls = Calls::new();

/// The key is normalised: case does not matter.
#[async_cache(key = String, convert = name.to_lowercase())]
async fn greeting(name: &str) -> String {
    NORMALISED.hit();
    format!("hello {}", name.to_lowercase())
}

#[tokio::test]
async fn convert_normalises_the_key() {
    assert_eq!(greeting("Ada").await, "hello ada");
    assert_eq!(greeting("ADA").await, "hello ada");
    assert_eq!(greeting("ada").await, "hello ada");
    assert_eq!(NORMALISED.get(), 1);
    // The key type is `key`, not a tuple.
    let cache: &'static AsyncCache<String, String> = greeting::cache();
    assert_eq!(cache.peek("ada").as_deref(), Some("hello ada"));
}

static ROUNDED: Calls = Calls::new();

/// `f64` is not `Hash + Eq`; the key rounds it to thousandths. A map argument takes part through its length.
#[async_cache(key = (i64, usize), convert = ((price * 1000.0).round() as i64, weights.len()))]
async fn quote(price: f64, weights: &HashMap<String, f64>) -> f64 {
    ROUNDED.hit();
    price * weights.values().sum::<f64>()
}

#[tokio::test]
async fn any_argument_types_with_convert() {
    let weights = HashMap::from([("a".to_owned(), 2.0)]);
    assert!((quote(1.5, &weights).await - 3.0).abs() < 1e-9);
    assert!((quote(1.500_000_1, &weights).await - 3.0).abs() < 1e-9);
    assert_eq!(ROUNDED.get(), 1);
    assert!((quote(2.0, &weights).await - 4.0).abs() < 1e-9);
    assert_eq!(ROUNDED.get(), 2);
    assert_eq!(quote::cache().len(), 2);
}

/// `Rc` is neither `Send` nor `Sync`: it cannot be in a shared key, but `convert` can read it. (The fn's future is
/// not `Send` then, which is fine on a current-thread runtime.)
#[async_cache(key = String, convert = label.to_string())]
async fn shout(label: Rc<str>) -> String {
    label.to_uppercase()
}

#[tokio::test]
async fn non_send_argument_through_convert() {
    assert_eq!(shout(Rc::from("hi")).await, "HI");
    assert!(shout::cache().contains_key("hi"));
}

static GENERIC: Calls = Calls::new();

/// A generic fn: the key and the output do not depend on `T`, so one cache serves every `T`.
#[async_cache(key = String, convert = value.to_string())]
async fn render<T: Display>(value: T) -> String {
    GENERIC.hit();
    format!("<{value}>")
}

/// `impl Trait` arguments are generic too.
#[async_cache(key = String, convert = value.to_string())]
async fn render_impl(value: impl Display) -> usize {
    value.to_string().len()
}

#[tokio::test]
async fn generic_fns_share_one_cache() {
    assert_eq!(render(7u8).await, "<7>");
    assert_eq!(render(7u64).await, "<7>");
    assert_eq!(render("7").await, "<7>");
    assert_eq!(GENERIC.get(), 1);
    assert_eq!(render(8i32).await, "<8>");
    assert_eq!(GENERIC.get(), 2);
    assert_eq!(render_impl(12).await, 2);
    assert_eq!(render_impl("ab").await, 2);
    assert_eq!(render_impl::cache().len(), 2);
}

static QUOTED: Calls = Calls::new();

/// `cached`'s spelling: the key type and the convert block in strings.
#[async_cache(key = "String", convert = r#"{ format!("{a}:{b}") }"#)]
async fn joined(a: u32, b: u32) -> u32 {
    QUOTED.hit();
    a + b
}

#[tokio::test]
async fn quoted_key_and_convert() {
    assert_eq!(joined(1, 2).await, 3);
    assert_eq!(joined(1, 2).await, 3);
    assert_eq!(QUOTED.get(), 1);
    assert_eq!(joined::cache().peek("1:2"), Some(3));
}

/// A handle that is not `Clone`/`Hash`, first or not: `convert` picks the key and the handle stays out of it.
struct Pool {
    rows: HashMap<u64, String>,
}

#[async_cache(key = u64, convert = id)]
async fn row(id: u64, pool: &Pool) -> Option<String> {
    pool.rows.get(&id).cloned()
}

#[tokio::test]
async fn handle_after_the_key_argument() {
    let pool = Pool {
        rows: HashMap::from([(1, "one".to_owned())]),
    };
    assert_eq!(row(1, &pool).await.as_deref(), Some("one"));
    assert_eq!(row(2, &pool).await, None);
    assert_eq!(row::cache().peek(&1).as_deref(), Some("one"));
    assert!(!row::cache().contains_key(&2), "`None` is not cached");
}

#[derive(CacheIdentity)]
struct Directory {
    id: InstanceId,
    calls: AtomicUsize,
}

impl Directory {
    /// On a method the key is `(identity, convert)`.
    #[async_cache(key = String, convert = email.trim().to_lowercase())]
    async fn lookup(&self, email: &str) -> usize {
        self.calls.fetch_add(1, Ordering::SeqCst);
        email.trim().len()
    }
}

#[tokio::test]
async fn convert_on_a_method() {
    let dir = Directory {
        id: InstanceId::new(),
        calls: AtomicUsize::new(0),
    };
    assert_eq!(dir.lookup(" A@x.io").await, 6);
    assert_eq!(dir.lookup("a@x.io ").await, 6);
    assert_eq!(dir.calls.load(Ordering::SeqCst), 1);
    let cache: &'static AsyncCache<(u64, String), usize> = Directory::lookup_cache();
    assert_eq!(cache.peek(&(dir.id.get(), "a@x.io".to_owned())), Some(6));
}

/// A by-reference key argument's owned type, as the accessor's key type shows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct UserId(u64);

static BORROWED: Calls = Calls::new();

#[async_cache]
async fn borrowed_keys(
    id: &UserId,
    bytes: &[u8],
    path: &std::path::Path,
    name: &::core::primitive::str,
) -> usize {
    BORROWED.hit();
    id.0 as usize + bytes.len() + path.as_os_str().len() + name.len()
}

#[tokio::test]
async fn borrowed_key_arguments_are_keyed_by_their_owned_types() {
    // `&UserId` -> `UserId`, `&[u8]` -> `Vec<u8>`, `&Path` -> `PathBuf`, `&str` -> `String`: priming with the
    // owned values is a hit for the borrowed call.
    let cache: &'static AsyncCache<(UserId, Vec<u8>, std::path::PathBuf, String), usize> =
        borrowed_keys::cache();
    cache.insert((UserId(1), vec![1, 2], "/tmp".into(), "ada".to_owned()), 99);
    let path = std::path::Path::new("/tmp");
    assert_eq!(borrowed_keys(&UserId(1), &[1, 2], path, "ada").await, 99);
    assert_eq!(BORROWED.get(), 0, "served from the primed entry");
    assert_eq!(
        borrowed_keys(&UserId(2), &[1, 2], path, "ada").await,
        2 + 2 + 4 + 3
    );
    assert_eq!(BORROWED.get(), 1);
    assert!(cache.contains_key(&(UserId(2), vec![1, 2], "/tmp".into(), "ada".to_owned())));
}
