//! Document routes: add (per-item errors as Marqo reports them), partial update, get one, get a
//! batch, delete a batch, delete all, plus stats, settings and health.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::search::embed;
use super::store::{self, DocRecord};
use crate::auth::{Scope, authorize};
use crate::body::{JsonBody, query_flag};
use crate::error::{CellError, CellResult};
use crate::persist::Record;
use crate::settings::Settings;
use crate::state::{Cell, Index, now_rfc3339};

pub const MAX_DOCS_PER_REQUEST: usize = 128;
pub const MAX_DOC_BYTES: usize = 100_000;
pub const MAX_IDS: usize = 10_000;
const RESERVED: &[&str] = &[
    "_id",
    "_score",
    "_highlights",
    "_found",
    "_embedding",
    "_tensor_facets",
    "_lexical_score",
    "_tensor_score",
];

fn item_error(id: &str, err: &CellError) -> Value {
    let msg = err.to_string();
    json!({"_id": id, "status": err.status().as_u16(), "code": err.code(), "error": msg, "message": msg})
}

fn ensure_live(idx: &Index) -> CellResult<()> {
    if idx.deleted.load(Ordering::SeqCst) {
        Err(CellError::IndexNotFound(idx.name.clone()))
    } else {
        Ok(())
    }
}

/// Validate one document's fields for the index; returns the fields without `_id`.
fn validate_fields(
    doc: &Map<String, Value>,
    s: &Settings,
    tensor_fields: &[String],
    mappings: Option<&Map<String, Value>>,
) -> CellResult<Map<String, Value>> {
    let mut out = Map::new();
    for (k, v) in doc {
        if k == "_id" {
            continue;
        }
        if k.is_empty()
            || k.contains('.')
            || k.contains('/')
            || k.contains('\n')
            || k.starts_with("__vector_")
            || k.starts_with("__chunks")
            || RESERVED.contains(&k.as_str())
        {
            return Err(CellError::InvalidFieldName(format!(
                "Field name '{k}' is not valid"
            )));
        }
        if s.structured {
            let f = s.field(k).ok_or_else(|| {
                CellError::InvalidFieldName(format!(
                    "Field '{k}' is not a valid field for structured index"
                ))
            })?;
            let ok = match f.kind.as_str() {
                "text" | "image_pointer" | "video_pointer" | "audio_pointer" => v.is_string(),
                "bool" => v.is_boolean(),
                "int" | "long" => v.is_i64() || v.is_u64(),
                "float" | "double" => v.is_number(),
                "array<text>" => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
                "array<int>" | "array<long>" => v
                    .as_array()
                    .is_some_and(|a| a.iter().all(|x| x.is_i64() || x.is_u64())),
                "array<float>" | "array<double>" => {
                    v.as_array().is_some_and(|a| a.iter().all(Value::is_number))
                }
                "custom_vector" => custom_vector_ok(v, s.dim),
                "multimodal_combination" => false,
                _ => v
                    .as_object()
                    .is_some_and(|o| o.values().all(Value::is_number)),
            };
            if !ok {
                return Err(CellError::BadRequest(format!(
                    "Field '{k}' has a value of the wrong type for its declared type {}",
                    f.kind
                )));
            }
        } else {
            let mapping = mappings
                .and_then(|m| m.get(k))
                .and_then(|m| m.get("type"))
                .and_then(Value::as_str);
            match v {
                Value::String(_) | Value::Bool(_) | Value::Number(_) => {}
                Value::Array(a) => {
                    let strings = a.iter().all(Value::is_string);
                    let numbers = a.iter().all(Value::is_number);
                    if !(strings || numbers) {
                        return Err(CellError::BadRequest(format!(
                            "Field '{k}': lists must hold elements of one type (strings or numbers)"
                        )));
                    }
                    if tensor_fields.contains(k) {
                        return Err(CellError::BadRequest(format!(
                            "Field '{k}': Lists cannot be tensor fields"
                        )));
                    }
                }
                Value::Object(o) => {
                    if mapping == Some("custom_vector") {
                        if !custom_vector_ok(v, s.dim) {
                            return Err(CellError::BadRequest(format!(
                                "Field '{k}': a custom vector needs {{\"vector\": [{} floats]}}",
                                s.dim
                            )));
                        }
                    } else if !o.values().all(Value::is_number) {
                        return Err(CellError::BadRequest(format!(
                            "Field '{k}': objects need a mapping (custom_vector) or must be a map of numbers"
                        )));
                    }
                }
                Value::Null => {
                    return Err(CellError::BadRequest(format!(
                        "Field '{k}' has a null value, which is not supported"
                    )));
                }
            }
            if tensor_fields.contains(k) && !(v.is_string() || mapping == Some("custom_vector")) {
                return Err(CellError::BadRequest(format!(
                    "Field '{k}' is a tensor field and must be a string"
                )));
            }
        }
        out.insert(k.clone(), v.clone());
    }
    Ok(out)
}

