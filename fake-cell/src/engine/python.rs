//! How Marqo's Python prints a JSON body it parsed, for the error messages that quote one:
//! `str()` / `repr()` of what `json.loads` made (dicts keep their order, `true` is `True`, a
//! float is its shortest round-trip repr), and `json.dumps` with its default separators and
//! `ensure_ascii`. Marqo builds messages with f-strings, so a test that asserts on one compares
//! these characters.

use serde_json::{Number, Value};

/// `str(value)`: a string bare, anything else as [`repr`].
pub fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => repr(other),
    }
}

/// `type(value).__name__` of what `json.loads` made.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// `repr(value)`.
pub fn repr(v: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, v);
    out
}

fn write_repr(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => out.push_str(&number(n)),
        Value::String(s) => out.push_str(&str_repr(s)),
        compound => write_compound(out, compound, |o, k| o.push_str(&str_repr(k)), write_repr),
    }
}

/// A list or dict on one line with Python's `", "` and `": "`, its keys and items written by
/// `key` and `item` (`repr` and `json.dumps` differ only there).
fn write_compound(
    out: &mut String,
    v: &Value,
    key: fn(&mut String, &str),
    item: fn(&mut String, &Value),
) {
    match v {
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                item(out, x);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                key(out, k);
                out.push_str(": ");
                item(out, x);
            }
            out.push('}');
        }
        _ => {}
    }
}

/// A JSON number as Python holds it: integers stay integers, the rest are floats.
fn number(n: &Number) -> String {
    match (n.as_i64(), n.as_u64(), n.as_f64()) {
        (Some(i), _, _) => i.to_string(),
        (_, Some(u), _) => u.to_string(),
        (_, _, Some(f)) => float_repr(f),
        _ => n.to_string(),
    }
}

/// `repr(float)`: the shortest digits that round-trip, positional for decimal exponents from
/// -4 to 15 (always with a fractional part), scientific otherwise (`1e+16`, `1.5e-05`).
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    // Rust's `{:e}` is also the shortest round-trip form: "-1.5e-5", "1e16", "0e0".
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1;
        let (int, frac) = if point <= 0 {
            let zeros = "0".repeat(point.unsigned_abs() as usize);
            ("0".to_string(), format!("{zeros}{digits}"))
        } else {
            let p = point as usize;
            let padded = format!("{digits:0<p$}");
            (padded[..p].to_string(), padded[p..].to_string())
        };
        let frac = if frac.is_empty() { "0".into() } else { frac };
        format!("{sign}{int}.{frac}")
    } else {
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exp.unsigned_abs())
    }
}

/// `repr(str)`: single quotes unless the text has one and no double quote; backslash escapes
/// for the quote, backslashes, `\t` `\n` `\r`, and `\x`/`\u` for what Python cannot print.
pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            c if c == quote || c == '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if !printable(c) => {
                let n = u32::from(c);
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `str.isprintable()` for one character: not a control, separator (other than the space) or
/// format character. The table covers the ones a request can plausibly hold.
fn printable(c: char) -> bool {
    !(c.is_control()
        || matches!(
            c,
            '\u{a0}'
                | '\u{ad}'
                | '\u{1680}'
                | '\u{2000}'..='\u{200f}'
                | '\u{2028}'..='\u{202f}'
                | '\u{205f}'..='\u{2064}'
                | '\u{3000}'
                | '\u{feff}'
        ))
}

/// `float(text)`: surrounding whitespace ignored, `_` allowed between digits, `inf`,
/// `infinity` and `nan` in any case; `None` where Python raises `ValueError`.
pub fn parse_float(text: &str) -> Option<f64> {
    let t = text.trim();
    let b = t.as_bytes();
    let underscores_ok = b.iter().enumerate().all(|(i, c)| {
        *c != b'_'
            || (i > 0 && b[i - 1].is_ascii_digit() && b.get(i + 1).is_some_and(u8::is_ascii_digit))
    });
    if !underscores_ok {
        return None;
    }
    let t = t.replace('_', "");
    let lower = t.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if unsigned.len() + 1 < lower.len() {
        return None;
    }
    match unsigned {
        "inf" | "infinity" | "nan" => lower.parse().ok(),
        _ if unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.') => t.parse().ok(),
        _ => None,
    }
}

