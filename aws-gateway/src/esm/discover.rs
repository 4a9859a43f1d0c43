//! Which mappings to poll: `--sqs-mapping` flags plus moto's SQS mappings, read with the
//! official Lambda API (ListEventSourceMappings). A mapping moto holds as enabled (created
//! straight on moto, not through the gateway) is switched off on moto here, so moto's own
//! dispatch never touches the queue, and polled by the gateway instead.

use lambda_invoke::FunctionRef;

use super::Mapping;
use crate::AppState;
use aws_local::sdk_error_text;

/// Every mapping with its state word (`polling`, `disabled`, `function_not_declared`).
pub async fn wanted(state: &AppState) -> Result<Vec<(Mapping, &'static str)>, String> {
    let mut out: Vec<(Mapping, &'static str)> = state
        .config()
        .sqs_mappings
        .iter()
        .map(|s| {
            let m = Mapping {
                key: format!("config:{}:{}", s.function, s.queue_arn),
                function: s.function.clone(),
                queue_arn: s.queue_arn.clone(),
                batch_size: s.batch_size,
                report_batch_item_failures: s.report_batch_item_failures,
            };
            let word = declared(state, &m.function);
            (m, word)
        })
        .collect();
    for m in crate::moto::sqs_mappings(&state.moto().lambda).await? {
        let (Some(uuid), Some(arn)) = (m.uuid(), m.event_source_arn()) else {
            continue;
        };
        if m.state() == Some("Enabled") {
            let desired = state.esm().desired(uuid).unwrap_or(true);
            state.esm().set_desired(uuid, desired);
            disable_on_moto(state, uuid).await;
        } else if state.esm().desired(uuid).is_none() {
            // Disabled on moto and never seen: the gateway restarted, or it was made
            // disabled on purpose; a mapping is meant to run, so assume enabled.
            state.esm().set_desired(uuid, true);
        }
        let function = m
            .function_arn()
            .and_then(|a| FunctionRef::parse(a).ok())
            .map(|f| f.name)
            .unwrap_or_default();
        let mapping = Mapping {
            key: uuid.to_owned(),
            function,
            queue_arn: arn.to_owned(),
            batch_size: m.batch_size().unwrap_or(10),
            report_batch_item_failures: m
                .function_response_types()
                .iter()
                .any(|t| t.as_str() == "ReportBatchItemFailures"),
        };
        let word = if state.esm().desired(uuid) == Some(false) {
            "disabled"
        } else {
            declared(state, &mapping.function)
        };
        out.push((mapping, word));
    }
    Ok(out)
}

fn declared(state: &AppState, function: &str) -> &'static str {
    if state.table().get(function).is_some() {
        "polling"
    } else {
        "function_not_declared"
    }
}

/// Keep moto's copy of an SQS mapping disabled (see the module docs of [`super`]).
pub async fn disable_on_moto(state: &AppState, uuid: &str) {
    if let Err(e) = state
        .moto()
        .lambda
        .update_event_source_mapping()
        .uuid(uuid)
        .enabled(false)
        .send()
        .await
    {
        tracing::warn!(mapping = %uuid, error = %sdk_error_text(&e), "could not switch off moto's own SQS dispatch");
    }
}
