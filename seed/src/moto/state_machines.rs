//! Step Functions state machines; returns each machine's ARN.

use aws_sdk_sfn::Client;
use aws_sdk_sfn::error::ProvideErrorMetadata;

use super::describe;
use crate::{SeedError, Tally, bounded};

const GROUP: &str = "moto-state-machines";

/// A machine to ensure: name, role ARN, definition (JSON text).
pub struct Wanted {
    pub name: String,
    pub role_arn: String,
    pub definition: String,
}

/// Turn on moto's States Language interpreter (off by default), so executions run their states.
/// This is moto's own configuration API, not an AWS call, hence plain HTTP.
pub async fn enable_execution(moto_url: &str) -> Result<(), SeedError> {
    let fail = |msg: String| SeedError::new(GROUP, "POST /moto-api/config", msg);
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .no_proxy()
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let res = http
        .post(format!(
            "{}/moto-api/config",
            moto_url.trim_end_matches('/')
        ))
        .json(&serde_json::json!({"stepfunctions": {"execute_state_machine": true}}))
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !res.status().is_success() {
        return Err(fail(format!("moto answered {}", res.status())));
    }
    Ok(())
}

async fn list(client: &Client) -> Result<Vec<(String, String)>, SeedError> {
    Ok(client
        .list_state_machines()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| SeedError::new(GROUP, "ListStateMachines", describe(&e)))?
        .into_iter()
        .map(|m| (m.name, m.state_machine_arn))
        .collect())
}

pub async fn ensure(
    client: &Client,
    machines: &[Wanted],
) -> Result<(Tally, Vec<String>), SeedError> {
    let existing = list(client).await?;
    let results: Vec<(bool, String)> = bounded(
        machines
            .iter()
            .map(|m| {
                let found = existing
                    .iter()
                    .find(|(n, _)| *n == m.name)
                    .map(|(_, a)| a.clone());
                async move {
                    if let Some(arn) = found {
                        return Ok((false, arn));
                    }
                    let err = |e: String| SeedError::new(GROUP, &m.name, e);
                    match client
                        .create_state_machine()
                        .name(&m.name)
                        .role_arn(&m.role_arn)
                        .definition(&m.definition)
                        .send()
                        .await
                    {
                        Ok(r) => Ok((true, r.state_machine_arn)),
                        Err(e) if e.code() == Some("StateMachineAlreadyExists") => {
                            let arn = list(client)
                                .await?
                                .into_iter()
                                .find(|(n, _)| *n == m.name)
                                .map(|(_, a)| a)
                                .ok_or_else(|| err("reported as existing but not listed".into()))?;
                            Ok((false, arn))
                        }
                        Err(e) => Err(err(describe(&e))),
                    }
                }
            })
            .collect(),
        8,
    )
    .await?;
    Ok(Tally::split(results))
}
