//! Marqo Cloud's index routes (`/api/v2/indexes...`): list, create, describe, status, update
//! (cloud options only), delete, fork. The lifecycle itself lives in `crate::lifecycle`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::engine::settings::{self, CLOUD_KEYS};
use crate::error::{CellError, CellResult};
use crate::http::auth::{Admin, Auth, AuthJson, Read};
use crate::lifecycle::{create_index, delete_index, list_entry, status_of, visible};
use crate::persist::Record;
use crate::state::{Cell, now_ms};

pub async fn list(
    State(cell): State<Arc<Cell>>,
    Auth(caller, _): Auth<Read>,
) -> CellResult<Json<Value>> {
    let results: Vec<Value> = visible(&cell, &caller)
        .iter()
        .map(|i| list_entry(&cell, i))
        .collect();
    Ok(Json(json!({ "results": results })))
}

pub async fn create(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    AuthJson(caller, body, _): AuthJson<Admin>,
) -> CellResult<Json<Value>> {
    let idx = create_index(&cell, &caller, &name, &body, None).await?;
    let status = idx.meta.read().status().to_string();
    let port = idx.meta.read().port;
    Ok(Json(json!({
        "acknowledged": true, "index": name, "indexName": name,
        "indexStatus": status, "marqoEndpoint": cell.endpoint(port),
    })))
}

pub async fn describe(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    Auth(caller, _): Auth<Read>,
) -> CellResult<Json<Value>> {
    let idx = cell.index_for(&caller, &name)?;
    Ok(Json(list_entry(&cell, &idx)))
}

pub async fn status(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    Auth(caller, _): Auth<Read>,
) -> CellResult<Json<Value>> {
    Ok(Json(status_of(&cell, &caller, &name)?))
}

pub async fn update(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    AuthJson(caller, body, _): AuthJson<Admin>,
) -> CellResult<Json<Value>> {
    let obj = body
        .as_object()
        .ok_or_else(|| CellError::unprocessable(&["body"], "body must be a JSON object"))?;
    for k in obj.keys() {
        if !CLOUD_KEYS.contains(&k.as_str()) {
            return Err(CellError::InvalidArgument(format!(
                "{k} cannot be updated; updatable settings are {}",
                CLOUD_KEYS.join(", ")
            )));
        }
    }
    cell.check_writable()?;
    let idx = cell
        .indexes
        .read()
        .get(&name)
        .cloned()
        .ok_or_else(|| CellError::IndexNotFound(name.clone()))?;
    caller.check_owns(&idx, &name)?;
    let ticket = {
        let mut meta = idx.meta.write();
        let cloud = settings::normalize_cloud(obj, Some(&meta.cloud))?;
        meta.cloud = cloud;
        let delay = cell.cfg.creation_delay_ms;
        meta.pending = (delay > 0).then(|| "MODIFYING".to_string());
        meta.ready_at_ms = now_ms() + delay;
        cell.submit(&Record::Index { v: meta.clone() })
    };
    cell.commit(ticket).await?;
    Ok(Json(json!({"acknowledged": true, "index": name})))
}

pub async fn delete(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    Auth(caller, _): Auth<Admin>,
) -> CellResult<Json<Value>> {
    delete_index(&cell, &caller, &name).await?;
    Ok(Json(
        json!({"acknowledged": true, "index": name, "indexStatus": "DELETED"}),
    ))
}

/// `POST /api/v2/indexes/{name}/fork` `{"targetIndexName": …}`: a new index with the source's
/// settings, cloud options and documents.
pub async fn fork(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    AuthJson(caller, body, _): AuthJson<Admin>,
) -> CellResult<Json<Value>> {
    let target = body
        .get("targetIndexName")
        .and_then(Value::as_str)
        .ok_or_else(|| CellError::unprocessable(&["body", "targetIndexName"], "field required"))?
        .to_string();
    let src = cell.index_for(&caller, &name)?;
    let (mut settings_body, docs) = {
        let meta = src.meta.read();
        let mut s = meta.settings.clone();
        if let Some(o) = s.as_object_mut() {
            o.extend(meta.cloud.clone());
        }
        (s, src.data.read().records())
    };
    if let Some(o) = settings_body.as_object_mut()
        && o.get("imagePreprocessing") == Some(&json!({}))
    {
        o.remove("imagePreprocessing");
    }
    let n = docs.len();
    create_index(&cell, &caller, &target, &settings_body, Some(docs)).await?;
    Ok(Json(json!({
        "acknowledged": true, "sourceIndexName": name, "index": target,
        "indexName": target, "documentsCopied": n,
    })))
}
