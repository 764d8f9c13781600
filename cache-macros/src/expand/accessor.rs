//! The accessors: `f::cache()` / `Type::m_cache()` / `Type__m_cache()`, the `static` they hold, its settings and
//! its docs.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::Ident;

use super::key::{checked, key_type, ok_const, shared_checked, slot_type, trait_checks};
use super::{cfgs, doc, local, Names};
use crate::args::{Amount, PolicyKind};
use crate::model::{ImplContext, Key, Model, OutputKind, Place, Shared};

fn cache_type(model: &Model) -> TokenStream {
    let krate = &model.krate;
    let key = key_type(model);
    let value = &model.output.value;
    quote!(#krate::AsyncCache<#key, #value>)
}

/// How the generated fns reach the cache.
pub(super) fn cache_expr(model: &Model, names: &Names) -> TokenStream {
    let accessor = &names.cache;
    if model.is_associated() {
        quote!(Self::#accessor())
    } else {
        quote!(#accessor())
    }
}

/// The settings as arguments of `__private_v0_1::build`: literals as checked constants; constant expressions
/// evaluated in `const` blocks (a `maxsize` out of range fails to compile, with the fn's name in the message; a
/// `ttl` is checked when the cache is built).
fn settings_args(model: &Model) -> TokenStream {
    let krate = &model.krate;
    let runtime = model.runtime();
    let name = model.func.sig.ident.to_string();
    let maxsize = match &model.settings.maxsize.value {
        Amount::Literal(n) => quote!(#n),
        Amount::Const(expr) => {
            let span = model.settings.maxsize.span;
            let message = format!(
                "#[async_cache] on `{name}`: `maxsize` must be at least 1 and at most {}",
                u32::MAX - 1
            );
            let max = u32::MAX as usize - 1;
            quote_spanned! {span=>
                const {
                    let maxsize: ::core::primitive::usize = #expr;
                    ::core::assert!(maxsize >= 1 && maxsize <= #max, #message);
                    maxsize
                }
            }
        }
    };
    let policy = match model.settings.policy {
        PolicyKind::Lru => quote!(#krate::Policy::Lru),
        PolicyKind::Lfu => quote!(#krate::Policy::Lfu),
        PolicyKind::TinyLfu => quote!(#krate::Policy::TinyLfu),
    };
    let ttl = match &model.settings.ttl {
        None => quote!(::core::option::Option::None),
        Some(ttl) => match &ttl.value {
            Amount::Literal(nanos) => quote!(::core::option::Option::Some(#nanos)),
            Amount::Const(expr) => {
                let span = ttl.span;
                quote_spanned!(span=> #runtime::ttl_nanos(const { #expr }, #name))
            }
        },
    };
    let refresh = match &model.settings.refresh_after {
        None => quote!(::core::option::Option::None),
        Some(refresh) => match &refresh.value {
            Amount::Literal(nanos) => quote!(::core::option::Option::Some(#nanos)),
            Amount::Const(expr) => {
                let span = refresh.span;
                quote_spanned! {span=>
                    ::core::option::Option::Some(#runtime::refresh_nanos(const { #expr }, #name))
                }
            }
        },
    };
    quote!(#maxsize, #policy, #ttl, #refresh)
}

/// The body of an accessor: the trait checks (the one place that reports wrong key and value types) and a
/// function-local `static`, built on first use.
pub(super) fn accessor_body(model: &Model) -> TokenStream {
    let runtime = model.runtime();
    let settings = settings_args(model);
    let checks = trait_checks(model);
    let ok = ok_const(model);
    let checked = checked(model);
    let slot = slot_type(model);
    let build = if let Some(shared) = &model.settings.shared {
        shared_build(model, shared, &settings)
    } else if model.receiver.is_some() {
        // Methods: the key starts with the receiver's identity, so dropped instances' entries can be swept.
        let key = key_type(model);
        quote! {
            #checked::method_cache(
                &__ASYNC_CACHE,
                || (#settings),
                |__async_cache_key: &#key| __async_cache_key.0,
            )
        }
    } else {
        quote!(#checked::cache(&__ASYNC_CACHE, || (#settings)))
    };
    quote! {
        #checks
        #ok
        static __ASYNC_CACHE: #slot = #runtime::OnceLock::new();
        #build
    }
}

/// The cache's name in the tier, as a `&'static str` expression: `name = ".."`, or the fn's path,
/// `concat!(module_path!(), "::", [Type, "::",] fn)` (the runtime writes `::` as `.`).
fn shared_name(model: &Model, shared: &Shared) -> TokenStream {
    if let Some(name) = &shared.name {
        return quote!(#name);
    }
    let func = model.func.sig.ident.to_string();
    match &model.place {
        Place::Impl(context) => {
            let ty = context.type_name.to_string();
            quote!(::core::concat!(::core::module_path!(), "::", #ty, "::", #func))
        }
        Place::Free | Place::Method => quote!(::core::concat!(::core::module_path!(), "::", #func)),
    }
}

/// The build of a cache shared through Redis: a compile error without `cache-core`'s feature `redis`
/// (`__private_v0_1::redis_feature`), the tier expression in a fn (checked to yield a `RedisTier`, called once,
/// when the cache is built), the name (a path-made one checked at compile time), then `shared_cache`.
fn shared_build(model: &Model, shared: &Shared, settings: &TokenStream) -> TokenStream {
    let runtime = model.runtime();
    let checked = shared_checked(model);
    let span = shared.tier.span;
    let expr = &shared.tier.value;
    let tier = local("__async_cache_tier");
    let name = local("__ASYNC_CACHE_NAME");
    let path = shared_name(model, shared);
    let check_name = if shared.name.is_none() {
        let message = format!(
            "#[async_cache] on `{}`: with `redis`, the cache is named by its path (`module_path!()` and the fn, \
             `::` written `.`), which must be 1 to 64 ASCII letters, digits, `_`, `-` or `.`: give it a name with \
             `name = \"...\"`",
            model.func.sig.ident
        );
        quote! {
            const _: () = ::core::assert!(#runtime::shared_name_ok(#name), #message);
        }
    } else {
        TokenStream::new()
    };
    // Spanned on the user's expression: the missing feature and a wrong type are reported there.
    let feature = respan(
        quote!(#runtime::redis_feature::<#runtime::RedisEnabled>();),
        span,
    );
    let value = quote_spanned!(span=> #runtime::tier_value(#expr));
    quote! {
        #feature
        fn #tier() -> #runtime::SharedTier {
            #value
        }
        const #name: &::core::primitive::str = #path;
        #check_name
        #checked::shared_cache(&__ASYNC_CACHE, || (#settings), #name, #tier)
    }
}

/// `tokens`, every one (in groups too) given `span`: an error about the whole path is then reported there.
fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = proc_macro2::TokenTree::Group(inner);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

/// What the cache doc says: the key, the settings, what to use it for.
fn accessor_doc(model: &Model) -> Vec<String> {
    let name = &model.func.sig.ident;
    let (what, identity, shared) = if model.is_associated() {
        (
            format!("[`Self::{name}`]"),
            if model.receiver.is_some() {
                "the instance's identity and "
            } else {
                ""
            },
            "Shared by all instances; use it to read metrics, clear, or prime (`insert`), peek at and remove \
             entries.",
        )
    } else {
        (
            format!("`{name}`"),
            "",
            "Use it to read metrics, clear, or prime (`insert`), peek at and remove entries.",
        )
    };
    vec![
        format!(
            "The cache of {what}: keyed by {identity}{}, holding what it returned.",
            key_doc(model)
        ),
        settings_doc(model),
        String::new(),
        shared.to_owned(),
    ]
}

/// The accessor `f::cache()` / `Type::m_cache()`, with the given body.
pub(super) fn accessor(model: &Model, accessor: &Ident, body: &TokenStream) -> TokenStream {
    let func = &model.func;
    let ty = cache_type(model);
    let vis = &func.vis;
    let cfgs = cfgs(func);
    let doc = doc(&accessor_doc(model));
    let hidden = if model.is_associated() {
        TokenStream::new()
    } else {
        quote!(#[doc(hidden)])
    };
    quote! {
        #(#cfgs)*
        #doc
        #hidden
        #[must_use]
        #vis fn #accessor() -> &'static #ty {
            #body
        }
    }
}

/// `Type__m_cache()` beside an impl marked `#[async_cache]`: the cache of `Type::m`, reachable without naming
/// the impl's type parameters (the cache is one `static` whatever they are).
pub(super) fn free_accessor(model: &Model, context: &ImplContext, free: &Ident) -> TokenStream {
    let func = &model.func;
    let ty = cache_type(model);
    let vis = &func.vis;
    let cfgs = cfgs(func);
    let body = accessor_body(model);
    let name = &func.sig.ident;
    let type_name = &context.type_name;
    let doc = doc(&[
        format!(
            "The cache of `{type_name}::{name}` (as `{type_name}::{name}_cache()` returns it), callable without \
             naming the type's parameters."
        ),
        settings_doc(model),
    ]);
    quote! {
        #(#cfgs)*
        #doc
        #[must_use]
        #[allow(non_snake_case)]
        #vis fn #free() -> &'static #ty {
            #body
        }
    }
}

fn key_doc(model: &Model) -> &'static str {
    match model.key {
        Key::Args(_) => "the arguments (owned, in order)",
        Key::Convert { .. } => "the `convert` expression",
    }
}

/// A doc line naming the settings, e.g. "at most 128 entries, LRU, no expiry".
fn settings_doc(model: &Model) -> String {
    let s = &model.settings;
    let policy = match s.policy {
        PolicyKind::Lru => "LRU",
        PolicyKind::Lfu => "LFU",
        PolicyKind::TinyLfu => "TinyLFU",
    };
    let maxsize = match &s.maxsize.value {
        Amount::Literal(n) => n.to_string(),
        Amount::Const(expr) => format!("`{}`", expr.to_token_stream()),
    };
    let ttl = match s.ttl.as_ref().map(|t| &t.value) {
        None => "no expiry".to_owned(),
        #[allow(clippy::cast_precision_loss)]
        Some(Amount::Literal(n)) => format!("TTL {}s", *n as f64 / 1e9),
        Some(Amount::Const(expr)) => format!("TTL `{}`", expr.to_token_stream()),
    };
    let stored = match model.output.kind {
        OutputKind::Plain => "every result is stored",
        OutputKind::Result => "only `Ok` values are stored",
        OutputKind::Option => "only `Some` values are stored",
    };
    let refresh = match s.refresh_after.as_ref().map(|t| &t.value) {
        None => String::new(),
        #[allow(clippy::cast_precision_loss)]
        Some(Amount::Literal(n)) => format!(", refreshed after {}s", *n as f64 / 1e9),
        Some(Amount::Const(expr)) => format!(", refreshed after `{}`", expr.to_token_stream()),
    };
    let shared = match &s.shared {
        None => String::new(),
        Some(Shared {
            name: Some(name), ..
        }) => format!(" Shared through Redis as `{name}`."),
        Some(Shared { name: None, .. }) => {
            let path = match &model.place {
                Place::Impl(context) => format!("{}.{}", context.type_name, model.func.sig.ident),
                Place::Free | Place::Method => model.func.sig.ident.to_string(),
            };
            format!(
                " Shared through Redis, named by the module path and `{path}` (`::` written `.`)."
            )
        }
    };
    format!("At most {maxsize} entries, {policy}, {ttl}{refresh}; {stored}.{shared}")
}
