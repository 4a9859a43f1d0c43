//! The proxy path: AWS calls other than the owned ones reach moto unchanged; a dead moto gives
//! an AWS-shaped 503, never a 500 or HTML.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

use crate::support::{Gateway, Moto, client, create_table, free_port, sdk};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dynamodb_call_goes_through_to_moto() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let gateway = Gateway::start(&["--moto-url".into(), moto.url.clone()]).await;
    let via_gateway = aws_sdk_dynamodb::Client::new(&sdk(&gateway.url).await);
    create_table(&via_gateway, "T").await;
    via_gateway
        .put_item()
        .table_name("T")
        .item("pk", AttributeValue::S("k1".into()))
        .item("v", AttributeValue::S("x".repeat(100_000)))
        .send()
        .await
        .expect("PutItem through the gateway");
    // The item is in moto itself, not in some copy.
    let direct = aws_sdk_dynamodb::Client::new(&sdk(&moto.url).await);
    let got = direct
        .get_item()
        .table_name("T")
        .key("pk", AttributeValue::S("k1".into()))
        .send()
        .await
        .expect("GetItem straight from moto");
    let item = got.item().expect("item stored in moto");
    assert_eq!(item["v"].as_s().unwrap().len(), 100_000);
    // And a read through the gateway streams the same answer back.
    let back = via_gateway
        .get_item()
        .table_name("T")
        .key("pk", AttributeValue::S("k1".into()))
        .send()
        .await
        .expect("GetItem through the gateway");
    assert_eq!(back.item().unwrap()["v"].as_s().unwrap().len(), 100_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_down_answers_an_aws_shaped_503_fast() {
    let dead = format!("http://127.0.0.1:{}", free_port());
    let gateway = Gateway::start(&["--moto-url".into(), dead.clone()]).await;
    let started = Instant::now();
    let res = client()
        .post(&gateway.url)
        .header("x-amz-target", "DynamoDB_20120810.ListTables")
        .header("content-type", "application/x-amz-json-1.0")
        .body("{}")
        .send()
        .await
        .expect("answer");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["x-amzn-errortype"], "ServiceUnavailable");
    let body: Value = res.json().await.expect("JSON body");
    assert_eq!(body["__type"], "ServiceUnavailable");
    let msg = body["message"].as_str().unwrap();
    assert!(msg.contains(&dead), "{msg}");
    // The SDK sees a service error it can parse, with moto's URL in the message.
    let ddb = aws_sdk_dynamodb::Client::new(&sdk(&gateway.url).await);
    let err = ddb.list_tables().send().await.expect_err("moto is down");
    let meta = aws_sdk_dynamodb::error::ProvideErrorMetadata::meta(&err);
    assert_eq!(meta.code(), Some("ServiceUnavailable"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_restarting_under_the_gateway_is_survived() {
    let Some(mut moto) = Moto::start().await else {
        return;
    };
    let gateway = Gateway::start(&["--moto-url".into(), moto.url.clone()]).await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk(&gateway.url).await);
    ddb.list_tables().send().await.expect("moto up");
    moto.stop();
    let err = ddb.list_tables().send().await.expect_err("moto down");
    let meta = aws_sdk_dynamodb::error::ProvideErrorMetadata::meta(&err);
    assert_eq!(meta.code(), Some("ServiceUnavailable"));
    // /healthz stays 200 (the gateway itself is fine) but says moto is unreachable.
    let health: Value = crate::support::wait_for("healthz to report moto down", || async {
        let h: Value = client()
            .get(format!("{}/healthz", gateway.url))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (h["status"] == "degraded").then_some(h)
    })
    .await;
    assert!(
        health.to_string().contains("ListEventSourceMappings"),
        "{health}"
    );
    moto.restart().await;
    ddb.list_tables()
        .send()
        .await
        .expect("moto back: the same gateway forwards again");
}
