//! Where an `Event` invocation goes after its last try, as configured with the official Lambda
//! API: `PutFunctionEventInvokeConfig` on moto (`MaximumRetryAttempts`,
//! `DestinationConfig.OnSuccess/OnFailure`) and the function's `DeadLetterConfig` (which moto
//! drops, so the gateway keeps it: [`crate::dead_letter`]). Destinations get AWS's invocation
//! record; a dead-letter queue gets the original event unchanged with AWS's `RequestID`,
//! `ErrorCode` and `ErrorMessage` attributes. A failure with both configured goes to both, as in
//! AWS. SQS, SNS and Lambda targets are delivered; others (EventBridge, S3) are logged as not
//! available locally.

use std::collections::HashMap;

use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_smithy_types::error::operation::BuildError;
use serde_json::{Value, json};

use crate::AppState;
use crate::async_invoke::EventJob;
use crate::moto;
use aws_local::sdk_error_text;
use lambda_invoke::InvokeOutcome;

/// AWS's default: two retries.
const DEFAULT_MAX_RETRIES: u32 = 2;

/// The function's asynchronous-invocation settings as moto holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncConfig {
    pub max_retries: u32,
    pub on_success: Option<String>,
    pub on_failure: Option<String>,
}

impl Default for AsyncConfig {
    fn default() -> Self {
        AsyncConfig {
            max_retries: DEFAULT_MAX_RETRIES,
            on_success: None,
            on_failure: None,
        }
    }
}

/// Read the function's event invoke config from moto; none (or moto down) means AWS's defaults.
pub async fn async_config(state: &AppState, job: &EventJob) -> AsyncConfig {
    let mut req = state
        .moto()
        .lambda
        .get_function_event_invoke_config()
        .function_name(&job.target.name);
    if let Some(q) = &job.qualifier {
        req = req.qualifier(q);
    }
    match req.send().await {
        Ok(out) => {
            let dest = out.destination_config();
            AsyncConfig {
                max_retries: out
                    .maximum_retry_attempts()
                    .map(|n| n.clamp(0, 2) as u32)
                    .unwrap_or(DEFAULT_MAX_RETRIES),
                on_success: dest
                    .and_then(|d| d.on_success())
                    .and_then(|d| d.destination())
                    .map(str::to_owned),
                on_failure: dest
                    .and_then(|d| d.on_failure())
                    .and_then(|d| d.destination())
                    .map(str::to_owned),
            }
        }
        Err(e) => {
            if e.code() != Some("ResourceNotFoundException") {
                tracing::debug!(function = %job.target.name, error = %sdk_error_text(&e), "no event invoke config from moto");
            }
            AsyncConfig::default()
        }
    }
}

/// After the last try: the success or failure destination, and on failure the DLQ.
pub async fn after_event(
    state: &AppState,
    job: &EventJob,
    config: &AsyncConfig,
    outcome: &InvokeOutcome,
    attempts: u32,
) {
    let success = outcome.is_success();
    let destination = if success {
        &config.on_success
    } else {
        &config.on_failure
    };
    if let Some(arn) = destination {
        let record = invocation_record(state, job, outcome, attempts).to_string();
        deliver(state, job, arn, record, None).await;
    }
    if success {
        return;
    }
    tracing::warn!(
        function = %job.target.name,
        request_id = %job.request_id,
        attempts,
        error = outcome.error_summary().unwrap_or_default(),
        "Event invocation failed after its last retry"
    );
    if let Some(dlq) = state.dead_letters().target(&job.target.name) {
        let body = String::from_utf8_lossy(&job.payload).into_owned();
        let attributes = dead_letter_attributes(job, outcome);
        deliver(state, job, &dlq, body, Some(&attributes)).await;
    }
}

/// AWS's destination record (version 1.0).
pub fn invocation_record(
    state: &AppState,
    job: &EventJob,
    outcome: &InvokeOutcome,
    attempts: u32,
) -> Value {
    let as_json = |b: &[u8]| {
        serde_json::from_slice::<Value>(b)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(b).into_owned()))
    };
    let executed = job
        .qualifier
        .as_deref()
        .filter(|q| q.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or("$LATEST");
    let function_arn = state.table().arn(&job.target.name, Some(executed));
    let condition = if outcome.is_success() {
        "Success"
    } else {
        "RetriesExhausted"
    };
    let mut response = json!({ "statusCode": 200, "executedVersion": executed });
    if let Some(fe) = outcome.function_error() {
        response["functionError"] = json!(fe);
    }
    if matches!(outcome, InvokeOutcome::Unreachable { .. }) {
        response = json!({ "statusCode": 502, "executedVersion": executed });
    }
    let mut record = json!({
        "version": "1.0",
        "timestamp": now_iso(),
        "requestContext": {
            "requestId": job.request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": as_json(&job.payload),
        "responseContext": response,
    });
    match outcome {
        InvokeOutcome::Unreachable { message } => {
            record["responsePayload"] =
                json!({ "errorMessage": message, "errorType": "ResourceNotReadyException" });
        }
        other => {
            if let Some(p) = other.payload().filter(|p| !p.is_empty()) {
                record["responsePayload"] = as_json(p);
            }
        }
    }
    record
}

fn now_iso() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default()
}

