//! A function's `DeadLetterConfig` (which moto drops; the gateway keeps it): shown by the Lambda
//! API as AWS shows it, and a failed `Event` invocation's original event delivered there with
//! AWS's `RequestID`/`ErrorCode`/`ErrorMessage` attributes, beside any on-failure destination.

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::update_function_configuration::{
    UpdateFunctionConfigurationError, UpdateFunctionConfigurationOutput,
};
use aws_sdk_lambda::types::DeadLetterConfig;
use aws_sdk_sqs::types::Message;
use serde_json::{Value, json};

use crate::support::{Stack, wait_for};

fn dlq(arn: &str) -> DeadLetterConfig {
    DeadLetterConfig::builder().target_arn(arn).build()
}

/// UpdateFunctionConfiguration of `name`'s `DeadLetterConfig` only.
async fn set_dlq(
    stack: &Stack,
    name: &str,
    config: DeadLetterConfig,
) -> Result<UpdateFunctionConfigurationOutput, SdkError<UpdateFunctionConfigurationError>> {
    stack
        .lambda()
        .update_function_configuration()
        .function_name(name)
        .dead_letter_config(config)
        .send()
        .await
}

/// The target ARN GetFunctionConfiguration shows for `name`.
async fn shown_target(stack: &Stack, name: &str) -> Option<String> {
    let config = stack
        .lambda()
        .get_function_configuration()
        .function_name(name)
        .send()
        .await
        .expect("GetFunctionConfiguration");
    config
        .dead_letter_config()
        .and_then(|d| d.target_arn())
        .map(str::to_owned)
}

async fn wait_for_messages(stack: &Stack, url: &str, what: &str) -> Vec<Message> {
    wait_for(what, || async {
        let m = stack.receive(url).await;
        (!m.is_empty()).then_some(m)
    })
    .await
}

