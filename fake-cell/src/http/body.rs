//! Request bodies and query strings the way Marqo's clients send them: JSON with or without a
//! `Content-Type` (PATCH has none; get-documents is a GET with a body), and query strings with
//! literal `?&` and Python-style `True`.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::Uri;
use serde_json::Value;
use service_kit::body::{ReadError, read_limited};

use crate::error::CellError;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// A JSON body parsed from raw bytes regardless of `Content-Type`; `Null` when the body is empty.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = CellError;

    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        read_json(req).await.map(|(v, _)| JsonBody(v))
    }
}

/// [`JsonBody`]'s value with the bytes it was parsed from. A body over [`BODY_LIMIT`] is read to
/// its end before the 413, so the client sees the answer rather than a reset connection.
pub async fn read_json(req: Request) -> Result<(Value, Bytes), CellError> {
    let bytes = read_limited(req.into_body(), BODY_LIMIT)
        .await
        .map_err(|e| match e {
            ReadError::TooLarge(limit) => CellError::TooLarge(limit),
            ReadError::Read(_) => CellError::BadRequest(e.to_string()),
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
