//! The fns generated in place of the user's: the cached fn itself, the uncached body, the refresh.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::{AttrStyle, Attribute, FnArg, GenericParam, Ident, ItemFn, Pat, Signature};

use super::accessor::cache_expr;
use super::key::{checked, key_expr, ok_const};
use super::{cfgs, doc, local, Names};
use crate::model::{Model, OutputKind, ReceiverKind};

/// The user's signature with `mut` dropped from argument bindings (the cached fn only passes them on) and `_`
/// arguments named, so it can pass every argument to the uncached fn.
fn passing_signature(sig: &Signature) -> Signature {
    let mut sig = sig.clone();
    for (i, arg) in sig.inputs.iter_mut().enumerate() {
        if let FnArg::Typed(typed) = arg {
            let ident = arg_name(i, &typed.pat);
            if let Pat::Ident(p) = &mut *typed.pat {
                p.mutability = None;
            } else {
                *typed.pat = Pat::Ident(syn::PatIdent {
                    attrs: Vec::new(),
                    by_ref: None,
                    mutability: None,
                    ident,
                    subpat: None,
                });
            }
        }
    }
    sig
}

/// The name an argument is passed on by: its own, or a generated one for `_`.
fn arg_name(index: usize, pat: &Pat) -> Ident {
    match pat {
        Pat::Ident(p) => p.ident.clone(),
        _ => local(&format!("__async_cache_arg{index}")),
    }
}

