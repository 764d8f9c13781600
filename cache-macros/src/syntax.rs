//! Questions about the user's syntax that `syn` does not answer directly: what a type is (`Self`, `Arc<Self>`, a
//! `Result`), what it mentions (a borrow, `Self`, `impl Trait`, a generic parameter).

use proc_macro2::Span;
use syn::visit::Visit;
use syn::{GenericArgument, Ident, Path, PathArguments, Type, TypePath};

/// The first use in `ty` of one of `names` (a path starting with it), with what the name is (`"type
/// parameter"`, ...).
pub(crate) fn first_use(
    ty: &Type,
    names: &[(Ident, &'static str)],
) -> Option<(Span, Ident, &'static str)> {
    let mut finder = FirstUse { names, found: None };
    finder.visit_type(ty);
    finder.found
}

struct FirstUse<'n> {
    names: &'n [(Ident, &'static str)],
    found: Option<(Span, Ident, &'static str)>,
}

impl<'ast> Visit<'ast> for FirstUse<'_> {
    fn visit_path(&mut self, path: &'ast Path) {
        if self.found.is_none() && path.leading_colon.is_none() {
            if let Some(first) = path.segments.first() {
                if let Some((name, what)) = self.names.iter().find(|(n, _)| *n == first.ident) {
                    self.found = Some((first.ident.span(), name.clone(), what));
                    return;
                }
            }
        }
        syn::visit::visit_path(self, path);
    }
}

/// Types from `macro_rules!` fragments arrive wrapped in invisible groups.
pub(crate) fn unwrap_type(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => unwrap_type(&g.elem),
        Type::Paren(p) => unwrap_type(&p.elem),
        _ => ty,
    }
}

pub(crate) fn is_self(ty: &Type) -> bool {
    matches!(unwrap_type(ty), Type::Path(TypePath { qself: None, path }) if path.is_ident("Self"))
}

/// `Arc<Self>`, `std::sync::Arc<Self>`, ...
pub(crate) fn arc_of_self(ty: &Type) -> bool {
    let Some((name, args)) = last_segment(ty) else {
        return false;
    };
    name == "Arc"
        && matches!(type_args(args).as_slice(), [only] if arg_count(args) == 1 && is_self(only))
}

/// The last path segment's name and generic arguments (`Result` and `<T, E>` of `io::Result<T, E>`).
pub(crate) fn last_segment(ty: &Type) -> Option<(&Ident, &PathArguments)> {
    match unwrap_type(ty) {
        Type::Path(TypePath { qself: None, path }) => {
            let last = path.segments.last()?;
            Some((&last.ident, &last.arguments))
        }
        _ => None,
    }
}

pub(crate) fn type_args(args: &PathArguments) -> Vec<&Type> {
    match args {
        PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|arg| match arg {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// How many generic arguments (of any kind) a segment has.
pub(crate) fn arg_count(args: &PathArguments) -> usize {
    match args {
        PathArguments::AngleBracketed(a) => a.args.len(),
        _ => 0,
    }
}

/// What a type mentions that a `static` cannot hold.
#[derive(Default)]
pub(crate) struct TypeScan {
    /// The first `Self`.
    pub(crate) self_ty: Option<Span>,
    /// The first borrow: a reference without a lifetime, or a lifetime other than `'static`.
    pub(crate) borrow: Option<Span>,
    /// The first `impl Trait`.
    pub(crate) impl_trait: Option<Span>,
}

impl TypeScan {
    pub(crate) fn of(ty: &Type) -> Self {
        let mut scan = Self::default();
        scan.visit_type(ty);
        scan
    }
}

impl<'ast> Visit<'ast> for TypeScan {
    fn visit_type_impl_trait(&mut self, i: &'ast syn::TypeImplTrait) {
        self.impl_trait.get_or_insert(i.impl_token.span);
    }

    fn visit_lifetime(&mut self, i: &'ast syn::Lifetime) {
        if i.ident != "static" {
            self.borrow.get_or_insert(i.span());
        }
    }

    fn visit_type_reference(&mut self, i: &'ast syn::TypeReference) {
        if i.lifetime.is_none() {
            self.borrow.get_or_insert(i.and_token.span);
        }
        syn::visit::visit_type_reference(self, i);
    }

    fn visit_path_segment(&mut self, i: &'ast syn::PathSegment) {
        if i.ident == "Self" {
            self.self_ty.get_or_insert(i.ident.span());
        }
        syn::visit::visit_path_segment(self, i);
    }

    // Lifetimes in `fn(&T)`, `Fn(&T)` and `for<'a>` bounds are bound right there, not borrowed from the caller.
    fn visit_type_bare_fn(&mut self, _: &'ast syn::TypeBareFn) {}

    fn visit_parenthesized_generic_arguments(
        &mut self,
        _: &'ast syn::ParenthesizedGenericArguments,
    ) {
    }

    fn visit_trait_bound(&mut self, i: &'ast syn::TraitBound) {
        if i.lifetimes.is_none() {
            syn::visit::visit_trait_bound(self, i);
        }
    }
}
