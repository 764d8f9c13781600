//! The attribute's options: `maxsize = 128, policy = "lfu", ttl = 60, skip_args = 1, key = K, convert = expr,
//! result = true, option = true, crate = "path"` parsed into typed [`Args`], each value with the span of the
//! token it came from. One setter per option; each refuses a second occurrence and a bad value with an error on
//! the offending token that lists the valid forms.
//!
//! `maxsize` and `ttl` take a literal (checked here) or a constant expression (`MAX_USERS`, `10 * 1024`,
//! `Duration::from_millis(500)`), which the expansion evaluates in a `const` block and checks when the cache is
//! built (`maxsize` at compile time).

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;

use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{
    Expr, ExprLit, ExprUnary, Ident, Lit, LitBool, LitFloat, LitInt, LitStr, Path, Token, Type,
    UnOp,
};

use crate::errors::Errors;

/// Every option, as a user writes it: the tail of every "unknown option" message.
pub(crate) const VALID_FORMS: &str =
    "`maxsize = 128`, `policy = \"lru\"`, `\"lfu\"` or `\"tinylfu\"`, \
     `ttl = 60` or `ttl = 0.5` (seconds), `refresh_after = 30` (seconds), `skip_args = 1`, `key = Type` with `convert = expr`, \
     `result = true`, `option = true`, `crate = \"path::to::cache_core\"`";

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

fn literal(expr: &Expr) -> Option<&Lit> {
    match expr {
        Expr::Lit(ExprLit { lit, .. }) => Some(lit),
        Expr::Group(group) => literal(&group.expr),
        _ => None,
    }
}

/// Numeric suffixes allowed on option values (`128usize`, `0.5f64`); anything else (`5ms`) is refused so that a
/// unit is never silently ignored.
fn check_suffix(suffix: &str, span: Span, what: &str) -> syn::Result<()> {
    const NUMERIC: [&str; 15] = [
        "", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "f32", "f64",
    ];
    if NUMERIC.contains(&suffix) {
        Ok(())
    } else {
        Err(syn::Error::new(
            span,
            format!("unexpected suffix `{suffix}`: {what}"),
        ))
    }
}

fn parse_int<'a>(expr: &'a Expr, form: &str) -> syn::Result<(u64, &'a LitInt)> {
    let wrong = || syn::Error::new_spanned(expr, format!("expected an integer: write {form}"));
    match literal(expr) {
        Some(Lit::Int(int)) => {
            check_suffix(int.suffix(), int.span(), &format!("write {form}"))?;
            let value = int
                .base10_parse::<u64>()
                .map_err(|_| syn::Error::new(int.span(), format!("too large; write {form}")))?;
            Ok((value, int))
        }
        _ => Err(wrong()),
    }
}

fn parse_maxsize(value: &Value) -> syn::Result<Amount<usize>> {
    const FORM: &str = "`maxsize = 128` (or a constant, `maxsize = MAX_USERS`)";
    let expr = value.expr(FORM)?;
    if negative(expr).is_some_and(|inner| literal(inner).is_some()) {
        return Err(syn::Error::new_spanned(
            expr,
            "`maxsize` must be at least 1 (it is the most entries the cache holds), as in `maxsize = 128`",
        ));
    }
    if literal(expr).is_none() {
        return Ok(Amount::Const(Box::new(expr.clone())));
    }
    let (value, int) = parse_int(expr, FORM)?;
    if value == 0 {
        return Err(syn::Error::new(
            int.span(),
            "`maxsize = 0` would cache nothing: `maxsize` is the most entries the cache holds and must be at \
             least 1 (omit it for the default of 128)",
        ));
    }
    if value > MAX_MAXSIZE {
        return Err(syn::Error::new(
            int.span(),
            format!("`maxsize` must be at most {MAX_MAXSIZE}"),
        ));
    }
    usize::try_from(value).map(Amount::Literal).map_err(|_| {
        syn::Error::new(
            int.span(),
            "`maxsize` does not fit in this target's `usize`",
        )
    })
}

fn parse_skip_args(value: &Value) -> syn::Result<usize> {
    let expr = value.expr("`skip_args = 1`")?;
    if negative(expr).is_some() {
        return Err(syn::Error::new_spanned(
            expr,
            "`skip_args` counts leading arguments and cannot be negative, as in `skip_args = 1`",
        ));
    }
    let (value, int) = parse_int(expr, "`skip_args = 1`")?;
    usize::try_from(value).map_err(|_| syn::Error::new(int.span(), "`skip_args` is too large"))
}

fn parse_key(value: &Value) -> syn::Result<Type> {
    match value {
        Value::Type(t) => Ok(t.clone()),
        Value::Expr(e) => Err(syn::Error::new_spanned(
            e,
            "expected a type: write `key = String`",
        )),
    }
}

/// `convert = expr`, or `cached`'s `convert = r#"{ expr }"#` (the string's contents, spanned on the string).
fn parse_convert(value: &Value) -> syn::Result<Expr> {
    let expr = value.expr("`convert = expr`")?;
    match literal(expr) {
        Some(Lit::Str(s)) => s.parse::<Expr>().map_err(|e| {
            syn::Error::new(
                s.span(),
                format!("expected an expression in the string: {e}; or write it unquoted: `convert = expr`"),
            )
        }),
        _ => Ok(expr.clone()),
    }
}

fn parse_flag(value: &Value, name: &str) -> syn::Result<bool> {
    let expr = value.expr(&format!("`{name} = true`"))?;
    match literal(expr) {
        Some(Lit::Bool(LitBool { value, .. })) => Ok(*value),
        _ => Err(syn::Error::new_spanned(
            expr,
            format!("expected `true` or `false`: write `{name} = true`"),
        )),
    }
}

