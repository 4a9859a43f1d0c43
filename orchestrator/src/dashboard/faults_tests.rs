//! `/api/faults` in-process against a real webhook router (started on a free port): rules are
//! routed to the service that owns them, fire there, show in the list and in `/api/status`, and
//! clear; rules for services that do not run are a JSON 503, bad ones a JSON 400.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::router;
use super::tests::{spec, state_with};

async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let body = body.map_or(Body::empty(), |b| Body::from(b.to_string()));
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body)
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// A real webhook router on a free port; returns its port.
async fn start_router() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = webhook_router::Config::defaults();
    tokio::spawn(webhook_router::run(
        config,
        listener,
        std::future::pending(),
    ));
    port
}

#[tokio::test]
async fn rules_go_to_their_service_fire_there_and_clear() {
    let dir = tempfile::tempdir().unwrap();
    let port = start_router().await;
    let mut router_spec = spec("webhook_router", None);
    router_spec.port = Some(port);
    let st = state_with(dir.path(), vec![router_spec], "http://127.0.0.1:1");
    let app = router(st);

    let (code, v) = send(&app, "POST", "/api/faults", Some(json!({"service": "router", "operation": "routes", "error": "Down", "status": 503, "next": 1}))).await;
    assert_eq!(code, StatusCode::CREATED, "{v}");
    assert_eq!(v["service"], "webhook_router");
    assert_eq!(v["rule"]["id"], "f1");

    // The rule fires on the router itself, once.
    let http = reqwest::Client::new();
    let routes = format!("http://127.0.0.1:{port}/routes");
    let first = http.get(&routes).send().await.unwrap();
    assert_eq!(first.status().as_u16(), 503);
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["code"], "Down");
    assert_eq!(
        http.get(&routes).send().await.unwrap().status().as_u16(),
        200
    );

    send(
        &app,
        "POST",
        "/api/faults",
        Some(json!({"service": "webhook-router", "latency_ms": 1})),
    )
    .await;
    let (code, list) = send(&app, "GET", "/api/faults", None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(list["active"], 1, "{list}");
    let svc = &list["services"][0];
    assert_eq!(svc["service"], "webhook_router");
    assert_eq!(svc["rules"][0]["hits"], 1);
    assert_eq!(svc["rules"][0]["ended"], "exhausted");
    let (_, status) = send(&app, "GET", "/api/status", None).await;
    assert_eq!(status["webhook_router"]["faults"], 1, "{status}");

    // Services that are not in this stack, and rules that are not rules.
    let (code, v) = send(
        &app,
        "POST",
        "/api/faults",
        Some(json!({"service": "dynamodb", "error": "X"})),
    )
    .await;
    assert_eq!(
        (code, v["code"].clone()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!("service_not_running")
        )
    );
    let (code, v) = send(&app, "POST", "/api/faults", Some(json!({"error": "X"}))).await;
    assert_eq!(
        (code, v["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_rule"))
    );
    let (code, v) = send(
        &app,
        "POST",
        "/api/faults",
        Some(json!({"service": "router", "next": 1})),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["error"].as_str().unwrap().contains("action"), "{v}");

    let (code, v) = send(&app, "DELETE", "/api/faults?service=router&id=f1", None).await;
    assert_eq!((code, v["cleared"].clone()), (StatusCode::OK, json!(1)));
    let (code, _) = send(&app, "DELETE", "/api/faults?service=router&id=f1", None).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (_, v) = send(&app, "DELETE", "/api/faults", None).await;
    assert_eq!(v["cleared"], 1);
    let (_, list) = send(&app, "GET", "/api/faults", None).await;
    assert_eq!(list["services"][0]["rules"], json!([]));
    let (_, status) = send(&app, "GET", "/api/status", None).await;
    assert_eq!(status["webhook_router"]["faults"], 0);
}
