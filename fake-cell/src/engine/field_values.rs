//! A structured index's field values, checked as Marqo's `StructuredVespaIndex` checks them
//! before a feed (`_verify_marqo_field_type`, then the numeric ranges of Vespa's `float`, `int`
//! and `long`) and stored as Vespa stores them: a `float` is 32 bits, so `1e-50` reads back as
//! `0` and `0.1` as `0.1` (the shortest decimal of the 32-bit value, as Vespa renders it).

use serde_json::{Number, Value};

use super::python;
use super::settings::fields::FieldDef;

const MAX_FLOAT: f64 = 3.4028235e38;
const MAX_INT: i64 = 2147483647;
/// Marqo's minimum: one above Vespa's, which filtering cannot express.
const MIN_INT: i64 = -2147483647;

/// The Python types Marqo's `_MARQO_TO_PYTHON_TYPE_MAP` gives a field type, as its messages
/// print them; for a list or map type, its elements' types.
enum Expect {
    One(&'static str),
    Either(&'static str, &'static str),
    ListOf(&'static [&'static str]),
    MapOf(&'static [&'static str]),
}

fn expect(kind: &str) -> Option<Expect> {
    Some(match kind {
        "text" | "image_pointer" | "video_pointer" | "audio_pointer" => Expect::One("str"),
        "bool" => Expect::One("bool"),
        "int" | "long" => Expect::One("int"),
        "float" | "double" => Expect::Either("float", "int"),
        "array<text>" => Expect::ListOf(&["str"]),
        "array<int>" | "array<long>" => Expect::ListOf(&["int"]),
        "array<float>" | "array<double>" => Expect::ListOf(&["float", "int"]),
        // Marqo checks only a list's elements; a map's are numbers by its dict validation.
        "map<text, int>" | "map<text, long>" | "map<text, float>" | "map<text, double>" => {
            Expect::MapOf(&["float", "int"])
        }
        _ => return None,
    })
}

/// `isinstance(value, <type>)` for what `json.loads` made, except that a boolean is not an
/// int here: Marqo lets Python's `True` through as one and Vespa then refuses it.
fn is(v: &Value, ty: &str) -> bool {
    python::type_name(v) == ty
}

/// Marqo's type check and range check for one field's value: `Err(message)` as Marqo words it.
pub fn check(f: &FieldDef, v: &Value) -> Result<(), String> {
    let Some(expected) = expect(&f.kind) else {
        return Ok(());
    };
    let (name, kind) = (&f.name, &f.kind);
    let class = |t: &str| format!("<class '{t}'>");
    match expected {
        Expect::One(t) if !is(v, t) => Err(type_message(v, name, kind, &class(t))),
        Expect::Either(a, b) if !is(v, a) && !is(v, b) => {
            let listed = format!("[{}, {}]", class(a), class(b));
            Err(type_message(v, name, kind, &listed))
        }
        Expect::ListOf(types) | Expect::MapOf(types) => {
            let items: Vec<&Value> = match (&expected, v) {
                (Expect::ListOf(_), Value::Array(a)) => a.iter().collect(),
                (Expect::MapOf(_), Value::Object(m)) => m.values().collect(),
                _ => return Err(list_message(v, name, kind)),
            };
            if !items.iter().all(|x| types.iter().any(|t| is(x, t))) {
                return Err(list_message(v, name, kind));
            }
            items.iter().try_for_each(|x| range(x, kind))
        }
        _ => range(v, kind),
    }
}

fn type_message(v: &Value, name: &str, kind: &str, expected: &str) -> String {
    format!(
        "Invalid value {} for field {name} with Marqo type {kind}. Expected a value of type {expected}, but found <class '{}'>",
        python::str_of(v),
        python::type_name(v)
    )
}

fn list_message(v: &Value, name: &str, kind: &str) -> String {
    format!(
        "Invalid value {} for a list field {name} with Marqo type {kind}. All list elements must be the same valid type ",
        python::str_of(v)
    )
}

