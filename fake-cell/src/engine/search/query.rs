//! `q` as Marqo's `validation.validate_query` checks it after the body model: a weighted map
//! only for TENSOR, never empty; a `customVector` query not for LEXICAL. These are 400
//! `invalid_argument`s in Marqo's words (the body model itself accepts both shapes).

use serde_json::Value;

use super::request::Method;
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