/// Send `body` to `arn`, with message attributes when it is a dead-letter message.
async fn deliver(
    state: &AppState,
    job: &EventJob,
    arn: &str,
    body: String,
    attributes: Option<&[Attribute]>,
) {
    let service = arn.split(':').nth(2).unwrap_or_default();
    let result = match service {
        "sqs" => send_sqs(state, arn, body, attributes).await,
        "sns" => publish_sns(state, arn, body, attributes).await,
        "lambda" => invoke_lambda(state, arn, body),
        other => Err(format!("{other} destinations are not available locally")),
    };
    match result {
        Ok(()) => {
            tracing::info!(function = %job.target.name, request_id = %job.request_id, destination = %arn, "delivered")
        }
        Err(e) => {
            tracing::warn!(function = %job.target.name, request_id = %job.request_id, destination = %arn, error = %e, "could not deliver")
        }
    }
}

async fn send_sqs(
    state: &AppState,
    arn: &str,
    body: String,
    attributes: Option<&[Attribute]>,
) -> Result<(), String> {
    let sqs = &state.moto().sqs;
    let url = moto::queue_url(sqs, arn).await?;
    let attributes = typed(attributes, |data_type, value| {
        aws_sdk_sqs::types::MessageAttributeValue::builder()
            .data_type(data_type)
            .string_value(value)
            .build()
    })?;
    sqs.send_message()
        .queue_url(url)
        .message_body(body)
        .set_message_attributes(attributes)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error_text(&e))
}

async fn publish_sns(
    state: &AppState,
    arn: &str,
    body: String,
    attributes: Option<&[Attribute]>,
) -> Result<(), String> {
    let attributes = typed(attributes, |data_type, value| {
        aws_sdk_sns::types::MessageAttributeValue::builder()
            .data_type(data_type)
            .string_value(value)
            .build()
    })?;
    state
        .moto()
        .sns
        .publish()
        .topic_arn(arn)
        .message(body)
        .set_message_attributes(attributes)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error_text(&e))
}

/// The attributes as one service's own attribute type (SQS and SNS each have theirs).
fn typed<T>(
    attributes: Option<&[Attribute]>,
    build: impl Fn(&str, &str) -> Result<T, BuildError>,
) -> Result<Option<HashMap<String, T>>, String> {
    attributes
        .map(|list| {
            list.iter()
                .map(|a| Ok((a.name.to_owned(), build(a.data_type, &a.value)?)))
                .collect::<Result<HashMap<_, _>, BuildError>>()
        })
        .transpose()
        .map_err(|e| e.to_string())
}

/// A Lambda destination: an `Event` invocation of that function, through the same queue.
fn invoke_lambda(state: &AppState, arn: &str, body: String) -> Result<(), String> {
    let resolved = state
        .table()
        .resolve(arn, None)
        .map_err(|e| e.to_string())?;
    state
        .events()
        .enqueue(
            state,
            EventJob {
                target: resolved.target,
                qualifier: resolved.qualifier,
                payload: body.into(),
                request_id: uuid::Uuid::new_v4().to_string(),
            },
        )
        .map_err(|e| e.to_string())
}

/// One message attribute, in the shape both SQS and SNS take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: &'static str,
    pub data_type: &'static str,
    pub value: String,
}

/// AWS's longest `ErrorMessage` on a dead-letter message ("truncated to 1 KB").
const ERROR_MESSAGE_LIMIT: usize = 1024;

/// What AWS attaches to a dead-letter message: the invocation's request id, the HTTP status of
/// the last try (200: the function ran and failed; 502 here when its process was not there) and
/// the error's own message (the error object's `errorMessage`), cut to 1 KB.
pub fn dead_letter_attributes(job: &EventJob, outcome: &InvokeOutcome) -> [Attribute; 3] {
    let code = match outcome {
        InvokeOutcome::Unreachable { .. } => "502",
        _ => "200",
    };
    let mut message = outcome.error_message().unwrap_or_default();
    if message.len() > ERROR_MESSAGE_LIMIT {
        let mut end = ERROR_MESSAGE_LIMIT;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
    }
    [
        Attribute {
            name: "RequestID",
            data_type: "String",
            value: job.request_id.clone(),
        },
        Attribute {
            name: "ErrorCode",
            data_type: "Number",
            value: code.to_owned(),
        },
        Attribute {
            name: "ErrorMessage",
            data_type: "String",
            value: message,
        },
    ]
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use bytes::Bytes;
    use lambda_invoke::LambdaTarget;

    use super::*;

    fn job() -> EventJob {
        EventJob {
            target: Arc::new(
                LambdaTarget::new("worker", "http://127.0.0.1:1", Duration::from_secs(3)).unwrap(),
            ),
            qualifier: None,
            payload: Bytes::from_static(b"{}"),
            request_id: "req-1".into(),
        }
    }

    #[test]
    fn dead_letter_attributes_are_aws_shaped() {
        let failed = InvokeOutcome::HandlerError {
            payload: Bytes::from_static(br#"{"errorMessage":"boom","errorType":"ValueError"}"#),
            error_type: "ValueError".into(),
        };
        let [id, code, message] = dead_letter_attributes(&job(), &failed);
        assert_eq!(
            (id.name, id.data_type, id.value.as_str()),
            ("RequestID", "String", "req-1")
        );
        assert_eq!(
            (code.name, code.data_type, code.value.as_str()),
            ("ErrorCode", "Number", "200")
        );
        assert_eq!(
            (message.name, message.value.as_str()),
            ("ErrorMessage", "boom")
        );
        let down = InvokeOutcome::Unreachable {
            message: "é".repeat(700),
        };
        let [_, code, message] = dead_letter_attributes(&job(), &down);
        assert_eq!(code.value, "502");
        assert_eq!(
            message.value.len(),
            1024,
            "cut to 1 KB on a character boundary"
        );
    }
}
