//! The gate a snapshot restore closes around moto's reset and replay (issue 20): while it is
//! closed, every AWS call through the gateway waits (up to 5 s, then a 503 `ServiceUnavailable`
//! in the protocol the client spoke, which the SDKs retry), so no client ever reads or writes a
//! half-replayed moto. The restore itself talks to moto directly, past the gate.
//!
//! `POST /_fake/restore-gate` (`{"lease_ms": N}`, default 60 s, at most 10 min) closes it once
//! the calls in flight are done and answers when it is closed; `DELETE` opens it; `GET` says
//! which. The lease opens it by itself if the orchestrator never does (it crashed mid-restore).
//! Long polls (SQS `ReceiveMessage`, Step Functions `GetActivityTask`) pass: one can hold a
//! connection for 20–60 s, and a restore must not wait for it; what it answers comes from the
//! old state or the restored one. Like `/_fake/faults`, the routes are for the local stack only.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde_json::{Value, json};
use service_kit::error::json_error;
use service_kit::faults::{Classifier as _, InjectedError};
use service_kit::restore_gate::{RestoreGate, RestorePermit};

use crate::AppState;

pub const PATH: &str = "/_fake/restore-gate";

const DEFAULT_LEASE: Duration = Duration::from_secs(60);
const MAX_LEASE: Duration = Duration::from_secs(600);

/// The gate and, while it is closed, the permit holding it with its lease.
#[derive(Clone, Default)]
pub struct Gate {
    gate: RestoreGate,
    held: Arc<Mutex<Option<Held>>>,
}

struct Held {
    _permit: RestorePermit,
    id: u64,
    until: Instant,
}

impl Gate {
    /// Close the gate (waiting for the calls in flight) for at most `lease`; closing a closed
    /// gate renews its lease.
    pub async fn close(&self, lease: Duration) -> Duration {
        let until = Instant::now() + lease;
        let renewed = self.held.lock().as_mut().map(|h| {
            h.until = until;
            h.id
        });
        let id = match renewed {
            Some(id) => id,
            None => {
                let permit = self.gate.restore().await;
                let id = rand_id();
                *self.held.lock() = Some(Held {
                    _permit: permit,
                    id,
                    until,
                });
                id
            }
        };
        let this = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(lease).await;
            this.expire(id);
        });
        lease
    }

    /// Open the gate if the lease `id` still holds it and has run out.
    fn expire(&self, id: u64) {
        let mut held = self.held.lock();
        if held
            .as_ref()
            .is_some_and(|h| h.id == id && h.until <= Instant::now())
        {
            tracing::warn!("restore gate lease ran out: opened without the orchestrator");
            *held = None;
        }
    }

    /// Restores begun so far: background work (the SQS pollers) that saw another number began
    /// in a moto state since replaced.
    pub fn epoch(&self) -> u64 {
        self.gate.epoch()
    }

    /// Wait while a restore holds the gate. The gateway's own background calls to moto (mapping
    /// discovery, the SQS pollers) go straight to moto, past the gate's middleware, so they wait
    /// here instead: a poller must never take a message out of a half-replayed queue.
    pub async fn wait_open(&self) {
        drop(self.gate.write_unbounded().await);
    }

    /// Open the gate; whether it was closed.
    pub fn open(&self) -> bool {
        self.held.lock().take().is_some()
    }

    /// Time left on the lease while closed.
    pub fn closed_for(&self) -> Option<Duration> {
        self.held
            .lock()
            .as_ref()
            .map(|h| h.until.saturating_duration_since(Instant::now()))
    }
}

fn rand_id() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
}

/// `GET|POST|DELETE /_fake/restore-gate`.
pub async fn api(State(state): State<AppState>, req: Request) -> Response {
    let gate = state.restore_gate();
    let method = req.method().clone();
    match method.as_str() {
        "GET" => Json(status(gate)).into_response(),
        "DELETE" => {
            let was = gate.open();
            Json(json!({"closed": false, "was_closed": was})).into_response()
        }
        "POST" => match lease_of(req).await {
            Ok(lease) => {
                gate.close(lease).await;
                Json(status(gate)).into_response()
            }
            Err(why) => json_error(StatusCode::BAD_REQUEST, "invalid_body", why),
        },
        _ => service_kit::error::method_not_allowed().await,
    }
}

fn status(gate: &Gate) -> Value {
    match gate.closed_for() {
        Some(left) => json!({"closed": true, "lease_ms_left": left.as_millis() as u64}),
        None => json!({"closed": false}),
    }
}

/// The body's `lease_ms` (an empty body: the default).
async fn lease_of(req: Request) -> Result<Duration, String> {
    let bytes = axum::body::to_bytes(req.into_body(), 4096)
        .await
        .map_err(|e| format!("cannot read the body: {e}"))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(DEFAULT_LEASE);
    }
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("the body must be JSON like {{\"lease_ms\": 30000}}: {e}"))?;
    match v.get("lease_ms") {
        None => Ok(DEFAULT_LEASE),
        Some(ms) => match ms.as_u64() {
            Some(ms) if ms > 0 && Duration::from_millis(ms) <= MAX_LEASE => {
                Ok(Duration::from_millis(ms))
            }
            _ => Err(format!(
                "lease_ms must be a whole number of milliseconds from 1 to {}",
                MAX_LEASE.as_millis()
            )),
        },
    }
}

/// Whether a call waits for a closed gate: everything that reaches moto or reads what the
/// restore replaces, except the gateway's own routes and long polls.
fn gated(parts: &Parts) -> bool {
    let path = parts.uri.path();
    if path == "/healthz" || path.starts_with("/_fake/") || path.starts_with("/_gateway/") {
        return false;
    }
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let query = parts.uri.query().unwrap_or_default();
    !(target.ends_with(".ReceiveMessage")
        || target.ends_with(".GetActivityTask")
        || query.split('&').any(|kv| kv == "Action=ReceiveMessage"))
}

/// The middleware: hold a shared permit while the call is handled.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    if !gated(&parts) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    match state.restore_gate().gate.write().await {
        Ok(_permit) => next.run(Request::from_parts(parts, body)).await,
        Err(why) => busy(&parts, why),
    }
}

/// A refused call: 503 `ServiceUnavailable` in the client's protocol.
fn busy(parts: &Parts, why: &str) -> Response {
    let gw = crate::faults::Gateway;
    let call = gw.classify(parts, b"");
    let e = InjectedError {
        code: "ServiceUnavailable".into(),
        status: Some(503),
        message: format!("moto is being restored from a snapshot: {why}"),
    };
    gw.error_response(parts, &call, &e)
}
