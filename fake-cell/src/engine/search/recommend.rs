//! Recommend: a search whose query vector interpolates stored documents' chunk vectors
//! (Marqo's `Recommender`; the documents themselves excluded unless asked otherwise).

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::index_data::IndexData;
use super::interpolate::{Interp, interpolate};
use super::request::{SearchReq, parse_request};
use crate::config::MarqoLimits;
use crate::engine::embed::SparseVec;
use crate::engine::settings::Settings;
use crate::error::{CellError, CellResult};

/// `documents`: a list of ids (weight 1 each) or a map id → weight; never empty.
pub fn parse_documents(o: &Map<String, Value>) -> CellResult<Vec<(String, f32)>> {
    // The body model's union coerced them (ids to strings, weights to floats).
    let coerced = o
        .get("documents")
        .map(|d| crate::engine::unions::recommend_documents(d).unwrap_or_else(|_| d.clone()));
    let docs: Vec<(String, f32)> = match coerced.as_ref() {
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
            "No document IDs provided".into(),
        ));
    }
    Ok(docs)
}

/// A structured index's `tensorFields` must name its tensor fields (`Recommender.recommend`,
/// once the index is known).
pub fn check_tensor_fields(o: &Map<String, Value>, s: &Settings, index: &str) -> CellResult<()> {
    if !s.structured {
        return Ok(());
    }
    let asked = o.get("tensorFields").and_then(Value::as_array);
    for f in asked.into_iter().flatten() {
        let f = crate::engine::python::str_of(f);
        if !s.tensor_fields.contains(&f) {
            return Err(CellError::InvalidFieldName(format!(
                "Tensor field \"{f}\" not found in index \"{index}\". Available tensor fields: {}",
                s.tensor_fields.join(", ")
            )));
        }
    }
    Ok(())
}

/// The search request a recommend body implies (its paging, filter, field and ANN options),
/// under Marqo's `limits`.
pub fn search_request(o: &Map<String, Value>, limits: &MarqoLimits) -> CellResult<SearchReq> {
    let mut search_body = Map::new();
    for k in [
        "limit",
        "offset",
        "filter",
        "attributesToRetrieve",
        "showHighlights",
        "scoreModifiers",
        "efSearch",
        "approximate",
    ] {
        if let Some(v) = o.get(k) {
            search_body.insert(k.into(), v.clone());
        }
    }
    if let Some(v) = o.get("tensorFields").or(o.get("searchableAttributes")) {
        search_body.insert("searchableAttributes".into(), v.clone());
    }
    search_body.insert("q".into(), json!("recommend"));
    parse_request(&Value::Object(search_body), limits)
}

/// What a recommend request asks of [`query`] besides the documents.
pub struct Opts {
    pub exclude_inputs: bool,
    pub allow_missing_documents: bool,
    pub allow_missing_embeddings: bool,
    /// `interpolationMethod`, else `slerp` (`normalizeEmbeddings`) / `lerp`.
    pub method: Option<Interp>,
}

/// The query vector and the slots to exclude, as `Recommender.recommend` builds them: documents
/// of weight 0 are dropped (but still excluded); every searched chunk vector of each found
/// document, weighted by its document, is interpolated; that vector is then the search's single
/// context vector, which the search's own default (`nlerp` / `lerp`) normalises or not.
pub fn query(
    data: &IndexData,
    req: &SearchReq,
    docs: &[(String, f32)],
    opts: &Opts,
    s: &Settings,
) -> CellResult<(SparseVec, HashSet<u32>)> {
    let mut exclude = HashSet::new();
    if opts.exclude_inputs {
        exclude.extend(docs.iter().filter_map(|(id, _)| data.slot_of(id)));
    }
    let weighted: Vec<&(String, f32)> = docs.iter().filter(|(_, w)| *w != 0.0).collect();
    if weighted.is_empty() {
        return Err(CellError::InvalidArgument(
            "No documents with non-zero weight provided".into(),
        ));
    }
    let (mut vectors, mut weights): (Vec<SparseVec>, Vec<f64>) = (Vec::new(), Vec::new());
    let (mut missing, mut without) = (Vec::new(), Vec::new());
    for (id, w) in weighted {
        let Some(doc) = data.get(id) else {
            missing.push(id.as_str());
            continue;
        };
        let before = vectors.len();
        for c in data
            .chunks_of(doc)
            .filter(|c| req.searchable.as_ref().is_none_or(|f| f.contains(&c.field)))
        {
            vectors.push(c.vec.clone());
            weights.push(f64::from(*w));
        }
        if vectors.len() == before {
            without.push(id.as_str());
        }
    }
    found(
        &missing,
        &without,
        opts.allow_missing_documents,
        opts.allow_missing_embeddings,
    )?;
    if vectors.is_empty() {
        return Err(CellError::InvalidArgument(
            "No document vectors found for the provided documents".into(),
        ));
    }
    let method = opts
        .method
        .unwrap_or(Interp::recommend_default(s.normalize));
    let v = interpolate(method, &vectors, &weights).map_err(|e| e.recommend_error())?;
    interpolate(Interp::search_default(s.normalize), &[v], &[1.0])
        .map_err(|e| e.search_error())
        .map(|v| (v, exclude))
}

