//! The registry, the layer and the API together, in-process and over a real socket (drop, hang).

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

use super::*;

/// A service whose operation is the path's first segment and resource the second.
struct Paths;

impl Classifier for Paths {
    fn classify(&self, parts: &Parts, _body: &[u8]) -> Call {
        let mut segs = parts.uri.path().trim_start_matches('/').split('/');
        Call {
            service: "webhook-router".into(),
            operation: segs.next().unwrap_or_default().to_owned(),
            resource: segs.next().map(str::to_owned),
        }
    }
    fn error_response(&self, _parts: &Parts, _call: &Call, e: &InjectedError) -> Response {
        let status = StatusCode::from_u16(e.status.unwrap_or(503)).unwrap();
        (
            status,
            axum::Json(json!({"code": e.code, "message": e.message})),
        )
            .into_response()
    }
}

fn app(faults: &Faults) -> Router {
    let health = crate::HealthState::new("webhook-router", "0");
    health.set_ready();
    health.attach_faults(faults);
    let router = Router::new()
        .route("/{op}/{res}", get(|| async { "ok" }))
        .merge(crate::health_router(health));
    layer::apply(router, faults.clone(), Paths)
}

async fn call(app: &Router, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    let body = body.map_or(Body::empty(), |b| Body::from(b.to_string()));
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .body(body)
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let v = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, v)
}

async fn statuses(app: &Router, uri: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(call(app, "GET", uri, None).await.0.as_u16());
    }
    out
}

