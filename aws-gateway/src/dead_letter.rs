//! Functions' `DeadLetterConfig`. moto 5.2.5 accepts it in CreateFunction and
//! UpdateFunctionConfiguration but neither keeps nor returns it, so the gateway learns it from
//! those calls on their way to moto (the body is read, checked and forwarded unchanged), keeps
//! it per function name, and writes it into moto's answers to CreateFunction,
//! UpdateFunctionConfiguration, GetFunction, GetFunctionConfiguration and ListFunctions, as AWS
//! shows it. [`crate::destinations`] sends a failed `Event` invocation there; DeleteFunction
//! forgets it. In memory, like the `Event` queue: a restarted gateway knows a function's DLQ
//! again once the function is created or updated.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{Method, Request, Response, header};
use axum::response::IntoResponse;
use lambda_invoke::FunctionRef;
use parking_lot::Mutex;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::GatewayError;
use crate::proxy;

/// Most functions the gateway keeps a dead-letter target for.
const MAX_FUNCTIONS: usize = 10_000;
/// CreateFunction may carry the code: AWS takes a 50 MB zip, about 67 MB once base64 in JSON.
/// A bigger (or chunked and bigger) body is forwarded unread.
const REQUEST_LIMIT: usize = 70 * 1024 * 1024;
/// moto's function configurations are small; a ListFunctions page of 50 stays well under this.
const ANSWER_LIMIT: usize = 8 * 1024 * 1024;

/// function name → the `DeadLetterConfig.TargetArn` its last Create/Update asked for.
#[derive(Default)]
pub struct DeadLetters {
    targets: Mutex<HashMap<String, String>>,
}

impl DeadLetters {
    pub fn target(&self, function: &str) -> Option<String> {
        self.targets.lock().get(function).cloned()
    }

    /// Set (`Some`) or clear (`None`) the function's dead-letter target.
    pub fn set(&self, function: &str, target: Option<String>) {
        let mut map = self.targets.lock();
        match target {
            None => {
                map.remove(function);
            }
            Some(t) if map.len() < MAX_FUNCTIONS || map.contains_key(function) => {
                map.insert(function.to_owned(), t);
            }
            Some(t) => {
                drop(map);
                tracing::warn!(function, target = %t, "{MAX_FUNCTIONS} functions have a dead-letter queue already; this one's is not kept");
            }
        }
    }
}

