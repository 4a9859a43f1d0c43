//! `scoreModifiers`: score × Π(weight·value) + Σ(weight·value) over the fields a document has,
//! parsed from a search body (also the per-side lists of hybrid search).

use serde_json::{Map, Value, json};

use super::index_data::IndexData;
use super::topk::Cand;
use crate::engine::model::{
    self, as_dict, extra_items, float_field, item, missing, not_a_dict, str_field,
};
use crate::engine::python;
use crate::error::{CellError, CellResult};

#[derive(Debug, Clone, Default)]
pub struct Modifiers {
    multiply: Vec<(String, f64)>,
    add: Vec<(String, f64)>,
}

/// A document's number for a modifier's `field_name`: the field, or a key of a map field
/// (`field.key`), as Marqo flattens a map of numbers into its score-modifier fields.
fn number(doc: &Map<String, Value>, name: &str) -> Option<f64> {
    match doc.get(name) {
        Some(v) => v.as_f64(),
        None => {
            let (field, key) = name.split_once('.')?;
            doc.get(field)?.as_object()?.get(key)?.as_f64()
        }
    }
}

impl Modifiers {
    pub fn apply(&self, score: f64, doc: &Map<String, Value>) -> f64 {
        let mut s = score;
        for (f, w) in &self.multiply {
            if let Some(v) = number(doc, f) {
                s *= w * v;
            }
        }
        for (f, w) in &self.add {
            if let Some(v) = number(doc, f) {
                s += w * v;
            }
        }
        s
    }

    /// Rescore candidates from their stored documents.
    pub fn apply_all(&self, cands: &mut [Cand], data: &IndexData) {
        for c in cands.iter_mut() {
            if let Some(doc) = data.slot(c.slot) {
                c.score = self.apply(c.score, &doc.rec.fields);
            }
        }
    }
}

/// Marqo's docs page for score modifiers (`marqo_docs.search_api_score_modifiers_parameter()`).
const DOCS: &str = "https://docs.marqo.ai/2.23/reference/api/search/search/#score-modifiers";

/// `ScoreModifierLists`' fields, in the order pydantic validates them.
const LISTS: [&str; 2] = ["multiply_score_by", "add_to_score"];

/// One validated `ScoreModifierOperator`: field name and weight.
type Op = (String, f64);

/// A `scoreModifiers` object, validated as Marqo's `ScoreModifierLists` (pydantic 1) does it.
/// Every failure is a 400 `invalid_argument`, because the model raises `InvalidArgError`s from
/// inside its validation: the type errors of both lists and of unknown keys come together as
/// pydantic's error list (`json.dumps`ed into the message); a missing pair or an empty list
/// stops at once and quotes the fields validated so far; `field_name: "_id"` stops at once
/// with its own message.
pub fn parse_modifiers(v: Option<&Value>, key: &str) -> CellResult<Option<Modifiers>> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let Some(data) = as_dict(v) else {
        return Err(CellError::Validation(vec![not_a_dict(json!([
            "body", key
        ]))]));
    };
    let data: &Map<String, Value> = &data;
    let mut values: Vec<(&str, Option<Vec<Op>>)> = Vec::new();
    let mut errors: Vec<Value> = Vec::new();
    for field in LISTS {
        let raw = data.get(field).filter(|v| !v.is_null());
        let multiply_given = values
            .iter()
            .any(|(f, ops)| *f == LISTS[0] && ops.is_some());
        if field == LISTS[1] && raw.is_none() && !multiply_given {
            return Err(invalid(
                &values_repr(&values),
                "At least one of multiply_score_by or add_to_score must be provided",
            ));
        }
        let Some(raw) = raw else {
            values.push((field, None));
            continue;
        };
        let Some(items) = raw.as_array() else {
            errors.push(item(
                json!([field]),
                "value is not a valid list",
                "type_error.list",
            ));
            continue;
        };
        let before = errors.len();
        let mut ops = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            ops.extend(operator(item, field, i, &mut errors)?);
        }
        if errors.len() > before {
            continue;
        }
        if ops.is_empty() {
            return Err(invalid(
                &values_repr(&values),
                &format!("At least one ScoreModifierOperator is required in {field}"),
            ));
        }
        values.push((field, Some(ops)));
    }
    errors.extend(extra_items(data, |k| LISTS.contains(&k), |k| json!([k])));
    if !errors.is_empty() {
        return Err(invalid(
            &python::repr(&Value::Object(data.clone())),
            &python::json_dumps(&Value::Array(errors)),
        ));
    }
    let mut m = Modifiers::default();
    for (field, ops) in values {
        let target = if field == LISTS[0] {
            &mut m.multiply
        } else {
            &mut m.add
        };
        target.extend(ops.into_iter().flatten());
    }
    Ok(Some(m))
}

