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
        "reRanker",
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
    let fields = req.searchable.as_deref();
    let flags = (opts.allow_missing_documents, opts.allow_missing_embeddings);
    let (chunks, exclude) = doc_vectors(data, docs, fields, opts.exclude_inputs, flags, None)?;
    let (vectors, weights): (Vec<SparseVec>, Vec<f64>) = chunks
        .into_iter()
        .map(|(v, w)| (v.clone(), f64::from(w)))
        .unzip();
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

/// Chunk vectors with their documents' weights.
type Weighted<'a> = Vec<(&'a SparseVec, f32)>;

/// Recommender's `get_doc_vectors_from_ids`: every chunk vector (of `fields`, when given) of
/// each document of non-zero weight, with its document's weight, and the slots to exclude (every
/// input document, zero weights too, when `exclude_inputs`). `allow` is
/// `(allowMissingDocuments, allowMissingEmbeddings)`; otherwise those are its 400s. With
/// `structured` settings, `fields` must be the index's tensor fields (recommend checks its own).
fn doc_vectors<'a>(
    data: &'a IndexData,
    docs: &[(String, f32)],
    fields: Option<&[String]>,
    exclude_inputs: bool,
    allow: (bool, bool),
    structured: Option<&Settings>,
) -> CellResult<(Weighted<'a>, HashSet<u32>)> {
    let mut exclude = HashSet::new();
    if exclude_inputs {
        exclude.extend(docs.iter().filter_map(|(id, _)| data.slot_of(id)));
    }
    let weighted: Vec<&(String, f32)> = docs.iter().filter(|(_, w)| *w != 0.0).collect();
    if weighted.is_empty() {
        return Err(CellError::InvalidArgument(
            "No documents with non-zero weight provided".into(),
        ));
    }
    if let (Some(s), Some(fields)) = (structured.filter(|s| s.structured), fields)
        && let Some(f) = fields.iter().find(|f| !s.tensor_fields.contains(f))
    {
        return Err(CellError::InvalidFieldName(format!(
            "Tensor field \"{f}\" not found in index \"{}\". Available tensor fields: {}",
            s.name,
            s.tensor_fields.join(", ")
        )));
    }
    let (mut chunks, mut missing, mut without) = (Vec::new(), Vec::new(), Vec::new());
    for (id, w) in weighted {
        let Some(doc) = data.get(id) else {
            missing.push(id.as_str());
            continue;
        };
        let before = chunks.len();
        chunks.extend(
            data.chunks_of(doc)
                .filter(|c| fields.is_none_or(|f| f.contains(&c.field)))
                .map(|c| (&c.vec, *w)),
        );
        if chunks.len() == before {
            without.push(id.as_str());
        }
    }
    if !missing.is_empty() && !allow.0 {
        return Err(CellError::InvalidArgument(format!(
            "The following document IDs were not found: {}",
            missing.join(", ")
        )));
    }
    if !without.is_empty() && !allow.1 {
        return Err(CellError::InvalidArgument(format!(
            "The following documents do not have embeddings: {}",
            without.join(", ")
        )));
    }
    Ok((chunks, exclude))
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
    let flags = (docs.allow_missing_documents, docs.allow_missing_embeddings);
    let fields = docs.tensor_fields.as_deref();
    let (chunks, exclude) =
        doc_vectors(data, &docs.ids, fields, docs.exclude_inputs, flags, Some(s))?;
    req.context.extend(
        chunks
            .into_iter()
            .map(|(v, w)| (crate::engine::embed::dense(v, s.dim), w)),
    );
    req.post
        .interpolation
        .get_or_insert(Interp::recommend_default(s.normalize));
    Ok(exclude)
}
