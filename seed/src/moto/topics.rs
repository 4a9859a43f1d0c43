//! SNS topics; returns each topic's ARN.

use aws_sdk_sns::Client;

use super::describe;
use crate::{SeedError, Tally, bounded};

const GROUP: &str = "moto-topics";

pub async fn ensure(client: &Client, names: &[String]) -> Result<(Tally, Vec<String>), SeedError> {
    let existing: Vec<String> = client
        .list_topics()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| SeedError::new(GROUP, "ListTopics", describe(&e)))?
        .into_iter()
        .filter_map(|t| t.topic_arn)
        .collect();
    let results: Vec<(bool, String)> = bounded(
        names
            .iter()
            .map(|name| {
                let found = existing
                    .iter()
                    .find(|arn| arn.rsplit(':').next() == Some(name.as_str()))
                    .cloned();
                async move {
                    if let Some(arn) = found {
                        return Ok((false, arn));
                    }
                    // CreateTopic is idempotent for an identical request.
                    let resp = client
                        .create_topic()
                        .name(name)
                        .send()
                        .await
                        .map_err(|e| SeedError::new(GROUP, name, describe(&e)))?;
                    Ok((true, resp.topic_arn.unwrap_or_default()))
                }
            })
            .collect(),
        8,
    )
    .await?;
    Ok(Tally::split(results))
}
