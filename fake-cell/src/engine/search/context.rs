//! `context`: Marqo's `SearchContext` model (`tensor`, 1–64 `{vector: List[float], weight:
//! float}`, other keys ignored) and the vectors it adds to a query. The model turns every
//! failure into an `InvalidArgError` (a 400): the count in its own words, anything else as
//! pydantic's error list the way `ValidationError.json()` writes it. Only a context that is not
//! an object at all is a 422 item of the search body.

use serde_json::{Value, json};

use crate::engine::model::{as_dict, float_field, float_list, item, missing, not_a_dict};
use crate::engine::python;
use crate::error::{CellError, CellResult};

/// `SearchContext(**context)` as Marqo's search body model runs it.
pub fn check(v: &Value) -> CellResult<Vec<Value>> {
    let Some(ctx) = as_dict(v) else {
        return Ok(vec![not_a_dict(json!([]))]);
    };
    let mut errors = Vec::new();
    match ctx.get("tensor") {
        None => errors.push(missing(json!(["tensor"]))),
        Some(t) => {
            // The `pre` validator takes `len()` of whatever came, before any type check.
            let len = match t {
                Value::Array(a) => Ok(a.len()),
                Value::Object(o) => Ok(o.len()),
                Value::String(s) => Ok(s.chars().count()),
                other => Err(format!(
                    "object of type '{}' has no len()",
                    python::type_name(other)
                )),
            };
            match len {
                Ok(n) if !(1..=64).contains(&n) => {
                    return Err(CellError::InvalidArgument(
                        "The number of tensors must be between 1 and 64".into(),
                    ));
                }
                Ok(_) => tensors(t, &mut errors),
                Err(msg) => errors.push(item(json!(["tensor"]), &msg, "type_error")),
            }
        }
    }
    if errors.is_empty() {
        Ok(Vec::new())
    } else {
        Err(CellError::InvalidArgument(python::json_dumps_indented(
            &Value::Array(errors),
            2,
        )))
    }
}

/// `List[SearchContextTensor]`.
fn tensors(t: &Value, errors: &mut Vec<Value>) {
    let Value::Array(list) = t else {
        errors.push(item(
            json!(["tensor"]),
            "value is not a valid list",
            "type_error.list",
        ));
        return;
    };
    for (i, entry) in list.iter().enumerate() {
        let Some(entry) = as_dict(entry) else {
            errors.push(not_a_dict(json!(["tensor", i])));
            continue;
        };
        float_list(&entry, "vector", json!(["tensor", i]), errors);
        match entry.get("weight") {
            None => errors.push(missing(json!(["tensor", i, "weight"]))),
            Some(w) => {
                if let Err((msg, kind)) = float_field(w) {
                    errors.push(item(json!(["tensor", i, "weight"]), msg, kind));
                }
            }
        }
    }
}

/// The context's `(vector, weight)` pairs, coerced as the model coerces them (the body model
/// ran [`check`] first).
pub fn parse(v: Option<&Value>) -> Vec<(Vec<f32>, f32)> {
    let list = v.and_then(|v| v.get("tensor")).and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .filter_map(|entry| {
            let vector = entry.get("vector")?.as_array()?;
            let vector = vector
                .iter()
                .map(|x| float_field(x).map(|f| f as f32).unwrap_or(0.0))
                .collect();
            let weight = float_field(entry.get("weight")?).ok()? as f32;
            Some((vector, weight))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_coerced_and_other_keys_ignored() {
        let v = json!({"tensor": [{"vector": ["1", true, 2], "weight": "0.5", "x": 1}], "y": 2});
        assert_eq!(check(&v).unwrap(), Vec::<Value>::new());
        assert_eq!(parse(Some(&v)), vec![(vec![1.0, 1.0, 2.0], 0.5)]);
    }

    #[test]
    fn failures_are_400s_in_pydantics_json_and_a_non_object_is_an_item() {
        let e = check(&json!({"tensor": [{"vector": [1]}]})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "[\n  {\n    \"loc\": [\n      \"tensor\",\n      0,\n      \"weight\"\n    ],\n    \"msg\": \"field required\",\n    \"type\": \"value_error.missing\"\n  }\n]"
        );
        let e = check(&json!({"tensor": ""})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "The number of tensors must be between 1 and 64"
        );
        let e = check(&json!({"tensor": 5})).unwrap_err();
        assert!(
            e.to_string().contains("object of type 'int' has no len()"),
            "{e}"
        );
        assert_eq!(check(&json!("ab")).unwrap().len(), 1);
    }
}
