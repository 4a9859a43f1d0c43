//! `context`: Marqo's `SearchContext` model — `tensor` (1–64 `{vector: List[float], weight:
//! float}`) and/or `documents` (`ids` {id: weight} and `parameters`: `tensorFields`,
//! `excludeInputDocuments`, `allowMissingDocuments`, `allowMissingEmbeddings`; later Marqo's
//! personalisation; `tensor` may then be left out) — and the vectors it adds to a query. The model
//! turns every failure into an `InvalidArgError` (a 400): the tensor count in its own words,
//! anything else as pydantic's error list the way `ValidationError.json()` writes it. Only a
//! context that is not an object at all is a 422 item of the search body.

use serde_json::{Value, json};

use crate::engine::model::{as_bool, as_dict, float_field, float_list, item, missing, not_a_dict};
use crate::engine::python;
use crate::error::{CellError, CellResult};

/// `context.documents` once validated: the documents whose vectors join the query's.
#[derive(Debug, Clone, PartialEq)]
pub struct Documents {
    /// `(id, weight)` in the request's order.
    pub ids: Vec<(String, f32)>,
    pub tensor_fields: Option<Vec<String>>,
    pub exclude_inputs: bool,
    pub allow_missing_documents: bool,
    pub allow_missing_embeddings: bool,
}

/// `SearchContext(**context)` as Marqo's search body model runs it.
pub fn check(v: &Value) -> CellResult<Vec<Value>> {
    let Some(ctx) = as_dict(v) else {
        return Ok(vec![not_a_dict(json!([]))]);
    };
    let mut errors = Vec::new();
    let documents = ctx.get("documents").filter(|d| !d.is_null());
    // Without `documents`, `tensor` is required and its `pre` validator sees even a `null`, as
    // in the Marqo whose answers `tests/data` recorded; with them it is optional.
    let tensor = match documents {
        Some(_) => ctx.get("tensor").filter(|t| !t.is_null()),
        None => {
            let t = ctx.get("tensor");
            if t.is_none() {
                errors.push(missing(json!(["tensor"])));
            }
            t
        }
    };
    if let Some(t) = tensor {
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
    if let Some(d) = documents {
        check_documents(d, &mut errors);
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

/// `SearchContextDocuments`: `ids` must be a non-empty dict (its `pre` validator runs even when
/// it is missing), its weights floats; `parameters` the nested model.
fn check_documents(d: &Value, errors: &mut Vec<Value>) {
    let Some(d) = as_dict(d) else {
        errors.push(not_a_dict(json!(["documents"])));
        return;
    };
    let ids = d.get("ids").filter(|v| match v {
        Value::Null | Value::Bool(false) => false,
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::String(s) => !s.is_empty(),
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::Bool(true) => true,
    });
    match ids {
        None => errors.push(item(
            json!(["documents", "ids"]),
            "context[\"documents\"][\"ids\"] must be present and a non-empty dict of document id to weight pairs.",
            "value_error",
        )),
        Some(ids) => match as_dict(ids) {
            None => errors.push(not_a_dict(json!(["documents", "ids"]))),
            Some(m) => {
                for (k, w) in m.iter() {
                    if let Err((msg, kind)) = float_field(w) {
                        errors.push(item(json!(["documents", "ids", k]), msg, kind));
                    }
                }
            }
        },
    }
    let Some(p) = d.get("parameters").filter(|p| !p.is_null()) else {
        return;
    };
    let Some(p) = as_dict(p) else {
        errors.push(not_a_dict(json!(["documents", "parameters"])));
        return;
    };
    match p.get("tensorFields") {
        Some(Value::Array(a)) if a.is_empty() => errors.push(item(
            json!(["documents", "parameters", "tensorFields"]),
            "context document tensorFields parameter must be non-empty list. If you want to use all tensor fields, do not define this parameter.",
            "value_error",
        )),
        Some(Value::Array(a)) => {
            for (i, f) in a.iter().enumerate() {
                if let Err((msg, kind)) = crate::engine::model::str_field(f) {
                    errors.push(item(json!(["documents", "parameters", "tensorFields", i]), msg, kind));
                }
            }
        }
        None | Some(Value::Null) => {}
        Some(_) => errors.push(item(
            json!(["documents", "parameters", "tensorFields"]),
            "value is not a valid list",
            "type_error.list",
        )),
    }
    for key in [
        "excludeInputDocuments",
        "allowMissingDocuments",
        "allowMissingEmbeddings",
    ] {
        if let Some(v) = p.get(key)
            && as_bool(v).is_none()
        {
            errors.push(item(
                json!(["documents", "parameters", key]),
                "value could not be parsed to a boolean",
                "type_error.bool",
            ));
        }
    }
}

/// `context.documents`, coerced as the model coerces it (the body model ran [`check`] first).
pub fn documents(v: Option<&Value>) -> Option<Documents> {
    let d = as_dict(v?.get("documents").filter(|d| !d.is_null())?)?;
    let ids = as_dict(d.get("ids")?)?
        .iter()
        .filter_map(|(k, w)| Some((k.clone(), float_field(w).ok()? as f32)))
        .collect();
    let p = d.get("parameters").and_then(as_dict);
    let flag = |key: &str, default: bool| {
        p.as_ref()
            .and_then(|p| p.get(key))
            .and_then(as_bool)
            .unwrap_or(default)
    };
    let tensor_fields = p
        .as_ref()
        .and_then(|p| p.get("tensorFields"))
        .and_then(|t| {
            t.as_array().map(|a| {
                a.iter()
                    .filter_map(|f| crate::engine::model::str_field(f).ok())
                    .collect()
            })
        });
    Some(Documents {
        ids,
        tensor_fields,
        exclude_inputs: flag("excludeInputDocuments", true),
        allow_missing_documents: flag("allowMissingDocuments", false),
        allow_missing_embeddings: flag("allowMissingEmbeddings", false),
    })
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
