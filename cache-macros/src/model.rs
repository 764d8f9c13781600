//! The user's fn and the options, validated into a [`Model`]: the receiver, the key parameters with their owned
//! types, and the output kind. Every check that can fail happens here, so expansion cannot.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{
    parse_quote, Expr, FnArg, GenericArgument, GenericParam, Ident, ItemFn, Pat, PatIdent, Path,
    PathArguments, ReturnType, Token, Type, TypePath,
};

use crate::args::{combine, Amount, Args, PolicyKind, WithSpan};

/// The cache settings, checked (literals) or to be checked when the cache is built (constant expressions).
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) maxsize: WithSpan<Amount<usize>>,
    pub(crate) policy: PolicyKind,
    /// Whole nanoseconds for a literal; an expression of seconds or a `Duration` otherwise.
    pub(crate) ttl: Option<WithSpan<Amount<u64>>>,
}

/// Where the cached fn is, which decides where its companions go.
pub(crate) enum Place {
    /// A free fn: companions beside it, re-exported by a module named like it.
    Free,
    /// A method in an impl without `#[async_cache]` on the impl: companions in the same impl.
    Method,
    /// A fn in an impl marked `#[async_cache]`: the cache in a fn beside the impl, the other companions in the
    /// impl (inherent) or in an inherent impl beside it (trait impl).
    Impl(Box<ImplContext>),
}

/// The impl around a fn, as `#[async_cache]` on the impl sees it.
#[derive(Clone)]
pub(crate) struct ImplContext {
    pub(crate) generics: syn::Generics,
    pub(crate) self_ty: Type,
    /// The self type's name (`PgRepo` of `db::PgRepo<T>`), for the accessor beside the impl.
    pub(crate) type_name: Ident,
    /// `Some` in a trait impl.
    pub(crate) trait_path: Option<Path>,
}

/// A cached fn, ready to expand.
pub(crate) struct Model {
    pub(crate) place: Place,
    /// The user's fn, unchanged.
    pub(crate) func: ItemFn,
    /// Where the runtime lives (`::cache_core` unless `crate = "..."`).
    pub(crate) krate: Path,
    pub(crate) settings: Settings,
    /// `Some` for a method.
    pub(crate) receiver: Option<Receiver>,
    pub(crate) key: Key,
    pub(crate) output: Output,
}

/// How the key is made.
pub(crate) enum Key {
    /// The arguments after the skipped ones, owned, in order: the key is their tuple.
    Args(Vec<KeyParam>),
    /// `key = ty, convert = expr`: the key is `expr`, of type `ty`.
    Convert { ty: Box<Type>, expr: Box<Expr> },
}

/// A method's receiver.
pub(crate) struct Receiver {
    pub(crate) kind: ReceiverKind,
    /// The user's `self` token (so the expansion's `self` resolves like theirs).
    pub(crate) self_token: Token![self],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReceiverKind {
    /// `&self`, `&'a self`, `self: &Self`.
    Ref,
    /// `self: Arc<Self>`.
    Arc,
    /// `self: &Arc<Self>`.
    RefArc,
}

/// One argument of the key.
pub(crate) struct KeyParam {
    pub(crate) ident: Ident,
    /// Its type in the key.
    pub(crate) owned: Type,
    pub(crate) conversion: Conversion,
    /// The argument's type as written (spans for trait errors).
    pub(crate) span: Span,
}

/// How an argument becomes its key part.
pub(crate) enum Conversion {
    /// By-value `T`: cloned (the body still gets the original).
    Clone,
    /// `&T`: `<T as ToOwned>::to_owned`; holds `T`.
    ToOwned(Box<Type>),
}

/// What the body returns, and so what is cached.
pub(crate) struct Output {
    pub(crate) kind: OutputKind,
    /// The cached value type: `T` of `Result<T, E>` / `Option<T>`, else `ret`. For `result = true` /
    /// `option = true` on a type not spelled `Result<T, ..>` / `Option<T>` (an alias), a projection through
    /// `__private::ResultOutput` / `OptionOutput`.
    pub(crate) value: Type,
    /// Where the value type is written (the return type for an alias), for trait errors.
    pub(crate) span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputKind {
    /// Cached as is.
    Plain,
    /// `Result<T, E>`: only `Ok` is cached.
    Result,
    /// `Option<T>`: only `Some` is cached.
    Option,
}

const DEFAULT_MAXSIZE: usize = 128;

impl Model {
    /// Checks `func` and `args`. Every problem found is reported, each on its own token.
    /// Whether the companions are associated fns (`Self::m_cache()`) rather than items beside a free fn.
    pub(crate) fn is_associated(&self) -> bool {
        !matches!(self.place, Place::Free)
    }

