//! Procedural macros for `cache-core`: `#[async_cache]` memoizes an `async fn` or method, and
//! `#[derive(CacheIdentity)]` gives a type the per-instance identity its cached methods key on.
//!
//! Use them through `cache_core`, which re-exports both (default feature `macros`):
//!
//! ```ignore
//! use cache_core::{async_cache, CacheIdentity, InstanceId};
//! ```
//!
//! The examples here are not compiled (this crate cannot depend on `cache-core`); the same examples run as
//! `cache-core`'s integration tests and examples.
//!
//! # Layout
//! * `args`: the attribute's options, parsed into typed values with their spans.
//! * `model`: the options and the fn, validated into a model (receiver, key parameters, output kind).
//! * `expand`: the model to tokens.
//! * `identity`: `#[derive(CacheIdentity)]`.

use proc_macro::TokenStream;

mod args;
mod expand;
mod identity;
mod model;

/// Memoizes an `async fn`: concurrent calls with the same arguments run the body once, and later calls get the
/// stored value until it is evicted or expires.
///
/// ```ignore
/// use cache_core::async_cache;
///
/// /// Looks a user up in the database (the first argument, a connection, is not part of the key).
/// #[async_cache(maxsize = 1000, policy = "lfu", ttl = 60, skip_args = 1)]
/// pub async fn fetch_user(db: &Db, id: u64) -> Result<User, DbError> {
///     db.query_user(id).await
/// }
///
/// let user = fetch_user(&db, 42).await?;     // runs the query
/// let again = fetch_user(&db, 42).await?;    // from the cache
/// fetch_user::cache().metrics().hits;        // the cache: &'static AsyncCache<(u64,), User>
/// fetch_user::cache().insert((7,), user);    // prime an entry
/// fetch_user::cache().clear();
/// ```
///
/// # Options
/// All optional, each at most once:
///
/// | option | default | meaning |
/// |---|---|---|
/// | `maxsize = 1000` | `128` | most entries held (at least 1) |
/// | `policy = "lfu"` | `"lru"` | eviction policy, `"lru"` or `"lfu"` (any case) |
/// | `ttl = 60`, `ttl = 0.5` | none | seconds until an entry expires; omit for no expiry |
/// | `skip_args = 1` | `0` | how many leading arguments (after `self`) are left out of the key |
/// | `crate = "my::path"` | `"::cache_core"` | where `cache_core` is, if renamed or re-exported |
///
/// # The key
/// The arguments after the skipped ones, owned, as a tuple: `&str` becomes `String`, `&T` becomes
/// `<T as ToOwned>::Owned`, a by-value `T` is cloned. `(u64,)` for one argument, `()` for none. They must be
/// `Hash + Eq + Clone + Send + Sync + 'static`.
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
///
/// # Concurrent calls on the same key
/// The body runs once: the first caller runs it, the others wait for its result (see
/// `AsyncCache::get_or_load`). If that caller is cancelled or panics, a waiting caller takes over. A body that
/// calls its own fn **with the same key** waits for itself forever; recursion on other keys (such as
/// `fib(n - 1)`, boxed with `Box::pin`) is fine.
///
/// # Methods
/// On a method in an inherent `impl` taking `&self`, `self: Arc<Self>` or `self: &Arc<Self>`, the key starts with
/// the instance's identity: the type implements `cache_core::CacheIdentity`, most simply by holding a
/// `cache_core::InstanceId` field and deriving [`CacheIdentity`](derive@CacheIdentity). Two instances never
/// share results, and a new instance never sees results of a dropped one, even at the same address. The
/// attribute adds an associated fn `<method>_cache()` returning the cache, shared by all instances and keyed
/// by `(u64, args...)`:
///
/// ```ignore
/// use cache_core::{async_cache, CacheIdentity, InstanceId};
///
/// #[derive(CacheIdentity)]
/// struct UserService {
///     id: InstanceId,
/// }
///
/// impl UserService {
///     #[async_cache(maxsize = 100, ttl = 0.5)]
///     async fn user(&self, id: u64) -> User {
///         load(id).await
///     }
/// }
///
/// UserService::user_cache().len();
/// ```
///
/// The entries of a dropped instance are never hit again, and they do not pin memory: dropping an `InstanceId`
/// reports it to every method cache, which sweeps the dead instances' entries out once `maxsize / 8` (at least
/// 16, at most 4,096) have piled up. A hand-written `CacheIdentity` that does not use `InstanceId` gets no sweep;
/// its dead entries leave by eviction or `ttl`.
///
/// # What is kept
/// The fn keeps its name, visibility, attributes, doc comments and signature, and its future is `Send` when the
/// body's is. Errors in the body point at your lines.
///
/// # Limits (each a compile error that says what to do)
/// * The fn must be `async`, not generic (lifetimes are fine), with named (not destructured) arguments and no
///   `impl Trait`. Types in the key and the output must be owned (`'static`): a top-level `&T` argument is
///   fine.
/// * Methods cannot take `&mut self` (a cached call would skip the mutation) or `self` by value.
/// * The cache is a `static`, so its types cannot mention `Self` (write the type out) or the generic parameters
///   of a generic `impl` (rustc then reports "can't use generic parameters from outer item" on that type: make
///   the method's key and output types concrete, or move the method to a non-generic impl).
/// * The cache accessor is an extra associated fn, so the attribute does not work in trait impls. In an impl,
///   it needs a `self` receiver: an associated fn without one would get a cache module, which cannot go in an
///   impl (rustc: "module is not supported in `trait`s or `impl`s"); make it a free fn.
/// * A free fn's cache module resolves your types through `use super::*`, so declare cached fns at module
///   level: types declared inside a function body are not visible there.
#[proc_macro_attribute]
pub fn async_cache(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(args.into(), item.into()).into()
}

/// Implements `cache_core::CacheIdentity` by delegating to one field: the one marked `#[cache_identity]`, else
/// the only field whose type is named `InstanceId`.
///
/// ```ignore
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
/// ```
///
/// Works on named and tuple structs, generic ones included (the field's type must implement `CacheIdentity`;
/// for a generic field type the impl requires it). If `cache_core` is renamed, say where it is with
/// `#[cache_identity(crate = "path::to::cache_core")]` on the struct.
#[proc_macro_derive(CacheIdentity, attributes(cache_identity))]
pub fn derive_cache_identity(item: TokenStream) -> TokenStream {
    identity::derive(item.into()).into()
}
