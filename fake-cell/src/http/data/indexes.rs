//! Open-source Marqo's index routes on the data plane: `GET /indexes`, `POST|DELETE
//! /indexes/{name}` and the batch create / delete routes (`GET /indexes/{name}/status` is the
//! control plane's status handler, routed on both planes).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::error::{CellError, CellResult};
use crate::http::auth::{Admin, Auth, AuthJson, Read};
use crate::lifecycle::{create_index, delete_index, visible};
use crate::state::Cell;

pub async fn list(
    State(cell): State<Arc<Cell>>,
    Auth(caller, _): Auth<Read>,
) -> CellResult<Json<Value>> {
    let results: Vec<Value> = visible(&cell, &caller)
        .iter()
        .map(|i| json!({"indexName": i.name}))
        .collect();
    Ok(Json(json!({ "results": results })))
}

pub async fn create(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    AuthJson(caller, body, _): AuthJson<Admin>,
) -> CellResult<Json<Value>> {
    create_index(&cell, &caller, &name, &body, None).await?;
    Ok(Json(json!({"acknowledged": true, "index": name})))
}

pub async fn delete(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    Auth(caller, _): Auth<Admin>,
) -> CellResult<Json<Value>> {
    delete_index(&cell, &caller, &name).await?;
    Ok(Json(json!({"acknowledged": true})))
}

/// `POST /batch/indexes/create`: a JSON array of settings objects with `indexName`.
pub async fn batch_create(
    State(cell): State<Arc<Cell>>,
    AuthJson(caller, body, _): AuthJson<Admin>,
) -> CellResult<Json<Value>> {
    let arr = body
        .as_array()
        .ok_or_else(|| CellError::unprocessable(&["body"], "expected a list of index settings"))?;
    // Marqo's body model first, then the route's switch.
    cell.cfg.check_batch_apis()?;
    let mut names = Vec::new();
    for item in arr {
        let mut item = item.clone();
        let name = item
            .as_object_mut()
            .and_then(|o| o.remove("indexName"))
            .and_then(|v| v.as_str().map(str::to_string))
            .ok_or_else(|| CellError::unprocessable(&["body", "indexName"], "field required"))?;
        create_index(&cell, &caller, &name, &item, None).await?;
        names.push(name);
    }
    Ok(Json(json!({"acknowledged": true, "index_names": names})))
}

/// `POST /batch/indexes/delete`: a JSON array of names.
pub async fn batch_delete(
    State(cell): State<Arc<Cell>>,
    AuthJson(caller, body, _): AuthJson<Admin>,
) -> CellResult<Json<Value>> {
    let arr = body
        .as_array()
        .ok_or_else(|| CellError::unprocessable(&["body"], "expected a list of index names"))?;
    let names = arr
        .iter()
        .map(|n| n.as_str().map(str::to_string))
        .collect::<Option<Vec<String>>>()
        .ok_or_else(|| CellError::unprocessable(&["body"], "index names must be strings"))?;
    // Marqo's body model first, then the route's switch.
    cell.cfg.check_batch_apis()?;
    for name in &names {
        delete_index(&cell, &caller, name).await?;
    }
    Ok(Json(json!({"acknowledged": true, "index_names": names})))
}
