//! The restore gate (`/_fake/restore-gate`): while a snapshot restore holds it closed, AWS calls
//! through the gateway wait for it to open, and past the wait get AWS's 503 in their protocol.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::error::ProvideErrorMetadata as _;
use serde_json::{Value, json};

use crate::support::{Gateway, Moto, client, sdk};

async fn gate(gw: &Gateway, method: reqwest::Method, body: Option<Value>) -> (u16, Value) {
    let mut req = client().request(method, format!("{}/_fake/restore-gate", gw.url));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("restore gate");
    let status = res.status().as_u16();
    (status, res.json().await.expect("JSON"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_during_a_restore_waits_for_the_gate_to_open() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let gw = Gateway::start(&["--moto-url".into(), moto.url.clone()]).await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk(&gw.url).await);
    ddb.list_tables().send().await.expect("ListTables before");

    let (status, closed) = gate(&gw, reqwest::Method::POST, Some(json!({"lease_ms": 30000}))).await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["closed"], true);
    let opened = Arc::new(AtomicBool::new(false));
    let call = {
        let (ddb, opened) = (ddb.clone(), opened.clone());
        tokio::spawn(async move {
            let r = ddb.list_tables().send().await;
            (r.is_ok(), opened.load(Ordering::SeqCst))
        })
    };
    // The gateway's own routes stay open meanwhile.
    let (_, state) = gate(&gw, reqwest::Method::GET, None).await;
    assert_eq!(state["closed"], true, "{state}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    opened.store(true, Ordering::SeqCst);
    let (status, open) = gate(&gw, reqwest::Method::DELETE, None).await;
    assert_eq!((status, open["was_closed"].clone()), (200, json!(true)));
    let (ok, after_open) = call.await.unwrap();
    assert!(ok, "the held call failed");
    assert!(after_open, "a call went through the closed gate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_wait_a_call_gets_service_unavailable_in_its_protocol() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let gw = Gateway::start(&["--moto-url".into(), moto.url.clone()]).await;
    gate(&gw, reqwest::Method::POST, None).await;
    // JSON protocol (the SDK reads the error code and message).
    let ddb = aws_sdk_dynamodb::Client::new(&sdk(&gw.url).await);
    let err = ddb.list_tables().send().await.expect_err("refused");
    let svc = err.into_service_error();
    assert_eq!(svc.code(), Some("ServiceUnavailable"), "{svc:?}");
    assert!(
        svc.message().unwrap_or_default().contains("restore"),
        "{svc:?}"
    );
    // Query protocol: XML with the same code; status 503 either way.
    let res = client()
        .post(&gw.url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body("Action=ListQueues&Version=2012-11-05")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 503);
    let body = res.text().await.unwrap();
    assert!(body.contains("<Code>ServiceUnavailable</Code>"), "{body}");
    // Reopened: calls go through again.
    gate(&gw, reqwest::Method::DELETE, None).await;
    ddb.list_tables().send().await.expect("ListTables after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_reopens_the_gate_and_a_bad_lease_is_a_json_400() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let gw = Gateway::start(&["--moto-url".into(), moto.url.clone()]).await;
    let (status, err) = gate(&gw, reqwest::Method::POST, Some(json!({"lease_ms": -1}))).await;
    assert_eq!(status, 400, "{err}");
    assert!(err["error"].as_str().unwrap().contains("lease_ms"), "{err}");
    let (status, _) = gate(&gw, reqwest::Method::POST, Some(json!({"lease_ms": 200}))).await;
    assert_eq!(status, 200);
    // A call made now waits, then goes through once the lease runs out: nobody opened it.
    let ddb = aws_sdk_dynamodb::Client::new(&sdk(&gw.url).await);
    ddb.list_tables()
        .send()
        .await
        .expect("through after the lease");
    let (_, state) = gate(&gw, reqwest::Method::GET, None).await;
    assert_eq!(state["closed"], false, "{state}");
}
