//! The dashboard's extractors: axum's `Path` and `Query`, but a malformed path segment or query
//! string is answered as a JSON 400 instead of axum's plain-text rejection, so no handler has to
//! match on the rejection itself. `rejection` is also how the webhook handler answers a bad body.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use serde::de::DeserializeOwned;
use service_kit::json_error;

/// `Path<T>` with a JSON 400 rejection.
pub struct ApiPath<T>(pub T);

/// `Query<T>` with a JSON 400 rejection.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(e) => Err(path_rejection(e)),
        }
    }
}

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(query_rejection(e)),
        }
    }
}

/// A malformed query, path segment or body as a JSON 400 (413 for a body over the limit), instead
/// of axum's plain-text rejection.
pub(super) fn rejection(status: StatusCode, what: &str, e: impl std::fmt::Display) -> Response {
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "body_too_large"
    } else {
        "bad_request"
    };
    json_error(status, code, format!("malformed {what}: {e}"))
}

fn query_rejection(e: QueryRejection) -> Response {
    rejection(StatusCode::BAD_REQUEST, "query string", e.body_text())
}

fn path_rejection(e: PathRejection) -> Response {
    rejection(StatusCode::BAD_REQUEST, "path", e.body_text())
}
