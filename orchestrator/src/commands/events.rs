//! `events validate`: checks that the EventBridge buses, rules, connections/API destinations and
//! pipes behind the exporters exist, printing `[OK]`, `[MISSING]` or `[WARN]` per item. Against
//! real AWS by default (the usual credential chain), or against moto with `--endpoint-url`.

use std::process::ExitCode;

use crate::cli::EventsCommand;
use crate::events;

pub async fn run(cmd: EventsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EventsCommand::Validate {
            table_prefix,
            endpoint_url,
            region,
        } => {
            let sdk = events::sdk_config(endpoint_url.as_deref(), &region).await;
            let checks = events::validate(&sdk, &table_prefix).await;
            let mut missing = 0;
            for c in &checks {
                println!("{c}");
                if matches!(c.status, events::CheckStatus::Missing) {
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
