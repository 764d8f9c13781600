//! A validated [`Model`] to tokens. Nothing here can fail: the model was checked.
//!
//! A free fn `f` becomes four items beside each other, so every path in the signature and the options resolves
//! where the user wrote it: the fn itself (same attributes, visibility and signature; it looks the key up and
//! otherwise runs the body through the cache), a hidden fn holding the user's body unchanged, a hidden accessor
//! holding the cache, a hidden `refresh` fn, and a module `f` (modules and fns live in different namespaces)
//! that re-exports the last three as `f::uncached`, `f::cache` and `f::refresh`. A method `m` becomes the method
//! plus the associated fns `m_cache()`, `m_uncached(..)` and `m_refresh(..)` in the same impl. Generated code
//! names everything by absolute path (`::core::...`, the runtime's path) and its own locals with the
//! `__async_cache_` prefix.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{AttrStyle, Attribute, FnArg, GenericParam, Ident, ItemFn, Pat, Signature, Visibility};

use crate::args::{Amount, Args, PolicyKind};
use crate::model::{Conversion, ImplContext, Key, Model, OutputKind, Place, ReceiverKind};

/// The whole attribute: options and item in, expansion out. On any error the user's item comes back unchanged
/// next to the errors, so the rest of their crate still type-checks.
pub(crate) fn attribute(args: TokenStream, item: TokenStream) -> TokenStream {
    let func = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(func) => func,
        Err(_) if syn::parse2::<syn::ItemImpl>(item.clone()).is_ok() => {
            return crate::impls::attribute(args, item);
        }
        Err(e) => {
            let e = syn::Error::new(
                e.span(),
                format!(
                    "#[async_cache] applies to an `async fn` (free fn or method), or to an impl whose methods \
                     it caches: {e}"
                ),
            );
            return error(item, &e);
        }
    };
    let model = Args::parse(args).and_then(|args| Model::new(args, func, None));
    match model {
        Ok(model) => {
            let Expansion { items, beside } = expand(&model);
            quote!(#items #beside)
        }
        Err(e) => error(item, &e),
    }
}

