//! Expansion snapshots: the expander's output, pretty-printed, against files in `cache-macros/snapshots/`.
//! After a deliberate change, refresh them with `UPDATE_SNAPSHOTS=1 cargo test -p cache-macros` and review the
//! diff.

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

use super::attribute;

/// Expands and pretty-prints; `wrap` puts methods into an impl so the output is a file.
fn expand(args: TokenStream, item: TokenStream, wrap: bool) -> String {
    let out = attribute(args, item);
    let out = if wrap {
        quote!(impl UserService { #out })
    } else {
        out
    };
    let file: syn::File = syn::parse2(out).expect("the expansion parses as items");
    prettyplease::unparse(&file)
}

fn check(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots")
        .join(format!("{name}.expanded.rs"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).expect("write the snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "expansion of `{name}` differs from {}; if the change is deliberate, rerun with UPDATE_SNAPSHOTS=1 and \
         review the diff.\n--- actual ---\n{actual}",
        path.display()
    );
}

#[test]
fn free_fn_result() {
    let out = expand(
        quote!(maxsize = 1000, policy = "lfu", ttl = 60, skip_args = 1),
        quote! {
            /// Looks a user up.
            pub async fn fetch_user(db: &Db, name: &str, id: u64) -> Result<User, DbError> {
                db.query(name, id).await
            }
        },
        false,
    );
    check("free_fn_result", &out);
}

#[test]
fn method_option() {
    let out = expand(
        quote!(ttl = 0.5),
        quote! {
            pub(crate) async fn user(&self, id: &UserId) -> Option<User> {
                self.db.find(id).await
            }
        },
        true,
    );
    check("method_option", &out);
}

#[test]
fn arc_method_plain_private() {
    let out = expand(
        quote!(crate = "my::cache"),
        quote! {
            async fn names(self: Arc<Self>) -> Vec<String> {
                self.all().await
            }
        },
        true,
    );
    check("arc_method_plain", &out);
}

#[test]
fn nested_visibility() {
    let out = expand(
        quote!(),
        quote! {
            pub(super) async fn ping() {}
        },
        false,
    );
    check("nested_visibility", &out);
}

#[test]
fn error_keeps_the_item() {
    let out = attribute(
        quote!(maxsize = 0),
        quote!(
            async fn f(x: u64) -> u64 {
                x
            }
        ),
    )
    .to_string();
    assert!(out.starts_with("async fn f"), "{out}");
    assert!(out.contains("compile_error"), "{out}");
}

#[test]
fn trait_impl() {
    let out = crate::impls::attribute(
        quote!(),
        quote! {
            impl<T: Send> Repo for PgRepo<T> {
                #[async_cache(key = String, convert = name.to_lowercase())]
                async fn find(&self, name: &str) -> Option<Row> {
                    self.db.find(name).await
                }

                fn other(&self) {}
            }
        },
    );
    let file: syn::File = syn::parse2(out).expect("the expansion parses as items");
    check("trait_impl", &prettyplease::unparse(&file));
}

#[test]
fn impl_without_cached_methods_is_refused() {
    let out = crate::impls::attribute(quote!(), quote!(impl Repo for PgRepo {})).to_string();
    assert!(out.contains("compile_error"), "{out}");
    let out = crate::impls::attribute(
        quote!(ttl = 1),
        quote!(impl PgRepo { #[async_cache] async fn f() {} }),
    )
    .to_string();
    assert!(out.contains("takes no options"), "{out}");
}

#[test]
fn free_fn_refreshing() {
    let out = expand(
        quote!(ttl = 60, refresh_after = 30, skip_args = 1),
        quote! {
            pub async fn rate(client: &Client, currency: &str, day: u32) -> Result<Rate, Error> {
                client.rate(currency, day).await
            }
        },
        false,
    );
    check("free_fn_refreshing", &out);
}

#[test]
fn arc_method_refreshing() {
    let out = expand(
        quote!(refresh_after = REFRESH),
        quote! {
            async fn names(self: &Arc<Self>, prefix: String) -> Option<Vec<String>> {
                self.load(prefix).await
            }
        },
        true,
    );
    check("arc_method_refreshing", &out);
}

#[test]
fn refresh_after_on_a_ref_self_method_is_refused() {
    let out = attribute(
        quote!(refresh_after = 30),
        quote!(
            async fn user(&self, id: u64) -> u64 {
                id
            }
        ),
    )
    .to_string();
    assert!(
        out.contains("`refresh_after` on a method needs `self: Arc<Self>`"),
        "{out}"
    );
}
