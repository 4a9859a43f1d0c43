//! Typeahead routes (Marqo ≥ 2.23): index, get, delete and clear an index's past queries, count
//! them, and suggest completions for a partial query. The bodies and the store are
//! `engine::typeahead`'s; these handlers take the index's data lock, apply a write, journal it
//! and answer once it is durable.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::engine::typeahead::{self, QueryRecord};
use crate::error::{CellError, CellResult};
use crate::http::auth::{Auth, AuthJson, Read, Write};
use crate::persist::{Record, apply_queries};
use crate::state::{Cell, Index, now_ms};

/// One write to an index's queries, applied and journaled under its data lock, then committed.
async fn write(
    cell: &Cell,
    idx: &Index,
    clear: bool,
    put: Vec<QueryRecord>,
    del: Vec<String>,
) -> CellResult<()> {
    cell.check_writable()?;
    let ticket = {
        let mut data = idx.data.write();
        if idx.deleted.load(Ordering::SeqCst) {
            return Err(CellError::IndexNotFound(idx.name.clone()));
        }
        apply_queries(&mut data, clear, put.clone(), &del);
        cell.submit(&Record::Queries {
            index: idx.name.clone(),
            clear,
            put,
            del,
        })
    };
    cell.commit(ticket).await
}

/// `POST /indexes/{n}/suggestions/queries`: add or replace queries. A query repeated in one
/// request (after normalising) is indexed once; the later copies are answered as errors.
pub async fn index_queries(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    AuthJson(caller, body, _): AuthJson<Write>,
) -> CellResult<Json<Value>> {
    let started = Instant::now();
    let records = typeahead::index_request(&body, cell.cfg.limits.documents_batch, now_ms())?;
    let idx = cell.index_for(&caller, &name)?;
    let mut seen = std::collections::HashSet::new();
    let mut put = Vec::with_capacity(records.len());
    let mut errors = Vec::new();
    for r in records {
        if seen.insert(typeahead::normalise(&r.query)) {
            put.push(r);
        } else {
            errors.push(
                json!({"query": r.query, "message": "Duplicate query in the request", "code": 400}),
            );
        }
    }
    let indexed = put.len();
    write(&cell, &idx, false, put, Vec::new()).await?;
    Ok(Json(json!({
        "indexed": indexed,
        "errors": errors,
        "processingTimeMs": started.elapsed().as_secs_f64() * 1000.0,
    })))
}

/// `GET /indexes/{n}/suggestions/queries` with a JSON list of queries: their records, in the
/// request's order (unknown ones left out).
pub async fn get_queries(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    AuthJson(caller, body, _): AuthJson<Read>,
) -> CellResult<Json<Value>> {
    let queries = typeahead::query_list(&body)?;
    let idx = cell.index_for(&caller, &name)?;
    let found = idx.data.read().suggestions.get(&queries);
    Ok(Json(found))
}

/// `DELETE /indexes/{n}/suggestions/queries` with a JSON list of queries; unknown ones are
/// ignored.
pub async fn delete_queries(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    AuthJson(caller, body, _): AuthJson<Write>,
) -> CellResult<Json<Value>> {
    let queries = typeahead::query_list(&body)?;
    let idx = cell.index_for(&caller, &name)?;
    write(&cell, &idx, false, Vec::new(), queries).await?;
    Ok(Json(json!("Queries deleted successfully")))
}

/// `DELETE /indexes/{n}/suggestions/queries/delete-all`: one of Marqo's batch routes (off unless
/// `MARQO_ENABLE_BATCH_APIS`).
pub async fn delete_all_queries(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    Auth(caller, _): Auth<Write>,
) -> CellResult<Json<Value>> {
    cell.cfg.check_batch_apis()?;
    let idx = cell.index_for(&caller, &name)?;
    write(&cell, &idx, true, Vec::new(), Vec::new()).await?;
    Ok(Json(json!("All queries deleted successfully")))
}

/// `GET /indexes/{n}/suggestions/stats`.
pub async fn stats(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    Auth(caller, _): Auth<Read>,
) -> CellResult<Json<Value>> {
    let idx = cell.index_for(&caller, &name)?;
    let n = idx.data.read().suggestions.len();
    Ok(Json(json!({ "indexedQueries": n })))
}

/// `POST /indexes/{n}/suggestions`: completions for a partial query.
pub async fn suggest(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    AuthJson(caller, body, _): AuthJson<Read>,
) -> CellResult<Json<Value>> {
    let started = Instant::now();
    let req = typeahead::suggest_request(&body)?;
    let idx = cell.index_for(&caller, &name)?;
    let suggestions = idx.data.read().suggestions.suggest(&req);
    Ok(Json(json!({
        "suggestions": suggestions,
        "processingTimeMs": started.elapsed().as_secs_f64() * 1000.0,
    })))
}
