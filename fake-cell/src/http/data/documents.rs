//! Document routes: add (per-item errors as Marqo reports them), partial update, get one, get a
//! batch, delete a batch, delete all. Validation lives in `engine::documents`; these handlers
//! take the index's data lock, apply the write, journal it and answer once it is durable.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::engine::documents::{self, add_facets, doc_json};
use crate::engine::settings::Settings;
use crate::engine::store::DocRecord;
use crate::engine::{bodies, model, store};
use crate::error::{CellError, CellResult};
use crate::http::auth::{Auth, AuthJson, Read, Write};
use crate::http::body::query_flag;
use crate::persist::Record;
use crate::state::{Cell, Index, now_rfc3339};
use crate::timings;

fn ensure_live(idx: &Index) -> CellResult<()> {
    if idx.deleted.load(Ordering::SeqCst) {
        Err(CellError::IndexNotFound(idx.name.clone()))
    } else {
        Ok(())
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
    Path(name): Path<String>,
    AuthJson(caller, mut body, _): AuthJson<Write>,
) -> CellResult<Response> {
    let started = Instant::now();
    let obj = model::body_object(&mut body)?;
    bodies::check_add_body(obj)?;
    let docs = match obj.get("documents") {
        Some(Value::Array(a)) => a,
        _ => return Err(CellError::Internal("documents checked as a list".into())),
    };
    let idx = cell.index_for(&caller, &name)?;
    if docs.is_empty() {
        return Err(CellError::BadRequest(
            "Received empty add documents request".into(),
        ));
    }
    let max = cell.cfg.limits.documents_batch;
    if docs.len() > max {
        return Err(CellError::BadRequest(format!(
            "Number of docs in add documents request ({}) exceeds limit of {max}",
            docs.len()
        )));
    }
    let _route = timings::Guard::new(|| format!("POST /indexes/{name}/documents"));
    timings::start("add_documents.processing_before_vespa");
    let s = idx.settings.clone();
    let mut batch = documents::validate_add(obj, docs, &s, cell.cfg.limits.doc_bytes)?;
    if !batch.records.is_empty() {
        // Marqo downloads a batch's images before it vectorises; a document whose image
        // cannot be used is answered with its error and not written.
        let threads = bodies::download_threads(obj);
        let headers = crate::media::headers(obj);
        let failed = cell
            .media
            .check_add(&batch.records, &s, &headers, threads)
            .await;
        batch.fail(&failed);
    }
    let prepared: Vec<_> = if batch.records.is_empty() {
        Vec::new()
    } else {
        cell.check_writable()?;
        // Vectorising the documents loads the index's model, as in Marqo.
        cell.models.used(&s.model);
        batch.records.iter().map(|r| prepare(r, &s)).collect()
    };
    timings::stop("add_documents.processing_before_vespa");
    timings::start("add_documents.vespa._bulk");
    if !prepared.is_empty() {
        let ticket = {
            let mut data = idx.data.write();
            ensure_live(&idx)?;
            let new = batch
                .records
                .iter()
                .filter(|r| !data.contains(&r.id))
                .count();
            if data.len() + new > cell.cfg.max_docs_per_index {
                return Err(CellError::BadRequest(format!(
                    "index {name} would exceed its limit of {} documents (--max-docs-per-index)",
                    cell.cfg.max_docs_per_index
                )));
            }
            if !s.structured {
                field_limits(&data.fields, &prepared, &cell, &idx.name)?;
            }
            for p in prepared {
                data.put(p);
            }
            cell.submit(&Record::Docs {
                index: idx.name.clone(),
                put: batch.records,
                del: Vec::new(),
            })
        };
        cell.commit(ticket).await?;
    }
    timings::stop("add_documents.vespa._bulk");
    Ok(timings::time("add_documents.postprocess", || {
        write_response(&idx.name, started, batch.items)
    }))
}

/// Marqo's limits on a semi-structured index's fields. A batch that brings new fields is timed
/// as Marqo's schema update, which Marqo writes before feeding the documents.
fn field_limits(
    fields: &store::FieldNames,
    batch: &[store::Prepared],
    cell: &Cell,
    index: &str,
) -> CellResult<()> {
    let t = Instant::now();
    let grows = fields
        .check(batch, &cell.cfg.limits, index)
        .map_err(CellError::BadRequest)?;
    if grows {
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        timings::add("add_documents.update_index", ms);
    }
    Ok(())
}

/// One document tokenised and embedded; Marqo times each document's vectorisation
/// (`add_documents.create_vectors`, per document by default).
fn prepare(r: &DocRecord, s: &Settings) -> store::Prepared {
    let t = Instant::now();
    let p = store::prepare(r.clone(), s);
    if p.has_chunks() {
        timings::add(
            "add_documents.create_vectors",
            t.elapsed().as_secs_f64() * 1000.0,
        );
    }
    p
}

pub async fn update_documents(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    AuthJson(caller, mut body, _): AuthJson<Write>,
) -> CellResult<Response> {
    let started = Instant::now();
    let obj = model::body_object(&mut body)?;
    bodies::check_update_body(obj)?;
    let docs = match obj.get("documents") {
        Some(Value::Array(a)) => a,
        _ => return Err(CellError::Internal("documents checked as a list".into())),
    };
    let idx = cell.index_for(&caller, &name)?;
    if docs.is_empty() {
        return Err(CellError::BadRequest(
            "Received empty update_documents request".into(),
        ));
    }
    let max = cell.cfg.limits.documents_batch;
    if docs.len() > max {
        return Err(CellError::BadRequest(format!(
            "Number of docs in update_documents request ({}) exceeds limit of {max}. \
             If using the Python client, break up your update_documents request into smaller \
             batches using its client_batch_size parameter ",
            docs.len()
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
            match documents::update_one(d, &data, &s) {
                Ok(rec) => {
                    items.push(json!({"_id": rec.id, "status": 200}));
                    data.put(store::prepare(rec.clone(), &s));
                    put.push(rec);
                }
                Err(item) => items.push(item),
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

pub async fn get_document(
    State(cell): State<Arc<Cell>>,
    uri: Uri,
    Path((name, id)): Path<(String, String)>,
    Auth(caller, _): Auth<Read>,
) -> CellResult<Json<Value>> {
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

pub async fn get_documents(
    State(cell): State<Arc<Cell>>,
    uri: Uri,
    Path(name): Path<String>,
    AuthJson(caller, body, _): AuthJson<Read>,
) -> CellResult<Json<Value>> {
    // Marqo's `get_documents_by_ids`: the count checks before the index is read.
    let ids = documents::id_list(&body)?;
    if ids.is_empty() {
        return Err(CellError::InvalidArgument(
            "Can't get empty collection of IDs!".into(),
        ));
    }
    let max = cell.cfg.limits.retrievable_docs;
    if ids.len() as u64 > max {
        return Err(CellError::IllegalDocCount(format!(
            "{} documents were requested, which is more than the allowed limit of [{max}], \
             set by the environment variable `MARQO_MAX_RETRIEVABLE_DOCS`",
            ids.len()
        )));
    }
    let idx = cell.index_for(&caller, &name)?;
    let facets = query_flag(&uri, "expose_facets");
    let data = idx.data.read();
    let mut errors = false;
    let results: Vec<Value> = ids
        .iter()
        .map(|id| {
            if id.is_empty() {
                // `validate_id`'s item: no `_found` (Marqo drops the unset field).
                errors = true;
                return json!({"_id": id, "status": 400, "message": "Document ID can't be empty"});
            }
            match data.get(id) {
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
            }
        })
        .collect();
    Ok(Json(json!({"errors": errors, "results": results})))
}

pub async fn delete_batch(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    AuthJson(caller, body, _): AuthJson<Write>,
) -> CellResult<Json<Value>> {
    let started_at = now_rfc3339();
    let started = Instant::now();
    // Marqo's `validate_delete_docs_request`, in its order.
    let strs = documents::id_list(&body)?;
    let idx = cell.index_for(&caller, &name)?;
    if strs.is_empty() {
        return Err(CellError::InvalidDocumentId(
            "doc_ids can't be empty!".into(),
        ));
    }
    let max = cell.cfg.limits.delete_docs;
    if strs.len() > max {
        return Err(CellError::InvalidArgument(format!(
            "The number of documentIds to delete `{}` is greater than the limit `{max}` set by \
             the env var `MARQO_MAX_DELETE_DOCS_COUNT`. ",
            strs.len()
        )));
    }
    if strs.iter().any(String::is_empty) {
        return Err(CellError::InvalidDocumentId(
            "Document ID can't be empty".into(),
        ));
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
    Path(name): Path<String>,
    Auth(caller, _): Auth<Write>,
) -> CellResult<Json<Value>> {
    // One of Marqo's batch routes: off unless MARQO_ENABLE_BATCH_APIS says so, whatever the index.
    cell.cfg.check_batch_apis()?;
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
