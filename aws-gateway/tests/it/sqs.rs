//! SQS → Lambda event source mappings created with the official API: a message reaches the
//! function once and is deleted; `ReportBatchItemFailures` keeps only the failed ones, which
//! moto's RedrivePolicy moves to the DLQ after `maxReceiveCount`.

use aws_sdk_lambda::types::FunctionResponseType;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};

use crate::support::{Stack, wait_for};

/// Every record body the fixture received, in order.
async fn bodies(stack: &Stack) -> Vec<String> {
    stack
        .fixture
        .received()
        .await
        .iter()
        .flat_map(|e| e["Records"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r["body"].as_str().map(str::to_owned))
        .collect()
}

async fn queue_is_empty(stack: &Stack, url: &str) -> bool {
    let attrs = stack
        .sqs()
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .expect("GetQueueAttributes");
    let get = |k: QueueAttributeName| {
        attrs
            .attributes()
            .and_then(|a| a.get(&k))
            .map(String::as_str)
            == Some("0")
    };
    get(QueueAttributeName::ApproximateNumberOfMessages)
        && get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_reaches_the_lambda_once_and_is_deleted() {
    let Some(stack) = Stack::start("consumer", &[]).await else {
        return;
    };
    stack.create_function("consumer").await;
    let (url, arn) = stack.create_queue("jobs", &[]).await;
    let mapping = stack
        .lambda()
        .create_event_source_mapping()
        .function_name("consumer")
        .event_source_arn(&arn)
        .batch_size(5)
        .send()
        .await
        .expect("CreateEventSourceMapping");
    assert_eq!(mapping.state(), Some("Enabled"));
    let uuid = mapping.uuid().unwrap().to_owned();
    let got = stack
        .lambda()
        .get_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.state(),
        Some("Enabled"),
        "callers see the state they asked for"
    );
    stack
        .sqs()
        .send_message()
        .queue_url(&url)
        .message_body("hello")
        .send()
        .await
        .unwrap();
    wait_for("the message to reach the lambda", || async {
        (bodies(&stack).await == ["hello"]).then_some(())
    })
    .await;
    wait_for("the message to be deleted", || async {
        queue_is_empty(&stack, &url).await.then_some(())
    })
    .await;
    let event = &stack.fixture.received().await[0]["Records"][0];
    assert_eq!(event["eventSource"], "aws:sqs");
    assert_eq!(event["eventSourceARN"], json!(arn));
    assert_eq!(event["awsRegion"], "us-east-1");
    assert_eq!(event["attributes"]["ApproximateReceiveCount"], "1");
    assert!(event["messageId"].is_string() && event["receiptHandle"].is_string());
    assert!(event["md5OfBody"].is_string());
    // Give a second delivery the chance to happen: it must not.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(bodies(&stack).await, ["hello"]);
    let status = stack.gateway.lambdas().await;
    let m: &Value = &status["event_source_mappings"][0];
    assert_eq!(m["key"], json!(uuid));
    assert_eq!(m["state"], "polling");
    assert_eq!(m["messages_deleted"], 1);
    assert_eq!(
        status["functions"][0]["recent"][0]["invocation_type"],
        "Sqs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_item_failures_stay_and_go_to_the_dlq_after_max_receive_count() {
    let Some(stack) = Stack::start("consumer", &[]).await else {
        return;
    };
    stack.create_function("consumer").await;
    let (dlq_url, dlq_arn) = stack.create_queue("jobs-dlq", &[]).await;
    let redrive = json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}).to_string();
    let (url, arn) = stack
        .create_queue(
            "jobs",
            &[
                ("VisibilityTimeout", "1".into()),
                ("RedrivePolicy", redrive),
            ],
        )
        .await;
    stack
        .lambda()
        .create_event_source_mapping()
        .function_name("consumer")
        .event_source_arn(&arn)
        .batch_size(10)
        .function_response_types(FunctionResponseType::ReportBatchItemFailures)
        .send()
        .await
        .expect("CreateEventSourceMapping");
    let sqs = stack.sqs();
    sqs.send_message()
        .queue_url(&url)
        .message_body("ok-1")
        .send()
        .await
        .unwrap();
    sqs.send_message()
        .queue_url(&url)
        .message_body("fail-1")
        .send()
        .await
        .unwrap();
    let in_dlq = wait_for("the failed message in the DLQ", || async {
        let b = stack.receive_bodies(&dlq_url).await;
        (!b.is_empty()).then_some(b)
    })
    .await;
    assert_eq!(in_dlq, ["fail-1"]);
    wait_for("the source queue to drain", || async {
        queue_is_empty(&stack, &url).await.then_some(())
    })
    .await;
    let seen = bodies(&stack).await;
    assert_eq!(seen.iter().filter(|b| *b == "ok-1").count(), 1, "{seen:?}");
    assert_eq!(
        seen.iter().filter(|b| *b == "fail-1").count(),
        2,
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_mapping_is_not_polled_and_moto_never_dispatches_itself() {
    let Some(stack) = Stack::start("consumer", &[]).await else {
        return;
    };
    stack.create_function("consumer").await;
    let (url, arn) = stack.create_queue("jobs", &[]).await;
    let uuid = stack
        .lambda()
        .create_event_source_mapping()
        .function_name("consumer")
        .event_source_arn(&arn)
        .enabled(false)
        .send()
        .await
        .expect("CreateEventSourceMapping")
        .uuid()
        .unwrap()
        .to_owned();
    let listed = stack
        .lambda()
        .list_event_source_mappings()
        .send()
        .await
        .unwrap();
    assert_eq!(listed.event_source_mappings()[0].state(), Some("Disabled"));
    stack
        .sqs()
        .send_message()
        .queue_url(&url)
        .message_body("waits")
        .send()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(
        bodies(&stack).await.is_empty(),
        "a disabled mapping is not polled"
    );
    // moto's own dispatch did not touch the message either: it was never received.
    let attrs = stack
        .sqs()
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attrs.attributes().unwrap()[&QueueAttributeName::ApproximateNumberOfMessages],
        "1"
    );
    let updated = stack
        .lambda()
        .update_event_source_mapping()
        .uuid(&uuid)
        .enabled(true)
        .send()
        .await
        .expect("UpdateEventSourceMapping");
    assert_eq!(updated.state(), Some("Enabled"));
    wait_for("the message after enabling", || async {
        (bodies(&stack).await == ["waits"]).then_some(())
    })
    .await;
    stack
        .lambda()
        .delete_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .expect("Delete");
    wait_for("the poller to stop", || async {
        stack.gateway.lambdas().await["event_source_mappings"]
            .as_array()
            .is_some_and(|a| a.is_empty())
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_given_on_the_command_line_is_polled() {
    let Some(moto) = test_support::Moto::start().await else {
        return;
    };
    // The queue must exist before the poller needs it; the ARN is known in advance.
    let arn = "arn:aws:sqs:us-east-1:123456789012:from-flags";
    let fixture = crate::support::Fixture::start().await;
    let gateway = crate::support::Gateway::start(&[
        "--moto-url".into(),
        moto.url.clone(),
        "--lambda".into(),
        format!("consumer={}", fixture.url),
        "--sqs-mapping".into(),
        format!("consumer={arn},1"),
    ])
    .await;
    let sqs = aws_sdk_sqs::Client::new(&crate::support::sdk(&gateway.url).await);
    let url = sqs
        .create_queue()
        .queue_name("from-flags")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    sqs.send_message()
        .queue_url(&url)
        .message_body("a")
        .send()
        .await
        .unwrap();
    sqs.send_message()
        .queue_url(&url)
        .message_body("b")
        .send()
        .await
        .unwrap();
    let events = wait_for("both messages, one per batch", || async {
        let r = fixture.received().await;
        (r.len() == 2).then_some(r)
    })
    .await;
    assert!(
        events
            .iter()
            .all(|e| e["Records"].as_array().map(Vec::len) == Some(1)),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pollers_hold_still_while_a_restore_holds_the_gate() {
    let Some(stack) = Stack::start("consumer", &[]).await else {
        return;
    };
    stack.create_function("consumer").await;
    let (url, arn) = stack.create_queue("jobs", &[]).await;
    stack
        .lambda()
        .create_event_source_mapping()
        .function_name("consumer")
        .event_source_arn(&arn)
        .send()
        .await
        .expect("CreateEventSourceMapping");
    let gate = format!("{}/_fake/restore-gate", stack.gateway.url);
    let closed = crate::support::client()
        .post(&gate)
        .json(&json!({"lease_ms": 30000}))
        .send()
        .await
        .expect("close the gate");
    assert_eq!(closed.status(), 200);
    // Straight to moto, as the restore's own calls go: the gateway would hold this one too.
    let moto = aws_sdk_sqs::Client::new(&crate::support::sdk(&stack._moto.url).await);
    moto.send_message()
        .queue_url(&url)
        .message_body("during")
        .send()
        .await
        .unwrap();
    // Longer than a long poll (1 s) and a mapping refresh (1 s): a poller would have taken it.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert!(
        bodies(&stack).await.is_empty(),
        "a poller ran during the restore"
    );
    crate::support::client()
        .delete(&gate)
        .send()
        .await
        .expect("open the gate");
    wait_for(
        "the message to reach the lambda after the restore",
        || async { (bodies(&stack).await == ["during"]).then_some(()) },
    )
    .await;
}