fn attribute(m: &Message, name: &str) -> (String, String) {
    let a = m
        .message_attributes()
        .and_then(|a| a.get(name))
        .unwrap_or_else(|| panic!("no {name} attribute on {m:?}"));
    (
        a.data_type().to_owned(),
        a.string_value().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lambda_api_shows_a_dead_letter_config_as_aws_does() {
    let Some(stack) = Stack::start("worker", &[]).await else {
        return;
    };
    let (_, queue_arn) = stack.create_queue("dlq", &[]).await;
    let created = stack
        .create_function_with("worker", |b| b.dead_letter_config(dlq(&queue_arn)))
        .await
        .expect("CreateFunction with a DeadLetterConfig");
    let target = created.dead_letter_config().and_then(|d| d.target_arn());
    assert_eq!(target, Some(queue_arn.as_str()));
    assert_eq!(
        shown_target(&stack, "worker").await,
        Some(queue_arn.clone())
    );
    let function = stack
        .lambda()
        .get_function()
        .function_name("arn:aws:lambda:us-east-1:123456789012:function:worker")
        .send()
        .await
        .expect("GetFunction by ARN");
    let target = function
        .configuration()
        .and_then(|c| c.dead_letter_config())
        .and_then(|d| d.target_arn());
    assert_eq!(target, Some(queue_arn.as_str()));
    let listed = stack
        .lambda()
        .list_functions()
        .send()
        .await
        .expect("ListFunctions");
    let target = listed.functions()[0]
        .dead_letter_config()
        .and_then(|d| d.target_arn());
    assert_eq!(target, Some(queue_arn.as_str()));
    let status = stack.gateway.lambdas().await;
    assert_eq!(
        status["functions"][0]["dead_letter_target"],
        json!(queue_arn)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_config_is_changed_kept_removed_and_checked() {
    let Some(stack) = Stack::start("worker", &[]).await else {
        return;
    };
    stack.create_function("worker").await;
    assert_eq!(shown_target(&stack, "worker").await, None);
    let topic = "arn:aws:sns:us-east-1:123456789012:failures";
    let updated = set_dlq(&stack, "worker", dlq(topic))
        .await
        .expect("UpdateFunctionConfiguration");
    let target = updated.dead_letter_config().and_then(|d| d.target_arn());
    assert_eq!(target, Some(topic));
    // An update that does not mention it keeps it.
    stack
        .lambda()
        .update_function_configuration()
        .function_name("worker")
        .timeout(10)
        .send()
        .await
        .expect("UpdateFunctionConfiguration (timeout)");
    assert_eq!(shown_target(&stack, "worker").await.as_deref(), Some(topic));
    // Not an SQS queue or SNS topic: AWS's 400, and the old one stays.
    let err = set_dlq(&stack, "worker", dlq("arn:aws:s3:::a-bucket"))
        .await
        .expect_err("an S3 bucket is no dead-letter queue");
    assert_eq!(err.code(), Some("InvalidParameterValueException"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
    assert_eq!(shown_target(&stack, "worker").await.as_deref(), Some(topic));
    // `DeadLetterConfig: {}` removes it.
    set_dlq(&stack, "worker", DeadLetterConfig::builder().build())
        .await
        .expect("UpdateFunctionConfiguration (remove the DLQ)");
    assert_eq!(shown_target(&stack, "worker").await, None);
    // A deleted function's DLQ does not come back with a new function of the same name.
    set_dlq(&stack, "worker", dlq(topic))
        .await
        .expect("UpdateFunctionConfiguration");
    stack
        .lambda()
        .delete_function()
        .function_name("worker")
        .send()
        .await
        .expect("DeleteFunction");
    stack
        .create_function_with("worker", |b| b)
        .await
        .expect("CreateFunction again");
    assert_eq!(shown_target(&stack, "worker").await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_event_reaches_the_dead_letter_queue_unchanged_with_aws_attributes() {
    let Some(stack) = Stack::start("worker", &[]).await else {
        return;
    };
    let (dlq_url, dlq_arn) = stack.create_queue("dlq", &[]).await;
    stack
        .create_function_with("worker", |b| b.dead_letter_config(dlq(&dlq_arn)))
        .await
        .expect("CreateFunction");
    // Odd spacing: the DLQ gets the event byte for byte, not a re-serialised copy.
    let payload = r#"{"action": "fail",  "order":"o-7"}"#;
    let out = stack.invoke_event("worker", payload).await;
    let request_id = aws_sdk_lambda::operation::RequestId::request_id(&out)
        .expect("x-amzn-RequestId")
        .to_owned();
    let messages = wait_for_messages(&stack, &dlq_url, "the dead-letter message").await;
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.body(), Some(payload));
    assert_eq!(
        attribute(m, "RequestID"),
        ("String".into(), request_id.clone())
    );
    assert_eq!(attribute(m, "ErrorCode"), ("Number".into(), "200".into()));
    assert_eq!(
        attribute(m, "ErrorMessage"),
        ("String".into(), "fixture was told to fail".into())
    );
    // The first try and AWS's two retries came first.
    assert_eq!(stack.fixture.received().await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_goes_to_both_the_dead_letter_topic_and_the_on_failure_destination() {
    let Some(stack) = Stack::start("worker", &[]).await else {
        return;
    };
    stack.create_function("worker").await;
    let (topic_arn, inbox_url) = stack.topic_with_inbox("dead-letters").await;
    let (failures_url, failures_arn) = stack.create_queue("failures", &[]).await;
    set_dlq(&stack, "worker", dlq(&topic_arn))
        .await
        .expect("UpdateFunctionConfiguration");
    stack.on_failure("worker", &failures_arn, Some(0)).await;
    stack
        .invoke_event("worker", r#"{"action":"fail","n":3}"#)
        .await;
    let dead = wait_for_messages(&stack, &inbox_url, "the event through the DLQ topic").await;
    assert_eq!(dead[0].body(), Some(r#"{"action":"fail","n":3}"#));
    assert_eq!(attribute(&dead[0], "ErrorCode").1, "200");
    let records = wait_for_messages(&stack, &failures_url, "the on-failure record").await;
    let record: Value =
        serde_json::from_str(records[0].body().unwrap_or_default()).expect("record is JSON");
    assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(record["requestPayload"], json!({"action": "fail", "n": 3}));
    assert_eq!(stack.fixture.received().await.len(), 1);
}
