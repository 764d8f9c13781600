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
use quote::{format_ident, quote};
use syn::{AttrStyle, Attribute, Ident, ItemFn};

use crate::args::Args;
use crate::model::{Model, Place};

mod accessor;
mod fns;
mod key;
mod module;

use accessor::{accessor, accessor_body, free_accessor};
use fns::{cached_fn, refresh_fn, uncached_fn};
use module::module;

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

#[cfg(test)]
mod tests;
