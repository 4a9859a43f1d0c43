//! The event source mapping calls on the proxy path (`/2015-03-31/event-source-mappings...`):
//! forwarded to moto, but an SQS mapping is created or updated there with `Enabled: false`
//! (see [`super`] for why), the caller's `Enabled` is remembered, and moto's answers
//! (Create, Update, Get, List) show the caller's state. Every other call passes untouched.
//! Only these small JSON bodies are buffered; the rest of the proxy path streams.

use axum::body::Body;
use axum::http::{Method, Request, Response, header};
use serde_json::Value;

use crate::AppState;
use crate::error::GatewayError;
use crate::proxy;

pub const PREFIX: &str = "/2015-03-31/event-source-mappings";
/// Mapping requests and answers are small; a list page of 100 mappings stays well under this.
const BODY_LIMIT: usize = 4 * 1024 * 1024;

pub fn is_mapping_call(path: &str) -> bool {
    path.starts_with(PREFIX)
}

pub async fn forward(state: &AppState, req: Request<Body>) -> Result<Response<Body>, GatewayError> {
    let method = req.method().clone();
    let uuid = req.uri().path()[PREFIX.len()..]
        .trim_matches('/')
        .to_owned();
    let writes = method == Method::POST || method == Method::PUT;
    let (req, asked_enabled) = if writes {
        rewrite_request(state, req, &method, &uuid).await?
    } else {
        (req, None)
    };
    let res = state.proxy().forward(req).await?;
    if method == Method::DELETE {
        state.esm().forget(&uuid);
        state.esm().refresh_now();
        return Ok(res);
    }
    if method == Method::HEAD || !(writes || method == Method::GET) {
        return Ok(res);
    }
    let (mut parts, body) = res.into_parts();
    let bytes = proxy::collect(body, BODY_LIMIT).await?;
    let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) else {
        return Ok(Response::from_parts(parts, Body::from(bytes)));
    };
    if writes && parts.status.is_success() {
        remember(state, &v, &method, asked_enabled).await;
        state.esm().refresh_now();
    }
    match v
        .get_mut("EventSourceMappings")
        .and_then(Value::as_array_mut)
    {
        Some(list) => list.iter_mut().for_each(|m| show_caller_state(state, m)),
        None => show_caller_state(state, &mut v),
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Ok(Response::from_parts(parts, Body::from(v.to_string())))
}

/// For a Create of an SQS mapping, or an Update of a known one: send `Enabled: false` to moto
/// and return what the caller asked for.
async fn rewrite_request(
    state: &AppState,
    req: Request<Body>,
    method: &Method,
    uuid: &str,
) -> Result<(Request<Body>, Option<bool>), GatewayError> {
    let (mut parts, body) = req.into_parts();
    let bytes = proxy::collect(body, BODY_LIMIT).await?;
    let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(&bytes) else {
        return Ok((Request::from_parts(parts, Body::from(bytes)), None));
    };
    let asked = obj.get("Enabled").and_then(Value::as_bool);
    let sqs = if *method == Method::POST {
        obj.get("EventSourceArn")
            .and_then(Value::as_str)
            .is_some_and(|a| a.contains(":sqs:"))
    } else {
        state.esm().is_sqs(uuid)
    };
    if !sqs {
        return Ok((Request::from_parts(parts, Body::from(bytes)), asked));
    }
    obj.insert("Enabled".into(), Value::Bool(false));
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = Value::Object(obj).to_string();
    Ok((Request::from_parts(parts, Body::from(body)), asked))
}

/// After a successful Create/Update of an SQS mapping: remember the caller's `Enabled`, and if
/// moto still holds it enabled (an Update of a mapping we had not seen yet), switch moto's off.
async fn remember(state: &AppState, v: &Value, method: &Method, asked: Option<bool>) {
    let (Some(uuid), Some(arn)) = (
        v.get("UUID").and_then(Value::as_str),
        v.get("EventSourceArn").and_then(Value::as_str),
    ) else {
        return;
    };
    if !arn.contains(":sqs:") {
        return;
    }
    let previous = state.esm().desired(uuid);
    let enabled = match (asked, method) {
        (Some(a), _) => a,
        (None, &Method::POST) => true,
        (None, _) => previous.unwrap_or(true),
    };
    state.esm().set_desired(uuid, enabled);
    if v.get("State").and_then(Value::as_str) == Some("Enabled") {
        super::discover::disable_on_moto(state, uuid).await;
    }
}

fn show_caller_state(state: &AppState, m: &mut Value) {
    let Some(uuid) = m.get("UUID").and_then(Value::as_str) else {
        return;
    };
    let sqs = m
        .get("EventSourceArn")
        .and_then(Value::as_str)
        .is_some_and(|a| a.contains(":sqs:"));
    if !sqs {
        return;
    }
    let enabled = state.esm().desired(uuid).unwrap_or(true);
    m["State"] = Value::String(if enabled { "Enabled" } else { "Disabled" }.into());
}
