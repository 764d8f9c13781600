//! The value of each option, parsed and checked: literals here, constant expressions left to the expansion.

use proc_macro2::Span;
use quote::ToTokens;
use syn::{Expr, ExprLit, ExprUnary, Lit, LitBool, LitFloat, LitInt, Path, Type, UnOp};

use super::{Amount, PolicyKind, Value, MAX_MAXSIZE};

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

pub(super) fn parse_maxsize(value: &Value) -> syn::Result<Amount<usize>> {
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

pub(super) fn parse_skip_args(value: &Value) -> syn::Result<usize> {
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

pub(super) fn parse_key(value: &Value) -> syn::Result<Type> {
    match value {
        Value::Type(t) => Ok(t.clone()),
        Value::Expr(e) => Err(syn::Error::new_spanned(
            e,
            "expected a type: write `key = String`",
        )),
    }
}

/// `convert = expr`, or `cached`'s `convert = r#"{ expr }"#` (the string's contents, spanned on the string).
pub(super) fn parse_convert(value: &Value) -> syn::Result<Expr> {
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

/// `redis = "expr"` (the expression in the string, spanned on the string) or `redis = expr`.
pub(super) fn parse_redis(value: &Value) -> syn::Result<Expr> {
    const FORM: &str =
        "`redis = \"TIER.clone()\"` (an expression that yields a `cache_core::redis::RedisTier`)";
    let expr = value.expr(FORM)?;
    match literal(expr) {
        Some(Lit::Str(s)) => s.parse::<Expr>().map_err(|e| {
            syn::Error::new(
                s.span(),
                format!("expected an expression in the string: {e}; write {FORM}"),
            )
        }),
        Some(_) => Err(syn::Error::new_spanned(
            expr,
            format!("expected an expression that yields the tier: write {FORM}"),
        )),
        None => Ok(expr.clone()),
    }
}

/// Whether `name` is a valid cache name in a shared tier (as `CacheBuilder::name` checks it).
pub(crate) fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// `name = "users"`: a cache name as the builder accepts it.
pub(super) fn parse_name(value: &Value) -> syn::Result<String> {
    const FORM: &str = "`name = \"users\"`";
    let expr = value.expr(FORM)?;
    match literal(expr) {
        Some(Lit::Str(s)) if valid_name(&s.value()) => Ok(s.value()),
        Some(Lit::Str(s)) => Err(syn::Error::new(
            s.span(),
            "a cache name is 1 to 64 characters, each an ASCII letter, digit, `_`, `-` or `.`",
        )),
        _ => Err(syn::Error::new_spanned(
            expr,
            format!("expected a string literal: write {FORM}"),
        )),
    }
}

pub(super) fn parse_flag(value: &Value, name: &str) -> syn::Result<bool> {
    let expr = value.expr(&format!("`{name} = true`"))?;
    match literal(expr) {
        Some(Lit::Bool(LitBool { value, .. })) => Ok(*value),
        _ => Err(syn::Error::new_spanned(
            expr,
            format!("expected `true` or `false`: write `{name} = true`"),
        )),
    }
}

pub(super) fn parse_policy(value: &Value) -> syn::Result<PolicyKind> {
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

pub(super) fn parse_ttl(value: &Value) -> syn::Result<Amount<u64>> {
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
pub(super) fn parse_refresh_after(value: &Value) -> syn::Result<Amount<u64>> {
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

pub(super) fn parse_crate(value: &Value) -> syn::Result<Path> {
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
