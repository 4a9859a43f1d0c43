//! How fault rules see the router: service `webhook-router`, the operation `webhook` (an
//! EventBridge delivery, whose resource is the event's `detail-type`), `routes`, `events` or
//! `openapi`. Injected errors are the router's own JSON `{"error","code","status"}` (503 unless
//! the rule gives a status), the answer EventBridge's API destination would see.

use axum::Router;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use serde_json::Value;
use service_kit::faults::{Call, Classifier, Faults, InjectedError};

use crate::AppState;

/// The router's rules; those marked `persist` go to `--faults-file` (refused without one).
pub fn registry(config: &crate::Config, health: &service_kit::HealthState) -> Faults {
    let faults = match &config.faults_file {
        Some(f) => Faults::with_file(crate::SERVICE, f.clone()),
        None => Faults::new(crate::SERVICE),
    };
    health.attach_faults(&faults);
    faults
}

/// Wrap the router with the fault layer and its API.
pub fn apply(router: Router, state: &AppState) -> Router {
    service_kit::faults::layer::apply(router, state.faults().clone(), Webhook)
}

struct Webhook;

fn is_webhook(parts: &Parts) -> bool {
    parts.uri.path() == "/webhook/eventbridge"
}

impl Classifier for Webhook {
    fn needs_body(&self, parts: &Parts) -> bool {
        is_webhook(parts)
    }

    fn classify(&self, parts: &Parts, body: &[u8]) -> Call {
        let (operation, resource) = if is_webhook(parts) {
            let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let detail_type = v.get("detail-type").and_then(Value::as_str);
            ("webhook".to_owned(), detail_type.map(str::to_owned))
        } else {
            let path = parts.uri.path().trim_matches('/');
            let name = match path {
                "routes" | "events" => path.to_owned(),
                "openapi.json" => "openapi".to_owned(),
                _ => format!("{} /{path}", parts.method),
            };
            (name, None)
        };
        Call {
            service: crate::SERVICE.into(),
            operation,
            resource,
        }
    }

    fn error_response(&self, _parts: &Parts, _call: &Call, e: &InjectedError) -> Response {
        let status = e
            .status
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        service_kit::json_error(status, &e.code, e.message.clone())
    }
}
