//! The router's part of a stack snapshot: its pipe positions. The router itself keeps no data
//! worth restoring, but a moto restore replays every write into fresh DynamoDB streams, and the
//! local pipe would deliver each replayed record again as a new webhook. So a restore brackets
//! moto's: `PUT /_fake/snapshot` holds pipe deliveries, and `POST /_fake/snapshot/resume` (after
//! moto's replay) marks every stream record created up to that moment as already delivered — the
//! positions the snapshot was taken at — and lets the pipe go on from there. A hold that is never
//! resumed lifts itself after [`MAX_HOLD`]. `GET /_fake/snapshot` and `/_fake/snapshot/summary`
//! show the pipe's per-table state.

use std::time::{Duration, Instant, SystemTime};

use aws_sdk_dynamodbstreams::types::Record;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde_json::{Value, json};
use service_kit::error::json_error;

use crate::AppState;

/// The snapshot document's format.
pub const FORMAT: u32 = 1;
/// A restore that never resumes (its orchestrator died) holds deliveries at most this long.
pub const MAX_HOLD: Duration = Duration::from_secs(120);

#[derive(Default)]
pub struct Hold {
    inner: Mutex<HoldState>,
}

#[derive(Default)]
struct HoldState {
    until: Option<Instant>,
    /// Stream records created at or before this (unix ms) count as delivered.
    skip_through_ms: i64,
}

impl Hold {
    fn begin(&self) {
        self.inner.lock().until = Some(Instant::now() + MAX_HOLD);
    }

    fn resume(&self) -> i64 {
        let now = now_ms();
        let mut s = self.inner.lock();
        s.until = None;
        s.skip_through_ms = now;
        now
    }

    fn holding(&self) -> bool {
        self.inner.lock().until.is_some_and(|u| Instant::now() < u)
    }

    /// For the pipe, before delivering `record`: wait while a restore holds deliveries, then say
    /// whether the record predates the last restore (and so must not be delivered again).
    pub async fn predates_restore(&self, record: &Record) -> bool {
        while self.holding() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let created = record
            .dynamodb()
            .and_then(|d| d.approximate_creation_date_time())
            .and_then(|c| c.to_millis().ok());
        let through = self.inner.lock().skip_through_ms;
        created.is_some_and(|c| c <= through)
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `GET /_fake/snapshot`.
pub async fn get_snapshot(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "format": FORMAT,
        "service": crate::SERVICE,
        "pipe": state.pipe().snapshot(),
    }))
}

/// `GET /_fake/snapshot/summary`.
pub async fn get_summary(State(state): State<AppState>) -> Json<Value> {
    let tables = state.pipe().tables();
    Json(json!({
        "service": crate::SERVICE,
        "tables": tables.len(),
        "holding": state.hold().holding(),
    }))
}

/// `PUT /_fake/snapshot`: hold pipe deliveries until `resume` (or [`MAX_HOLD`]).
pub async fn put_snapshot(State(state): State<AppState>, body: Bytes) -> Response {
    let doc: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad(format!("not a webhook-router snapshot document: {e}")),
    };
    if doc["service"] != crate::SERVICE {
        return bad(format!(
            "this snapshot belongs to {}, not {}",
            doc["service"],
            crate::SERVICE
        ));
    }
    if doc["format"] != FORMAT {
        return bad(format!(
            "snapshot format {} cannot be loaded by this webhook-router (it reads format {FORMAT})",
            doc["format"]
        ));
    }
    state.hold().begin();
    tracing::info!("snapshot restore: pipe deliveries held");
    Json(json!({ "restored": true, "summary": { "holding": true } })).into_response()
}

/// `POST /_fake/snapshot/resume`: what the streams hold now counts as delivered; deliver on.
pub async fn resume(State(state): State<AppState>) -> Json<Value> {
    let through = state.hold().resume();
    tracing::info!(
        through_ms = through,
        "snapshot restore: pipe deliveries resumed"
    );
    Json(json!({ "resumed": true, "delivered_through_ms": through }))
}

fn bad(message: String) -> Response {
    json_error(StatusCode::BAD_REQUEST, "invalid_snapshot", message)
}
