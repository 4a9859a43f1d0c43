//! `wait [--timeout S]`: exit 0 once the running stack is ready (every blocking service running
//! and the seed done), 1 with the reason otherwise — like `docker compose up --wait`.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::cli::WaitArgs;

pub async fn run(root: Option<&Path>, args: WaitArgs) -> anyhow::Result<ExitCode> {
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    let mut last = None;
    loop {
        // `wait` often starts before `up` has written run.json: look again every time.
        let l = super::stack::locate(root, &args.find);
        if let Ok(v) = super::stack::get_json(&format!("{}/api/stack", l.dashboard_url)).await {
            if v["ready"].as_bool() == Some(true) {
                println!("ready");
                return Ok(ExitCode::SUCCESS);
            }
            if v["seed"]["state"] == "failed" {
                eprintln!(
                    "not ready: the seed failed: {}",
                    v["seed"]["detail"].as_str().unwrap_or("?")
                );
                return Ok(ExitCode::FAILURE);
            }
            let hopeless: Vec<String> = v["not_ready"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|s| {
                    v["started"] == true
                        && (s["status"] == "failed" || s["status"] == "crash-looping")
                })
                .map(|s| {
                    format!(
                        "{} is {}: {}",
                        s["service"].as_str().unwrap_or("?"),
                        s["status"].as_str().unwrap_or("?"),
                        s["reason"].as_str().unwrap_or("")
                    )
                })
                .collect();
            if !hopeless.is_empty() {
                eprintln!("not ready: {}", hopeless.join("; "));
                return Ok(ExitCode::FAILURE);
            }
            last = Some(v);
        }
        if Instant::now() > deadline {
            let why = match &last {
                Some(v) => format!("still waiting for {} (seed {})", v["not_ready"], v["seed"]),
                None => super::stack::not_running(&l),
            };
            eprintln!("not ready after {} s: {why}", args.timeout);
            return Ok(ExitCode::FAILURE);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
