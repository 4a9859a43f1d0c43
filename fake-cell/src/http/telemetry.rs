//! `?telemetry=true` (py-marqo's `return_telemetry=True` sends `telemetry=True`): like Marqo's
//! `TelemetryMiddleware`, a JSON object answer gets a `telemetry` object. The request's timers
//! ([`crate::timings`]) fill its `timesMs`: the handlers Marqo times record their route under
//! `"POST /indexes/<name>/<route>"` (recommend under the search key, as Marqo does) and the
//! engine its phases under Marqo's names. Marqo drops empty parts, so every other route answers
//! `"telemetry": {}`.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::body::{BODY_LIMIT, query_param};
use crate::timings;

pub async fn telemetry(req: Request, next: Next) -> Response {
    let on = query_param(req.uri(), "telemetry").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !on {
        return next.run(req).await;
    }
    let (response, times) = timings::collect(next.run(req)).await;
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return (parts.status, "").into_response();
    };
    let Ok(Value::Object(mut data)) = serde_json::from_slice::<Value>(&bytes) else {
        // Marqo only injects into object answers; anything else passes unchanged.
        return Response::from_parts(parts, Body::from(bytes));
    };
    // (Marqo's `counter` part is filled by no route fake-cell serves, so it is always dropped.)
    let mut telemetry = Map::new();
    let times = times.times_ms();
    if !times.is_empty() {
        telemetry.insert("timesMs".into(), Value::Object(times));
    }
    data.insert("telemetry".into(), Value::Object(telemetry));
    let out = Value::Object(data).to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(out))
}
