//! `/api/faults`: the stack's fault rules in one place. `GET` fans out to every running built-in
//! service's `/_fake/faults` and lists each one's rules (with hit counters); `POST` takes one rule
//! and hands it to the service that owns its `service` (service-kit's `owner_of`: fake-cell,
//! fake-cognito, webhook-router, or the AWS gateway for every AWS service and Lambda); `DELETE`
//! clears every service, one service (`?service=`), or one rule (`?service=&id=`).
//! Each service's number of active rules is also kept here (refreshed every two seconds and on
//! every call) so `/api/status` shows it without waiting on the services.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{Value, json};
use service_kit::faults::owner_of;
use service_kit::json_error;

use super::AppState;
use super::api::upstream_error;
use crate::supervisor::Status;

/// The services answer from memory; longer means one is stuck.
const TIMEOUT: Duration = Duration::from_secs(3);
/// The built-in services that take rules, as the stack names them.
const SERVICES: &[&str] = &["fake_cell", "fake_cognito", "webhook_router", "aws_gateway"];

/// Active rules per service port (ports are unique per stack, even with two in one process).
static ACTIVE: LazyLock<Mutex<BTreeMap<u16, u64>>> = LazyLock::new(Default::default);

/// The active rules of the service on `port`, as last seen.
pub fn active_on(port: Option<u16>) -> Option<u64> {
    port.and_then(|p| ACTIVE.lock().get(&p).copied())
}

/// The running built-in services that take rules: (stack name, port).
fn targets(st: &AppState) -> Vec<(String, u16)> {
    st.sup
        .services
        .iter()
        .filter(|s| SERVICES.contains(&s.spec.name.as_str()) && s.spec.skip.is_none())
        .filter(|s| !matches!(s.snapshot().status, Status::Skipped | Status::Stopped))
        .filter_map(|s| s.spec.port.map(|p| (s.spec.name.clone(), p)))
        .collect()
}

fn url(port: u16, rest: &str) -> String {
    format!("http://127.0.0.1:{port}/_fake/faults{rest}")
}

/// One service's answer as JSON, remembering its active count.
async fn call(
    st: &AppState,
    method: reqwest::Method,
    port: u16,
    rest: &str,
    body: Option<&Value>,
) -> Result<(StatusCode, Value), reqwest::Error> {
    let mut req = st.http.request(method, url(port, rest)).timeout(TIMEOUT);
    if let Some(b) = body {
        req = req.json(b);
    }
    let res = req.send().await?;
    let status = StatusCode::from_u16(res.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let v: Value = res.json().await?;
    if let Some(n) = v["active"].as_u64() {
        ACTIVE.lock().insert(port, n);
    }
    Ok((status, v))
}

/// Every service's rules, in the order of [`SERVICES`].
async fn gather(st: &AppState) -> Vec<Value> {
    let calls = targets(st).into_iter().map(|(name, port)| async move {
        match call(st, reqwest::Method::GET, port, "", None).await {
            Ok((_, mut v)) => {
                v["service"] = json!(name);
                v["port"] = json!(port);
                v
            }
            Err(e) => json!({"service": name, "port": port, "error": e.to_string()}),
        }
    });
    futures::future::join_all(calls).await
}

/// `GET /api/faults`.
pub async fn list(State(st): State<AppState>) -> Response {
    let services = gather(&st).await;
    let active: u64 = services.iter().filter_map(|s| s["active"].as_u64()).sum();
    Json(json!({"active": active, "services": services})).into_response()
}

/// `POST /api/faults`: one rule, to the service that owns it.
pub async fn add(State(st): State<AppState>, body: Bytes) -> Response {
    let rule: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "invalid_rule",
                "the body must be a JSON fault rule with at least `service` and an action",
            );
        }
    };
    let Some(service) = rule["service"].as_str().filter(|s| !s.is_empty()) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "invalid_rule",
            "`service` is required: fake-cell, fake-cognito, webhook-router or an AWS service (dynamodb, sqs, lambda…)",
        );
    };
    let owner = owner_of(service).replace('-', "_");
    let Some((_, port)) = targets(&st).into_iter().find(|(n, _)| *n == owner) else {
        return json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_not_running",
            format!("{owner}, which takes rules for {service}, is not running in this stack"),
        );
    };
    match call(&st, reqwest::Method::POST, port, "", Some(&rule)).await {
        Ok((status, v)) if status.is_success() => {
            refresh_one(&st, port).await;
            (status, Json(json!({"service": owner, "rule": v}))).into_response()
        }
        Ok((status, v)) => (status, Json(v)).into_response(),
        Err(e) => upstream_error(&owner, e),
    }
}

#[derive(Deserialize)]
pub struct ClearQuery {
    service: Option<String>,
    id: Option<String>,
}

/// `DELETE /api/faults[?service=S[&id=ID]]`.
pub async fn clear(State(st): State<AppState>, Query(q): Query<ClearQuery>) -> Response {
    let owner = q.service.as_deref().map(|s| owner_of(s).replace('-', "_"));
    if q.id.is_some() && owner.is_none() {
        return json_error(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "`id` needs `service` (rule ids are per service)",
        );
    }
    let rest = q.id.as_deref().map_or(String::new(), |id| format!("/{id}"));
    let chosen: Vec<(String, u16)> = targets(&st)
        .into_iter()
        .filter(|(n, _)| owner.as_ref().is_none_or(|o| o == n))
        .collect();
    if chosen.is_empty() && owner.is_some() {
        return json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_not_running",
            format!("{} is not running in this stack", owner.unwrap_or_default()),
        );
    }
    let mut cleared = 0;
    let mut errors = Vec::new();
    for (name, port) in chosen {
        match call(&st, reqwest::Method::DELETE, port, &rest, None).await {
            Ok((status, v)) if status.is_success() => {
                cleared += v["cleared"].as_u64().unwrap_or(0);
                refresh_one(&st, port).await;
            }
            Ok((status, v)) if q.id.is_some() => return (status, Json(v)).into_response(),
            Ok((status, v)) => {
                errors.push(json!({"service": name, "status": status.as_u16(), "answer": v}))
            }
            Err(e) => errors.push(json!({"service": name, "error": e.to_string()})),
        }
    }
    Json(json!({"cleared": cleared, "errors": errors})).into_response()
}

async fn refresh_one(st: &AppState, port: u16) {
    let _ = call(st, reqwest::Method::GET, port, "", None).await;
}

/// Keep the active counts for `/api/status` fresh while the dashboard runs.
pub fn spawn_refresher(st: AppState) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    rt.spawn(async move {
        let stop = st.shutdown.wait();
        tokio::pin!(stop);
        loop {
            for (_, port) in targets(&st) {
                if call(&st, reqwest::Method::GET, port, "", None)
                    .await
                    .is_err()
                {
                    ACTIVE.lock().remove(&port);
                }
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
        }
    });
}
