//! The EventBridge resources of AWS mode, created and removed with the official SDK: a connection
//! (API-key auth), an API destination posting to the tunnel, a rule matching the detail-type
//! prefixes on the bus, and the rule's target.

use std::fmt;

use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_eventbridge::types::{
    ApiDestinationHttpMethod, ConnectionAuthorizationType,
    CreateConnectionApiKeyAuthRequestParameters, CreateConnectionAuthRequestParameters, RuleState,
    Target,
};
use webhook_router::pipe::discover::sdk_error_text;

use super::{AwsModeConfig, AwsModeError};

/// The names of what [`create_all`] makes, derived from the config so a later run (or
/// [`remove_all`] after a crash) finds them again.
#[derive(Debug, Clone)]
pub struct Names {
    pub connection: String,
    pub api_destination: String,
    pub rule: String,
    pub target_id: String,
    pub bus: String,
}

impl Names {
    pub fn new(cfg: &AwsModeConfig) -> Self {
        Names {
            connection: format!("{}-connection", cfg.name_prefix),
            api_destination: format!("{}-api-destination", cfg.name_prefix),
            rule: format!("{}-rule", cfg.name_prefix),
            target_id: "hippodrome-webhook-router".to_owned(),
            bus: cfg.event_bus.clone(),
        }
    }
}

/// The ARNs [`create_all`] got back.
#[derive(Debug, Clone)]
pub struct Created {
    pub connection_arn: String,
    pub api_destination_arn: String,
    pub rule_arn: String,
}

/// EventBridge names allow `[.\-_A-Za-z0-9]`, at most 64 characters.
pub fn resource_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    out.truncate(40);
    out
}

/// The rule's event pattern: any of the detail-type prefixes.
pub fn event_pattern(prefixes: &[String]) -> String {
    let alts: Vec<_> = prefixes
        .iter()
        .map(|p| serde_json::json!({ "prefix": p }))
        .collect();
    serde_json::json!({ "detail-type": alts }).to_string()
}

