//! `q` as Marqo checks it: first the body model's field
//! `Optional[Union[str, Dict[str, float], CustomVectorQuery]]` ([`coerce`]: pydantic 1 tries
//! each type in turn, coercing as it goes, and reports every attempt's errors when none fits),
//! then `validation.validate_query` after the body model: a weighted map only for TENSOR, never
//! empty; a `customVector` query not for LEXICAL. Those are 400 `invalid_argument`s in Marqo's
//! words.

use serde_json::{Map, Value, json};

use super::request::Method;
use crate::engine::model::{extra_items, float_list, item, missing, not_a_dict, str_field};
use crate::engine::unions;
use crate::error::{CellError, CellResult};

/// `marqo_docs.query_reference()` for the emulated version (docs are per major.minor).
const USAGE_REF: &str =
    "\nSee query reference here: https://docs.marqo.ai/2.23/reference/api/search/search/#query-q";

/// Marqo's name for the method in these messages (the upper-cased enum value).
fn method_name(method: Method) -> &'static str {
    match method {
        Method::Tensor => "TENSOR",
        Method::Lexical => "LEXICAL",
        Method::Hybrid => "HYBRID",
    }
}

/// `q` through the model's union, as pydantic 1 does it: a string; a number or boolean turned
/// into its text; a map whose values all read as floats (numbers, booleans, numeric strings),
/// with those floats; a `{"customVector": {"content", "vector"}}` query, coerced. Otherwise
/// every attempt's error items (`loc` from `"q"`), in pydantic's order.
///
/// Differs from pydantic in one corner: a list of pairs, which `dict()` would turn into a map,
/// is refused like any other list.
pub fn coerce(q: &Value) -> Result<Value, Vec<Value>> {
    if q.is_null() {
        return Ok(Value::Null);
    }
    let mut errors = match unions::str_or_map(q, &[json!("q")]) {
        Ok(q) => return Ok(q),
        Err(e) => e,
    };
    let Value::Object(m) = q else {
        errors.push(not_a_dict(json!(["q"])));
        return Err(errors);
    };
    let before = errors.len();
    let custom = match m.get("customVector") {
        None => {
            errors.push(missing(json!(["q", "customVector"])));
            None
        }
        Some(Value::Object(cv)) => custom_vector(cv, &mut errors),
        Some(_) => {
            errors.push(not_a_dict(json!(["q", "customVector"])));
            None
        }
    };
    errors.extend(extra_items(m, |k| k == "customVector", |k| json!(["q", k])));
    match custom {
        Some(cv) if errors.len() == before => Ok(json!({ "customVector": cv })),
        _ => Err(errors),
    }
}

/// `CustomVectorQuery.CustomVector`: `content: Optional[str]`, `vector: List[float]`, nothing else.
fn custom_vector(cv: &Map<String, Value>, errors: &mut Vec<Value>) -> Option<Value> {
    const AT: [&str; 2] = ["q", "customVector"];
    let before = errors.len();
    let content = match cv.get("content") {
        None => Value::Null,
        Some(v) => match str_field(v) {
            Ok(text) => Value::String(text),
            Err(_) if v.is_null() => Value::Null,
            Err((msg, kind)) => {
                errors.push(item(json!([AT[0], AT[1], "content"]), msg, kind));
                Value::Null
            }
        },
    };
    let vector = float_list(cv, "vector", json!(AT), errors);
    errors.extend(extra_items(
        cv,
        |k| matches!(k, "content" | "vector"),
        |k| json!([AT[0], AT[1], k]),
    ));
    let vector = vector.filter(|_| errors.len() == before)?;
    Some(json!({"content": content, "vector": vector}))
}

/// Marqo's `validate_query`; strings and `null` pass (the body model checked their type).
pub fn validate_query(q: &Value, method: Method) -> CellResult<()> {
    let Value::Object(m) = q else {
        return Ok(());
    };
    let name = method_name(method);
    if is_custom_vector(m) {
        if method == Method::Lexical {
            return Err(CellError::InvalidArgument(format!(
                "Custom vector search is currently only supported for search_method=\"HYBRID\" \
                 \nReceived search_method `{name}`. {USAGE_REF}"
            )));
        }
        return Ok(());
    }
    if method != Method::Tensor {
        return Err(CellError::InvalidArgument(format!(
            "Multi-query search is currently only supported for search_method=\"TENSOR\" \
             \nReceived search_method `{name}`. {USAGE_REF}"
        )));
    }
    if m.is_empty() {
        return Err(CellError::InvalidArgument(format!(
            "Multi-query search requires at least one query! Received empty dictionary. {USAGE_REF}"
        )));
    }
    Ok(())
}

/// pydantic tries `Dict[str, float]` before `CustomVectorQuery`, so only a map whose
/// `customVector` is an object is a custom vector query.
fn is_custom_vector(m: &serde_json::Map<String, Value>) -> bool {
    m.get("customVector").is_some_and(Value::is_object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every case pydantic 1 answered for Marqo's `q` field: the same value or the same items.
    #[test]
    fn q_goes_through_the_union_as_pydantic_does() {
        let doc: Value =
            serde_json::from_str(include_str!("../../../tests/data/search_q.json")).unwrap();
        let cases = doc["cases"].as_array().unwrap();
        assert!(cases.len() >= 15);
        for c in cases {
            let got = coerce(&c["q"]);
            match c.get("errors") {
                Some(errors) => assert_eq!(got.as_ref().err(), errors.as_array(), "{c}"),
                None => assert_eq!(got.as_ref().ok(), Some(&c["coerced"]), "{c}"),
            }
        }
    }

    #[test]
    fn weighted_maps_only_for_tensor() {
        assert!(validate_query(&json!({"a": 1.0}), Method::Tensor).is_ok());
        assert!(validate_query(&json!("a"), Method::Lexical).is_ok());
        for m in [Method::Lexical, Method::Hybrid] {
            let e = validate_query(&json!({"a": 1.0}), m)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("Multi-query search is currently only supported"),
                "{e}"
            );
        }
        let e = validate_query(&json!({}), Method::Tensor)
            .unwrap_err()
            .to_string();
        assert!(e.contains("Received empty dictionary"), "{e}");
        let cv = json!({"customVector": {"content": null, "vector": [1.0]}});
        assert!(validate_query(&cv, Method::Hybrid).is_ok());
        assert!(validate_query(&cv, Method::Lexical).is_err());
    }
}
