//! The rest of the local admin API under `/_fake/` (no key needed): a dump of the whole state,
//! reset, and one fault injection hook (stop an index server's listener) used to test the
//! watchdog honestly.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::error::{CellError, CellResult};
use crate::persist::{self, Record};
use crate::servers;
use crate::state::Cell;

pub async fn dump_state(State(cell): State<Arc<Cell>>) -> Json<Value> {
    let snap = persist::snapshot(&cell, 0);
    let ports: serde_json::Map<String, Value> = cell
        .servers
        .lock()
        .iter()
        .map(|(n, h)| (n.clone(), json!(h.port)))
        .collect();
    let mut v = json!(snap);
    if let Some(o) = v.as_object_mut() {
        o.remove("covered");
        o.insert("servers".into(), Value::Object(ports));
    }
    Json(v)
}

pub async fn reset(State(cell): State<Arc<Cell>>) -> CellResult<Json<Value>> {
    cell.check_writable()?;
    let ticket = {
        persist::reset_memory(&cell);
        cell.submit(&Record::Reset)
    };
    servers::stop_all(&cell);
    cell.commit(ticket).await?;
    if let Err(e) = persist::compact(cell.clone()).await {
        tracing::warn!(error = %e, "snapshot after reset failed; the journal still records the reset");
    }
    tracing::info!("state reset");
    Ok(Json(json!({"acknowledged": true})))
}

/// Fault injection: stop an index server's listener while the index stays registered, so the
/// watchdog's probe really fails (used by the watchdog test).
pub async fn stop_index_server(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
) -> CellResult<Json<Value>> {
    if !cell.indexes.read().contains_key(&name) {
        return Err(CellError::IndexNotFound(name));
    }
    servers::stop(&cell, &name);
    Ok(Json(json!({"acknowledged": true, "stopped": name})))
}
