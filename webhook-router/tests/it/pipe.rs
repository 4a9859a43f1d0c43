//! The local pipe end to end: moto's DynamoDB stream → envelope → a recording target, with a
//! table that appears late and moto restarting under the pipe.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

use crate::support::{Mode, Moto, RouterProc, Target, unique_prefix, wait_for};

async fn put(ddb: &aws_sdk_dynamodb::Client, table: &str, pk: &str, boost: &str) {
    ddb.put_item()
        .table_name(table)
        .item("pk", AttributeValue::S(pk.into()))
        .item("boost", AttributeValue::N(boost.into()))
        .send()
        .await
        .expect("PutItem");
}

async fn wait_received(target: &Target, n: usize) -> Vec<crate::support::Received> {
    wait_for(&format!("{n} events at the target"), || {
        let got = target.received();
        async move { (got.len() >= n).then_some(got) }
    })
    .await
}

fn pipe_args(moto: &Moto, prefix: &str, target: &Target) -> Vec<String> {
    vec![
        "--moto-url".into(),
        moto.url(),
        "--table-prefix".into(),
        prefix.into(),
        "--pipe".into(),
        "EcomIndexSettingsTable=EcomIndexSettings".into(),
        "--pipe".into(),
        "MerchandisingTable=Merchandising".into(),
        "--route".into(),
        format!("EcomIndexSettings.=settings@{}", target.url("/settings")),
        "--route".into(),
        format!("Merchandising.=merch@{}", target.url("/merch")),
        "--pipe-poll-ms".into(),
        "100".into(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_reach_the_target_as_eventbridge_events_even_for_a_late_table() {
    let moto = Moto::start().await;
    let target = Target::start(Mode::Record).await;
    let prefix = unique_prefix("e2e");
    let router = RouterProc::start(&pipe_args(&moto, &prefix, &target)).await;
    let table = format!("{prefix}EcomIndexSettingsTable");

    // The router started first: the table does not exist yet.
    wait_for("pipe waiting for the table", || {
        let r = &router;
        async move {
            let ev = r.get_json("/events").await;
            (ev["pipe"]["tables"][0]["status"] == "waiting_for_table").then_some(())
        }
    })
    .await;

    let sdk = moto.sdk().await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let stream_arn = crate::support::create_streamed_table(&ddb, &table).await;
    put(&ddb, &table, "shop#1", "2").await;
    ddb.update_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("shop#1".into()))
        .update_expression("SET boost = :b")
        .expression_attribute_values(":b", AttributeValue::N("3".into()))
        .send()
        .await
        .expect("UpdateItem");
    ddb.delete_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("shop#1".into()))
        .send()
        .await
        .expect("DeleteItem");

    let got = wait_received(&target, 3).await;
    let types: Vec<&str> = got
        .iter()
        .map(|r| r.body["detail-type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "EcomIndexSettings.INSERT",
            "EcomIndexSettings.MODIFY",
            "EcomIndexSettings.REMOVE"
        ]
    );
    for r in &got {
        let e = &r.body;
        assert_eq!(r.path, "/settings");
        assert_eq!(e["source"], "marqo.dynamodb");
        assert_eq!(e["version"], "0");
        assert_eq!(e["account"], "123456789012");
        assert_eq!(e["region"], "us-east-1");
        assert_eq!(e["resources"], serde_json::json!([stream_arn]));
        let time = e["time"].as_str().unwrap();
        assert!(time.len() == 20 && time.ends_with('Z'), "{time}");
        assert_eq!(e["detail"]["eventSourceARN"], stream_arn.as_str());
        assert_eq!(e["detail"]["eventSource"], "aws:dynamodb");
        assert_eq!(
            e["detail"]["dynamodb"]["Keys"],
            serde_json::json!({"pk": {"S": "shop#1"}})
        );
        assert_eq!(
            e["detail"]["dynamodb"]["StreamViewType"],
            "NEW_AND_OLD_IMAGES"
        );
        assert!(e["detail"]["dynamodb"]["SequenceNumber"].is_string());
        assert!(e["detail"]["dynamodb"]["ApproximateCreationDateTime"].is_number());
    }
    let ins = &got[0].body["detail"]["dynamodb"];
    assert_eq!(ins["NewImage"]["boost"]["N"], "2");
    assert!(ins.get("OldImage").is_none());
    let modi = &got[1].body["detail"]["dynamodb"];
    assert_eq!(modi["OldImage"]["boost"]["N"], "2");
    assert_eq!(modi["NewImage"]["boost"]["N"], "3");
    let rem = &got[2].body["detail"]["dynamodb"];
    assert_eq!(rem["OldImage"]["boost"]["N"], "3");
    assert!(rem.get("NewImage").is_none());

    let ev = router.get_json("/events").await;
    let pipe_events: Vec<&Value> = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["via"] == "pipe")
        .collect();
    assert_eq!(pipe_events.len(), 3);
    assert_eq!(pipe_events[0]["detail_type"], "EcomIndexSettings.REMOVE");
    assert_eq!(pipe_events[0]["outcome"], "delivered");
    assert_eq!(pipe_events[0]["route"], "settings");
    let t = &ev["pipe"]["tables"][0];
    assert_eq!(t["table"], table.as_str());
    assert_eq!(t["status"], "following");
    assert_eq!(t["delivered"], 3);
    assert_eq!(t["stream_arn"], stream_arn.as_str());
    assert!(ev["pipe"]["lag_ms"].is_number());
    // /healthz republishes the pipe's counts every half second.
    let h = wait_for("pipe counts in /healthz", || {
        let r = &router;
        async move {
            let h = r.get_json("/healthz").await;
            (h["checks"]["pipe"]["detail"]["delivered"] == 3).then_some(h)
        }
    })
    .await;
    assert_eq!(h["checks"]["pipe"]["ok"], true, "{h}");

    // Nothing is delivered twice while the pipe keeps polling.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(target.received().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_restart_under_the_pipe_resumes_without_duplicates() {
    let mut moto = Moto::start().await;
    let target = Target::start(Mode::Record).await;
    let prefix = unique_prefix("restart");
    let table = format!("{prefix}MerchandisingTable");
    let ddb = aws_sdk_dynamodb::Client::new(&moto.sdk().await);
    crate::support::create_streamed_table(&ddb, &table).await;
    put(&ddb, &table, "before", "1").await;
    let router = RouterProc::start(&pipe_args(&moto, &prefix, &target)).await;
    let got = wait_received(&target, 1).await;
    assert_eq!(got[0].body["detail-type"], "Merchandising.INSERT");
    assert_eq!(got[0].path, "/merch");

    moto.restart().await;
    // Same port, empty moto: re-create the table (a new stream ARN; sequence numbers restart).
    crate::support::create_streamed_table(&ddb, &table).await;
    put(&ddb, &table, "after", "2").await;
    put(&ddb, &table, "after", "3").await;
    let got = wait_received(&target, 3).await;
    // Give the pipe time to (wrongly) deliver anything twice.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let got_after = target.received();
    assert_eq!(got_after.len(), 3, "{got_after:?}");
    let keys: Vec<(&str, &str)> = got
        .iter()
        .map(|r| {
            (
                r.body["detail"]["dynamodb"]["Keys"]["pk"]["S"]
                    .as_str()
                    .unwrap(),
                r.body["detail-type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("before", "Merchandising.INSERT"),
            ("after", "Merchandising.INSERT"),
            ("after", "Merchandising.MODIFY")
        ]
    );
    assert_ne!(
        got[0].body["detail"]["eventSourceARN"], got[1].body["detail"]["eventSourceARN"],
        "a restarted moto gives a new stream ARN"
    );
    let ev = router.get_json("/events").await;
    let t = ev["pipe"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == table.as_str())
        .cloned()
        .unwrap();
    assert_eq!(t["delivered"], 3);
    assert!(t["streams_seen"].as_u64().unwrap() >= 2, "{t}");
}
