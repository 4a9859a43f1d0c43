//! SQS queues; returns each queue's URL as moto reports it.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::ProvideErrorMetadata;
use aws_sdk_sqs::types::QueueAttributeName;

use super::describe;
use crate::fixtures::QueueDef;
use crate::{SeedError, Tally, bounded};

const GROUP: &str = "moto-queues";

pub async fn ensure(
    client: &Client,
    queues: &[QueueDef],
) -> Result<(Tally, Vec<String>), SeedError> {
    let results: Vec<(bool, String)> = bounded(
        queues
            .iter()
            .map(|q| async move {
                let err = |m: String| SeedError::new(GROUP, &q.name, m);
                match client.get_queue_url().queue_name(&q.name).send().await {
                    Ok(r) => return Ok((false, r.queue_url.unwrap_or_default())),
                    Err(e)
                        if matches!(
                            e.code(),
                            Some("AWS.SimpleQueueService.NonExistentQueue" | "QueueDoesNotExist")
                        ) => {}
                    Err(e) => return Err(err(describe(&e))),
                }
                let mut req = client.create_queue().queue_name(&q.name);
                for (k, v) in &q.attributes {
                    req = req.attributes(QueueAttributeName::from(k.as_str()), v);
                }
                let resp = req.send().await.map_err(|e| err(describe(&e)))?;
                Ok((true, resp.queue_url.unwrap_or_default()))
            })
            .collect(),
        8,
    )
    .await?;
    Ok(Tally::split(results))
}
