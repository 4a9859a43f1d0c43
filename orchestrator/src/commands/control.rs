//! `control restart|stop|start|shutdown [SERVICE]`: calls the dashboard's control API.

use std::path::Path;
use std::process::ExitCode;

use crate::cli::ControlArgs;
use crate::stack_client;

pub async fn run(root: Option<&Path>, args: ControlArgs) -> anyhow::Result<ExitCode> {
    let l = stack_client::locate(root, args.offset.port_offset);
    let answer = l
        .dashboard()
        .control(&args.action, args.service.as_deref())
        .await;
    let res = match answer {
        Ok(r) => r,
        Err(_) => {
            eprintln!("{}", l.not_running());
            return Ok(ExitCode::FAILURE);
        }
    };
    let ok = res.status().is_success();
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    if ok {
        println!(
            "{} {}: ok",
            args.action,
            args.service.as_deref().unwrap_or("stack")
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "{} failed: {}",
            args.action,
            body["error"].as_str().unwrap_or("unknown error")
        );
        Ok(ExitCode::FAILURE)
    }
}
