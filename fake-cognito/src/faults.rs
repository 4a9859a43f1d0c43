//! How fault rules see fake-cognito: service `fake-cognito` (also `cognito-idp`), the operation
//! from `X-Amz-Target` (`InitiateAuth`, `AdminCreateUser`…) or the endpoint (`oauth2.token`,
//! `jwks`…), the resource the call's `UserPoolId` or else its `ClientId`. Injected errors of the
//! API are Cognito's JSON 1.1 error (`__type`, `x-amzn-ErrorType`, HTTP 400 unless the code is a
//! server error), so boto3's `e.response['Error']['Code']` is the rule's code; those of the OAuth2
//! endpoints are RFC 6749's `{"error"}`.

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use service_kit::faults::{Call, Classifier, Faults, InjectedError, aws};

use crate::app::AppState;

const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";

/// Wrap the router with the fault layer and its API; rules marked `persist` live beside the state.
pub fn apply(router: Router, app: &AppState) -> Router {
    let file = app.config.state_file.with_extension("faults.json");
    let faults = Faults::with_file(crate::SERVICE, file);
    app.health.attach_faults(&faults);
    service_kit::faults::layer::apply(router, faults, Cognito)
}

struct Cognito;

fn target(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(|t| t.strip_prefix(TARGET_PREFIX).unwrap_or(t))
}

impl Classifier for Cognito {
    fn needs_body(&self, parts: &Parts) -> bool {
        target(parts).is_some()
    }

    fn classify(&self, parts: &Parts, body: &[u8]) -> Call {
        let (operation, resource) = match target(parts) {
            Some(op) => {
                let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
                let resource = ["UserPoolId", "ClientId"]
                    .iter()
                    .find_map(|k| v.get(k).and_then(Value::as_str))
                    .map(str::to_owned);
                (op.to_owned(), resource)
            }
            None => (endpoint(parts), None),
        };
        Call {
            service: crate::SERVICE.into(),
            operation,
            resource,
        }
    }

    fn error_response(&self, parts: &Parts, _call: &Call, e: &InjectedError) -> Response {
        let status = e.status.and_then(|s| StatusCode::from_u16(s).ok());
        if target(parts).is_none() {
            let status = status.unwrap_or(StatusCode::BAD_REQUEST);
            return (
                status,
                Json(json!({"error": e.code, "error_description": e.message})),
            )
                .into_response();
        }
        let status = status.unwrap_or_else(|| aws::default_status(&e.code, false));
        aws::json(
            status,
            &e.code,
            &e.message,
            "application/x-amz-json-1.1",
            None,
        )
    }
}

/// The name of a non-API endpoint.
fn endpoint(parts: &Parts) -> String {
    let path = parts.uri.path();
    match path {
        "/oauth2/token" => "oauth2.token".into(),
        "/oauth2/userInfo" => "oauth2.userInfo".into(),
        "/oauth2/revoke" => "oauth2.revoke".into(),
        "/oauth2/authorize" => "oauth2.authorize".into(),
        p if p.ends_with("/.well-known/jwks.json") => "jwks".into(),
        p if p.ends_with("/.well-known/openid-configuration") => "openid_configuration".into(),
        p if p.starts_with("/_fake/") => "admin".into(),
        p => format!("{} {p}", parts.method),
    }
}
