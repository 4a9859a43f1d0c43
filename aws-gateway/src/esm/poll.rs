//! One mapping's poller: long-poll the queue on moto (ReceiveMessage, up to the batch size,
//! at most 10 per call as SQS allows), invoke the function with AWS's SQS event, and delete a
//! message only after a successful invoke. With `ReportBatchItemFailures` the function's
//! `{"batchItemFailures": [{"itemIdentifier": id}]}` keeps those messages; a malformed answer
//! keeps the whole batch, as in AWS. Kept messages become visible again after the queue's
//! visibility timeout, so moto's RedrivePolicy moves them to the DLQ after `maxReceiveCount`.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use base64::Engine as _;
use bytes::Bytes;
use lambda_invoke::{InvokeOutcome, LambdaTarget};
use serde_json::{Map, Value, json};

use super::Mapping;
use crate::AppState;
use crate::moto;
use crate::recent::{InvocationRecord, InvocationType};
use aws_local::sdk_error_text;

/// Pause after an error (moto down, queue gone), so a poller never spins.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

pub async fn poll(state: AppState, m: Mapping) {
    let Some(target) = state.table().get(&m.function).cloned() else {
        return;
    };
    let sqs = state.moto().sqs.clone();
    let mut queue_url: Option<String> = None;
    // A snapshot restore replaces moto's queues and mappings: this poller ends, and discovery
    // starts it again if the restored moto still has its mapping.
    let epoch = state.restore_gate().epoch();
    while !state.shutdown().is_triggered() {
        state.restore_gate().wait_open().await;
        if state.restore_gate().epoch() != epoch {
            return;
        }
        let url = match &queue_url {
            Some(u) => u.clone(),
            None => match moto::queue_url(&sqs, &m.queue_arn).await {
                Ok(u) => queue_url.insert(u).clone(),
                Err(e) => {
                    fail(&state, &m, e).await;
                    continue;
                }
            },
        };
        let received = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(m.batch_size.clamp(1, 10))
            .wait_time_seconds(state.config().sqs_wait_s)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                queue_url = None;
                fail(
                    &state,
                    &m,
                    format!("ReceiveMessage: {}", sdk_error_text(&e)),
                )
                .await;
                continue;
            }
        };
        // Received from the state a restore replaced: the restore put those messages back.
        if state.restore_gate().epoch() != epoch {
            return;
        }
        if messages.is_empty() {
            if state.config().sqs_wait_s == 0 {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            continue;
        }
        process_batch(&state, &m, &target, &url, &messages).await;
    }
}

async fn fail(state: &AppState, m: &Mapping, error: String) {
    tracing::debug!(mapping = %m.key, %error, "SQS poller");
    state.esm().update(&m.key, |s| {
        s.state = "error".into();
        s.last_error = Some(error);
    });
    tokio::time::sleep(ERROR_PAUSE).await;
}

async fn process_batch(
    state: &AppState,
    m: &Mapping,
    target: &LambdaTarget,
    queue_url: &str,
    messages: &[Message],
) {
    let region = m
        .queue_arn
        .split(':')
        .nth(3)
        .unwrap_or(state.table().region());
    let event = sqs_event(&m.queue_arn, region, messages);
    let request_id = uuid::Uuid::new_v4().to_string();
    let started_at = SystemTime::now();
    let started = Instant::now();
    let faulted = crate::faults::internal_invoke(state, target).await;
    let outcome = match faulted {
        Some(outcome) => outcome,
        None => {
            state
                .invoker()
                .invoke_with_id(
                    target,
                    Bytes::from(event.to_string()),
                    started + target.timeout,
                    &request_id,
                )
                .await
        }
    };
    state.recent().record(
        &target.name,
        InvocationRecord::new(
            &request_id,
            InvocationType::Sqs,
            started_at,
            started.elapsed(),
            &outcome,
            1,
        ),
    );
    let keep: Option<HashSet<String>> = match &outcome {
        InvokeOutcome::Success { payload } if m.report_batch_item_failures => {
            failed_items(payload, messages)
        }
        InvokeOutcome::Success { .. } => Some(HashSet::new()),
        _ => None,
    };
    let to_delete: Vec<&Message> = match &keep {
        Some(failed) => messages
            .iter()
            .filter(|msg| !msg.message_id().is_some_and(|id| failed.contains(id)))
            .collect(),
        None => Vec::new(),
    };
    let deleted = delete(state, queue_url, &to_delete).await;
    let batch_failed = keep.as_ref().is_none_or(|k| !k.is_empty());
    state.esm().update(&m.key, |s| {
        s.state = "polling".into();
        s.messages_received += messages.len() as u64;
        s.invocations += 1;
        s.messages_deleted += deleted as u64;
        if batch_failed {
            s.failed_batches += 1;
            s.last_error = outcome
                .error_summary()
                .or_else(|| Some("the function reported batch item failures".into()));
        }
    });
}

