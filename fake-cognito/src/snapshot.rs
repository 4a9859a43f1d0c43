//! `/_fake/snapshot`: the whole model as one versioned document (`GET`), restored in place
//! (`PUT`), and the counts `orchestrator snapshot diff` compares (`GET /_fake/snapshot/summary`).
//!
//! A restore takes the exclusive [`service_kit::restore_gate`] permit (every request holds a
//! shared one, see [`gate`]), swaps the store under its lock in one step, and persists it through
//! `App::compact` (journal rotated, a state file covering it written atomically). If that write
//! fails the old store is put back, so memory never runs ahead of the disk. The signing keys are
//! not part of a snapshot: tokens issued before a restore still verify after it.
//! These are house routes (not Cognito APIs), so errors use `{"error","code","status"}`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use service_kit::error::json_error;

use crate::app::AppState;
use crate::model::Store;

/// The snapshot document's format; a different one is refused.
pub const FORMAT: u32 = 1;

#[derive(Serialize)]
struct SnapshotRef<'a> {
    format: u32,
    service: &'static str,
    store: &'a Store,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotDoc {
    format: u32,
    service: String,
    store: Store,
}

/// `GET /_fake/snapshot`.
pub async fn get_snapshot(State(app): State<AppState>) -> Response {
    let bytes = {
        let store = app.store.read();
        serde_json::to_vec(&SnapshotRef {
            format: FORMAT,
            service: crate::SERVICE,
            store: &store,
        })
    };
    match bytes {
        Ok(b) => ([("content-type", "application/json")], b).into_response(),
        Err(e) => json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "snapshot_failed",
            format!("cannot serialise the state: {e}"),
        ),
    }
}

/// `GET /_fake/snapshot/summary`.
pub async fn get_summary(State(app): State<AppState>) -> Json<Value> {
    Json(summary(&app.store.read()))
}

/// Pools, clients, users and groups, in total and per pool (by name, so two seeded stacks compare).
pub fn summary(store: &Store) -> Value {
    let mut per_pool = serde_json::Map::new();
    let (mut clients, mut users, mut groups) = (0, 0, 0);
    for pool in store.pools.values() {
        clients += pool.clients.len();
        users += pool.users.len();
        groups += pool.groups.len();
        per_pool.insert(
            pool.meta.name.clone(),
            json!({
                "id": pool.meta.id,
                "clients": pool.clients.len(),
                "users": pool.users.len(),
                "groups": pool.groups.len(),
            }),
        );
    }
    json!({
        "service": crate::SERVICE,
        "pools": store.pools.len(),
        "clients": clients,
        "users": users,
        "groups": groups,
        "per_pool": per_pool,
    })
}

/// The store of a snapshot document, or why it is not one this build loads.
fn parse(body: &[u8]) -> Result<Store, String> {
    let doc: SnapshotDoc = serde_json::from_slice(body)
        .map_err(|e| format!("not a fake-cognito snapshot document: {e}"))?;
    if doc.service != crate::SERVICE {
        return Err(format!(
            "this snapshot belongs to {}, not {}",
            doc.service,
            crate::SERVICE
        ));
    }
    if doc.format != FORMAT {
        return Err(format!(
            "snapshot format {} cannot be loaded by this fake-cognito (it reads format {FORMAT})",
            doc.format
        ));
    }
    Ok(doc.store)
}

/// `PUT /_fake/snapshot`: replace the whole state in place and answer with its counts.
pub async fn put_snapshot(State(app): State<AppState>, body: Bytes) -> Response {
    let store = match parse(&body) {
        Ok(s) => s,
        Err(why) => return json_error(StatusCode::BAD_REQUEST, "invalid_snapshot", why),
    };
    let _permit = app.restore_gate.restore().await;
    // A background compaction still running would write the old store over the new one.
    while app.compacting.swap(true, Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let old = std::mem::replace(&mut *app.store.write(), store);
    let persisted = app.compact().await;
    app.compacting.store(false, Ordering::SeqCst);
    if let Err(e) = persisted {
        *app.store.write() = old;
        return json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "restore_not_persisted",
            format!("the snapshot could not be persisted, nothing was changed: {e:#}"),
        );
    }
    drop(old);
    // Challenge sessions point at users of the old state.
    app.sessions.clear();
    let counts = summary(&app.store.read());
    tracing::info!(pools = %counts["pools"], users = %counts["users"], "snapshot restored");
    Json(json!({ "restored": true, "summary": counts })).into_response()
}

/// Hold every request but `/healthz` and this document route to the restore gate: a request
/// sees the old state or the restored one from start to end (a sign-in never verifies against
/// one and records its tokens in the other), and one waiting past the bound is refused with
/// Cognito's 503 shape.
pub fn gate(router: axum::Router, app: &AppState) -> axum::Router {
    service_kit::restore_gate::gate_router(router, app.restore_gate.clone(), &[], busy)
}

fn busy(why: &'static str) -> Response {
    crate::error::CognitoError::Persistence(why.into()).into_response()
}