fn custom_vector_ok(v: &Value, dim: usize) -> bool {
    v.get("vector")
        .and_then(Value::as_array)
        .is_some_and(|a| a.len() == dim && a.iter().all(Value::is_number))
        && v.get("content")
            .is_none_or(|c| c.is_string() || c.is_null())
}

fn parse_mappings(v: Option<&Value>) -> CellResult<Option<Map<String, Value>>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => {
            for (k, spec) in m {
                match spec.get("type").and_then(Value::as_str) {
                    Some("custom_vector") => {}
                    Some("multimodal_combination") => {
                        let ok = spec
                            .get("weights")
                            .and_then(Value::as_object)
                            .is_some_and(|w| !w.is_empty() && w.values().all(Value::is_number));
                        if !ok {
                            return Err(CellError::BadRequest(format!(
                                "mapping for {k}: multimodal_combination needs non-empty numeric weights"
                            )));
                        }
                    }
                    _ => {
                        return Err(CellError::BadRequest(format!(
                            "mapping for {k}: type must be multimodal_combination or custom_vector"
                        )));
                    }
                }
            }
            Ok(Some(m.clone()))
        }
        Some(_) => Err(CellError::unprocessable(
            &["body", "mappings"],
            "mappings must be an object or null",
        )),
    }
}

fn write_response(index: &str, started: Instant, items: Vec<Value>) -> Response {
    let (mut ok, mut fail, mut err) = (0, 0, 0);
    for i in &items {
        match i["status"].as_u64().unwrap_or(200) {
            200..=299 => ok += 1,
            400..=499 => fail += 1,
            _ => err += 1,
        }
    }
    let body = json!({
        "errors": fail + err > 0,
        "processingTimeMs": started.elapsed().as_secs_f64() * 1000.0,
        "index_name": index,
        "items": items,
    });
    let mut resp = Json(body).into_response();
    let h = resp.headers_mut();
    for (name, n) in [
        ("x-count-success", ok),
        ("x-count-failure", fail),
        ("x-count-error", err),
    ] {
        h.insert(name, HeaderValue::from(n));
    }
    resp
}