#[tokio::test]
async fn next_n_every_nth_and_matching_through_the_api() {
    let faults = Faults::new("webhook-router");
    let app = app(&faults);
    let (code, rule) = call(
        &app,
        "POST",
        "/_fake/faults",
        Some(json!({"operation": "search", "resource": "idx*", "error": "Throttled", "next": 2})),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{rule}");
    assert_eq!(rule["id"], "f1");
    // Another resource is not matched, and does not use up the rule.
    assert_eq!(statuses(&app, "/search/other", 1).await, [200]);
    assert_eq!(statuses(&app, "/search/idx1", 3).await, [503, 503, 200]);
    let (_, body) = call(&app, "GET", "/_fake/faults/f1", None).await;
    assert_eq!(body["hits"], 2);
    // An exhausted rule no longer sees calls.
    assert_eq!(body["matched"], 2);
    assert_eq!(body["ended"], "exhausted");

    call(
        &app,
        "POST",
        "/_fake/faults",
        Some(json!({"operation": "get", "error": "Busy", "status": 429, "every": 3})),
    )
    .await;
    assert_eq!(
        statuses(&app, "/get/x", 6).await,
        [200, 200, 429, 200, 200, 429]
    );
    let (_, health) = call(&app, "GET", "/healthz", None).await;
    assert_eq!(health["faults"], 1);
    let (_, list) = call(&app, "GET", "/_fake/faults", None).await;
    assert_eq!(list["active"], 1);
    assert_eq!(list["rules"].as_array().unwrap().len(), 2);
    let (code, cleared) = call(&app, "DELETE", "/_fake/faults", None).await;
    assert_eq!(
        (code, cleared["cleared"].clone()),
        (StatusCode::OK, json!(2))
    );
    assert_eq!(statuses(&app, "/get/x", 3).await, [200, 200, 200]);
}

#[tokio::test]
async fn bad_rules_are_json_400s_and_health_is_never_faulted() {
    let faults = Faults::new("webhook-router");
    let app = app(&faults);
    for bad in [
        json!({"operation": "x"}),
        json!({"error": "X", "next": 1, "every": 2}),
        json!({"error": "X", "probability": 2}),
        json!({"error": "X", "bogus": 1}),
        json!({"service": "dynamodb", "error": "X"}),
    ] {
        let (code, body) = call(&app, "POST", "/_fake/faults", Some(bad.clone())).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{bad} -> {body}");
        assert_eq!(body["code"], "invalid_rule");
    }
    let (code, _) = call(&app, "DELETE", "/_fake/faults/f9", None).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    call(&app, "POST", "/_fake/faults", Some(json!({"error": "X"}))).await;
    let (code, health) = call(&app, "GET", "/healthz", None).await;
    assert_eq!((code, health["faults"].clone()), (StatusCode::OK, json!(1)));
    let (code, _) = call(&app, "GET", "/_fake/faults", None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(statuses(&app, "/a/b", 1).await, [503]);
}

#[tokio::test]
async fn a_seeded_probability_fails_the_same_calls_again() {
    let run = |seed: Option<u64>| async move {
        let faults = Faults::new("webhook-router");
        let app = app(&faults);
        let mut rule = json!({"operation": "get", "error": "X", "probability": 0.5});
        if let Some(s) = seed {
            rule["seed"] = json!(s);
        }
        call(&app, "POST", "/_fake/faults", Some(rule)).await;
        statuses(&app, "/get/x", 40).await
    };
    let first = run(Some(1)).await;
    assert_eq!(first, run(Some(1)).await);
    assert_ne!(first, run(Some(2)).await);
    assert!(first.contains(&503) && first.contains(&200), "{first:?}");
}

#[tokio::test]
async fn a_rule_expires_after_its_time() {
    let faults = Faults::new("webhook-router");
    let app = app(&faults);
    call(
        &app,
        "POST",
        "/_fake/faults",
        Some(json!({"error": "X", "expires_in_ms": 150})),
    )
    .await;
    assert_eq!(statuses(&app, "/a/b", 1).await, [503]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(statuses(&app, "/a/b", 1).await, [200]);
    let (_, list) = call(&app, "GET", "/_fake/faults", None).await;
    assert_eq!(list["active"], 0);
    assert_eq!(list["rules"][0]["ended"], "expired");
}

/// Raw HTTP/1.1 over a socket: what a client receives, byte for byte.
async fn raw_get(addr: std::net::SocketAddr, path: &str) -> Vec<u8> {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    out
}

#[tokio::test]
async fn drop_closes_without_an_answer_and_timeout_holds_then_drops() {
    let faults = Faults::new("webhook-router");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(crate::serve(listener, app(&faults), std::future::pending()));
    faults
        .add(RuleSpec {
            operation: Some("drop".into()),
            drop: true,
            ..Default::default()
        })
        .unwrap();
    faults
        .add(RuleSpec {
            operation: Some("hang".into()),
            timeout: true,
            timeout_ms: Some(300),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(raw_get(addr, "/drop/x").await, b"");
    // The client gives up first, as a client with a read timeout does.
    let held = tokio::time::timeout(Duration::from_millis(100), raw_get(addr, "/hang/x")).await;
    assert!(held.is_err(), "a timeout rule answered: {held:?}");
    // Left alone, the held request ends without an answer too.
    assert_eq!(raw_get(addr, "/hang/x").await, b"");
    let ok = raw_get(addr, "/other/x").await;
    assert!(
        ok.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&ok)
    );
    let rules = faults.list();
    assert_eq!(rules["rules"][0]["hits"], 1);
    assert_eq!(rules["rules"][1]["hits"], 2);
}

#[tokio::test]
async fn persisted_rules_survive_a_restart_and_others_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("faults.json");
    let first = Faults::with_file("webhook-router", file.clone());
    let kept = first
        .add(RuleSpec {
            error: Some("X".into()),
            next: Some(3),
            persist: true,
            ..Default::default()
        })
        .unwrap();
    first
        .add(RuleSpec {
            error: Some("Y".into()),
            ..Default::default()
        })
        .unwrap();
    let c = Call {
        service: "webhook-router".into(),
        operation: "a".into(),
        resource: None,
    };
    assert_eq!(first.check(&c).unwrap().rule_id, kept.id);
    // The writer thread saves shortly after the change.
    let mut restored = Faults::with_file("webhook-router", file.clone());
    for _ in 0..100 {
        restored = Faults::with_file("webhook-router", file.clone());
        if restored.list()["rules"][0]["hits"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let list = restored.list();
    assert_eq!(list["rules"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["rules"][0]["id"], kept.id.as_str());
    assert_eq!(list["rules"][0]["hits"], 1);
    // Two of its three calls are left; the next id does not reuse f1.
    assert!(restored.check(&c).is_some());
    assert!(restored.check(&c).is_some());
    assert!(restored.check(&c).is_none());
    let next = restored
        .add(RuleSpec {
            drop: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(next.id, "f2");
}

#[test]
fn owners_and_names() {
    assert_eq!(owner_of("Marqo"), "fake-cell");
    assert_eq!(owner_of("cognito-idp"), "fake-cognito");
    assert_eq!(owner_of("webhook-router"), "webhook-router");
    assert_eq!(owner_of("dynamodb"), "aws-gateway");
    assert_eq!(owner_of("lambda"), "aws-gateway");
    assert!(names_of("states").contains(&"stepfunctions"));
    assert!(names_of("dynamodb").is_empty());
}
