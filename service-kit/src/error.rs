//! The JSON error body shared by every Hippodrome API: `{"error": "...", "code": "..."}`, and the
//! one-line texts of error chains that go into such bodies and logs.
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

/// The innermost message of an error chain ("Connection refused (os error 111)"), which says
/// more than an HTTP client's "error sending request for url".
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(e), |cur| cur.source())
        .last()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// The whole chain on one line ("a: b: c"). A cause whose text its wrapper already shows is not
/// repeated: SDK errors often print their source inside their own message.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    for cause in std::iter::successors(e.source(), |cur| cur.source()) {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Sending(std::io::Error);
    impl std::fmt::Display for Sending {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("error sending request")
        }
    }
    impl std::error::Error for Sending {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn chains_read_as_one_line() {
        let refused = || std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(root_cause(&Sending(refused())), "refused");
        assert_eq!(root_cause(&std::io::Error::other("alone")), "alone");
        assert_eq!(
            error_chain(&Sending(refused())),
            "error sending request: refused"
        );
        assert_eq!(error_chain(&std::io::Error::other("alone")), "alone");
    }
}