pub async fn add_documents(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> CellResult<Response> {
    let started = Instant::now();
    let caller = authorize(&cell, &headers, Scope::Write)?;
    let obj = body
        .as_object()
        .ok_or_else(|| CellError::unprocessable(&["body"], "body must be a JSON object"))?;
    let docs = match obj.get("documents") {
        Some(Value::Array(a)) => a,
        _ => {
            return Err(CellError::unprocessable(
                &["body", "documents"],
                "field required (a list)",
            ));
        }
    };
    let idx = cell.index_for(&caller, &name)?;
    if docs.is_empty() {
        return Err(CellError::BadRequest(
            "Received empty add documents request".into(),
        ));
    }
    if docs.len() > MAX_DOCS_PER_REQUEST {
        return Err(CellError::BadRequest(format!(
            "Number of docs in add documents request ({}) exceeds limit of {MAX_DOCS_PER_REQUEST}",
            docs.len()
        )));
    }
    let s = idx.settings.clone();
    let tensor_fields: Vec<String> = if s.structured {
        if obj.get("tensorFields").is_some_and(|v| !v.is_null()) {
            return Err(CellError::BadRequest(
                "tensorFields must not be given for structured indexes (they come from the index settings)".into(),
            ));
        }
        s.tensor_fields.clone()
    } else {
        match obj.get("tensorFields") {
            Some(Value::Array(a)) => {
                let mut v = Vec::new();
                for t in a {
                    let t = t.as_str().ok_or_else(|| {
                        CellError::unprocessable(&["body", "tensorFields"], "must be strings")
                    })?;
                    if t == "_id" {
                        return Err(CellError::BadRequest("_id cannot be a tensor field".into()));
                    }
                    v.push(t.to_string());
                }
                v
            }
            _ => {
                return Err(CellError::BadRequest(
                    "tensor_fields must be explicitly provided for unstructured indexes (use [] for none)".into(),
                ));
            }
        }
    };
    let mappings = if s.structured {
        None
    } else {
        parse_mappings(obj.get("mappings"))?
    };
    // Last occurrence of an _id wins; earlier ones get no item.
    let mut last: HashMap<String, usize> = HashMap::new();
    for (i, d) in docs.iter().enumerate() {
        if let Some(id) = d.get("_id").and_then(Value::as_str) {
            last.insert(id.to_string(), i);
        }
    }
    let mut items: Vec<Option<Value>> = Vec::with_capacity(docs.len());
    let mut ready: Vec<(usize, DocRecord)> = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        let Some(doc) = d.as_object() else {
            items.push(Some(item_error(
                "",
                &CellError::BadRequest("Docs must be dicts".into()),
            )));
            continue;
        };
        let id = match doc.get("_id") {
            None => uuid::Uuid::new_v4().to_string(),
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 512 => {
                if last.get(s) != Some(&i) {
                    items.push(None);
                    continue;
                }
                s.clone()
            }
            Some(_) => {
                items.push(Some(item_error(
                    "",
                    &CellError::InvalidDocumentId(
                        "Document _id must be a non-empty string (at most 512 characters)".into(),
                    ),
                )));
                continue;
            }
        };
        let size = serde_json::to_vec(doc).map(|b| b.len()).unwrap_or(0);
        if size > MAX_DOC_BYTES {
            items.push(Some(json!({"_id": id, "status": 400, "code": "doc_too_large",
                "error": format!("Document exceeds {MAX_DOC_BYTES} bytes"), "message": format!("Document exceeds {MAX_DOC_BYTES} bytes")})));
            continue;
        }
        match validate_fields(doc, &s, &tensor_fields, mappings.as_ref()) {
            Ok(fields) => {
                let rec_tensor: Vec<String> = if s.structured {
                    Vec::new()
                } else {
                    tensor_fields
                        .iter()
                        .filter(|t| {
                            fields.contains_key(*t)
                                || mappings.as_ref().is_some_and(|m| m.contains_key(*t))
                        })
                        .cloned()
                        .collect()
                };
                let rec_mappings = mappings
                    .as_ref()
                    .map(|m| {
                        m.iter()
                            .filter(|(k, _)| rec_tensor.contains(k))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect::<Map<_, _>>()
                    })
                    .filter(|m| !m.is_empty());
                items.push(Some(json!({"_id": id, "status": 200})));
                ready.push((
                    items.len() - 1,
                    DocRecord {
                        id,
                        fields,
                        tensor_fields: rec_tensor,
                        mappings: rec_mappings,
                    },
                ));
            }
            Err(e) => items.push(Some(item_error(&id, &e))),
        }
    }
    if !ready.is_empty() {
        cell.check_writable()?;
        let prepared: Vec<_> = ready
            .iter()
            .map(|(_, r)| store::prepare(r.clone(), &s))
            .collect();
        let ticket = {
            let mut data = idx.data.write();
            ensure_live(&idx)?;
            let new = ready.iter().filter(|(_, r)| !data.contains(&r.id)).count();
            if data.len() + new > cell.cfg.max_docs_per_index {
                return Err(CellError::BadRequest(format!(
                    "index {name} would exceed its limit of {} documents (--max-docs-per-index)",
                    cell.cfg.max_docs_per_index
                )));
            }
            for p in prepared {
                data.put(p);
            }
            cell.submit(&Record::Docs {
                index: idx.name.clone(),
                put: ready.into_iter().map(|(_, r)| r).collect(),
                del: Vec::new(),
            })
        };
        cell.commit(ticket).await?;
    }
    Ok(write_response(
        &idx.name,
        started,
        items.into_iter().flatten().collect(),
    ))
}

