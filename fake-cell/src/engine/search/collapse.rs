//! `collapseFields` (HYBRID): one hit per value of the index's collapse field, the best-ranked
//! one (or, with the collapse `sortBy`, the group's member with the highest/lowest value of
//! that field, put at the group's best position). Documents without the field are not grouped.

use std::collections::HashMap;

use serde_json::Value;

use super::index_data::IndexData;
use super::topk::Cand;
use crate::engine::settings::Settings;
use crate::error::{CellError, CellResult};

#[derive(Debug, Clone)]
pub struct Collapse {
    pub name: String,
    /// The representative's field and whether the highest value wins.
    pub sort: Option<(String, bool)>,
}

impl Collapse {
    /// The first (only) entry of a `collapseFields` list the model check accepted.
    pub fn parse(v: Option<&Value>) -> Option<Collapse> {
        let c = v?.as_array()?.first()?;
        let sort = c
            .get("sortBy")
            .and_then(|s| s.get("fields"))
            .and_then(Value::as_array)
            .and_then(|f| f.first())
            .and_then(|f| {
                let name = f.get("fieldName")?.as_str()?.to_string();
                Some((name, f.get("order").and_then(Value::as_str) != Some("asc")))
            });
        Some(Collapse {
            name: c.get("name")?.as_str()?.to_string(),
            sort,
        })
    }

    /// The field must be one of the index's `collapseFields`.
    pub fn check(&self, s: &Settings) -> CellResult<()> {
        let declared = s.json["collapseFields"]
            .as_array()
            .is_some_and(|a| a.iter().any(|c| c["name"] == self.name.as_str()));
        if declared {
            Ok(())
        } else {
            Err(CellError::InvalidArgument(format!(
                "Collapse field '{}' is not a collapse field of this index. Collapse fields must be declared in 'collapseFields' when the index is created",
                self.name
            )))
        }
    }
}

pub(super) fn key(data: &IndexData, slot: u32, field: &str) -> Option<String> {
    match data.slot(slot)?.rec.fields.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// One candidate per collapse value, in the order of each group's best candidate.
pub fn apply(cands: Vec<Cand>, data: &IndexData, c: &Collapse) -> Vec<Cand> {
    let mut out: Vec<Cand> = Vec::with_capacity(cands.len());
    let mut group_at: HashMap<String, usize> = HashMap::new();
    for cand in cands {
        let Some(k) = key(data, cand.slot, &c.name) else {
            out.push(cand);
            continue;
        };
        match group_at.get(&k) {
            None => {
                group_at.insert(k, out.len());
                out.push(cand);
            }
            Some(&at) => {
                let Some((field, highest)) = &c.sort else {
                    continue;
                };
                let v = |slot| {
                    data.slot(slot)
                        .and_then(|d| d.rec.fields.get(field)?.as_f64())
                };
                let better = match (v(cand.slot), v(out[at].slot)) {
                    (Some(a), Some(b)) => (a > b) == *highest && a != b,
                    (Some(_), None) => true,
                    _ => false,
                };
                if better {
                    let score = out[at].score;
                    out[at] = Cand { score, ..cand };
                }
            }
        }
    }
    out
}

/// How many collapse groups the slots form (a document without the field is its own group).
pub fn groups(data: &IndexData, slots: &[u32], c: &Collapse) -> usize {
    let mut seen = std::collections::HashSet::new();
    slots
        .iter()
        .filter(|s| key(data, **s, &c.name).is_none_or(|k| seen.insert(k)))
        .count()
}
