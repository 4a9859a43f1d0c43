//! `/_fake/snapshot` on the main port: `GET` the whole cell as one versioned document, `PUT` one
//! to restore it in place (answers with the new counts), `GET /_fake/snapshot/summary` for the
//! counts `orchestrator snapshot diff` compares. The logic is `crate::snapshot`.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::error::{CellError, CellResult};
use crate::snapshot;
use crate::state::Cell;

/// Snapshots hold every document, far past the data plane's body limit.
const SNAPSHOT_LIMIT: usize = 1 << 30;

pub fn routes() -> Router<Arc<Cell>> {
    Router::new()
        .route(
            "/_fake/snapshot",
            get(get_snapshot)
                .put(put_snapshot)
                .layer(DefaultBodyLimit::max(SNAPSHOT_LIMIT)),
        )
        .route("/_fake/snapshot/summary", get(get_summary))
}

async fn get_snapshot(State(cell): State<Arc<Cell>>) -> CellResult<Response> {
    let bytes = snapshot::capture(&cell).await?;
    Ok(([("content-type", "application/json")], bytes).into_response())
}

async fn put_snapshot(State(cell): State<Arc<Cell>>, body: Bytes) -> CellResult<Json<Value>> {
    // Tens of megabytes to parse and hash: off the async workers.
    let (doc, sha256) = tokio::task::spawn_blocking(move || {
        snapshot::parse(&body).map(|doc| (doc, snapshot::sha256_hex(&body)))
    })
    .await
    .map_err(|e| CellError::Internal(format!("snapshot task failed: {e}")))??;
    let mut answer = snapshot::restore(&cell, doc, sha256).await?;
    answer["restored"] = json!(true);
    Ok(Json(answer))
}

async fn get_summary(State(cell): State<Arc<Cell>>) -> Json<Value> {
    Json(snapshot::summary(&cell))
}