/// Recommender's refusals of documents not found or without embeddings, unless allowed.
fn found(
    missing: &[&str],
    without: &[&str],
    allow_missing_documents: bool,
    allow_missing_embeddings: bool,
) -> CellResult<()> {
    if !missing.is_empty() && !allow_missing_documents {
        return Err(CellError::InvalidArgument(format!(
            "The following document IDs were not found: {}",
            missing.join(", ")
        )));
    }
    if !without.is_empty() && !allow_missing_embeddings {
        return Err(CellError::InvalidArgument(format!(
            "The following documents do not have embeddings: {}",
            without.join(", ")
        )));
    }
    Ok(())
}

/// A search's `context.documents` (later Marqo's personalisation, `get_query_vectors_from_jobs`):
/// every chunk vector of each document of non-zero weight (of `tensorFields`, when given) joins
/// the request's context vectors with its document's weight, interpolated with the query by
/// `interpolationMethod`, else `slerp` (`normalizeEmbeddings`) / `lerp`. Returns the slots to
/// exclude (every input document, zero weights too, unless `excludeInputDocuments` is false).
pub fn add_context_documents(
    req: &mut SearchReq,
    data: &IndexData,
    s: &Settings,
) -> CellResult<HashSet<u32>> {
    let Some(docs) = req.context_docs.clone() else {
        return Ok(HashSet::new());
    };
    let mut exclude = HashSet::new();
    if docs.exclude_inputs {
        exclude.extend(docs.ids.iter().filter_map(|(id, _)| data.slot_of(id)));
    }
    let weighted: Vec<&(String, f32)> = docs.ids.iter().filter(|(_, w)| *w != 0.0).collect();
    if weighted.is_empty() {
        return Err(CellError::InvalidArgument(
            "No documents with non-zero weight provided".into(),
        ));
    }
    if let (true, Some(fields)) = (s.structured, docs.tensor_fields.as_ref())
        && let Some(f) = fields.iter().find(|f| !s.tensor_fields.contains(f))
    {
        return Err(CellError::InvalidFieldName(format!(
            "Tensor field \"{f}\" not found in index \"{}\". Available tensor fields: {}",
            s.name,
            s.tensor_fields.join(", ")
        )));
    }
    let (mut missing, mut without) = (Vec::new(), Vec::new());
    for (id, w) in weighted {
        let Some(doc) = data.get(id) else {
            missing.push(id.as_str());
            continue;
        };
        let before = req.context.len();
        for c in data.chunks_of(doc).filter(|c| {
            docs.tensor_fields
                .as_ref()
                .is_none_or(|f| f.contains(&c.field))
        }) {
            req.context
                .push((crate::engine::embed::dense(&c.vec, s.dim), *w));
        }
        if req.context.len() == before {
            without.push(id.as_str());
        }
    }
    found(
        &missing,
        &without,
        docs.allow_missing_documents,
        docs.allow_missing_embeddings,
    )?;
    req.post
        .interpolation
        .get_or_insert(Interp::recommend_default(s.normalize));
    Ok(exclude)
}
