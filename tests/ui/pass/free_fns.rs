//! Free fns in the forms users write: lifetimes, `mut` arguments, early `return`, inner attributes, `cfg`,
//! macro-generated fns, restricted visibilities and a re-exported runtime (`crate = "..."`).
#![deny(warnings)]

use cache_core::async_cache;

/// Named lifetimes are fine when they only appear in reference arguments.
#[async_cache]
async fn lifetimes<'a, 'b>(name: &'a str, tags: &'b [u8]) -> usize
where
    'a: 'b,
{
    name.len() + tags.len()
}

/// `'static` borrows are owned enough for a `static`.
#[async_cache]
async fn static_str(x: &'static str) -> &'static str {
    x
}

#[async_cache]
async fn mut_arg(mut x: u64) -> u64 {
    x += 1;
    x
}

/// An early `return` leaves no unreachable code behind.
#[async_cache]
async fn early(x: u64) -> Result<u64, String> {
    if x == 0 {
        return Err("zero".into());
    }
    return Ok(x);
}

#[async_cache]
async fn inner_attribute(x: u64) -> u64 {
    #![allow(unused_variables)]
    let unused = 1;
    x
}

#[cfg(all())]
#[async_cache]
async fn configured_in(x: u64) -> u64 {
    x
}

#[cfg(any())]
#[async_cache]
async fn configured_out(x: NoSuchType) -> NoSuchType {
    x
}

macro_rules! cached {
    ($name:ident: $arg:ty => $out:ty) => {
        #[async_cache]
        async fn $name(x: $arg) -> $out {
            x.into()
        }
    };
}

cached!(from_macro: u32 => u64);

/// `Option`/`Result` output with a user type; `&T` keyed as `T`.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key(u8);

#[async_cache]
async fn find(key: &Key) -> Option<Key> {
    Some(key.clone())
}

/// A `Result` alias of one parameter, named `Result`.
#[async_cache]
async fn alias(x: u8) -> std::io::Result<u8> {
    Ok(x)
}

mod outer {
    pub mod inner {
        use cache_core::async_cache;

        #[async_cache]
        pub(in crate::outer) async fn to_outer(x: u8) -> u8 {
            x
        }

        #[async_cache]
        pub(super) async fn to_super(x: u8) -> u8 {
            x
        }

        #[async_cache]
        pub(self) async fn to_self(x: u8) -> u8 {
            x
        }

        pub fn use_self() -> usize {
            to_self::cache().len()
        }
    }

    pub fn reach() -> usize {
        inner::to_outer::cache().len() + inner::to_super::cache().len() + inner::use_self()
    }
}

/// The runtime reached through another path.
mod runtime {
    pub use cache_core::*;
}

#[runtime::async_cache(crate = "crate::runtime", maxsize = 3)]
async fn through_reexport(x: u8) -> u8 {
    x
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(lifetimes("ab", &[1]).await, 3);
    assert_eq!(mut_arg(1).await, 2);
    assert_eq!(static_str("a").await, "a");
    assert!(early(0).await.is_err());
    assert_eq!(early(2).await, Ok(2));
    assert_eq!(inner_attribute(1).await, 1);
    assert_eq!(configured_in(1).await, 1);
    assert_eq!(from_macro(1).await, 1);
    assert_eq!(from_macro::cache().len(), 1);
    assert!(find(&Key(1)).await == Some(Key(1)));
    let _: &cache_core::AsyncCache<(Key,), Key> = find::cache();
    assert_eq!(alias(1).await.unwrap(), 1);
    assert_eq!(outer::reach(), 0);
    assert_eq!(through_reexport(1).await, 1);
    assert_eq!(through_reexport::cache().maxsize(), 3);
}
