//! Option parsing: every option, its spellings, and each refusal.

use super::*;
use quote::quote;

fn err(tokens: TokenStream) -> String {
    match Args::parse(tokens) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn parses_every_option() {
    let args = Args::parse(quote!(
        maxsize = 10,
        policy = "LFU",
        ttl = 1.5,
        skip_args = 1,
        crate = "::x::y"
    ))
    .unwrap();
    assert!(matches!(args.maxsize.unwrap().value, Amount::Literal(10)));
    assert_eq!(args.policy.unwrap().value, PolicyKind::Lfu);
    assert!(matches!(
        args.ttl.unwrap().value,
        Amount::Literal(1_500_000_000)
    ));
    assert_eq!(args.skip_args.unwrap().value, 1);
    assert_eq!(args.krate.unwrap().value.segments.len(), 2);
}

#[test]
fn empty_and_trailing_comma() {
    assert!(Args::parse(quote!()).unwrap().maxsize.is_none());
    assert!(matches!(
        Args::parse(quote!(ttl = 2,)).unwrap().ttl.unwrap().value,
        Amount::Literal(2_000_000_000)
    ));
}

#[test]
fn refuses_bad_values() {
    assert!(err(quote!(maxsize = 0)).contains("at least 1"));
    assert!(err(quote!(maxsize = "1")).contains("expected an integer"));
    assert!(err(quote!(ttl = -1)).contains("omit `ttl`"));
    assert!(err(quote!(ttl = 0)).contains("omit `ttl`"));
    assert!(err(quote!(ttl = 0.0)).contains("omit `ttl`"));
    assert!(err(quote!(ttl = "60")).contains("omit `ttl`"));
    assert!(err(quote!(key = 3)).contains("expected a type"));
    assert!(err(quote!(ttl = 5ms)).contains("suffix `ms`"));
    assert!(err(quote!(policy = "fifo")).contains("\"lru\""));
    assert!(err(quote!(policy = lru)).contains("string literal"));
    assert!(err(quote!(size = 3)).contains("unknown option `size`"));
    assert!(err(quote!(maxsize)).contains("needs a value"));
    assert!(err(quote!(maxsize = 1, maxsize = 2)).contains("duplicate option `maxsize`"));
    assert!(err(quote!(maxsize = 1 ttl = 2)).contains("expected `,`"));
}

#[test]
fn refresh_after_takes_the_forms_of_ttl_with_its_own_messages() {
    let args = Args::parse(quote!(refresh_after = 1.5)).unwrap();
    assert!(matches!(
        args.refresh_after.unwrap().value,
        Amount::Literal(1_500_000_000)
    ));
    let args = Args::parse(quote!(refresh_after = REFRESH_SECS)).unwrap();
    assert!(matches!(
        args.refresh_after.unwrap().value,
        Amount::Const(_)
    ));
    for bad in [
        quote!(refresh_after = 0),
        quote!(refresh_after = -1),
        quote!(refresh_after = "5"),
    ] {
        let e = err(bad);
        assert!(e.contains("`refresh_after"), "{e}");
        assert!(!e.contains("`ttl"), "{e}");
    }
    assert!(err(quote!(refresh_after = 1, refresh_after = 2)).contains("duplicate option"));
}

#[test]
fn ttl_float_rounds_to_nanos() {
    let args = Args::parse(quote!(ttl = 0.000_000_001_4)).unwrap();
    assert!(matches!(args.ttl.unwrap().value, Amount::Literal(1)));
}

#[test]
fn constants_key_convert_and_flags() {
    let args = Args::parse(quote!(
        maxsize = 10 * MAX,
        ttl = Duration::from_millis(500),
        key = (String, u64),
        convert = (name.to_lowercase(), id),
        result = true,
        option = false
    ))
    .unwrap();
    assert!(matches!(args.maxsize.unwrap().value, Amount::Const(_)));
    assert!(matches!(args.ttl.unwrap().value, Amount::Const(_)));
    assert!(matches!(args.key.unwrap().value, Type::Tuple(_)));
    assert!(matches!(args.convert.unwrap().value, Expr::Tuple(_)));
    assert!(args.result.unwrap().value);
    assert!(!args.option.unwrap().value);
}

#[test]
fn cached_quoted_key_and_convert() {
    let args = Args::parse(quote!(
        key = "Vec<u8>",
        convert = r#"{ format!("{a}{b}").into_bytes() }"#
    ))
    .unwrap();
    assert!(matches!(args.key.unwrap().value, Type::Path(_)));
    assert!(matches!(args.convert.unwrap().value, Expr::Block(_)));
    assert!(err(quote!(key = "not a type!")).contains("expected a type"));
    assert!(err(quote!(convert = "{ unclosed")).contains("expected an expression"));
    assert!(err(quote!(result = 1)).contains("`true` or `false`"));
    assert!(err(quote!(maxsize = -3)).contains("at least 1"));
    assert!(err(quote!(ttl = "5")).contains("seconds"));
}
