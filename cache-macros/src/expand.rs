//! A validated [`Model`] to tokens. Nothing here can fail: the model was checked.
//!
//! A free fn `f` becomes the fn itself (same attributes, visibility and signature; its body now goes through the
//! cache) plus a module `f` (modules and fns live in different namespaces) holding `cache()`. A method `m`
//! becomes the method plus an associated fn `m_cache()`. Generated code names everything by absolute path
//! (`::core::...`, the runtime's path) and its own locals with the `__async_cache_` prefix.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::{AttrStyle, Attribute, Ident, ItemFn, Visibility};

use crate::args::{Args, PolicyKind};
use crate::model::{Conversion, Model, OutputKind, ReceiverKind};

/// The whole attribute: options and item in, expansion out. On any error the user's item comes back unchanged
/// next to the errors, so the rest of their crate still type-checks.
pub(crate) fn attribute(args: TokenStream, item: TokenStream) -> TokenStream {
    let func = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(func) => func,
        Err(e) => {
            let e = syn::Error::new(
                e.span(),
                format!("#[async_cache] applies to an `async fn` (free fn or method): {e}"),
            );
            return error(item, &e);
        }
    };
    let model = Args::parse(args).and_then(|args| Model::new(args, func));
    match model {
        Ok(model) => expand(&model),
        Err(e) => error(item, &e),
    }
}

