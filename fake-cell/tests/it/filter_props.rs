//! Property tests for the filter parser: printing an AST and parsing it back gives the same AST;
//! arbitrary input never panics (it parses or yields a 400 `invalid_argument`).

use fake_cell::engine::search::filter::{Filter, parse};
use proptest::prelude::*;

fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_whitespace() || "():[]\\,".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn print(f: &Filter) -> String {
    match f {
        Filter::And(a, b) => format!("({} AND {})", print(a), print(b)),
        Filter::Or(a, b) => format!("({} OR {})", print(a), print(b)),
        Filter::Not(a) => format!("NOT {}", print(a)),
        Filter::Eq { field, value } => format!("{}:{}", escape(field), escape(value)),
        Filter::Range { field, lo, hi } => {
            let b = |x: &Option<f64>| x.map_or("*".to_string(), |v| v.to_string());
            format!("{}:[{} TO {}]", escape(field), b(lo), b(hi))
        }
        Filter::In { field, values } => format!(
            "{} IN ({})",
            escape(field),
            values
                .iter()
                .map(|v| format!("({})", v.replace('\\', "\\\\").replace(')', "\\)")))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn ident() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,6}".prop_filter("not an operator", |s| {
        !["AND", "OR", "NOT"].contains(&s.as_str())
    })
}

fn value() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .:()-]{1,8}".prop_filter("trimmed, not an operator", |s| {
        s.trim() == s && !["AND", "OR", "NOT"].contains(&s.as_str())
    })
}

fn leaf() -> impl Strategy<Value = Filter> {
    prop_oneof![
        (ident(), value()).prop_map(|(field, value)| Filter::Eq { field, value }),
        (
            ident(),
            proptest::option::of(-1000i32..1000),
            proptest::option::of(-1000i32..1000)
        )
            .prop_filter("one bound", |(_, a, b)| a.is_some() || b.is_some())
            .prop_map(|(field, lo, hi)| Filter::Range {
                field,
                lo: lo.map(f64::from),
                hi: hi.map(f64::from)
            }),
        (
            ident(),
            proptest::collection::vec(
                "[a-z0-9 ]{1,6}".prop_filter("trimmed", |s| s.trim() == s),
                1..4
            )
        )
            .prop_map(|(field, values)| Filter::In { field, values }),
    ]
}

fn tree() -> impl Strategy<Value = Filter> {
    leaf().prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn print_then_parse_round_trips(f in tree()) {
        let text = print(&f);
        let parsed = parse(&text);
        prop_assert!(parsed.is_ok(), "{text:?} failed: {:?}", parsed.err());
        prop_assert_eq!(parsed.ok(), Some(f), "{}", text);
    }

    #[test]
    fn arbitrary_input_never_panics(s in "\\PC{0,40}") {
        if let Err(e) = parse(&s) {
            prop_assert_eq!(e.code(), "invalid_argument");
            prop_assert_eq!(e.status().as_u16(), 400);
        }
    }

    #[test]
    fn and_binds_tighter_than_or(a in ident(), b in ident(), c in ident()) {
        let f = parse(&format!("{a}:1 OR {b}:2 AND {c}:3")).unwrap();
        let is_or = matches!(f, Filter::Or(_, _));
        prop_assert!(is_or);
    }
}
