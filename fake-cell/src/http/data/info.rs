//! Per-index read-only routes: settings, stats and health (plus the health body that `/health`
//! answers too).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::error::CellResult;
use crate::http::auth::{Auth, Read};
use crate::state::Cell;

pub async fn stats(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    Auth(caller, _): Auth<Read>,
) -> CellResult<Json<Value>> {
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
    Path(name): Path<String>,
    Auth(caller, _): Auth<Read>,
) -> CellResult<Json<Value>> {
    let idx = cell.index_for(&caller, &name)?;
    // Marqo's `IndexSettings.from_marqo_index` leaves the model's prefixes out.
    let mut json = idx.settings.json.clone();
    if let Some(m) = json.as_object_mut() {
        m.remove("textQueryPrefix");
        m.remove("textChunkPrefix");
        if let Some(Value::Object(props)) = m.get_mut("modelProperties") {
            hide_marqtune_properties(props);
        }
    }
    Ok(Json(json))
}

/// Current Marqo's `get_model_properties`: a Marqtune model's properties show only what is not
/// its own (`isMarqtuneModel` and any extra keys), never where it lives or what it is.
fn hide_marqtune_properties(props: &mut serde_json::Map<String, Value>) {
    if props.get("isMarqtuneModel").is_some_and(|v| v == true) {
        for key in [
            "name",
            "dimensions",
            "model_location",
            "type",
            "trustRemoteCode",
        ] {
            props.remove(key);
        }
    }
}

pub fn health_body() -> Value {
    json!({"status": "green", "inference": {"status": "green"},
        "backend": {"status": "green", "memoryIsAvailable": true, "storageIsAvailable": true}})
}

pub async fn index_health(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    Auth(caller, _): Auth<Read>,
) -> CellResult<Json<Value>> {
    cell.index_for(&caller, &name)?;
    Ok(Json(health_body()))
}
