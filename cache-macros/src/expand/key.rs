//! The key: its type, the expression that builds it, and the trait checks of its parts and of the cached value.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::Ident;

use super::local;
use crate::model::{Conversion, Key, Model, ReceiverKind};

/// Trait checks of the key parts and the cached value, each spanned on the type the user wrote, so that a missing
/// `Hash`/`Eq`/`Clone`/`Send`/`Sync` is reported there, once, with what to do (`__private_v0_1::KeyArgument` & co.
/// carry the messages). Emitted once per cached fn, in the accessor that holds the cache; every other use of the
/// types goes through [`checked`], which asks nothing of them when they are wrong.
///
/// A cache shared through Redis (`redis = ".."`) checks the same types against traits that also ask for
/// `Serialize + DeserializeOwned` (`__private_v0_1::SharedKeyArgument` & co.), still one error per type.
pub(super) fn trait_checks(model: &Model) -> TokenStream {
    let runtime = model.runtime();
    let shared = model.settings.shared.is_some();
    let check = |plain: &str, in_redis: &str| {
        let name = if shared { in_redis } else { plain };
        Ident::new(name, proc_macro2::Span::call_site())
    };
    let key_argument = check("key_argument", "shared_key_argument");
    let borrowed = check("borrowed_key_argument", "shared_borrowed_key_argument");
    let key_type = check("key_type", "shared_key_type");
    let cached_value = check("cached_value", "shared_value");
    let keys: TokenStream = match &model.key {
        Key::Args(params) => params
            .iter()
            .map(|p| match &p.conversion {
                Conversion::Clone => {
                    let owned = &p.owned;
                    quote_spanned!(p.span=> #runtime::#key_argument::<#owned>();)
                }
                Conversion::ToOwned(elem) => {
                    quote_spanned!(p.span=> #runtime::#borrowed::<#elem>();)
                }
            })
            .collect(),
        Key::Convert { ty, .. } => {
            quote_spanned!(ty.span()=> #runtime::#key_type::<#ty>();)
        }
    };
    let value = &model.output.value;
    let value = quote_spanned!(model.output.span=> #runtime::#cached_value::<#value>(););
    quote!(#keys #value)
}

/// The name of the constant that says whether the key and value types have the cache's traits.
fn ok_name() -> Ident {
    local("__ASYNC_CACHE_TYPES_OK")
}

/// `const __ASYNC_CACHE_TYPES_OK: bool = ..;`: whether the key type is a key and the value type a cached value
/// (`__private_v0_1::Probe`), for [`checked`]. Every generated body that uses the cache starts with it.
pub(super) fn ok_const(model: &Model) -> TokenStream {
    let runtime = model.runtime();
    let key = key_type(model);
    let value = &model.output.value;
    let ok = ok_name();
    if model.settings.shared.is_some() {
        // Shared through Redis: the types need `Serialize + DeserializeOwned` too (`SHARED_*`).
        return quote! {
            const #ok: ::core::primitive::bool = {
                #[allow(unused_imports)]
                use #runtime::SharedProbeFallback as _;
                #runtime::Probe::<#key>::SHARED_KEY && #runtime::Probe::<#value>::SHARED_VALUE
            };
        };
    }
    quote! {
        const #ok: ::core::primitive::bool = {
            #[allow(unused_imports)]
            use #runtime::ProbeFallback as _;
            #runtime::Probe::<#key>::KEY && #runtime::Probe::<#value>::VALUE
        };
    }
}

/// `<Checked<OK> as SharedCached<_, _>>`: building a cache shared through Redis. Needs [`ok_const`] in scope.
pub(super) fn shared_checked(model: &Model) -> TokenStream {
    let runtime = model.runtime();
    let ok = ok_name();
    quote!(<#runtime::Checked<#ok> as #runtime::SharedCached<_, _>>)
}

/// `<Checked<OK> as Cached<_, _>>`: the cache operations (the key and value types are inferred from the cache
/// passed in), which ask nothing of wrong types (whose one error comes from [`trait_checks`]). Needs [`ok_const`]
/// in scope.
pub(super) fn checked(model: &Model) -> TokenStream {
    let runtime = model.runtime();
    let ok = ok_name();
    quote!(<#runtime::Checked<#ok> as #runtime::Cached<_, _>>)
}

/// The type of the accessor's `static`: the cache, or `()` for wrong types. Needs [`ok_const`] in scope.
pub(super) fn slot_type(model: &Model) -> TokenStream {
    let runtime = model.runtime();
    let key = key_type(model);
    let value = &model.output.value;
    let ok = ok_name();
    quote!(#runtime::OnceLock<<#runtime::Checked<#ok> as #runtime::Cached<#key, #value>>::Slot>)
}

/// The key: `(identity, owned args...)`, or `(identity, convert)`; a free fn has no identity, and its
/// `convert` key is not wrapped in a tuple.
pub(super) fn key_expr(model: &Model) -> TokenStream {
    let runtime = model.runtime();
    let identity = model.receiver.as_ref().map(|r| {
        let this = r.self_token;
        match r.kind {
            ReceiverKind::Ref | ReceiverKind::Arc => {
                quote!(#runtime::identity(&*#this))
            }
            ReceiverKind::RefArc => quote!(#runtime::identity(&**#this)),
        }
    });
    match &model.key {
        Key::Args(params) => {
            let ok = ok_name();
            let parts = params.iter().map(|p| {
                let ident = &p.ident;
                let owned = &p.owned;
                // Through `Checked`, so an argument that is not a key part gets only the check's error.
                match &p.conversion {
                    Conversion::Clone => quote! {
                        <#runtime::Checked<#ok> as #runtime::KeyPart<#owned, #owned>>::key_part(&#ident)
                    },
                    Conversion::ToOwned(elem) => quote! {
                        <#runtime::Checked<#ok> as #runtime::KeyPart<#elem, #owned>>::key_part(#ident)
                    },
                }
            });
            let identity = identity.iter();
            quote!((#(#identity,)* #(#parts,)*))
        }
        Key::Convert { ty, expr } => {
            let converted = local("__async_cache_converted");
            match identity {
                // The annotation puts a wrong key type on the user's `convert` expression.
                Some(identity) => quote!({
                    let #converted: #ty = #expr;
                    (#identity, #converted)
                }),
                None => quote!({
                    let #converted: #ty = #expr;
                    #converted
                }),
            }
        }
    }
}

/// The key type: `(u64, owned args...)` for a method, `(owned args...)` for a free fn; with `convert`, the `key`
/// type (after the `u64` for a method).
pub(super) fn key_type(model: &Model) -> TokenStream {
    let identity = model
        .receiver
        .iter()
        .map(|_| quote!(::core::primitive::u64));
    match &model.key {
        Key::Args(params) => {
            let parts = params.iter().map(|p| &p.owned);
            quote!((#(#identity,)* #(#parts,)*))
        }
        Key::Convert { ty, .. } => {
            if model.receiver.is_some() {
                quote!((#(#identity,)* #ty))
            } else {
                ty.to_token_stream()
            }
        }
    }
}
