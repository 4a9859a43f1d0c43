//! `wait [--timeout S]`: exit 0 once the running stack is ready (every blocking service running
//! and the seed done), 1 with the reason otherwise — like `docker compose up --wait`.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::cli::WaitArgs;
use crate::dashboard::{SeedStatus, StackView};
use crate::stack_client;
use crate::supervisor::Status;

pub async fn run(root: Option<&Path>, args: WaitArgs) -> anyhow::Result<ExitCode> {
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    let mut last = None;
    loop {
        // `wait` often starts before `up` has written run.json: look again every time.
        let l = stack_client::locate(root, args.offset.port_offset);
        if let Ok(v) = l.dashboard().stack().await {
            if v.ready {
                println!("ready");
                return Ok(ExitCode::SUCCESS);
            }
            if let SeedStatus::Failed(detail) = &v.seed {
                eprintln!("not ready: the seed failed: {detail}");
                return Ok(ExitCode::FAILURE);
            }
            let hopeless = hopeless(&v);
            if !hopeless.is_empty() {
                eprintln!("not ready: {}", hopeless.join("; "));
                return Ok(ExitCode::FAILURE);
            }
            last = Some(v);
        }
        if Instant::now() > deadline {
            let why = match &last {
                Some(v) => format!(
                    "still waiting for {} (seed {})",
                    serde_json::to_string(&v.not_ready)?,
                    serde_json::to_string(&v.seed)?
                ),
                None => l.not_running(),
            };
            eprintln!("not ready after {} s: {why}", args.timeout);
            return Ok(ExitCode::FAILURE);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Once every layer has started, blocking services that will not get well by waiting.
fn hopeless(v: &StackView) -> Vec<String> {
    if !v.started {
        return Vec::new();
    }
    v.not_ready
        .iter()
        .filter(|s| matches!(s.status, Status::Failed | Status::CrashLooping))
        .map(|s| {
            format!(
                "{} is {}: {}",
                s.service,
                s.status.as_str(),
                s.reason.as_deref().unwrap_or("")
            )
        })
        .collect()
}
