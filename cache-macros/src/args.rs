//! The attribute's options: `maxsize = 128, policy = "lfu", ttl = 60, skip_args = 1, key = K, convert = expr,
//! result = true, option = true, redis = "expr", name = "users", crate = "path"` parsed into typed [`Args`],
//! each value with the span of the token it came from. One setter per option; each refuses a second occurrence and a bad value with an error on
//! the offending token that lists the valid forms.
//!
//! `maxsize` and `ttl` take a literal (checked here) or a constant expression (`MAX_USERS`, `10 * 1024`,
//! `Duration::from_millis(500)`), which the expansion evaluates in a `const` block and checks when the cache is
//! built (`maxsize` at compile time).

use proc_macro2::{Span, TokenStream};

use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Expr, Ident, LitStr, Path, Token, Type};

use crate::errors::Errors;

mod values;

use values::{
    parse_convert, parse_crate, parse_flag, parse_key, parse_maxsize, parse_name, parse_policy,
    parse_redis, parse_refresh_after, parse_skip_args, parse_ttl,
};

/// Every option, as a user writes it: the tail of every "unknown option" message.
pub(crate) const VALID_FORMS: &str =
    "`maxsize = 128`, `policy = \"lru\"`, `\"lfu\"` or `\"tinylfu\"`, \
     `ttl = 60` or `ttl = 0.5` (seconds), `refresh_after = 30` (seconds), `skip_args = 1`, `key = Type` with `convert = expr`, \
     `result = true`, `option = true`, `redis = \"expr\"` with an optional `name = \"users\"`, \
     `crate = \"path::to::cache_core\"`";

/// The largest `maxsize` every shard layout accepts (a shard holds fewer than `u32::MAX` entries).
const MAX_MAXSIZE: u64 = u32::MAX as u64 - 1;

/// A value and where the user wrote it.
#[derive(Clone)]
pub(crate) struct WithSpan<T> {
    pub(crate) value: T,
    pub(crate) span: Span,
}

/// The eviction policy named by `policy = "..."`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PolicyKind {
    Lru,
    Lfu,
    TinyLfu,
}

/// A numeric option: a literal checked by the macro, or a constant expression checked by the compiler and when
/// the cache is built.
#[derive(Clone)]
pub(crate) enum Amount<T> {
    Literal(T),
    Const(Box<Expr>),
}

/// The options of one `#[async_cache(...)]`, each `None` when not given.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) maxsize: Option<WithSpan<Amount<usize>>>,
    pub(crate) policy: Option<WithSpan<PolicyKind>>,
    /// The TTL: a literal in whole nanoseconds (at least 1), or an expression (seconds or a `Duration`).
    pub(crate) ttl: Option<WithSpan<Amount<u64>>>,
    /// `refresh_after`: as `ttl`.
    pub(crate) refresh_after: Option<WithSpan<Amount<u64>>>,
    pub(crate) skip_args: Option<WithSpan<usize>>,
    /// `key = Type`: the key's type, given with `convert`.
    pub(crate) key: Option<WithSpan<Type>>,
    /// `convert = expr`: the key, computed from the arguments.
    pub(crate) convert: Option<WithSpan<Expr>>,
    /// `result = true|false`: whether the output is a `Result` of which only `Ok` is cached.
    pub(crate) result: Option<WithSpan<bool>>,
    /// `option = true|false`: whether the output is an `Option` of which only `Some` is cached.
    pub(crate) option: Option<WithSpan<bool>>,
    /// `redis = "expr"`: the expression that yields the shared tier (feature `redis` of `cache-core`).
    pub(crate) redis: Option<WithSpan<Expr>>,
    /// `name = "users"`: the cache's name in the shared tier (instead of the fn's path); only with `redis`.
    pub(crate) name: Option<WithSpan<String>>,
    pub(crate) krate: Option<WithSpan<Path>>,
}

impl Args {
    /// Parses the attribute's tokens (what is inside `#[async_cache(...)]`).
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Self> {
        Parser::parse2(Self::parse_options, tokens)
    }

    fn parse_options(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Self::default();
        let mut errors = Errors::default();
        while !input.is_empty() {
            let option: OptionEntry = input.parse()?;
            if let Err(e) = args.set(&option) {
                errors.push(e);
            }
            if input.is_empty() {
                break;
            }
            if !input.peek(Token![,]) {
                return Err(input.error(format!(
                    "expected `,` between options; the options are {VALID_FORMS}"
                )));
            }
            input.parse::<Token![,]>()?;
        }
        errors.or_ok(args)
    }