pub async fn update_documents(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> CellResult<Response> {
    let started = Instant::now();
    let caller = authorize(&cell, &headers, Scope::Write)?;
    let docs = body
        .get("documents")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            CellError::unprocessable(&["body", "documents"], "field required (a list)")
        })?;
    let idx = cell.index_for(&caller, &name)?;
    if docs.is_empty() {
        return Err(CellError::BadRequest(
            "Received empty update documents request".into(),
        ));
    }
    if docs.len() > MAX_DOCS_PER_REQUEST {
        return Err(CellError::BadRequest(format!(
            "Number of docs in update documents request exceeds limit of {MAX_DOCS_PER_REQUEST}"
        )));
    }
    cell.check_writable()?;
    let s = idx.settings.clone();
    let mut items = Vec::new();
    let mut put = Vec::new();
    let ticket = {
        let mut data = idx.data.write();
        ensure_live(&idx)?;
        for d in docs {
            let Some(doc) = d.as_object() else {
                items.push(item_error(
                    "",
                    &CellError::BadRequest("Docs must be dicts".into()),
                ));
                continue;
            };
            let Some(id) = doc
                .get("_id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            else {
                items.push(item_error(
                    "",
                    &CellError::InvalidDocumentId("Document _id must be a non-empty string".into()),
                ));
                continue;
            };
            let Some(existing) = data.get(id).map(|d| d.rec.clone()) else {
                items.push(json!({"_id": id, "status": 404, "message": "Document does not exist in the index"}));
                continue;
            };
            let tensor: Vec<String> = if s.structured {
                s.tensor_fields.clone()
            } else {
                existing.tensor_fields.clone()
            };
            if let Some(k) = doc.keys().find(|k| tensor.contains(k)) {
                items.push(item_error(
                    id,
                    &CellError::BadRequest(format!(
                        "Field '{k}' is a tensor field and cannot be updated"
                    )),
                ));
                continue;
            }
            match validate_fields(doc, &s, &[], existing.mappings.as_ref()) {
                Ok(fields) => {
                    let mut rec = existing;
                    rec.fields.extend(fields);
                    data.put(store::prepare(rec.clone(), &s));
                    put.push(rec);
                    items.push(json!({"_id": id, "status": 200}));
                }
                Err(e) => items.push(item_error(id, &e)),
            }
        }
        (!put.is_empty()).then(|| {
            cell.submit(&Record::Docs {
                index: idx.name.clone(),
                put,
                del: Vec::new(),
            })
        })
    };
    if let Some(t) = ticket {
        cell.commit(t).await?;
    }
    Ok(write_response(&idx.name, started, items))
}

fn doc_json(doc: &store::StoredDoc) -> Value {
    let mut out = Map::new();
    out.insert("_id".into(), json!(doc.rec.id));
    out.extend(doc.rec.fields.clone());
    Value::Object(out)
}

pub async fn get_document(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    uri: Uri,
    Path((name, id)): Path<(String, String)>,
) -> CellResult<Json<Value>> {
    let caller = authorize(&cell, &headers, Scope::Read)?;
    let idx = cell.index_for(&caller, &name)?;
    let facets = query_flag(&uri, "expose_facets");
    let data = idx.data.read();
    let doc = data.get(&id).ok_or_else(|| CellError::DocumentNotFound {
        id: id.clone(),
        index: idx.name.clone(),
    })?;
    let mut v = doc_json(doc);
    if facets {
        add_facets(&mut v, &data, doc, idx.settings.dim);
    }
    Ok(Json(v))
}

fn add_facets(v: &mut Value, data: &store::IndexData, doc: &store::StoredDoc, dim: usize) {
    let f: Vec<Value> = data
        .chunks_of(doc)
        .map(|c| json!({ c.field.clone(): c.text, "_embedding": embed::dense(&c.vec, dim) }))
        .collect();
    v["_tensor_facets"] = Value::Array(f);
}

