//! `Event` invocations: 202 at once, run in the background, retried twice, then the failure
//! record goes to the function's on-failure destination configured on moto.

use serde_json::{Value, json};

use crate::support::{Stack, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_invoke_is_accepted_then_runs() {
    let Some(stack) = Stack::start("worker", &[]).await else {
        return;
    };
    stack.invoke_event("worker", r#"{"job":7}"#).await;
    let got = wait_for("the event to reach the process", || async {
        let r = stack.fixture.received().await;
        (!r.is_empty()).then_some(r)
    })
    .await;
    assert_eq!(got, vec![json!({"job": 7})]);
    let status = stack.gateway.lambdas().await;
    assert_eq!(
        status["functions"][0]["recent"][0]["invocation_type"],
        "Event"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_event_is_retried_twice_then_sent_to_the_on_failure_queue() {
    let Some(stack) = Stack::start("worker", &[]).await else {
        return;
    };
    stack.create_function("worker").await;
    let (failures_url, failures_arn) = stack.create_queue("failures", &[]).await;
    stack.on_failure("worker", &failures_arn, None).await;
    stack
        .invoke_event("worker", r#"{"action":"fail","order":"o-1"}"#)
        .await;
    let bodies = wait_for("the failure record", || async {
        let b = stack.receive_bodies(&failures_url).await;
        (!b.is_empty()).then_some(b)
    })
    .await;
    let record: Value = serde_json::from_str(&bodies[0]).expect("record is JSON");
    assert_eq!(record["version"], "1.0");
    assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
    assert_eq!(
        record["requestContext"]["functionArn"],
        "arn:aws:lambda:us-east-1:123456789012:function:worker:$LATEST"
    );
    assert_eq!(
        record["requestPayload"],
        json!({"action": "fail", "order": "o-1"})
    );
    assert_eq!(record["responseContext"]["functionError"], "Unhandled");
    assert_eq!(record["responsePayload"]["errorType"], "ValueError");
    // One first try and two retries.
    assert_eq!(stack.fixture.received().await.len(), 3);
    let status = stack.gateway.lambdas().await;
    let attempts: Vec<u64> = status["functions"][0]["recent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, [3, 2, 1]);
}

/// An SNS on-failure destination with an SQS subscriber exercises the other delivery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_retry_attempts_zero_and_an_sns_on_failure_destination() {
    let Some(stack) = Stack::start("worker", &[]).await else {
        return;
    };
    stack.create_function("worker").await;
    let (topic_arn, inbox_url) = stack.topic_with_inbox("failures").await;
    stack.on_failure("worker", &topic_arn, Some(0)).await;
    stack
        .invoke_event("worker", r#"{"action":"fail","n":2}"#)
        .await;
    let bodies = wait_for("the failure record through SNS", || async {
        let b = stack.receive_bodies(&inbox_url).await;
        (!b.is_empty()).then_some(b)
    })
    .await;
    let record: Value = serde_json::from_str(&bodies[0]).expect("record is JSON");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 1);
    assert_eq!(record["requestPayload"], json!({"action": "fail", "n": 2}));
    // MaximumRetryAttempts 0: one try only.
    assert_eq!(stack.fixture.received().await.len(), 1);
}
