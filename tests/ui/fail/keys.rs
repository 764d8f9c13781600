use cache_core::async_cache;

#[async_cache(key = String)]
async fn key_without_convert(name: &str) -> usize { name.len() }

#[async_cache(convert = name.to_lowercase())]
async fn convert_without_key(name: &str) -> usize { name.len() }

#[async_cache(key = u64, convert = id, skip_args = 1)]
async fn skip_args_with_convert(db: &str, id: u64) -> usize { db.len() + id as usize }

#[async_cache(key = Vec<T>, convert = vec![x.clone()])]
async fn key_mentions_generic<T: Clone>(x: T) -> usize { 0 }

#[async_cache(key = String, convert = x.to_string())]
async fn output_mentions_generic<T: ToString + Clone>(x: T) -> Option<T> { Some(x) }

#[async_cache(key = "not a type!", convert = x)]
async fn key_string_not_a_type(x: u64) -> u64 { x }

#[async_cache(result = true, option = true)]
async fn both_kinds(x: u64) -> Option<u64> { Some(x) }

#[async_cache(result = yes)]
async fn flag_not_bool(x: u64) -> Result<u64, ()> { Ok(x) }

#[async_cache(key = &str, convert = name)]
async fn borrowed_key(name: &str) -> usize { name.len() }

fn main() {}