pub async fn get_documents(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    uri: Uri,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> CellResult<Json<Value>> {
    let caller = authorize(&cell, &headers, Scope::Read)?;
    let ids = body.as_array().ok_or_else(|| {
        CellError::unprocessable(&["body"], "expected a JSON list of document ids")
    })?;
    let idx = cell.index_for(&caller, &name)?;
    if ids.is_empty() {
        return Err(CellError::InvalidArgument(
            "Can't get empty list of documents!".into(),
        ));
    }
    if ids.len() > MAX_IDS {
        return Err(CellError::IllegalDocCount(format!(
            "Cannot get more than {MAX_IDS} documents at once"
        )));
    }
    let facets = query_flag(&uri, "expose_facets");
    let data = idx.data.read();
    let mut errors = false;
    let results: Vec<Value> = ids
        .iter()
        .map(|raw| match raw.as_str() {
            Some(id) => match data.get(id) {
                Some(doc) => {
                    let mut v = doc_json(doc);
                    if facets {
                        add_facets(&mut v, &data, doc, idx.settings.dim);
                    }
                    v["_found"] = json!(true);
                    v
                }
                None => {
                    errors = true;
                    json!({"_id": id, "status": 404, "message": "Document does not exist in the index", "_found": false})
                }
            },
            None => {
                errors = true;
                json!({"_id": raw, "status": 400, "message": "Document _id must be a string", "_found": false})
            }
        })
        .collect();
    Ok(Json(json!({"errors": errors, "results": results})))
}

pub async fn delete_batch(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> CellResult<Json<Value>> {
    let started_at = now_rfc3339();
    let started = Instant::now();
    let caller = authorize(&cell, &headers, Scope::Write)?;
    let ids = body.as_array().ok_or_else(|| {
        CellError::unprocessable(&["body"], "expected a JSON list of document ids")
    })?;
    let idx = cell.index_for(&caller, &name)?;
    if ids.is_empty() {
        return Err(CellError::InvalidDocumentId(
            "doc_ids can't be empty!".into(),
        ));
    }
    if ids.len() > MAX_IDS {
        return Err(CellError::IllegalDocCount(format!(
            "Cannot delete more than {MAX_IDS} documents at once"
        )));
    }
    let mut strs = Vec::with_capacity(ids.len());
    for v in ids {
        strs.push(
            v.as_str()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    CellError::InvalidDocumentId(format!(
                        "Document _id must be a non-empty string, got {v}"
                    ))
                })?
                .to_string(),
        );
    }
    cell.check_writable()?;
    let mut items = Vec::with_capacity(strs.len());
    let mut deleted = 0;
    let ticket = {
        let mut data = idx.data.write();
        ensure_live(&idx)?;
        for id in &strs {
            if data.remove(id) {
                deleted += 1;
                items.push(json!({"_id": id, "status": 200, "result": "deleted"}));
            } else {
                items.push(json!({"_id": id, "status": 404, "result": "not_found"}));
            }
        }
        (deleted > 0).then(|| {
            cell.submit(&Record::Docs {
                index: idx.name.clone(),
                put: Vec::new(),
                del: strs.clone(),
            })
        })
    };
    if let Some(t) = ticket {
        cell.commit(t).await?;
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(Json(json!({
        "index_name": idx.name, "status": "succeeded", "type": "documentDeletion", "items": items,
        "details": {"receivedDocumentIds": strs.len(), "deletedDocuments": deleted},
        "duration": format!("PT{secs:.3}S"), "startedAt": started_at, "finishedAt": now_rfc3339(),
    })))
}

pub async fn delete_all(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> CellResult<Json<Value>> {
    let caller = authorize(&cell, &headers, Scope::Write)?;
    let idx = cell.index_for(&caller, &name)?;
    cell.check_writable()?;
    let (n, ticket) = {
        let mut data = idx.data.write();
        ensure_live(&idx)?;
        let ids: Vec<String> = data.iter().map(|(_, d)| d.rec.id.clone()).collect();
        for id in &ids {
            data.remove(id);
        }
        let n = ids.len();
        (
            n,
            (n > 0).then(|| {
                cell.submit(&Record::Docs {
                    index: idx.name.clone(),
                    put: Vec::new(),
                    del: ids,
                })
            }),
        )
    };
    if let Some(t) = ticket {
        cell.commit(t).await?;
    }
    Ok(Json(json!({"documentCount": n})))
}

pub async fn stats(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> CellResult<Json<Value>> {
    let caller = authorize(&cell, &headers, Scope::Read)?;
    let idx = cell.index_for(&caller, &name)?;
    let (n, v) = {
        let d = idx.data.read();
        (d.len(), d.n_vectors)
    };
    let used = 100.0 * n as f64 / cell.cfg.max_docs_per_index.max(1) as f64;
    Ok(Json(json!({
        "numberOfDocuments": n, "numberOfVectors": v,
        "backend": {"memoryUsedPercentage": used, "storageUsedPercentage": used},
    })))
}

pub async fn settings(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> CellResult<Json<Value>> {
    let caller = authorize(&cell, &headers, Scope::Read)?;
    let idx = cell.index_for(&caller, &name)?;
    Ok(Json(idx.settings.json.clone()))
}

pub fn health_body() -> Value {
    json!({"status": "green", "inference": {"status": "green"},
        "backend": {"status": "green", "memoryIsAvailable": true, "storageIsAvailable": true}})
}

pub async fn index_health(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> CellResult<Json<Value>> {
    let caller = authorize(&cell, &headers, Scope::Read)?;
    cell.index_for(&caller, &name)?;
    Ok(Json(health_body()))
}
