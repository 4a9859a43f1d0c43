//! The crate's one error enum, answered in AWS's shape so every SDK parses it: the code in the
//! `x-amzn-ErrorType` header (botocore and the Rust SDK read it first), a JSON body with
//! Lambda's `{"Type": "User"|"Service", "message": ...}` (plus `__type` for the JSON-protocol
//! services behind the proxy), and `x-amzn-RequestId`. 4xx for bad input, 502/503/504 for a
//! process or moto that misbehaves, never 500.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lambda_invoke::LambdaError;
use serde_json::json;

/// AWS's synchronous invoke payload limit.
pub const SYNC_PAYLOAD_LIMIT: usize = 6_291_456;
/// AWS's asynchronous (`Event`) invoke payload limit: 1 MB since 2025 (it was 256 KB).
pub const EVENT_PAYLOAD_LIMIT: usize = 1_048_576;

#[derive(Debug, Clone, thiserror::Error)]
pub enum GatewayError {
    /// Name resolution (validation, unknown function, qualifier mismatch).
    #[error(transparent)]
    Lambda(#[from] LambdaError),
    /// The invoke payload is not JSON.
    #[error("Could not parse request body into json: Could not parse payload into json: {0}")]
    InvalidContent(String),
    /// A header or parameter value AWS would reject.
    #[error("{0}")]
    InvalidParameter(String),
    /// Over the 6 MB synchronous limit.
    #[error(
        "Request must be smaller than {SYNC_PAYLOAD_LIMIT} bytes for the InvokeFunction operation"
    )]
    SyncTooLarge,
    /// Over the `Event` limit.
    #[error(
        "{size} byte payload is too large for the Event invocation type (limit {EVENT_PAYLOAD_LIMIT} bytes)"
    )]
    EventTooLarge { size: usize },
    /// The function's process is down: the function cannot run (AWS's closest: a function whose
    /// execution environment is not ready).
    #[error("{0}")]
    FunctionUnreachable(String),
    /// The `Event` queue is full.
    #[error("Rate Exceeded. The gateway's Event queue holds {0} invocations; retry later.")]
    QueueFull(usize),
    /// Reading the request body failed (client went away mid-upload).
    #[error("could not read the request body: {0}")]
    BodyRead(String),
    /// moto refused the connection or is not running.
    #[error(
        "moto at {url} is not reachable ({why}); is it running? (the gateway forwards every AWS call there)"
    )]
    MotoUnavailable { url: String, why: String },
    /// moto did not start answering within the upstream timeout.
    #[error("moto at {url} did not answer within {timeout_s} s")]
    MotoTimeout { url: String, timeout_s: u64 },
    /// moto's answer broke off, or the request could not be built.
    #[error("bad gateway: moto at {url}: {why}")]
    MotoBadGateway { url: String, why: String },
}

impl GatewayError {
    pub fn status(&self) -> StatusCode {
        match self {
            GatewayError::Lambda(e) => {
                StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
            }
            GatewayError::InvalidContent(_)
            | GatewayError::InvalidParameter(_)
            | GatewayError::BodyRead(_) => StatusCode::BAD_REQUEST,
            GatewayError::SyncTooLarge | GatewayError::EventTooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            GatewayError::FunctionUnreachable(_) | GatewayError::MotoBadGateway { .. } => {
                StatusCode::BAD_GATEWAY
            }
            GatewayError::QueueFull(_) => StatusCode::TOO_MANY_REQUESTS,
            GatewayError::MotoUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            GatewayError::MotoTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    /// The AWS error code (`x-amzn-ErrorType`).
    pub fn code(&self) -> &'static str {
        match self {
            GatewayError::Lambda(e) => e.aws_code(),
            GatewayError::InvalidContent(_) => "InvalidRequestContentException",
            GatewayError::InvalidParameter(_) => "InvalidParameterValueException",
            GatewayError::BodyRead(_) => "InvalidRequestContentException",
            GatewayError::SyncTooLarge | GatewayError::EventTooLarge { .. } => {
                "RequestEntityTooLargeException"
            }
            GatewayError::FunctionUnreachable(_) => "ResourceNotReadyException",
            GatewayError::QueueFull(_) => "TooManyRequestsException",
            GatewayError::MotoUnavailable { .. } => "ServiceUnavailable",
            GatewayError::MotoTimeout { .. } => "RequestTimeout",
            GatewayError::MotoBadGateway { .. } => "BadGateway",
        }
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let status = self.status();
        let code = self.code();
        let kind = if status.is_client_error() {
            "User"
        } else {
            "Service"
        };
        let mut body = json!({ "Type": kind, "message": self.to_string() });
        if matches!(
            self,
            GatewayError::MotoUnavailable { .. }
                | GatewayError::MotoTimeout { .. }
                | GatewayError::MotoBadGateway { .. }
        ) {
            body["__type"] = json!(code);
        }
        let mut res = (status, body.to_string()).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert("x-amzn-ErrorType", HeaderValue::from_static(code));
        if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
            h.insert("x-amzn-RequestId", v);
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_codes_and_statuses() {
        assert_eq!(
            GatewayError::SyncTooLarge.to_string(),
            "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
        );
        let e = GatewayError::EventTooLarge { size: 1_048_577 };
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            e.to_string()
                .starts_with("1048577 byte payload is too large for the Event")
        );
        let nf: GatewayError = LambdaError::NotFound {
            arn: "arn:x".into(),
        }
        .into();
        assert_eq!(
            (nf.status(), nf.code()),
            (StatusCode::NOT_FOUND, "ResourceNotFoundException")
        );
        let down = GatewayError::MotoUnavailable {
            url: "u".into(),
            why: "refused".into(),
        };
        assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
        let res = down.into_response();
        assert_eq!(res.headers()["x-amzn-errortype"], "ServiceUnavailable");
    }
}
