//! `?telemetry=true` (py-marqo's `return_telemetry=True` sends `telemetry=True`): like Marqo's
//! `TelemetryMiddleware`, a JSON object answer gets a `telemetry` object. Marqo times the
//! search, recommend, add-documents and embed handlers under `"<METHOD> /indexes/<name>/<route>"`
//! in `timesMs` (recommend under the search key, as Marqo does) and drops empty parts, so every
//! other route answers `"telemetry": {}`.

use std::time::Instant;

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::body::{BODY_LIMIT, query_param};

/// Marqo's timer key for a request, when its handler is one Marqo times.
fn timer_key(method: &Method, path: &str) -> Option<String> {
    let rest = path.strip_prefix("/indexes/")?;
    let (name, route) = rest.split_once('/')?;
    let route = match (method, route) {
        (&Method::POST, "search" | "recommend") => "search",
        (&Method::POST, "documents") => "documents",
        (&Method::POST, "embed") => "embed",
        _ => return None,
    };
    Some(format!("POST /indexes/{name}/{route}"))
}

pub async fn telemetry(req: Request, next: Next) -> Response {
    let on = query_param(req.uri(), "telemetry").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !on {
        return next.run(req).await;
    }
    let key = timer_key(req.method(), req.uri().path());
    let started = Instant::now();
    let response = next.run(req).await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return (parts.status, "").into_response();
    };
    let Ok(Value::Object(mut data)) = serde_json::from_slice::<Value>(&bytes) else {
        // Marqo only injects into object answers; anything else passes unchanged.
        return Response::from_parts(parts, Body::from(bytes));
    };
    let mut telemetry = Map::new();
    if let Some(k) = key {
        telemetry.insert("timesMs".into(), json!({ k: elapsed_ms }));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timed_routes_use_marqos_keys() {
        let k = |m: Method, p: &str| timer_key(&m, p);
        assert_eq!(
            k(Method::POST, "/indexes/a/search").as_deref(),
            Some("POST /indexes/a/search")
        );
        assert_eq!(
            k(Method::POST, "/indexes/a/recommend").as_deref(),
            Some("POST /indexes/a/search")
        );
        assert_eq!(
            k(Method::POST, "/indexes/a/documents").as_deref(),
            Some("POST /indexes/a/documents")
        );
        assert_eq!(k(Method::GET, "/indexes/a/documents"), None);
        assert_eq!(k(Method::GET, "/indexes"), None);
    }
}
