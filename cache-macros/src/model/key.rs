//! The key: `key`/`convert` or the arguments after `skip_args`, each argument's owned type and conversion.

use syn::spanned::Spanned;
use syn::{parse_quote, Expr, FnArg, GenericParam, Ident, ItemFn, Pat, PatIdent, Type};

use super::output::check_static;
use super::{Conversion, KeyParam};
use crate::args::WithSpan;
use crate::errors::Errors;
use crate::syntax::{first_use, unwrap_type, TypeScan};

/// `key` and `convert` come together, and replace `skip_args`.
pub(super) fn convert(
    key: Option<WithSpan<Type>>,
    convert: Option<WithSpan<Expr>>,
    skip: Option<&WithSpan<usize>>,
    errors: &mut Errors,
) -> Option<(Type, Expr)> {
    match (key, convert) {
        (None, None) => None,
        (Some(key), None) => {
            errors.push(syn::Error::new(
                key.span,
                "`key` needs `convert`: say how the key is computed from the arguments, as in \
                     `key = String, convert = name.to_lowercase()`",
            ));
            None
        }
        (None, Some(convert)) => {
            errors.push(syn::Error::new(
                    convert.span,
                    "`convert` needs `key`: say the key's type, as in `key = String, convert = name.to_lowercase()`",
                ),
            );
            None
        }
        (Some(key), Some(convert)) => {
            if let Some(skip) = skip {
                errors.push(syn::Error::new(
                        skip.span,
                        "`skip_args` has no effect with `convert`: the `convert` expression alone makes the key \
                         (it may use any argument); remove `skip_args`",
                    ),
                );
            }
            Some((key.value, convert.value))
        }
    }
}

/// A generic fn would need one cache per instantiation; a `static` cannot be generic.
pub(super) fn check_generics(func: &ItemFn, errors: &mut Errors) {
    for param in &func.sig.generics.params {
        let what = match param {
            GenericParam::Lifetime(_) => continue,
            GenericParam::Type(t) => format!("type parameter `{}`", t.ident),
            GenericParam::Const(c) => format!("const parameter `{}`", c.ident),
        };
        errors.push(syn::Error::new_spanned(
                param,
                format!(
                    "#[async_cache] cannot key a generic fn by its arguments: its cache is one `static`, which \
                     cannot depend on the {what}. Say what the key is with `key = Type, convert = expr` (the key \
                     and output types must then not mention the parameter), or cache a non-generic fn"
                ),
            ),
        );
    }
}

/// With `key`/`convert`, a generic fn is cached when the key and the cached value do not mention its generic
/// parameters: one `static` then serves every instantiation.
pub(super) fn check_generics_with_convert(
    func: &ItemFn,
    key: &Type,
    value: &Type,
    errors: &mut Errors,
) {
    let names: Vec<(Ident, &str)> = func
        .sig
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            GenericParam::Type(t) => Some((t.ident.clone(), "type parameter")),
            GenericParam::Const(c) => Some((c.ident.clone(), "const parameter")),
            GenericParam::Lifetime(_) => None,
        })
        .collect();
    for (ty, place) in [(key, "key"), (value, "cached value")] {
        if let Some((span, name, what)) = first_use(ty, &names) {
            errors.push(syn::Error::new(
                    span,
                    format!(
                        "the {place} type mentions the {what} `{name}`: the cache is one `static` shared by every \
                         instantiation of the fn, so its key and cached value types cannot depend on the fn's \
                         generic parameters. Use a concrete type (convert to it in `convert`)"
                    ),
                ),
            );
        }
    }
}

/// A typed argument: its name (`None` for `_`) and type.
pub(super) struct Param<'a> {
    ident: Option<&'a Ident>,
    pat: &'a Pat,
    ty: &'a Type,
}

