//! The dashboard's JSON API. Every answer is JSON, errors included.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use service_kit::json_error;

use super::extract::{ApiPath, ApiQuery, rejection};
use super::{AppState, NotReady, SeedStatus, ServiceView, StackView, StatusView};
use crate::supervisor::Status;

pub async fn healthz(State(st): State<AppState>) -> Response {
    let ready = st.ready.load(Ordering::SeqCst);
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(json!({"status": if ready {"ok"} else {"starting"}, "service": "dashboard", "pid": std::process::id()}))).into_response()
}

/// `GET /api/status`: one entry per service, keyed by name, the dashboard included.
pub async fn status(State(st): State<AppState>) -> Json<StatusView> {
    Json(status_view(&st))
}

pub fn status_view(st: &AppState) -> StatusView {
    let mut out: StatusView = st
        .sup
        .services
        .iter()
        .map(|s| (s.spec.name.clone(), ServiceView::of(s)))
        .collect();
    out.insert(
        "dashboard".into(),
        ServiceView::dashboard(
            st.info.dashboard_port,
            st.ready.load(Ordering::SeqCst),
            st.started.elapsed().as_secs(),
        ),
    );
    out
}

/// `GET /api/stack`: profile, cell, prefix, seed, readiness and why not.
pub async fn stack(State(st): State<AppState>) -> Json<StackView> {
    Json(stack_view(&st))
}

pub fn stack_view(st: &AppState) -> StackView {
    let seed = st.seed.lock().clone();
    let ready = st.ready.load(Ordering::SeqCst);
    let mut not_ready = Vec::new();
    for s in &st.sup.services {
        let snap = s.snapshot();
        if s.spec.blocking && s.spec.skip.is_none() && snap.status != Status::Running {
            not_ready.push(NotReady {
                service: s.spec.name.clone(),
                status: snap.status,
                reason: snap.reason,
            });
        }
    }
    let seed_ok = matches!(seed, SeedStatus::Done | SeedStatus::Skipped);
    StackView {
        info: (*st.info).clone(),
        uptime_s: st.started.elapsed().as_secs(),
        started: ready,
        startup_ms: ready.then(|| st.startup_ms.load(Ordering::SeqCst)),
        seed,
        ready: ready && seed_ok && not_ready.is_empty(),
        not_ready,
    }
}

#[derive(Deserialize)]
pub struct HealthQuery {
    deep: Option<String>,
}

/// `GET /api/health[?deep=1]`: the last probes, or fresh ones probed now.
pub async fn health(State(st): State<AppState>, ApiQuery(q): ApiQuery<HealthQuery>) -> Response {
    if q.deep.as_deref().is_some_and(|d| d == "1" || d == "true") {
        let probes = st.sup.probe_all().await;
        let all_ok = probes.values().all(|p| p.ok);
        return Json(json!({"ok": all_ok, "probes": probes})).into_response();
    }
    let probes: BTreeMap<String, Value> = st
        .sup
        .services
        .iter()
        .map(|s| (s.spec.name.clone(), json!(s.snapshot().last_probe)))
        .collect();
    Json(json!({"probes": probes})).into_response()
}

#[derive(Deserialize)]
pub struct ControlQuery {
    service: Option<String>,
}

/// `POST /api/control/{restart|stop|start|shutdown}[?service=NAME]`.
pub async fn control(
    State(st): State<AppState>,
    ApiPath(action): ApiPath<String>,
    ApiQuery(q): ApiQuery<ControlQuery>,
) -> Response {
    if let Some(name) = q.service.as_deref()
        && action != "shutdown"
        && st.sup.get(name).is_none()
    {
        return unknown_service(name);
    }
    let result = match (action.as_str(), q.service.as_deref()) {
        ("shutdown", _) => {
            st.shutdown.trigger();
            Ok(())
        }
        ("restart", Some(name)) => st.sup.restart(name).await,
        ("stop", Some(name)) => st.sup.stop(name).await,
        ("start", Some(name)) => st.sup.start(name),
        ("restart", None) => {
            st.sup.stop_all().await;
            for s in &st.sup.services {
                let _ = st.sup.start(&s.spec.name);
            }
            Ok(())
        }
        ("stop", None) => {
            st.sup.stop_all().await;
            Ok(())
        }
        ("start", None) => {
            for s in &st.sup.services {
                let _ = st.sup.start(&s.spec.name);
            }
            Ok(())
        }
        (other, _) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "unknown_action",
                format!("unknown action {other:?}; use restart, stop, start or shutdown"),
            );
        }
    };
    match result {
        Ok(()) => Json(json!({"ok": true, "action": action, "service": q.service})).into_response(),
        Err(e) => json_error(StatusCode::CONFLICT, "control_failed", e),
    }
}

