//! The crate's one error enum. Every variant becomes a JSON body `{"error": ..., "code": ...,
//! "status": ...}`: 400 for bad input, 502/503/504 for a target that misbehaved, never 500.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, thiserror::Error)]
pub enum RouterError {
    /// The body is not a JSON object, or a field has the wrong type.
    #[error("{0}")]
    BadRequest(String),
    /// No usable `detail-type`; `hint` names the misspelt key that was sent instead.
    #[error("Missing 'detail-type' field in event{}", hint_text(.hint))]
    MissingDetailType { hint: Option<&'static str> },
    #[error("request body too large: {0}")]
    PayloadTooLarge(String),
    /// Target refused the connection or could not be reached.
    #[error("Service unavailable: {target}: {why}")]
    Unavailable { target: String, why: String },
    /// Target did not answer within the forward timeout.
    #[error("Gateway timeout: {target}: no answer within {timeout_ms} ms")]
    Timeout { target: String, timeout_ms: u64 },
    /// Target answered with something we cannot pass on (e.g. invalid JSON under a JSON type).
    #[error("Bad gateway: {target}: {why}")]
    BadGateway { target: String, why: String },
}

fn hint_text(hint: &Option<&'static str>) -> String {
    match hint {
        Some(sent) => {
            format!(" (got '{sent}'; EventBridge spells the field with a hyphen: 'detail-type')")
        }
        None => String::new(),
    }
}

impl RouterError {
    pub fn status(&self) -> StatusCode {
        match self {
            RouterError::BadRequest(_) | RouterError::MissingDetailType { .. } => {
                StatusCode::BAD_REQUEST
            }
            RouterError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            RouterError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            RouterError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            RouterError::BadGateway { .. } => StatusCode::BAD_GATEWAY,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            RouterError::BadRequest(_) => "bad_request",
            RouterError::MissingDetailType { .. } => "missing_detail_type",
            RouterError::PayloadTooLarge(_) => "payload_too_large",
            RouterError::Unavailable { .. } => "service_unavailable",
            RouterError::Timeout { .. } => "gateway_timeout",
            RouterError::BadGateway { .. } => "bad_gateway",
        }
    }
}

impl IntoResponse for RouterError {
    fn into_response(self) -> Response {
        service_kit::json_error(self.status(), self.code(), self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_the_contract() {
        assert_eq!(
            RouterError::MissingDetailType { hint: None }.to_string(),
            "Missing 'detail-type' field in event"
        );
        let hinted = RouterError::MissingDetailType {
            hint: Some("detailType"),
        }
        .to_string();
        assert!(hinted.starts_with("Missing 'detail-type' field in event"));
        assert!(hinted.contains("hyphen"), "{hinted}");
        let e = RouterError::Unavailable {
            target: "t".into(),
            why: "connection refused".into(),
        };
        assert_eq!(e.to_string(), "Service unavailable: t: connection refused");
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