/// `/2015-03-31/functions`: CreateFunction (POST) learns the DLQ, ListFunctions (GET) shows them.
pub async fn functions(State(state): State<AppState>, req: Request<Body>) -> Response<Body> {
    let result = match *req.method() {
        Method::POST => write(&state, req, true).await,
        Method::GET => forward_filled(&state, req, fill_list).await,
        _ => state.proxy().forward(req).await,
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `/2015-03-31/functions/{name}`: GetFunction shows the DLQ, DeleteFunction forgets it.
pub async fn function(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    req: Request<Body>,
) -> Response<Body> {
    let result = match *req.method() {
        Method::GET => {
            forward_filled(&state, req, |d, v| fill(d, v.get_mut("Configuration"))).await
        }
        Method::DELETE => delete(&state, path.ok().map(|Path(p)| p), req).await,
        _ => state.proxy().forward(req).await,
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `/2015-03-31/functions/{name}/configuration`: GetFunctionConfiguration shows the DLQ,
/// UpdateFunctionConfiguration (PUT) learns it.
pub async fn configuration(State(state): State<AppState>, req: Request<Body>) -> Response<Body> {
    let result = match *req.method() {
        Method::GET => forward_filled(&state, req, |d, v| fill(d, Some(v))).await,
        Method::PUT => write(&state, req, false).await,
        _ => state.proxy().forward(req).await,
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

/// A Create (`create`) or an Update: check the `DeadLetterConfig` asked for, forward the body
/// unchanged, and after moto's success remember it for the function moto names in its answer.
async fn write(
    state: &AppState,
    req: Request<Body>,
    create: bool,
) -> Result<Response<Body>, GatewayError> {
    let (parts, body) = req.into_parts();
    if !proxy::fits(&parts.headers, REQUEST_LIMIT) {
        tracing::warn!(path = %parts.uri.path(), "body over {REQUEST_LIMIT} bytes: forwarded without reading its DeadLetterConfig");
        return state
            .proxy()
            .forward(Request::from_parts(parts, body))
            .await;
    }
    let bytes = proxy::collect(body, REQUEST_LIMIT).await?;
    let asked = match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) => asked_target(&v)?,
        // Not JSON: moto answers it as AWS would.
        Err(_) => None,
    };
    let req = Request::from_parts(parts, Body::from(bytes));
    let res = state.proxy().forward(req).await?;
    rewrite_answer(state, res, |v| {
        let Some(name) = v.get("FunctionName").and_then(Value::as_str) else {
            return;
        };
        match asked.clone() {
            Some(target) => state.dead_letters().set(name, target),
            // A new function starts without one (a name can be reused after a delete).
            None if create => state.dead_letters().set(name, None),
            None => {}
        }
        fill(state.dead_letters(), Some(v));
    })
    .await
}

/// What a Create/Update body asks for: `None` leaves the DLQ as it is, `Some(None)` removes it
/// (AWS: `DeadLetterConfig: {}` or an empty `TargetArn`), `Some(Some(arn))` sets it.
fn asked_target(body: &Value) -> Result<Option<Option<String>>, GatewayError> {
    let Some(config) = body.get("DeadLetterConfig") else {
        return Ok(None);
    };
    let arn = config
        .get("TargetArn")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if arn.is_empty() {
        return Ok(Some(None));
    }
    let service = arn.split(':').nth(2);
    if !arn.starts_with("arn:") || !matches!(service, Some("sqs" | "sns")) || arn.len() > 1024 {
        return Err(GatewayError::InvalidParameter(format!(
            "The provided target ARN '{arn}' is invalid: DeadLetterConfig.TargetArn must be \
             the ARN of an Amazon SQS queue or an Amazon SNS topic"
        )));
    }
    Ok(Some(Some(arn.to_owned())))
}

/// DeleteFunction of the whole function (not one version): forget its DLQ after moto's success.
async fn delete(
    state: &AppState,
    name: Option<String>,
    req: Request<Body>,
) -> Result<Response<Body>, GatewayError> {
    let version_only = req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("Qualifier=")));
    let res = state.proxy().forward(req).await?;
    let function = name.and_then(|n| FunctionRef::parse(&n).ok());
    if let Some(f) = function.filter(|f| f.qualifier.is_none() && !version_only)
        && res.status().is_success()
    {
        state.dead_letters().set(&f.name, None);
    }
    Ok(res)
}

async fn forward_filled(
    state: &AppState,
    req: Request<Body>,
    fill: impl FnOnce(&DeadLetters, &mut Value),
) -> Result<Response<Body>, GatewayError> {
    let res = state.proxy().forward(req).await?;
    rewrite_answer(state, res, |v| fill(state.dead_letters(), v)).await
}

/// Apply `f` to a successful JSON answer; any other answer passes unchanged.
async fn rewrite_answer(
    state: &AppState,
    res: Response<Body>,
    f: impl FnOnce(&mut Value),
) -> Result<Response<Body>, GatewayError> {
    let (mut parts, body) = res.into_parts();
    if !parts.status.is_success() || !proxy::fits(&parts.headers, ANSWER_LIMIT) {
        return Ok(Response::from_parts(parts, body));
    }
    let bytes =
        proxy::collect(body, ANSWER_LIMIT)
            .await
            .map_err(|e| GatewayError::MotoBadGateway {
                url: state.proxy().url().to_owned(),
                why: e.to_string(),
            })?;
    let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) else {
        return Ok(Response::from_parts(parts, Body::from(bytes)));
    };
    f(&mut v);
    parts.headers.remove(header::CONTENT_LENGTH);
    Ok(Response::from_parts(parts, Body::from(v.to_string())))
}

/// Show the function's DLQ in one configuration object, as AWS does.
fn fill(dead_letters: &DeadLetters, config: Option<&mut Value>) {
    let Some(obj) = config.and_then(Value::as_object_mut) else {
        return;
    };
    let Some(name) = obj.get("FunctionName").and_then(Value::as_str) else {
        return;
    };
    if let Some(target) = dead_letters.target(name) {
        obj.insert("DeadLetterConfig".into(), json!({ "TargetArn": target }));
    }
}

fn fill_list(dead_letters: &DeadLetters, v: &mut Value) {
    if let Some(list) = v.get_mut("Functions").and_then(Value::as_array_mut) {
        for config in list {
            fill(dead_letters, Some(config));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_body_asks_for() {
        assert_eq!(asked_target(&json!({"Timeout": 3})).unwrap(), None);
        assert_eq!(
            asked_target(&json!({"DeadLetterConfig": {}})).unwrap(),
            Some(None)
        );
        assert_eq!(
            asked_target(&json!({"DeadLetterConfig": {"TargetArn": ""}})).unwrap(),
            Some(None)
        );
        let q = "arn:aws:sqs:us-east-1:123456789012:dlq";
        assert_eq!(
            asked_target(&json!({"DeadLetterConfig": {"TargetArn": q}})).unwrap(),
            Some(Some(q.to_owned()))
        );
        let bad = asked_target(&json!({"DeadLetterConfig": {"TargetArn": "arn:aws:s3:::bucket"}}))
            .unwrap_err();
        assert_eq!(bad.code(), "InvalidParameterValueException");
        assert!(asked_target(&json!({"DeadLetterConfig": {"TargetArn": "dlq"}})).is_err());
    }

    #[test]
    fn answers_show_the_target_of_known_functions_only() {
        let d = DeadLetters::default();
        d.set("a", Some("arn:aws:sns:us-east-1:123456789012:t".into()));
        let mut list = json!({"Functions": [{"FunctionName": "a"}, {"FunctionName": "b"}], "NextMarker": null});
        fill_list(&d, &mut list);
        assert_eq!(
            list["Functions"][0]["DeadLetterConfig"]["TargetArn"],
            "arn:aws:sns:us-east-1:123456789012:t"
        );
        assert!(list["Functions"][1].get("DeadLetterConfig").is_none());
        let mut not_an_object = json!([1]);
        fill(&d, Some(&mut not_an_object));
        d.set("a", None);
        assert_eq!(d.target("a"), None);
    }
}