/// `_verify_numerical_field_value`: Vespa's ranges for `float`, `int` and `long` (a `double`
/// takes any number). A number beyond 64 bits has already become a float here.
fn range(v: &Value, kind: &str) -> Result<(), String> {
    let Value::Number(n) = v else {
        return Ok(());
    };
    let shown = python::str_of(v);
    let family = kind
        .trim_start_matches("array<")
        .trim_start_matches("map<text, ");
    if family.starts_with("float") {
        let x = n.as_f64().unwrap_or(0.0);
        if !(-MAX_FLOAT..=MAX_FLOAT).contains(&x) {
            return Err(format!(
                "Invalid value {shown} for float field. Expected a value in the range [-3.4028235e+38, 3.4028235e+38], \
                 but found {shown}. If you wish to store a value outside of this range, create a field with type 'double' "
            ));
        }
    } else if family.starts_with("int") {
        if !n.as_i64().is_some_and(|i| (MIN_INT..=MAX_INT).contains(&i)) {
            return Err(format!(
                "Invalid value {shown} for int field. Expected a value in the range [{MIN_INT}, {MAX_INT}], \
                 but found {shown}. If you wish to store a value outside of this range, create a field with type 'long or 'double' "
            ));
        }
    } else if family.starts_with("long") && n.as_i64().is_none() {
        return Err(format!(
            "Invalid value {shown} for long field. Expected a value in the range [{}, {}], but found {shown}. \
             If you wish to store a value outside of this range, create a field with type 'double' ",
            i64::MIN,
            i64::MAX
        ));
    }
    Ok(())
}