#[derive(Deserialize)]
pub struct LogsQuery {
    tail: Option<usize>,
}

impl LogsQuery {
    /// How many tail lines were asked for (`default` when absent), at most the 2,000 a sink keeps.
    pub fn lines(&self, default: usize) -> usize {
        self.tail.unwrap_or(default).min(2000)
    }
}

/// The 404 every per-service route answers for a name the stack does not have.
pub fn unknown_service(name: &str) -> Response {
    json_error(
        StatusCode::NOT_FOUND,
        "unknown_service",
        format!("no service named {name}"),
    )
}

/// `GET /api/logs/{service}?tail=N`.
pub async fn logs(
    State(st): State<AppState>,
    ApiPath(service): ApiPath<String>,
    ApiQuery(q): ApiQuery<LogsQuery>,
) -> Response {
    let Some(s) = st.sup.get(&service) else {
        return unknown_service(&service);
    };
    let n = q.lines(200);
    Json(json!({"service": service, "log_file": s.log_file, "lines": s.sink.tail(n)}))
        .into_response()
}

/// The manifest's fields, in order, then `hooks`.
#[derive(Serialize)]
struct SeedView {
    #[serde(flatten)]
    manifest: seed::Manifest,
    hooks: Value,
}

/// `GET /api/seed`: the seed manifest once the seed has run, with `hooks`: each
/// `[[seed.hooks]]` entry's state, exit code and output tail.
pub async fn seed(State(st): State<AppState>) -> Response {
    let manifest = st.manifest.lock().clone();
    match manifest {
        Some(manifest) => Json(SeedView {
            manifest,
            hooks: json!(st.hooks.snapshot()),
        })
        .into_response(),
        None => json_error(
            StatusCode::NOT_FOUND,
            "seed_not_ready",
            format!(
                "no seed manifest yet (seed is {:?})",
                st.seed.lock().clone()
            ),
        ),
    }
}

#[derive(Deserialize)]
pub struct EventsQuery {
    limit: Option<usize>,
}

/// `GET /api/events?limit=N`: the webhook router's recent events.
pub async fn events(State(st): State<AppState>, ApiQuery(q): ApiQuery<EventsQuery>) -> Response {
    let url = format!(
        "{}/events?limit={}",
        st.info.router_url,
        q.limit.unwrap_or(50).min(500)
    );
    match st
        .http
        .get(&url)
        .timeout(Duration::from_secs(2))
        .send()
        .await
    {
        Ok(res) => {
            let code =
                StatusCode::from_u16(res.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            match res.json::<Value>().await {
                Ok(v) => (code, Json(v)).into_response(),
                Err(e) => json_error(
                    StatusCode::BAD_GATEWAY,
                    "bad_upstream",
                    format!("webhook router answered non-JSON: {e}"),
                ),
            }
        }
        Err(e) => upstream_error("webhook router", e),
    }
}

/// `POST /webhook/eventbridge`: forwarded unchanged to the webhook router; its answer comes back.
pub async fn webhook(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return rejection(e.status(), "body", e.body_text()),
    };
    let url = format!("{}/webhook/eventbridge", st.info.router_url);
    let mut req = st
        .http
        .post(&url)
        .timeout(Duration::from_secs(10))
        .body(body);
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    match req.send().await {
        Ok(res) => {
            let code =
                StatusCode::from_u16(res.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let ct = res.headers().get(header::CONTENT_TYPE).cloned();
            match res.bytes().await {
                Ok(b) => {
                    let mut r = (code, b).into_response();
                    if let Some(ct) = ct {
                        r.headers_mut().insert(header::CONTENT_TYPE, ct);
                    }
                    r
                }
                Err(e) => upstream_error("webhook router", e),
            }
        }
        Err(e) => upstream_error("webhook router", e),
    }
}

/// A proxied call that got no answer from `who`: 504 when it timed out, 503 otherwise.
pub(super) fn upstream_error(who: &str, e: reqwest::Error) -> Response {
    if e.is_timeout() {
        json_error(
            StatusCode::GATEWAY_TIMEOUT,
            "upstream_timeout",
            format!("{who} timed out: {e}"),
        )
    } else {
        json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "upstream_unavailable",
            format!("{who} unreachable: {e}"),
        )
    }
}
