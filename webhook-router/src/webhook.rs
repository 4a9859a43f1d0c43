//! `POST /webhook/eventbridge`: validate one event, route it by detail-type prefix, forward it
//! unchanged, pass the target's answer back, and record the outcome for `/events`. The local
//! pipe uses the same [`dispatch`] and [`record`].

use std::time::{Instant, SystemTime};

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::json;
use service_kit::body::{ReadError, read_limited};

use crate::AppState;
use crate::envelope::{EventMeta, parse_head};
use crate::error::RouterError;
use crate::forward::Forwarded;
use crate::recent::{EventRecord, Outcome, Via};
use crate::routes::Route;

/// Largest accepted webhook body (axum's default limit, which this route had before).
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Where an event went.
pub enum Dispatch<'a> {
    /// No route for its detail-type.
    Ignored,
    Forwarded(&'a Route, Result<Forwarded, RouterError>),
}

/// Route and forward one event body.
pub async fn dispatch<'a>(state: &'a AppState, detail_type: &str, body: Bytes) -> Dispatch<'a> {
    match state.routes().lookup(detail_type) {
        None => Dispatch::Ignored,
        Some(route) => Dispatch::Forwarded(route, state.forwarder().forward(route, body).await),
    }
}

/// Put the event's outcome into the `/events` ring buffer and return it.
pub fn record(
    state: &AppState,
    meta: &EventMeta,
    via: Via,
    table: Option<&str>,
    d: &Dispatch<'_>,
    started: Instant,
    received_at: SystemTime,
) -> Outcome {
    let (route, outcome, status, error) = match d {
        Dispatch::Ignored => (None, Outcome::Ignored, None, None),
        Dispatch::Forwarded(r, Ok(f)) => {
            let outcome = if f.status.is_success() {
                Outcome::Delivered
            } else {
                Outcome::Failed
            };
            (
                Some(r.target.clone()),
                outcome,
                Some(f.status.as_u16()),
                None,
            )
        }
        Dispatch::Forwarded(r, Err(e)) => (
            Some(r.target.clone()),
            Outcome::Failed,
            None,
            Some(e.to_string()),
        ),
    };
    state.recent().push(EventRecord {
        id: meta.id.clone(),
        detail_type: meta.detail_type.clone(),
        source: meta.source.clone(),
        via,
        route,
        outcome,
        status,
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        received_at,
        error,
        table: table.map(str::to_owned),
    });
    outcome
}

pub async fn post_webhook(State(state): State<AppState>, body: Body) -> Response {
    let started = Instant::now();
    let received_at = SystemTime::now();
    let body = match read_limited(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(e @ ReadError::TooLarge(_)) => {
            return RouterError::PayloadTooLarge(e.to_string()).into_response();
        }
        Err(e) => return RouterError::BadRequest(e.to_string()).into_response(),
    };
    let meta = match parse_head(&body) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    let d = dispatch(&state, &meta.detail_type, body).await;
    record(&state, &meta, Via::Webhook, None, &d, started, received_at);
    match d {
        Dispatch::Ignored => (
            StatusCode::OK,
            Json(json!({
                "status": "ignored",
                "reason": format!("No route configured for detail-type: {}", meta.detail_type),
            })),
        )
            .into_response(),
        Dispatch::Forwarded(route, Ok(f)) => pass_back(route, f),
        Dispatch::Forwarded(_, Err(e)) => e.into_response(),
    }
}

/// The target's status and body as they came. An empty body (other than 204/304, which must be
/// empty) becomes a small JSON note so the caller never sees an empty answer.
fn pass_back(route: &Route, f: Forwarded) -> Response {
    if f.body.is_empty()
        && f.status != StatusCode::NO_CONTENT
        && f.status != StatusCode::NOT_MODIFIED
    {
        return (
            f.status,
            Json(json!({
                "status": "forwarded",
                "target": route.target,
                "target_status": f.status.as_u16(),
            })),
        )
            .into_response();
    }
    let mut res = Response::new(Body::from(f.body));
    *res.status_mut() = f.status;
    if let Some(ct) = f.content_type {
        res.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    res
}
