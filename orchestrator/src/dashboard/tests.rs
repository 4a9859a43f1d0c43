//! In-process tests of the page and the streaming routes (the browser tests in tests/browser/ drive
//! the whole thing in Chromium against a real stack).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use futures::StreamExt;
use parking_lot::Mutex;
use serde_json::Value;
use service_kit::Shutdown;
use tower::ServiceExt;

use super::{AppState, Aws, SeedStatus, StackInfo, router};
use crate::config::{Cell, Profile};
use crate::logs::RunLogs;
use crate::runfile::RunFile;
use crate::services::{Health, ServiceSpec};
use crate::supervisor::{Options, Supervisor};

pub(super) fn spec(name: &str, skip: Option<&str>) -> ServiceSpec {
    ServiceSpec {
        name: name.to_owned(),
        port: Some(1),
        layer: 0,
        argv: vec!["/bin/false".into()],
        cwd: None,
        env: BTreeMap::new(),
        health: Health::Process,
        blocking: true,
        auto_restart: false,
        setup: None,
        skip: skip.map(str::to_owned),
        builtin: false,
    }
}

fn state(dir: &std::path::Path) -> AppState {
    state_with(
        dir,
        vec![
            spec("alpha", None),
            spec("beta", Some("not in profile core")),
        ],
        "http://127.0.0.1:1",
    )
}

/// A dashboard over `specs` (never started) whose AWS endpoint is `aws_url`.
pub(super) fn state_with(
    dir: &std::path::Path,
    specs: Vec<ServiceSpec>,
    aws_url: &str,
) -> AppState {
    let logs = RunLogs::create(&dir.join("logs")).unwrap();
    let options = Options {
        die_with_parent: false,
        health_interval: Duration::from_secs(60),
        layer_timeout: Duration::from_secs(1),
        echo: false,
        late_env: Arc::new(Mutex::new(BTreeMap::new())),
        stop: Default::default(),
    };
    let sup = Supervisor::new(
        specs,
        logs,
        options,
        RunFile::default(),
        dir.join("run.json"),
    )
    .unwrap();
    AppState {
        sup,
        info: Arc::new(StackInfo {
            profile: Profile::Core,
            cell: Cell::Local,
            cell_url: "http://127.0.0.1:1".into(),
            table_prefix: "dev-test-".into(),
            seed: 42,
            seed_accounts: None,
            seed_docs_per_index: None,
            project_root: dir.to_string_lossy().into_owned(),
            port_offset: 0,
            dashboard_port: 9000,
            router_url: "http://127.0.0.1:1".into(),
            started_at_ms: 0,
            manifest_path: String::new(),
        }),
        seed: Arc::new(Mutex::new(SeedStatus::Skipped)),
        manifest: Arc::new(Mutex::new(None)),
        hooks: Arc::new(crate::seed_hooks::SeedHooks::new(Vec::new())),
        shutdown: Shutdown::new(),
        started: Instant::now(),
        startup_ms: Arc::new(AtomicU64::new(0)),
        ready: Arc::new(AtomicBool::new(true)),
        http: reqwest::Client::new(),
        aws: Arc::new(Aws::new(aws_url, "us-east-1")),
    }
}

pub(super) fn get(uri: &str) -> Request<Body> {
    Request::builder().uri(uri).body(Body::empty()).unwrap()
}

/// Read SSE frames until `pred` holds on the text so far (or the deadline passes).
async fn read_until(body: Body, pred: impl Fn(&str) -> bool) -> String {
    let mut stream = body.into_data_stream();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !pred(&text) {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            _ => break,
        }
    }
    text
}

#[tokio::test]
async fn page_is_embedded_and_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    let res = router(state(dir.path())).oneshot(get("/")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let html = String::from_utf8_lossy(&body);
    assert!(
        html.contains("/api/stream")
            && html.contains("aria-live")
            && html.contains("prefers-color-scheme")
    );
    // Works offline: nothing loaded from another origin.
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("@import")
    );
}