/// The ids the function reported as failed; `None` means the whole batch failed (AWS treats an
/// unparsable answer or an unknown/empty `itemIdentifier` that way). Empty set: all succeeded.
pub fn failed_items(payload: &[u8], messages: &[Message]) -> Option<HashSet<String>> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Some(HashSet::new());
    }
    let v: Value = serde_json::from_slice(payload).ok()?;
    let failures = match v.get("batchItemFailures") {
        None | Some(Value::Null) => return Some(HashSet::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return None,
    };
    let ids: HashSet<&str> = messages.iter().filter_map(|m| m.message_id()).collect();
    let mut failed = HashSet::new();
    for f in failures {
        let id = f.get("itemIdentifier")?.as_str()?;
        if id.is_empty() || !ids.contains(id) {
            return None;
        }
        failed.insert(id.to_owned());
    }
    Some(failed)
}

/// DeleteMessageBatch entries for received `messages` (at most 10 of them), ids by position.
pub fn delete_entries<'a>(
    messages: impl IntoIterator<Item = &'a Message>,
) -> Vec<DeleteMessageBatchRequestEntry> {
    messages
        .into_iter()
        .enumerate()
        .filter_map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(m.receipt_handle()?)
                .build()
                .ok()
        })
        .collect()
}

/// DeleteMessageBatch in chunks of 10; returns how many were deleted.
async fn delete(state: &AppState, queue_url: &str, messages: &[&Message]) -> usize {
    let mut deleted = 0;
    for chunk in messages.chunks(10) {
        let entries = delete_entries(chunk.iter().copied());
        if entries.is_empty() {
            continue;
        }
        match state
            .moto()
            .sqs
            .delete_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
        {
            Ok(out) => deleted += out.successful().len(),
            Err(e) => {
                tracing::warn!(queue = %queue_url, error = %sdk_error_text(&e), "DeleteMessageBatch failed; the messages will be delivered again")
            }
        }
    }
    deleted
}

/// AWS's SQS event: `{"Records": [{messageId, receiptHandle, body, attributes,
/// messageAttributes, md5OfBody, eventSource, eventSourceARN, awsRegion}]}`.
pub fn sqs_event(queue_arn: &str, region: &str, messages: &[Message]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            let attributes: Map<String, Value> = m
                .attributes()
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| (k.as_str().to_owned(), Value::String(v.clone())))
                        .collect()
                })
                .unwrap_or_default();
            let message_attributes: Map<String, Value> = m
                .message_attributes()
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| (k.clone(), attribute_json(v)))
                        .collect()
                })
                .unwrap_or_default();
            let mut r = json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body().unwrap_or_default(),
                "attributes": attributes,
                "messageAttributes": message_attributes,
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            });
            if let Some(md5) = m.md5_of_message_attributes() {
                r["md5OfMessageAttributes"] = json!(md5);
            }
            r
        })
        .collect();
    json!({ "Records": records })
}

fn attribute_json(v: &aws_sdk_sqs::types::MessageAttributeValue) -> Value {
    let b64 =
        |b: &aws_smithy_types::Blob| base64::engine::general_purpose::STANDARD.encode(b.as_ref());
    let mut o = json!({
        "stringListValues": v.string_list_values(),
        "binaryListValues": v.binary_list_values().iter().map(b64).collect::<Vec<_>>(),
        "dataType": v.data_type(),
    });
    if let Some(s) = v.string_value() {
        o["stringValue"] = json!(s);
    }
    if let Some(b) = v.binary_value() {
        o["binaryValue"] = json!(b64(b));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: &str) -> Message {
        Message::builder()
            .message_id(id)
            .receipt_handle(format!("rh-{id}"))
            .body("b")
            .build()
    }

    #[test]
    fn batch_item_failures_as_aws_reads_them() {
        let batch = [msg("a"), msg("b")];
        assert_eq!(failed_items(b"", &batch), Some(HashSet::new()));
        assert_eq!(failed_items(b"null", &batch), Some(HashSet::new()));
        assert_eq!(
            failed_items(br#"{"batchItemFailures":[]}"#, &batch),
            Some(HashSet::new())
        );
        let one =
            failed_items(br#"{"batchItemFailures":[{"itemIdentifier":"b"}]}"#, &batch).unwrap();
        assert!(one.contains("b") && one.len() == 1);
        assert_eq!(
            failed_items(
                br#"{"batchItemFailures":[{"itemIdentifier":"zz"}]}"#,
                &batch
            ),
            None
        );
        assert_eq!(
            failed_items(br#"{"batchItemFailures":[{"itemIdentifier":""}]}"#, &batch),
            None
        );
        assert_eq!(failed_items(b"not json", &batch), None);
    }

    #[test]
    fn event_shape() {
        let e = sqs_event(
            "arn:aws:sqs:us-east-1:123456789012:q",
            "us-east-1",
            &[msg("a")],
        );
        let r = &e["Records"][0];
        assert_eq!(r["messageId"], "a");
        assert_eq!(r["receiptHandle"], "rh-a");
        assert_eq!(r["eventSource"], "aws:sqs");
        assert_eq!(r["eventSourceARN"], "arn:aws:sqs:us-east-1:123456789012:q");
        assert!(r["attributes"].is_object() && r["messageAttributes"].is_object());
    }
}