/// The value as Vespa keeps it: a `float` field's numbers (also in arrays and maps) rounded to
/// 32 bits; every other value unchanged.
pub fn stored(f: &FieldDef, v: &Value) -> Value {
    let float = matches!(
        f.kind.as_str(),
        "float" | "array<float>" | "map<text, float>"
    );
    if !float {
        return v.clone();
    }
    match v {
        Value::Number(n) => n.as_f64().map_or(v.clone(), as_f32),
        Value::Array(a) => Value::Array(a.iter().map(|x| stored(f, x)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let x = x.as_f64().map_or(x.clone(), as_f32);
                    (k.clone(), x)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The shortest decimal that reads back as the same 32-bit float, as a JSON float (Vespa writes
/// `3.0f` as `3.0`, which Python compares equal to the 3 that was sent).
fn as_f32(x: f64) -> Value {
    let short: f64 = (x as f32).to_string().parse().unwrap_or(x);
    Number::from_f64(short).map_or(Value::Null, Value::Number)
}

/// A code point Vespa refuses in a string field (`Text.isTextCharacter`: the XML 1.1 text
/// characters): a control character other than tab, newline and carriage return, or a Unicode
/// noncharacter.
fn illegal(c: char) -> bool {
    let cp = c as u32;
    (cp < 0x20 && !matches!(c, '\t' | '\n' | '\r'))
        || (0xFDD0..=0xFDDF).contains(&cp)
        || (cp & 0xFFFE) == 0xFFFE
}

/// The first string of a document that Vespa would refuse to feed: the field and the code point.
pub fn illegal_code_point(fields: &serde_json::Map<String, Value>) -> Option<(&str, u32)> {
    fn first(v: &Value) -> Option<u32> {
        match v {
            Value::String(s) => s.chars().find(|c| illegal(*c)).map(|c| c as u32),
            Value::Array(a) => a.iter().find_map(first),
            Value::Object(m) => m.values().find_map(first),
            _ => None,
        }
    }
    fields
        .iter()
        .find_map(|(k, v)| first(v).map(|cp| (k.as_str(), cp)))
}

/// Marqo's item for a document Vespa refused over a string's characters (Vespa's words inside
/// Marqo's `translate_vespa_document_response`; Vespa names its own field, fake-cell the
/// document's).
pub fn illegal_message(index: &str, id: &str, field: &str, cp: u32) -> String {
    format!(
        "The document contains invalid characters in the fields. Original error: Error in document \
         'id:{index}:{index}::{id}' - could not parse field '{field}' of type 'string': The string field \
         value contains illegal code point 0x{cp:X} "
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(kind: &str) -> FieldDef {
        FieldDef {
            name: "f".into(),
            kind: kind.into(),
            lexical: false,
            filter: true,
            score_modifier: false,
            features: vec![],
            dependent: None,
        }
    }

    #[test]
    fn types_are_checked_with_marqos_words() {
        assert!(check(&field("int"), &json!(3)).is_ok());
        assert_eq!(
            check(&field("int"), &json!("3")).unwrap_err(),
            "Invalid value 3 for field f with Marqo type int. Expected a value of type <class 'int'>, but found <class 'str'>"
        );
        assert_eq!(
            check(&field("float"), &json!(true)).unwrap_err(),
            "Invalid value True for field f with Marqo type float. Expected a value of type [<class 'float'>, <class 'int'>], but found <class 'bool'>"
        );
        assert_eq!(
            check(&field("array<int>"), &json!([1, 2.5])).unwrap_err(),
            "Invalid value [1, 2.5] for a list field f with Marqo type array<int>. All list elements must be the same valid type "
        );
        assert!(check(&field("map<text, float>"), &json!({"a": 1.5})).is_ok());
        assert!(check(&field("map<text, float>"), &json!({"a": "x"})).is_err());
        assert!(check(&field("array<float>"), &json!([1, 2.5])).is_ok());
    }

    #[test]
    fn ranges_are_vespas() {
        assert!(check(&field("int"), &json!(2147483647)).is_ok());
        let e = check(&field("int"), &json!(-2147483648)).unwrap_err();
        assert!(e.starts_with("Invalid value -2147483648 for int field. Expected a value in the range [-2147483647, 2147483647]"), "{e}");
        let e = check(&field("long"), &json!(u64::MAX)).unwrap_err();
        assert!(e.contains("for long field. Expected a value in the range [-9223372036854775808, 9223372036854775807]"), "{e}");
        let e = check(&field("array<float>"), &json!([1.0, 1e39])).unwrap_err();
        assert!(e.starts_with("Invalid value 1e+39 for float field. Expected a value in the range [-3.4028235e+38, 3.4028235e+38], but found 1e+39."), "{e}");
        assert!(check(&field("double"), &json!(1e300)).is_ok());
    }

    #[test]
    fn vespa_refuses_control_characters_and_noncharacters() {
        let doc = |v: Value| {
            json!({"a": "fine\ttext\n", "b": v})
                .as_object()
                .unwrap()
                .clone()
        };
        assert_eq!(illegal_code_point(&doc(json!("ok é 😀"))), None);
        let d = doc(json!(["x", "bell\u{7}"]));
        assert_eq!(illegal_code_point(&d), Some(("b", 7)));
        let d = doc(json!({"content": "\u{fffe}"}));
        assert_eq!(illegal_code_point(&d), Some(("b", 0xFFFE)));
        assert!(illegal_message("i", "d", "b", 8).contains("could not parse field 'b' of type 'string': The string field value contains illegal code point 0x8 "));
    }

    #[test]
    fn float_fields_keep_32_bits_as_vespa_does() {
        assert_eq!(stored(&field("float"), &json!(1e-50)), json!(0.0));
        assert_eq!(stored(&field("float"), &json!(0.1)), json!(0.1));
        assert_eq!(
            stored(&field("float"), &json!(1.0000001234)),
            json!(1.0000001)
        );
        assert_eq!(
            stored(&field("array<float>"), &json!([1e-50, 2])),
            json!([0.0, 2.0])
        );
        assert_eq!(
            stored(&field("map<text, float>"), &json!({"a": 1e-50})),
            json!({"a": 0.0})
        );
        assert_eq!(stored(&field("double"), &json!(1e-50)), json!(1e-50));
    }
}