fn parse_policy(value: &Value) -> syn::Result<PolicyKind> {
    let form = "`policy = \"lru\"`, `\"lfu\"` or `\"tinylfu\"`";
    let expr = value.expr(form)?;
    match literal(expr) {
        Some(Lit::Str(s)) => match s.value().to_ascii_lowercase().as_str() {
            "lru" => Ok(PolicyKind::Lru),
            "lfu" => Ok(PolicyKind::Lfu),
            "tinylfu" => Ok(PolicyKind::TinyLfu),
            other => Err(syn::Error::new(
                s.span(),
                format!("unknown policy \"{other}\": write {form}"),
            )),
        },
        _ => Err(syn::Error::new_spanned(
            expr,
            format!("expected a string literal: write {form}"),
        )),
    }
}

/// `Some(inner)` for `-inner`.
fn negative(expr: &Expr) -> Option<&Expr> {
    match expr {
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => Some(expr),
        Expr::Group(group) => negative(&group.expr),
        _ => None,
    }
}

fn parse_ttl(value: &Value) -> syn::Result<Amount<u64>> {
    const NO_EXPIRY: &str = "omit `ttl` for no expiry";
    const FORM: &str = "`ttl = 60` or `ttl = 0.5` (seconds)";
    let expr = value.expr(FORM)?;
    if negative(expr).is_some_and(|inner| literal(inner).is_some()) {
        return Err(syn::Error::new_spanned(
            expr,
            format!("`ttl` must be a positive number of seconds, as in {FORM}; {NO_EXPIRY}"),
        ));
    }
    let nanos = match literal(expr) {
        None => return Ok(Amount::Const(Box::new(expr.clone()))),
        Some(Lit::Int(int)) => {
            check_suffix(
                int.suffix(),
                int.span(),
                &format!("`ttl` is in seconds: write {FORM}"),
            )?;
            let secs = int
                .base10_parse::<u64>()
                .map_err(|_| too_long(int.span()))?;
            secs.checked_mul(1_000_000_000)
                .ok_or_else(|| too_long(int.span()))?
        }
        Some(Lit::Float(float)) => float_nanos(float)?,
        Some(_) => {
            return Err(syn::Error::new_spanned(
                expr,
                format!(
                    "expected a number of seconds: write {FORM}, a constant (`ttl = TTL_SECS`) or a `Duration` \
                     (`ttl = Duration::from_millis(500)`); {NO_EXPIRY}"
                ),
            ))
        }
    };
    if nanos == 0 {
        return Err(syn::Error::new_spanned(
            expr,
            format!(
                "`ttl` must be positive: a zero TTL would expire every entry at once; {NO_EXPIRY}"
            ),
        ));
    }
    Ok(Amount::Literal(nanos))
}

/// `refresh_after`: the forms and checks of `ttl`, with messages that name `refresh_after`.
fn parse_refresh_after(value: &Value) -> syn::Result<Amount<u64>> {
    parse_ttl(value).map_err(|errors| {
        let mut renamed = crate::errors::Errors::default();
        for e in errors {
            let message = e
                .to_string()
                .replace(
                    "omit `ttl` for no expiry",
                    "omit `refresh_after` for no refreshes",
                )
                .replace("TTL_SECS", "REFRESH_SECS")
                .replace(
                    "a zero TTL would expire every entry at once",
                    "every hit would reload",
                )
                .replace("`ttl", "`refresh_after");
            renamed.push(syn::Error::new(e.span(), message));
        }
        renamed
            .or_ok(())
            .expect_err("an error has at least one message")
    })
}

fn too_long(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "`ttl` is too long (at most about 584 years); omit `ttl` for no expiry",
    )
}

fn float_nanos(float: &LitFloat) -> syn::Result<u64> {
    check_suffix(
        float.suffix(),
        float.span(),
        "`ttl` is in seconds: write `ttl = 0.5`",
    )?;
    let secs: f64 = float.base10_parse()?;
    if !secs.is_finite() || secs < 0.0 {
        return Err(syn::Error::new(
            float.span(),
            "`ttl` must be a positive number of seconds; omit `ttl` for no expiry",
        ));
    }
    let nanos = (secs * 1e9).round();
    // 2^64 as an f64: every smaller non-negative whole f64 fits in a u64.
    if nanos >= 18_446_744_073_709_551_616.0 {
        return Err(too_long(float.span()));
    }
    if nanos < 1.0 {
        let why = if secs == 0.0 {
            "a zero TTL would expire every entry at once"
        } else {
            "this rounds to zero nanoseconds"
        };
        return Err(syn::Error::new(
            float.span(),
            format!("`ttl` must be positive: {why}; omit `ttl` for no expiry"),
        ));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(nanos as u64)
}

fn parse_crate(value: &Value) -> syn::Result<Path> {
    let form = "`crate = \"path::to::cache_core\"`";
    let expr = value.expr(form)?;
    match literal(expr) {
        Some(Lit::Str(s)) => s.parse::<Path>().map_err(|_| {
            syn::Error::new(
                s.span(),
                format!("expected a path in the string, as in {form}"),
            )
        }),
        _ => match expr {
            Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => Ok(p.path.clone()),
            _ => Err(syn::Error::new_spanned(
                expr.to_token_stream(),
                format!("expected a string literal: write {form}"),
            )),
        },
    }
}

#[cfg(test)]
mod tests;
