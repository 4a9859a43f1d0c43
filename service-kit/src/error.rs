//! The JSON error body shared by every Hippodrome API: `{"error": "...", "code": "..."}`.
//!
//! Services with a protocol of their own (Marqo's error shape, Cognito's `__type`) keep their own
//! error enum; this is the default for routes that have no such contract (health, admin, dashboard).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A JSON error response with the given status, a stable machine `code` and a human message.
pub fn json_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = json!({ "error": message.into(), "code": code, "status": status.as_u16() });
    (status, Json(body)).into_response()
}

/// JSON 404 for unknown routes, so no API ever answers with an empty or HTML body.
pub async fn not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "not_found", "no such route")
}

/// JSON 405 for known routes called with the wrong method.
pub async fn method_not_allowed() -> Response {
    json_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this route",
    )
}