#[tokio::test]
async fn status_stream_pushes_snapshots_and_ends_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(dir.path());
    let res = router(st.clone())
        .oneshot(get("/api/stream"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "text/event-stream");
    let body = res.into_body();
    let mut stream = body.into_data_stream();
    let mut text = String::new();
    while text.matches("event: snapshot").count() < 2 {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let data = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
    let v: Value = serde_json::from_str(data).unwrap();
    assert_eq!(v["stack"]["info"]["table_prefix"], "dev-test-");
    assert_eq!(v["status"]["beta"]["status"], "skipped");
    assert_eq!(v["status"]["dashboard"]["status"], "running");
    st.shutdown.trigger();
    // The stream ends, so a graceful shutdown never waits on an open page.
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
    assert!(end.is_ok(), "the stream did not end on shutdown");
}

#[tokio::test]
async fn log_stream_pushes_new_lines() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(dir.path());
    let res = router(st.clone())
        .oneshot(get("/api/logs/alpha/stream"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "text/event-stream");
    let sink = st.sup.get("alpha").unwrap().sink.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        sink.line("hello from alpha\r\n");
        sink.line("carriage\rreturn");
    });
    let text = read_until(res.into_body(), |t| t.contains("carriagereturn")).await;
    assert!(
        text.contains("event: line\ndata: hello from alpha\n"),
        "{text:?}"
    );
}

#[tokio::test]
async fn log_stream_starts_with_the_tail_and_loses_nothing_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(dir.path());
    let sink = st.sup.get("alpha").unwrap().sink.clone();
    sink.line("first");
    sink.line("second");
    let res = router(st.clone())
        .oneshot(get("/api/logs/alpha/stream?tail=1"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Written after the request was answered but before anyone read the body: must still arrive.
    sink.line("third");
    let text = read_until(res.into_body(), |t| t.contains("data: third")).await;
    let tail = text.find("event: tail\ndata: [\"second\"]\n");
    let third = text.find("event: line\ndata: third\n");
    assert!(
        tail.is_some() && third.is_some() && tail < third,
        "{text:?}"
    );
    assert!(!text.contains("first"), "{text:?}");
    assert_eq!(text.matches("second").count(), 1, "{text:?}");

    let res = router(st)
        .oneshot(get("/api/logs/alpha/stream?tail=many"))
        .await
        .unwrap();
    let (status, ctype, v) = json_of(res).await;
    assert_eq!(
        (status, ctype.as_str()),
        (StatusCode::BAD_REQUEST, "application/json"),
        "{v}"
    );
}

#[tokio::test]
async fn log_stream_of_an_unknown_service_is_a_json_404() {
    let dir = tempfile::tempdir().unwrap();
    let res = router(state(dir.path()))
        .oneshot(get("/api/logs/nope/stream"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["code"], "unknown_service", "{v}");
}

pub(super) async fn json_of(res: axum::response::Response) -> (StatusCode, String, Value) {
    let status = res.status();
    let ctype = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let v = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {body:?}"));
    (status, ctype, v)
}

#[tokio::test]
async fn openapi_json_is_served_and_lists_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let res = router(state(dir.path()))
        .oneshot(get("/openapi.json"))
        .await
        .unwrap();
    let (status, _, doc) = json_of(res).await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/status",
        "/api/control/{action}",
        "/api/logs/{service}/stream",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
}

#[tokio::test]
async fn malformed_queries_paths_and_bodies_are_json_4xx() {
    let dir = tempfile::tempdir().unwrap();
    let app = router(state(dir.path()));
    for uri in [
        "/api/logs/alpha?tail=-1",
        "/api/logs/alpha?tail=lots",
        "/api/events?limit=99999999999999999999999",
        "/api/logs/%FF%FE",
        "/api/logs/%FF/stream",
    ] {
        let res = app.clone().oneshot(get(uri)).await.unwrap();
        let (status, ctype, v) = json_of(res).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {v}");
        assert!(ctype.contains("json"), "{uri}: {ctype}");
        assert_eq!(v["code"], "bad_request", "{uri}: {v}");
    }
    let big = vec![b'x'; 3 << 20];
    let res = app
        .clone()
        .oneshot(
            Request::post("/webhook/eventbridge")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(big))
                .unwrap(),
        )
        .await
        .unwrap();
    let (status, _, v) = json_of(res).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    let res = app
        .oneshot(
            Request::post("/api/control/%FF")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let (status, _, v) = json_of(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
}
