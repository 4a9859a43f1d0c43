//! Where an `Event` invocation goes after its last try, as configured on moto with the
//! official Lambda API: `PutFunctionEventInvokeConfig` (`MaximumRetryAttempts`,
//! `DestinationConfig.OnSuccess/OnFailure`) and the function's `DeadLetterConfig`. Destinations
//! get AWS's invocation record; a dead-letter queue gets the original event with AWS's
//! `RequestID`/`ErrorCode`/`ErrorMessage` attributes. SQS, SNS and Lambda targets are delivered;
//! others (EventBridge, S3) are logged as not available locally. (moto 5.2.5 does not keep a
//! function's `DeadLetterConfig`, so today only destinations fire; the DLQ read is ready for a
//! moto that keeps it.)

use aws_sdk_lambda::error::ProvideErrorMetadata;
use serde_json::{Value, json};

use crate::AppState;
use crate::async_invoke::EventJob;
use crate::moto::{self, sdk_error_text};
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
    if let Some(dlq) = dead_letter_target(state, job).await {
        let body = String::from_utf8_lossy(&job.payload).into_owned();
        let message = outcome.error_summary().unwrap_or_default();
        deliver(state, job, &dlq, body, Some(message)).await;
    }
}

/// The function's `DeadLetterConfig.TargetArn` on moto, if any.
async fn dead_letter_target(state: &AppState, job: &EventJob) -> Option<String> {
    let out = state
        .moto()
        .lambda
        .get_function_configuration()
        .function_name(&job.target.name)
        .send()
        .await
        .ok()?;
    out.dead_letter_config()?.target_arn().map(str::to_owned)
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

/// Send `body` to `arn`. `dlq_error` set: a dead-letter message (attributes as AWS adds them).
async fn deliver(
    state: &AppState,
    job: &EventJob,
    arn: &str,
    body: String,
    dlq_error: Option<String>,
) {
    let service = arn.split(':').nth(2).unwrap_or_default();
    let result = match service {
        "sqs" => send_sqs(state, job, arn, body, dlq_error).await,
        "sns" => publish_sns(state, job, arn, body, dlq_error).await,
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
    job: &EventJob,
    arn: &str,
    body: String,
    dlq_error: Option<String>,
) -> Result<(), String> {
    let sqs = &state.moto().sqs;
    let url = moto::queue_url(sqs, arn).await?;
    let mut req = sqs.send_message().queue_url(url).message_body(body);
    if let Some(message) = dlq_error {
        for (name, data_type, value) in dlq_attributes(job, &message) {
            let attr = aws_sdk_sqs::types::MessageAttributeValue::builder()
                .data_type(data_type)
                .string_value(value)
                .build()
                .map_err(|e| e.to_string())?;
            req = req.message_attributes(name, attr);
        }
    }
    req.send().await.map(|_| ()).map_err(|e| sdk_error_text(&e))
}

async fn publish_sns(
    state: &AppState,
    job: &EventJob,
    arn: &str,
    body: String,
    dlq_error: Option<String>,
) -> Result<(), String> {
    let mut req = state.moto().sns.publish().topic_arn(arn).message(body);
    if let Some(message) = dlq_error {
        for (name, data_type, value) in dlq_attributes(job, &message) {
            let attr = aws_sdk_sns::types::MessageAttributeValue::builder()
                .data_type(data_type)
                .string_value(value)
                .build()
                .map_err(|e| e.to_string())?;
            req = req.message_attributes(name, attr);
        }
    }
    req.send().await.map(|_| ()).map_err(|e| sdk_error_text(&e))
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

/// What AWS attaches to a dead-letter message.
fn dlq_attributes(job: &EventJob, message: &str) -> [(&'static str, &'static str, String); 3] {
    [
        ("RequestID", "String", job.request_id.clone()),
        ("ErrorCode", "Number", "200".to_owned()),
        (
            "ErrorMessage",
            "String",
            message.chars().take(1024).collect(),
        ),
    ]
}