    fn set(&mut self, option: &OptionEntry) -> syn::Result<()> {
        let name = option.name.to_string();
        match name.as_str() {
            "maxsize" => set_once(&mut self.maxsize, option, parse_maxsize),
            "policy" => set_once(&mut self.policy, option, parse_policy),
            "ttl" => set_once(&mut self.ttl, option, parse_ttl),
            "refresh_after" => set_once(&mut self.refresh_after, option, parse_refresh_after),
            "skip_args" => set_once(&mut self.skip_args, option, parse_skip_args),
            "key" => set_once(&mut self.key, option, parse_key),
            "convert" => set_once(&mut self.convert, option, parse_convert),
            "result" => set_once(&mut self.result, option, |v| parse_flag(v, "result")),
            "option" => set_once(&mut self.option, option, |v| parse_flag(v, "option")),
            "redis" => set_once(&mut self.redis, option, parse_redis),
            "name" => set_once(&mut self.name, option, parse_name),
            "crate" => set_once(&mut self.krate, option, parse_crate),
            _ => Err(syn::Error::new(
                option.name.span(),
                format!("unknown option `{name}`; the options are {VALID_FORMS}"),
            )),
        }
    }
}

/// One `name = value` (the value is any expression, so a wrong kind of value gets a precise message; `key`'s value
/// is a type).
struct OptionEntry {
    name: Ident,
    value: Value,
}

/// What follows `=`.
enum Value {
    Expr(Expr),
    Type(Type),
}

impl Value {
    fn span(&self) -> Span {
        match self {
            Self::Expr(e) => e.span(),
            Self::Type(t) => t.span(),
        }
    }

    /// The expression, or an error saying what was expected.
    fn expr(&self, form: &str) -> syn::Result<&Expr> {
        match self {
            Self::Expr(e) => Ok(e),
            Self::Type(t) => Err(syn::Error::new_spanned(
                t,
                format!("expected a value: write {form}"),
            )),
        }
    }
}

impl Parse for OptionEntry {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        // `crate` is a keyword: accept any identifier here and sort the names out in `Args::set`.
        let name = Ident::parse_any(input).map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("expected an option; the options are {VALID_FORMS}"),
            )
        })?;
        if !input.peek(Token![=]) {
            let form = example(&name.to_string());
            return Err(syn::Error::new(
                name.span(),
                format!("option `{name}` needs a value: write {form}"),
            ));
        }
        input.parse::<Token![=]>()?;
        let value = if name == "key" {
            // `key = (String, u64)` or, as `cached` writes it, `key = "(String, u64)"`.
            if input.peek(LitStr) {
                let s: LitStr = input.parse()?;
                Value::Type(s.parse().map_err(|e| {
                    syn::Error::new(
                        s.span(),
                        format!("expected a type in the string: {e}; write `key = String`"),
                    )
                })?)
            } else {
                Value::Type(input.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        format!("expected a type: {e}; write `key = String`"),
                    )
                })?)
            }
        } else {
            Value::Expr(input.parse()?)
        };
        Ok(Self { name, value })
    }
}

/// How an option is written, for messages.
fn example(key: &str) -> String {
    match key {
        "maxsize" => "`maxsize = 128`".to_owned(),
        "policy" => "`policy = \"lru\"`, `\"lfu\"` or `\"tinylfu\"`".to_owned(),
        "ttl" => "`ttl = 60` or `ttl = 0.5` (seconds)".to_owned(),
        "refresh_after" => "`refresh_after = 30` or `refresh_after = 0.5` (seconds)".to_owned(),
        "skip_args" => "`skip_args = 1`".to_owned(),
        "key" | "convert" => "`key = Type, convert = expr`".to_owned(),
        "result" => "`result = true`".to_owned(),
        "option" => "`option = true`".to_owned(),
        "redis" => {
            "`redis = \"TIER.clone()\"` (an expression that yields a `RedisTier`)".to_owned()
        }
        "name" => "`name = \"users\"`".to_owned(),
        "crate" => "`crate = \"path::to::cache_core\"`".to_owned(),
        _ => format!("one of {VALID_FORMS}"),
    }
}

/// The one setter: refuses a second occurrence of an option, parses and stores the first.
fn set_once<T>(
    slot: &mut Option<WithSpan<T>>,
    option: &OptionEntry,
    parse: impl FnOnce(&Value) -> syn::Result<T>,
) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            option.name.span(),
            format!(
                "duplicate option `{}`: set each option at most once",
                option.name
            ),
        ));
    }
    let value = parse(&option.value)?;
    *slot = Some(WithSpan {
        value,
        span: option.value.span(),
    });
    Ok(())
}

#[cfg(test)]
mod tests;