fn aws_err<E, R>(step: &'static str, e: &SdkError<E, R>) -> AwsModeError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: fmt::Debug,
{
    AwsModeError::Aws {
        step,
        message: sdk_error_text(e),
    }
}

fn build_err(step: &'static str, e: impl fmt::Display) -> AwsModeError {
    AwsModeError::Aws {
        step,
        message: e.to_string(),
    }
}

/// Connection, API destination posting to `endpoint`, rule and target, in that order (each needs
/// the ARN of the one before). The caller removes what exists when this fails half-way.
pub async fn create_all(
    c: &Client,
    n: &Names,
    endpoint: &str,
    cfg: &AwsModeConfig,
) -> Result<Created, AwsModeError> {
    let connection_arn = create_connection(c, n).await?;
    let api_destination_arn = create_api_destination(c, n, &connection_arn, endpoint).await?;
    let rule_arn = put_rule(c, n, &cfg.detail_type_prefixes).await?;
    put_target(c, n, &api_destination_arn, cfg.role_arn.clone()).await?;
    Ok(Created {
        connection_arn,
        api_destination_arn,
        rule_arn,
    })
}

async fn create_connection(c: &Client, n: &Names) -> Result<String, AwsModeError> {
    let auth = CreateConnectionAuthRequestParameters::builder()
        .api_key_auth_parameters(
            CreateConnectionApiKeyAuthRequestParameters::builder()
                .api_key_name("x-hippodrome-router")
                .api_key_value(uuid::Uuid::new_v4().to_string())
                .build()
                .map_err(|e| build_err("CreateConnection", e))?,
        )
        .build();
    let conn = c
        .create_connection()
        .name(&n.connection)
        .description("Hippodrome: local webhook router")
        .authorization_type(ConnectionAuthorizationType::ApiKey)
        .auth_parameters(auth)
        .send()
        .await
        .map_err(|e| aws_err("CreateConnection", &e))?;
    Ok(conn.connection_arn().unwrap_or_default().to_owned())
}

async fn create_api_destination(
    c: &Client,
    n: &Names,
    connection_arn: &str,
    endpoint: &str,
) -> Result<String, AwsModeError> {
    let dest = c
        .create_api_destination()
        .name(&n.api_destination)
        .description("Hippodrome: local webhook router through a tunnel")
        .connection_arn(connection_arn)
        .invocation_endpoint(endpoint)
        .http_method(ApiDestinationHttpMethod::Post)
        .invocation_rate_limit_per_second(50)
        .send()
        .await
        .map_err(|e| aws_err("CreateApiDestination", &e))?;
    Ok(dest.api_destination_arn().unwrap_or_default().to_owned())
}

async fn put_rule(c: &Client, n: &Names, prefixes: &[String]) -> Result<String, AwsModeError> {
    let rule = c
        .put_rule()
        .name(&n.rule)
        .event_bus_name(&n.bus)
        .description("Hippodrome: exporter events to the local webhook router")
        .event_pattern(event_pattern(prefixes))
        .state(RuleState::Enabled)
        .send()
        .await
        .map_err(|e| aws_err("PutRule", &e))?;
    Ok(rule.rule_arn().unwrap_or_default().to_owned())
}

async fn put_target(
    c: &Client,
    n: &Names,
    api_destination_arn: &str,
    role_arn: Option<String>,
) -> Result<(), AwsModeError> {
    let target = Target::builder()
        .id(&n.target_id)
        .arn(api_destination_arn)
        .set_role_arn(role_arn)
        .build()
        .map_err(|e| build_err("PutTargets", e))?;
    let out = c
        .put_targets()
        .rule(&n.rule)
        .event_bus_name(&n.bus)
        .targets(target)
        .send()
        .await
        .map_err(|e| aws_err("PutTargets", &e))?;
    if out.failed_entry_count() == 0 {
        return Ok(());
    }
    let why: Vec<String> = out
        .failed_entries()
        .iter()
        .map(|f| {
            format!(
                "{}: {}",
                f.error_code().unwrap_or("?"),
                f.error_message().unwrap_or("?")
            )
        })
        .collect();
    Err(build_err("PutTargets", why.join("; ")))
}

/// Best-effort removal of everything named, target first (each step may find nothing to
/// remove). Returns what failed for another reason than "not found".
pub async fn remove_all(c: &Client, n: &Names) -> Vec<String> {
    let mut errors = Vec::new();
    let mut note = |step: &str, r: Result<(), String>| {
        if let Err(e) = r
            && !e.contains("ResourceNotFound")
        {
            errors.push(format!("{step}: {e}"));
        }
    };
    let r = c
        .remove_targets()
        .rule(&n.rule)
        .event_bus_name(&n.bus)
        .ids(&n.target_id)
        .send()
        .await;
    note("RemoveTargets", r.map(drop).map_err(|e| sdk_error_text(&e)));
    let r = c
        .delete_rule()
        .name(&n.rule)
        .event_bus_name(&n.bus)
        .send()
        .await;
    note("DeleteRule", r.map(drop).map_err(|e| sdk_error_text(&e)));
    let r = c
        .delete_api_destination()
        .name(&n.api_destination)
        .send()
        .await;
    note(
        "DeleteApiDestination",
        r.map(drop).map_err(|e| sdk_error_text(&e)),
    );
    let r = c.delete_connection().name(&n.connection).send().await;
    note(
        "DeleteConnection",
        r.map(drop).map_err(|e| sdk_error_text(&e)),
    );
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_and_names() {
        let p = event_pattern(&["EcomIndexSettings.".into(), "Merchandising.".into()]);
        assert_eq!(
            p,
            r#"{"detail-type":[{"prefix":"EcomIndexSettings."},{"prefix":"Merchandising."}]}"#
        );
        assert_eq!(resource_name("hippodrome-dev/x y"), "hippodrome-dev-x-y");
    }
}