/// The call of the uncached fn with the cached fn's arguments.
fn call_uncached(model: &Model, names: &Names) -> TokenStream {
    let sig = &model.func.sig;
    let args = sig.inputs.iter().enumerate().map(|(i, arg)| match arg {
        FnArg::Receiver(r) => r.self_token.to_token_stream(),
        FnArg::Typed(typed) => arg_name(i, &typed.pat).to_token_stream(),
    });
    let generics = turbofish(sig);
    let uncached = &names.uncached;
    if model.is_associated() {
        quote!(Self::#uncached #generics (#(#args),*))
    } else {
        quote!(#uncached #generics (#(#args),*))
    }
}

/// `::<T, N>` for a generic fn's type and const parameters (lifetimes are inferred).
fn turbofish(sig: &Signature) -> TokenStream {
    let params: Vec<_> = sig
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            GenericParam::Type(t) => Some(t.ident.to_token_stream()),
            GenericParam::Const(c) => Some(c.ident.to_token_stream()),
            GenericParam::Lifetime(_) => None,
        })
        .collect();
    if params.is_empty() || sig.inputs.iter().any(has_impl_trait) {
        TokenStream::new()
    } else {
        quote!(::<#(#params),*>)
    }
}

fn has_impl_trait(arg: &FnArg) -> bool {
    match arg {
        FnArg::Typed(t) => {
            t.ty.to_token_stream()
                .into_iter()
                .any(|tt| tt.to_string() == "impl")
        }
        FnArg::Receiver(_) => false,
    }
}

/// Lint attributes of the fn, repeated on the fn holding its body.
fn lint_attrs(func: &ItemFn) -> impl Iterator<Item = &Attribute> {
    func.attrs.iter().filter(|a| {
        matches!(a.style, AttrStyle::Outer)
            && ["allow", "warn", "deny", "forbid", "expect"]
                .iter()
                .any(|lint| a.path().is_ident(lint))
    })
}

/// The user's fn: the key is looked up, and a miss runs the body through the cache.
pub(super) fn cached_fn(model: &Model, names: &Names) -> TokenStream {
    let ItemFn { attrs, vis, .. } = &model.func;
    let sig = passing_signature(&model.func.sig);
    // Lint attributes apply to the body, which moves to the uncached fn.
    let outer = attrs
        .iter()
        .filter(|a| matches!(a.style, AttrStyle::Outer) && !a.path().is_ident("expect"));
    let key = key_expr(model);
    let cache = cache_expr(model, names);
    let helper = match model.output.kind {
        OutputKind::Plain => quote!(value),
        OutputKind::Result => quote!(result),
        OutputKind::Option => quote!(option),
    };
    let (key_var, cache_var, hit_var) = (
        local("__async_cache_key"),
        local("__async_cache"),
        local("__async_cache_hit"),
    );
    let wrap_hit = match model.output.kind {
        OutputKind::Plain => quote!(#hit_var),
        OutputKind::Result => quote!(::core::result::Result::Ok(#hit_var)),
        OutputKind::Option => quote!(::core::option::Option::Some(#hit_var)),
    };
    let call = call_uncached(model, names);
    let ok = ok_const(model);
    let checked = checked(model);
    let hit = if model.settings.refresh_after.is_some() {
        let helper = match model.output.kind {
            OutputKind::Plain => quote!(hit_refreshing_value),
            OutputKind::Result => quote!(hit_refreshing_result),
            OutputKind::Option => quote!(hit_refreshing_option),
        };
        let reload = reload_future(model, names);
        quote!(#checked::#helper(#cache_var, &#key_var, || #reload))
    } else {
        quote!(#checked::hit(#cache_var, &#key_var))
    };
    quote! {
        #(#outer)*
        #vis #sig {
            #ok
            let #key_var = #key;
            let #cache_var = #cache;
            // A hit returns here, without building the loading future around the body.
            if let ::core::option::Option::Some(#hit_var) = #hit {
                return #wrap_hit;
            }
            #checked::#helper(#cache_var, #key_var, #call).await
        }
    }
}

/// `refresh_after`: the body as a `Send + 'static` future for a background reload. It owns a copy of every
/// argument (`&T` as `T::Owned`, lent back to the body as `&T`; others cloned) and of the receiver's `Arc`.
fn reload_future(model: &Model, names: &Names) -> TokenStream {
    let runtime = model.runtime();
    let sig = &model.func.sig;
    let this = local("__async_cache_this");
    let mut owned = Vec::new();
    let mut lent = Vec::new();
    let mut args = Vec::new();
    for (i, arg) in sig.inputs.iter().enumerate() {
        match arg {
            FnArg::Receiver(r) => {
                let self_token = r.self_token;
                let kind = model.receiver.as_ref().map(|r| r.kind);
                owned.push(quote!(let #this = ::std::sync::Arc::clone(&#self_token);));
                args.push(if kind == Some(ReceiverKind::RefArc) {
                    quote!(&#this)
                } else {
                    quote!(#this)
                });
            }
            FnArg::Typed(typed) => {
                let name = arg_name(i, &typed.pat);
                let copy = local(&format!("__async_cache_owned{i}"));
                if matches!(&*typed.ty, syn::Type::Reference(_)) {
                    owned.push(quote!(let #copy = ::std::borrow::ToOwned::to_owned(#name);));
                    lent.push(quote!(let #name = #runtime::borrowed(&#copy);));
                } else {
                    owned.push(quote!(let #copy = ::core::clone::Clone::clone(&#name);));
                    lent.push(quote!(let #name = #copy;));
                }
                args.push(name.to_token_stream());
            }
        }
    }
    let uncached = &names.uncached;
    let call = if model.is_associated() {
        quote!(Self::#uncached(#(#args),*))
    } else {
        quote!(#uncached(#(#args),*))
    };
    quote!({
        #(#owned)*
        async move {
            #(#lent)*
            #call.await
        }
    })
}

/// The user's body, as written, in a fn of its own: `f::uncached(..)` / `value.m_uncached(..)`.
pub(super) fn uncached_fn(model: &Model, names: &Names) -> TokenStream {
    let func = &model.func;
    let name = &func.sig.ident;
    let mut sig = func.sig.clone();
    sig.ident = names.uncached.clone();
    let vis = &func.vis;
    let stmts = &func.block.stmts;
    let inner = func
        .attrs
        .iter()
        .filter(|a| matches!(a.style, AttrStyle::Inner(_)));
    let lints = lint_attrs(func);
    let cfgs = cfgs(func);
    let (doc, hidden) = if model.is_associated() {
        (
            doc(&[format!(
                "Runs [`Self::{name}`] without its cache: no lookup, nothing stored."
            )]),
            TokenStream::new(),
        )
    } else {
        (
            doc(&[format!(
                "Runs `{name}` without its cache: no lookup, nothing stored."
            )]),
            quote!(#[doc(hidden)]),
        )
    };
    quote! {
        #(#cfgs)*
        #doc
        #hidden
        #(#lints)*
        #vis #sig {
            #(#inner)*
            #(#stmts)*
        }
    }
}

/// Runs the body and stores what it returned (only `Ok` / `Some` for those kinds): `f::refresh(..)`.
pub(super) fn refresh_fn(model: &Model, names: &Names) -> TokenStream {
    let func = &model.func;
    let name = &func.sig.ident;
    let mut sig = passing_signature(&func.sig);
    sig.ident = names.refresh.clone();
    let vis = &func.vis;
    let key = key_expr(model);
    let cache = cache_expr(model, names);
    let call = call_uncached(model, names);
    let cfgs = cfgs(func);
    let (key_var, ret_var) = (local("__async_cache_key"), local("__async_cache_ret"));
    let store = match model.output.kind {
        OutputKind::Plain => quote!(store_value),
        OutputKind::Result => quote!(store_result),
        OutputKind::Option => quote!(store_option),
    };
    let stored = match model.output.kind {
        OutputKind::Plain => "stores what it returns",
        OutputKind::Result => {
            "stores an `Ok` value (an error is returned and the entry left as it was)"
        }
        OutputKind::Option => {
            "stores a `Some` value (`None` is returned and the entry left as it was)"
        }
    };
    let (doc, hidden) = if model.is_associated() {
        (
            doc(&[
                format!("Runs [`Self::{name}`]'s body without looking in its cache, {stored}."),
                "Use it to refresh one entry.".to_owned(),
            ]),
            TokenStream::new(),
        )
    } else {
        (
            doc(&[
                format!("Runs `{name}`'s body without looking in its cache, {stored}."),
                "Use it to refresh one entry.".to_owned(),
            ]),
            quote!(#[doc(hidden)]),
        )
    };
    let ok = ok_const(model);
    let checked = checked(model);
    quote! {
        #(#cfgs)*
        #doc
        #hidden
        #[allow(dead_code)]
        #vis #sig {
            #ok
            let #key_var = #key;
            let #ret_var = #call.await;
            #checked::#store(#cache, #key_var, &#ret_var);
            #ret_var
        }
    }
}
