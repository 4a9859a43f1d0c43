//! S3 buckets (path-style addressing, as moto needs).

use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};

use super::describe;
use crate::{SeedError, Tally, bounded};

const GROUP: &str = "moto-buckets";

pub async fn ensure(client: &Client, names: &[String], region: &str) -> Result<Tally, SeedError> {
    let existing: Vec<String> = client
        .list_buckets()
        .send()
        .await
        .map_err(|e| SeedError::new(GROUP, "ListBuckets", describe(&e)))?
        .buckets
        .unwrap_or_default()
        .into_iter()
        .filter_map(|b| b.name)
        .collect();
    let created: Vec<bool> = bounded(
        names
            .iter()
            .map(|name| {
                let exists = existing.contains(name);
                async move {
                    if exists {
                        return Ok(false);
                    }
                    let mut req = client.create_bucket().bucket(name);
                    if region != "us-east-1" {
                        req = req.create_bucket_configuration(
                            CreateBucketConfiguration::builder()
                                .location_constraint(BucketLocationConstraint::from(region))
                                .build(),
                        );
                    }
                    match req.send().await {
                        Ok(_) => Ok(true),
                        Err(e)
                            if matches!(
                                e.code(),
                                Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")
                            ) =>
                        {
                            Ok(false)
                        }
                        Err(e) => Err(SeedError::new(GROUP, name, describe(&e))),
                    }
                }
            })
            .collect(),
        8,
    )
    .await?;
    Ok(Tally::from_flags(&created))
}
