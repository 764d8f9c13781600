//! The output: what kind it is (`Result`, `Option`, plain), so what is cached; what a `static` cannot hold.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{parse_quote, Path, ReturnType, Type, TypePath};

use super::{Output, OutputKind};
use crate::args::WithSpan;
use crate::errors::Errors;
use crate::syntax::{arg_count, last_segment, type_args, TypeScan};

/// Reports what a `static` cannot hold: `Self`, borrowed data (lifetimes other than `'static`), `impl Trait`.
pub(super) fn check_static(ty: &Type, place: &str, what: &str, errors: &mut Errors) {
    let scan = TypeScan::of(ty);
    if let Some(span) = scan.self_ty {
        errors.push(syn::Error::new(
                span,
                format!(
                    "#[async_cache] keeps {place} in a `static`, which cannot name `Self`: write the type out \
                     (e.g. `UserService` instead of `Self`)"
                ),
            ),
        );
    }
    if let Some(span) = scan.borrow {
        errors.push(syn::Error::new(
                span,
                format!(
                    "#[async_cache] keeps {place} in a `static`, so it must own its data: this {what} type \
                     borrows. Use an owned type (`String`, `Vec<T>`, `Arc<T>`, ...); a top-level `&T` argument \
                     is fine (the key holds `T::Owned`)"
                ),
            ),
        );
    }
}

/// The output kind: from `result = ..` / `option = ..` when given, else from the return type's last path segment.
pub(super) fn output(
    ret: &ReturnType,
    krate: &Path,
    result: Option<&WithSpan<bool>>,
    option: Option<&WithSpan<bool>>,
    errors: &mut Errors,
) -> Option<Output> {
    if let (Some(r), Some(o)) = (result, option) {
        if r.value && o.value {
            errors.push(syn::Error::new(
                    o.span,
                    "`result = true` and `option = true` do not go together: the output is one or the other",
                ),
            );
            return None;
        }
    }
    let ReturnType::Type(_, ret) = ret else {
        if let Some(flag) = result.filter(|r| r.value).or(option.filter(|o| o.value)) {
            errors.push(syn::Error::new(
                    flag.span,
                    "this fn returns `()`: `result = true` / `option = true` need a `Result` / `Option` output",
                ),
            );
            return None;
        }
        return Some(Output {
            kind: OutputKind::Plain,
            value: parse_quote!(()),
            span: Span::call_site(),
        });
    };
    if let Some(span) = TypeScan::of(ret).impl_trait {
        errors.push(syn::Error::new(
                span,
                "#[async_cache] keeps the output in a `static`, which cannot hold an `impl Trait` type: spell \
                 the output type out",
            ),
        );
        return None;
    }
    let spelled = match last_segment(ret) {
        Some((name, args)) if name == "Result" && arg_count(args) >= 1 => type_args(args)
            .first()
            .map(|ok| (OutputKind::Result, (*ok).clone())),
        Some((name, args)) if name == "Option" && arg_count(args) == 1 => type_args(args)
            .first()
            .map(|some| (OutputKind::Option, (*some).clone())),
        _ => None,
    };
    let declared = if result.is_some_and(|r| r.value) {
        Some(OutputKind::Result)
    } else if option.is_some_and(|o| o.value) {
        Some(OutputKind::Option)
    } else if result.is_some() || option.is_some() {
        // `result = false` / `option = false`: cached as is, whatever its name.
        Some(OutputKind::Plain)
    } else {
        None
    };
    let (kind, value) = match (declared, spelled) {
        (None, Some(spelled)) => spelled,
        (None | Some(OutputKind::Plain), _) => (OutputKind::Plain, (**ret).clone()),
        (Some(kind), Some((spelled_kind, value))) if kind == spelled_kind => (kind, value),
        // An alias (`ApiResult<User>`): its `Ok`/`Some` type through a trait that also checks it is one.
        (Some(OutputKind::Result), _) => (OutputKind::Result, {
            let runtime = super::runtime(krate);
            parse_quote!(<#ret as #runtime::ResultOutput>::Ok)
        }),
        (Some(OutputKind::Option), _) => (OutputKind::Option, {
            let runtime = super::runtime(krate);
            parse_quote!(<#ret as #runtime::OptionOutput>::Some)
        }),
    };
    let place = match kind {
        OutputKind::Plain => "the output",
        OutputKind::Result => "the `Ok` value",
        OutputKind::Option => "the `Some` value",
    };
    let before = errors.len();
    check_static(&value, place, "output", errors);
    if errors.len() > before {
        return None;
    }
    let span = if matches!(value, Type::Path(TypePath { qself: Some(_), .. })) {
        ret.span()
    } else {
        value.span()
    };
    Some(Output { kind, value, span })
}
