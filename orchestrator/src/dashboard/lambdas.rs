//! `GET /api/lambdas`: the AWS gateway's `GET /_gateway/lambdas` (the `[[lambdas]]` table, each
//! function's counters and last invocations, the `Event` queue, the SQS mappings), passed through
//! so the page reads everything from one origin, with each function's `service` filled in from the
//! stack's services where the gateway only knows a URL (its `--lambda` flags carry no name).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use service_kit::json_error;

use super::AppState;
use super::api::upstream_error;
use super::aws::unavailable;

/// The gateway answers this from memory; longer means it is stuck.
const TIMEOUT: Duration = Duration::from_secs(3);

pub async fn lambdas(State(st): State<AppState>) -> Response {
    if let Some(r) = unavailable(&st) {
        return r;
    }
    let url = format!("{}/_gateway/lambdas", st.aws.url);
    let res = match st.http.get(&url).timeout(TIMEOUT).send().await {
        Ok(res) => res,
        Err(e) => return upstream_error("the AWS gateway", e),
    };
    let status = res.status();
    match res.json::<Value>().await {
        Ok(mut v) if status.is_success() => {
            name_services(&st, &mut v);
            (StatusCode::OK, Json(v)).into_response()
        }
        Ok(v) => json_error(
            StatusCode::BAD_GATEWAY,
            "bad_upstream",
            format!("the AWS gateway answered {status}: {v}"),
        ),
        Err(e) if e.is_timeout() => upstream_error("the AWS gateway", e),
        Err(e) => json_error(
            StatusCode::BAD_GATEWAY,
            "bad_upstream",
            format!("the AWS gateway answered {status} without JSON: {e}"),
        ),
    }
}

/// A function without a `service` whose URL is a supervised service's gets that service's name.
fn name_services(st: &AppState, v: &mut Value) {
    let Some(functions) = v.get_mut("functions").and_then(Value::as_array_mut) else {
        return;
    };
    for f in functions {
        if !f.get("service").is_none_or(Value::is_null) {
            continue;
        }
        let url = f.get("url").and_then(Value::as_str).unwrap_or_default();
        let url = url.trim_end_matches('/');
        let service = st.sup.services.iter().find(|s| {
            s.spec
                .port
                .is_some_and(|p| url == format!("http://127.0.0.1:{p}"))
        });
        if let (Some(s), Some(obj)) = (service, f.as_object_mut()) {
            obj.insert("service".into(), Value::String(s.spec.name.clone()));
        }
    }
}