/// The typed arguments, each bound to a name or `_`. With `convert` (`by_convert`), any type will do: the key is
/// not built from them.
pub(super) fn params<'a>(
    func: &'a ItemFn,
    by_convert: bool,
    errors: &mut Errors,
) -> Vec<Param<'a>> {
    let mut params = Vec::new();
    for arg in &func.sig.inputs {
        let FnArg::Typed(typed) = arg else { continue };
        if let (false, Some(span)) = (by_convert, TypeScan::of(&typed.ty).impl_trait) {
            errors.push(syn::Error::new(
                    span,
                    "#[async_cache] cannot key a fn by `impl Trait` arguments: they make it generic, and its \
                     cache is one `static`. Take a concrete type (e.g. `&str` instead of `impl AsRef<str>`), or \
                     say what the key is with `key = Type, convert = expr`",
                ),
            );
        }
        let ident = match &*typed.pat {
            Pat::Ident(PatIdent {
                by_ref: None,
                subpat: None,
                ident,
                ..
            }) => Some(ident),
            Pat::Wild(_) => None,
            pat => {
                errors.push(syn::Error::new_spanned(
                    pat,
                    "#[async_cache] passes the arguments on by name: bind this argument to a name \
                         (`arg: Type`) and destructure it inside the body",
                ));
                continue;
            }
        };
        params.push(Param {
            ident,
            pat: &typed.pat,
            ty: &typed.ty,
        });
    }
    params
}

pub(super) fn skip_args(
    skip: Option<&WithSpan<usize>>,
    func: &ItemFn,
    count: usize,
    errors: &mut Errors,
) -> usize {
    let Some(skip) = skip else { return 0 };
    if skip.value > count {
        let receiver = if func.sig.receiver().is_some() {
            " besides `self`"
        } else {
            ""
        };
        let plural = if count == 1 { "" } else { "s" };
        errors.push(syn::Error::new(
                skip.span,
                format!(
                    "`skip_args = {}` but `{}` has only {count} argument{plural}{receiver}: `skip_args` is how many \
                     leading arguments are left out of the key, at most {count} here",
                    skip.value, func.sig.ident
                ),
            ),
        );
    }
    skip.value
}

pub(super) fn key_param(param: Param<'_>, skipped: bool, errors: &mut Errors) -> Option<KeyParam> {
    if skipped {
        return None;
    }
    let Some(ident) = param.ident else {
        errors.push(syn::Error::new_spanned(
                param.pat,
                "#[async_cache] builds the key from this argument, so it needs a name: write `name: Type`, or \
                 leave it out of the key with `skip_args` (skipped arguments come first)",
            ),
        );
        return None;
    };
    let (owned, conversion, checked) = match unwrap_type(param.ty) {
        Type::Reference(r) if r.mutability.is_some() => {
            errors.push(syn::Error::new_spanned(
                    param.ty,
                    "#[async_cache] cannot build a key from a `&mut` argument (a cached call would skip the \
                     mutation): take `&T`, or leave it out of the key with `skip_args` (skipped arguments come \
                     first)",
                ),
            );
            return None;
        }
        Type::Reference(r) => {
            let elem = (*r.elem).clone();
            (
                owned_of(&elem),
                Conversion::ToOwned(Box::new(elem)),
                &*r.elem,
            )
        }
        ty => (ty.clone(), Conversion::Clone, ty),
    };
    check_static(checked, "the key", "argument", errors);
    Some(KeyParam {
        ident: ident.clone(),
        owned,
        conversion,
        span: param.ty.span(),
    })
}

/// The key part of a `&T` argument, `<T as ToOwned>::Owned`, spelled as plainly as the syntax allows (it shows in
/// the accessor's type): `&str` -> `String`, `&[T]` -> `Vec<T>`, `&Path`/`&OsStr`/`&CStr` -> their owned types,
/// another named type `&T` -> `T` (a sized type's `ToOwned` is its `Clone`).
fn owned_of(elem: &Type) -> Type {
    let last = match unwrap_type(elem) {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        _ => None,
    };
    match (unwrap_type(elem), last) {
        // `str`, `core::primitive::str`.
        (_, Some(last)) if last.ident == "str" && last.arguments.is_empty() => {
            parse_quote!(::std::string::String)
        }
        (_, Some(last)) if !["Path", "OsStr", "CStr"].iter().any(|u| last.ident == u) => {
            elem.clone()
        }
        (Type::Slice(slice), _) => {
            let item = &slice.elem;
            parse_quote!(::std::vec::Vec<#item>)
        }
        _ => parse_quote!(<#elem as ::std::borrow::ToOwned>::Owned),
    }
}
