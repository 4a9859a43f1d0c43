//! The `Union[...]` fields of Marqo's non-search bodies as pydantic 1 runs them: each member
//! tried in turn, coercing as it goes (a number is a `str`, a numeric string a `float`); the
//! first that fits gives the value, and when none does every member's items are reported, in
//! order. `loc`s are relative to the field. (The search body's `q`, whose union adds
//! `CustomVectorQuery`, is in `search::query`.)

use serde_json::{Map, Value, json};

use super::model::{float_field, item, not_a_dict, str_field};

/// `RecommendQuery.documents: Union[List[str], Dict[str, float]]`.
pub fn recommend_documents(v: &Value) -> Result<Value, Vec<Value>> {
    let mut errors = Vec::new();
    match str_list(v, &[]) {
        Ok(ids) => return Ok(json!(ids)),
        Err(e) => errors.extend(e),
    }
    match float_map(v, &[]) {
        Ok(weights) => Ok(weights),
        Err(e) => {
            errors.extend(e);
            Err(errors)
        }
    }
}

/// `EmbedRequest.content: Union[str, Dict[str, float], List[Union[str, Dict[str, float]]]]`.
pub fn embed_content(v: &Value) -> Result<Value, Vec<Value>> {
    let mut errors = Vec::new();
    match str_or_map(v, &[]) {
        Ok(one) => return Ok(one),
        Err(e) => errors.extend(e),
    }
    let Value::Array(list) = v else {
        errors.push(item(
            json!([]),
            "value is not a valid list",
            "type_error.list",
        ));
        return Err(errors);
    };
    let before = errors.len();
    let mut out = Vec::with_capacity(list.len());
    for (i, x) in list.iter().enumerate() {
        match str_or_map(x, &[json!(i)]) {
            Ok(x) => out.push(x),
            Err(e) => errors.extend(e),
        }
    }
    if errors.len() == before {
        Ok(Value::Array(out))
    } else {
        Err(errors)
    }
}

/// `AddDocsBodyParams.documents: Union[Sequence[Union[dict, Any]], np.ndarray]`: any list;
/// anything else fails both members.
pub fn documents_sequence(v: &Value) -> Vec<Value> {
    if v.is_array() {
        return Vec::new();
    }
    vec![
        item(
            json!([]),
            "value is not a valid sequence",
            "type_error.sequence",
        ),
        json!({"loc": [], "msg": "instance of ndarray expected", "type": "type_error.arbitrary_type",
               "ctx": {"expected_arbitrary_type": "ndarray"}}),
    ]
}

/// `Union[str, Dict[str, float]]` at `at`.
pub(crate) fn str_or_map(v: &Value, at: &[Value]) -> Result<Value, Vec<Value>> {
    let str_error = match str_field(v) {
        Ok(s) => return Ok(Value::String(s)),
        Err((msg, kind)) => item(loc(at, None), msg, kind),
    };
    float_map(v, at).map_err(|mut e| {
        e.insert(0, str_error);
        e
    })
}

/// `List[str]` at `at`.
pub(crate) fn str_list(v: &Value, at: &[Value]) -> Result<Vec<String>, Vec<Value>> {
    let Value::Array(list) = v else {
        return Err(vec![item(
            loc(at, None),
            "value is not a valid list",
            "type_error.list",
        )]);
    };
    let mut out = Vec::with_capacity(list.len());
    let mut errors = Vec::new();
    for (i, x) in list.iter().enumerate() {
        match str_field(x) {
            Ok(s) => out.push(s),
            Err((msg, kind)) => errors.push(item(loc(at, Some(json!(i))), msg, kind)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// `Dict[str, float]` at `at`.
pub fn float_map(v: &Value, at: &[Value]) -> Result<Value, Vec<Value>> {
    let Value::Object(m) = v else {
        return Err(vec![not_a_dict(loc(at, None))]);
    };
    let mut out = Map::new();
    let mut errors = Vec::new();
    for (k, x) in m {
        match float_field(x) {
            Ok(f) => {
                out.insert(k.clone(), json!(f));
            }
            Err((msg, kind)) => errors.push(item(loc(at, Some(json!(k))), msg, kind)),
        }
    }
    if errors.is_empty() {
        Ok(Value::Object(out))
    } else {
        Err(errors)
    }
}

fn loc(at: &[Value], last: Option<Value>) -> Value {
    Value::Array(at.iter().cloned().chain(last).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_tried_in_order_and_coerce() {
        assert_eq!(recommend_documents(&json!(["a", 1])), Ok(json!(["a", "1"])));
        assert_eq!(
            recommend_documents(&json!({"a": "2"})),
            Ok(json!({"a": 2.0}))
        );
        assert_eq!(embed_content(&json!(5)), Ok(json!("5")));
        assert_eq!(
            embed_content(&json!([{"a": "1"}, true])),
            Ok(json!([{"a": 1.0}, "True"]))
        );
        let e = embed_content(&json!([[1]])).unwrap_err();
        let locs: Vec<&Value> = e.iter().map(|i| &i["loc"]).collect();
        assert_eq!(locs, vec![&json!([]), &json!([]), &json!([0]), &json!([0])]);
        assert_eq!(documents_sequence(&json!({})).len(), 2);
    }
}