/// `json.dumps(value)` with Python's defaults: `", "` and `": "` between items and keys, and
/// every character outside printable ASCII escaped (`ensure_ascii`).
pub fn json_dumps(v: &Value) -> String {
    let mut out = String::new();
    write_json(&mut out, v);
    out
}

/// `json.dumps(value, indent=n)`: one item per line, `", "` becomes `","` at line ends (what
/// pydantic's `ValidationError.json()` writes, which Marqo sends as some messages).
pub fn json_dumps_indented(v: &Value, indent: usize) -> String {
    let mut out = String::new();
    write_json_indented(&mut out, v, indent, 0);
    out
}

fn write_json_indented(out: &mut String, v: &Value, indent: usize, level: usize) {
    let pad = |out: &mut String, level: usize| {
        out.push('\n');
        out.push_str(&" ".repeat(indent * level));
    };
    match v {
        Value::Array(a) if !a.is_empty() => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, level + 1);
                write_json_indented(out, x, indent, level + 1);
            }
            pad(out, level);
            out.push(']');
        }
        Value::Object(o) if !o.is_empty() => {
            out.push('{');
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, level + 1);
                json_string(out, k);
                out.push_str(": ");
                write_json_indented(out, x, indent, level + 1);
            }
            pad(out, level);
            out.push('}');
        }
        other => write_json(out, other),
    }
}

fn write_json(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // serde_json holds no NaN or infinity, so json.dumps' spellings of them never arise.
        Value::Number(n) => out.push_str(&number(n)),
        Value::String(s) => json_string(out, s),
        compound => write_compound(out, compound, json_string, write_json),
    }
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_print_as_python_repr() {
        for (x, want) in [
            (2.0, "2.0"),
            (0.5, "0.5"),
            (-1.25, "-1.25"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (9999999999999998.0, "9999999999999998.0"),
            (123456.0, "123456.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (1e300, "1e+300"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(float_repr(x), want, "{x:e}");
        }
    }

    #[test]
    fn values_print_as_python_repr_and_str() {
        let v = json!({"a": [1, 2.0, true, null], "b's": "it's", "c": "say \"hi\"\n", "d": {}});
        assert_eq!(
            repr(&v),
            r#"{'a': [1, 2.0, True, None], "b's": "it's", 'c': 'say "hi"\n', 'd': {}}"#
        );
        assert_eq!(str_of(&json!("plain")), "plain");
        assert_eq!(str_repr("both ' and \""), r#"'both \' and "'"#);
        assert_eq!(str_repr("tab\there\u{1}é\u{a0}"), r"'tab\there\x01é\xa0'");
    }

    #[test]
    fn text_parses_as_python_float_does() {
        for (t, want) in [
            ("2", Some(2.0)),
            (" -1.5e3 ", Some(-1500.0)),
            ("1_000.5", Some(1000.5)),
            (".5", Some(0.5)),
            ("+Infinity", Some(f64::INFINITY)),
            ("1__0", None),
            ("_1", None),
            ("abc", None),
            ("", None),
            ("--1", None),
            ("0x10", None),
        ] {
            assert_eq!(parse_float(t), want, "{t:?}");
        }
        assert!(parse_float("NaN").is_some_and(f64::is_nan));
    }

    #[test]
    fn json_dumps_uses_python_separators_and_ascii_escapes() {
        let v = json!([{"loc": ["multiply_score_by", 0, "wéight"], "msg": "x\"y", "n": 2.0}]);
        assert_eq!(
            json_dumps(&v),
            r#"[{"loc": ["multiply_score_by", 0, "w\u00e9ight"], "msg": "x\"y", "n": 2.0}]"#
        );
        assert_eq!(json_dumps(&json!("😀")), r#""\ud83d\ude00""#);
        assert_eq!(
            json_dumps_indented(&json!([{"loc": ["t", 0], "e": [], "é": {}}]), 2),
            "[\n  {\n    \"loc\": [\n      \"t\",\n      0\n    ],\n    \"e\": [],\n    \"\\u00e9\": {}\n  }\n]"
        );
    }
}
