//! `control restart|stop|start|shutdown [SERVICE]`: calls the dashboard's control API.

use std::path::Path;
use std::process::ExitCode;

use crate::cli::ControlArgs;

pub async fn run(root: Option<&Path>, args: ControlArgs) -> anyhow::Result<ExitCode> {
    let l = super::stack::locate(root, &args.find);
    let mut url = format!("{}/api/control/{}", l.dashboard_url, args.action);
    if let Some(s) = &args.service {
        url.push_str(&format!("?service={s}"));
    }
    let res = match super::stack::client().post(&url).send().await {
        Ok(r) => r,
        Err(_) => {
            eprintln!("{}", super::stack::not_running(&l));
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