pub(crate) fn error(item: TokenStream, e: &syn::Error) -> TokenStream {
    let errors = e.to_compile_error();
    quote!(#item #errors)
}

/// Names of the generated items of one cached fn.
struct Names {
    /// The user's body, uncached.
    uncached: Ident,
    /// The cache accessor.
    cache: Ident,
    /// Runs the body and stores its result.
    refresh: Ident,
}

impl Names {
    fn of(model: &Model) -> Self {
        let name = &model.func.sig.ident;
        let span = name.span();
        if model.is_associated() {
            Self {
                uncached: format_ident!("{}_uncached", name, span = span),
                cache: format_ident!("{}_cache", name, span = span),
                refresh: format_ident!("{}_refresh", name, span = span),
            }
        } else {
            Self {
                uncached: format_ident!("__async_cache_uncached_{}", name, span = span),
                cache: format_ident!("__async_cache_cache_{}", name, span = span),
                refresh: format_ident!("__async_cache_refresh_{}", name, span = span),
            }
        }
    }
}

/// What one cached fn expands to: items where the fn was (the fn itself, and companions that live next to it),
/// and items beside the impl around it (only for a fn in an impl marked `#[async_cache]`).
pub(crate) struct Expansion {
    pub(crate) items: TokenStream,
    pub(crate) beside: TokenStream,
}

/// The cached fn and its companions.
pub(crate) fn expand(model: &Model) -> Expansion {
    let names = Names::of(model);
    let func = cached_fn(model, &names);
    let uncached = uncached_fn(model, &names);
    let refresh = refresh_fn(model, &names);
    match &model.place {
        Place::Free => {
            let accessor = accessor(model, &names.cache, &accessor_body(model));
            let module = module(model, &names);
            Expansion {
                items: quote!(#func #uncached #accessor #refresh #module),
                beside: TokenStream::new(),
            }
        }
        Place::Method => {
            let accessor = accessor(model, &names.cache, &accessor_body(model));
            Expansion {
                items: quote!(#func #uncached #accessor #refresh),
                beside: TokenStream::new(),
            }
        }
        Place::Impl(context) => {
            // The cache lives in a fn beside the impl, callable without naming the impl's type parameters; the
            // associated accessor returns it.
            let free = format_ident!(
                "{}__{}_cache",
                context.type_name,
                model.func.sig.ident,
                span = model.func.sig.ident.span()
            );
            let free_accessor = free_accessor(model, context, &free);
            let accessor = accessor(model, &names.cache, &quote!(#free()));
            match &context.trait_path {
                None => Expansion {
                    items: quote!(#func #uncached #accessor #refresh),
                    beside: free_accessor,
                },
                Some(_) => {
                    let (impl_generics, _, where_clause) = context.generics.split_for_impl();
                    let self_ty = &context.self_ty;
                    Expansion {
                        items: func,
                        beside: quote! {
                            impl #impl_generics #self_ty #where_clause {
                                #uncached #accessor #refresh
                            }
                            #free_accessor
                        },
                    }
                }
            }
        }
    }
}

/// A local of the expansion: mixed-site hygiene, so the user's code (call-site) can neither see nor shadow it,
/// whatever its arguments are called.
fn local(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// The name an argument is passed on by: its own, or a generated one for `_`.
fn arg_name(index: usize, pat: &Pat) -> Ident {
    match pat {
        Pat::Ident(p) => p.ident.clone(),
        _ => local(&format!("__async_cache_arg{index}")),
    }
}

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

/// Trait checks of the key parts and the cached value, each spanned on the type the user wrote, so that a missing
/// `Hash`/`Eq`/`Clone` is reported there, once, with what to do (`__private::KeyArgument` & co. carry the
/// messages). Emitted in every generated body that uses the cache.
fn checks(model: &Model) -> TokenStream {
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

/// `tokens` with every token spanned at `span`, so rustc reports what they require on the user's type.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let proc_macro2::TokenTree::Group(g) = &tt {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                tt = proc_macro2::TokenTree::Group(group);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}

/// Where the generated calls that need the key's and value's traits are spanned: on the one key argument (or the
/// `key` type) when there is one, so rustc folds their errors into the check's error on that type.
fn primary_span(model: &Model) -> Span {
    match &model.key {
        Key::Args(params) if params.len() == 1 => params[0].span,
        Key::Convert { ty, .. } => ty.span(),
        Key::Args(_) => Span::call_site(),
    }
}

/// The user's fn: the key is looked up, and a miss runs the body through the cache.
fn cached_fn(model: &Model, names: &Names) -> TokenStream {
    let ItemFn { attrs, vis, .. } = &model.func;
    let sig = passing_signature(&model.func.sig);
    // Lint attributes apply to the body, which moves to the uncached fn.
    let outer = attrs
        .iter()
        .filter(|a| matches!(a.style, AttrStyle::Outer) && !a.path().is_ident("expect"));
    let krate = &model.krate;
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
    let checks = checks(model);
    let span = primary_span(model);
    let hit = respan(quote!(#krate::__private::hit), span);
    let load = respan(quote!(#krate::__private::#helper), span);
    quote! {
        #(#outer)*
        #vis #sig {
            #checks
            let #key_var = #key;
            let #cache_var = #cache;
            // A hit returns here, without building the loading future around the body.
            if let ::core::option::Option::Some(#hit_var) = #hit(#cache_var, &#key_var) {
                return #wrap_hit;
            }
            #load(#cache_var, #key_var, #call).await
        }
    }
}

/// The user's body, as written, in a fn of its own: `f::uncached(..)` / `value.m_uncached(..)`.
fn uncached_fn(model: &Model, names: &Names) -> TokenStream {
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
fn refresh_fn(model: &Model, names: &Names) -> TokenStream {
    let func = &model.func;
    let name = &func.sig.ident;
    let mut sig = passing_signature(&func.sig);
    sig.ident = names.refresh.clone();
    let vis = &func.vis;
    let krate = &model.krate;
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
    let checks = checks(model);
    let store = respan(quote!(#krate::__private::#store), primary_span(model));
    quote! {
        #(#cfgs)*
        #doc
        #hidden
        #[allow(dead_code)]
        #vis #sig {
            #checks
            let #key_var = #key;
            let #ret_var = #call.await;
            #store(#cache, #key_var, &#ret_var);
            #ret_var
        }
    }
}

/// The key: `(identity, owned args...)`, or `(identity, convert)`; a free fn has no identity, and its
/// `convert` key is not wrapped in a tuple.
fn key_expr(model: &Model) -> TokenStream {
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
fn key_type(model: &Model) -> TokenStream {
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

fn cache_type(model: &Model) -> TokenStream {
    let krate = &model.krate;
    let key = key_type(model);
    let value = &model.output.value;
    quote!(#krate::AsyncCache<#key, #value>)
}

/// How the generated fns reach the cache.
fn cache_expr(model: &Model, names: &Names) -> TokenStream {
    let accessor = &names.cache;
    if model.is_associated() {
        quote!(Self::#accessor())
    } else {
        quote!(#accessor())
    }
}

/// The settings as arguments of `__private::build`: literals as checked constants; constant expressions
/// evaluated in `const` blocks (a `maxsize` out of range fails to compile, with the fn's name in the message; a
/// `ttl` is checked when the cache is built).
fn settings_args(model: &Model) -> TokenStream {
    let krate = &model.krate;
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
                quote_spanned!(span=> #krate::__private::ttl_nanos(const { #expr }, #name))
            }
        },
    };
    quote!(#maxsize, #policy, #ttl)
}

/// The body of an accessor: the checks and a function-local `static`, built on first use.
fn accessor_body(model: &Model) -> TokenStream {
    let krate = &model.krate;
    let ty = cache_type(model);
    let settings = settings_args(model);
    let span = primary_span(model);
    let build = if model.receiver.is_some() {
        // Methods: the key starts with the receiver's identity, so dropped instances' entries can be swept.
        let key = key_type(model);
        let build = respan(quote!(#krate::__private::build_method), span);
        quote! {
            #build(#settings, |__async_cache_key: &#key| __async_cache_key.0)
        }
    } else {
        let build = respan(quote!(#krate::__private::build), span);
        quote!(#build(#settings))
    };
    let checks = checks(model);
    quote! {
        #checks
        static __ASYNC_CACHE: #krate::__private::OnceLock<#ty> = #krate::__private::OnceLock::new();
        __ASYNC_CACHE.get_or_init(|| #build)
    }
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
fn accessor(model: &Model, accessor: &Ident, body: &TokenStream) -> TokenStream {
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
fn free_accessor(model: &Model, context: &ImplContext, free: &Ident) -> TokenStream {
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
    format!("At most {maxsize} entries, {policy}, {ttl}; {stored}.")
}

/// `mod f { pub use super::{..} as cache, uncached, refresh }` next to a free fn `f`: the companions are
/// defined beside the fn, so their types resolve as the user wrote them.
fn module(model: &Model, names: &Names) -> TokenStream {
    let func = &model.func;
    let name = &func.sig.ident;
    let vis = &func.vis;
    let inner_vis = nested_vis(vis);
    let cfgs = cfgs(func);
    let Names {
        uncached,
        cache,
        refresh,
    } = names;
    let mod_doc = doc(&[format!(
        "The cache behind the `#[async_cache]` fn `{name}`: `{name}::cache()`, `{name}::uncached(..)`, \
         `{name}::refresh(..)`."
    )]);
    quote! {
        #(#cfgs)*
        #mod_doc
        #vis mod #name {
            #[allow(unused_imports)]
            #inner_vis use super::#cache as cache;
            #[allow(unused_imports)]
            #inner_vis use super::#uncached as uncached;
            #[allow(unused_imports)]
            #inner_vis use super::#refresh as refresh;
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
