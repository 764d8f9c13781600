//! Procedural macros for `cache-core`. Use them through `cache_core`, which re-exports them.
use proc_macro::TokenStream;

/// Memoizes an `async fn` (stub until the macro issue lands).
#[proc_macro_attribute]
pub fn async_cache(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Derives `cache_core::CacheIdentity` (stub until the macro issue lands).
#[proc_macro_derive(CacheIdentity, attributes(cache_identity))]
pub fn derive_cache_identity(_item: TokenStream) -> TokenStream {
    TokenStream::new()
}
