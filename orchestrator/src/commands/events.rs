//! `events validate`: checks that the EventBridge buses, rules, connections/API destinations and
//! pipes behind the exporters exist, printing `[OK]`, `[MISSING]` or `[WARN]` per item. Against
//! real AWS by default (the usual credential chain), or against moto with `--endpoint-url`.

use std::process::ExitCode;

use crate::cli::EventsCommand;

pub async fn run(cmd: EventsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EventsCommand::Validate {
            table_prefix,
            endpoint_url,
            region,
        } => {
            let sdk = sdk_config(endpoint_url.as_deref(), &region).await;
            let checks = webhook_router::aws_mode::validate(&sdk, &table_prefix).await;
            let mut missing = 0;
            for c in &checks {
                println!("{c}");
                if matches!(c.status, webhook_router::aws_mode::CheckStatus::Missing) {
                    missing += 1;
                }
            }
            Ok(if missing == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// moto (dummy credentials) when an endpoint is given, the default AWS chain otherwise.
pub async fn sdk_config(endpoint_url: Option<&str>, region: &str) -> aws_config::SdkConfig {
    match endpoint_url {
        Some(url) => webhook_router::aws_mode::moto_sdk_config(url, region).await,
        None => {
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new(region.to_owned()))
                .load()
                .await
        }
    }
}
