//! YAML text for the exports, written from a `serde_json::Value`.
//!
//! Why not a YAML crate: the exports only ever *write* YAML, serde_yaml is archived and its forks
//! are young; block-style YAML with every string double-quoted is small to write and correct by
//! construction, because a JSON string literal is a valid YAML double-quoted scalar (same escapes).
//! Keys keep the order of the `Value` (the workspace builds serde_json with `preserve_order`), so
//! the builders decide the order and the output is byte-stable. `tests/export/validate.sh` reads
//! every file back with PyYAML and compares it with the JSON form.

use serde_json::Value;

/// One YAML document (no `---`), ending in a newline.
pub fn to_string(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0),
        scalar => {
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
    out
}

/// Several documents in one file, separated by `---`.
pub fn documents(docs: &[Value]) -> String {
    docs.iter().map(to_string).collect::<Vec<_>>().join("---\n")
}

fn write_map(out: &mut String, m: &serde_json::Map<String, Value>, indent: usize) {
    for (k, v) in m {
        push_indent(out, indent);
        out.push_str(&key_text(k));
        out.push(':');
        write_value_after_key(out, v, indent);
    }
}

fn write_seq(out: &mut String, a: &[Value], indent: usize) {
    for v in a {
        push_indent(out, indent);
        out.push('-');
        match v {
            // A map item starts on the dash's line: `- key: value`, the rest indented under it.
            Value::Object(m) if !m.is_empty() => {
                let mut first = true;
                for (k, item) in m {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        push_indent(out, indent + 2);
                    }
                    out.push_str(&key_text(k));
                    out.push(':');
                    write_value_after_key(out, item, indent + 2);
                }
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                write_seq(out, inner, indent + 2);
            }
            scalar => {
                out.push(' ');
                out.push_str(&scalar_text(scalar));
                out.push('\n');
            }
        }
    }
}

fn write_value_after_key(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, indent + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(out, a, indent + 2);
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

fn push_indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Scalars and empty collections; strings are always JSON-quoted (never read as a number,
/// a boolean such as `no`, or a null).
fn scalar_text(v: &Value) -> String {
    match v {
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
        // Value's Display is JSON: numbers, booleans, null and quoted strings are valid YAML.
        other => other.to_string(),
    }
}

/// Plain keys when they cannot be read as anything but a string, quoted otherwise.
fn key_text(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && !matches!(
            k.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain {
        k.to_owned()
    } else {
        Value::String(k.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_sequences_and_scalars_are_block_yaml_with_quoted_strings() {
        let v = json!({
            "a": 1, "b": "no", "on": true, "c": [], "d": {},
            "list": [{"x": "1", "y": [2, 3]}, "s", [4]],
            "9000/tcp": null, "quote": "a\"b\nc"
        });
        let text = to_string(&v);
        assert_eq!(
            text,
            "a: 1\nb: \"no\"\n\"on\": true\nc: []\nd: {}\nlist:\n  - x: \"1\"\n    \"y\":\n      - 2\n      - 3\n  - \"s\"\n  -\n    - 4\n\"9000/tcp\": null\nquote: \"a\\\"b\\nc\"\n"
        );
    }

    #[test]
    fn documents_are_separated() {
        assert_eq!(
            documents(&[json!({"a": 1}), json!({"b": 2})]),
            "a: 1\n---\nb: 2\n"
        );
    }
}