    pub(crate) fn new(args: Args, func: ItemFn, context: Option<ImplContext>) -> syn::Result<Self> {
        let mut errors = None;
        let sig = &func.sig;
        if sig.asyncness.is_none() {
            combine(
                &mut errors,
                syn::Error::new(
                    sig.fn_token.span,
                    "#[async_cache] caches an `async fn`: write `async fn`. (For a synchronous fn, keep the \
                     values in an `AsyncCache` yourself.)",
                ),
            );
        }
        let krate: Path = args
            .krate
            .map_or_else(|| parse_quote!(::cache_core), |k| k.value);
        let convert = convert(args.key, args.convert, args.skip_args.as_ref(), &mut errors);
        let receiver = receiver(&func, &mut errors);
        let params = params(&func, convert.is_some(), &mut errors);
        let output = output(
            &func.sig.output,
            &krate,
            args.result.as_ref(),
            args.option.as_ref(),
            &mut errors,
        );
        let key = if let Some((ty, expr)) = convert {
            check_static(&ty, "the key", "key", &mut errors);
            if let Some(output) = &output {
                check_generics_with_convert(&func, &ty, &output.value, &mut errors);
            }
            Key::Convert {
                ty: Box::new(ty),
                expr: Box::new(expr),
            }
        } else {
            check_generics(&func, &mut errors);
            let skip = skip_args(args.skip_args.as_ref(), &func, params.len(), &mut errors);
            Key::Args(
                params
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, p)| key_param(p, i < skip, &mut errors))
                    .collect(),
            )
        };
        if let Some(e) = errors {
            return Err(e);
        }
        let place = match context {
            Some(context) => Place::Impl(Box::new(context)),
            None if receiver.is_some() => Place::Method,
            None => Place::Free,
        };
        Ok(Self {
            place,
            krate,
            settings: Settings {
                maxsize: args.maxsize.unwrap_or_else(|| WithSpan {
                    value: Amount::Literal(DEFAULT_MAXSIZE),
                    span: Span::call_site(),
                }),
                policy: args.policy.map_or(PolicyKind::Lru, |p| p.value),
                ttl: args.ttl,
            },
            receiver,
            key,
            output: output.expect("no errors, so an output"),
            func,
        })
    }
}

