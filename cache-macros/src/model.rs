//! The user's fn and the options, validated into a [`Model`]: the receiver, the key parameters with their owned
//! types, and the output kind. Every check that can fail happens here, so expansion cannot.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{parse_quote, Expr, Ident, ItemFn, Path, Token, Type};

use crate::args::{Amount, Args, PolicyKind, WithSpan};
use crate::errors::Errors;

mod key;
mod output;
mod receiver;

use key::{check_generics, check_generics_with_convert, convert, key_param, params, skip_args};
use output::{check_static, output};
use receiver::receiver;

/// The cache settings, checked (literals) or to be checked when the cache is built (constant expressions).
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) maxsize: WithSpan<Amount<usize>>,
    pub(crate) policy: PolicyKind,
    /// Whole nanoseconds for a literal; an expression of seconds or a `Duration` otherwise.
    pub(crate) ttl: Option<WithSpan<Amount<u64>>>,
    /// `refresh_after`, as `ttl`.
    pub(crate) refresh_after: Option<WithSpan<Amount<u64>>>,
    /// `redis = "expr"` (with `name`): the cache is shared through a Redis tier.
    pub(crate) shared: Option<Shared>,
}

/// `redis = "expr"`, with an optional `name = "..."`.
#[derive(Clone)]
pub(crate) struct Shared {
    /// The expression that yields the tier, and where it was written.
    pub(crate) tier: WithSpan<Expr>,
    /// `name = "..."`; `None`: the fn's path names the cache.
    pub(crate) name: Option<String>,
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

/// The hidden runtime module under `krate` (the one place that names it).
pub(crate) fn runtime(krate: &Path) -> TokenStream {
    quote!(#krate::__private_v0_1)
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
    /// `__private_v0_1::ResultOutput` / `OptionOutput`.
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

/// `redis` and `name`, checked: `name` needs `redis`, and a method taking `self` cannot be shared (its keys start
/// with the instance's identity, which means nothing in another process).
fn shared(
    redis: Option<WithSpan<Expr>>,
    name: Option<WithSpan<String>>,
    receiver: Option<&Receiver>,
    errors: &mut Errors,
) -> Option<Shared> {
    let Some(tier) = redis else {
        if let Some(name) = name {
            errors.push(syn::Error::new(
                name.span,
                "`name` names the cache in a Redis tier: it goes with `redis = \"...\"` (a cache without a tier \
                 has no name to give)",
            ));
        }
        return None;
    };
    if receiver.is_some() {
        errors.push(syn::Error::new(
            tier.span,
            "`redis` on a method taking `self`: its keys start with the instance's identity, which is local to \
             this process, so replicas could never share an entry. Cache an associated fn without `self` (put \
             `#[async_cache]` on the impl too) or a free fn, taking what the result depends on as arguments",
        ));
    }
    Some(Shared {
        tier,
        name: name.map(|n| n.value),
    })
}

impl Model {
    /// Checks `func` and `args`. Every problem found is reported, each on its own token.
    /// Whether the companions are associated fns (`Self::m_cache()`) rather than items beside a free fn.
    pub(crate) fn is_associated(&self) -> bool {
        !matches!(self.place, Place::Free)
    }

    /// The hidden runtime module the expansion calls: `cache_core::__private_v0_1` (or under `crate = "..."`).
    pub(crate) fn runtime(&self) -> TokenStream {
        runtime(&self.krate)
    }

    pub(crate) fn new(args: Args, func: ItemFn, context: Option<ImplContext>) -> syn::Result<Self> {
        let mut errors = Errors::default();
        let sig = &func.sig;
        if sig.asyncness.is_none() {
            errors.push(syn::Error::new(
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
        if let (
            Some(refresh),
            Some(Receiver {
                kind: ReceiverKind::Ref,
                ..
            }),
        ) = (&args.refresh_after, &receiver)
        {
            errors.push(syn::Error::new(
                refresh.span,
                "`refresh_after` on a method needs `self: Arc<Self>` (or `self: &Arc<Self>`): the background \
                 reload runs the body on a spawned task, which must own the instance",
            ));
        }
        let shared = shared(args.redis, args.name, receiver.as_ref(), &mut errors);
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
        errors.or_ok(())?;
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
                refresh_after: args.refresh_after,
                shared,
            },
            receiver,
            key,
            output: output.expect("no errors, so an output"),
            func,
        })
    }
}
