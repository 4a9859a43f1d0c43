//! The `/healthz` contract every Hippodrome service honours.
//!
//! - Before the service has finished its startup work: `503 {"status":"starting", ...}`.
//! - Ready and every check passing: `200 {"status":"ok", ...}`.
//! - Ready but a check failing (state directory unwritable, disk full, upstream missing): still `200`
//!   because the service keeps answering, with `"status":"degraded"` and the failing check's message,
//!   so the orchestrator and `doctor` can say what is wrong without restarting a service that a
//!   restart would not fix.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use parking_lot::RwLock;
use serde_json::{Value, json};

/// Shared readiness flag plus named checks. Cheap to clone.
#[derive(Clone)]
pub struct HealthState {
    inner: Arc<Inner>,
}

struct Inner {
    service: &'static str,
    version: &'static str,
    started: Instant,
    ready: AtomicBool,
    /// check name -> Ok(detail) or Err(message)
    checks: RwLock<BTreeMap<String, Result<Value, String>>>,
    /// The service's fault rules, counted into the report as `faults`.
    faults: std::sync::OnceLock<crate::faults::Faults>,
}

impl HealthState {
    pub fn new(service: &'static str, version: &'static str) -> Self {
        Self {
            inner: Arc::new(Inner {
                service,
                version,
                started: Instant::now(),
                ready: AtomicBool::new(false),
                checks: RwLock::new(BTreeMap::new()),
                faults: std::sync::OnceLock::new(),
            }),
        }
    }

    pub fn service(&self) -> &'static str {
        self.inner.service
    }

    /// Call once startup work (state restored, listeners bound) is done.
    pub fn set_ready(&self) {
        self.inner.ready.store(true, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.inner.ready.load(Ordering::SeqCst)
    }

    /// Record a passing check with some detail (counts, lag...).
    pub fn check_ok(&self, name: &str, detail: Value) {
        self.inner
            .checks
            .write()
            .insert(name.to_owned(), Ok(detail));
    }

    /// Record a failing check; the service reports `degraded` until the check passes again.
    pub fn check_failed(&self, name: &str, message: impl Into<String>) {
        self.inner
            .checks
            .write()
            .insert(name.to_owned(), Err(message.into()));
    }

    /// Report the number of active fault rules as `faults` (the first registry attached wins).
    pub fn attach_faults(&self, faults: &crate::faults::Faults) {
        let _ = self.inner.faults.set(faults.clone());
    }

    /// The current report and the status code `/healthz` answers with.
    pub fn report(&self) -> (StatusCode, Value) {
        let checks = self.inner.checks.read();
        let degraded = checks.values().any(|c| c.is_err());
        let checks_json: serde_json::Map<String, Value> = checks
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Ok(detail) => json!({"ok": true, "detail": detail}),
                    Err(msg) => json!({"ok": false, "error": msg}),
                };
                (k.clone(), v)
            })
            .collect();
        drop(checks);
        let ready = self.is_ready();
        let status = match (ready, degraded) {
            (false, _) => "starting",
            (true, false) => "ok",
            (true, true) => "degraded",
        };
        let code = if ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        let mut body = json!({
            "status": status,
            "service": self.inner.service,
            "version": self.inner.version,
            "uptime_ms": self.inner.started.elapsed().as_millis() as u64,
            "pid": std::process::id(),
            "checks": checks_json,
        });
        if let Some(faults) = self.inner.faults.get() {
            body["faults"] = json!(faults.active_count());
        }
        (code, body)
    }
}

async fn healthz(State(h): State<HealthState>) -> Response {
    let (code, body) = h.report();
    (code, Json(body)).into_response()
}

/// A router with `GET /healthz`; merge it into the service's router.
pub fn health_router<S: Clone + Send + Sync + 'static>(health: HealthState) -> Router<S> {
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(health)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn get_healthz(h: &HealthState) -> (StatusCode, Value) {
        let app: Router = health_router(h.clone());
        let res = app
            .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn starting_then_ok_then_degraded() {
        let h = HealthState::new("svc", "0");
        let (code, body) = get_healthz(&h).await;
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["status"], "starting");
        h.set_ready();
        let (code, body) = get_healthz(&h).await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(body["status"], "ok");
        h.check_failed("persistence", "disk full");
        let (code, body) = get_healthz(&h).await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(body["status"], "degraded");
        assert_eq!(body["checks"]["persistence"]["error"], "disk full");
    }
}
