//! Small validators for settings bodies, each answering 422 with the offending key's location:
//! snake_case keys, objects, unsigned integers with a minimum, allowed keys, string lists.

use serde_json::{Map, Value};

use crate::engine::model;
use crate::error::{CellError, CellResult};

/// Settings keys are camelCase: a key with `_` (outside free-form maps) is an extra field.
pub fn reject_snake(v: &Value, path: &mut Vec<String>) -> CellResult<()> {
    if let Value::Object(m) = v {
        for (k, child) in m {
            if k.contains('_') {
                let mut loc: Vec<&str> = vec!["body"];
                loc.extend(path.iter().map(String::as_str));
                loc.push(k);
                return Err(model::extra(&loc));
            }
            if k == "modelProperties" || k == "dependentFields" {
                continue;
            }
            path.push(k.clone());
            reject_snake(child, path)?;
            path.pop();
        }
    } else if let Value::Array(a) = v {
        for child in a {
            reject_snake(child, path)?;
        }
    }
    Ok(())
}

/// An optional object value.
pub fn get_obj<'a>(
    m: &'a Map<String, Value>,
    key: &str,
) -> CellResult<Option<&'a Map<String, Value>>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(CellError::unprocessable(
            &["body", key],
            "value is not a valid dict",
        )),
    }
}

/// An optional unsigned integer `>= min`, `default` when absent.
pub fn uint(
    m: &Map<String, Value>,
    key: &str,
    parent: &str,
    default: u64,
    min: u64,
) -> CellResult<u64> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(default),
        // The model checked it; pydantic's int also takes numeric strings and booleans.
        Some(v) => match crate::engine::model::as_int(v).and_then(|n| u64::try_from(n).ok()) {
            Some(n) if n >= min => Ok(n),
            _ => Err(CellError::unprocessable(
                &["body", parent, key],
                format!("{key} must be an integer >= {min}"),
            )),
        },
    }
}

/// Refuse keys outside `allowed`.
pub fn only_keys(m: &Map<String, Value>, allowed: &[&str], parent: &str) -> CellResult<()> {
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(model::extra(&["body", parent, k]));
        }
    }
    Ok(())
}

/// An optional list of strings (empty when absent).
pub fn string_list(v: Option<&Value>, key: &str) -> CellResult<Vec<String>> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str().map(str::to_string).ok_or_else(|| {
                    CellError::unprocessable(&["body", key], "must be a list of strings")
                })
            })
            .collect(),
        Some(_) => Err(CellError::unprocessable(
            &["body", key],
            "must be a list of strings",
        )),
    }
}