fn error(item: TokenStream, e: &syn::Error) -> TokenStream {
    let errors = e.to_compile_error();
    quote!(#item #errors)
}

/// The cached fn and its cache accessor.
pub(crate) fn expand(model: &Model) -> TokenStream {
    let func = cached_fn(model);
    let accessor = if model.receiver.is_some() {
        method_accessor(model)
    } else {
        module(model)
    };
    quote!(#func #accessor)
}

/// The user's fn with its body routed through the cache.
fn cached_fn(model: &Model) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = &model.func;
    let outer = attrs.iter().filter(|a| matches!(a.style, AttrStyle::Outer));
    let inner = attrs
        .iter()
        .filter(|a| matches!(a.style, AttrStyle::Inner(_)));
    let krate = &model.krate;
    let key = key_expr(model);
    let cache = cache_expr(model);
    let ret = &model.output.ret;
    let helper = match model.output.kind {
        OutputKind::Plain => quote!(value),
        OutputKind::Result => quote!(result),
        OutputKind::Option => quote!(option),
    };
    // Mixed-site hygiene: the body (a call-site block) cannot see or shadow these locals, whatever its
    // arguments are called.
    let local = |name: &str| Ident::new(name, Span::mixed_site());
    let (key_var, cache_var, hit_var, ret_var) = (
        local("__async_cache_key"),
        local("__async_cache"),
        local("__async_cache_hit"),
        local("__async_cache_ret"),
    );
    let wrap_hit = match model.output.kind {
        OutputKind::Plain => quote!(#hit_var),
        OutputKind::Result => quote!(::core::result::Result::Ok(#hit_var)),
        OutputKind::Option => quote!(::core::option::Option::Some(#hit_var)),
    };
    quote! {
        #(#outer)*
        #vis #sig {
            #(#inner)*
            let #key_var = #key;
            let #cache_var = #cache;
            // A hit returns here, without building the loading future around the body.
            if let ::core::option::Option::Some(#hit_var) =
                #krate::__private::hit(#cache_var, &#key_var)
            {
                return #wrap_hit;
            }
            #krate::__private::#helper(#cache_var, #key_var, async move {
                let #ret_var: #ret = #block;
                #[allow(unreachable_code)]
                #ret_var
            })
            .await
        }
    }
}

/// `(identity, owned args...)`.
fn key_expr(model: &Model) -> TokenStream {
    let krate = &model.krate;
    let identity = model.receiver.iter().map(|r| {
        let this = r.self_token;
        match r.kind {
            ReceiverKind::Ref | ReceiverKind::Arc => {
                quote!(#krate::__private::identity(&*#this))
            }
            ReceiverKind::RefArc => quote!(#krate::__private::identity(&**#this)),
        }
    });
    let parts = model.key.iter().map(|p| {
        let ident = &p.ident;
        // Spanned on the argument's type, so a missing `Clone`/`ToOwned` is reported there.
        match &p.conversion {
            Conversion::Clone => quote_spanned!(p.span=> ::core::clone::Clone::clone(&#ident)),
            Conversion::ToOwned(elem) => {
                quote_spanned!(p.span=> <#elem as ::std::borrow::ToOwned>::to_owned(#ident))
            }
        }
    });
    quote!((#(#identity,)* #(#parts,)*))
}

/// The key type: `(u64, owned args...)` for a method, `(owned args...)` for a free fn.
fn key_type(model: &Model) -> TokenStream {
    let identity = model
        .receiver
        .iter()
        .map(|_| quote!(::core::primitive::u64));
    let parts = model.key.iter().map(|p| &p.owned);
    quote!((#(#identity,)* #(#parts,)*))
}

fn cache_type(model: &Model) -> TokenStream {
    let krate = &model.krate;
    let key = key_type(model);
    let value = &model.output.value;
    quote!(#krate::AsyncCache<#key, #value>)
}

/// How the fn reaches its cache.
fn cache_expr(model: &Model) -> TokenStream {
    let name = &model.func.sig.ident;
    if model.receiver.is_some() {
        let accessor = accessor_name(name);
        quote!(Self::#accessor())
    } else {
        quote!(#name::cache())
    }
}

fn accessor_name(name: &Ident) -> Ident {
    format_ident!("{}_cache", name, span = name.span())
}

/// The body of an accessor: a function-local `static`, built on first use.
fn accessor_body(model: &Model) -> TokenStream {
    let krate = &model.krate;
    let ty = cache_type(model);
    let maxsize = model.settings.maxsize;
    let policy = match model.settings.policy {
        PolicyKind::Lru => quote!(#krate::Policy::Lru),
        PolicyKind::Lfu => quote!(#krate::Policy::Lfu),
        PolicyKind::TinyLfu => quote!(#krate::Policy::TinyLfu),
    };
    let ttl = match model.settings.ttl_nanos {
        Some(nanos) => quote!(::core::option::Option::Some(#nanos)),
        None => quote!(::core::option::Option::None),
    };
    let build = if model.receiver.is_some() {
        // Methods: the key starts with the receiver's identity, so dropped instances' entries can be swept.
        let key = key_type(model);
        quote! {
            #krate::__private::build_method(#maxsize, #policy, #ttl, |__async_cache_key: &#key| __async_cache_key.0)
        }
    } else {
        quote!(#krate::__private::build(#maxsize, #policy, #ttl))
    };
    quote! {
        static __ASYNC_CACHE: #krate::__private::OnceLock<#ty> = #krate::__private::OnceLock::new();
        __ASYNC_CACHE.get_or_init(|| #build)
    }
}

/// `#[cfg]`s of the fn, repeated on what is generated next to it.
fn cfgs(func: &ItemFn) -> impl Iterator<Item = &Attribute> {
    func.attrs
        .iter()
        .filter(|a| matches!(a.style, AttrStyle::Outer) && a.path().is_ident("cfg"))
}

/// `#[doc]` attributes, one per line, as `///` comments would make.
fn doc(lines: &[String]) -> TokenStream {
    let lines = lines.iter().map(|line| {
        if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        }
    });
    quote!(#(#[doc = #lines])*)
}

/// A doc line naming the settings, e.g. "at most 128 entries, LRU, no expiry".
fn settings_doc(model: &Model) -> String {
    let s = model.settings;
    let policy = match s.policy {
        PolicyKind::Lru => "LRU",
        PolicyKind::Lfu => "LFU",
        PolicyKind::TinyLfu => "TinyLFU",
    };
    let ttl = s.ttl_nanos.map_or_else(
        || "no expiry".to_owned(),
        #[allow(clippy::cast_precision_loss)]
        |n| format!("TTL {}s", n as f64 / 1e9),
    );
    let stored = match model.output.kind {
        OutputKind::Plain => "every result is stored",
        OutputKind::Result => "only `Ok` values are stored",
        OutputKind::Option => "only `Some` values are stored",
    };
    format!("At most {} entries, {policy}, {ttl}; {stored}.", s.maxsize)
}

/// `mod f { pub(super) fn cache() -> &'static AsyncCache<K, V> }` next to a free fn `f`.
fn module(model: &Model) -> TokenStream {
    let func = &model.func;
    let name = &func.sig.ident;
    let vis = &func.vis;
    let inner_vis = nested_vis(vis);
    let ty = cache_type(model);
    let body = accessor_body(model);
    let cfgs = cfgs(func);
    let mod_doc = doc(&[format!(
        "The cache behind the `#[async_cache]` fn `{name}`."
    )]);
    let fn_doc = doc(&[
        format!(
            "The cache of `{name}`: keyed by its arguments (owned, in order), holding what it returned."
        ),
        settings_doc(model),
        String::new(),
        "Use it to read metrics, clear, or prime (`insert`), peek at and remove entries.".to_owned(),
    ]);
    quote! {
        #(#cfgs)*
        #mod_doc
        #vis mod #name {
            // The user's types in the signature resolve as they do next to the fn.
            #[allow(unused_imports, clippy::wildcard_imports)]
            use super::*;

            #fn_doc
            #[must_use]
            #inner_vis fn cache() -> &'static #ty {
                #body
            }
        }
    }
}

/// `pub fn m_cache() -> &'static AsyncCache<(u64, K...), V>` next to a method `m`.
fn method_accessor(model: &Model) -> TokenStream {
    let func = &model.func;
    let name = &func.sig.ident;
    let accessor = accessor_name(name);
    let vis = &func.vis;
    let ty = cache_type(model);
    let body = accessor_body(model);
    let cfgs = cfgs(func);
    let doc = doc(&[
        format!(
            "The cache of [`Self::{name}`]: keyed by the instance's identity and the arguments (owned, in \
             order), holding what it returned."
        ),
        settings_doc(model),
        String::new(),
        "Shared by all instances; use it to read metrics, clear, or peek at and remove entries.".to_owned(),
    ]);
    quote! {
        #(#cfgs)*
        #doc
        #[must_use]
        #vis fn #accessor() -> &'static #ty {
            #body
        }
    }
}

/// The visibility, inside the generated module, that reaches as far as `vis` reaches outside it.
fn nested_vis(vis: &Visibility) -> TokenStream {
    let span = Span::call_site();
    match vis {
        Visibility::Public(_) => vis.to_token_stream(),
        Visibility::Inherited => quote_spanned!(span=> pub(super)),
        Visibility::Restricted(r) => {
            let path = &r.path;
            let first = path.segments.first().map(|s| s.ident.to_string());
            let rest = path.segments.iter().skip(1);
            match first.as_deref() {
                // `pub(self)`, `pub(in self::a)`: one level further up from inside.
                Some("self") => quote!(pub(in super #(:: #rest)*)),
                // `pub(super)`, `pub(in super::a)`: add a level.
                Some("super") => quote!(pub(in super::#path)),
                // `pub(crate)`, `pub(in crate::a)`: absolute already.
                _ => vis.to_token_stream(),
            }
        }
    }
}

#[cfg(test)]
mod tests;
