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
