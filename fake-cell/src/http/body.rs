//! Request bodies and query strings the way Marqo's clients send them: JSON with or without a
//! `Content-Type` (PATCH has none; get-documents is a GET with a body), and query strings with
//! literal `?&` and Python-style `True`.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use serde_json::Value;

use crate::error::CellError;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// A JSON body parsed from raw bytes regardless of `Content-Type`; `Null` when the body is empty.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = CellError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_json(req, state).await.map(|(v, _)| JsonBody(v))
    }
}

/// [`JsonBody`]'s value with the bytes it was parsed from.
pub async fn read_json<S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<(Value, Bytes), CellError> {
    let bytes = Bytes::from_request(req, state).await.map_err(|rej| {
        let resp = rej.into_response();
        if resp.status() == StatusCode::PAYLOAD_TOO_LARGE {
            CellError::TooLarge(BODY_LIMIT)
        } else {
            CellError::BadRequest(format!("cannot read request body ({})", resp.status()))
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok((Value::Null, bytes));
    }
    serde_json::from_slice(&bytes)
        .map(|v| (v, bytes))
        .map_err(|e| CellError::MalformedJson(e.to_string()))
}

/// Look up a query parameter; ignores empty segments (`?&device=cpu`).
pub fn query_param(uri: &Uri, name: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|seg| {
        let (k, v) = seg.split_once('=').unwrap_or((seg, ""));
        (k == name).then(|| v.to_string())
    })
}

/// `true`, `True`, `1` → true.
pub fn query_flag(uri: &Uri, name: &str) -> bool {
    query_param(uri, name)
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | ""))
}
