//! `#[async_cache]` on an impl: caches the methods marked `#[async_cache(..)]` inside it, in trait impls too,
//! and associated fns without `self`. The attribute on the impl sees the whole impl, so it can put what a method
//! attribute cannot: the cache in a fn beside the impl (`Type__method_cache()`), and for a trait impl the
//! companions (`method_cache()`, `method_uncached(..)`, `method_refresh(..)`) in an inherent impl beside it.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::{Attribute, ImplItem, ItemFn, ItemImpl, Meta, Type, TypePath};

use crate::args::Args;
use crate::errors::Errors;
use crate::expand::{error, expand, Expansion};
use crate::model::{ImplContext, Model};

/// `#[async_cache]` on `item`, an impl.
pub(crate) fn attribute(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut imp = match syn::parse2::<ItemImpl>(item.clone()) {
        Ok(imp) => imp,
        Err(e) => return error(item, &e),
    };
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors.push(syn::Error::new_spanned(
                &args,
                "on an impl, #[async_cache] takes no options: put them on the methods it caches, as in \
                 `#[async_cache(ttl = 60)] async fn find(..)`",
            ),
        );
    }
    let Some(type_name) = type_name(&imp.self_ty) else {
        let e = syn::Error::new_spanned(
            &imp.self_ty,
            "#[async_cache] on an impl needs a named self type (`impl Repo for PgRepo`), to name the caches \
             beside the impl after it",
        );
        // The methods stay as written, without the attribute (which would take them for free fns).
        for item in &mut imp.items {
            if let ImplItem::Fn(method) = item {
                method.attrs.retain(|a| !is_async_cache(a));
            }
        }
        return error(imp.to_token_stream(), &e);
    };
    let context = ImplContext {
        generics: imp.generics.clone(),
        self_ty: (*imp.self_ty).clone(),
        type_name,
        trait_path: imp.trait_.as_ref().map(|(_, path, _)| path.clone()),
    };
    let mut beside = TokenStream::new();
    let mut cached = 0;
    for item in &mut imp.items {
        let ImplItem::Fn(method) = item else { continue };
        let Some(at) = method.attrs.iter().position(is_async_cache) else {
            continue;
        };
        cached += 1;
        let attr = method.attrs.remove(at);
        let func = ItemFn {
            attrs: method.attrs.clone(),
            vis: method.vis.clone(),
            sig: method.sig.clone(),
            block: Box::new(method.block.clone()),
        };
        let model = options(&attr)
            .and_then(Args::parse)
            .and_then(|args| Model::new(args, func, Some(context.clone())));
        match model {
            Ok(model) => {
                let Expansion {
                    items,
                    beside: more,
                } = expand(&model);
                *item = ImplItem::Verbatim(items);
                beside.extend(more);
            }
            // The method stays as written, without the attribute.
            Err(e) => errors.push(e),
        }
    }
    if cached == 0 {
        errors.push(syn::Error::new(
                imp.impl_token.span,
                "#[async_cache] on an impl caches the methods marked `#[async_cache]` (with their options) inside \
                 it, and none is: mark the methods to cache",
            ),
        );
    }
    let errors = errors.to_compile_errors();
    quote!(#imp #beside #errors)
}

/// `#[async_cache]`, `#[async_cache(..)]`, `#[cache_core::async_cache(..)]`.
fn is_async_cache(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "async_cache")
}

/// The tokens inside `#[async_cache(..)]`.
fn options(attr: &Attribute) -> syn::Result<TokenStream> {
    match &attr.meta {
        Meta::Path(_) => Ok(TokenStream::new()),
        Meta::List(list) => Ok(list.tokens.clone()),
        Meta::NameValue(nv) => Err(syn::Error::new_spanned(
            nv.to_token_stream(),
            "write the options in parentheses: `#[async_cache(maxsize = 100)]`",
        )),
    }
}

/// `PgRepo` of `PgRepo`, `db::PgRepo<T>`.
fn type_name(ty: &Type) -> Option<syn::Ident> {
    match ty {
        Type::Path(TypePath { qself: None, path }) => path.segments.last().map(|s| s.ident.clone()),
        Type::Group(g) => type_name(&g.elem),
        _ => None,
    }
}
