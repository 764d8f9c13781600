//! The key: its type, the expression that builds it, and the trait checks of its parts and of the cached value.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

use super::{local, respan};
use crate::model::{Conversion, Key, Model, ReceiverKind};

/// Trait checks of the key parts and the cached value, each spanned on the type the user wrote, so that a missing
/// `Hash`/`Eq`/`Clone` is reported there, once, with what to do (`__private::KeyArgument` & co. carry the
/// messages). Emitted in every generated body that uses the cache.
pub(super) fn trait_checks(model: &Model) -> TokenStream {
    let krate = &model.krate;
    let keys: TokenStream = match &model.key {
        Key::Args(params) => params
            .iter()
            .map(|p| match &p.conversion {
                Conversion::Clone => {
                    let owned = &p.owned;
                    quote_spanned!(p.span=> #krate::__private::key_argument::<#owned>();)
                }
                Conversion::ToOwned(elem) => {
                    quote_spanned!(p.span=> #krate::__private::borrowed_key_argument::<#elem>();)
                }
            })
            .collect(),
        Key::Convert { ty, .. } => {
            quote_spanned!(ty.span()=> #krate::__private::key_type::<#ty>();)
        }
    };
    let value = &model.output.value;
    let value = quote_spanned!(model.output.span=> #krate::__private::cached_value::<#value>(););
    quote!(#keys #value)
}

/// Where the generated calls that need the key's and value's traits are spanned: on the one key argument (or the
/// `key` type) when there is one, so rustc folds their errors into the check's error on that type.
pub(super) fn primary_span(model: &Model) -> Span {
    match &model.key {
        Key::Args(params) if params.len() == 1 => params[0].span,
        Key::Convert { ty, .. } => ty.span(),
        Key::Args(_) => Span::call_site(),
    }
}

/// The key: `(identity, owned args...)`, or `(identity, convert)`; a free fn has no identity, and its
/// `convert` key is not wrapped in a tuple.
pub(super) fn key_expr(model: &Model) -> TokenStream {
    let krate = &model.krate;
    let identity = model.receiver.as_ref().map(|r| {
        let this = r.self_token;
        match r.kind {
            ReceiverKind::Ref | ReceiverKind::Arc => {
                quote!(#krate::__private::identity(&*#this))
            }
            ReceiverKind::RefArc => quote!(#krate::__private::identity(&**#this)),
        }
    });
    match &model.key {
        Key::Args(params) => {
            let parts = params.iter().map(|p| {
                let ident = &p.ident;
                // Spanned on the argument's type, so a missing `Clone`/`ToOwned` is reported there.
                match &p.conversion {
                    Conversion::Clone => {
                        let clone = respan(quote!(::core::clone::Clone::clone), p.span);
                        quote!(#clone(&#ident))
                    }
                    Conversion::ToOwned(elem) => {
                        let to_owned =
                            respan(quote!(<#elem as ::std::borrow::ToOwned>::to_owned), p.span);
                        quote!(#to_owned(#ident))
                    }
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