/// `key` and `convert` come together, and replace `skip_args`.
fn convert(
    key: Option<WithSpan<Type>>,
    convert: Option<WithSpan<Expr>>,
    skip: Option<&WithSpan<usize>>,
    errors: &mut Option<syn::Error>,
) -> Option<(Type, Expr)> {
    match (key, convert) {
        (None, None) => None,
        (Some(key), None) => {
            combine(
                errors,
                syn::Error::new(
                    key.span,
                    "`key` needs `convert`: say how the key is computed from the arguments, as in \
                     `key = String, convert = name.to_lowercase()`",
                ),
            );
            None
        }
        (None, Some(convert)) => {
            combine(
                errors,
                syn::Error::new(
                    convert.span,
                    "`convert` needs `key`: say the key's type, as in `key = String, convert = name.to_lowercase()`",
                ),
            );
            None
        }
        (Some(key), Some(convert)) => {
            if let Some(skip) = skip {
                combine(
                    errors,
                    syn::Error::new(
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
fn check_generics(func: &ItemFn, errors: &mut Option<syn::Error>) {
    for param in &func.sig.generics.params {
        let what = match param {
            GenericParam::Lifetime(_) => continue,
            GenericParam::Type(t) => format!("type parameter `{}`", t.ident),
            GenericParam::Const(c) => format!("const parameter `{}`", c.ident),
        };
        combine(
            errors,
            syn::Error::new_spanned(
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
fn check_generics_with_convert(
    func: &ItemFn,
    key: &Type,
    value: &Type,
    errors: &mut Option<syn::Error>,
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
        let mut mentions = Mentions {
            names: &names,
            found: None,
        };
        mentions.visit_type(ty);
        if let Some((span, name, what)) = mentions.found {
            combine(
                errors,
                syn::Error::new(
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

/// Finds a use of one of `names` (a path starting with it) in a type.
struct Mentions<'n> {
    names: &'n [(Ident, &'static str)],
    found: Option<(Span, Ident, &'static str)>,
}

impl<'ast> Visit<'ast> for Mentions<'_> {
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

fn receiver(func: &ItemFn, errors: &mut Option<syn::Error>) -> Option<Receiver> {
    let FnArg::Receiver(recv) = func.sig.inputs.first()? else {
        return None;
    };
    const SUPPORTED: &str = "Take `&self` or `self: Arc<Self>` (or `self: &Arc<Self>`)";
    let kind = match unwrap_type(&recv.ty) {
        Type::Reference(r) if r.mutability.is_some() => Err(format!(
            "#[async_cache] cannot cache a `&mut self` method: a cached call skips the body, and with it the \
             mutation. {SUPPORTED} and use interior mutability, or cache a free fn"
        )),
        Type::Reference(r) if is_self(&r.elem) => Ok(ReceiverKind::Ref),
        Type::Reference(r) if arc_of_self(&r.elem) => Ok(ReceiverKind::RefArc),
        ty if is_self(ty) => Err(format!(
            "#[async_cache] cannot cache a method taking `self` by value: every call would consume the instance. \
             {SUPPORTED}"
        )),
        ty if arc_of_self(ty) => Ok(ReceiverKind::Arc),
        _ => Err(format!(
            "#[async_cache] does not support this receiver. {SUPPORTED}"
        )),
    };
    match kind {
        Ok(kind) => Some(Receiver {
            kind,
            self_token: recv.self_token,
        }),
        Err(message) => {
            combine(errors, syn::Error::new_spanned(recv, message));
            None
        }
    }
}

/// Types from `macro_rules!` fragments arrive wrapped in invisible groups.
fn unwrap_type(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => unwrap_type(&g.elem),
        Type::Paren(p) => unwrap_type(&p.elem),
        _ => ty,
    }
}

fn is_self(ty: &Type) -> bool {
    matches!(unwrap_type(ty), Type::Path(TypePath { qself: None, path }) if path.is_ident("Self"))
}

/// `Arc<Self>`, `std::sync::Arc<Self>`, ...
fn arc_of_self(ty: &Type) -> bool {
    let Some((name, args)) = last_segment(ty) else {
        return false;
    };
    name == "Arc"
        && matches!(type_args(args).as_slice(), [only] if arg_count(args) == 1 && is_self(only))
}

/// The last path segment's name and generic arguments (`Result` and `<T, E>` of `io::Result<T, E>`).
fn last_segment(ty: &Type) -> Option<(&Ident, &PathArguments)> {
    match unwrap_type(ty) {
        Type::Path(TypePath { qself: None, path }) => {
            let last = path.segments.last()?;
            Some((&last.ident, &last.arguments))
        }
        _ => None,
    }
}

fn type_args(args: &PathArguments) -> Vec<&Type> {
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
fn arg_count(args: &PathArguments) -> usize {
    match args {
        PathArguments::AngleBracketed(a) => a.args.len(),
        _ => 0,
    }
}

/// A typed argument: its name (`None` for `_`) and type.
struct Param<'a> {
    ident: Option<&'a Ident>,
    pat: &'a Pat,
    ty: &'a Type,
}

/// The typed arguments, each bound to a name or `_`. With `convert` (`by_convert`), any type will do: the key is
/// not built from them.
fn params<'a>(
    func: &'a ItemFn,
    by_convert: bool,
    errors: &mut Option<syn::Error>,
) -> Vec<Param<'a>> {
    let mut params = Vec::new();
    for arg in &func.sig.inputs {
        let FnArg::Typed(typed) = arg else { continue };
        if let (false, Some(span)) = (by_convert, Scan::of(&typed.ty).impl_trait) {
            combine(
                errors,
                syn::Error::new(
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
                combine(
                    errors,
                    syn::Error::new_spanned(
                        pat,
                        "#[async_cache] passes the arguments on by name: bind this argument to a name \
                         (`arg: Type`) and destructure it inside the body",
                    ),
                );
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

fn skip_args(
    skip: Option<&WithSpan<usize>>,
    func: &ItemFn,
    count: usize,
    errors: &mut Option<syn::Error>,
) -> usize {
    let Some(skip) = skip else { return 0 };
    if skip.value > count {
        let receiver = if func.sig.receiver().is_some() {
            " besides `self`"
        } else {
            ""
        };
        let plural = if count == 1 { "" } else { "s" };
        combine(
            errors,
            syn::Error::new(
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

fn key_param(param: Param<'_>, skipped: bool, errors: &mut Option<syn::Error>) -> Option<KeyParam> {
    if skipped {
        return None;
    }
    let Some(ident) = param.ident else {
        combine(
            errors,
            syn::Error::new_spanned(
                param.pat,
                "#[async_cache] builds the key from this argument, so it needs a name: write `name: Type`, or \
                 leave it out of the key with `skip_args` (skipped arguments come first)",
            ),
        );
        return None;
    };
    let (owned, conversion, checked) = match unwrap_type(param.ty) {
        Type::Reference(r) if r.mutability.is_some() => {
            combine(
                errors,
                syn::Error::new_spanned(
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
            let owned: Type = if matches!(unwrap_type(&elem), Type::Path(p) if p.path.is_ident("str"))
            {
                parse_quote!(::std::string::String)
            } else {
                parse_quote!(<#elem as ::std::borrow::ToOwned>::Owned)
            };
            (owned, Conversion::ToOwned(Box::new(elem)), &*r.elem)
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

/// Reports what a `static` cannot hold: `Self`, borrowed data (lifetimes other than `'static`), `impl Trait`.
fn check_static(ty: &Type, place: &str, what: &str, errors: &mut Option<syn::Error>) {
    let scan = Scan::of(ty);
    if let Some(span) = scan.self_ty {
        combine(
            errors,
            syn::Error::new(
                span,
                format!(
                    "#[async_cache] keeps {place} in a `static`, which cannot name `Self`: write the type out \
                     (e.g. `UserService` instead of `Self`)"
                ),
            ),
        );
    }
    if let Some(span) = scan.borrow {
        combine(
            errors,
            syn::Error::new(
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
fn output(
    ret: &ReturnType,
    krate: &Path,
    result: Option<&WithSpan<bool>>,
    option: Option<&WithSpan<bool>>,
    errors: &mut Option<syn::Error>,
) -> Option<Output> {
    if let (Some(r), Some(o)) = (result, option) {
        if r.value && o.value {
            combine(
                errors,
                syn::Error::new(
                    o.span,
                    "`result = true` and `option = true` do not go together: the output is one or the other",
                ),
            );
            return None;
        }
    }
    let ReturnType::Type(_, ret) = ret else {
        if let Some(flag) = result.filter(|r| r.value).or(option.filter(|o| o.value)) {
            combine(
                errors,
                syn::Error::new(
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
    if let Some(span) = Scan::of(ret).impl_trait {
        combine(
            errors,
            syn::Error::new(
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
        (Some(OutputKind::Result), _) => (
            OutputKind::Result,
            parse_quote!(<#ret as #krate::__private::ResultOutput>::Ok),
        ),
        (Some(OutputKind::Option), _) => (
            OutputKind::Option,
            parse_quote!(<#ret as #krate::__private::OptionOutput>::Some),
        ),
    };
    let place = match kind {
        OutputKind::Plain => "the output",
        OutputKind::Result => "the `Ok` value",
        OutputKind::Option => "the `Some` value",
    };
    let before = errors.is_some();
    check_static(&value, place, "output", errors);
    if errors.is_some() && !before {
        return None;
    }
    let span = if matches!(value, Type::Path(TypePath { qself: Some(_), .. })) {
        ret.span()
    } else {
        value.span()
    };
    Some(Output { kind, value, span })
}

/// What a type mentions that a `static` cannot hold.
#[derive(Default)]
struct Scan {
    self_ty: Option<Span>,
    borrow: Option<Span>,
    impl_trait: Option<Span>,
}

impl Scan {
    fn of(ty: &Type) -> Self {
        let mut scan = Self::default();
        scan.visit_type(ty);
        scan
    }
}

impl<'ast> Visit<'ast> for Scan {
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