/// `scoreModifiers` as a field of a body model: nothing when valid, pydantic's dict item when
/// it is not an object, or the 400 that `ScoreModifierLists` raises.
pub fn check(v: &Value) -> CellResult<Vec<Value>> {
    if as_dict(v).is_none() {
        return Ok(vec![not_a_dict(json!([]))]);
    }
    parse_modifiers(Some(v), "").map(|_| Vec::new())
}

/// One `ScoreModifierOperator` (`field_name: str`, `weight: float = 1`, no other keys), with
/// pydantic 1's coercions: a number or boolean name becomes its `str()`, a numeric string
/// weight its `float()`. Its errors go to `errors`; `_id` as the name is refused at once.
fn operator(
    item: &Value,
    field: &str,
    i: usize,
    errors: &mut Vec<Value>,
) -> CellResult<Option<Op>> {
    let Some(o) = item.as_object() else {
        errors.push(not_a_dict(json!([field, i])));
        return Ok(None);
    };
    let before = errors.len();
    let at = |key: &str| json!([field, i, key]);
    let name = match o.get("field_name") {
        None => {
            errors.push(missing(at("field_name")));
            None
        }
        Some(v) => str_field(v)
            .map_err(|(msg, kind)| errors.push(model::item(at("field_name"), msg, kind)))
            .ok(),
    };
    if name.as_deref() == Some("_id") {
        return Err(CellError::InvalidArgument(
            "_id is not allowed as a field_name".into(),
        ));
    }
    let weight = match o.get("weight") {
        None => Some(1.0),
        Some(v) => float_field(v)
            .map_err(|(msg, kind)| errors.push(model::item(at("weight"), msg, kind)))
            .ok(),
    };
    errors.extend(extra_items(o, |k| matches!(k, "field_name" | "weight"), at));
    if errors.len() > before {
        return Ok(None);
    }
    Ok(name.zip(weight))
}

/// `ScoreModifierValidationError`: Marqo's wording around the offending value and the reason.
fn invalid(modifier: &str, reason: &str) -> CellError {
    CellError::InvalidArgument(format!(
        "Error validating score_modifiers = `{modifier}`. Reason: \n{reason} Please revise your \
         score_modifiers based on the provided error.\n Check {DOCS} for more info."
    ))
}

/// pydantic's `values` so far as Python prints them:
/// `{'multiply_score_by': [ScoreModifierOperator(field_name='a', weight=2.0)]}`.
fn values_repr(values: &[(&str, Option<Vec<Op>>)]) -> String {
    let items: Vec<String> = values
        .iter()
        .map(|(field, ops)| {
            let v = match ops {
                None => "None".to_string(),
                Some(ops) => {
                    let ops: Vec<String> = ops
                        .iter()
                        .map(|(name, w)| {
                            format!(
                                "ScoreModifierOperator(field_name={}, weight={})",
                                python::str_repr(name),
                                python::float_repr(*w)
                            )
                        })
                        .collect();
                    format!("[{}]", ops.join(", "))
                }
            };
            format!("'{field}': {v}")
        })
        .collect();
    format!("{{{}}}", items.join(", "))
}
