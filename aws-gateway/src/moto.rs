//! The official SDK clients the gateway itself uses against moto (straight to moto, never
//! through the gateway): Lambda for function configs and event source mappings, SQS and SNS for
//! polling queues and delivering failure records, configured by [`aws_local::sdk_config`]
//! (dummy credentials unless the environment provides real ones; short timeouts, so a dead moto
//! never stalls a poller for long).

use std::time::Duration;

use aws_local::sdk_error_text;

#[derive(Clone)]
pub struct MotoClients {
    pub lambda: aws_sdk_lambda::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
}

impl MotoClients {
    /// `long_poll` is the longest SQS wait the pollers use; calls may take that much longer.
    pub async fn new(moto_url: &str, region: &str, long_poll: Duration) -> MotoClients {
        let sdk =
            aws_local::sdk_config(moto_url, region, Duration::from_secs(10) + long_poll).await;
        MotoClients {
            lambda: aws_sdk_lambda::Client::new(&sdk),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            sns: aws_sdk_sns::Client::new(&sdk),
        }
    }
}

/// `arn:aws:sqs:REGION:ACCOUNT:NAME` → (account, name).
pub fn split_queue_arn(arn: &str) -> Option<(&str, &str)> {
    let mut it = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("sqs"), Some(_), Some(account), Some(name)) = (
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
    ) else {
        return None;
    };
    Some((account, name))
}

/// The queue URL for a queue ARN (moto's GetQueueUrl, so any moto host name works).
pub async fn queue_url(sqs: &aws_sdk_sqs::Client, queue_arn: &str) -> Result<String, String> {
    let (account, name) =
        split_queue_arn(queue_arn).ok_or_else(|| format!("not an SQS queue ARN: {queue_arn}"))?;
    let out = sqs
        .get_queue_url()
        .queue_name(name)
        .queue_owner_aws_account_id(account)
        .send()
        .await
        .map_err(|e| format!("GetQueueUrl {name}: {}", sdk_error_text(&e)))?;
    out.queue_url()
        .map(str::to_owned)
        .ok_or_else(|| format!("GetQueueUrl {name}: no URL in the answer"))
}

/// The SQS event source mappings moto holds, every page of ListEventSourceMappings (the
/// gateway's discovery and the orchestrator's snapshot restore both read them).
pub async fn sqs_mappings(
    lambda: &aws_sdk_lambda::Client,
) -> Result<Vec<aws_sdk_lambda::types::EventSourceMappingConfiguration>, String> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = lambda
            .list_event_source_mappings()
            .set_marker(marker.take())
            .max_items(100)
            .send()
            .await
            .map_err(|e| format!("ListEventSourceMappings: {}", sdk_error_text(&e)))?;
        let next = page
            .next_marker()
            .filter(|m| !m.is_empty())
            .map(str::to_owned);
        out.extend(
            page.event_source_mappings
                .unwrap_or_default()
                .into_iter()
                .filter(|m| m.event_source_arn().is_some_and(|a| a.contains(":sqs:"))),
        );
        match next {
            Some(n) => marker = Some(n),
            None => return Ok(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_arns() {
        assert_eq!(
            split_queue_arn("arn:aws:sqs:us-east-1:123456789012:q.fifo"),
            Some(("123456789012", "q.fifo"))
        );
        assert_eq!(split_queue_arn("arn:aws:sns:us-east-1:1:t"), None);
        assert_eq!(split_queue_arn("q"), None);
    }
}
