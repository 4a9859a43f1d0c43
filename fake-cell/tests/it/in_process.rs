//! The router in-process (`tower::ServiceExt::oneshot`): readiness, bodies without a
//! Content-Type, and malformed JSON.

use axum::body::Body;
use axum::http::{Method, Request};
use clap::Parser;
use fake_cell::{Config, router};
use serde_json::{Value, json};
use tower::ServiceExt;

async fn send(app: &axum::Router, method: Method, path: &str, body: Option<&str>) -> (u16, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .body(
            body.map(|b| Body::from(b.to_string()))
                .unwrap_or_else(Body::empty),
        )
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn in_process_router_contract() {
    let dir = tempfile::tempdir().unwrap();
    let range = crate::support::index_range();
    let state = dir.path().join("s.json");
    let config = Config::parse_from([
        "fake-cell",
        "--open",
        "--index-ports",
        &range,
        "--state-file",
        state.to_str().unwrap(),
    ]);
    let health = service_kit::HealthState::new("fake-cell", "test");
    let cell = tokio::task::spawn_blocking(move || fake_cell::restore(config, health))
        .await
        .unwrap()
        .unwrap();
    let app = router(cell.clone());

    let (s, h) = send(&app, Method::GET, "/healthz", None).await;
    assert_eq!((s, h["status"].as_str()), (503, Some("starting")));
    cell.health.set_ready();
    let (s, _) = send(&app, Method::GET, "/healthz", None).await;
    assert_eq!(s, 200);

    let (s, _) = send(&app, Method::POST, "/indexes/ip", Some("{}")).await;
    assert_eq!(s, 200);
    let add = json!({"documents": [{"_id": "x", "title": "hello world", "n": 1}], "tensorFields": ["title"], "mappings": null, "modelAuth": null}).to_string();
    let (s, r) = send(
        &app,
        Method::POST,
        "/indexes/ip/documents?refresh=false&device=cuda1",
        Some(&add),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let (s, r) = send(
        &app,
        Method::PATCH,
        "/indexes/ip/documents",
        Some(r#"{"documents":[{"_id":"x","n":2}]}"#),
    )
    .await;
    assert_eq!((s, r["errors"].as_bool()), (200, Some(false)));
    let (s, r) = send(
        &app,
        Method::GET,
        "/indexes/ip/documents?expose_facets=True",
        Some(r#"["x"]"#),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(r["results"][0]["n"], 2);
    assert!(r["results"][0]["_tensor_facets"].is_array());
    let (s, r) = send(
        &app,
        Method::POST,
        "/indexes/ip/search?&device=cpu",
        Some("not json"),
    )
    .await;
    assert_eq!((s, r["code"].as_str()), (400, Some("invalid_argument")));
    let (s, r) = send(&app, Method::POST, "/indexes/ip/search", Some("[1,2]")).await;
    assert_eq!((s, r["code"].as_str()), (422, Some("unprocessable_entity")));
    assert!(r["detail"].is_array());
    let (s, _) = send(&app, Method::DELETE, "/indexes/ip", None).await;
    assert_eq!(s, 200);
    fake_cell::index_server::stop_all(&cell);
}
