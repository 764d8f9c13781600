//! Procedural macros for `cache-core`: `#[async_cache]` memoizes an `async fn` or method, and
//! `#[derive(CacheIdentity)]` gives a type the per-instance identity its cached methods key on.
//!
//! Use them through `cache_core`, which re-exports both (default feature `macros`):
//!
//! ```
//! use cache_core::{async_cache, CacheIdentity, InstanceId};
//! ```
//!
//! The examples here are doctests, compiled and run against `cache-core` (a dev-dependency).
//!
//! # Layout
//! * `args`: the attribute's options, parsed into typed values with their spans.
//! * `model`: the options and the fn, validated into a model: `model/key.rs` (the key parts or `key`/`convert`),
//!   `model/output.rs` (what is cached), `model/receiver.rs` (which receivers a cached method may take).
//! * `expand`: the model to tokens: `expand/fns.rs` (the cached fn, the uncached body, the refresh),
//!   `expand/key.rs` (the key and the trait checks), `expand/accessor.rs` (the cache accessors),
//!   `expand/module.rs` (a free fn's companion module).
//! * `impls`: `#[async_cache]` on an impl (trait impls, associated fns without `self`).
//! * `identity`: `#[derive(CacheIdentity)]`.
//! * `errors`: the accumulator that reports every error of one attribute at once; `syntax`: questions about the
//!   user's types (`Self`, `Arc<Self>`, borrows, generic parameters) that `syn` does not answer directly.

use proc_macro::TokenStream;

mod args;
mod errors;
mod expand;
mod identity;
mod impls;
mod model;
#[cfg(test)]
mod properties;
mod syntax;

