//! Step Functions state machines (the seed's fixtures, then the team's `[[state_machines]]`);
//! returns each machine's ARN.

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

/// A `[[state_machines]]` entry: the definition is read (and its placeholders filled) by the seed.
#[derive(Debug, Clone)]
pub struct FromFile {
    pub name: String,
    pub definition: std::path::PathBuf,
    pub role_arn: Option<String>,
}

impl FromFile {
    /// The machine to ensure, or the file's problem.
    pub fn load(&self, ctx: &super::asl::Context<'_>) -> Result<Wanted, SeedError> {
        let definition = super::asl::load(&self.definition, ctx)
            .map_err(|e| SeedError::new(GROUP, &self.name, e))?;
        Ok(Wanted {
            name: self.name.clone(),
            role_arn: self.role_arn.clone().unwrap_or_else(|| {
                format!(
                    "arn:aws:iam::{}:role/hippodrome-states",
                    super::asl::ACCOUNT
                )
            }),
            definition,
        })
    }
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

/// An edited definition file takes effect on the next seed: moto's copy is replaced when it
/// differs (compared as JSON, so formatting alone changes nothing).
async fn update_if_changed(client: &Client, arn: &str, m: &Wanted) -> Result<(), String> {
    let current = client
        .describe_state_machine()
        .state_machine_arn(arn)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).ok();
    if parse(&current.definition).is_some() && parse(&current.definition) == parse(&m.definition) {
        return Ok(());
    }
    client
        .update_state_machine()
        .state_machine_arn(arn)
        .definition(&m.definition)
        .role_arn(&m.role_arn)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    Ok(())
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
                    let err = |e: String| SeedError::new(GROUP, &m.name, e);
                    if let Some(arn) = found {
                        update_if_changed(client, &arn, m).await.map_err(err)?;
                        return Ok((false, arn));
                    }
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
