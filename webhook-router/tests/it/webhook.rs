//! `POST /webhook/eventbridge`, `/routes`, `/events`, `/healthz` against the real binary and
//! real HTTP targets; a few cases in-process through `oneshot`.

use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::{Mode, RouterProc, Target, free_port, wait_for};

struct Setup {
    rec: Target,
    _hang: Target,
    _junk: Target,
    router: RouterProc,
}

async fn setup(extra: &[&str]) -> Setup {
    setup_with_timeout(extra, 400).await
}

async fn setup_with_timeout(extra: &[&str], timeout_ms: u64) -> Setup {
    let rec = Target::start(Mode::Record).await;
    let hang = Target::start(Mode::Hang).await;
    let junk = Target::start(Mode::NotJson).await;
    let closed = free_port();
    let mut args: Vec<String> = vec![
        "--route".into(),
        format!("Rec.=recorder@{}", rec.url("/hook")),
        "--route".into(),
        format!("Rec.Special.=special@{}", rec.url("/special")),
        "--route".into(),
        format!("Hang.=hanger@{}", hang.url("/")),
        "--route".into(),
        format!("Down.=nobody@http://127.0.0.1:{closed}/"),
        "--route".into(),
        format!("Junk.=junker@{}", junk.url("/")),
        "--forward-timeout-ms".into(),
        timeout_ms.to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let router = RouterProc::start(&args).await;
    Setup {
        rec,
        _hang: hang,
        _junk: junk,
        router,
    }
}

fn event(detail_type: &str) -> Value {
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": detail_type,
        "source": "test.source",
        "account": "123456789012",
        "time": "2026-03-01T12:00:05Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"k": "v", "n": 1}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_forward_unchanged_and_pass_the_answer_back() {
    let s = setup(&[]).await;
    // Odd spacing and key order: the target must get these exact bytes.
    let raw =
        r#"{ "detail-type" : "Rec.Thing", "id":"e-1", "source":"s", "detail": {"z":1,"a":[1,2]} }"#;
    let (status, body) = s.router.post(raw).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"ok": true, "n": 1}));
    let got = s.rec.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/hook");
    assert_eq!(got[0].content_type, "application/json; charset=utf-8");
    assert_eq!(got[0].body, serde_json::from_str::<Value>(raw).unwrap());

    // Longest prefix wins.
    let (status, _) = s.router.post(event("Rec.Special.X").to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(s.rec.received()[1].path, "/special");

    // No route: 200 ignored, nothing forwarded.
    let (status, body) = s.router.post(event("Nope.X").to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"status": "ignored", "reason": "No route configured for detail-type: Nope.X"})
    );
    assert_eq!(s.rec.received().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_failures_are_503_504_502_with_json_errors() {
    let s = setup(&[]).await;
    let (status, body) = s.router.post(event("Down.X").to_string()).await;
    assert_eq!(status, 503, "{body}");
    let msg = body["error"].as_str().unwrap();
    assert!(msg.starts_with("Service unavailable: nobody: "), "{msg}");

    let (status, body) = s.router.post(event("Hang.X").to_string()).await;
    assert_eq!(status, 504, "{body}");
    assert!(body["error"].as_str().unwrap().contains("hanger"), "{body}");

    let (status, body) = s.router.post(event("Junk.X").to_string()).await;
    assert_eq!(status, 502, "{body}");
    assert!(body["error"].as_str().unwrap().contains("junker"), "{body}");

    // All three are in /events as failed, with the error.
    let ev = s.router.get_json("/events").await;
    let events = ev["events"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    for e in events {
        assert_eq!(e["outcome"], "failed", "{e}");
        assert_eq!(e["via"], "webhook");
        assert!(e["error"].is_string(), "{e}");
    }
    assert_eq!(events[0]["route"], "junker");
    assert_eq!(events[2]["route"], "nobody");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_400_with_a_clear_json_error() {
    let s = setup(&[]).await;
    for (body, needle) in [
        ("not json", "not valid JSON"),
        ("", "not valid JSON"),
        ("[1,2,3]", "JSON object"),
        ("\"a string\"", "JSON object"),
        ("42", "JSON object"),
        (r#"{"detail-type": 7}"#, "must be a string"),
        (
            r#"{"detail-type": ""}"#,
            "Missing 'detail-type' field in event",
        ),
    ] {
        let (status, v) = s.router.post(body).await;
        assert_eq!(status, 400, "{body:?} → {v}");
        let msg = v["error"].as_str().unwrap_or_default();
        assert!(msg.contains(needle), "{body:?} → {msg}");
    }
    let (status, v) = s.router.post(r#"{"source": "x", "detail": {}}"#).await;
    assert_eq!(status, 400);
    assert_eq!(v["error"], "Missing 'detail-type' field in event");
    for key in ["detailType", "detail_type"] {
        let (status, v) = s
            .router
            .post(json!({ key: "Rec.X", "detail": {} }).to_string())
            .await;
        assert_eq!(status, 400);
        let msg = v["error"].as_str().unwrap();
        assert!(
            msg.starts_with("Missing 'detail-type' field in event"),
            "{msg}"
        );
        assert!(msg.contains(key) && msg.contains("hyphen"), "{msg}");
    }
    // Nothing was forwarded or recorded.
    assert!(s.rec.received().is_empty());
    assert_eq!(s.router.get_json("/events").await["events"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_events_health_and_openapi() {
    let s = setup(&["--events-buffer", "4"]).await;
    let routes = s.router.get_json("/routes").await;
    let list = routes["routes"].as_array().unwrap();
    assert_eq!(list.len(), 5);
    assert_eq!(list[0]["prefix"], "Rec.Special.");
    assert_eq!(list[0]["target"], "special");
    assert_eq!(list[0]["url"], s.rec.url("/special"));

    for i in 0..6 {
        let dt = if i % 2 == 0 {
            format!("Rec.N{i}")
        } else {
            format!("Other.N{i}")
        };
        let (status, _) = s.router.post(event(&dt).to_string()).await;
        assert_eq!(status, 200);
    }
    let ev = s.router.get_json("/events").await;
    let events = ev["events"].as_array().unwrap();
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["detail_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["Other.N5", "Rec.N4", "Other.N3", "Rec.N2"],
        "bounded, newest first"
    );
    assert_eq!(events[0]["outcome"], "ignored");
    assert_eq!(events[0]["route"], Value::Null);
    assert_eq!(events[0]["status"], Value::Null);
    assert_eq!(events[1]["outcome"], "delivered");
    assert_eq!(events[1]["route"], "recorder");
    assert_eq!(events[1]["status"], 200);
    assert_eq!(events[1]["source"], "test.source");
    assert!(events[1]["latency_ms"].as_f64().unwrap() >= 0.0);
    assert!(events[1]["received_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(ev["pipe"]["enabled"], false);
    assert_eq!(ev["total"], 6);

    let two = s.router.get_json("/events?limit=2").await;
    assert_eq!(two["events"].as_array().unwrap().len(), 2);
    let r = crate::support::client()
        .get(s.router.url("/events?limit=lots"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());

    let h = s.router.get_json("/healthz").await;
    assert_eq!(h["status"], "ok");
    assert_eq!(h["checks"]["pipe"]["detail"]["enabled"], false);

    let doc = s.router.get_json("/openapi.json").await;
    assert!(doc["paths"]["/webhook/eventbridge"]["post"].is_object());

    let r = crate::support::client()
        .get(s.router.url("/webhook/eventbridge"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    let r = crate::support::client()
        .get(s.router.url("/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_promptly_even_with_a_request_hanging() {
    let mut s = setup_with_timeout(&[], 30_000).await;
    let url = s.router.url("/webhook/eventbridge");
    let pending = tokio::spawn(async move {
        crate::support::client()
            .post(url)
            .body(event("Hang.X").to_string())
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pid = s.router.child.id();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = wait_for("router exit after SIGTERM", || {
        let r = s.router.child.try_wait().ok().flatten();
        async move { r }
    })
    .await;
    assert!(exit.success(), "{exit:?}");
    pending.abort();
}

#[tokio::test]
async fn in_process_router_answers_without_a_socket() {
    let mut config = webhook_router::Config::defaults();
    config.routes = vec!["A.=a@http://127.0.0.1:9/".parse().unwrap()];
    let health = service_kit::HealthState::new("webhook-router", "test");
    let state = webhook_router::AppState::new(&config, health).unwrap();
    let app = webhook_router::router(state);
    let res = app
        .clone()
        .oneshot(
            Request::post("/webhook/eventbridge")
                .body(Body::from(r#"{"detailType":"A.B"}"#))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let res = app
        .oneshot(Request::get("/routes").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["routes"][0]["target"], "a");
}
