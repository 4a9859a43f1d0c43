//! Lambda `Invoke` (`POST /2015-03-31/functions/{FunctionName}/invocations`), owned by the
//! gateway: moto's own Invoke needs Docker. Resolves any FunctionName form and `?Qualifier=`,
//! enforces AWS's payload limits and JSON check, then runs the function (`RequestResponse`),
//! queues it (`Event`, 202) or only checks it (`DryRun`, 204).

use std::collections::HashMap;
use std::time::{Instant, SystemTime};

use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use lambda_invoke::{InvokeOutcome, LambdaError};
use service_kit::body::{ReadError, read_limited};

use crate::AppState;
use crate::async_invoke::EventJob;
use crate::error::{EVENT_PAYLOAD_LIMIT, GatewayError, SYNC_PAYLOAD_LIMIT};
use crate::recent::{InvocationRecord, InvocationType};

/// The handler behind the route.
pub async fn invoke(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // axum's own rejections are plain text; callers get AWS's JSON shape instead.
    let (Path(function_name), Query(query)) = match (path, query) {
        (Ok(p), Ok(q)) => (p, q),
        (Err(e), _) => return GatewayError::InvalidParameter(e.body_text()).into_response(),
        (_, Err(e)) => return GatewayError::InvalidParameter(e.body_text()).into_response(),
    };
    match handle(&state, &function_name, &query, &headers, body).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

async fn handle(
    state: &AppState,
    function_name: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, GatewayError> {
    let kind = invocation_type(headers)?;
    let resolved = state
        .table()
        .resolve(function_name, query.get("Qualifier").map(String::as_str))?;
    let payload = read_payload(body, kind).await?;
    let request_id = uuid::Uuid::new_v4().to_string();
    match kind {
        InvocationType::DryRun => Ok(aws_response(
            StatusCode::NO_CONTENT,
            &request_id,
            Bytes::new(),
        )),
        InvocationType::Event | InvocationType::Sqs => {
            state.events().enqueue(
                state,
                EventJob {
                    target: resolved.target.clone(),
                    qualifier: resolved.qualifier.clone(),
                    payload,
                    request_id: request_id.clone(),
                },
            )?;
            Ok(aws_response(
                StatusCode::ACCEPTED,
                &request_id,
                Bytes::new(),
            ))
        }
        InvocationType::RequestResponse => {
            let target = &resolved.target;
            let started_at = SystemTime::now();
            let started = Instant::now();
            let outcome = state
                .invoker()
                .invoke_with_id(target, payload, started + target.timeout, &request_id)
                .await;
            state.recent().record(
                &target.name,
                InvocationRecord::new(
                    &request_id,
                    InvocationType::RequestResponse,
                    started_at,
                    started.elapsed(),
                    &outcome,
                    1,
                ),
            );
            if let InvokeOutcome::Unreachable { message } = &outcome {
                tracing::warn!(function = %target.name, "{message}");
                return Err(GatewayError::FunctionUnreachable(message.clone()));
            }
            let payload = outcome.payload().cloned().unwrap_or_default();
            let mut res = aws_response(StatusCode::OK, &request_id, payload);
            let h = res.headers_mut();
            if let Ok(v) = HeaderValue::from_str(resolved.executed_version()) {
                h.insert("x-amz-executed-version", v);
            }
            if let Some(fe) = outcome.function_error() {
                h.insert("x-amz-function-error", HeaderValue::from_static(fe));
            }
            Ok(res)
        }
    }
}

/// `X-Amz-Invocation-Type`, `RequestResponse` when absent.
fn invocation_type(headers: &HeaderMap) -> Result<InvocationType, GatewayError> {
    match headers.get("x-amz-invocation-type").map(|v| v.to_str()) {
        None => Ok(InvocationType::RequestResponse),
        Some(Ok("RequestResponse")) => Ok(InvocationType::RequestResponse),
        Some(Ok("Event")) => Ok(InvocationType::Event),
        Some(Ok("DryRun")) => Ok(InvocationType::DryRun),
        Some(other) => Err(LambdaError::Validation(format!(
            "1 validation error detected: Value '{}' at 'invocationType' failed to satisfy \
             constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
            other.unwrap_or("(not text)")
        ))
        .into()),
    }
}

/// The payload, within AWS's limit for `kind`, checked to be JSON; empty means `{}`.
async fn read_payload(body: Body, kind: InvocationType) -> Result<Bytes, GatewayError> {
    // A too-large payload is read to its end first, so the SDK sees the 413 and not a reset.
    let bytes = match read_limited(body, SYNC_PAYLOAD_LIMIT).await {
        Ok(b) => b,
        Err(ReadError::TooLarge(_)) => return Err(GatewayError::SyncTooLarge),
        Err(e) => return Err(GatewayError::BodyRead(e.to_string())),
    };
    if kind == InvocationType::Event && bytes.len() > EVENT_PAYLOAD_LIMIT {
        return Err(GatewayError::EventTooLarge { size: bytes.len() });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Bytes::from_static(b"{}"));
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(&bytes)
        .map_err(|e| GatewayError::InvalidContent(e.to_string()))?;
    Ok(bytes)
}

fn aws_response(status: StatusCode, request_id: &str, body: Bytes) -> Response {
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn payload_rules() {
        let rr = InvocationType::RequestResponse;
        assert_eq!(read_payload(Body::from(""), rr).await.unwrap(), "{}");
        assert_eq!(read_payload(Body::from("[1]"), rr).await.unwrap(), "[1]");
        let bad = read_payload(Body::from("{nope"), rr).await.unwrap_err();
        assert_eq!(bad.code(), "InvalidRequestContentException");
        assert!(
            bad.to_string()
                .starts_with("Could not parse request body into json")
        );
        let big = vec![b' '; SYNC_PAYLOAD_LIMIT + 1];
        assert!(matches!(
            read_payload(Body::from(big), rr).await,
            Err(GatewayError::SyncTooLarge)
        ));
        let mut ev = vec![b'1'; EVENT_PAYLOAD_LIMIT + 1];
        ev[0] = b'1';
        let e = read_payload(Body::from(ev), InvocationType::Event)
            .await
            .unwrap_err();
        assert!(
            matches!(e, GatewayError::EventTooLarge { size } if size == EVENT_PAYLOAD_LIMIT + 1)
        );
    }

    #[test]
    fn invocation_types() {
        let mut h = HeaderMap::new();
        assert_eq!(
            invocation_type(&h).unwrap(),
            InvocationType::RequestResponse
        );
        h.insert("x-amz-invocation-type", HeaderValue::from_static("Event"));
        assert_eq!(invocation_type(&h).unwrap(), InvocationType::Event);
        h.insert("x-amz-invocation-type", HeaderValue::from_static("Later"));
        assert_eq!(
            invocation_type(&h).unwrap_err().code(),
            "ValidationException"
        );
    }
}
