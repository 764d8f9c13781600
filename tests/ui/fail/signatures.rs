use cache_core::async_cache;

#[async_cache]
fn not_async(x: u64) -> u64 { x }

#[async_cache]
async fn generic<T: Clone>(x: T) -> T { x }

#[async_cache]
async fn const_generic<const N: usize>(x: [u8; N]) -> usize { x.len() }

#[async_cache]
async fn impl_trait_arg(x: impl AsRef<str>) -> usize { x.as_ref().len() }

#[async_cache]
async fn impl_trait_output(x: u64) -> impl std::fmt::Display { x }

#[async_cache]
async fn destructured((a, b): (u64, u64)) -> u64 { a + b }

#[async_cache]
async fn unnamed(_: u64) -> u64 { 0 }

#[async_cache]
async fn mut_ref_arg(v: &mut Vec<u8>) -> usize { v.len() }

#[async_cache]
async fn borrowed_key<'a>(x: std::borrow::Cow<'a, str>) -> usize { x.len() }

#[async_cache]
async fn borrowed_output_elided(x: &str) -> &str { x }

#[async_cache]
struct NotAFn;

fn main() {}
