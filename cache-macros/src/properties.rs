//! Property tests of the attribute itself: generated option lists and signatures never make it panic, and every
//! refusal is a `compile_error!` spanned on the user's tokens (never on the macro's call site), next to the
//! user's item.
//!
//! Inputs are source text, parsed with real line/column spans (proc-macro2's `span-locations`), so a span can
//! be checked to lie inside what the user wrote.

use proc_macro2::TokenStream;
use proptest::prelude::*;

use crate::args::Args;
use crate::expand::attribute;

/// Option values of every kind: good and bad literals, constants, expressions, types, garbage.
fn value() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "0",
        "1",
        "128",
        "-1",
        "0.5",
        "-0.5",
        "0.0",
        "1e300",
        "5ms",
        "18446744073709551616",
        "\"lfu\"",
        "\"LRU\"",
        "\"fifo\"",
        "\"\"",
        "true",
        "false",
        "MAX",
        "10 * 1024",
        "Duration::from_millis(500)",
        "crate::x::Y",
        "(String, u64)",
        "Vec<u8>",
        "x.to_string()",
        "\"::a::b\"",
        "{ 1 }",
        "[1, 2]",
        "|x| x",
        "'c'",
        "b\"x\"",
        "r#\"{ x }\"#",
        "\"not a type!\"",
    ])
    .prop_map(str::to_owned)
}

fn option() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec![
        "maxsize",
        "policy",
        "ttl",
        "skip_args",
        "key",
        "convert",
        "result",
        "option",
        "crate",
        "size",
        "r#type",
    ]);
    prop_oneof![
        8 => (name.clone(), value()).prop_map(|(n, v)| format!("{n} = {v}")),
        1 => name.prop_map(str::to_owned),
        1 => Just("= 3".to_owned()),
        1 => Just("maxsize == 3".to_owned()),
    ]
}

fn options() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(option(), 0..5),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(opts, trailing, space)| {
            let sep = if space { " " } else { ", " };
            let mut s = opts.join(sep);
            if trailing && !s.is_empty() {
                s.push(',');
            }
            s
        })
}

fn arg_type() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "u64",
        "&str",
        "&mut Vec<u8>",
        "String",
        "f64",
        "impl AsRef<str>",
        "&'a str",
        "Cow<'a, str>",
        "Self",
        "&Self",
        "Arc<Self>",
        "T",
        "[u8; N]",
        "fn(&u8) -> u8",
        "Box<dyn Fn(&u8)>",
        "(u8, u16)",
        "&[u8]",
        "HashMap<String, f64>",
        "Option<Self>",
    ])
    .prop_map(str::to_owned)
}

fn pattern() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "x",
        "mut y",
        "_",
        "(a, b)",
        "ref z",
        "_w",
        "__async_cache_key",
    ])
    .prop_map(str::to_owned)
}

fn receiver() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "",
        "&self, ",
        "&mut self, ",
        "self, ",
        "self: Arc<Self>, ",
        "self: &Arc<Self>, ",
        "self: Box<Self>, ",
        "&'a self, ",
    ])
    .prop_map(str::to_owned)
}

fn output() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "",
        "-> u64",
        "-> Result<u64, E>",
        "-> Option<T>",
        "-> ApiResult<u64>",
        "-> impl Display",
        "-> &str",
        "-> Self",
        "-> Option<Self>",
        "-> io::Result<u8>",
        "-> Result",
        "-> Option<u8, u8>",
        "-> ()",
    ])
    .prop_map(str::to_owned)
}

fn signature() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        prop::sample::select(vec![
            "",
            "<T>",
            "<'a>",
            "<const N: usize>",
            "<T: Display, 'a>",
        ]),
        receiver(),
        prop::collection::vec((pattern(), arg_type()), 0..4),
        output(),
        prop::sample::select(vec![
            "",
            "pub ",
            "pub(crate) ",
            "pub(super) ",
            "pub(in crate::a) ",
        ]),
    )
        .prop_map(|(is_async, generics, receiver, args, output, vis)| {
            let asyncness = if is_async { "async " } else { "" };
            let args: Vec<String> = args.iter().map(|(p, t)| format!("{p}: {t}")).collect();
            format!(
                "{vis}{asyncness}fn f{generics}({receiver}{}) {output} {{ todo!() }}",
                args.join(", ")
            )
        })
}

/// Every error in the output is spanned on a token of the input (line 1 or later; the macro's own call site
/// has no line in this setting).
fn assert_spanned(e: &syn::Error, input: &str) {
    for e in e.clone() {
        let start = e.span().start();
        assert!(
            start.line >= 1,
            "error not spanned on the user's tokens: {e} (input: {input})"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Options alone: parsed or refused with spanned errors, never a panic.
    #[test]
    fn options_never_panic(opts in options()) {
        let Ok(tokens) = opts.parse::<TokenStream>() else { return Ok(()) };
        if let Err(e) = Args::parse(tokens) {
            assert_spanned(&e, &opts);
        }
    }

    /// Options and signatures together, through the whole attribute: an expansion, or the item unchanged next to
    /// spanned `compile_error!`s.
    #[test]
    fn attribute_never_panics(opts in options(), sig in signature()) {
        let (Ok(args), Ok(item)) = (opts.parse::<TokenStream>(), sig.parse::<TokenStream>()) else {
            return Ok(());
        };
        let model = syn::parse2::<syn::ItemFn>(item.clone())
            .and_then(|func| Args::parse(args.clone()).and_then(|a| crate::model::Model::new(a, func, None)));
        let out = attribute(args, item.clone()).to_string();
        match model {
            Ok(_) => prop_assert!(!out.contains("compile_error"), "accepted but refused: {out}"),
            Err(e) => {
                assert_spanned(&e, &format!("#[async_cache({opts})] {sig}"));
                prop_assert!(out.contains("compile_error"), "refused without an error: {out}");
                prop_assert!(out.starts_with(&item.to_string()), "the item is not kept: {out}");
            }
        }
    }
}
