//! The router in-process (`tower::ServiceExt::oneshot`): protocol edges that need no process.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use clap::Parser;
use fake_cognito::{App, Config, router};
use serde_json::Value;
use service_kit::HealthState;
use tower::ServiceExt;

async fn app() -> (axum::Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let config = Config::parse_from([
        std::ffi::OsString::from("fake-cognito"),
        "--state-file".into(),
        state.into_os_string(),
    ]);
    let health = HealthState::new("fake-cognito", "test");
    let app = App::open(config, health.clone()).await.unwrap();
    health.set_ready();
    (router(app), dir)
}

async fn call(r: &axum::Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let res = r.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn api(target: Option<&str>, body: &str) -> Request<Body> {
    let mut b = Request::post("/").header("content-type", "application/x-amz-json-1.1");
    if let Some(t) = target {
        b = b.header("x-amz-target", t);
    }
    b.body(Body::from(body.to_owned())).unwrap()
}

#[tokio::test]
async fn protocol_edges() {
    let (r, _dir) = app().await;

    let (st, h, body) = call(&r, api(None, "{}")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(body["__type"], "UnknownOperationException");
    assert!(h.contains_key("x-amzn-requestid"));
    assert_eq!(h["x-amzn-errortype"], "UnknownOperationException:");

    let (st, _, body) = call(
        &r,
        api(
            Some("AWSCognitoIdentityProviderService.ListUserPools"),
            "{not json",
        ),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(body["__type"], "SerializationException");

    let (st, _, body) = call(
        &r,
        api(
            Some("AWSCognitoIdentityProviderService.CreateUserPool"),
            "{}",
        ),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(body["__type"], "InvalidParameterException");

    let (st, h, body) = call(
        &r,
        api(
            Some("AWSCognitoIdentityProviderService.ListUserPools"),
            r#"{"MaxResults": 5}"#,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h["content-type"], "application/x-amz-json-1.1");
    assert_eq!(body["UserPools"], serde_json::json!([]));

    // Browsers call the API directly: CORS preflight.
    let pre = Request::builder()
        .method("OPTIONS")
        .uri("/")
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,x-amz-target,x-amz-user-agent",
        )
        .body(Body::empty())
        .unwrap();
    let (st, h, _) = call(&r, pre).await;
    assert!(st.is_success());
    assert_eq!(h["access-control-allow-origin"], "*");

    let (st, _, body) = call(&r, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["checks"]["persistence"]["ok"], true);
    let (st, _, body) = call(
        &r,
        Request::get("/openapi.json").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(body["paths"]["/_fake/validate"].is_object());
    let (st, _, body) = call(&r, Request::get("/nope").body(Body::empty()).unwrap()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");
    let (st, _, body) = call(
        &r,
        Request::get("/_fake/validate").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(body["reason"], "missing_token");
}
