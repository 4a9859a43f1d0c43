//! Recommend: a search whose query vector is the weighted combination of stored documents'
//! chunks (the documents themselves excluded unless asked otherwise).

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::index_data::IndexData;
use super::request::{SearchReq, parse_request};
use crate::engine::embed::{self, SparseVec};
use crate::error::{CellError, CellResult};

/// `documents`: a list of ids (weight 1 each) or a map id → weight; never empty.
pub fn parse_documents(o: &Map<String, Value>) -> CellResult<Vec<(String, f32)>> {
    let docs: Vec<(String, f32)> = match o.get("documents") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(|s| (s.to_string(), 1.0)))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                CellError::unprocessable(&["body", "documents"], "ids must be strings")
            })?,
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| v.as_f64().map(|w| (k.clone(), w as f32)))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                CellError::unprocessable(&["body", "documents"], "weights must be numbers")
            })?,
        _ => {
            return Err(CellError::unprocessable(
                &["body", "documents"],
                "field required",
            ));
        }
    };
    if docs.is_empty() {
        return Err(CellError::InvalidArgument(
            "documents cannot be empty".into(),
        ));
    }
    Ok(docs)
}

/// The search request a recommend body implies (its paging, filter and field options).
pub fn search_request(o: &Map<String, Value>) -> CellResult<SearchReq> {
    let mut search_body = Map::new();
    for k in [
        "limit",
        "offset",
        "filter",
        "attributesToRetrieve",
        "showHighlights",
        "scoreModifiers",
    ] {
        if let Some(v) = o.get(k) {
            search_body.insert(k.into(), v.clone());
        }
    }
    if let Some(v) = o.get("tensorFields").or(o.get("searchableAttributes")) {
        search_body.insert("searchableAttributes".into(), v.clone());
    }
    search_body.insert("q".into(), json!("recommend"));
    parse_request(&Value::Object(search_body))
}

/// The query vector (each found document's searched chunks combined, weighted per document) and
/// the slots to exclude. Missing documents are an error unless `allow_missing`.
pub fn query(
    data: &IndexData,
    req: &SearchReq,
    docs: &[(String, f32)],
    exclude_inputs: bool,
    allow_missing: bool,
) -> CellResult<(SparseVec, HashSet<u32>)> {
    let mut parts: Vec<(SparseVec, f32)> = Vec::new();
    let mut exclude = HashSet::new();
    let mut missing = Vec::new();
    for (id, w) in docs {
        match data.get(id) {
            Some(doc) => {
                let chunks: Vec<&SparseVec> = data
                    .chunks_of(doc)
                    .filter(|c| req.searchable.as_ref().is_none_or(|f| f.contains(&c.field)))
                    .map(|c| &c.vec)
                    .collect();
                if !chunks.is_empty() {
                    let refs: Vec<(&SparseVec, f32)> = chunks.iter().map(|v| (*v, 1.0)).collect();
                    parts.push((embed::combine(&refs), *w));
                }
                if exclude_inputs && let Some(slot) = data.slot_of(id) {
                    exclude.insert(slot);
                }
            }
            None => missing.push(id.clone()),
        }
    }
    if !missing.is_empty() && !allow_missing {
        return Err(CellError::InvalidArgument(format!(
            "The following document IDs were not found: {}",
            missing.join(", ")
        )));
    }
    let refs: Vec<(&SparseVec, f32)> = parts.iter().map(|(v, w)| (v, *w)).collect();
    Ok((embed::combine(&refs), exclude))
}