/// Memoizes an `async fn`: concurrent calls with the same arguments run the body once, and later calls get the
/// stored value until it is evicted or expires.
///
/// ```
/// use cache_core::async_cache;
/// # #[derive(Clone, Debug, PartialEq)] pub struct User { id: u64 }
/// # #[derive(Debug)] pub struct DbError;
/// # pub struct Db;
/// # impl Db { async fn query_user(&self, id: u64) -> Result<User, DbError> { Ok(User { id }) } }
///
/// /// Looks a user up in the database (the first argument, a connection, is not part of the key).
/// #[async_cache(maxsize = 1000, policy = "lfu", ttl = 60, skip_args = 1)]
/// pub async fn fetch_user(db: &Db, id: u64) -> Result<User, DbError> {
///     db.query_user(id).await
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), DbError> {
/// # let db = Db;
/// let user = fetch_user(&db, 42).await?;     // runs the query
/// let again = fetch_user(&db, 42).await?;    // from the cache
/// assert_eq!(again, user);
/// assert_eq!(fetch_user::cache().metrics().hits, 1); // the cache: &'static AsyncCache<(u64,), User>
/// fetch_user::cache().insert((7,), user);    // prime an entry
/// fetch_user::cache().clear();
/// # Ok(())
/// # }
/// ```
///
/// # Options
/// All optional, each at most once:
///
/// | option | default | meaning |
/// |---|---|---|
/// | `maxsize = 1000` | `128` | most entries held (at least 1) |
/// | `policy = "tinylfu"` | `"lru"` | eviction policy, `"lru"`, `"lfu"` or `"tinylfu"` (any case; see `Policy`) |
/// | `ttl = 60`, `ttl = 0.5` | none | seconds until an entry expires; omit for no expiry |
/// | `refresh_after = 30` | none | seconds after which a hit returns the value and reruns the body in the background (see `CacheBuilder::refresh_after`); the rerun owns copies of the arguments (`&T` needs `T: ToOwned`, skipped ones too) and must be `Send + 'static`; on a method, needs `self: Arc<Self>` |
/// | `skip_args = 1` | `0` | how many leading arguments (after `self`) are left out of the key |
/// | `key = Type, convert = expr` | the arguments | the key's type and how it is computed (see below) |
/// | `result = true` / `option = true` | from the name | the output is a `Result` / `Option` (an alias) |
/// | `redis = "TIER.clone()"` | none | share the cache through a Redis tier (feature `redis` of `cache-core`; see below) |
/// | `name = "users"` | the fn's path | with `redis`: the cache's name in Redis |
/// | `crate = "my::path"` | `"::cache_core"` | where `cache_core` is, if renamed or re-exported |
///
/// `maxsize` and `ttl` also take constants and constant expressions: `maxsize = MAX_USERS`,
/// `maxsize = 10 * 1024`, `ttl = TTL_SECS` (seconds, any integer or float type), `ttl = Duration::from_millis(500)`.
/// They are evaluated in a `const` block (so they must be constant). A literal is checked when the attribute
/// expands; a constant `maxsize` out of range (0 or more than `u32::MAX - 1`) fails to compile with a message
/// naming the fn; a constant `ttl` that is zero, negative or too long **panics when the cache is built** (the
/// first call or accessor use) with a message naming the fn.
///
/// # The key
/// By default, the arguments after the skipped ones, owned, as a tuple: `&str` becomes `String`, `&[T]` becomes
/// `Vec<T>`, `&Path` / `&OsStr` / `&CStr` their owned types, another `&T` becomes `T` (cloned), and a by-value
/// `T` is cloned. `(u64,)` for one argument, `()` for none. They must be
/// `Hash + Eq + Clone + Send + Sync + 'static`.
///
/// With `key = Type, convert = expr` the key is `expr`, of type `Type` (for a method, `(identity, expr)`).
/// `expr` is evaluated at the start of the fn, where every argument is in scope as the body sees it (it must not
/// move an argument the body still uses: borrow or clone it). Then the arguments can be of any type (an `f64`,
/// a `HashMap`, an `Rc`, a handle in any position), keys can be normalised, and `skip_args` is not used.
/// `cached`'s quoted spelling is accepted too: `key = "String", convert = r#"{ format!("{a}{b}") }"#`.
///
/// ```
/// # use cache_core::async_cache;
/// # pub struct Db;
/// # impl Db { async fn account(&self, email: &str) -> Option<u64> { Some(email.len() as u64) } }
/// #[async_cache(key = String, convert = email.trim().to_lowercase())]
/// async fn account(db: &Db, email: &str) -> Option<u64> { db.account(email).await }
///
/// #[async_cache(key = (i64, u32), convert = ((price * 100.0).round() as i64, qty))]
/// async fn quote(price: f64, qty: u32) -> f64 { price * f64::from(qty) }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// account(&Db, "Ada@Example.com").await;
/// account(&Db, " ada@example.com").await;      // the same key
/// assert_eq!(account::cache().len(), 1);
/// assert_eq!(quote(1.5, 2).await, 3.0);
/// assert!(quote::cache().contains_key(&(150, 2)));
/// # }
/// ```
///
/// **Generic fns** (type or const parameters, `impl Trait` arguments) can be cached with `key`/`convert` when
/// neither the `key` type nor the cached value type mentions a generic parameter: the cache is one `static`
/// shared by every instantiation. Otherwise the attribute refuses with an error on the parameter's use.
///
/// ```
/// # use cache_core::async_cache;
/// use std::fmt::Display;
///
/// #[async_cache(key = String, convert = value.to_string())]
/// async fn render<T: Display>(value: T) -> String { format!("<{value}>") }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// assert_eq!(render(7).await, "<7>");
/// assert_eq!(render("7").await, "<7>");  // another type, the same key: from the cache
/// assert_eq!(render::cache().metrics().hits, 1);
/// # }
/// ```
///
/// # What is cached
/// * `Result<T, E>` (any type whose last path segment is `Result`, such as `io::Result<T>`; it must be an alias of
///   `std::result::Result`): only `Ok(T)` is cached. An error goes to its caller and is never stored; the next
///   call runs the body again. The attribute sees tokens, not types: an alias under another name
///   (`type Res<T> = Result<T, E>`) counts as a plain value.
/// * `Option<T>`: only `Some(T)` is cached. `None` is returned to the caller and **not** cached: the next call runs
///   the body again. (A lookup that found nothing is usually worth retrying; to remember a `None`, return a
///   type of your own, such as `Found<T>`, or a `Result`.)
/// * Anything else is cached as is. The cached type must be `Clone + Send + Sync + 'static`.
/// * `result = true` / `option = true` say the output is a `Result` / `Option` whatever it is called
///   (`type ApiResult<T> = Result<T, ApiError>`): only `Ok` / `Some` is cached. `result = false` /
///   `option = false` cache the output as is (a `Result` with a `Clone` error, errors included).
///
/// # Companions: the cache, the uncached body, a refresh
/// A free fn `f` gets a module `f` with
/// * `f::cache()`: the `&'static AsyncCache<K, V>`;
/// * `f::uncached(args..)`: the body, without the cache (no lookup, nothing stored);
/// * `f::refresh(args..)`: runs the body without looking in the cache and stores what it returned (for
///   `Result` / `Option` outputs, only `Ok` / `Some`; an error or `None` leaves the entry as it was).
///
/// They are defined beside `f` (the module re-exports them), so every path in the signature and in option
/// values resolves as written: `super::User`, `self::Tag`, `crate::x::Y`.
///
/// # Concurrent calls on the same key
/// The body runs once: the first caller runs it, the others wait for its result (see
/// `AsyncCache::get_or_load`). If that caller is cancelled or panics, a waiting caller takes over. A body that
/// calls its own fn **with the same key** would wait for itself: that inner call panics instead, with a message
/// starting "re-entrant load" (the outer call panics too, and the next call loads the key afresh). Recursion on
/// other keys (such as `fib(n - 1)`, boxed with `Box::pin`) is fine.
///
/// # Shared through Redis: `redis = "expr"`
/// With `cache-core`'s feature `redis`, `redis = "expr"` makes the cache the L1 of a
/// [`RedisTier`](https://docs.rs/cache-core/latest/cache_core/redis/struct.RedisTier.html) that the service's
/// replicas share (what it does: `cache_core::redis`'s docs): a cold key is loaded once across replicas,
/// `f::cache().insert/remove/clear` reach the others' L1, and a Redis outage only ever means the body runs.
///
/// ```ignore
/// use std::sync::LazyLock;
/// use cache_core::{async_cache, redis::RedisTier};
///
/// static TIER: LazyLock<RedisTier> =
///     LazyLock::new(|| RedisTier::new("redis://127.0.0.1:6379", "shop").expect("a valid URL"));
///
/// #[async_cache(ttl = 60, redis = "TIER.clone()")] // in module `shop::users`: named `shop.users.fetch_user`
/// async fn fetch_user(id: u64) -> String { format!("user {id}") }
/// ```
/// (This example runs in `cache_core::redis`'s docs, which need the feature.)
///
/// * **The expression** is written in a string (`redis = "TIER.clone()"`) or as is (`redis = tier()`); it must
///   yield a `RedisTier`, a `&RedisTier` or a `&LazyLock<RedisTier>`. It is evaluated once, when the cache is
///   built (the first call or accessor use), in the fn's module: for an associated fn, outside the impl (no
///   `Self`).
/// * **The name** in Redis keys (`{namespace}:{name}:v{version}:{key}`) is the fn's path: `module_path!()` and
///   the fn's name, `::` written `.` (`my_app.users.fetch_user`); for an associated fn, with the type's name
///   (`my_app.users.UserRepo.find`). A replica, or a cache built with `CacheBuilder::name` and `.redis(..)`,
///   shares it by using the same name. Moving or renaming the fn renames the cache: replicas running the old
///   and the new code then no longer share it; `name = "users"` pins the name. A path over 64 characters, or
///   with other characters than ASCII letters, digits, `_`, `-` and `.` (a raw identifier), does not compile:
///   give a `name`.
/// * **Types**: the key arguments (or the `key` type) must also be `serde::Serialize + DeserializeOwned`
///   (invalidations name keys by their bytes), and so must the cached value; each missing trait is one error on
///   the type.
/// * **Methods taking `self`** cannot be shared: their keys start with the instance's identity, which means
///   nothing in another process. Use a free fn or an associated fn without `self` (the impl marked
///   `#[async_cache]` too), taking what the result depends on as arguments.
/// * `ttl` becomes the Redis entry's expiry too; `refresh_after` reloads into this replica's L1 only.
/// * Without the feature, the attribute is one compile error on the expression, naming the feature.
///
/// # Methods
/// On a method in an inherent `impl` taking `&self`, `self: Arc<Self>` or `self: &Arc<Self>`, the key starts with
/// the instance's identity: the type implements `cache_core::CacheIdentity`, most simply by holding a
/// `cache_core::InstanceId` field and deriving [`CacheIdentity`](derive@CacheIdentity). Two instances never
/// share results, and a new instance never sees results of a dropped one, even at the same address. The
/// attribute adds an associated fn `<method>_cache()` returning the cache, shared by all instances and keyed
/// by `(u64, args...)`, and `<method>_uncached(..)` / `<method>_refresh(..)` methods (see Companions):
///
/// ```
/// use cache_core::{async_cache, CacheIdentity, InstanceId};
/// # async fn load(id: u64) -> String { format!("user-{id}") }
///
/// #[derive(CacheIdentity, Default)]
/// struct UserService {
///     id: InstanceId,
/// }
///
/// impl UserService {
///     #[async_cache(maxsize = 100, ttl = 0.5)]
///     async fn user(&self, id: u64) -> String {
///         load(id).await
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let service = UserService::default();
/// assert_eq!(service.user(7).await, "user-7");
/// assert_eq!(UserService::user_cache().len(), 1);
/// service.user_uncached(8).await;   // the body, no cache
/// service.user_refresh(9).await;    // run the body, store the result
/// assert_eq!(UserService::user_cache().len(), 2);
/// # }
/// ```
///
/// The entries of a dropped instance are never hit again, and they do not pin memory: dropping an `InstanceId`
/// reports it to every method cache, which sweeps the dead instances' entries out once `maxsize / 8` (at least
/// 16, at most 4,096) have piled up. A hand-written `CacheIdentity` that does not use `InstanceId` gets no sweep;
/// its dead entries leave by eviction or `ttl`.
///
/// # Trait impls and associated fns without `self`
/// A method attribute can neither add items to a trait impl nor tell an associated fn without `self` from a free
/// fn. Put `#[async_cache]` (without options) on the impl as well: it caches the fns marked `#[async_cache(..)]`
/// inside it, with their options.
///
/// ```
/// # use cache_core::{async_cache, CacheIdentity, InstanceId};
/// trait Repo {
///     async fn find(&self, id: u64) -> Option<String>;
/// }
/// #[derive(CacheIdentity, Default)]
/// struct PgRepo { id: InstanceId }
/// struct Rates;
///
/// #[async_cache]
/// impl Repo for PgRepo {
///     #[async_cache(ttl = 60)]
///     async fn find(&self, id: u64) -> Option<String> { Some(format!("row {id}")) } // keyed by (identity, id)
/// }
///
/// #[async_cache]
/// impl Rates {
///     #[async_cache(maxsize = 10)]
///     async fn rate(currency: &str) -> f64 { currency.len() as f64 } // no `self`: keyed by (currency,)
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let repo = PgRepo::default();
/// assert_eq!(repo.find(1).await.as_deref(), Some("row 1"));
/// assert_eq!(PgRepo::find_cache().len(), 1); // the companions, in an inherent impl beside a trait impl
/// assert_eq!(PgRepo__find_cache().len(), 1); // the same cache, from a fn beside the impl
/// repo.find_uncached(2).await;
/// assert_eq!(Rates::rate("EUR").await, 3.0);
/// Rates::rate_refresh("EUR").await;
/// assert_eq!(Rates::rate_cache().len(), 1);
/// # }
/// ```
///
/// The cache is a `static`, one for all instantiations of a generic impl: `Type__method_cache()` reaches it
/// without naming the type parameters (`Store::<u8>::size_cache()` is the same cache). In a trait impl the
/// companions are private to the module (trait methods have no visibility of their own), and the body moves to
/// an inherent fn `method_uncached`, where an associated type of the trait must be written
/// `<Self as Trait>::Assoc`.
///
/// # Errors on the argument
/// A key argument that is not `Hash + Eq + Clone + Send + Sync + 'static` once owned, a `key = Type` that is not,
/// or a cached value that is not `Clone + Send + Sync + 'static`, is **one** error, on that argument's or the
/// output's type, with what to do (leave the argument out with `skip_args`, putting it first; say what the key is
/// with `key`/`convert`; wrap it in a newtype; return an `Arc`). Nothing else is reported for it: the generated
/// code asks nothing more of a type that failed its check.
///
/// ```text
/// error[E0277]: `f64` cannot be part of the cache key: a key argument must be `Hash + Eq + Clone + Send + Sync + 'static`
///   --> src/lib.rs:2:23
///    |
///  2 | async fn price(value: f64) -> u64 {
///    |                       ^^^ this argument is part of the key
///    |
///    = note: if the result does not depend on it (a connection, a client), move it before the key arguments and
///            leave it out with `skip_args = n`; to say what the key is, use `key = Type, convert = expr`; or wrap
///            it in a newtype that implements `Hash + Eq + Clone`
/// ```
///
/// # What is kept
/// The fn keeps its name, visibility, attributes, doc comments and signature, and its future is `Send` when the
/// body's is. Errors in the body point at your lines.
///
/// # Limits (each a compile error that says what to do)
/// * The fn must be `async`, with arguments bound to names or `_` (destructure inside the body). Without
///   `key`/`convert` it cannot be generic (lifetimes are fine) nor take `impl Trait`. Types in the key and the
///   output must be owned (`'static`): a top-level `&T` argument is fine.
/// * Methods cannot take `&mut self` (a cached call would skip the mutation) or `self` by value.
/// * The cache is a `static`, so its types cannot mention `Self` (write the type out) or the generic parameters
///   of a generic `impl` (rustc then reports "can't use generic parameters from outer item" on that type: make
///   the method's key and output types concrete, or move the method to a non-generic impl).
/// * A free fn's module re-exports items through `super::`, so declare cached fns at module level, not inside
///   a function body.
/// * In a trait impl, or for an associated fn without `self`, the impl needs `#[async_cache]` too (see above);
///   without it rustc reports "method `m_cache` is not a member of trait" or "module is not supported in
///   `trait`s or `impl`s".
#[proc_macro_attribute]
pub fn async_cache(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(args.into(), item.into()).into()
}

/// Implements `cache_core::CacheIdentity` by delegating to one field: the one marked `#[cache_identity]`, else
/// the only field whose type is named `InstanceId`.
///
/// ```
/// use cache_core::{CacheIdentity, InstanceId};
///
/// #[derive(CacheIdentity)]
/// struct UserService {
///     id: InstanceId,
///     base_url: String,
/// }
///
/// #[derive(CacheIdentity)]
/// struct Tenant(String, #[cache_identity] std::sync::Arc<UserService>);
///
/// let service = std::sync::Arc::new(UserService { id: InstanceId::new(), base_url: "http://db".into() });
/// let tenant = Tenant("acme".into(), service.clone());
/// assert_eq!(tenant.cache_identity(), service.cache_identity());
/// let other = UserService { id: InstanceId::new(), base_url: "http://db".into() };
/// assert_ne!(other.cache_identity(), service.cache_identity());
/// ```
///
/// Works on named and tuple structs, generic ones included (the field's type must implement `CacheIdentity`;
/// for a generic field type the impl requires it). If `cache_core` is renamed, say where it is with
/// `#[cache_identity(crate = "path::to::cache_core")]` on the struct.
#[proc_macro_derive(CacheIdentity, attributes(cache_identity))]
pub fn derive_cache_identity(item: TokenStream) -> TokenStream {
    identity::derive(item.into()).into()
}
