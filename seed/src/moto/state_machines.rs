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
