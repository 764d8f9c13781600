//! `#[derive(CacheIdentity)]`: the struct's identity is one of its fields' — the field marked
//! `#[cache_identity]`, else the only field whose type is named `InstanceId`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{parse_quote, Data, DeriveInput, Field, Fields, GenericParam, Member, Path, Type};

use crate::errors::Errors;

const HOW: &str = "add a field `id: cache_core::InstanceId` (a fresh identity on every `new()`, `default()` and \
                   `clone()`), or mark the field that identifies the instance with `#[cache_identity]`";

/// The derive's entry: on error, only the errors (a derive adds items; it never replaces the struct).
pub(crate) fn derive(input: TokenStream) -> TokenStream {
    match syn::parse2::<DeriveInput>(input).and_then(|input| expand(&input)) {
        Ok(tokens) => tokens,
        Err(e) => e.to_compile_error(),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let krate = crate_path(input)?;
    let fields = match &input.data {
        Data::Struct(s) => &s.fields,
        Data::Enum(e) => return Err(not_a_struct(e.enum_token.span, "an enum")),
        Data::Union(u) => return Err(not_a_struct(u.union_token.span, "a union")),
    };
    let (member, field) = identity_field(input, fields)?;
    let ty = &field.ty;
    let name = &input.ident;
    let mut generics = input.generics.clone();
    if generics
        .params
        .iter()
        .any(|p| matches!(p, GenericParam::Type(_)))
    {
        generics
            .make_where_clause()
            .predicates
            .push(parse_quote!(#ty: #krate::CacheIdentity));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    // Spanned on the field's type: a type that has no identity is reported there.
    let call = quote_spanned!(ty.span()=> #krate::CacheIdentity::cache_identity(&self.#member));
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #krate::CacheIdentity for #name #ty_generics #where_clause {
            #[inline]
            fn cache_identity(&self) -> ::core::primitive::u64 {
                #call
            }
        }
    })
}

fn not_a_struct(span: proc_macro2::Span, what: &str) -> syn::Error {
    syn::Error::new(
        span,
        format!(
            "#[derive(CacheIdentity)] works on structs, not on {what}: put the cached methods on a struct that \
             holds a `cache_core::InstanceId`, or implement `cache_core::CacheIdentity` by hand"
        ),
    )
}

/// `#[cache_identity(crate = "path")]` on the struct, else `::cache_core`.
fn crate_path(input: &DeriveInput) -> syn::Result<Path> {
    let mut krate = None;
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("cache_identity"))
    {
        attr.parse_nested_meta(|meta| {
            if !meta.path.is_ident("crate") {
                return Err(meta.error(
                    "unknown option; on the struct, `#[cache_identity]` takes `crate = \"path::to::cache_core\"`",
                ));
            }
            if krate.is_some() {
                return Err(meta.error("duplicate option `crate`: set it at most once"));
            }
            let lit: syn::LitStr = meta.value()?.parse()?;
            krate = Some(lit.parse::<Path>()?);
            Ok(())
        })?;
    }
    Ok(krate.unwrap_or_else(|| parse_quote!(::cache_core)))
}

fn identity_field<'a>(input: &DeriveInput, fields: &'a Fields) -> syn::Result<(Member, &'a Field)> {
    let members = || {
        fields.iter().enumerate().map(|(i, f)| {
            let member = f
                .ident
                .clone()
                .map_or_else(|| Member::Unnamed(syn::Index::from(i)), Member::Named);
            (member, f)
        })
    };
    let mut errors = Errors::default();
    let mut marked = Vec::new();
    for (member, field) in members() {
        for attr in field
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("cache_identity"))
        {
            if attr.meta.require_path_only().is_err() {
                errors.push(syn::Error::new_spanned(
                    attr,
                    "on a field, `#[cache_identity]` takes no arguments: write `#[cache_identity]`",
                ));
            }
            marked.push((member.clone(), field, attr));
        }
    }
    errors.or_ok(())?;
    match marked.as_slice() {
        [(member, field, _)] => return Ok((member.clone(), *field)),
        [_, (_, _, second), ..] => {
            return Err(syn::Error::new_spanned(
                second,
                "only one field can be `#[cache_identity]`: the instance has one identity",
            ))
        }
        [] => {}
    }
    let candidates: Vec<_> = members().filter(|(_, f)| is_instance_id(&f.ty)).collect();
    match candidates.as_slice() {
        [(member, field)] => Ok((member.clone(), *field)),
        [] => Err(syn::Error::new(
            input.ident.span(),
            format!(
                "#[derive(CacheIdentity)] found no identity in `{}`: {HOW}",
                input.ident
            ),
        )),
        [_, (_, second), ..] => Err(syn::Error::new_spanned(
            &second.ty,
            "several `InstanceId` fields: mark the one that identifies the instance with `#[cache_identity]`",
        )),
    }
}

/// Whether the type's last path segment is `InstanceId`.
fn is_instance_id(ty: &Type) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "InstanceId"),
        Type::Group(g) => is_instance_id(&g.elem),
        Type::Paren(p) => is_instance_id(&p.elem),
        _ => false,
    }
}
