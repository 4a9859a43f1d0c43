//! `scoreModifiers`: score × Π(weight·value) + Σ(weight·value) over the fields a document has,
//! parsed from a search body (also the per-side lists of hybrid search).

use serde_json::{Map, Value};

use super::index_data::IndexData;
use super::topk::Cand;
use crate::error::{CellError, CellResult};

#[derive(Debug, Clone, Default)]
pub struct Modifiers {
    multiply: Vec<(String, f64)>,
    add: Vec<(String, f64)>,
}

impl Modifiers {
    pub fn apply(&self, score: f32, doc: &Map<String, Value>) -> f32 {
        let mut s = f64::from(score);
        for (f, w) in &self.multiply {
            if let Some(v) = doc.get(f).and_then(Value::as_f64) {
                s *= w * v;
            }
        }
        for (f, w) in &self.add {
            if let Some(v) = doc.get(f).and_then(Value::as_f64) {
                s += w * v;
            }
        }
        s as f32
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

pub fn parse_modifiers(v: Option<&Value>, key: &str) -> CellResult<Option<Modifiers>> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let o = v
        .as_object()
        .ok_or_else(|| CellError::unprocessable(&["body", key], "must be an object"))?;
    let mut m = Modifiers::default();
    for (k, list) in o {
        let target = match k.as_str() {
            "multiply_score_by" => &mut m.multiply,
            "add_to_score" => &mut m.add,
            _ => {
                return Err(crate::engine::model::extra(&["body", key, k]));
            }
        };
        let arr = list.as_array().filter(|a| !a.is_empty()).ok_or_else(|| {
            CellError::unprocessable(&["body", key, k], "must be a non-empty list")
        })?;
        for item in arr {
            let f = item.get("field_name").and_then(Value::as_str);
            let w = item.get("weight").map_or(Some(1.0), Value::as_f64);
            match (f, w) {
                (Some("_id"), _) => {
                    return Err(CellError::InvalidArgument(
                        "_id is not allowed as a field_name".into(),
                    ));
                }
                (Some(f), Some(w)) => target.push((f.to_string(), w)),
                _ => {
                    return Err(CellError::unprocessable(
                        &["body", key, k],
                        "each modifier needs field_name and a numeric weight",
                    ));
                }
            }
        }
    }
    if m.multiply.is_empty() && m.add.is_empty() {
        return Err(CellError::unprocessable(
            &["body", key],
            "at least one modifier list is required",
        ));
    }
    Ok(Some(m))
}
