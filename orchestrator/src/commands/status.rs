//! `status [--json]`: reads `/api/status` from the running stack's dashboard; never starts anything.

use std::path::Path;
use std::process::ExitCode;

use crate::cli::StatusArgs;

pub async fn run(root: Option<&Path>, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let l = super::stack::locate(root, &args.find);
    let v = match super::stack::get_json(&format!("{}/api/status", l.dashboard_url)).await {
        Ok(v) => v,
        Err(_) => {
            eprintln!("{}", super::stack::not_running(&l));
            return Ok(ExitCode::FAILURE);
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    let Some(map) = v.as_object() else {
        anyhow::bail!("unexpected /api/status answer: {v}")
    };
    let mut rows: Vec<_> = map.iter().collect();
    rows.sort_by_key(|(name, s)| (s["layer"].as_u64().unwrap_or(9), (*name).clone()));
    println!(
        "{:<24} {:<14} {:>6} {:>8} {:>5} {:>8} {:>8}  REASON",
        "SERVICE", "STATUS", "PORT", "PID", "LAYER", "RESTARTS", "UPTIME"
    );
    let show = |x: &serde_json::Value| {
        if x.is_null() {
            "-".to_owned()
        } else {
            x.to_string().trim_matches('"').to_owned()
        }
    };
    for (name, s) in rows {
        println!(
            "{:<24} {:<14} {:>6} {:>8} {:>5} {:>8} {:>8}  {}",
            name,
            show(&s["status"]),
            show(&s["port"]),
            show(&s["pid"]),
            show(&s["layer"]),
            show(&s["restarts"]),
            s["uptime_s"]
                .as_u64()
                .map(|u| format!("{u}s"))
                .unwrap_or_else(|| "-".into()),
            s["reason"].as_str().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}
