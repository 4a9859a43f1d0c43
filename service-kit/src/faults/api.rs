//! `/_fake/faults`, every built-in service's rules API (never itself faulted):
//! - `GET /_fake/faults`: the seed, the number of active rules and every rule with its counters;
//! - `POST /_fake/faults` with a [`super::RuleSpec`]: `201` and the rule (with its `id`);
//! - `GET /_fake/faults/{id}`: one rule; `DELETE /_fake/faults/{id}`: remove it;
//! - `DELETE /_fake/faults`: remove every rule, persisted ones included.
//!
//! Errors are the house JSON `{"error","code","status"}`: this is not an API of the faked service.

use axum::Json;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{Faults, RuleSpec};
use crate::error::{json_error, method_not_allowed};

pub const PATH: &str = "/_fake/faults";

/// A rule spec is a few hundred bytes; anything near this is not one.
const BODY_LIMIT: usize = 64 * 1024;

pub async fn handle(faults: &Faults, req: Request) -> Response {
    let id = req
        .uri()
        .path()
        .strip_prefix(PATH)
        .map(|r| r.trim_matches('/').to_owned())
        .unwrap_or_default();
    match (req.method().clone(), id.is_empty()) {
        (Method::GET, true) => Json(faults.list()).into_response(),
        (Method::POST, true) => add(faults, req).await,
        (Method::DELETE, true) => {
            Json(json!({"service": faults.service(), "cleared": faults.clear()})).into_response()
        }
        (Method::GET, false) => match faults.get(&id) {
            Some(rule) => Json(rule).into_response(),
            None => no_rule(&id),
        },
        (Method::DELETE, false) => {
            if faults.remove(&id) {
                Json(json!({"service": faults.service(), "cleared": 1})).into_response()
            } else {
                no_rule(&id)
            }
        }
        _ => method_not_allowed().await,
    }
}

async fn add(faults: &Faults, req: Request) -> Response {
    let bytes = match axum::body::to_bytes(req.into_body(), BODY_LIMIT).await {
        Ok(b) => b,
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                format!("cannot read the rule: {e}"),
            );
        }
    };
    let spec: RuleSpec = match serde_json::from_slice(&bytes) {
        Ok(s) => s,
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "invalid_rule",
                format!("the body is not a fault rule: {e}"),
            );
        }
    };
    match faults.add(spec) {
        Ok(rule) => (StatusCode::CREATED, Json(rule)).into_response(),
        Err(message) => json_error(StatusCode::BAD_REQUEST, "invalid_rule", message),
    }
}

fn no_rule(id: &str) -> Response {
    json_error(
        StatusCode::NOT_FOUND,
        "rule_not_found",
        format!("no fault rule {id:?}"),
    )
}
